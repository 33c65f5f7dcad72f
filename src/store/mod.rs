//! The snapshot file: one SQLite database per snapshot.
//!
//! Only this module opens SQLite ([`open`]), and only the [`writer`] writes snapshots. Readers get a read-only
//! [`Snapshot`]. The schema is the append-only list of migrations in `queries/migrations/`.

mod error;
pub mod exclusive;
mod fingerprint;
mod journal;
mod meta;
mod open;
mod reader;
mod schema;
mod seal;
mod writer;

pub use error::StoreError;
pub use journal::{Attempt, Journal, RunSeal};
pub use meta::{FormatVersion, NewSnapshot, SnapshotMeta};
pub use reader::{Counts, Snapshot};
pub use seal::{SealCheck, SignatureCheck, Verification, seal_problem};
pub use writer::{Batch, Consolidate, Finished, SignIn, SnapshotWriter};

/// The snapshot format this build writes. Readers accept any minor version of the same major.
pub const FORMAT: FormatVersion = FormatVersion { major: 1, minor: 3 };

/// `PRAGMA application_id` of every snapshot ("azsn"), so other SQLite files are told apart at once.
pub const APPLICATION_ID: i32 = 0x617a_736e;
