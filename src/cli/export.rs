//! `azsnap export SNAP -o DIR`: the audit evidence bundle.

use std::path::{Path, PathBuf};

use crate::analyze::export::{ExportFormat, Manifest, export};
use crate::cli::output::{OutputFile, write_error};
use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::report::write_json;
use crate::store::Snapshot;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["output", "lake"])))]
pub struct ExportArgs {
    pub snapshot: PathBuf,
    /// Directory to write the bundle into; it must not exist yet, or be empty.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Append the snapshot to a Hive-partitioned Parquet lake at DIR (made if missing) instead of writing a bundle:
    /// `DIR/<table>/tenant_id=…/collected_date=…/part-<snapshot id>.parquet`; a snapshot already there is skipped.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["output", "format", "force", "include_snapshot"])]
    pub lake: Option<PathBuf>,
    /// File format of the bundle's tables [default: csv].
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// Replace DIR if it holds an earlier azsnap export: only the files its manifest.json lists, and only when it holds
    /// nothing else.
    #[arg(long)]
    pub force: bool,
    /// Export a snapshot that fails `azsnap verify` (edited, re-sealed, badly signed); the manifest records it.
    #[arg(long)]
    pub allow_unverified: bool,
    /// Copy the snapshot file itself into the bundle (covered by SHA256SUMS).
    #[arg(long)]
    pub include_snapshot: bool,
    /// Sign SHA256SUMS (`SHA256SUMS.sig`, an SSHSIG that `ssh-keygen -Y verify -n azsnap` checks).
    #[command(flatten)]
    pub signing: crate::cli::keys::SigningKeyArg,
}

/// The checksum list of a bundle, in the format `sha256sum -c` reads, and its signature.
const SUMS: &str = "SHA256SUMS";
const SUMS_SIG: &str = "SHA256SUMS.sig";
/// The seal statement and its signature, copied out of the snapshot for `ssh-keygen`.
const SEAL: &str = "seal.json";
const SEAL_SIG: &str = "seal.json.sig";

/// The most of a `manifest.json` read to decide whether a directory is an earlier export.
const MANIFEST_LIMIT: u64 = 16 << 20;

/// What is at the output directory now, and what replacing it removes.
enum Target {
    /// Nothing: the bundle is renamed into place.
    Missing,
    /// An empty directory, or an earlier azsnap export whose files (and only those) are removed first.
    Replace(Vec<PathBuf>),
}

fn not_replaced(dir: &Path, why: &str) -> CliError {
    CliError::usage(format!("{}: {why}; not replaced", dir.display()))
        .with_hint("choose a new directory; --force replaces only an earlier azsnap export")
}

/// Whether `dir` may be replaced: missing, empty, or (with --force) an earlier azsnap export holding nothing but
/// the files its manifest lists.
fn check_target(dir: &Path, force: bool) -> Result<Target, CliError> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Target::Missing),
        Err(e) => return Err(write_error(dir, e)),
    };
    if !meta.is_dir() {
        return Err(CliError::usage(format!("{}: exists and is not a directory", dir.display())));
    }
    let names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| write_error(dir, e))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| write_error(dir, e))?;
    if names.is_empty() {
        return Ok(Target::Replace(Vec::new()));
    }
    if !force {
        return Err(CliError::usage(format!("{}: directory is not empty", dir.display()))
            .with_hint("choose a new directory, or --force to replace an earlier export"));
    }
    let listed = earlier_export(dir)?;
    let foreign: Vec<&str> = names.iter().map(String::as_str).filter(|n| !listed.iter().any(|l| l == n)).collect();
    if !foreign.is_empty() {
        return Err(not_replaced(dir, &format!("it holds files its export did not write ({})", foreign.join(", "))));
    }
    let mut remove = Vec::new();
    for name in names {
        let path = dir.join(&name);
        if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            return Err(not_replaced(dir, &format!("{name} is not a regular file")));
        }
        remove.push(path);
    }
    Ok(Target::Replace(remove))
}

