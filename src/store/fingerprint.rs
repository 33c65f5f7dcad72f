//! The snapshot fingerprint: SHA-256 over a canonical dump of the data rows.
//!
//! Canonical means: tables in a fixed order, columns in schema order, rows sorted by primary key, every value
//! tagged with its type and length-prefixed. Identical data gives an identical fingerprint whatever order it was
//! inserted in; any edit to a data row (or to the tenant id) changes it. Times, statistics and part statuses are not
//! covered, so two collections of an unchanged tenant share a fingerprint.

use rusqlite::Connection;
use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};

use crate::store::meta::key;
use crate::store::schema::DATA_TABLES;

/// Computes the fingerprint of the data in `conn`, as 64 lower-case hex digits.
pub(crate) fn compute(conn: &Connection) -> rusqlite::Result<String> {
    let mut h = Sha256::new();
    h.update(b"azsnap-fingerprint-v1\0");
    let tenant: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key::TENANT_ID], |r| r.get(0))
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    put_text(&mut h, tenant.as_deref().unwrap_or("").as_bytes());
    for table in DATA_TABLES {
        hash_table(conn, table, &mut h)?;
    }
    Ok(crate::model::hex(&h.finalize()))
}

fn hash_table(conn: &Connection, table: &str, h: &mut Sha256) -> rusqlite::Result<()> {
    // (column name, position in primary key; 0 when not part of it), in schema order.
    let mut info = conn.prepare(&format!("SELECT name, pk FROM pragma_table_info('{table}') ORDER BY cid"))?;
    let columns: Vec<(String, i64)> =
        info.query_map([], |r| Ok((r.get("name")?, r.get("pk")?)))?.collect::<Result<_, _>>()?;
    let mut key: Vec<&(String, i64)> = columns.iter().filter(|(_, pk)| *pk > 0).collect();
    key.sort_by_key(|(_, pk)| *pk);
    let quote = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
    let select = columns.iter().map(|(c, _)| quote(c)).collect::<Vec<_>>().join(", ");
    let order = key.iter().map(|(c, _)| quote(c)).collect::<Vec<_>>().join(", ");
    h.update(b"T");
    put_text(h, table.as_bytes());
    for (c, _) in &columns {
        put_text(h, c.as_bytes());
    }
    let mut stmt = conn.prepare(&format!("SELECT {select} FROM \"{table}\" ORDER BY {order}"))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        h.update(b"R");
        for i in 0..columns.len() {
            match row.get_ref(i)? {
                ValueRef::Null => h.update(b"N"),
                ValueRef::Integer(v) => {
                    h.update(b"I");
                    h.update(v.to_le_bytes());
                }
                ValueRef::Real(v) => {
                    h.update(b"F");
                    h.update(v.to_bits().to_le_bytes());
                }
                ValueRef::Text(t) => {
                    h.update(b"S");
                    put_text(h, t);
                }
                ValueRef::Blob(b) => {
                    h.update(b"B");
                    put_text(h, b);
                }
            }
        }
    }
    Ok(())
}

fn put_text(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}
