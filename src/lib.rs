//! azsnap: offline snapshots of who can access what in an Azure tenant.
//!
//! Layers, each importing only the ones below it (see `docs/architecture.md`):
//!
//! - L0 [`model`] (with [`clock`]; the `azsnap-model` crate), [`exit_code`]: domain types and ID newtypes, no I/O.
//! - L0 [`signing`]: Ed25519 keys and SSHSIG signatures in OpenSSH's formats.
//! - L1 [`store`]: the SQLite snapshot file (schema, writer, reader, fingerprint, seal).
//! - L4 [`report`]: rendering of tables as text, JSON or CSV.
//! - L5 [`cli`]: argument parsing, dispatch, error printing. Nothing imports it.

/// The Azure emulator (the `azsnap-emulator` crate), as `azsnap mock` serves it.
pub use azsnap_emulator as mock;
pub use azsnap_model as model;
pub use azsnap_model::clock;

pub mod analyze;
pub mod apply;
pub mod azure;
pub mod cli;
pub mod collect;
pub mod exit_code;
pub mod files;
pub mod plan;
pub mod report;
pub mod signing;
pub mod store;
