//! `azsnap review SNAP -o review.csv`: the access-review sheet.

use std::path::PathBuf;

use crate::analyze::access::resolve_resource;
use crate::analyze::privileged::Privileged;
use crate::analyze::review::{COLUMNS, review};
use crate::cli::access::resolved;
use crate::cli::output::{OutputFile, write_error};
use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::report::CsvOut;
use crate::store::Snapshot;

#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    pub snapshot: PathBuf,
    /// Where to write the sheet (CSV).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Limit the sheet to grants on this scope and below: an ARM id, subscription id, group or application (id or
    /// name).
    #[arg(long)]
    pub scope: Option<String>,
    /// One row per effective grant: members of (nested) groups get the group's grants, and with an ARM --scope the
    /// assignments inherited from above it are included.
    #[arg(long)]
    pub effective: bool,
    /// Only privileged grants.
    #[arg(long)]
    pub privileged: bool,
    /// Replace OUTPUT if it exists.
    #[arg(long)]
    pub force: bool,
}

pub(super) fn run(args: &ReviewArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let snap = Snapshot::open(&args.snapshot)?;
    let target = match &args.scope {
        None => None,
        Some(text) => Some(resolved("scope", text, resolve_resource(&snap, text))?.id),
    };
    let mut file = OutputFile::create(&args.output, args.force)?;
    let write_err = |e: std::io::Error| write_error(&args.output, e);
    let mut csv = CsvOut::new(&mut file);
    csv.row(COLUMNS).map_err(write_err)?;
    let (mut rows, mut privileged, mut non_human) = (0u64, 0u64, 0u64);
    let list = Privileged::builtin().with_custom_roles(&snap, &["main"])?;
    let fingerprint = snap.stored_fingerprint()?.unwrap_or_default();
    review(&snap, target.as_deref(), args.effective, &list, |row| {
        if args.privileged && !row.privileged {
            return Ok(());
        }
        rows += 1;
        privileged += u64::from(row.privileged);
        non_human += u64::from(!row.human && row.class != "group");
        csv.row(&row.cells(&fingerprint)).map_err(write_err)
    })?;
    csv.finish().map_err(write_err)?;
    file.commit()?;
    ui.note(&format!(
        "review sheet {}: {rows} rows ({privileged} privileged, {non_human} held by non-human identities); fill in \
         `decision` (keep/revoke), and `comment` and `reviewer`",
        args.output.display(),
    ));
    Ok(exit_code::SUCCESS)
}
