//! Domain types: the rows a snapshot holds, and the ID newtypes that keep them honest. No I/O here.

mod ids;
mod rows;
mod status;
pub mod text;
mod time;

pub use ids::{ArmId, Guid, IdError, hex, sha256_hex};
pub use rows::{
    Grant, GrantState, Origin, Principal, PrincipalKind, Relation, Resource, ResourceKind, RoleDefinition, RoleKind,
};
pub use status::{Part, PartStatus, RequestStats};
pub use time::Timestamp;
