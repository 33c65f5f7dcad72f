//! The audit evidence bundle: every snapshot table and the effective-access view as CSV, Parquet or JSON files
//! (written with polars, typed: timestamps as UTC timestamps, flags as booleans, counts as integers), plus a
//! manifest with the snapshot's fingerprint and the SHA-256 of every file.

use std::io::{self, Write};
use std::path::Path;

use polars::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::analyze::privileged::Privileged;
use crate::analyze::review::{COLUMNS, REVIEW_COLUMNS, review};
use crate::analyze::sql::{each_row, rows};
use crate::store::{SealCheck, Snapshot, StoreError, Verification};

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

/// `kind` of every evidence manifest; `export --force` replaces only a directory whose manifest has it.
pub const MANIFEST_KIND: &str = "azsnap-evidence";

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
    /// Whether the export was asked to go ahead although the snapshot failed `verify` (`--allow-unverified`).
    pub allow_unverified: bool,
    pub files: Vec<ExportedFile>,
    /// The bundle's other files: the seal statement and its signature (`seal.json`, `seal.json.sig`), the snapshot
    /// itself (`--include-snapshot`). `SHA256SUMS` covers them all, and this manifest.
    pub other_files: Vec<String>,
}

/// What identifies the exported snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotFacts {
    pub file: String,
    pub fingerprint: Option<String>,
    /// Whether the snapshot's data still matched its fingerprint when exported.
    pub fingerprint_verified: bool,
    /// Whether the snapshot passed every `verify` check (integrity, fingerprint, seal, signature) when exported.
    pub verified: bool,
    /// Why it did not, when it did not.
    pub verification_problem: Option<String>,
    /// The snapshot's seal (format 1.2 and later).
    pub seal: Option<String>,
    /// The key that signed the seal, as `ssh-keygen -l` prints it, when the signature checks out.
    pub signed_by: Option<String>,
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
    /// The snapshot lacks what the target needs (a lake needs a tenant id, a start time and a seal).
    #[error("{path}: {detail}")]
    Unsuitable { path: String, detail: String },
}

/// The SHA-256 of a file's bytes, read in a stream.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut h = Sha256::new();
    io::copy(&mut std::fs::File::open(path)?, &mut h)?;
    Ok(crate::model::hex(&h.finalize()))
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

/// The column every lake table adds: which snapshot a row is from (the `snapshots` table's key, the SHA-256 of the
/// snapshot's seal: one collection, unlike the data fingerprint, which collections of an unchanged tenant share).
pub(crate) const LAKE_KEY: &str = "snapshot_id";

/// Rows per batch: each table is converted and written this many rows at a time, so memory stays flat however
/// large the snapshot.
const BATCH: usize = 50_000;

/// How a column is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Integer,
    Boolean,
    Timestamp,
}

fn polars_error(path: &Path) -> impl Fn(PolarsError) -> ExportError + '_ {
    move |e| ExportError::Write { path: path.display().to_string(), detail: e.to_string() }
}

/// A batch of rows being gathered, converted to a typed frame when full.
struct Batch {
    names: Vec<String>,
    kinds: Vec<Kind>,
    cells: Vec<Vec<Option<String>>>,
}

impl Batch {
    fn new(names: Vec<String>, kinds: Vec<Kind>) -> Self {
        let cells = vec![Vec::with_capacity(BATCH); names.len()];
        Batch { names, kinds, cells }
    }

    fn len(&self) -> usize {
        self.cells.first().map_or(0, Vec::len)
    }

    fn push(&mut self, row: impl IntoIterator<Item = Option<String>>) {
        for (c, v) in self.cells.iter_mut().zip(row) {
            c.push(v);
        }
    }

