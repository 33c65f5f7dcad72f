//! The Azure emulator: the Entra token endpoint, Microsoft Graph and Azure Resource Manager on one loopback port,
//! serving a tenant file. Held to `api-contract.md` and Microsoft's example payloads; see `docs/emulator.md`.
//!
//! Its own crate: it builds on `azsnap-model` only, and knows nothing of snapshots, the collector or the CLI.
//!
//! Inside, each module imports only the ones listed before it (`tests/emulator/layers.rs` checks it):
//!
//! 1. Data: [`rng`], [`json`], [`builtin`], [`tenant`] (the tenant file), [`generate`] (synthetic tenants).
//! 2. Plumbing: [`http`] (transport-free requests and responses), [`odata`], [`kql`] (Resource Graph's queries),
//!    [`auth`], [`login`] (the login host's discovery documents), [`limits`], [`faults`], [`options`],
//!    [`directory`] (directory objects as Graph renders them).
//! 3. [`world`]: the served tenant with its indexes.
//! 4. The APIs: [`graph`] and [`arm`], each its shared helpers → handlers per area → a router.
//! 5. [`batch`]: Graph's `$batch`, given a function that answers one item.
//! 6. [`emulator`]: authentication → faults → throttling → routing.
//! 7. [`tls`] (the certificate for HTTPS) and [`server`]: HTTP or HTTPS on a loopback port.

// The domain types and the clock, by the names the rest of azsnap uses.
pub(crate) use azsnap_model as model;
pub(crate) use azsnap_model::clock;

mod rng;
mod json;
pub mod builtin;
pub mod tenant;
pub mod generate;
mod http;
mod odata;
mod kql;
mod auth;
mod login;
pub mod limits;
pub mod faults;
mod directory;
mod options;
mod world;
mod graph;
mod arm;
mod batch;
mod emulator;
pub mod tls;
mod server;

pub use emulator::Emulator;
pub use options::EmulatorOptions;
pub use server::{Running, start, start_tls};
pub use tenant::{License, TenantFile};
pub use tls::{TlsError, TlsIdentity};
