//! The apply journal: what happened to each action of a plan, so an interrupted apply resumes without repeating
//! what it already did.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::Connection;

use crate::store::{StoreError, open};

/// An open journal.
pub struct Journal {
    conn: Connection,
    path: std::path::PathBuf,
    /// Held for the run: a second `apply` of the same plan is refused while this one runs.
    _lock: std::fs::File,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path` and locks it for this run.
    pub fn open(path: &Path) -> Result<Journal, StoreError> {
        let conn = open::journal(path)?;
        let lock = crate::store::exclusive::try_lock(path)
            .map_err(|source| StoreError::Read { path: path.to_owned(), source })?
            .ok_or_else(|| StoreError::InUse { path: path.to_owned(), what: "apply of this plan" })?;
        Ok(Journal { conn, path: path.to_owned(), _lock: lock })
    }

    /// The recorded status and detail of each action of the plan with this hash.
    pub fn outcomes(&self, plan_sha256: &str) -> Result<HashMap<String, (String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT action_id, status, detail FROM outcomes WHERE plan_sha256 = ?1")
            .map_err(|e| StoreError::corrupt(&self.path, e))?;
        stmt.query_map([plan_sha256], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
            .and_then(Iterator::collect)
            .map_err(|e| StoreError::corrupt(&self.path, e))
    }

    /// Records (or replaces) an action's outcome, durably, before the next action starts.
    pub fn record(
        &self,
        plan_sha256: &str,
        action_id: &str,
        status: &str,
        detail: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO outcomes (plan_sha256, action_id, status, detail, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                (plan_sha256, action_id, status, detail, at),
            )
            .map(|_| ())
            .map_err(|source| StoreError::WriteSql { path: self.path.clone(), source })
    }
}
