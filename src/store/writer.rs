//! The snapshot writer: batches of rows in one transaction each, then an atomic finish.
//!
//! A snapshot is written to `NAME.partial` and renamed to `NAME` by [`SnapshotWriter::finish`]. Dropping a writer
//! without finishing removes the partial file. The writer is synchronous; the collector feeds it from one thread.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, Transaction, params};

use crate::model::{Grant, Guid, Part, Principal, RequestStats, Resource, RoleDefinition, Timestamp};
use crate::store::meta::{NewSnapshot, key};
use crate::store::{StoreError, fingerprint, open};

/// Rows to write in one transaction.
///
/// Besides whole rows, a batch can carry facts about principals that arrive separately (sign-in activity, mailbox
/// purpose) and principals to leave out; those are kept aside and merged by [`SnapshotWriter::consolidate`], so they
/// may arrive before or after the rows they concern.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub principals: Vec<Principal>,
    pub resources: Vec<Resource>,
    pub role_definitions: Vec<RoleDefinition>,
    pub grants: Vec<Grant>,
    pub sign_ins: Vec<SignIn>,
    /// (user id, mailbox purpose).
    pub mailboxes: Vec<(Guid, String)>,
    /// Principals to leave out of the snapshot, with every grant they hold or are the target of.
    pub excluded: Vec<Guid>,
}

/// A user's sign-in activity, as collected apart from the user.
#[derive(Debug, Clone, PartialEq)]
pub struct SignIn {
    pub user: Guid,
    pub last: Option<Timestamp>,
    pub last_non_interactive: Option<Timestamp>,
    pub last_successful: Option<Timestamp>,
}

/// What [`SnapshotWriter::consolidate`] does besides merging.
#[derive(Debug, Clone, Copy, Default)]
pub struct Consolidate {
    /// Drop role definitions no grant uses (active or eligible, any scope).
    pub drop_unused_roles: bool,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.principals.len()
            + self.resources.len()
            + self.role_definitions.len()
            + self.grants.len()
            + self.sign_ins.len()
            + self.mailboxes.len()
            + self.excluded.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows the batch adds to the snapshot: principals, resources, role definitions and grants (sign-in times
    /// and mailbox purposes complete principals already counted; exclusions remove rows).
    pub fn rows(&self) -> usize {
        self.principals.len() + self.resources.len() + self.role_definitions.len() + self.grants.len()
    }
}

/// What [`SnapshotWriter::finish`] produced.
#[derive(Debug, Clone)]
pub struct Finished {
    pub path: PathBuf,
    pub fingerprint: String,
    pub complete: bool,
}

/// Writes one snapshot. See the module docs for the file protocol.
pub struct SnapshotWriter {
    conn: Option<Connection>,
    partial: PathBuf,
    target: PathBuf,
    finished: bool,
    /// The key the seal is signed with, if any.
    signing_key: Option<std::sync::Arc<crate::signing::SigningKey>>,
    /// The lock on the partial file, held until the snapshot is renamed into place or removed.
    _lock: (std::fs::File, crate::store::exclusive::Writing),
}

impl SnapshotWriter {
    /// Starts a snapshot that will be written to `path`. Fails if `path` exists and `overwrite` is false.
    pub fn create(path: &Path, new: &NewSnapshot, overwrite: bool) -> Result<Self, StoreError> {
        if path.is_dir() {
            return Err(StoreError::Write { path: path.to_owned(), source: std::io::Error::other("is a directory") });
        }
        if path.exists() && !overwrite {
            return Err(StoreError::Exists { path: path.to_owned() });
        }
        // Exclusive and locked: a planted link is refused, a second run to the same output is refused while this
        // one writes, and a stale partial of a killed run is replaced.
        let lock = crate::store::exclusive::create_partial(path).map_err(|e| match e {
            crate::store::exclusive::PartialError::Io { path, source } => StoreError::Write { path, source },
            other => StoreError::Partial(other),
        })?;
        let partial = crate::store::exclusive::partial_path(path);
        let mut writer = SnapshotWriter {
            conn: None,
            partial: partial.clone(),
            target: path.to_owned(),
            finished: false,
            signing_key: None,
            _lock: lock,
        };
        let conn = open::create(&partial)?;
        conn.execute_batch(include_str!("../../queries/store/staging.sql"))
            .map_err(|source| StoreError::WriteSql { path: partial.clone(), source })?;
        writer.conn = Some(conn);
        writer.set_meta(&[
            (key::TOOL_VERSION, env!("CARGO_PKG_VERSION").to_owned()),
            (key::TENANT_ID, new.tenant_id.to_string()),
            (key::CLOUD, new.cloud.clone()),
            (key::ENDPOINTS, new.endpoints.to_string()),
            (key::OPTIONS, new.options.to_string()),
            (key::STARTED_AT, new.started_at.to_string()),
            (key::COMPLETE, "false".to_owned()),
        ])?;
        if let Some(name) = &new.tenant_name {
            writer.set_meta(&[(key::TENANT_NAME, name.clone())])?;
        }
        Ok(writer)
    }

