//! `azsnap query SNAP NAME|FILE.sql`: named or user queries, read-only.

use std::path::PathBuf;

use crate::cli::{CliError, Ui};
use crate::report::Format;

#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    pub snapshot: Option<PathBuf>,
    /// A query name from `azsnap query --list`, or a path to a .sql file.
    pub query: Option<String>,
    /// List the named queries.
    #[arg(long)]
    pub list: bool,
    /// Bind a query parameter, `name=value` (repeatable).
    #[arg(long, value_name = "K=V")]
    pub param: Vec<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub fn run(_args: &QueryArgs, _ui: &mut Ui) -> Result<u8, CliError> {
    Err(CliError::not_implemented("query"))
}
