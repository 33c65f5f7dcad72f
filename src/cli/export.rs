//! `azsnap export SNAP -o DIR`: the audit evidence bundle.

use std::path::{Path, PathBuf};

use crate::analyze::export::{ExportError, ExportFormat, Manifest, export};
use crate::cli::output::{OutputFile, partial_path, write_error};
use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::report::write_json;
use crate::store::Snapshot;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    pub snapshot: PathBuf,
    /// Directory to write the bundle into; it must not exist yet, or be empty.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// Replace DIR if it holds an earlier azsnap export (a directory with a manifest.json).
    #[arg(long)]
    pub force: bool,
}

/// Whether `dir` may be replaced: missing, empty, or (with --force) an earlier export.
fn check_target(dir: &Path, force: bool) -> Result<bool, CliError> {
    let Ok(mut entries) = std::fs::read_dir(dir) else {
        if dir.exists() {
            return Err(CliError::usage(format!("{}: exists and is not a directory", dir.display())));
        }
        return Ok(false);
    };
    if entries.next().is_none() {
        return Ok(true);
    }
    if force && dir.join("manifest.json").is_file() {
        return Ok(true);
    }
    Err(CliError::usage(format!("{}: directory is not empty", dir.display()))
        .with_hint("choose a new directory, or --force to replace an earlier export"))
}

pub fn run(args: &ExportArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let snap = Snapshot::open(&args.snapshot)?;
    let dir = &args.output;
    let replace = check_target(dir, args.force)?;
    let staging = partial_path(dir);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| write_error(&staging, e))?;
    }
    std::fs::create_dir(&staging).map_err(|e| write_error(dir, e))?;
    let result = write_bundle(&snap, &staging, args.format, ui);
    let manifest = match result {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    if replace {
        std::fs::remove_dir_all(dir).map_err(|e| write_error(dir, e))?;
    }
    std::fs::rename(&staging, dir).map_err(|e| write_error(dir, e))?;
    let rows: usize = manifest.files.iter().map(|f| f.rows).sum();
    ui.note(&format!(
        "exported {} files ({} rows) and manifest.json to {}; snapshot fingerprint {}",
        manifest.files.len(),
        rows,
        dir.display(),
        manifest.snapshot.fingerprint.as_deref().unwrap_or("missing")
    ));
    if !manifest.snapshot.fingerprint_verified {
        ui.note("warning: the snapshot's data does not match its stored fingerprint; run `azsnap verify`");
    }
    Ok(exit_code::SUCCESS)
}

fn write_bundle(snap: &Snapshot, staging: &Path, format: ExportFormat, ui: &mut Ui) -> Result<Manifest, CliError> {
    let show = ui.wants_progress();
    let manifest = export(snap, staging, format, crate::clock::now().to_string(), |table| {
        if show {
            ui.note(&format!("exporting {table}"));
        }
    })
    .map_err(|e| match e {
        ExportError::Store(e) => e.into(),
        other => CliError::usage(other.to_string()),
    })?;
    let path = staging.join("manifest.json");
    let mut file = OutputFile::create(&path, true)?;
    write_json(&mut file, &manifest).map_err(|e| write_error(&path, e))?;
    file.commit()?;
    Ok(manifest)
}
