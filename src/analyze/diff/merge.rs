//! Both grant tables merged in key order, in one pass per range of principal ids, each range on its own
//! connection pair: the differences only, never either table in memory.

use std::path::Path;

use super::Change;
use crate::store::{Snapshot, StoreError};

/// The compared values of a grant row from `grants_scan.sql` (`\x01` is NULL).
pub(super) fn split_values(joined: &str) -> Vec<Option<String>> {
    joined.split('\0').map(|f| (f != "\u{1}").then(|| f.to_owned())).collect()
}

/// One grant difference: change, key, values, and the old values for a change.
pub(super) type GrantDelta = (Change, String, String, Option<String>);

/// A grant table read in key order, one row at a time into reused buffers: key and values joined by NUL (NULL
/// values written as `\x01`), as bytes, so the merge allocates nothing per row.
struct Cursor<'s> {
    rows: rusqlite::Rows<'s>,
    key: Vec<u8>,
    values: Vec<u8>,
    live: bool,
}

impl Cursor<'_> {
    fn advance(&mut self) -> rusqlite::Result<()> {
        self.key.clear();
        self.values.clear();
        let Some(r) = self.rows.next()? else {
            self.live = false;
            return Ok(());
        };
        for i in 0..11 {
            let out = if i < 6 { &mut self.key } else { &mut self.values };
            if i != 0 && i != 6 {
                out.push(0);
            }
            match r.get_ref(i)? {
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => out.extend_from_slice(t),
                rusqlite::types::ValueRef::Null => out.push(1),
                rusqlite::types::ValueRef::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
                rusqlite::types::ValueRef::Real(f) => out.extend_from_slice(f.to_string().as_bytes()),
            }
        }
        self.live = true;
        Ok(())
    }

    fn take(&self) -> (String, String) {
        (String::from_utf8_lossy(&self.key).into_owned(), String::from_utf8_lossy(&self.values).into_owned())
    }
}

/// Merges the grants of one range of principal ids, `[from, to)`, from both tables read in primary-key order, in
/// one pass. SQLite orders text by bytes, as byte slices compare, and NUL sorts before every other byte, so the
/// joined keys sort as the key tuples do.
fn merge_range(conn: &rusqlite::Connection, from: &str, to: &str) -> rusqlite::Result<Vec<GrantDelta>> {
    let scan = include_str!("../../../queries/diff/grants_scan.sql");
    let mut a_stmt = conn.prepare(&scan.replace("{schema}", "main"))?;
    let mut b_stmt = conn.prepare(&scan.replace("{schema}", "new"))?;
    let mut a = Cursor { rows: a_stmt.query((from, to))?, key: Vec::new(), values: Vec::new(), live: false };
    let mut b = Cursor { rows: b_stmt.query((from, to))?, key: Vec::new(), values: Vec::new(), live: false };
    a.advance()?;
    b.advance()?;
    let mut out = Vec::new();
    while a.live || b.live {
        let order = match (a.live, b.live) {
            (true, false) => std::cmp::Ordering::Less,
            (false, true) => std::cmp::Ordering::Greater,
            _ => a.key.cmp(&b.key),
        };
        match order {
            std::cmp::Ordering::Less => {
                let (k, v) = a.take();
                out.push((Change::Removed, k, v, None));
                a.advance()?;
            }
            std::cmp::Ordering::Greater => {
                let (k, v) = b.take();
                out.push((Change::Added, k, v, None));
                b.advance()?;
            }
            std::cmp::Ordering::Equal => {
                if a.values != b.values {
                    let (k, v) = b.take();
                    out.push((Change::Changed, k, v, Some(a.take().1)));
                }
                a.advance()?;
                b.advance()?;
            }
        }
    }
    Ok(out)
}

/// Above every principal id (ids are ASCII; this is U+10FFFF).
const KEY_MAX: &str = "\u{10ffff}";

/// Merges both grant tables, split by principal id into one range per core (at the quantiles of the older
/// snapshot's principals), each range on its own read-only connection pair. The result is in key order.
pub(super) fn merge_grants(old: &Snapshot, new_path: &Path) -> Result<Vec<GrantDelta>, StoreError> {
    let corrupt = |e| StoreError::corrupt(old.path(), e);
    let parts = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    let mut bounds = vec![String::new()];
    let quantile =
        "SELECT id FROM main.principals ORDER BY id LIMIT 1 OFFSET (SELECT count(*) FROM main.principals) * ?1 / ?2";
    for i in 1..parts {
        let id: Option<String> = old
            .connection()
            .query_row(quantile, (i as i64, parts as i64), |r| r.get(0))
            .map_or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) }, |v| Ok(Some(v)))
            .map_err(corrupt)?;
        if let Some(id) = id.filter(|id| bounds.last().is_some_and(|b| id > b)) {
            bounds.push(id);
        }
    }
    bounds.push(KEY_MAX.to_owned());
    let ranges: Vec<(String, String)> = bounds.windows(2).map(|w| (w[0].clone(), w[1].clone())).collect();
    if ranges.len() == 1 {
        return merge_range(old.connection(), &ranges[0].0, &ranges[0].1).map_err(corrupt);
    }
    let old_path = old.path();
    let results: Vec<Result<Vec<GrantDelta>, StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .iter()
            .map(|(from, to)| {
                scope.spawn(move || {
                    let snap = Snapshot::open(old_path)?;
                    snap.attach(new_path, "new")?;
                    merge_range(snap.connection(), from, to).map_err(|e| StoreError::corrupt(old_path, e))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(StoreError::Corrupt { path: old_path.to_owned(), detail: "diff worker stopped".to_owned() })
                })
            })
            .collect()
    });
    let mut out = Vec::new();
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}
