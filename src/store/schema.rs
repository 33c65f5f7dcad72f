//! The snapshot schema: the ordered, append-only list of migrations embedded from `queries/migrations/`.

use rusqlite::Connection;

/// Every migration, in order. `PRAGMA user_version` counts how many a file has applied.
pub(crate) const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_snapshot_v1.sql", include_str!("../../queries/migrations/0001_snapshot_v1.sql")),
    ("0002_request_stats_inner.sql", include_str!("../../queries/migrations/0002_request_stats_inner.sql")),
    ("0003_seal.sql", include_str!("../../queries/migrations/0003_seal.sql")),
    ("0004_delta_links.sql", include_str!("../../queries/migrations/0004_delta_links.sql")),
];

/// The tables that hold data (as opposed to bookkeeping), in the order the fingerprint covers them.
pub(crate) const DATA_TABLES: &[&str] = &["principals", "resources", "role_definitions", "grants"];

/// Applies the migrations `conn` has not applied yet, all in one transaction.
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let applied: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tx = conn.transaction()?;
    for (_, sql) in MIGRATIONS.iter().skip(applied) {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len())?;
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_registered_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/migrations");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let registered: Vec<&str> = MIGRATIONS.iter().map(|(n, _)| *n).collect();
        assert_eq!(files, registered);
        for (name, sql) in MIGRATIONS {
            assert!(sql.starts_with("--"), "{name} must open with a comment saying why it exists");
        }
    }

    #[test]
    fn migrating_twice_changes_nothing() {
        let mut conn = crate::store::open::in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let version: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len());
    }
}
