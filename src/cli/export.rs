//! `azsnap export SNAP -o DIR`: the audit evidence bundle.

use std::path::PathBuf;

use crate::cli::{CliError, Ui};

/// File format of the exported tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Parquet,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    pub snapshot: PathBuf,
    /// Directory to write the bundle into.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
}

pub fn run(_args: &ExportArgs, _ui: &mut Ui) -> Result<u8, CliError> {
    Err(CliError::not_implemented("export"))
}
