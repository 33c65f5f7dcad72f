//! Building plans from snapshots: revert drift, revoke unused access, apply review decisions. Pure functions of
//! their inputs (snapshots read-only, a review file, the time); nothing here touches a tenant.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::review_csv;
use super::{
    Action, Expectation, FileUsed, NotPlanned, Object, Operation, PLAN_KIND, PLAN_VERSION, Plan, PlanError,
    SnapshotUsed, Source,
};
use crate::analyze::diff::{Change, Ignore, Item, ObjectType, arm_path_names, diff};
use crate::analyze::identity::identities;
use crate::analyze::privileged::Privileged;
use crate::analyze::sql::rows;
use crate::analyze::unused::unused;
use crate::model::{GrantState, Guid, Relation, Timestamp};
use crate::store::{Snapshot, StoreError};

fn used(snap: &Snapshot, role: &str) -> Result<SnapshotUsed, PlanError> {
    let meta = snap.meta()?;
    Ok(SnapshotUsed {
        role: role.to_owned(),
        file: snap.path().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        fingerprint: meta.fingerprint.unwrap_or_default(),
        collected_at: meta.finished_at,
    })
}

fn tenant(snap: &Snapshot) -> Result<String, PlanError> {
    snap.meta()?
        .tenant_id
        .ok_or_else(|| PlanError::Input(format!("{}: the snapshot names no tenant", snap.path().display())))
}

fn empty_plan(tenant_id: String, now: Timestamp, source: Source) -> Plan {
    Plan {
        kind: PLAN_KIND.to_owned(),
        plan_version: PLAN_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: now.to_string(),
        tenant_id,
        source,
        actions: Vec::new(),
        not_planned: Vec::new(),
    }
}

/// What a grant needs to become an action.
struct GrantRef<'a> {
    principal: Object,
    relation: Relation,
    target: Object,
    role: Option<Object>,
    scope: &'a str,
    state: GrantState,
    source_id: Option<String>,
    /// Why the target cannot take this change (a dynamic or on-premises-synced group), if so.
    refusal: Option<String>,
    /// The reviewer who decided it (`from-review`).
    reviewed_by: Option<String>,
}

/// Adds the action for `g` (or a not-planned note) to `plan`, once per action id.
fn push(plan: &mut Plan, g: GrantRef<'_>, remove: bool, reason: &str, privileged: bool, what: impl FnOnce() -> String) {
    let operation = match g.refusal {
        Some(why) => Err(why),
        None => Operation::for_grant(g.relation, g.state, &g.target.kind, remove),
    };
    match operation {
        Ok(operation) => {
            let role_id = g.role.as_ref().map_or("", |r| r.id.as_str());
            let scope = matches!(g.relation, Relation::DirectoryRole | Relation::AzureRole).then(|| g.scope.to_owned());
            let id =
                Action::stable_id(operation, &g.principal.id, &g.target.id, role_id, scope.as_deref().unwrap_or(""));
            if plan.actions.iter().any(|a| a.id == id) {
                return;
            }
            plan.actions.push(Action {
                id,
                operation,
                principal: g.principal,
                target: g.target,
                role: g.role,
                scope,
                reason: reason.to_owned(),
                expects: Expectation::of(operation),
                privileged,
                assignment_id: if operation.removes() { g.source_id } else { None },
                reviewed_by: g.reviewed_by,
            });
        }
        Err(why) => plan.not_planned.push(NotPlanned { what: what(), reason: why }),
    }
}

