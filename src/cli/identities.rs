//! `azsnap identities SNAP`: classify every principal, human or not, with the evidence and the access it holds.

use std::path::PathBuf;

use crate::analyze::identity::identities;
use crate::analyze::privileged::Privileged;
use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::report::{Format, Table};
use crate::store::Snapshot;

#[derive(Debug, clap::Args)]
pub struct IdentitiesArgs {
    pub snapshot: PathBuf,
    /// List only non-human identities (mailboxes, applications, managed identities, …) that hold access,
    /// privileged first.
    #[arg(long)]
    pub non_human: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub(super) fn run(args: &IdentitiesArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let snap = Snapshot::open(&args.snapshot)?;
    let mut list = identities(&snap, &Privileged::builtin())?;
    if args.non_human {
        list.retain(|i| !i.human && i.kind != "group" && i.access > 0);
    }
    let mut t = Table::new(["name", "class", "access", "privileged", "evidence", "id"]);
    for i in &list {
        t.push([
            i.name.clone(),
            i.class.clone(),
            i.access.to_string(),
            i.privileged_access.to_string(),
            i.evidence.clone(),
            i.id.clone(),
        ]);
    }
    ui.print(args.format, &t, &list)?;
    Ok(exit_code::SUCCESS)
}
