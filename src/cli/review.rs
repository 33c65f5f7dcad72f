//! `azsnap review SNAP -o review.csv`: the access-review sheet.

use std::path::PathBuf;

use crate::cli::{CliError, Ui};

#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    pub snapshot: PathBuf,
    /// Where to write the sheet (CSV).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Limit the sheet to grants on this scope and below.
    #[arg(long)]
    pub scope: Option<String>,
    /// One row per effective grant (nested groups and inherited scopes expanded).
    #[arg(long)]
    pub effective: bool,
}

pub fn run(_args: &ReviewArgs, _ui: &mut Ui) -> Result<u8, CliError> {
    Err(CliError::not_implemented("review"))
}
