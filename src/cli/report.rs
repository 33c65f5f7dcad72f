//! `azsnap report SNAP.db [--baseline OLD.db] [--history DIR|FILES…] -o report.html`: the HTML evidence report.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::analyze::diff::tenant_mismatch;
use crate::analyze::report::{evidence, other_tenants};
use crate::cli::output::{OutputFile, write_error};
use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::store::{Snapshot, StoreError, Verification};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    pub snapshot: PathBuf,
    /// An older snapshot of the same tenant: the report shows the drift since it.
    #[arg(long, value_name = "OLD.db")]
    pub baseline: Option<PathBuf>,
    /// Snapshots of the same tenant (files, or directories of `*.db`): the report charts privileged holders and
    /// grants over them.
    #[arg(long, num_args = 1.., value_name = "DIR|FILE")]
    pub history: Vec<PathBuf>,
    /// The HTML file to write (one self-contained file).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
    /// Write a report of snapshots that fail `azsnap verify`; the page says so at the top.
    #[arg(long)]
    pub allow_unverified: bool,
    /// A holder with no sign-in for this many days before the collection counts as inactive.
    #[arg(long, default_value_t = 90, value_name = "N")]
    pub inactive_days: u32,
}

/// A failed verification refuses the report unless `allow`.
fn refuse_unverified(checks: &Verification, path: &Path, allow: bool, ui: &mut Ui) -> Result<(), CliError> {
    if let Some(problem) = checks.problem() {
        if !allow {
            return Err(CliError::bad_input(format!("{}: {problem}; no report written", path.display()))
                .with_hint("a report is evidence only of a snapshot that verifies; --allow-unverified writes it anyway and says so on the page"));
        }
        ui.note(&format!("warning: {}: {problem}; reported anyway (--allow-unverified)", path.display()));
    }
    Ok(())
}

/// `path`'s verification, on its own connection (it runs on another thread while the report is gathered).
fn verify(path: &Path) -> Result<Verification, StoreError> {
    Snapshot::open(path)?.verify()
}

pub(super) fn run(args: &ReportArgs, ui: &mut Ui) -> Result<u8, CliError> {
    crate::cli::output::check_new(&args.output, args.force)?;
    let snap = Snapshot::open(&args.snapshot)?;
    if let Some(old) = &args.baseline {
        let old_snap = Snapshot::open(old)?;
        if let Some((a, b)) = tenant_mismatch(&old_snap, &snap)? {
            return Err(CliError::bad_input(format!(
                "the baseline {} is of tenant {a} and {} of tenant {b}; drift compares one tenant",
                old.display(),
                args.snapshot.display()
            )));
        }
    }
    let series = if args.history.is_empty() { Vec::new() } else { crate::cli::history::series(&args.history, true)? };
    if let Some(other) = other_tenants(&snap, &series)?.into_iter().next() {
        return Err(CliError::bad_input(format!(
            "{other} is of another tenant than {}; the history charts one tenant",
            args.snapshot.display()
        )));
    }
    // The checks (a full read of each file) run beside the analyses; the report is refused, or marked, after.
    let (old_checks, e) = std::thread::scope(|s| {
        let verifying = s.spawn(|| {
            let mine = verify(&args.snapshot)?;
            let old = args.baseline.as_deref().map(verify).transpose()?;
            Ok::<_, StoreError>((mine, old))
        });
        let mut old_checks = None;
        let e = evidence(&snap, args.baseline.as_deref(), &series, args.inactive_days, || {
            let (mine, old) = verifying.join().unwrap_or_else(|_| {
                Err(StoreError::Corrupt { path: args.snapshot.clone(), detail: "verification stopped".to_owned() })
            })?;
            old_checks = old;
            Ok(mine)
        });
        (old_checks, e)
    });
    let e = e?;
    refuse_unverified(&e.checks, &args.snapshot, args.allow_unverified, ui)?;
    if let (Some(old), Some(checks)) = (&args.baseline, &old_checks) {
        refuse_unverified(checks, old, args.allow_unverified, ui)?;
    }
    let page = crate::report::page::html(&e, &crate::clock::now().to_string());
    let mut file = OutputFile::create(&args.output, args.force)?;
    file.write_all(page.as_bytes()).map_err(|e| write_error(&args.output, e))?;
    file.commit()?;
    ui.note(&format!(
        "wrote {} ({} KiB): {} privileged holders, {} parts{}{}",
        args.output.display(),
        page.len().div_ceil(1024),
        e.holders.len(),
        e.parts.len(),
        e.baseline.as_ref().map(|d| format!(", drift since {}", d.old.path)).unwrap_or_default(),
        if e.series.is_empty() { String::new() } else { format!(", {} snapshots charted", e.series.len()) },
    ));
    Ok(exit_code::SUCCESS)
}
