//! `azsnap identities SNAP`: classify every principal, human or not.

use std::path::PathBuf;

use crate::cli::{CliError, Ui};
use crate::report::Format;

#[derive(Debug, clap::Args)]
pub struct IdentitiesArgs {
    pub snapshot: PathBuf,
    /// List only non-human identities, with the access they hold.
    #[arg(long)]
    pub non_human: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub fn run(_args: &IdentitiesArgs, _ui: &mut Ui) -> Result<u8, CliError> {
    Err(CliError::not_implemented("identities"))
}