    /// Signs the seal with `key` when the snapshot is finished.
    pub fn sign_with(&mut self, key: std::sync::Arc<crate::signing::SigningKey>) {
        self.signing_key = Some(key);
    }

    /// The path of the partial file being written.
    pub fn partial_path(&self) -> &Path {
        &self.partial
    }

    /// Writes `batch` in one transaction. Rows already present (same key) are replaced.
    pub fn write(&mut self, batch: &Batch) -> Result<(), StoreError> {
        self.with_tx(|tx| {
            for p in &batch.principals {
                insert_principal(tx, p)?;
            }
            for r in &batch.resources {
                insert_resource(tx, r)?;
            }
            for d in &batch.role_definitions {
                insert_role_definition(tx, d)?;
            }
            for g in &batch.grants {
                insert_grant(tx, g)?;
            }
            for s in &batch.sign_ins {
                tx.prepare_cached("INSERT OR REPLACE INTO temp.sign_ins VALUES (?1, ?2, ?3, ?4)")?.execute(params![
                    s.user.as_str(),
                    text(&s.last),
                    text(&s.last_non_interactive),
                    text(&s.last_successful),
                ])?;
            }
            for (user, purpose) in &batch.mailboxes {
                tx.prepare_cached("INSERT OR REPLACE INTO temp.mailboxes VALUES (?1, ?2)")?
                    .execute(params![user.as_str(), purpose])?;
            }
            for id in &batch.excluded {
                tx.prepare_cached("INSERT OR IGNORE INTO temp.excluded VALUES (?1)")?.execute(params![id.as_str()])?;
            }
            Ok(())
        })
    }

    /// Merges what arrived apart (sign-ins, mailbox purposes), removes excluded principals and their grants, adds a
    /// row for every principal and Azure scope that grants name but nothing described, and optionally drops unused
    /// role definitions. Run once, after the last batch and before [`SnapshotWriter::finish`].
    pub fn consolidate(&mut self, options: Consolidate) -> Result<(), StoreError> {
        self.with_tx(|tx| {
            tx.execute_batch(include_str!("../../queries/store/consolidate.sql"))?;
            if options.drop_unused_roles {
                tx.execute_batch(include_str!("../../queries/store/drop_unused_roles.sql"))?;
            }
            Ok(())
        })
    }

    /// Records how a part of the collection ended (replacing an earlier record of the same part).
    pub fn set_part(&mut self, part: &Part) -> Result<(), StoreError> {
        self.with_tx(|tx| {
            tx.prepare_cached("INSERT OR REPLACE INTO parts (name, status, detail, objects) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![part.name, part.status.as_str(), part.detail, part.objects])?;
            Ok(())
        })
    }

    /// Records the delta link part `part` ended with (replacing an earlier one).
    pub fn set_delta_link(&mut self, part: &str, link: &str) -> Result<(), StoreError> {
        self.with_tx(|tx| {
            tx.prepare_cached("INSERT OR REPLACE INTO delta_links (part, link) VALUES (?1, ?2)")?
                .execute(params![part, link])?;
            Ok(())
        })
    }

    /// Records request statistics (replacing earlier ones for the same service).
    pub fn set_request_stats(&mut self, stats: &[RequestStats]) -> Result<(), StoreError> {
        self.with_tx(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO request_stats (service, requests, pages, throttled, retried, failed, bytes,
                    inner_requests, inner_throttled)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for s in stats {
                stmt.execute(params![
                    s.service,
                    s.requests,
                    s.pages,
                    s.throttled,
                    s.retried,
                    s.failed,
                    s.bytes,
                    s.inner_requests,
                    s.inner_throttled
                ])?;
            }
            Ok(())
        })
    }

