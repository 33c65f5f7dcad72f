//! `azsnap review SNAP -o review.csv`: the access-review sheet.

use std::path::PathBuf;

use crate::analyze::access::{ResolveError, resolve_resource};
use crate::analyze::privileged::Privileged;
use crate::analyze::review::{COLUMNS, review};
use crate::cli::output::OutputFile;
use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::report::Table;
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

pub fn run(args: &ReviewArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let snap = Snapshot::open(&args.snapshot)?;
    let target = match &args.scope {
        None => None,
        Some(text) => Some(match resolve_resource(&snap, text) {
            Ok(found) => found.id,
            Err(ResolveError::NotFound) => {
                return Err(CliError::usage(format!("--scope {text:?} matches nothing in the snapshot")));
            }
            Err(ResolveError::Ambiguous(list)) => {
                let ids: Vec<String> = list.iter().take(5).map(|f| format!("{} ({})", f.id, f.kind)).collect();
                return Err(CliError::usage(format!("--scope {text:?} matches {} objects; give an id", list.len()))
                    .with_hint(ids.join(", ")));
            }
            Err(ResolveError::Store(e)) => return Err(e.into()),
        }),
    };
    let mut sheet = review(&snap, target.as_deref(), args.effective, &Privileged::builtin())?;
    if args.privileged {
        sheet.retain(|r| r.privileged);
    }
    let mut table = Table::new(COLUMNS.iter().copied());
    for row in &sheet {
        table.push(row.cells());
    }
    let mut file = OutputFile::create(&args.output, args.force)?;
    table.write_csv(&mut file).map_err(|e| crate::cli::output::write_error(&args.output, e))?;
    file.commit()?;
    let privileged = sheet.iter().filter(|r| r.privileged).count();
    let non_human = sheet.iter().filter(|r| !r.human && r.class != "group").count();
    ui.note(&format!(
        "review sheet {}: {} rows ({} privileged, {} held by non-human identities); fill in `decision` (keep/revoke)",
        args.output.display(),
        sheet.len(),
        privileged,
        non_human
    ));
    Ok(exit_code::SUCCESS)
}
