//! `azsnap mock serve` and `azsnap mock generate` as commands; the emulator's behaviour against the contract is
//! tested in its own crate (`crates/azsnap-emulator/tests`).

mod generate;
mod sdk;
mod serve;
