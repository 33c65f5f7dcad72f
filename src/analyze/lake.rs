//! `export --lake DIR`: one snapshot appended to a Hive-partitioned Parquet dataset that DuckDB, Spark, Trino,
//! Athena or BigQuery read as it is:
//!
//! ```text
//! DIR/<table>/tenant_id=<guid>/collected_date=<YYYY-MM-DD>/part-<snapshot id>.parquet
//! ```
//!
//! Every row carries `snapshot_id`, the key of the `snapshots` table (one row per snapshot: tenant, times, data
//! fingerprint, seal, signature). The id is the SHA-256 of the snapshot's seal, which covers its times and tenant
//! as well as the data fingerprint: two collections of an unchanged tenant share a fingerprint but are two
//! snapshots. Appending is idempotent per snapshot: one already in the lake is not written again. Files are written
//! to a staging directory in DIR and renamed into place, the `snapshots` row last, so a reader that joins on
//! `snapshots` never sees half a snapshot.

use std::path::{Path, PathBuf};

use crate::analyze::export::{
    ExportError, ExportFormat, ExportedFile, Extra, Kind, LAKE_KEY, export_effective, export_table_with, write_table,
};
use crate::analyze::privileged::Privileged;
use crate::model::{Guid, Relation};
use crate::store::{SealCheck, Snapshot, Verification};

/// The tables of the lake besides `snapshots`, which is written last.
pub const TABLES: &[&str] =
    &["principals", "resources", "role_definitions", "grants", "effective_access", "parts", "request_stats"];

/// What appending one snapshot did.
#[derive(Debug, Clone)]
pub struct Appended {
    pub tenant_id: String,
    pub collected_date: String,
    /// The SHA-256 of the snapshot's seal.
    pub snapshot_id: String,
    /// The files written, their paths relative to the lake; empty when the snapshot was there already.
    pub files: Vec<ExportedFile>,
}

fn invalid(lake: &Path, detail: impl Into<String>) -> ExportError {
    ExportError::Write { path: lake.display().to_string(), detail: detail.into() }
}

fn unsuitable(snap: &Snapshot, detail: &str) -> ExportError {
    ExportError::Unsuitable {
        path: snap.path().display().to_string(),
        detail: format!("{detail}; not added to the lake"),
    }
}

/// `DIR/<table>/tenant_id=…/collected_date=…`.
fn partition(lake: &Path, table: &str, tenant: &str, date: &str) -> PathBuf {
    lake.join(table).join(format!("tenant_id={tenant}")).join(format!("collected_date={date}"))
}