/// The name, kind and telling detail of a directory object or resource, from `schema` (`main` or `new`) and then
/// `main`.
fn object(snap: &Snapshot, schema: &str, id: &str, fallback_name: &str) -> Result<Object, PlanError> {
    let sql = format!(
        "SELECT coalesce((SELECT coalesce(display_name, user_principal_name) FROM {schema}.principals WHERE id = ?1),
                         (SELECT coalesce(display_name, name) FROM {schema}.resources WHERE id = ?1),
                         (SELECT coalesce(display_name, user_principal_name) FROM main.principals WHERE id = ?1),
                         (SELECT coalesce(display_name, name) FROM main.resources WHERE id = ?1)) AS name,
                coalesce((SELECT kind FROM {schema}.principals WHERE id = ?1), (SELECT kind FROM {schema}.resources WHERE id = ?1),
                         (SELECT kind FROM main.principals WHERE id = ?1), (SELECT kind FROM main.resources WHERE id = ?1), 'unknown') AS kind,
                coalesce((SELECT coalesce(user_principal_name, app_id) FROM {schema}.principals WHERE id = ?1),
                         (SELECT coalesce(user_principal_name, app_id) FROM main.principals WHERE id = ?1)) AS detail"
    );
    let found = rows(snap, &sql, &[&id])?;
    let row = found.first();
    let name = row.and_then(|r| r.opt("name")).unwrap_or_else(|| fallback_name.to_owned());
    let path = arm_path_names(id);
    Ok(Object {
        id: id.to_owned(),
        name,
        kind: row.map(|r| r.text("kind")).unwrap_or_default(),
        detail: row.and_then(|r| r.opt("detail")),
        path: (!path.is_empty()).then_some(path),
    })
}

/// Why membership or ownership of group `id` cannot be changed through Graph, if so.
fn group_refusal(snap: &Snapshot, schema: &str, relation: Relation, id: &str) -> Result<Option<String>, PlanError> {
    if relation != Relation::Member {
        return Ok(None);
    }
    let sql = format!(
        "SELECT membership_rule IS NOT NULL AS dynamic, coalesce(on_premises_sync, 0) AS synced FROM {schema}.principals \
         WHERE id = ?1"
    );
    Ok(rows(snap, &sql, &[&id])?.first().and_then(|r| {
        if r.flag("dynamic") {
            Some("the group's membership is dynamic (a rule decides it)".to_owned())
        } else if r.flag("synced") {
            Some("the group is synchronized from on-premises Active Directory; change it there".to_owned())
        } else {
            None
        }
    }))
}

fn role_object(relation: Relation, id: &str, name: &str) -> Option<Object> {
    (!id.is_empty() && matches!(relation, Relation::AppRole | Relation::DirectoryRole | Relation::AzureRole)).then(
        || Object { id: id.to_owned(), name: name.to_owned(), kind: relation.to_string(), detail: None, path: None },
    )
}

/// The grant with this key in `schema` (`main` or `new`): `Some(its source assignment id, or "")` when it exists.
fn grant_source(snap: &Snapshot, schema: &str, key: [&str; 6]) -> Result<Option<String>, PlanError> {
    let sql = format!(
        "SELECT coalesce(source_id, '') AS source_id FROM {schema}.grants WHERE principal_id = ?1 AND relation = ?2 \
         AND target_id = ?3 AND role_id = ?4 AND scope = ?5 AND state = ?6"
    );
    let [a, b, c, d, e, f] = key;
    Ok(rows(snap, &sql, &[&a, &b, &c, &d, &e, &f])?.first().map(|r| r.text("source_id")))
}

/// The source assignment id of the grant with this key, if it exists and has one.
fn source_id(snap: &Snapshot, schema: &str, key: [&str; 6]) -> Result<Option<String>, PlanError> {
    Ok(grant_source(snap, schema, key)?.filter(|s| !s.is_empty()))
}

/// Why a removed grant cannot be restored: its principal (or the group it was a member or owner of) is deleted in
/// the current snapshot — absent from its directory, or known there only as an id grants name (`unresolved`).
fn gone_in_current(
    snap: &Snapshot,
    principal: &str,
    relation: Relation,
    target: &str,
) -> Result<Option<String>, PlanError> {
    let state = |id: &str| -> Result<Option<String>, PlanError> {
        let found = rows(snap, "SELECT origin FROM new.principals WHERE id = ?1", &[&id])?;
        Ok(match found.first().map(|r| r.text("origin")) {
            None => Some("is not in the current snapshot".to_owned()),
            Some(o) if o == "unresolved" => Some("is deleted in the current snapshot (only grants name it)".to_owned()),
            Some(_) => None,
        })
    };
    if let Some(why) = state(principal)? {
        return Ok(Some(format!("the principal {why}: a restore would fail")));
    }
    let group_target = matches!(relation, Relation::Member | Relation::Owner)
        && !rows(snap, "SELECT 1 FROM main.principals WHERE id = ?1 AND kind = 'group'", &[&target])?.is_empty();
    if group_target && let Some(why) = state(target)? {
        return Ok(Some(format!("the group {why}: a restore would fail")));
    }
    Ok(None)
}

