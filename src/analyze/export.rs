//! The audit evidence bundle: every snapshot table and the effective-access view as CSV, Parquet or JSON files
//! (written with polars, typed: timestamps as UTC timestamps, flags as booleans, counts as integers), plus a
//! manifest with the snapshot's fingerprint and the SHA-256 of every file.

use std::io::{self, Write};
use std::path::Path;

use polars::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::analyze::privileged::Privileged;
use crate::analyze::review::review;
use crate::store::{Snapshot, StoreError};

/// File format of the exported tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Parquet,
    /// One JSON array of row objects per table.
    Json,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Parquet => "parquet",
            ExportFormat::Json => "json",
        }
    }
}

/// The tables exported, in order: metadata and completeness first, then the data, then the derived view.
pub const TABLES: &[&str] =
    &["meta", "parts", "request_stats", "principals", "resources", "role_definitions", "grants", "effective_access"];

/// Columns stored as 0/1 that are booleans.
const BOOLEAN: &[&str] = &[
    "account_enabled",
    "on_premises_sync",
    "security_enabled",
    "mail_enabled",
    "is_assignable_to_role",
    "builtin",
    "enabled",
    "human",
    "privileged",
];

/// Columns holding RFC 3339 times.
const TIMESTAMP: &[&str] = &[
    "created_at",
    "last_sign_in",
    "last_non_interactive_sign_in",
    "last_successful_sign_in",
    "start_at",
    "end_at",
    "since",
    "until",
];

/// Columns that are counts.
const INTEGER: &[&str] = &["objects", "requests", "pages", "throttled", "retried", "failed", "bytes"];

/// One exported file, as listed in the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedFile {
    pub file: String,
    pub table: String,
    pub rows: usize,
    pub bytes: u64,
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub kind: &'static str,
    pub manifest_version: u32,
    pub tool: &'static str,
    pub tool_version: &'static str,
    pub exported_at: String,
    pub format: ExportFormat,
    pub snapshot: SnapshotFacts,
    pub files: Vec<ExportedFile>,
}

/// What identifies the exported snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotFacts {
    pub file: String,
    pub fingerprint: Option<String>,
    /// Whether the snapshot's data still matched its fingerprint when exported.
    pub fingerprint_verified: bool,
    pub tenant_id: Option<String>,
    pub tenant_name: Option<String>,
    pub collection_started_at: Option<String>,
    pub collection_finished_at: Option<String>,
    pub complete: bool,
    pub format_version: String,
    pub collected_by: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: cannot write: {detail}")]
    Write { path: String, detail: String },
}

/// A writer that counts and hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

enum Cells {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
}

/// A table as typed columns.
fn frame(names: &[String], columns: Vec<Cells>) -> PolarsResult<DataFrame> {
    let utc = DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
    let mut out = Vec::with_capacity(names.len());
    for (name, cells) in names.iter().zip(columns) {
        let n = PlSmallStr::from_str(name);
        let series = match cells {
            Cells::Int(v) if BOOLEAN.contains(&name.as_str()) => {
                Series::new(n, v.into_iter().map(|x| x.map(|i| i != 0)).collect::<Vec<Option<bool>>>())
            }
            Cells::Int(v) => Series::new(n, v),
            Cells::Text(v) if TIMESTAMP.contains(&name.as_str()) => {
                let micros: Option<Vec<Option<i64>>> = v
                    .iter()
                    .map(|t| match t.as_deref() {
                        None | Some("") => Some(None),
                        Some(t) => chrono::DateTime::parse_from_rfc3339(t).ok().map(|d| Some(d.timestamp_micros())),
                    })
                    .collect();
                // A value that is not a time keeps the whole column as text: evidence is never altered.
                match micros {
                    Some(m) => Series::new(n, m).cast(&utc)?,
                    None => Series::new(n, v),
                }
            }
            Cells::Text(v) if BOOLEAN.contains(&name.as_str()) => Series::new(
                n,
                v.iter().map(|t| t.as_deref().map(|t| t == "yes" || t == "true" || t == "1")).collect::<Vec<_>>(),
            ),
            Cells::Text(v) => Series::new(n, v),
        };
        out.push(series.into_column());
    }
    DataFrame::new_infer_height(out)
}

