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

word_enum! {
    /// What happened to one action of a plan; stored as its word in the apply journal.
    #[derive(Default)]
    ActionStatus {
        /// Changed the tenant.
        Done => "done",
        /// Nothing to do: the live state already matched, or an earlier run did it.
        #[default]
        Skipped => "skipped",
        /// Dry run: the action would change the tenant (never journaled).
        WouldDo => "would_do",
        /// Refused by the lockout guard.
        Refused => "refused",
        /// The API refused or failed.
        Failed => "failed",
    }
}

impl ActionStatus {
    /// The status as people read it (`would do`).
    pub fn label(self) -> &'static str {
        match self {
            ActionStatus::WouldDo => "would do",
            other => other.as_str(),
        }
    }

    /// Whether a journaled attempt in this status means the action needs no new attempt.
    pub fn settled(self) -> bool {
        matches!(self, ActionStatus::Done | ActionStatus::Skipped)
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
