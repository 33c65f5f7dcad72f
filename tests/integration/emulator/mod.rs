//! The emulator against the contract: tokens, Graph, ARM, paging, errors, and Microsoft's example payloads.

mod arm;
mod conformance;
mod delta;
mod generate;
mod graph;
mod limits;
mod serve;
mod token;
mod writes;
