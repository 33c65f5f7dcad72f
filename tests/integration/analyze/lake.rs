//! `export --lake DIR`: snapshots of two tenants, with known changes between them, appended to one lake; the
//! layout is Hive-partitioned, appending is idempotent per fingerprint, and the DuckDB queries shipped under
//! `queries/lake/` give the answers `azsnap history` gives for each tenant.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use azsnap::exit_code;
use azsnap::model::GrantState;
use serde_json::Value;

use super::history::{is_alice_admin, is_alice_member, is_identity_owner, write_at};
use crate::common::{TestEnv, sample};

const OTHER_TENANT: &str = "99999999-9999-4999-8999-999999999999";

/// Tenant A (`a/`): four daily snapshots — the sample; Alice's eligible Global Administrator activated; the
/// managed identity's Owner gone; it back. Tenant B (`b/`): three — the sample; two on one day, Alice's group
/// membership gone in the first and back in the second.
fn series(env: &TestEnv) -> Vec<PathBuf> {
    std::fs::create_dir_all(env.path("a")).unwrap();
    std::fs::create_dir_all(env.path("b")).unwrap();
    let a = sample::new_snapshot();
    let base = sample::batch();
    let mut activated = base.clone();
    for g in activated.grants.iter_mut().filter(|g| is_alice_admin(g)) {
        g.state = GrantState::Active;
        g.end_at = None;
    }
    let mut owner_gone = activated.clone();
    owner_gone.grants.retain(|g| !is_identity_owner(g));
    let mut b = sample::new_snapshot();
    b.tenant_id = OTHER_TENANT.parse().unwrap();
    b.tenant_name = Some("Fabrikam".to_owned());
    let mut member_gone = base.clone();
    member_gone.grants.retain(|g| !is_alice_member(g));
    let files = [
        ("a/1.db", &a, "2026-11-01T07:00", &base),
        ("a/2.db", &a, "2026-11-02T07:00", &activated),
        ("a/3.db", &a, "2026-11-03T07:00", &owner_gone),
        ("a/4.db", &a, "2026-11-04T07:00", &activated),
        ("b/1.db", &b, "2026-11-01T09:00", &base),
        ("b/2.db", &b, "2026-11-02T09:00", &member_gone),
        ("b/3.db", &b, "2026-11-02T21:00", &base),
    ];
    files
        .iter()
        .map(|(name, new, started, batch)| {
            write_at(&env.path(name), new, started, batch, &[]);
            env.path(name)
        })
        .collect()
}

/// Every file under `dir`, relative to it.
fn files(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out
}

fn append(env: &TestEnv, snap: &Path) -> String {
    let run = env.run(&["export", snap.to_str().unwrap(), "--lake", "lake"]);
    run.expect_code(exit_code::SUCCESS);
    run.stderr.clone()
}

#[test]
fn snapshots_land_in_their_partitions_once() {
    let env = TestEnv::new();
    let snaps = series(&env);
    for s in &snaps {
        let said = append(&env, s);
        assert!(said.starts_with("appended snapshot "), "{said}");
    }
    let lake = files(&env.path("lake"));
    // 7 snapshots × (7 tables + snapshots); B's two snapshots of 2 November share one partition.
    assert_eq!(lake.len(), 7 * 8, "{lake:#?}");
    let tenant = sample::new_snapshot().tenant_id.to_string();
    let partitions: BTreeSet<String> =
        lake.iter().filter(|f| f.starts_with("grants/")).map(|f| f.rsplit_once('/').unwrap().0.to_owned()).collect();
    let want: BTreeSet<String> = [
        format!("grants/tenant_id={tenant}/collected_date=2026-11-01"),
        format!("grants/tenant_id={tenant}/collected_date=2026-11-02"),
        format!("grants/tenant_id={tenant}/collected_date=2026-11-03"),
        format!("grants/tenant_id={tenant}/collected_date=2026-11-04"),
        format!("grants/tenant_id={OTHER_TENANT}/collected_date=2026-11-01"),
        format!("grants/tenant_id={OTHER_TENANT}/collected_date=2026-11-02"),
    ]
    .into();
    assert_eq!(partitions, want);
    assert!(lake.iter().all(|f| f.rsplit('/').next().unwrap().starts_with("part-")), "{lake:#?}");
    // Appending a snapshot again writes nothing, whatever the file is called now.
    std::fs::copy(&snaps[1], env.path("renamed.db")).unwrap();
    let said = append(&env, &env.path("renamed.db"));
    assert!(said.contains("is in the lake lake already; nothing written"), "{said}");
    assert_eq!(files(&env.path("lake")), lake);
}

