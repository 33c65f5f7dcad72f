//! `azsnap unused-roles SNAP`: roles nobody holds, and assignments of disabled or inactive holders.

use std::path::PathBuf;

use crate::cli::{CliError, Ui};
use crate::report::Format;

#[derive(Debug, clap::Args)]
pub struct UnusedRolesArgs {
    pub snapshot: PathBuf,
    /// A holder with no sign-in for this many days counts as inactive (when sign-in data was collected).
    #[arg(long, default_value_t = 90, value_name = "N")]
    pub inactive_days: u32,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub fn run(_args: &UnusedRolesArgs, _ui: &mut Ui) -> Result<u8, CliError> {
    Err(CliError::not_implemented("unused-roles"))
}
