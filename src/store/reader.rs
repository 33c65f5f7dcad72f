//! Read-only access to a finished snapshot: metadata, parts, counts, statistics, and the checks `verify` runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

use crate::model::{Part, PartStatus, RequestStats};
use crate::store::meta::{FormatVersion, SnapshotMeta, key};
use crate::store::{StoreError, fingerprint, open};

/// An open, read-only snapshot.
pub struct Snapshot {
    conn: Connection,
    path: PathBuf,
    version: FormatVersion,
}

/// How many objects of each kind a snapshot holds. The keys are a stable interface (`info --format json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub users: u64,
    pub groups: u64,
    pub service_principals: u64,
    pub managed_identities: u64,
    pub other_principals: u64,
    pub management_groups: u64,
    pub subscriptions: u64,
    pub resource_groups: u64,
    pub storage_accounts: u64,
    pub containers: u64,
    pub user_assigned_identities: u64,
    pub other_resources: u64,
    pub role_definitions: u64,
    pub grants: u64,
    /// Grants per relation (`member`, `owner`, `directory_role`, …).
    pub grants_by_relation: BTreeMap<String, u64>,
}

impl Snapshot {
    /// Opens the snapshot at `path` read-only; see [`StoreError`] for the ways that can fail.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let (conn, version) = open::read_only(path)?;
        Ok(Snapshot { conn, path: path.to_owned(), version })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn format_version(&self) -> FormatVersion {
        self.version
    }

