//! The one integration test binary: runs the real `azsnap` executable and the library against temp files.

#![expect(clippy::unwrap_used, reason = "a failed unwrap in a test helper is a test failure with a location")]

mod common;

mod analyze;
mod apply;
mod bad_input;
mod cli;
mod collect;
mod docs;
mod emulator;
mod evidence;
mod fingerprint;
mod hostile;
mod hostile_files;
mod info;
mod layers;
mod output_safety;
mod plan;
mod verify;
mod writer;
