//! The Azure emulator: the Entra token endpoint, Microsoft Graph and Azure Resource Manager on one loopback port,
//! serving a tenant file. Held to `api-contract.md` and Microsoft's example payloads; see `docs/emulator.md`.
//!
//! Handlers work on transport-free [`http::ApiRequest`]s so HTTP, `$batch` and tests share them.
//!
//! Its own crate: it builds on `azsnap-model` only, and knows nothing of snapshots, the collector or the CLI.

// The domain types and the clock, by the names the rest of azsnap uses.
pub(crate) use azsnap_model as model;
pub(crate) use azsnap_model::clock;

pub mod arm;
pub mod auth;
pub mod batch;
pub mod builtin;
pub mod delta;
pub mod directory;
pub mod faults;
pub mod generate;
pub mod graph;
pub mod graph_roles;
pub mod graph_write;
pub mod http;
pub mod limits;
pub mod odata;
pub mod rng;
pub mod server;
pub mod state;
pub mod tenant;

pub use server::{Running, start};
pub use state::{Emulator, EmulatorOptions};
pub use tenant::{License, TenantFile};