#[test]
fn an_unverified_snapshot_or_a_bundle_option_is_refused_and_nothing_is_written() {
    let env = TestEnv::new();
    let snaps = series(&env);
    crate::bad_input::sql(&snaps[0], "DELETE FROM grants WHERE relation = 'delegated'");
    let run = env.run(&["export", snaps[0].to_str().unwrap(), "--lake", "lake"]);
    run.expect_code(exit_code::BAD_INPUT);
    assert!(run.stderr.starts_with("error: ") && run.stderr.contains("not exported"), "{}", run.stderr);
    assert!(!env.path("lake").exists() || files(&env.path("lake")).is_empty());
    for extra in [&["--format", "parquet"][..], &["-o", "out"], &["--force"]] {
        let run = env.run(&[&["export", snaps[1].to_str().unwrap(), "--lake", "lake"], extra].concat());
        run.expect_code(exit_code::USAGE);
        assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    }
    assert!(!env.path("lake").exists() || files(&env.path("lake")).is_empty());
}

/// A grant's key as `history` and the lake queries have it.
type Key = (String, String, String, String, String);

fn key(g: &Value) -> Key {
    let s = |f: &str| g[f].as_str().unwrap_or_default().to_owned();
    (s("principal_id"), s("relation"), s("target_id"), s("role_id"), s("scope"))
}

fn history(env: &TestEnv, dir: &str, extra: &[&str]) -> Value {
    let run = env.run(&[&["history", dir, "--all", "--format", "json"], extra].concat());
    run.expect_code(exit_code::SUCCESS);
    run.json()
}

/// Checks the lake's rows of `tenant` against `history --all --format json` (`want`) grant by grant; the number of
/// grants that changed.
fn same_timelines(dir: &str, tenant: &str, want: &Value, got: &Value) -> usize {
    let total = want["snapshots"].as_array().unwrap().len();
    let lake: BTreeMap<Key, &Value> =
        got.as_array().unwrap().iter().filter(|g| g["tenant_id"] == tenant).map(|g| (key(g), g)).collect();
    let grants = want["grants"].as_array().unwrap();
    assert_eq!(lake.len(), grants.len(), "tenant {dir}: one row per grant");
    let mut changed = 0;
    for g in grants {
        let row = lake.get(&key(g)).unwrap_or_else(|| panic!("tenant {dir}: {:?} not in the lake's history", key(g)));
        let seen: u64 =
            g["seen_in"].as_array().unwrap().iter().map(|r| r[1].as_u64().unwrap() - r[0].as_u64().unwrap() + 1).sum();
        let changes = g["events"].as_array().unwrap().iter().filter(|e| e["snapshot"].as_u64() > Some(0)).count();
        changed += usize::from(changes > 0);
        assert_eq!(row["first_seen"], g["first_seen"], "{dir} {:?}", key(g));
        assert_eq!(row["last_seen"], g["last_seen"], "{dir} {:?}", key(g));
        assert_eq!(row["seen"].as_u64(), Some(seen), "{dir} {:?}", key(g));
        assert_eq!(row["snapshots"].as_u64(), Some(total as u64));
        assert_eq!(row["state"], g["state"], "{dir} {:?}", key(g));
        assert_eq!(row["changes"].as_u64(), Some(changes as u64), "{dir} {:?}", key(g));
        assert_eq!(row["principal"], g["principal"], "{dir} {:?}", key(g));
    }
    changed
}

