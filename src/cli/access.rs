//! `azsnap access SNAP --principal X | --resource Y`: effective access with its paths.

use std::path::PathBuf;

use crate::cli::{CliError, Ui};
use crate::report::Format;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("subject").required(true).args(["principal", "resource"])))]
pub struct AccessArgs {
    pub snapshot: PathBuf,
    /// Object id, user principal name or display name.
    #[arg(long)]
    pub principal: Option<String>,
    /// ARM id, object id or display name.
    #[arg(long)]
    pub resource: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub fn run(_args: &AccessArgs, _ui: &mut Ui) -> Result<u8, CliError> {
    Err(CliError::not_implemented("access"))
}