    /// The underlying read-only connection, for analyses that query it directly.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn corrupt(&self, e: rusqlite::Error) -> StoreError {
        StoreError::corrupt(&self.path, e)
    }

    /// The `meta` table, interpreted.
    pub fn meta(&self) -> Result<SnapshotMeta, StoreError> {
        let mut stmt = self.conn.prepare("SELECT key, value FROM meta").map_err(|e| self.corrupt(e))?;
        let map: BTreeMap<String, String> = stmt
            .query_map([], |r| Ok((r.get("key")?, r.get("value")?)))
            .and_then(Iterator::collect)
            .map_err(|e| self.corrupt(e))?;
        let json = |k: &str| map.get(k).and_then(|v| serde_json::from_str(v).ok()).unwrap_or(serde_json::Value::Null);
        Ok(SnapshotMeta {
            format_version: self.version.to_string(),
            tool_version: map.get(key::TOOL_VERSION).cloned(),
            tenant_id: map.get(key::TENANT_ID).cloned(),
            tenant_name: map.get(key::TENANT_NAME).cloned(),
            cloud: map.get(key::CLOUD).cloned(),
            endpoints: json(key::ENDPOINTS),
            options: json(key::OPTIONS),
            started_at: map.get(key::STARTED_AT).cloned(),
            finished_at: map.get(key::FINISHED_AT).cloned(),
            complete: map.get(key::COMPLETE).is_some_and(|v| v == "true"),
            fingerprint: map.get(key::FINGERPRINT).cloned(),
        })
    }

    /// How each part of the collection ended, by name.
    pub fn parts(&self) -> Result<Vec<Part>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, status, detail, objects FROM parts ORDER BY name")
            .map_err(|e| self.corrupt(e))?;
        let rows: Vec<(String, String, Option<String>, u64)> = stmt
            .query_map([], |r| Ok((r.get("name")?, r.get("status")?, r.get("detail")?, r.get("objects")?)))
            .and_then(Iterator::collect)
            .map_err(|e| self.corrupt(e))?;
        rows.into_iter()
            .map(|(name, status, detail, objects)| {
                let status: PartStatus =
                    status.parse().map_err(|detail| StoreError::Corrupt { path: self.path.clone(), detail })?;
                Ok(Part { name, status, detail, objects })
            })
            .collect()
    }

    /// Request statistics per service.
    pub fn request_stats(&self) -> Result<Vec<RequestStats>, StoreError> {
        // Format 1.0 files have no inner counts: read as 0.
        let has_inner: bool = self
            .conn
            .query_row(
                "SELECT count(*) > 0 FROM pragma_table_info('request_stats') WHERE name = 'inner_requests'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.corrupt(e))?;
        let inner =
            if has_inner { "inner_requests, inner_throttled" } else { "0 AS inner_requests, 0 AS inner_throttled" };
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT service, requests, pages, throttled, retried, failed, bytes, {inner} FROM request_stats ORDER BY service"
            ))
            .map_err(|e| self.corrupt(e))?;
        stmt.query_map([], |r| {
            Ok(RequestStats {
                service: r.get("service")?,
                requests: r.get("requests")?,
                pages: r.get("pages")?,
                throttled: r.get("throttled")?,
                retried: r.get("retried")?,
                failed: r.get("failed")?,
                bytes: r.get("bytes")?,
                inner_requests: r.get("inner_requests")?,
                inner_throttled: r.get("inner_throttled")?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| self.corrupt(e))
    }

    /// Objects per kind.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        let mut c = Counts::default();
        for (kind, n) in self.group_count("SELECT kind AS key, count(*) AS n FROM principals GROUP BY kind")? {
            match kind.as_str() {
                "user" => c.users = n,
                "group" => c.groups = n,
                "service_principal" => c.service_principals = n,
                "managed_identity" => c.managed_identities = n,
                _ => c.other_principals += n,
            }
        }
        for (kind, n) in self.group_count("SELECT kind AS key, count(*) AS n FROM resources GROUP BY kind")? {
            match kind.as_str() {
                "management_group" => c.management_groups = n,
                "subscription" => c.subscriptions = n,
                "resource_group" => c.resource_groups = n,
                "storage_account" => c.storage_accounts = n,
                "container" => c.containers = n,
                "user_assigned_identity" => c.user_assigned_identities = n,
                "tenant" => {}
                _ => c.other_resources += n,
            }
        }
        c.role_definitions = self
            .conn
            .query_row("SELECT count(*) FROM role_definitions", [], |r| r.get(0))
            .map_err(|e| self.corrupt(e))?;
        c.grants_by_relation =
            self.group_count("SELECT relation AS key, count(*) AS n FROM grants GROUP BY relation")?;
        c.grants = c.grants_by_relation.values().sum();
        Ok(c)
    }

    /// Counts by key from `sql`'s `key` and `n` columns.
    fn group_count(&self, sql: &str) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.corrupt(e))?;
        stmt.query_map([], |r| Ok((r.get("key")?, r.get("n")?)))
            .and_then(Iterator::collect)
            .map_err(|e| self.corrupt(e))
    }

    /// The fingerprint recorded when the snapshot was sealed, if it was.
    pub fn stored_fingerprint(&self) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key::FINGERPRINT], |r| r.get(0))
            .optional()
            .map_err(|e| self.corrupt(e))
    }

    /// Recomputes the fingerprint from the data rows as they are now.
    pub fn compute_fingerprint(&self) -> Result<String, StoreError> {
        fingerprint::compute(&self.conn).map_err(|e| self.corrupt(e))
    }

    /// Runs SQLite's full integrity check; an empty list means the file is sound.
    pub fn integrity_problems(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check").map_err(|e| self.corrupt(e))?;
        let lines: Vec<String> =
            stmt.query_map([], |r| r.get(0)).and_then(Iterator::collect).map_err(|e| self.corrupt(e))?;
        Ok(lines.into_iter().filter(|l| l != "ok").collect())
    }
}

