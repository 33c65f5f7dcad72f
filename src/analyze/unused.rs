//! Unused access: role definitions nobody holds (directory, Azure, app roles), and role assignments held by
//! principals that are disabled, gone, or inactive (when sign-in activity was collected), with what the snapshot
//! could not know.

use serde::Serialize;

use crate::analyze::sql::rows;
use crate::model::{GrantState, PartStatus, Relation};
use crate::store::{Snapshot, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct UnusedRole {
    pub kind: String,
    pub id: String,
    pub name: String,
    pub builtin: bool,
    /// For app roles, the application that defines it.
    pub application: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StaleAssignment {
    pub principal_id: String,
    pub principal_name: String,
    pub principal_kind: String,
    pub relation: Relation,
    pub role_id: String,
    pub role_name: String,
    pub target_id: String,
    pub target_name: String,
    pub scope: String,
    pub state: GrantState,
    /// `disabled`, `principal no longer exists`, `never signed in`, `inactive since …`.
    pub reason: String,
    pub last_sign_in: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnusedReport {
    pub inactive_days: u32,
    /// Custom roles first, then application roles, then (with `--builtin`) built-in ones.
    pub unused_roles: Vec<UnusedRole>,
    /// Built-in roles nobody holds that are left out of `unused_roles` (without `--builtin`).
    pub builtin_left_out: usize,
    pub stale_assignments: Vec<StaleAssignment>,
    /// What the snapshot could not know.
    pub limits: Vec<String>,
}

pub fn unused(snap: &Snapshot, inactive_days: u32, now: crate::model::Timestamp) -> Result<UnusedReport, StoreError> {
    let parts = snap.parts()?;
    let sign_ins = parts.iter().find(|p| p.name == "sign_in_activity");
    let mut limits = Vec::new();
    let have_sign_ins = match sign_ins {
        Some(p) if p.status == PartStatus::Complete => true,
        Some(p) => {
            limits.push(format!(
                "sign-in activity not collected ({}): only disabled or deleted holders are listed",
                p.describe()
            ));
            false
        }
        None => {
            limits.push("sign-in activity not collected: only disabled or deleted holders are listed".to_owned());
            false
        }
    };
    limits.push(
        "PIM activation history is not collected: eligible assignments that were never activated cannot be told apart"
            .to_owned(),
    );
    let cutoff = (now.as_datetime() - chrono::Duration::days(i64::from(inactive_days)))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let unused_roles = rows(snap, include_str!("../../queries/analyze/unused_role_definitions.sql"), &[])?
        .iter()
        .map(|r| UnusedRole {
            kind: r.text("kind"),
            id: r.text("id"),
            name: r.text("name"),
            builtin: r.flag("builtin"),
            application: (r.text("kind") == "app").then(|| r.text("application")).filter(|a| !a.is_empty()),
        })
        .collect();
    let flag = i64::from(have_sign_ins);
    let stale_assignments = rows(snap, include_str!("../../queries/analyze/stale_assignments.sql"), &[&cutoff, &flag])?
        .iter()
        .map(|r| -> Result<StaleAssignment, StoreError> {
            Ok(StaleAssignment {
                principal_id: r.text("principal_id"),
                principal_name: r.text("principal_name"),
                principal_kind: r.text("principal_kind"),
                relation: r.word("relation")?,
                role_id: r.text("role_id"),
                role_name: r.text("role_name"),
                target_id: r.text("target_id"),
                target_name: r.text("target_name"),
                scope: r.text("scope"),
                state: r.word("state")?,
                reason: r.text("reason"),
                last_sign_in: r.opt("last_sign_in"),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(UnusedReport { inactive_days, unused_roles, builtin_left_out: 0, stale_assignments, limits })
}