#[test]
fn the_duckdb_lake_queries_answer_as_history_does() {
    let python = std::env::var("AZSNAP_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let have = std::process::Command::new(&python).args(["-c", "import duckdb"]).output();
    if !have.is_ok_and(|o| o.status.success()) {
        crate::common::notice(&format!("DuckDB lake check skipped: {python} lacks duckdb (.ci/run installs it)"));
        return;
    }
    let env = TestEnv::new();
    for s in series(&env) {
        append(&env, &s);
    }
    let queries = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/lake");
    let script = r#"
import json, sys, duckdb
lake, queries = sys.argv[1], sys.argv[2]
c = duckdb.connect()
c.execute("SET VARIABLE lake = ?", [lake])
c.execute(open(f"{queries}/views.sql").read())
def rows(name):
    return query(name, open(f"{queries}/{name}.sql").read())
def query(name, sql):
    r = c.sql(sql)
    return [dict(zip(r.columns, [v if isinstance(v, (int, bool, str, type(None))) else str(v) for v in row]))
            for row in r.fetchall()]
history = open(f"{queries}/history.sql").read()
# The edit history.sql documents for the timeline of `history --privileged`.
join = "AND s.snapshot_id = g.snapshot_id\n    GROUP BY"
assert join in history
print(json.dumps({"history": rows("history"), "over_time": rows("privileged_over_time"),
                  "privileged": query("privileged", history.replace(join, "AND s.snapshot_id = g.snapshot_id AND g.privileged\n    GROUP BY"))}))
"#;
    let out = std::process::Command::new(&python)
        .args(["-c", script, env.path("lake").to_str().unwrap(), queries.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();

    for (dir, tenant) in [("a", sample::new_snapshot().tenant_id.to_string()), ("b", OTHER_TENANT.to_owned())] {
        let want = history(&env, dir, &[]);
        let total = want["snapshots"].as_array().unwrap().len();
        let changed = same_timelines(dir, &tenant, &want, &got["history"]);
        // The series has the changes it was written with: A three (activated, gone, back), B one (gone and back).
        assert_eq!(changed, if dir == "a" { 2 } else { 1 }, "tenant {dir}");

        // Privileged grants: the same grants as `history --privileged`, and per snapshot the report's figures.
        let privileged = history(&env, dir, &["--privileged"]);
        let want_keys: BTreeSet<Key> = privileged["grants"].as_array().unwrap().iter().map(key).collect();
        let lake_keys: BTreeSet<Key> = got["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["tenant_id"] == tenant.as_str() && g["privileged"] == true)
            .map(key)
            .collect();
        assert_eq!(lake_keys, want_keys, "tenant {dir}");
        same_timelines(dir, &tenant, &privileged, &got["privileged"]);
        let over_time: Vec<&Value> =
            got["over_time"].as_array().unwrap().iter().filter(|r| r["tenant_id"] == tenant.as_str()).collect();
        assert_eq!(over_time.len(), total);
        for (i, row) in over_time.iter().enumerate() {
            let seen_at = |g: &&Value| {
                g["principal_kind"] != "group"
                    && g["seen_in"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|r| (r[0].as_u64().unwrap()..=r[1].as_u64().unwrap()).contains(&(i as u64)))
            };
            let held: Vec<&Value> = privileged["grants"].as_array().unwrap().iter().filter(seen_at).collect();
            let holders: BTreeSet<&str> = held.iter().map(|g| g["principal_id"].as_str().unwrap()).collect();
            assert_eq!(row["idx"].as_u64(), Some(i as u64));
            assert_eq!(row["privileged_grants"].as_u64(), Some(held.len() as u64), "{dir} snapshot {i}");
            assert_eq!(row["privileged_holders"].as_u64(), Some(holders.len() as u64), "{dir} snapshot {i}");
            let path = want["snapshots"][i]["path"].as_str().unwrap();
            let count = crate::collect::column(&env.path(path), "SELECT count(*) FROM grants");
            assert_eq!(row["grants"].to_string(), count[0], "{dir} snapshot {i}");
        }
    }
}