impl Snapshot {
    /// Every principal, in id order.
    pub fn principals(&self) -> Result<Vec<crate::model::Principal>, StoreError> {
        use crate::model::{Principal, PrincipalKind};
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, kind, origin, display_name, user_principal_name, mail, user_type, account_enabled, on_premises_sync,
                        created_at, mailbox_purpose, security_enabled, mail_enabled, group_types, membership_rule,
                        is_assignable_to_role, app_id, service_principal_type, app_owner_tenant_id,
                        managed_identity_type, managed_identity_resource_id, attrs
                 FROM principals ORDER BY id",
            )
            .map_err(|e| self.corrupt(e))?;
        let rows = stmt
            .query_map([], |r| {
                let id: String = r.get("id")?;
                let kind: String = r.get("kind")?;
                let origin: String = r.get("origin")?;
                let parse_err = |c: usize, m: String| {
                    rusqlite::Error::FromSqlConversionFailure(c, rusqlite::types::Type::Text, m.into())
                };
                let mut p = Principal::new(
                    id.parse().map_err(|e: crate::model::IdError| parse_err(0, e.to_string()))?,
                    kind.parse::<PrincipalKind>().map_err(|e| parse_err(1, e))?,
                    origin.parse::<crate::model::Origin>().map_err(|e| parse_err(2, e))?,
                );
                p.display_name = r.get("display_name")?;
                p.user_principal_name = r.get("user_principal_name")?;
                p.mail = r.get("mail")?;
                p.user_type = r.get("user_type")?;
                p.account_enabled = r.get("account_enabled")?;
                p.on_premises_sync = r.get("on_premises_sync")?;
                p.created_at = r.get::<_, Option<String>>("created_at")?.and_then(|t| t.parse().ok());
                p.mailbox_purpose = r.get("mailbox_purpose")?;
                p.security_enabled = r.get("security_enabled")?;
                p.mail_enabled = r.get("mail_enabled")?;
                p.group_types = r.get("group_types")?;
                p.membership_rule = r.get("membership_rule")?;
                p.is_assignable_to_role = r.get("is_assignable_to_role")?;
                p.app_id = r.get::<_, Option<String>>("app_id")?.and_then(|t| t.parse().ok());
                p.service_principal_type = r.get("service_principal_type")?;
                p.app_owner_tenant_id = r.get::<_, Option<String>>("app_owner_tenant_id")?.and_then(|t| t.parse().ok());
                p.managed_identity_type = r.get("managed_identity_type")?;
                p.managed_identity_resource_id = r.get("managed_identity_resource_id")?;
                p.attrs = r.get("attrs")?;
                Ok(p)
            })
            .and_then(Iterator::collect)
            .map_err(|e| self.corrupt(e))?;
        Ok(rows)
    }

    /// Every user's sign-in activity as collected (a row per user, times absent where the service gave none).
    pub fn sign_ins(&self) -> Result<Vec<crate::store::SignIn>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, last_sign_in, last_non_interactive_sign_in, last_successful_sign_in
                 FROM principals WHERE kind = 'user' ORDER BY id",
            )
            .map_err(|e| self.corrupt(e))?;
        let time = |v: Option<String>| v.and_then(|t| t.parse().ok());
        stmt.query_map([], |r| {
            let id: String = r.get("id")?;
            Ok((id, r.get("last_sign_in")?, r.get("last_non_interactive_sign_in")?, r.get("last_successful_sign_in")?))
        })
        .and_then(Iterator::collect::<Result<Vec<(String, Option<String>, Option<String>, Option<String>)>, _>>)
        .map_err(|e| self.corrupt(e))?
        .into_iter()
        .filter_map(|(id, last, non_interactive, successful)| {
            Some(crate::store::SignIn {
                user: id.parse().ok()?,
                last: time(last),
                last_non_interactive: time(non_interactive),
                last_successful: time(successful),
            })
        })
        .map(Ok)
        .collect()
    }

    /// The delta link part `part` ended with, when the snapshot has one (format 1.3 and later).
    pub fn delta_link(&self, part: &str) -> Result<Option<String>, StoreError> {
        if self.version.minor < 3 && self.version.major == 1 {
            return Ok(None);
        }
        match self.conn.query_row("SELECT link FROM delta_links WHERE part = ?1", [part], |r| r.get(0)) {
            Ok(link) => Ok(Some(link)),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(self.corrupt(e)),
        }
    }

    /// Direct memberships and ownerships of groups (the `member` and `owner` grants whose target is a group).
    pub fn group_links(&self) -> Result<Vec<crate::model::Grant>, StoreError> {
        use crate::model::{PrincipalKind, Relation};
        self.grants_on(&[Relation::Member, Relation::Owner], &[PrincipalKind::Group])
    }

    /// Every column of the grants with one of `relations` whose target is a principal of one of `kinds`, in no
    /// particular order (no sort: the rows stream as the index gives them).
    pub fn grants_on(
        &self,
        relations: &[crate::model::Relation],
        kinds: &[crate::model::PrincipalKind],
    ) -> Result<Vec<crate::model::Grant>, StoreError> {
        let mut all = Vec::new();
        self.each_grant_on(relations, kinds, |g| all.push(g))?;
        Ok(all)
    }

    /// [`Snapshot::grants_on`], one grant at a time: memory does not grow with the snapshot.
    pub fn each_grant_on(
        &self,
        relations: &[crate::model::Relation],
        kinds: &[crate::model::PrincipalKind],
        mut each: impl FnMut(crate::model::Grant),
    ) -> Result<(), StoreError> {
        use crate::model::{Grant, GrantState, Relation};
        let list = |words: Vec<&str>| words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(", ");
        // The words are the enums' own (never input): safe to spell into the statement.
        let sql = format!(
            "SELECT g.principal_id, g.principal_type, g.relation, g.target_id, g.role_id, g.scope, g.state,
                    g.assignment_type, g.member_type, g.start_at, g.end_at, g.created_at, g.source_id, g.condition
             FROM grants g JOIN principals p ON p.id = g.target_id AND p.kind IN ({})
             WHERE g.relation IN ({})",
            list(kinds.iter().map(|k| k.as_str()).collect()),
            list(relations.iter().map(|r| r.as_str()).collect()),
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.corrupt(e))?;
        stmt.query_map([], |r| {
            let err = |c: usize, m: String| {
                rusqlite::Error::FromSqlConversionFailure(c, rusqlite::types::Type::Text, m.into())
            };
            let time = |c: &str| r.get::<_, Option<String>>(c).map(|t| t.and_then(|t| t.parse().ok()));
            let principal: String = r.get("principal_id")?;
            let relation: String = r.get("relation")?;
            let state: String = r.get("state")?;
            let mut g = Grant::new(
                principal.parse().map_err(|e: crate::model::IdError| err(0, e.to_string()))?,
                relation.parse::<Relation>().map_err(|e| err(2, e))?,
                r.get::<_, String>("target_id")?,
            );
            g.principal_type = r.get("principal_type")?;
            g.role_id = r.get("role_id")?;
            g.scope = r.get("scope")?;
            g.state = state.parse::<GrantState>().map_err(|e| err(6, e))?;
            g.assignment_type = r.get("assignment_type")?;
            g.member_type = r.get("member_type")?;
            g.start_at = time("start_at")?;
            g.end_at = time("end_at")?;
            g.created_at = time("created_at")?;
            g.source_id = r.get("source_id")?;
            g.condition = r.get("condition")?;
            Ok(g)
        })
        .and_then(|mut rows| rows.try_for_each(|g| g.map(&mut each)))
        .map_err(|e| self.corrupt(e))
    }
}

impl Snapshot {
    /// Attaches `other` (checked like any snapshot first) under `alias`, read-only like this one, so one query can
    /// read both files.
    pub fn attach(&self, other: &Path, alias: &str) -> Result<Snapshot, StoreError> {
        let checked = Snapshot::open(other)?;
        let uri = crate::store::open::immutable_uri(other)?;
        self.conn
            .execute("ATTACH DATABASE ?1 AS ?2", (uri.as_str(), alias))
            .map_err(|e| StoreError::corrupt(other, e))?;
        if alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            let sql = crate::store::open::views(alias, &format!("{alias}_grant_role"));
            self.conn.execute_batch(&sql).map_err(|e| StoreError::corrupt(other, e))?;
        }
        Ok(checked)
    }
}
