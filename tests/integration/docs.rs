//! The reference docs match the code: every table, column, meta key and exit code is documented.

use crate::common::{TestEnv, sample};

fn doc(name: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join(name)).unwrap()
}

#[test]
fn snapshot_format_documents_every_table_column_and_meta_key() {
    let text = doc("snapshot-format.md");
    let env = TestEnv::new();
    sample::write_sample(&env.path("s.db"));
    let snap = azsnap::store::Snapshot::open(&env.path("s.db")).unwrap();
    let conn = snap.connection();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(tables.len() >= 7, "{tables:?}");
    let mut missing = Vec::new();
    for table in &tables {
        let Some(start) = text.find(&format!("### `{table}`")) else {
            missing.push(format!("table {table}"));
            continue;
        };
        let section = &text[start..];
        let section = &section[..section[4..].find("\n### ").map_or(section.len(), |i| i + 4)];
        if table == "meta" {
            let keys: Vec<String> = conn
                .prepare("SELECT key FROM meta")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            for key in keys {
                if !section.contains(&format!("`{key}`")) {
                    missing.push(format!("meta key {key}"));
                }
            }
            continue;
        }
        let columns: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for column in columns {
            if !section.contains(&format!("`{column}`")) {
                missing.push(format!("{table}.{column}"));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented in docs/snapshot-format.md: {missing:?}");
}

#[test]
fn exit_codes_page_lists_every_code() {
    let text = doc("exit-codes.md");
    for (name, code) in azsnap::exit_code::ALL {
        assert!(text.contains(&format!("| {code} | `{name}` |")), "exit code {code} {name} undocumented");
    }
}

#[test]
fn every_named_query_and_plan_operation_is_documented() {
    let analyses = doc("analyses.md");
    for q in azsnap::analyze::query::NAMED {
        assert!(analyses.contains(&format!("`{}`", q.name)), "query {} missing from docs/analyses.md", q.name);
    }
    let (format, permissions) = (doc("plan-format.md"), doc("permissions.md"));
    for op in azsnap::plan::Operation::ALL {
        assert!(format.contains(op.as_str()), "{op} missing from docs/plan-format.md");
        let family = op.as_str().rsplit_once('_').map_or(op.as_str(), |(f, _)| f);
        assert!(permissions.contains(family), "{family} missing from docs/permissions.md");
    }
}
