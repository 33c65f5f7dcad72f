//! azsnap: offline snapshots of who can access what in an Azure tenant.
//!
//! Layers, each importing only the ones below it (see `docs/architecture.md`):
//!
//! - L0 [`model`], [`exit_code`], [`clock`]: domain types and ID newtypes, no I/O.
//! - L0 [`signing`]: Ed25519 keys and SSHSIG signatures in OpenSSH's formats.
//! - L1 [`store`]: the SQLite snapshot file (schema, writer, reader, fingerprint, seal).
//! - L4 [`report`]: rendering of tables as text, JSON or CSV.
//! - L5 [`cli`]: argument parsing, dispatch, error printing. Nothing imports it.

pub mod analyze;
pub mod apply;
pub mod azure;
pub mod cli;
pub mod clock;
pub mod collect;
pub mod exit_code;
pub mod files;
pub mod mock;
pub mod model;
pub mod plan;
pub mod report;
pub mod signing;
pub mod store;
