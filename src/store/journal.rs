//! The apply journal: an append-only record of every attempt at every action of a plan — what, when, by whom,
//! with the service's request id — so an interrupted apply resumes without repeating what it already did, and an
//! auditor sees every run. Each run ends with a seal over all rows so far (signed with `--signing-key`).

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::model::ActionStatus;
use crate::signing::SigningKey;
use crate::store::{StoreError, open};

/// One attempt at an action, as recorded.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Attempt {
    pub seq: i64,
    pub run_id: String,
    pub plan_sha256: String,
    pub action_id: String,
    pub operation: String,
    pub status: ActionStatus,
    pub detail: String,
    pub at: String,
    pub actor_tid: Option<String>,
    pub actor_oid: Option<String>,
    pub actor_appid: Option<String>,
    pub request_id: Option<String>,
    pub host: Option<String>,
    pub approved_by: Option<String>,
    /// The reviewer who decided the action (a `from-review` plan's `reviewed_by`).
    pub reviewed_by: Option<String>,
}

/// A run's seal, checked.
#[derive(Debug, Clone, Serialize)]
pub struct RunSeal {
    pub run_id: String,
    pub last_seq: i64,
    /// Whether the rows up to `last_seq` (and the previous seal) are still what was sealed.
    pub intact: bool,
    /// The signing key, `SHA256:… (ED25519)`, when the signature checks out.
    pub signed_by: Option<String>,
    /// Why the seal or its signature does not check out.
    pub problem: Option<String>,
}

/// An open journal.
pub struct Journal {
    conn: Connection,
    path: std::path::PathBuf,
    /// Held for the run: a second `apply` of the same plan is refused while this one runs.
    _lock: std::fs::File,
}

const COLUMNS: &str = "seq, run_id, plan_sha256, action_id, operation, status, detail, at, actor_tid, actor_oid, \
                       actor_appid, request_id, host, approved_by, reviewed_by";

/// A status word read back; an unknown one is a journal azsnap did not write.
fn status(word: &str) -> rusqlite::Result<ActionStatus> {
    word.parse()
        .map_err(|e: String| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into()))
}