    /// The gathered rows as a typed frame; the batch is empty again afterwards.
    fn take(&mut self) -> Result<DataFrame, String> {
        let utc = DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        let mut columns = Vec::with_capacity(self.names.len());
        for ((name, kind), cells) in self.names.iter().zip(&self.kinds).zip(self.cells.iter_mut()) {
            let cells = std::mem::replace(cells, Vec::with_capacity(BATCH));
            let n = PlSmallStr::from_str(name);
            let series = match kind {
                Kind::Text => Series::new(n, cells),
                Kind::Integer => {
                    let v: Result<Vec<Option<i64>>, String> = cells
                        .iter()
                        .map(|c| c.as_deref().map(str::parse::<i64>).transpose().map_err(|e| format!("{name}: {e}")))
                        .collect();
                    Series::new(n, v?)
                }
                Kind::Boolean => Series::new(
                    n,
                    cells.iter().map(|c| c.as_deref().map(|t| matches!(t, "1" | "yes" | "true"))).collect::<Vec<_>>(),
                ),
                Kind::Timestamp => {
                    let v: Result<Vec<Option<i64>>, String> = cells
                        .iter()
                        .map(|c| match c.as_deref() {
                            None | Some("") => Ok(None),
                            Some(t) => chrono::DateTime::parse_from_rfc3339(t)
                                .map(|d| Some(d.timestamp_micros()))
                                .map_err(|e| format!("{name}: {t:?} is not an RFC 3339 time: {e}")),
                        })
                        .collect();
                    Series::new(n, v?).cast(&utc).map_err(|e| e.to_string())?
                }
            };
            columns.push(series.into_column());
        }
        DataFrame::new_infer_height(columns).map_err(|e| e.to_string())
    }
}

