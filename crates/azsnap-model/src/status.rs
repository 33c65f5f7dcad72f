//! Collection bookkeeping: the status of each part of a snapshot, and request statistics per service.

use crate::word_enum;

word_enum! {
    /// How a part of the snapshot (users, PIM, storage, …) ended.
    PartStatus {
        /// Everything was read.
        Complete => "complete",
        /// Not read because an option asked for that (`--skip-p2`, `--skip-containers`, …).
        Skipped => "skipped",
        /// The tenant lacks the license the part needs.
        Unavailable => "unavailable",
        /// The credentials lack a permission the part needs.
        Denied => "denied",
        /// Reading failed for another reason.
        Failed => "failed",
    }
}

impl PartStatus {
    /// Whether a snapshot with a part in this state is still complete (an option or the license, not an error).
    pub fn counts_as_complete(self) -> bool {
        matches!(self, PartStatus::Complete | PartStatus::Skipped | PartStatus::Unavailable)
    }
}

/// One part of a snapshot and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub status: PartStatus,
    /// Why, for anything but `complete` (e.g. "license", "missing permission AuditLog.Read.All").
    pub detail: Option<String>,
    /// How many objects the part wrote.
    pub objects: u64,
}

impl Part {
    /// The status as one phrase: `complete`, `unavailable: license`, `denied: missing permission X`.
    pub fn describe(&self) -> String {
        match &self.detail {
            Some(d) if !d.is_empty() => format!("{}: {d}", self.status),
            _ => self.status.to_string(),
        }
    }
}

/// Request statistics for one service (`graph`, `arm`, `login`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RequestStats {
    pub service: String,
    pub requests: u64,
    pub pages: u64,
    pub throttled: u64,
    pub retried: u64,
    pub failed: u64,
    pub bytes: u64,
    /// Requests inside `$batch` requests (each `$batch` is one of `requests`).
    pub inner_requests: u64,
    /// Inner requests answered 429.
    pub inner_throttled: u64,
}