    /// Sets the tenant's display name (known only once the organization has been read).
    pub fn set_tenant_name(&mut self, name: &str) -> Result<(), StoreError> {
        self.set_meta(&[(key::TENANT_NAME, name.to_owned())])
    }

    /// Seals the snapshot: computes the fingerprint, records completeness and the finish time, writes the seal over
    /// them (signed when [`SnapshotWriter::sign_with`] gave a key), and renames the partial file to its final name.
    /// `complete` is false for an explicitly partial snapshot.
    pub fn finish(mut self, finished_at: Timestamp, complete: bool) -> Result<Finished, StoreError> {
        let conn = self.conn.as_ref().ok_or_else(|| self.write_err(std::io::Error::other("writer is closed")))?;
        let fingerprint = fingerprint::compute(conn).map_err(|e| self.sql_err(e))?;
        self.set_meta(&[
            (key::FINISHED_AT, finished_at.to_string()),
            (key::COMPLETE, complete.to_string()),
            (key::FINGERPRINT, fingerprint.clone()),
        ])?;
        if let Some(conn) = self.conn.as_ref() {
            crate::store::seal::write(conn, &self.partial, self.signing_key.as_deref())?;
        }
        if let Some(conn) = self.conn.take() {
            conn.execute_batch("PRAGMA optimize").map_err(|e| self.sql_err(e))?;
            conn.close().map_err(|(_, e)| self.sql_err(e))?;
        }
        let sync = std::fs::File::open(&self.partial).and_then(|f| f.sync_all());
        sync.map_err(|e| self.write_err(e))?;
        std::fs::rename(&self.partial, &self.target)
            .map_err(|source| StoreError::Write { path: self.target.clone(), source })?;
        self.finished = true;
        if let Some(dir) = self.target.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Persist the rename itself; not every platform lets a directory be synced, so this is best effort.
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(Finished { path: self.target.clone(), fingerprint, complete })
    }

    fn set_meta(&mut self, pairs: &[(&str, String)]) -> Result<(), StoreError> {
        self.with_tx(|tx| {
            let mut stmt = tx.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?;
            for (k, v) in pairs {
                stmt.execute((k, v))?;
            }
            Ok(())
        })
    }

    fn with_tx(&mut self, f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<()>) -> Result<(), StoreError> {
        let partial = self.partial.clone();
        let sql_err = |source| StoreError::WriteSql { path: partial.clone(), source };
        let conn = self.conn.as_mut().ok_or_else(|| StoreError::Write {
            path: partial.clone(),
            source: std::io::Error::other("writer is closed"),
        })?;
        let tx = conn.transaction().map_err(sql_err)?;
        f(&tx).map_err(sql_err)?;
        tx.commit().map_err(sql_err)
    }

    fn sql_err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::WriteSql { path: self.partial.clone(), source }
    }

    fn write_err(&self, source: std::io::Error) -> StoreError {
        StoreError::Write { path: self.partial.clone(), source }
    }
}