/// Appends `snap` (already checked: `checks`) to the lake at `lake`, which is made if missing.
pub fn append(
    snap: &Snapshot,
    lake: &Path,
    checks: &Verification,
    exported_at: &str,
    mut progress: impl FnMut(&str),
) -> Result<Appended, ExportError> {
    let meta = snap.meta()?;
    // The tenant id and the fingerprint become path segments: only a GUID and hex digits are let through.
    let tenant = meta
        .tenant_id
        .as_deref()
        .and_then(|t| t.parse::<Guid>().ok())
        .ok_or_else(|| unsuitable(snap, "no valid tenant id"))?;
    let tenant = tenant.as_str().to_owned();
    let fingerprint = meta.fingerprint.clone().ok_or_else(|| unsuitable(snap, "never sealed (no fingerprint)"))?;
    // The seal's SHA-256 (hex, checked: it becomes a file name) identifies this collection.
    let id = snap
        .stored_seal()?
        .map(|(_, sha256, _)| sha256)
        .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| unsuitable(snap, "no seal (a lake needs format 1.2 or later)"))?;
    let started: crate::model::Timestamp = meta
        .started_at
        .as_deref()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| unsuitable(snap, "no collection start time"))?;
    let date = started.as_datetime().format("%Y-%m-%d").to_string();
    let file = format!("part-{id}.parquet");
    let done = partition(lake, "snapshots", &tenant, &date).join(&file);
    let appended =
        |files| Appended { tenant_id: tenant.clone(), collected_date: date.clone(), snapshot_id: id.clone(), files };
    if done.exists() {
        return Ok(appended(Vec::new()));
    }
    std::fs::create_dir_all(lake).map_err(|e| invalid(lake, e.to_string()))?;
    let staging = tempfile::Builder::new()
        .prefix(".azsnap-staging-")
        .tempdir_in(lake)
        .map_err(|e| invalid(lake, e.to_string()))?;
    let _writing = crate::store::exclusive::writing(staging.path());
    let privileged = Privileged::builtin().with_custom_roles(snap, &["main"])?;
    let groups = privileged.groups(snap, &["main"])?;
    let mut staged = Vec::new();
    for table in TABLES {
        progress(table);
        let path = staging.path().join(format!("{table}.parquet"));
        let f = if *table == "effective_access" {
            export_effective(snap, &privileged, ExportFormat::Parquet, &path, Some(&id))?
        } else {
            // Every table gets the snapshot's id; grants also whether each is privileged.
            let grants = *table == "grants";
            let mut columns = vec![(LAKE_KEY, Kind::Text)];
            if grants {
                columns.push(("privileged", Kind::Boolean));
            }
            let (key, privileged, groups) = (id.clone(), &privileged, &groups);
            let values = Box::new(move |r: &crate::analyze::sql::Row| {
                let mut v = vec![Some(key.clone())];
                if grants {
                    let relation = r.text("relation").parse::<Relation>().ok();
                    let p = relation
                        .is_some_and(|rel| privileged.grant(rel, &r.text("role_id"), &r.text("target_id"), groups));
                    v.push(Some(p.to_string()));
                }
                v
            });
            export_table_with(snap, table, ExportFormat::Parquet, &path, Some(Extra { columns, values }))?
        };
        staged.push(((*table).to_owned(), path, f));
    }
    progress("snapshots");
    let path = staging.path().join("snapshots.parquet");
    let f = snapshots_row(&path, &meta, &id, &fingerprint, checks, exported_at, snap)?;
    staged.push(("snapshots".to_owned(), path, f));
    let mut files = Vec::new();
    for (table, from, mut f) in staged {
        let dir = partition(lake, &table, &tenant, &date);
        std::fs::create_dir_all(&dir).map_err(|e| invalid(&dir, e.to_string()))?;
        let to = dir.join(&file);
        std::fs::rename(&from, &to).map_err(|e| invalid(&to, e.to_string()))?;
        f.table = table;
        f.file = to.strip_prefix(lake).unwrap_or(&to).display().to_string();
        files.push(f);
    }
    Ok(appended(files))
}

/// The `snapshots` table's one row for this snapshot.
fn snapshots_row(
    path: &Path,
    meta: &crate::store::SnapshotMeta,
    id: &str,
    fingerprint: &str,
    checks: &Verification,
    exported_at: &str,
    snap: &Snapshot,
) -> Result<ExportedFile, ExportError> {
    let columns: [(&str, Kind, Option<String>); 15] = [
        (LAKE_KEY, Kind::Text, Some(id.to_owned())),
        ("snapshot_fingerprint", Kind::Text, Some(fingerprint.to_owned())),
        ("tenant_name", Kind::Text, meta.tenant_name.clone()),
        ("cloud", Kind::Text, meta.cloud.clone()),
        ("started_at", Kind::Timestamp, meta.started_at.clone()),
        ("finished_at", Kind::Timestamp, meta.finished_at.clone()),
        ("complete", Kind::Boolean, Some(meta.complete.to_string())),
        ("format_version", Kind::Text, Some(meta.format_version.clone())),
        ("collected_by", Kind::Text, meta.tool_version.clone()),
        ("seal_intact", Kind::Boolean, Some(matches!(checks.seal, SealCheck::Intact { .. }).to_string())),
        ("signed_by", Kind::Text, checks.signature.signed_by()),
        ("verified", Kind::Boolean, Some(checks.ok().to_string())),
        ("verification_problem", Kind::Text, checks.problem()),
        ("exported_at", Kind::Timestamp, Some(exported_at.to_owned())),
        ("source_file", Kind::Text, snap.path().file_name().map(|n| n.to_string_lossy().into_owned())),
    ];
    let names = columns.iter().map(|c| c.0.to_owned()).collect();
    let kinds = columns.iter().map(|c| c.1).collect();
    let row: Vec<Option<String>> = columns.into_iter().map(|c| c.2).collect();
    write_table(path, ExportFormat::Parquet, names, kinds, |emit| emit(row))
}
