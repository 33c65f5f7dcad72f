//! The one place SQLite files are opened: creating a new snapshot, or opening one read-only with every check a
//! reader needs (is it a file, an SQLite database, an azsnap snapshot, of a format version this build reads).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::store::meta::{FormatVersion, key};
use crate::store::{APPLICATION_ID, FORMAT, StoreError, schema};

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Creates a new, empty snapshot database at `path` (which must not exist) with the current schema.
///
/// The file is written without a journal: it is a `.partial` file that is renamed into place only when complete,
/// so a crash leaves a stray partial file, never a damaged snapshot.
#[expect(clippy::disallowed_methods, reason = "store::open is the one place that opens SQLite")]
pub(crate) fn create(path: &Path) -> Result<Connection, StoreError> {
    let sql_err = |source| StoreError::WriteSql { path: path.to_owned(), source };
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_err)?;
    conn.pragma_update(None, "journal_mode", "OFF").map_err(sql_err)?;
    conn.pragma_update(None, "synchronous", "OFF").map_err(sql_err)?;
    conn.pragma_update(None, "application_id", APPLICATION_ID).map_err(sql_err)?;
    schema::migrate(&mut conn).map_err(sql_err)?;
    conn.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", (key::FORMAT_VERSION, FORMAT.to_string()))
        .map_err(sql_err)?;
    Ok(conn)
}

/// Opens the snapshot at `path` read-only, after checking that it is one this build can read.
#[expect(clippy::disallowed_methods, reason = "store::open is the one place that opens SQLite")]
pub(crate) fn read_only(path: &Path) -> Result<(Connection, FormatVersion), StoreError> {
    check_file(path)?;
    // `immutable=1`: a snapshot is never changed once sealed, so SQLite takes no locks and creates nothing beside
    // it (no `-shm`, no `-wal`), and a stray `-journal` or `-wal` next to it is not mistaken for part of it.
    let uri = immutable_uri(path)?;
    let conn = Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(|e| StoreError::corrupt(path, e))?;
    let app_id: i32 =
        conn.query_row("PRAGMA application_id", [], |r| r.get(0)).map_err(|e| StoreError::corrupt(path, e))?;
    if app_id != APPLICATION_ID {
        return Err(StoreError::NotSnapshot {
            path: path.to_owned(),
            why: "an SQLite database of another application".to_owned(),
        });
    }
    let found: String = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key::FORMAT_VERSION], |r| r.get(0))
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => {
                StoreError::NotSnapshot { path: path.to_owned(), why: "it records no format version".to_owned() }
            }
            e => StoreError::corrupt(path, e),
        })?;
    let version: FormatVersion = found.parse().map_err(|()| StoreError::NotSnapshot {
        path: path.to_owned(),
        why: format!("unreadable format version '{found}'"),
    })?;
    if version.major > FORMAT.major {
        return Err(StoreError::TooNew { path: path.to_owned(), found, supported: FORMAT.major });
    }
    if version.major < FORMAT.major {
        return Err(StoreError::TooOld { path: path.to_owned(), found, supported: FORMAT.major });
    }
    // The views every query reads through (in the connection's TEMP schema; the file is not touched).
    conn.execute_batch(&views("main", "grant_role")).map_err(|e| StoreError::corrupt(path, e))?;
    Ok((conn, version))
}

/// `queries/store/views.sql` for the snapshot in `schema`, its view named `view`.
pub(crate) fn views(schema: &str, view: &str) -> String {
    include_str!("../../queries/store/views.sql").replace("{schema}", schema).replace("{view}", view)
}

/// The `file:` URI SQLite opens `path` by, read-only and immutable.
pub(crate) fn immutable_uri(path: &Path) -> Result<String, StoreError> {
    std::path::absolute(path)
        .ok()
        .and_then(|abs| url::Url::from_file_path(abs).ok())
        .map(|mut u| {
            u.set_query(Some("immutable=1"));
            u.to_string()
        })
        .ok_or_else(|| StoreError::NotSnapshot { path: path.to_owned(), why: "its path cannot be opened".to_owned() })
}

/// Checks, before SQLite sees the file, that `path` is a non-empty regular file with an SQLite header whose page
/// count fits the file's length. This turns the common mistakes into precise messages.
fn check_file(path: &Path) -> Result<(), StoreError> {
    let read_err = |source| StoreError::Read { path: path.to_owned(), source };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StoreError::NotFound { path: path.to_owned() });
        }
        Err(e) => return Err(read_err(e)),
    };
    if meta.is_dir() {
        return Err(StoreError::NotAFile { path: path.to_owned() });
    }
    if !meta.is_file() {
        return Err(StoreError::NotSnapshot {
            path: path.to_owned(),
            why: "not a regular file (a FIFO, socket or device)".to_owned(),
        });
    }
    if meta.len() == 0 {
        return Err(StoreError::Empty { path: path.to_owned() });
    }
    let mut header = [0u8; 100];
    let mut file = File::open(path).map_err(read_err)?;
    let n = read_up_to(&mut file, &mut header).map_err(read_err)?;
    if n < header.len() || &header[..16] != SQLITE_MAGIC {
        return Err(StoreError::NotSqlite { path: path.to_owned() });
    }
    // Page size: bytes 16..18 (1 means 65536). Page count: bytes 28..32, valid when the change counter
    // (24..28) equals the version-valid-for number (92..96).
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536u64,
        n => u64::from(n),
    };
    let page_count = u64::from(u32::from_be_bytes([header[28], header[29], header[30], header[31]]));
    if header[24..28] == header[92..96] && page_count > 0 && meta.len() < page_size * page_count {
        return Err(StoreError::Truncated {
            path: path.to_owned(),
            actual: meta.len(),
            expected: page_size * page_count,
        });
    }
    Ok(())
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// An in-memory database with the current schema, for unit tests.
#[cfg(test)]
#[expect(clippy::disallowed_methods, reason = "store::open is the one place that opens SQLite")]
pub(crate) fn in_memory() -> rusqlite::Result<Connection> {
    let mut conn = Connection::open_in_memory()?;
    schema::migrate(&mut conn)?;
    Ok(conn)
}

/// Opens (creating if needed) an apply journal: a small SQLite file beside a plan, recording each action's
/// outcome. Durable on every write (WAL, synchronous FULL), so a killed apply loses nothing it reported.
#[expect(clippy::disallowed_methods, reason = "store::open is the one place that opens SQLite")]
pub(crate) fn journal(path: &Path) -> Result<Connection, StoreError> {
    let sql_err = |source| StoreError::WriteSql { path: path.to_owned(), source };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_err)?;
    let app_id: i32 =
        conn.query_row("PRAGMA application_id", [], |r| r.get(0)).map_err(|e| StoreError::corrupt(path, e))?;
    if app_id != 0 && app_id != JOURNAL_APPLICATION_ID {
        return Err(StoreError::NotSnapshot { path: path.to_owned(), why: "not an azsnap apply journal".to_owned() });
    }
    conn.pragma_update(None, "journal_mode", "WAL").map_err(sql_err)?;
    conn.pragma_update(None, "synchronous", "FULL").map_err(sql_err)?;
    conn.pragma_update(None, "application_id", JOURNAL_APPLICATION_ID).map_err(sql_err)?;
    conn.execute_batch(include_str!("../../queries/store/journal.sql")).map_err(sql_err)?;
    Ok(conn)
}

/// `PRAGMA application_id` of apply journals ("azjn").
pub(crate) const JOURNAL_APPLICATION_ID: i32 = 0x617a_6a6e;
