//! The access-review sheet: one row per grant (or per effective grant), with who holds it, what kind of identity
//! that is, what it reaches, and empty `decision` and `comment` columns for the reviewer.

use serde::Serialize;

use crate::analyze::diff::arm_path_names;
use crate::analyze::identity::classify_facts;
use crate::analyze::privileged::Privileged;
use crate::analyze::sql::each_row;
use crate::model::{GrantState, Relation};
use crate::store::{Snapshot, StoreError};

/// The sheet's columns, in order. `plan from-review` reads the sheet back by these names.
pub const COLUMNS: &[&str] = &[
    "principal",
    "principal_id",
    "upn",
    "app_id",
    "class",
    "human",
    "relation",
    "target",
    "target_id",
    "role",
    "role_id",
    "scope",
    "state",
    "privileged",
    "since",
    "until",
    "last_sign_in",
    "via",
    "via_group_id",
    "holder_id",
    "decision",
    "comment",
    "reviewer",
    "snapshot_fingerprint",
];

/// The sheet's last columns: for the reviewer to fill in (`decision`, `comment`, `reviewer`), and the fingerprint of
/// the snapshot the sheet was made from, which `plan from-review` checks.
pub const REVIEW_COLUMNS: &[&str] = &["decision", "comment", "reviewer", "snapshot_fingerprint"];

/// One line of the sheet.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewRow {
    pub principal: String,
    pub principal_id: String,
    pub upn: String,
    /// The application id of a service principal, which tells namesakes apart as a UPN does for users.
    pub app_id: String,
    pub class: String,
    pub human: bool,
    pub relation: Relation,
    /// The target's name; for an Azure resource, its names from the resource group down (`rg-app/stdata/c1`).
    pub target: String,
    pub target_id: String,
    pub role: String,
    pub role_id: String,
    pub scope: String,
    pub state: GrantState,
    pub privileged: bool,
    pub since: String,
    pub until: String,
    pub last_sign_in: String,
    /// Groups the access comes through, nearest first, joined with ` → ` (effective sheets only).
    pub via: String,
    /// The nearest of those groups: removing the principal from it removes this access.
    pub via_group_id: String,
    /// Who the grant is assigned to: the principal itself, or the group it comes through.
    pub holder_id: String,
}

impl ReviewRow {
    /// The cells in [`COLUMNS`] order, with `decision`, `comment` and `reviewer` empty, and the snapshot's
    /// `fingerprint` last.
    pub fn cells(&self, fingerprint: &str) -> Vec<String> {
        let yes = |b: bool| if b { "yes" } else { "no" }.to_owned();
        vec![
            self.principal.clone(),
            self.principal_id.clone(),
            self.upn.clone(),
            self.app_id.clone(),
            self.class.clone(),
            yes(self.human),
            self.relation.to_string(),
            self.target.clone(),
            self.target_id.clone(),
            self.role.clone(),
            self.role_id.clone(),
            self.scope.clone(),
            self.state.to_string(),
            yes(self.privileged),
            self.since.clone(),
            self.until.clone(),
            self.last_sign_in.clone(),
            self.via.clone(),
            self.via_group_id.clone(),
            self.holder_id.clone(),
            String::new(),
            String::new(),
            String::new(),
            fingerprint.to_owned(),
        ]
    }
}

/// Calls `f` with each row for grants on `target` and below (all when `None`), streaming; `effective` expands
/// groups and, for an ARM target, adds the assignments inherited from above it. A row is privileged by
/// [`Privileged::grant`], as in `diff`, `plan` and `access`: membership of a group holding a privileged role is.
pub fn review<E: From<StoreError>>(
    snap: &Snapshot,
    target: Option<&str>,
    effective: bool,
    privileged: &Privileged,
    f: impl FnMut(ReviewRow) -> Result<(), E>,
) -> Result<(), E> {
    rows_of(snap, target, effective, false, privileged, f)
}

/// The effective review's privileged rows only (those [`review`] marks `privileged`, in the same order), without
/// expanding the other grants.
pub fn review_privileged<E: From<StoreError>>(
    snap: &Snapshot,
    privileged: &Privileged,
    mut f: impl FnMut(ReviewRow) -> Result<(), E>,
) -> Result<(), E> {
    rows_of(snap, None, true, true, privileged, |row| if row.privileged { f(row) } else { Ok(()) })
}

fn rows_of<E: From<StoreError>>(
    snap: &Snapshot,
    target: Option<&str>,
    effective: bool,
    only_privileged: bool,
    privileged: &Privileged,
    mut f: impl FnMut(ReviewRow) -> Result<(), E>,
) -> Result<(), E> {
    let tenant = snap.meta()?.tenant_id.unwrap_or_default();
    let privileged_groups = privileged.groups(snap, &["main"])?;
    let direct = include_str!("../../queries/analyze/review_direct.sql");
    let expanded = include_str!("../../queries/analyze/review.sql");
    let (sql, flag) = if effective { (expanded, 1) } else { (direct, 0) };
    let (roles, groups) = if only_privileged {
        let groups: Vec<&String> = privileged_groups.iter().collect();
        (Some(privileged.all_ids_json()), Some(serde_json::to_string(&groups).unwrap_or_default()))
    } else {
        (None, None)
    };
    let params: &[&dyn rusqlite::ToSql] = if effective { &[&target, &flag, &roles, &groups] } else { &[&target] };
    each_row(snap, sql, params, |r| {
        let (class, human, _) = classify_facts(r, &tenant);
        let relation: Relation = r.word("relation")?;
        let role_id = r.text("role_id");
        let target_id = r.text("target_id");
        let path = arm_path_names(&target_id);
        f(ReviewRow {
            principal_id: r.text("principal_id"),
            principal: r.text("principal"),
            upn: r.text("upn"),
            class: class.to_owned(),
            human,
            app_id: r.text("app_id"),
            privileged: privileged.grant(relation, &role_id, &target_id, &privileged_groups),
            relation,
            target: if path.is_empty() { r.text("target") } else { path },
            target_id,
            role_id,
            role: r.text("role"),
            scope: r.text("scope"),
            state: r.word("state")?,
            since: r.text("since"),
            until: r.text("until"),
            last_sign_in: r.text("last_sign_in"),
            via: r.text("via"),
            via_group_id: r.text("via_group_id"),
            holder_id: r.text("holder_id"),
        })
    })
}
