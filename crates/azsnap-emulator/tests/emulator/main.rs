//! The emulator against the contract: tokens, Graph, ARM, paging, errors, and Microsoft's example payloads.

#![expect(clippy::unwrap_used, reason = "a failed unwrap in a test helper is a test failure with a location")]

mod common {
    pub(crate) use azsnap_emulator_harness as emulator;
    pub(crate) use azsnap_emulator_harness::notice;
}

mod arm;
mod clients;
mod conformance;
mod delta;
mod graph;
mod layers;
mod limits;
mod token;
mod writes;