/// The file names an earlier export in `dir` wrote (its manifest's files and the manifest), or why `dir` is not one.
fn earlier_export(dir: &Path) -> Result<Vec<String>, CliError> {
    use std::io::Read;
    let path = dir.join("manifest.json");
    let mut text = String::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(MANIFEST_LIMIT).read_to_string(&mut text))
        .map_err(|_| not_replaced(dir, "it is not an azsnap export (no readable manifest.json)"))?;
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .map_err(|_| not_replaced(dir, "it is not an azsnap export (manifest.json is not JSON)"))?;
    if manifest["kind"] != crate::analyze::export::MANIFEST_KIND {
        return Err(not_replaced(dir, "it is not an azsnap export (its manifest.json has another kind)"));
    }
    let mut names = vec!["manifest.json".to_owned(), SUMS.to_owned(), SUMS_SIG.to_owned()];
    let listed = manifest["files"].as_array().into_iter().flatten().map(|f| &f["file"]);
    for name in listed.chain(manifest["other_files"].as_array().into_iter().flatten()) {
        let name = name.as_str().unwrap_or_default();
        if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
            return Err(not_replaced(dir, &format!("its manifest lists {name:?}, which is not a file name")));
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

/// `snap`'s verification; a failure refuses the export unless `--allow-unverified`.
fn checked(snap: &Snapshot, args: &ExportArgs, ui: &mut Ui) -> Result<crate::store::Verification, CliError> {
    let checks = snap.verify()?;
    if let Some(problem) = checks.problem() {
        if !args.allow_unverified {
            return Err(CliError::bad_input(format!("{}: {problem}; not exported", args.snapshot.display()))
                .with_hint("evidence is exported only from a snapshot that verifies; --allow-unverified exports it anyway and says so in the manifest"));
        }
        ui.note(&format!("warning: {}: {problem}; exported anyway (--allow-unverified)", args.snapshot.display()));
    }
    Ok(checks)
}

/// `export --lake DIR`: appends the snapshot to the lake.
fn lake(args: &ExportArgs, lake: &Path, ui: &mut Ui) -> Result<u8, CliError> {
    if args.signing.signing_key.is_some() {
        ui.note(
            "note: a lake has no bundle to sign; the snapshots table records each snapshot's own seal and signature",
        );
    }
    let snap = Snapshot::open(&args.snapshot)?;
    let checks = checked(&snap, args, ui)?;
    let show = ui.wants_progress();
    let appended = crate::analyze::lake::append(&snap, lake, &checks, &crate::clock::now().to_string(), |table| {
        if show {
            ui.note(&format!("exporting {table}"));
        }
    })?;
    let what = format!(
        "snapshot {} of tenant {} (collected {})",
        appended.snapshot_id.get(..12).unwrap_or_default(),
        appended.tenant_id,
        appended.collected_date
    );
    if appended.files.is_empty() {
        ui.note(&format!("{what} is in the lake {} already; nothing written", lake.display()));
    } else {
        let rows: usize = appended.files.iter().map(|f| f.rows).sum();
        ui.note(&format!(
            "appended {what} to the lake {}: {} files, {rows} rows",
            lake.display(),
            appended.files.len()
        ));
    }
    Ok(exit_code::SUCCESS)
}

pub(super) fn run(args: &ExportArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let dir = match (&args.output, &args.lake) {
        (_, Some(l)) => return lake(args, l, ui),
        (Some(dir), None) => dir,
        (None, None) => return Err(CliError::usage("give -o DIR for a bundle, or --lake DIR")),
    };
    let key = args.signing.load()?;
    let snap = Snapshot::open(&args.snapshot)?;
    let target = check_target(dir, args.force)?;
    let checks = checked(&snap, args, ui)?;
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // A new, unique staging directory beside the target; dropped (and removed) on every error path.
    let prefix = format!(".{name}.");
    let mut staging = tempfile::Builder::new();
    staging.prefix(&prefix).suffix(".partial");
    // Like a directory made with `mkdir` (the user's umask applies), not a private temporary one: the bundle is
    // evidence meant to be shared.
    #[cfg(unix)]
    staging.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o777));
    let staging = staging.tempdir_in(parent).map_err(|e| write_error(dir, e))?;
    let writing = crate::store::exclusive::writing(staging.path());
    let manifest = write_bundle(&snap, &checks, staging.path(), args, key.as_ref(), ui)?;
    if let Target::Replace(files) = target {
        for f in &files {
            std::fs::remove_file(f).map_err(|e| write_error(f, e))?;
        }
        std::fs::remove_dir(dir).map_err(|e| write_error(dir, e))?;
    }
    std::fs::rename(staging.path(), dir).map_err(|e| write_error(dir, e))?;
    let _ = staging.keep();
    drop(writing);
    let rows: usize = manifest.files.iter().map(|f| f.rows).sum();
    ui.note(&format!(
        "exported {} files ({} rows), manifest.json and {SUMS}{} to {}; snapshot fingerprint {}; check with \
         `sha256sum -c {SUMS}` in the bundle",
        manifest.files.len() + manifest.other_files.len(),
        rows,
        if key.is_some() { format!(" (signed, {SUMS_SIG})") } else { String::new() },
        dir.display(),
        manifest.snapshot.fingerprint.as_deref().unwrap_or("missing")
    ));
    Ok(exit_code::SUCCESS)
}

