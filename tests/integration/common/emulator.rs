//! The in-process emulator and its client, shared with the emulator crate's own tests.

pub(crate) use azsnap_emulator_harness::*;
