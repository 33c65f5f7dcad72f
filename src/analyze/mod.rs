//! Offline analyses over snapshot files: pure SQL on read-only connections, no network. Results are plain data;
//! `cli` renders them.

pub mod access;
pub mod coverage;
pub mod diff;
#[cfg(feature = "export")]
pub mod export;
pub mod history;
pub mod identity;
pub mod ignore;
#[cfg(feature = "export")]
pub mod lake;
pub mod privileged;
pub mod query;
pub mod report;
pub mod review;
pub mod sql;
pub mod unused;