/// Writes frames to one file in the chosen format, batch after batch.
enum FrameWriter<'w, W: Write> {
    Parquet(Box<polars::io::parquet::write::BatchedWriter<&'w mut W>>),
    Csv(polars::io::csv::write::BatchedWriter<&'w mut W>),
    Json { out: &'w mut W, rows: usize },
}

impl<'w, W: Write> FrameWriter<'w, W> {
    fn new(format: ExportFormat, out: &'w mut W, schema: &Schema) -> PolarsResult<Self> {
        Ok(match format {
            ExportFormat::Parquet => FrameWriter::Parquet(Box::new(ParquetWriter::new(out).batched(schema)?)),
            ExportFormat::Csv => FrameWriter::Csv(
                CsvWriter::new(out)
                    .include_header(true)
                    .with_datetime_format(Some(PlSmallStr::from_static("%Y-%m-%dT%H:%M:%S%.fZ")))
                    .batched(schema)?,
            ),
            ExportFormat::Json => {
                out.write_all(b"[").map_err(PolarsError::from)?;
                FrameWriter::Json { out, rows: 0 }
            }
        })
    }

    fn write(&mut self, df: &mut DataFrame) -> PolarsResult<()> {
        match self {
            FrameWriter::Parquet(w) => w.write_batch(df),
            FrameWriter::Csv(w) => w.write_batch(df),
            FrameWriter::Json { out, rows } => {
                if df.height() == 0 {
                    return Ok(());
                }
                // One JSON array for the whole table: each batch's array without its brackets, comma-joined.
                let mut buf = Vec::new();
                JsonWriter::new(&mut buf).with_json_format(JsonFormat::Json).finish(df)?;
                let inner = buf.strip_prefix(b"[").and_then(|b| b.strip_suffix(b"]")).unwrap_or(&buf);
                if *rows > 0 {
                    out.write_all(b",").map_err(PolarsError::from)?;
                }
                out.write_all(inner).map_err(PolarsError::from)?;
                *rows += df.height();
                Ok(())
            }
        }
    }

    fn finish(self) -> PolarsResult<()> {
        match self {
            FrameWriter::Parquet(w) => w.finish().map(|_| ()),
            FrameWriter::Csv(mut w) => w.finish(),
            FrameWriter::Json { out, .. } => out.write_all(b"]\n").map_err(PolarsError::from),
        }
    }
}

/// Streams rows into `path`: `fill` calls its argument with each row; batches are converted and written as they
/// fill. An empty table still gets a file with its columns.
pub(crate) fn write_table(
    path: &Path,
    format: ExportFormat,
    names: Vec<String>,
    kinds: Vec<Kind>,
    fill: impl FnOnce(&mut dyn FnMut(Vec<Option<String>>) -> Result<(), ExportError>) -> Result<(), ExportError>,
) -> Result<ExportedFile, ExportError> {
    let fail = |detail: String| ExportError::Write { path: path.display().to_string(), detail };
    let file = std::fs::File::create(path).map_err(|e| fail(e.to_string()))?;
    let mut w = Hashing { inner: io::BufWriter::new(file), hash: Sha256::new(), bytes: 0 };
    // CSV is opened in spreadsheets: text cells that would run as a formula get a leading `'` (as `review` does).
    // Parquet and JSON keep every value as it is.
    let guard: Vec<bool> = kinds.iter().map(|k| format == ExportFormat::Csv && matches!(k, Kind::Text)).collect();
    let mut batch = Batch::new(names, kinds);
    let mut rows = 0usize;
    {
        let mut first = batch.take().map_err(&fail)?;
        let mut writer = FrameWriter::new(format, &mut w, first.schema()).map_err(polars_error(path))?;
        writer.write(&mut first).map_err(polars_error(path))?;
        fill(&mut |mut row| {
            for (cell, guarded) in row.iter_mut().zip(&guard) {
                if *guarded
                    && let Some(text) = cell.as_mut()
                    && let std::borrow::Cow::Owned(g) = crate::model::text::formula_guarded(text)
                {
                    *text = g;
                }
            }
            batch.push(row);
            rows += 1;
            if batch.len() >= BATCH {
                let mut df = batch.take().map_err(&fail)?;
                writer.write(&mut df).map_err(polars_error(path))?;
            }
            Ok(())
        })?;
        if batch.len() > 0 {
            let mut df = batch.take().map_err(&fail)?;
            writer.write(&mut df).map_err(polars_error(path))?;
        }
        writer.finish().map_err(polars_error(path))?;
    }
    w.flush().map_err(|e| fail(e.to_string()))?;
    let file = w.inner.into_inner().map_err(|e| fail(e.error().to_string()))?;
    file.sync_all().map_err(|e| fail(e.to_string()))?;
    Ok(ExportedFile {
        file: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        table: String::new(),
        rows,
        bytes: w.bytes,
        sha256: crate::model::hex(&w.hash.finalize()),
    })
}

/// A timestamp column is exported as timestamps only when every value reads as RFC 3339; otherwise as the text
/// it is (evidence is never altered).
fn all_times(snap: &Snapshot, table: &str, column: &str) -> Result<bool, StoreError> {
    let mut ok = true;
    each_row(snap, &format!("SELECT DISTINCT {column} AS value FROM {table} WHERE {column} IS NOT NULL"), &[], |r| {
        if let Some(t) = r.opt("value") {
            ok &= chrono::DateTime::parse_from_rfc3339(&t).is_ok();
        }
        Ok::<(), StoreError>(())
    })?;
    Ok(ok)
}

/// The values of the added columns for one row of the table.
pub(crate) type ExtraValues<'a> = Box<dyn FnMut(&crate::analyze::sql::Row) -> Vec<Option<String>> + 'a>;

/// Columns added after a table's own: their names and kinds, and each row's values (the lake's
/// `snapshot_id`, and whether a grant is privileged).
pub(crate) struct Extra<'a> {
    pub columns: Vec<(&'static str, Kind)>,
    pub values: ExtraValues<'a>,
}

/// One snapshot table, streamed in primary-key order.
fn export_table(snap: &Snapshot, table: &str, format: ExportFormat, path: &Path) -> Result<ExportedFile, ExportError> {
    export_table_with(snap, table, format, path, None)
}

/// One snapshot table with `extra` columns after its own.
pub(crate) fn export_table_with(
    snap: &Snapshot,
    table: &str,
    format: ExportFormat,
    path: &Path,
    mut extra: Option<Extra<'_>>,
) -> Result<ExportedFile, ExportError> {
    let decl = rows(snap, &format!("SELECT name, type FROM pragma_table_info('{table}')"), &[])?;
    let mut names: Vec<String> = decl.iter().map(|r| r.text("name")).collect();
    let mut kinds = Vec::with_capacity(names.len());
    for r in &decl {
        let name = r.text("name");
        kinds.push(if BOOLEAN.contains(&name.as_str()) {
            Kind::Boolean
        } else if r.text("type").eq_ignore_ascii_case("INTEGER") || INTEGER.contains(&name.as_str()) {
            Kind::Integer
        } else if TIMESTAMP.contains(&name.as_str()) && all_times(snap, table, &name)? {
            Kind::Timestamp
        } else {
            Kind::Text
        });
    }
    let order: Vec<String> = (1..=names.len().min(6)).map(|i| i.to_string()).collect();
    let sql = format!("SELECT * FROM {table} ORDER BY {}", order.join(", "));
    for (name, kind) in extra.iter().flat_map(|e| e.columns.iter()) {
        names.push((*name).to_owned());
        kinds.push(*kind);
    }
    write_table(path, format, names, kinds, |emit| {
        each_row(snap, &sql, &[], |r| {
            let mut row = r.values().to_vec();
            if let Some(e) = extra.as_mut() {
                row.extend((e.values)(r));
            }
            emit(row)
        })
    })
}

/// The effective-access view: the `review --effective` rows for the whole tenant.
pub(crate) fn export_effective(
    snap: &Snapshot,
    privileged: &Privileged,
    format: ExportFormat,
    path: &Path,
    snapshot_id: Option<&str>,
) -> Result<ExportedFile, ExportError> {
    let mut names: Vec<String> =
        COLUMNS.iter().filter(|c| !REVIEW_COLUMNS.contains(c)).map(|c| (*c).to_owned()).collect();
    // `since`, `until` and `last_sign_in` come from these columns: timestamps when all of them read as times.
    let mut times = true;
    for (table, column) in [
        ("grants", "start_at"),
        ("grants", "end_at"),
        ("grants", "created_at"),
        ("principals", "last_sign_in"),
        ("principals", "last_non_interactive_sign_in"),
    ] {
        times &= all_times(snap, table, column)?;
    }
    let mut kinds: Vec<Kind> = names
        .iter()
        .map(|n| match n.as_str() {
            n if BOOLEAN.contains(&n) => Kind::Boolean,
            n if TIMESTAMP.contains(&n) && times => Kind::Timestamp,
            _ => Kind::Text,
        })
        .collect();
    if snapshot_id.is_some() {
        names.push(LAKE_KEY.to_owned());
        kinds.push(Kind::Text);
    }
    write_table(path, format, names, kinds, |emit| {
        review(snap, None, true, privileged, |row| {
            let data = row.cells("").into_iter().take(COLUMNS.len() - REVIEW_COLUMNS.len());
            let mut cells: Vec<Option<String>> = data.map(|c| (!c.is_empty()).then_some(c)).collect();
            if let Some(f) = snapshot_id {
                cells.push(Some(f.to_owned()));
            }
            emit(cells)
        })
    })
}

/// Writes every table of `snap` into `dir` (which must exist) and returns the manifest, which the caller writes.
/// `checks` is the snapshot's [`Verification`], recorded in the manifest. The caller decides whether an unverified
/// snapshot may be exported, and adds the other files.
pub fn export(
    snap: &Snapshot,
    dir: &Path,
    format: ExportFormat,
    exported_at: String,
    checks: &Verification,
    mut progress: impl FnMut(&str),
) -> Result<Manifest, ExportError> {
    let meta = snap.meta()?;
    let fingerprint_verified = meta.fingerprint.as_deref() == Some(checks.computed_fingerprint.as_str());
    let privileged = Privileged::builtin().with_custom_roles(snap, &["main"])?;
    let mut files = Vec::new();
    for table in TABLES {
        progress(table);
        let path = dir.join(format!("{table}.{}", format.extension()));
        let mut f = if *table == "effective_access" {
            export_effective(snap, &privileged, format, &path, None)?
        } else {
            export_table(snap, table, format, &path)?
        };
        f.table = (*table).to_owned();
        files.push(f);
    }
    Ok(Manifest {
        kind: MANIFEST_KIND,
        manifest_version: 1,
        tool: "azsnap",
        tool_version: env!("CARGO_PKG_VERSION"),
        exported_at,
        format,
        snapshot: SnapshotFacts {
            file: snap.path().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            fingerprint: meta.fingerprint,
            fingerprint_verified,
            verified: checks.ok(),
            verification_problem: checks.problem(),
            seal: match &checks.seal {
                SealCheck::Intact { sha256 } => Some(sha256.clone()),
                _ => None,
            },
            signed_by: checks.signature.signed_by(),
            tenant_id: meta.tenant_id,
            tenant_name: meta.tenant_name,
            collection_started_at: meta.started_at,
            collection_finished_at: meta.finished_at,
            complete: meta.complete,
            format_version: meta.format_version,
            collected_by: meta.tool_version,
        },
        allow_unverified: false,
        files,
        other_files: Vec::new(),
    })
}