/// Reads one snapshot table into typed columns (integer columns by their declared type).
fn table_frame(snap: &Snapshot, table: &str) -> Result<DataFrame, StoreError> {
    let conn = snap.connection();
    let corrupt = |e| StoreError::corrupt(snap.path(), e);
    let mut info = conn.prepare(&format!("SELECT name, type FROM pragma_table_info('{table}')")).map_err(corrupt)?;
    let decl: Vec<(String, String)> =
        info.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).and_then(Iterator::collect).map_err(corrupt)?;
    let names: Vec<String> = decl.iter().map(|(n, _)| n.clone()).collect();
    let mut columns: Vec<Cells> = decl
        .iter()
        .map(|(n, t)| {
            if t.eq_ignore_ascii_case("INTEGER") || INTEGER.contains(&n.as_str()) {
                Cells::Int(Vec::new())
            } else {
                Cells::Text(Vec::new())
            }
        })
        .collect();
    let order: Vec<String> = (1..=names.len().min(6)).map(|i| i.to_string()).collect();
    let sql = format!("SELECT * FROM {table} ORDER BY {}", order.join(", "));
    let mut stmt = conn.prepare(&sql).map_err(corrupt)?;
    let mut rows = stmt.query([]).map_err(corrupt)?;
    while let Some(row) = rows.next().map_err(corrupt)? {
        for (i, c) in columns.iter_mut().enumerate() {
            match c {
                Cells::Int(v) => v.push(row.get(i).map_err(corrupt)?),
                Cells::Text(v) => v.push(row.get(i).map_err(corrupt)?),
            }
        }
    }
    frame(&names, columns).map_err(|e| StoreError::Corrupt { path: snap.path().to_owned(), detail: e.to_string() })
}

fn effective_frame(snap: &Snapshot, privileged: &Privileged) -> Result<DataFrame, StoreError> {
    let rows = review(snap, None, true, privileged)?;
    let names: Vec<String> = crate::analyze::review::COLUMNS
        .iter()
        .filter(|c| !matches!(**c, "decision" | "comment"))
        .map(|c| (*c).to_owned())
        .collect();
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::with_capacity(rows.len()); names.len()];
    for r in &rows {
        for (col, cell) in columns.iter_mut().zip(r.cells()) {
            col.push(if cell.is_empty() { None } else { Some(cell) });
        }
    }
    frame(&names, columns.into_iter().map(Cells::Text).collect())
        .map_err(|e| StoreError::Corrupt { path: snap.path().to_owned(), detail: e.to_string() })
}

fn write_frame(df: &mut DataFrame, format: ExportFormat, path: &Path) -> Result<ExportedFile, ExportError> {
    let fail = |detail: String| ExportError::Write { path: path.display().to_string(), detail };
    let file = std::fs::File::create(path).map_err(|e| fail(e.to_string()))?;
    let mut w = Hashing { inner: io::BufWriter::new(file), hash: Sha256::new(), bytes: 0 };
    let written = match format {
        ExportFormat::Csv => CsvWriter::new(&mut w)
            .include_header(true)
            .with_datetime_format(Some(PlSmallStr::from_static("%Y-%m-%dT%H:%M:%S%.fZ")))
            .finish(df),
        ExportFormat::Json => JsonWriter::new(&mut w).with_json_format(JsonFormat::Json).finish(df),
        ExportFormat::Parquet => ParquetWriter::new(&mut w).finish(df).map(|_| ()),
    };
    written.map_err(|e| fail(e.to_string()))?;
    w.flush().map_err(|e| fail(e.to_string()))?;
    let file = w.inner.into_inner().map_err(|e| fail(e.error().to_string()))?;
    file.sync_all().map_err(|e| fail(e.to_string()))?;
    Ok(ExportedFile {
        file: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        table: String::new(),
        rows: df.height(),
        bytes: w.bytes,
        sha256: hex(&w.hash.finalize()),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes every table of `snap` into `dir` (which must exist) and returns the manifest, which the caller writes.
pub fn export(
    snap: &Snapshot,
    dir: &Path,
    format: ExportFormat,
    exported_at: String,
    mut progress: impl FnMut(&str),
) -> Result<Manifest, ExportError> {
    let meta = snap.meta()?;
    let fingerprint_verified = meta.fingerprint.as_deref() == Some(snap.compute_fingerprint()?.as_str());
    let privileged = Privileged::builtin();
    let mut files = Vec::new();
    for table in TABLES {
        progress(table);
        let mut df =
            if *table == "effective_access" { effective_frame(snap, &privileged)? } else { table_frame(snap, table)? };
        let path = dir.join(format!("{table}.{}", format.extension()));
        let mut f = write_frame(&mut df, format, &path)?;
        f.table = (*table).to_owned();
        files.push(f);
    }
    Ok(Manifest {
        kind: "azsnap-evidence",
        manifest_version: 1,
        tool: "azsnap",
        tool_version: env!("CARGO_PKG_VERSION"),
        exported_at,
        format,
        snapshot: SnapshotFacts {
            file: snap.path().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            fingerprint: meta.fingerprint,
            fingerprint_verified,
            tenant_id: meta.tenant_id,
            tenant_name: meta.tenant_name,
            collection_started_at: meta.started_at,
            collection_finished_at: meta.finished_at,
            complete: meta.complete,
            format_version: meta.format_version,
            collected_by: meta.tool_version,
        },
        files,
    })
}
