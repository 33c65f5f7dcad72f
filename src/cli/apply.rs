//! `azsnap apply PLAN`: execute a plan against the live APIs.

use std::path::PathBuf;

use crate::cli::{CliError, Ui};

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    pub plan: PathBuf,
    /// Do not ask for confirmation (for CI).
    #[arg(long)]
    pub yes: bool,
    /// Read live state and say what each action would do; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Allow actions that could remove the last Global Administrator or the applying identity's own access.
    #[arg(long)]
    pub force_lockout_risk: bool,
    /// One base URL for login, Graph and ARM (the emulator or a proxy).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
}

pub fn run(_args: &ApplyArgs, _ui: &mut Ui) -> Result<u8, CliError> {
    Err(CliError::not_implemented("apply"))
}
