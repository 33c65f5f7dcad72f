//! `azsnap export` in a build without the `export` feature: the command is there, and says how to get it.

use crate::cli::{CliError, Ui};

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Whatever was given; this build cannot export it.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

pub(super) fn run(_args: &ExportArgs, _ui: &mut Ui) -> Result<u8, CliError> {
    Err(CliError::usage("this azsnap was built without the `export` feature, so it cannot write evidence bundles")
        .with_hint(
            "build it with the default features: cargo install azsnap (or cargo build without --no-default-features)",
        ))
}
