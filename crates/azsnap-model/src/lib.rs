//! azsnap's domain types: the rows a snapshot holds, the ID newtypes that keep them honest, timestamps, and the
//! clock (pinned by `AZSNAP_NOW`). No I/O here; every other azsnap crate builds on this one.

pub mod clock;

mod ids;
mod rows;
mod status;
pub mod text;
mod time;

pub use ids::{ArmId, Guid, IdError, hex, sha256_hex};
pub use rows::{
    Grant, GrantKey, GrantState, Origin, Principal, PrincipalKind, Relation, Resource, ResourceKind, RoleDefinition,
    RoleKind,
};
pub use status::{ActionStatus, Part, PartStatus, RequestStats};
pub use time::Timestamp;
