//! `azsnap diff OLD NEW`: drift between two snapshots, with exit codes for CI.

use std::path::PathBuf;

use crate::cli::{CliError, Ui};
use crate::report::Format;

/// Which drift makes `diff` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    None,
    Any,
    Grants,
    Privileged,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The earlier snapshot (the baseline).
    pub old: PathBuf,
    /// The later snapshot.
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Exit 1 when drift of this kind exists.
    #[arg(long, value_enum, default_value = "none")]
    pub fail_on: FailOn,
    /// File of known, accepted changes to leave out (by principal, target or role).
    #[arg(long, value_name = "FILE")]
    pub ignore: Option<PathBuf>,
    /// Compare snapshots of different tenants.
    #[arg(long)]
    pub allow_tenant_mismatch: bool,
}

pub fn run(_args: &DiffArgs, _ui: &mut Ui) -> Result<u8, CliError> {
    Err(CliError::not_implemented("diff"))
}
