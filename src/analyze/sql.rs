//! Small helpers for running the analyses' SQL on a read-only snapshot. Rows are read by column name: every query
//! names its columns (`… AS principal_name`), and a renamed or missing column is a test failure, not a shifted
//! value.

use std::path::Path;
use std::sync::Arc;

use crate::store::{Snapshot, StoreError};

/// A result row as optional text values, with its query's column names.
#[derive(Debug, Clone)]
pub struct Row {
    names: Arc<[String]>,
    values: Vec<Option<String>>,
    /// The snapshot it was read from, for errors.
    path: Arc<Path>,
}

impl Row {
    fn at(&self, name: &str) -> Option<&Option<String>> {
        let at = self.names.iter().position(|n| n == name);
        debug_assert!(at.is_some(), "no column `{name}` in {:?}", self.names);
        at.map(|i| &self.values[i])
    }

    /// Column `name` as text, empty for NULL.
    pub fn text(&self, name: &str) -> String {
        self.opt(name).unwrap_or_default()
    }

    /// Column `name`, `None` for NULL.
    pub fn opt(&self, name: &str) -> Option<String> {
        self.at(name).cloned().flatten()
    }

    /// Column `name` as a number (0 for NULL or anything else).
    pub fn count(&self, name: &str) -> u64 {
        self.text(name).parse().unwrap_or(0)
    }

    /// Column `name` as a flag: SQLite's 1.
    pub fn flag(&self, name: &str) -> bool {
        self.text(name) == "1"
    }

    /// Column `name` as one of a closed set of words (`Relation`, `GrantState`, …); another word means the file is
    /// not what azsnap wrote.
    pub fn word<T: std::str::FromStr<Err = String>>(&self, name: &str) -> Result<T, StoreError> {
        self.text(name).parse().map_err(|detail| StoreError::Corrupt { path: self.path.to_path_buf(), detail })
    }

    /// Every value in column order, for output that shows rows as they are.
    pub fn values(&self) -> &[Option<String>] {
        &self.values
    }
}

/// Runs `sql` with `params`; every value comes back as text (`None` for NULL).
pub fn rows(snap: &Snapshot, sql: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Vec<Row>, StoreError> {
    let mut out = Vec::new();
    each_row(snap, sql, params, |r| {
        out.push(r.clone());
        Ok::<(), StoreError>(())
    })?;
    Ok(out)
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
    let names: Arc<[String]> = stmt.column_names().map(str::to_owned).collect();
    let mut rows = stmt.query(params).map_err(corrupt)?;
    let mut row = Row { names, values: Vec::with_capacity(n), path: Arc::from(snap.path()) };
    while let Some(r) = rows.next().map_err(corrupt)? {
        row.values.clear();
        for i in 0..n {
            row.values.push(match r.get_ref(i).map_err(corrupt)? {
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
