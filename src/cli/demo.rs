//! `azsnap demo`: the guided offline tour on the bundled emulator tenant.

use std::path::PathBuf;

use crate::cli::{CliError, Ui};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Directory for the demo's snapshots and reports (default: a new directory under the system temp dir).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run(_args: &DemoArgs, _ui: &mut Ui) -> Result<u8, CliError> {
    Err(CliError::not_implemented("demo"))
}
