//! `azsnap mock serve|generate`: the Azure emulator and its synthetic tenants.

use std::path::PathBuf;

use crate::cli::{CliError, Ui};

#[derive(Debug, clap::Subcommand)]
pub enum MockCommand {
    /// Serve Graph, ARM and the token endpoint for a tenant on one local port.
    Serve(ServeArgs),
    /// Write a deterministic synthetic tenant file.
    Generate(GenerateArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Port to listen on; 0 picks a free one (printed as `listening on http://127.0.0.1:PORT`).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Tenant file to serve.
    #[arg(long, value_name = "FILE", conflicts_with = "generate")]
    pub tenant: Option<PathBuf>,
    /// Serve a generated tenant of this size preset (s, m, l, xl).
    #[arg(long, value_name = "SIZE")]
    pub generate: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Size preset: s (1k users), m (20k), l (200k), xl (1M).
    #[arg(long)]
    pub size: Option<String>,
    /// Seed for the generator; the same seed gives the same tenant.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where to write the tenant file.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

pub fn run(cmd: &MockCommand, _ui: &mut Ui) -> Result<u8, CliError> {
    match cmd {
        MockCommand::Serve(_) => Err(CliError::not_implemented("mock serve")),
        MockCommand::Generate(_) => Err(CliError::not_implemented("mock generate")),
    }
}