impl Drop for SnapshotWriter {
    fn drop(&mut self) {
        // Unfinished: leave nothing behind that could be mistaken for a snapshot.
        if !self.finished {
            drop(self.conn.take());
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

fn text<T: ToString>(v: &Option<T>) -> Option<String> {
    v.as_ref().map(ToString::to_string)
}

fn insert_principal(tx: &Transaction<'_>, p: &Principal) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO principals (id, kind, origin, display_name, user_principal_name, mail, user_type,
            account_enabled, on_premises_sync, created_at, mailbox_purpose, last_sign_in,
            last_non_interactive_sign_in, last_successful_sign_in, security_enabled, mail_enabled, group_types,
            membership_rule, is_assignable_to_role, app_id, service_principal_type, app_owner_tenant_id,
            managed_identity_type, managed_identity_resource_id, attrs)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
            ?22, ?23, ?24, ?25)",
    )?
    .execute(params![
        p.id.as_str(),
        p.kind.as_str(),
        p.origin.as_str(),
        p.display_name,
        p.user_principal_name,
        p.mail,
        p.user_type,
        p.account_enabled,
        p.on_premises_sync,
        text(&p.created_at),
        p.mailbox_purpose,
        text(&p.last_sign_in),
        text(&p.last_non_interactive_sign_in),
        text(&p.last_successful_sign_in),
        p.security_enabled,
        p.mail_enabled,
        p.group_types,
        p.membership_rule,
        p.is_assignable_to_role,
        text(&p.app_id),
        p.service_principal_type,
        text(&p.app_owner_tenant_id),
        p.managed_identity_type,
        p.managed_identity_resource_id,
        p.attrs,
    ])?;
    Ok(())
}

fn insert_resource(tx: &Transaction<'_>, r: &Resource) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO resources (id, kind, name, display_name, parent_id, arm_id, subscription_id,
            location, state, attrs)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        r.id,
        r.kind.as_str(),
        r.name,
        r.display_name,
        r.parent_id,
        r.arm_id,
        text(&r.subscription_id),
        r.location,
        r.state,
        r.attrs,
    ])?;
    Ok(())
}

fn insert_role_definition(tx: &Transaction<'_>, d: &RoleDefinition) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO role_definitions (kind, resource_id, id, name, description, builtin, enabled,
            permissions, assignable_scopes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        d.kind.as_str(),
        d.resource_id,
        d.id.as_str(),
        d.name,
        d.description,
        d.builtin,
        d.enabled,
        d.permissions,
        d.assignable_scopes,
    ])?;
    Ok(())
}

/// Two listings of the same assignment (same meaning: the primary key) can both arrive, e.g. one inherited
/// assignment seen from two scopes, or a membership seen in the directory and again, with its end date, in PIM.
/// They are merged column by column: a value beats NULL, and of two values the smaller wins, so the result does
/// not depend on arrival order.
fn insert_grant(tx: &Transaction<'_>, g: &Grant) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO grants (principal_id, principal_type, relation, target_id, role_id, scope, state,
            assignment_type, member_type, start_at, end_at, created_at, source_id, condition)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (principal_id, relation, target_id, role_id, scope, state) DO UPDATE SET
            principal_type = coalesce(min(grants.principal_type, excluded.principal_type), grants.principal_type, excluded.principal_type),
            assignment_type = coalesce(min(grants.assignment_type, excluded.assignment_type), grants.assignment_type, excluded.assignment_type),
            member_type = coalesce(min(grants.member_type, excluded.member_type), grants.member_type, excluded.member_type),
            start_at = coalesce(min(grants.start_at, excluded.start_at), grants.start_at, excluded.start_at),
            end_at = coalesce(min(grants.end_at, excluded.end_at), grants.end_at, excluded.end_at),
            created_at = coalesce(min(grants.created_at, excluded.created_at), grants.created_at, excluded.created_at),
            source_id = coalesce(min(grants.source_id, excluded.source_id), grants.source_id, excluded.source_id),
            condition = coalesce(min(grants.condition, excluded.condition), grants.condition, excluded.condition)",
    )?
    .execute(params![
        g.principal_id.as_str(),
        g.principal_type,
        g.relation.as_str(),
        g.target_id,
        g.role_id,
        g.scope,
        g.state.as_str(),
        g.assignment_type,
        g.member_type,
        text(&g.start_at),
        text(&g.end_at),
        text(&g.created_at),
        g.source_id,
        g.condition,
    ])?;
    Ok(())
}
