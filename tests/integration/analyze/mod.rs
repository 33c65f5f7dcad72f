//! The offline analyses on collected snapshots.

mod diff;