/// Undo the drift from `baseline` to the snapshot at `current`: remove grants added since, restore grants removed.
pub fn revert(baseline: &Snapshot, current: &Path, ignore: &Ignore, now: Timestamp) -> Result<Plan, PlanError> {
    let privileged = Privileged::builtin();
    let report = diff(baseline, current, &privileged, ignore).map_err(|e| match e {
        crate::analyze::ignore::IgnoreError::Store(e) => PlanError::Store(e),
        rule => PlanError::Input(format!("ignore file: {rule}")),
    })?;
    let current_snap = Snapshot::open(current)?;
    let source = Source {
        command: "revert".to_owned(),
        snapshots: vec![used(baseline, "baseline")?, used(&current_snap, "current")?],
        review: None,
        options: serde_json::json!({}),
    };
    let mut plan = empty_plan(tenant(baseline)?, now, source);
    let describe = |i: &Item| match &i.grant {
        Some(g) => format!(
            "{} grant: {} ({}) {} {} on {}",
            i.change,
            g.principal_name,
            g.principal_kind,
            g.relation,
            if g.role_name.is_empty() { "-" } else { &g.role_name },
            g.target_name
        ),
        None => format!("{} {} {} ({})", i.change, i.kind, i.name, i.object_kind),
    };
    // Restorations first, so a swap never leaves a gap; then removals.
    for pass in [Change::Removed, Change::Added] {
        for item in report.items.iter().filter(|i| i.change == pass && i.kind == ObjectType::Grant) {
            let Some(g) = &item.grant else { continue };
            let remove = pass == Change::Added;
            let schema = if remove { "new" } else { "main" };
            // A restore to an object the current snapshot knows is gone would only fail.
            if !remove && let Some(gone) = gone_in_current(baseline, &g.principal_id, g.relation, &g.target_id)? {
                plan.not_planned.push(NotPlanned { what: describe(item), reason: gone });
                continue;
            }
            let key = g.key();
            let grant = GrantRef {
                principal: Object {
                    id: g.principal_id.clone(),
                    name: g.principal_name.clone(),
                    kind: g.principal_kind.clone(),
                    detail: (!g.principal_detail.is_empty()).then(|| g.principal_detail.clone()),
                    path: None,
                },
                relation: g.relation,
                target: object(baseline, schema, &g.target_id, &g.target_name)?,
                role: role_object(g.relation, &g.role_id, &g.role_name),
                scope: &g.scope,
                state: g.state,
                source_id: if remove { source_id(baseline, "new", key.columns())? } else { None },
                refusal: group_refusal(baseline, schema, g.relation, &g.target_id)?,
                reviewed_by: None,
            };
            let reason = if remove { "added since the baseline" } else { "removed since the baseline" };
            push(&mut plan, grant, remove, reason, item.privileged, || describe(item));
        }
    }
    for item in &report.items {
        if item.kind == ObjectType::Grant && item.change == Change::Changed {
            let fields: Vec<&str> = item.fields.iter().map(|f| f.field.as_str()).collect();
            plan.not_planned.push(NotPlanned {
                what: describe(item),
                reason: format!("changes of {} are not planned yet", fields.join(", ")),
            });
        } else if item.kind != ObjectType::Grant {
            plan.not_planned.push(NotPlanned {
                what: describe(item),
                reason: "plans change access, not directory objects, resources or role definitions".to_owned(),
            });
        }
    }
    Ok(plan)
}