/// The snapshot's file name in the bundle: its own when it is a plain name (what `sha256sum` prints unescaped),
/// else `snapshot.db`.
fn snapshot_name(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && ![SUMS, SUMS_SIG, SEAL, SEAL_SIG, "manifest.json"].contains(&name.as_str());
    if plain { name } else { "snapshot.db".to_owned() }
}

/// `SHA256SUMS`: a line `HEX  NAME` for every file in `dir`, sorted by name, as `sha256sum` writes it.
fn write_sums(dir: &Path) -> Result<String, CliError> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| write_error(dir, e))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| write_error(dir, e))?;
    names.sort();
    let mut text = String::new();
    for name in names.iter().filter(|n| *n != SUMS && *n != SUMS_SIG) {
        let path = dir.join(name);
        let sha = crate::analyze::export::sha256_file(&path).map_err(|e| write_error(&path, e))?;
        text.push_str(&format!("{sha}  {name}\n"));
    }
    crate::cli::output::write_whole(&dir.join(SUMS), text.as_bytes(), true)?;
    Ok(text)
}

fn write_bundle(
    snap: &Snapshot,
    checks: &crate::store::Verification,
    staging: &Path,
    args: &ExportArgs,
    key: Option<&crate::signing::SigningKey>,
    ui: &mut Ui,
) -> Result<Manifest, CliError> {
    let show = ui.wants_progress();
    let mut manifest = export(
        snap,
        staging,
        args.format.unwrap_or(ExportFormat::Csv),
        crate::clock::now().to_string(),
        checks,
        |table| {
            if show {
                ui.note(&format!("exporting {table}"));
            }
        },
    )?;
    manifest.allow_unverified = args.allow_unverified;
    if let Some((statement, _, signature)) = snap.stored_seal()? {
        crate::cli::output::write_whole(&staging.join(SEAL), statement.as_bytes(), true)?;
        manifest.other_files.push(SEAL.to_owned());
        if let Some(sig) = signature {
            crate::cli::output::write_whole(&staging.join(SEAL_SIG), sig.as_bytes(), true)?;
            manifest.other_files.push(SEAL_SIG.to_owned());
        }
    }
    if args.include_snapshot {
        let name = snapshot_name(&args.snapshot);
        let copy = staging.join(&name);
        std::fs::copy(&args.snapshot, &copy).map_err(|e| write_error(&copy, e))?;
        manifest.other_files.push(name);
    }
    let path = staging.join("manifest.json");
    let mut file = OutputFile::create(&path, true)?;
    write_json(&mut file, &manifest).map_err(|e| write_error(&path, e))?;
    file.commit()?;
    let sums = write_sums(staging)?;
    if let Some(key) = key {
        crate::cli::output::write_whole(&staging.join(SUMS_SIG), key.sign(sums.as_bytes())?.as_bytes(), true)?;
    }
    Ok(manifest)
}
