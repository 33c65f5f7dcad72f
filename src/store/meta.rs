//! The `meta` table: format version, tool version, tenant, times, options, completeness, fingerprint.

use std::fmt;
use std::str::FromStr;

use crate::model::{Guid, Timestamp};

/// Keys of the `meta` table. Documented in `docs/snapshot-format.md`.
pub(crate) mod key {
    pub(crate) const FORMAT_VERSION: &str = "format_version";
    pub(crate) const TOOL_VERSION: &str = "tool_version";
    pub(crate) const TENANT_ID: &str = "tenant_id";
    pub(crate) const TENANT_NAME: &str = "tenant_name";
    pub(crate) const CLOUD: &str = "cloud";
    pub(crate) const ENDPOINTS: &str = "endpoints";
    pub(crate) const OPTIONS: &str = "options";
    pub(crate) const STARTED_AT: &str = "started_at";
    pub(crate) const FINISHED_AT: &str = "finished_at";
    pub(crate) const COMPLETE: &str = "complete";
    pub(crate) const FINGERPRINT: &str = "fingerprint";
}

/// A snapshot format version, `major.minor`. A new major breaks readers; a new minor only adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FormatVersion {
    pub major: u32,
    pub minor: u32,
}

impl FromStr for FormatVersion {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (major, minor) = s.split_once('.').ok_or(())?;
        Ok(FormatVersion { major: major.parse().map_err(|_| ())?, minor: minor.parse().map_err(|_| ())? })
    }
}

impl fmt::Display for FormatVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// What a writer knows when it creates a snapshot. Never holds a secret.
#[derive(Debug, Clone)]
pub struct NewSnapshot {
    pub tenant_id: Guid,
    pub tenant_name: Option<String>,
    /// `public`, `usgov`, `usgov-dod`, `china`, or `custom` for an `--endpoint`.
    pub cloud: String,
    /// The login, Graph and ARM base URLs used, as a JSON object.
    pub endpoints: serde_json::Value,
    /// The collection options used, as a JSON object (never credentials).
    pub options: serde_json::Value,
    pub started_at: Timestamp,
}

/// The metadata of a finished snapshot, as a reader sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SnapshotMeta {
    pub format_version: String,
    pub tool_version: Option<String>,
    pub tenant_id: Option<String>,
    pub tenant_name: Option<String>,
    pub cloud: Option<String>,
    pub endpoints: serde_json::Value,
    pub options: serde_json::Value,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub complete: bool,
    pub fingerprint: Option<String>,
}
