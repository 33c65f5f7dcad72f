//! `azsnap collect`: capture a snapshot from Graph and ARM. The options are the contract of `docs/cli.md`.

use std::path::PathBuf;

use crate::cli::{CliError, Ui};

/// National cloud whose login, Graph and ARM hosts (and token scopes) to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Cloud {
    Public,
    Usgov,
    UsgovDod,
    China,
}

#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    /// Where to write the snapshot (written as OUTPUT.partial, renamed when complete).
    #[arg(short, long, value_name = "SNAP.db")]
    pub output: PathBuf,
    /// Tenant id or verified domain [env: AZURE_TENANT_ID].
    #[arg(long)]
    pub tenant_id: Option<String>,
    /// Application (client) id [env: AZURE_CLIENT_ID].
    #[arg(long)]
    pub client_id: Option<String>,
    /// File holding the client secret (otherwise AZURE_CLIENT_SECRET; never on the command line).
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// Read every user's mailbox purpose (shared, room, equipment, …) through `$batch`.
    #[arg(long)]
    pub mailbox_settings: bool,
    /// Leave out groups synced from on-premises AD, and their memberships.
    #[arg(long)]
    pub skip_ad_groups: bool,
    /// Graph host to use, e.g. graph.microsoft.us (prefer --cloud, which moves every host together).
    #[arg(long, value_name = "DOMAIN")]
    pub graph_domain: Option<String>,
    /// National cloud.
    #[arg(long, value_enum, default_value = "public")]
    pub cloud: Cloud,
    /// Leave out role definitions that no assignment uses.
    #[arg(long)]
    pub skip_unused_roles: bool,
    /// Do not list blob containers.
    #[arg(long)]
    pub skip_containers: bool,
    /// Take principals from another snapshot (a shared identity source).
    #[arg(long, value_name = "OTHER.db")]
    pub external_identities: Option<PathBuf>,
    /// Make no PIM / Entra ID P2 calls at all.
    #[arg(long)]
    pub skip_p2: bool,
    /// One base URL for login, Graph and ARM (the emulator or a proxy; plain http only for loopback).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Requests in flight at once, per service.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub concurrency: usize,
}

pub fn run(_args: &CollectArgs, _ui: &mut Ui) -> Result<u8, CliError> {
    Err(CliError::not_implemented("collect"))
}
