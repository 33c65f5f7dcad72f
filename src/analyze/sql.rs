//! Small helpers for running the analyses' SQL on a read-only snapshot.

use rusqlite::types::Value as Sql;

use crate::store::{Snapshot, StoreError};

/// A result row as optional text values.
pub type Row = Vec<Option<String>>;

/// Runs `sql` with `params`; every value comes back as text (`None` for NULL).
pub fn rows(snap: &Snapshot, sql: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Vec<Row>, StoreError> {
    let corrupt = |e| StoreError::corrupt(snap.path(), e);
    let mut stmt = snap.connection().prepare(sql).map_err(corrupt)?;
    let n = stmt.column_count();
    stmt.query_map(params, |r| {
        (0..n)
            .map(|i| {
                Ok(match r.get::<_, Sql>(i)? {
                    Sql::Null => None,
                    Sql::Integer(v) => Some(v.to_string()),
                    Sql::Real(v) => Some(v.to_string()),
                    Sql::Text(t) => Some(t),
                    Sql::Blob(_) => Some("<blob>".to_owned()),
                })
            })
            .collect::<Result<Row, rusqlite::Error>>()
    })
    .and_then(Iterator::collect)
    .map_err(corrupt)
}

/// Column `i` of `row` as text, empty for NULL.
pub fn col(row: &Row, i: usize) -> String {
    row.get(i).cloned().flatten().unwrap_or_default()
}
