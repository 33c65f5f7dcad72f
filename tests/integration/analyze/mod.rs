//! The offline analyses on collected snapshots.

mod diff;
mod identities;