/// Revoke directory roles, Azure roles and app roles held by disabled, deleted or inactive principals.
pub fn revoke_unused(
    snap: &Snapshot,
    inactive_days: u32,
    non_human_only: bool,
    now: Timestamp,
) -> Result<Plan, PlanError> {
    let privileged = Privileged::builtin().with_custom_roles(snap, &["main"])?;
    let privileged_groups = privileged.groups(snap, &["main"])?;
    let report = unused(snap, inactive_days, now)?;
    let humans: HashMap<String, bool> = identities(snap, &privileged)?.into_iter().map(|i| (i.id, i.human)).collect();
    let source = Source {
        command: "revoke-unused".to_owned(),
        snapshots: vec![used(snap, "snapshot")?],
        review: None,
        options: serde_json::json!({"inactive_days": inactive_days, "non_human_only": non_human_only}),
    };
    let mut plan = empty_plan(tenant(snap)?, now, source);
    for s in &report.stale_assignments {
        if non_human_only && humans.get(&s.principal_id).copied().unwrap_or(false) {
            continue;
        }
        let key = [&*s.principal_id, s.relation.as_str(), &*s.target_id, &*s.role_id, &*s.scope, s.state.as_str()];
        let grant = GrantRef {
            principal: object(snap, "main", &s.principal_id, &s.principal_name)?,
            relation: s.relation,
            target: object(snap, "main", &s.target_id, &s.target_name)?,
            role: role_object(s.relation, &s.role_id, &s.role_name),
            scope: &s.scope,
            state: s.state,
            source_id: source_id(snap, "main", key)?,
            refusal: None,
            reviewed_by: None,
        };
        let what = || format!("{} {} on {} ({})", s.principal_name, s.role_name, s.target_name, s.state);
        push(
            &mut plan,
            grant,
            true,
            &format!("holder {}", s.reason),
            privileged.grant(s.relation, &s.role_id, &s.target_id, &privileged_groups),
            what,
        );
    }
    plan.not_planned
        .extend(report.limits.iter().map(|l| NotPlanned { what: "snapshot".to_owned(), reason: l.clone() }));
    Ok(plan)
}

/// Columns of a review sheet that `from-review` needs.
const NEEDED: &[&str] =
    &["principal_id", "relation", "target_id", "role_id", "scope", "state", "decision", "snapshot_fingerprint"];

/// Revoke what a filled-in review sheet (from `azsnap review`) marks `revoke`, checked against the snapshot it
/// was made from (every row's `snapshot_fingerprint` must be that snapshot's). A row through a group
/// (`via_group_id`) revokes the membership that carries the access. The row's `comment` becomes part of the
/// action's reason, its `reviewer` the action's `reviewed_by`.
pub fn from_review(review: &Path, snap: &Snapshot, now: Timestamp) -> Result<Plan, PlanError> {
    let shown = review.display().to_string();
    let bytes = crate::files::read(review, crate::files::limit::REVIEW_SHEET)
        .map_err(|e| PlanError::Read { path: shown.clone(), detail: e.why })?;
    let bad = |detail: String| PlanError::Input(format!("{shown}: {detail}"));
    let text = std::str::from_utf8(&bytes).map_err(|_| bad("not UTF-8 text".to_owned()))?;
    let table = review_csv::parse(text).map_err(bad)?;
    let header = table.first().ok_or_else(|| bad("the sheet is empty".to_owned()))?;
    let at = |name: &str| header.iter().position(|h| h.trim() == name);
    let index = needed_columns(header).map_err(bad)?;
    let via = at("via_group_id");
    let (comment_at, reviewer_at) = (at("comment"), at("reviewer"));
    let fingerprint = snap.stored_fingerprint()?.unwrap_or_default();
    let review_used = FileUsed {
        file: review.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        sha256: crate::model::sha256_hex(&bytes),
    };
    let source = Source {
        command: "from-review".to_owned(),
        snapshots: vec![used(snap, "snapshot")?],
        review: Some(review_used),
        options: serde_json::json!({}),
    };
    let mut plan = empty_plan(tenant(snap)?, now, source);
    let privileged = Privileged::builtin().with_custom_roles(snap, &["main"])?;
    let privileged_groups = privileged.groups(snap, &["main"])?;
    let mut seen = BTreeSet::new();
    for (n, row) in table.iter().enumerate().skip(1) {
        let line = n + 1;
        if row.len() == 1 && row[0].trim().is_empty() {
            continue;
        }
        let cell = |name: &str| row.get(index[name]).map_or("", |c| c.trim());
        let made_from = cell("snapshot_fingerprint");
        if made_from != fingerprint {
            return Err(bad(format!(
                "row {line}: made from snapshot {}, not from {} ({}); make the sheet again from that snapshot",
                made_from.get(..12).unwrap_or(made_from),
                snap.path().display(),
                fingerprint.get(..12).unwrap_or(&fingerprint)
            )));
        }
        let optional = |i: Option<usize>| i.and_then(|i| row.get(i)).map(|c| c.trim()).filter(|c| !c.is_empty());
        let decision = cell("decision").to_ascii_lowercase();
        match decision.as_str() {
            "" | "keep" => continue,
            "revoke" => {}
            other => return Err(bad(format!("row {line}: decision {other:?} is not keep, revoke or empty"))),
        }
        let row_err = |m: &str| bad(format!("row {line}: {m}"));
        let principal = cell("principal_id");
        principal.parse::<Guid>().map_err(|_| row_err(&format!("principal_id {principal:?} is not a GUID")))?;
        let via_group = via.and_then(|i| row.get(i)).map_or("", |c| c.trim());
        let (relation, target, role, scope, state) = if via_group.is_empty() {
            (cell("relation"), cell("target_id"), cell("role_id"), cell("scope"), cell("state"))
        } else {
            via_group.parse::<Guid>().map_err(|_| row_err(&format!("via_group_id {via_group:?} is not a GUID")))?;
            let Some(state) = membership_state(snap, principal, via_group)? else {
                return Err(row_err("the membership it comes through is not in the snapshot"));
            };
            ("member", via_group, "", "", state.as_str())
        };
        let (Ok(relation), Ok(state)) = (relation.parse::<Relation>(), state.parse::<GrantState>()) else {
            return Err(row_err(&format!("relation {relation:?} with state {state:?} is not a grant azsnap reviews")));
        };
        if !seen.insert([relation.as_str(), principal, target, role, scope].map(str::to_owned)) {
            continue;
        }
        let key = [principal, relation.as_str(), target, role, scope, state.as_str()];
        let Some(source_id) = grant_source(snap, "main", key)? else {
            return Err(row_err(&format!(
                "no such grant in {} ({relation} {target}); was the sheet made from another snapshot?",
                snap.path().display()
            )));
        };
        let role_name = if role.is_empty() { String::new() } else { role_name(snap, key)? };
        let target_object = object(snap, "main", target, target)?;
        let mut reason = if via_group.is_empty() {
            "review decision: revoke".to_owned()
        } else {
            format!("review decision: revoke (the access comes through group {})", target_object.name)
        };
        if let Some(comment) = optional(comment_at) {
            reason.push_str(&format!(": {comment}"));
        }
        let grant = GrantRef {
            principal: object(snap, "main", principal, principal)?,
            relation,
            target: target_object,
            role: role_object(relation, role, &role_name),
            scope,
            state,
            source_id: (!source_id.is_empty()).then_some(source_id),
            refusal: group_refusal(snap, "main", relation, target)?,
            reviewed_by: optional(reviewer_at).map(str::to_owned),
        };
        let what = || format!("row {line}: {relation} of {principal} on {target}");
        push(&mut plan, grant, true, &reason, privileged.grant(relation, role, target, &privileged_groups), what);
    }
    Ok(plan)
}