/// An attempt row, read by column name.
fn attempt(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attempt> {
    Ok(Attempt {
        seq: r.get("seq")?,
        run_id: r.get("run_id")?,
        plan_sha256: r.get("plan_sha256")?,
        action_id: r.get("action_id")?,
        operation: r.get("operation")?,
        status: status(r.get_ref("status")?.as_str()?)?,
        detail: r.get("detail")?,
        at: r.get("at")?,
        actor_tid: r.get("actor_tid")?,
        actor_oid: r.get("actor_oid")?,
        actor_appid: r.get("actor_appid")?,
        request_id: r.get("request_id")?,
        host: r.get("host")?,
        approved_by: r.get("approved_by")?,
        reviewed_by: r.get("reviewed_by")?,
    })
}

impl Journal {
    /// Opens (creating if needed) the journal at `path` and locks it for this run. A journal written before it was
    /// append-only (one `outcomes` row per action) has its rows moved into `attempts` once, as run `earlier`.
    pub fn open(path: &Path) -> Result<Journal, StoreError> {
        let mut conn = open::journal(path)?;
        let lock = crate::store::exclusive::try_lock(path)
            .map_err(|source| StoreError::Read { path: path.to_owned(), source })?
            .ok_or_else(|| StoreError::InUse { path: path.to_owned(), what: "apply of this plan" })?;
        let sql_err = |source| StoreError::WriteSql { path: path.to_owned(), source };
        let old: bool = conn
            .query_row("SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'outcomes'", [], |r| {
                r.get(0)
            })
            .map_err(sql_err)?;
        if old {
            let tx = conn.transaction().map_err(sql_err)?;
            tx.execute_batch(
                "INSERT INTO attempts (run_id, plan_sha256, action_id, operation, status, detail, at)
                     SELECT 'earlier', plan_sha256, action_id, '', status, detail, at FROM outcomes ORDER BY at;
                 DROP TABLE outcomes;",
            )
            .map_err(sql_err)?;
            tx.commit().map_err(sql_err)?;
        }
        Ok(Journal { conn, path: path.to_owned(), _lock: lock })
    }

    /// Opens a journal to read it (no lock, no changes).
    pub fn read(path: &Path) -> Result<Journal, StoreError> {
        if !path.is_file() {
            return Err(StoreError::NotFound { path: path.to_owned() });
        }
        let conn = open::journal(path)?;
        let lock = std::fs::File::open(path).map_err(|source| StoreError::Read { path: path.to_owned(), source })?;
        Ok(Journal { conn, path: path.to_owned(), _lock: lock })
    }

    fn corrupt(&self, e: rusqlite::Error) -> StoreError {
        StoreError::corrupt(&self.path, e)
    }

    /// The latest recorded status and detail of each action of the plan with this hash.
    pub fn outcomes(&self, plan_sha256: &str) -> Result<HashMap<String, (ActionStatus, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT action_id, status, detail FROM attempts WHERE plan_sha256 = ?1 ORDER BY seq")
            .map_err(|e| self.corrupt(e))?;
        stmt.query_map([plan_sha256], |r| {
            Ok((r.get("action_id")?, (status(r.get_ref("status")?.as_str()?)?, r.get("detail")?)))
        })
        .and_then(Iterator::collect)
        .map_err(|e| self.corrupt(e))
    }

    /// Appends an attempt, durably, before the next action starts.
    pub fn record(&self, a: &Attempt) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO attempts (run_id, plan_sha256, action_id, operation, status, detail, at, actor_tid,
                     actor_oid, actor_appid, request_id, host, approved_by, reviewed_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                rusqlite::params![
                    a.run_id,
                    a.plan_sha256,
                    a.action_id,
                    a.operation,
                    a.status.as_str(),
                    a.detail,
                    a.at,
                    a.actor_tid,
                    a.actor_oid,
                    a.actor_appid,
                    a.request_id,
                    a.host,
                    a.approved_by,
                    a.reviewed_by
                ],
            )
            .map(|_| ())
            .map_err(|source| StoreError::WriteSql { path: self.path.clone(), source })
    }

    /// Every attempt, oldest first.
    pub fn attempts(&self) -> Result<Vec<Attempt>, StoreError> {
        let mut stmt =
            self.conn.prepare(&format!("SELECT {COLUMNS} FROM attempts ORDER BY seq")).map_err(|e| self.corrupt(e))?;
        stmt.query_map([], attempt).and_then(Iterator::collect).map_err(|e| self.corrupt(e))
    }

    /// The statement sealing every attempt up to `last_seq` after the seal `previous`.
    fn statement(&self, run_id: &str, last_seq: i64, previous: Option<&str>) -> Result<String, StoreError> {
        let rows: Vec<Attempt> = self.attempts()?.into_iter().filter(|a| a.seq <= last_seq).collect();
        let lines: String = rows.iter().map(|a| serde_json::to_string(a).unwrap_or_default() + "\n").collect();
        let statement = serde_json::json!({
            "kind": "azsnap-journal-seal",
            "seal_version": 1,
            "run_id": run_id,
            "last_seq": last_seq,
            "rows": rows.len(),
            "rows_sha256": crate::model::sha256_hex(lines.as_bytes()),
            "previous": previous,
        });
        Ok(serde_json::to_string(&statement).unwrap_or_default() + "\n")
    }

    fn previous_seal(&self, before_seq: i64) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT sha256 FROM seals WHERE last_seq < ?1 ORDER BY last_seq DESC LIMIT 1",
                [before_seq],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.corrupt(e))
    }

    /// Seals the journal at the end of run `run_id`: a statement over every row so far and the previous seal, its
    /// SHA-256, and an SSHSIG with `key`. A run that recorded nothing is not sealed.
    pub fn seal(&self, run_id: &str, key: Option<&SigningKey>) -> Result<(), StoreError> {
        let last: Option<i64> = self
            .conn
            .query_row("SELECT max(seq) FROM attempts WHERE run_id = ?1", [run_id], |r| r.get(0))
            .map_err(|e| self.corrupt(e))?;
        let Some(last_seq) = last else { return Ok(()) };
        let previous = self.previous_seal(last_seq)?;
        let text = self.statement(run_id, last_seq, previous.as_deref())?;
        let write_err = |source| StoreError::WriteSql { path: self.path.clone(), source };
        let signature = crate::store::seal::sign(key, &text, &self.path)?;
        self.conn
            .execute(
                "INSERT INTO seals (run_id, last_seq, statement, sha256, signature) VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![run_id, last_seq, text, crate::model::sha256_hex(text.as_bytes()), signature],
            )
            .map(|_| ())
            .map_err(write_err)
    }

    /// Every run's seal, checked against the rows as they are now.
    pub fn check_seals(&self) -> Result<Vec<RunSeal>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT run_id, last_seq, statement, sha256, signature FROM seals ORDER BY last_seq")
            .map_err(|e| self.corrupt(e))?;
        type Row = (String, i64, String, String, Option<String>);
        let seals: Vec<Row> = stmt
            .query_map([], |r| {
                Ok((r.get("run_id")?, r.get("last_seq")?, r.get("statement")?, r.get("sha256")?, r.get("signature")?))
            })
            .and_then(Iterator::collect)
            .map_err(|e| self.corrupt(e))?;
        let mut out = Vec::new();
        for (run_id, last_seq, text, sha, signature) in seals {
            let previous = self.previous_seal(last_seq)?;
            let now = self.statement(&run_id, last_seq, previous.as_deref())?;
            let mut problem = None;
            if now != text || crate::model::sha256_hex(text.as_bytes()) != sha {
                problem =
                    Some(format!("the rows up to #{last_seq} are not the ones sealed at the end of run {run_id}"));
            }
            let signed_by = match signature.as_deref().map(|s| crate::signing::check(s, text.as_bytes())) {
                Some(Ok(signer)) => Some(signer.label()),
                Some(Err(e)) => {
                    problem.get_or_insert_with(|| format!("the signature of run {run_id} is not valid: {e}"));
                    None
                }
                None => None,
            };
            out.push(RunSeal { run_id, last_seq, intact: problem.is_none(), signed_by, problem });
        }
        Ok(out)
    }
}
