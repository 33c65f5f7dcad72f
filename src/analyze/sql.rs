//! Small helpers for running the analyses' SQL on a read-only snapshot.

use crate::store::{Snapshot, StoreError};

/// A result row as optional text values.
pub type Row = Vec<Option<String>>;

/// Runs `sql` with `params`; every value comes back as text (`None` for NULL).
pub fn rows(snap: &Snapshot, sql: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Vec<Row>, StoreError> {
    let mut out = Vec::new();
    each_row(snap, sql, params, |r| {
        out.push(r.clone());
        Ok::<(), StoreError>(())
    })?;
    Ok(out)
}

/// Column `i` of `row` as text, empty for NULL.
pub fn col(row: &Row, i: usize) -> String {
    row.get(i).cloned().flatten().unwrap_or_default()
}

/// Runs `sql` with `params` and calls `f` with each row as it is read, so results of any size stream through
/// bounded memory.
pub fn each_row<E: From<StoreError>>(
    snap: &Snapshot,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
    mut f: impl FnMut(&Row) -> Result<(), E>,
) -> Result<(), E> {
    let corrupt = |e| StoreError::corrupt(snap.path(), e);
    let mut stmt = snap.connection().prepare(sql).map_err(corrupt)?;
    let n = stmt.column_count();
    let mut rows = stmt.query(params).map_err(corrupt)?;
    let mut row: Row = Vec::with_capacity(n);
    while let Some(r) = rows.next().map_err(corrupt)? {
        row.clear();
        for i in 0..n {
            row.push(match r.get_ref(i).map_err(corrupt)? {
                rusqlite::types::ValueRef::Null => None,
                rusqlite::types::ValueRef::Integer(v) => Some(v.to_string()),
                rusqlite::types::ValueRef::Real(v) => Some(v.to_string()),
                rusqlite::types::ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                rusqlite::types::ValueRef::Blob(_) => Some("<blob>".to_owned()),
            });
        }
        f(&row)?;
    }
    Ok(())
}