/// Where each column `from-review` needs is in the sheet's header.
fn needed_columns(header: &[String]) -> Result<HashMap<&'static str, usize>, String> {
    NEEDED
        .iter()
        .map(|name| {
            let at = header.iter().position(|h| h.trim() == *name).ok_or_else(|| {
                format!("no `{name}` column (is it a sheet from `azsnap review`? a sheet made before sheets carried it must be made again)")
            })?;
            Ok((*name, at))
        })
        .collect()
}

/// The state of `principal`'s membership of `group` (active before eligible), if the snapshot has one.
fn membership_state(snap: &Snapshot, principal: &str, group: &str) -> Result<Option<GrantState>, StoreError> {
    let states = rows(
        snap,
        "SELECT state FROM grants WHERE principal_id = ?1 AND relation = 'member' AND target_id = ?2 \
         ORDER BY state LIMIT 1",
        &[&principal, &group],
    )?;
    Ok(states.first().map(|r| if r.text("state") == "active" { GrantState::Active } else { GrantState::Eligible }))
}

/// The name of the role a grant holds (its id when the snapshot has no name for it).
fn role_name(snap: &Snapshot, key: [&str; 6]) -> Result<String, StoreError> {
    let [principal, relation, target, role, scope, state] = key;
    Ok(rows(
        snap,
        "SELECT coalesce(role_name, role_id) AS role_name FROM grant_role WHERE principal_id = ?1 AND relation = ?2 \
         AND target_id = ?3 AND role_id = ?4 AND scope = ?5 AND state = ?6",
        &[&principal, &relation, &target, &role, &scope, &state],
    )?
    .first()
    .map_or_else(|| role.to_owned(), |r| r.text("role_name")))
}
