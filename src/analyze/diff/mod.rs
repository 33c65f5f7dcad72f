//! Drift between two snapshots of one tenant: principals, resources, role definitions and grants added, removed
//! or changed. Runs as SQL over both files (the newer one attached to the older one's read-only connection), so
//! it is as fast as SQLite's index joins and needs no memory beyond the differences.
//!
//! Grants are matched on what they mean (principal, relation, target, role, scope, state), never on assignment ids:
//! an assignment re-created under a new id is not drift. A grant that went from eligible to active (or back) is one
//! change of `state`; a changed end date, PIM type or condition is a change.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Serialize;

mod items;
mod merge;

use crate::analyze::coverage::{self, Coverage, NotCompared, OptionDiffers};
pub use crate::analyze::ignore::{Ignore, IgnoreError, RuleUse};
use crate::analyze::privileged::Privileged;
use crate::model::{GrantKey, GrantState, Relation, word_enum};
use crate::store::{Snapshot, StoreError};

word_enum! {
    /// What happened to an item between the two snapshots.
    Change {
        Added => "added",
        Removed => "removed",
        Changed => "changed",
    }
}

word_enum! {
    /// What kind of thing an item is.
    ObjectType {
        Principal => "principal",
        Resource => "resource",
        RoleDefinition => "role_definition",
        Grant => "grant",
    }
}

/// One snapshot of the pair.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotRef {
    pub path: String,
    pub tenant_id: Option<String>,
    pub finished_at: Option<String>,
    pub fingerprint: Option<String>,
}

/// Added, removed and changed counts.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
}

/// Totals, overall and per kind of object.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    /// Items that touch privileged access.
    pub privileged: u64,
    /// Items left out by `--ignore`.
    pub ignored: u64,
    /// Differences in data that is not compared (`not_compared`): left out, never drift.
    pub not_compared: u64,
    pub principals: Counts,
    pub resources: Counts,
    pub role_definitions: Counts,
    pub grants: Counts,
}

/// A field that differs.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Field {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// A grant, described for people.
#[derive(Debug, Clone, Serialize)]
pub struct GrantView {
    pub principal_id: String,
    pub principal_name: String,
    pub principal_kind: String,
    /// The principal's UPN (or application id): two principals of one name differ here.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub principal_detail: String,
    pub relation: Relation,
    pub target_id: String,
    pub target_name: String,
    /// An Azure target's path of names below its subscription (`rg-app/stdata/c1`), empty for other targets.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target_path: String,
    pub role_id: String,
    pub role_name: String,
    pub scope: String,
    pub state: GrantState,
    pub end_at: Option<String>,
}

impl GrantView {
    /// What the grant means: its key in the grants table.
    pub fn key(&self) -> GrantKey {
        GrantKey {
            principal_id: self.principal_id.clone(),
            relation: self.relation,
            target_id: self.target_id.clone(),
            role_id: self.role_id.clone(),
            scope: self.scope.clone(),
            state: self.state,
        }
    }
}

/// One difference.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub change: Change,
    pub kind: ObjectType,
    /// The object's id (for a grant: its meaning, `principal|relation|target|role|scope`).
    pub key: String,
    pub name: String,
    /// The object's own kind (`user`, `subscription`, `azure`, …; for a grant, its relation).
    pub object_kind: String,
    pub privileged: bool,
    /// The part of the collection that produced it (`groups`, `azure_role_assignments`, …).
    pub part: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<GrantView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
}

/// Everything `diff` found.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    pub summary: Summary,
    pub old: SnapshotRef,
    pub new: SnapshotRef,
    /// Parts whose data is not compared (incomplete on a side, or collected with other options), with the reason.
    pub not_compared: Vec<NotCompared>,
    /// Collection options the two snapshots differ in.
    pub options_differ: Vec<OptionDiffers>,
    /// How each ignore rule fared: applied, matched nothing, or expired.
    pub ignore_rules: Vec<RuleUse>,
    pub items: Vec<Item>,
}

impl DiffReport {
    /// Whether any grant changed.
    pub fn grants_changed(&self) -> bool {
        self.summary.grants != Counts::default()
    }
}

fn snapshot_ref(snap: &Snapshot) -> Result<SnapshotRef, StoreError> {
    let m = snap.meta()?;
    Ok(SnapshotRef {
        path: snap.path().display().to_string(),
        tenant_id: m.tenant_id,
        finished_at: m.finished_at,
        fingerprint: m.fingerprint,
    })
}

/// Compares `old` with the snapshot at `new_path` (both already checked to be of one tenant, if that matters).
pub fn diff(
    old: &Snapshot,
    new_path: &Path,
    privileged: &Privileged,
    ignore: &Ignore,
) -> Result<DiffReport, IgnoreError> {
    let new = old.attach(new_path, "new")?;
    let privileged = &privileged.with_custom_roles(old, &["main", "new"])?;
    let mut ignore = ignore.clone();
    ignore.resolve(old)?;
    let privileged_principals: HashSet<String> = privileged.groups(old, &["main", "new"])?;
    let mut items = items::object_items(old, &privileged_principals)?;
    items.extend(items::grant_items(old, new_path, privileged, &privileged_principals)?);
    let coverage = Coverage::of(old, &new)?;
    let (mut items, left_out) = compared(old, &coverage, items)?;
    let before = items.len();
    let ignore_rules = ignore.apply(&mut items, crate::clock::now().as_datetime().date_naive());
    let mut summary = summarize(&items);
    summary.not_compared = left_out.values().sum();
    summary.ignored = (before - items.len()) as u64;
    // Privileged first, then grants, then everything else; stable within.
    let rank = |i: &Item| (!i.privileged, i.kind != ObjectType::Grant);
    items.sort_by_key(rank);
    Ok(DiffReport {
        summary,
        old: snapshot_ref(old)?,
        new: snapshot_ref(&new)?,
        not_compared: coverage.report(&left_out),
        options_differ: coverage.options_differ,
        ignore_rules,
        items,
    })
}

/// Only what both snapshots know is compared: items from data a side did not (fully, or alike) collect are left out
/// and counted per part; changed fields one side did not collect are not changes. Each kept item gets its part.
fn compared(
    old: &Snapshot,
    coverage: &Coverage,
    items: Vec<Item>,
) -> Result<(Vec<Item>, BTreeMap<String, u64>), StoreError> {
    let mut left_out: BTreeMap<String, u64> = BTreeMap::new();
    let mut is_group = old
        .connection()
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM main.principals WHERE id = ?1 AND kind = 'group') \
             OR EXISTS (SELECT 1 FROM new.principals WHERE id = ?1 AND kind = 'group')",
        )
        .map_err(|e| StoreError::corrupt(old.path(), e))?;
    let mut kept = Vec::with_capacity(items.len());
    for mut item in items {
        let target_group = match &item.grant {
            Some(g) if matches!(g.relation, Relation::Member | Relation::Owner) => is_group
                .query_row([&g.target_id], |r| r.get::<_, bool>(0))
                .map_err(|e| StoreError::corrupt(old.path(), e))?,
            _ => false,
        };
        let parts: Vec<&'static str> = match (item.kind, &item.grant) {
            (ObjectType::Principal, _) => vec![coverage::principal_part(&item.object_kind)],
            (ObjectType::Resource, _) => vec![coverage::resource_part(&item.object_kind, &item.key)],
            (ObjectType::RoleDefinition, _) => coverage::role_parts(&item.object_kind).to_vec(),
            (ObjectType::Grant, Some(g)) => vec![coverage::grant_part(g.relation, g.state, target_group)],
            (ObjectType::Grant, None) => Vec::new(),
        };
        if let Some(part) = parts.iter().find(|p| coverage.left_out(p).is_some()) {
            *left_out.entry((*part).to_owned()).or_default() += 1;
            continue;
        }
        item.part = parts.first().copied().unwrap_or_default().to_owned();
        if item.change == Change::Changed
            && let Some(part) = drop_uncollected_fields(&mut item, coverage, target_group)
            && item.fields.is_empty()
        {
            *left_out.entry(part.to_owned()).or_default() += 1;
            continue;
        }
        kept.push(item);
    }
    Ok((kept, left_out))
}

/// Drops the changed fields of `item` that come from a part one side did not collect; the last such part.
fn drop_uncollected_fields(item: &mut Item, coverage: &Coverage, target_group: bool) -> Option<&'static str> {
    let from = |field: &str| match (item.kind, &item.grant) {
        (ObjectType::Principal, _) => coverage::field_part(field),
        (ObjectType::Grant, Some(g)) => coverage::grant_field_part(g.relation, g.state, target_group, field),
        _ => None,
    };
    let from: Vec<Option<&'static str>> = item.fields.iter().map(|f| from(&f.field)).collect();
    let mut from = from.into_iter();
    let mut dropped = None;
    item.fields.retain(|_| match from.next().flatten().filter(|p| coverage.left_out(p).is_some()) {
        Some(p) => {
            dropped = Some(p);
            false
        }
        None => true,
    });
    dropped
}

/// Totals of `items`, overall and per kind of object.
fn summarize(items: &[Item]) -> Summary {
    let mut summary = Summary::default();
    for i in items {
        let counts = match i.kind {
            ObjectType::Principal => &mut summary.principals,
            ObjectType::Resource => &mut summary.resources,
            ObjectType::RoleDefinition => &mut summary.role_definitions,
            ObjectType::Grant => &mut summary.grants,
        };
        let (kind, all) = match i.change {
            Change::Added => (&mut counts.added, &mut summary.added),
            Change::Removed => (&mut counts.removed, &mut summary.removed),
            Change::Changed => (&mut counts.changed, &mut summary.changed),
        };
        *kind += 1;
        *all += 1;
        if i.privileged {
            summary.privileged += 1;
        }
    }
    summary
}

/// The names in an ARM id below its subscription, skipping provider namespaces, types and the blob service
/// (`…/resourcegroups/rg-app/providers/microsoft.storage/storageaccounts/stdata/blobservices/default/containers/c1`
/// → `rg-app/stdata/c1`); empty for a subscription, a management group or a directory object.
pub fn arm_path_names(id: &str) -> String {
    let segments: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
    let Some(rg) = segments.iter().position(|s| s.eq_ignore_ascii_case("resourcegroups")) else { return String::new() };
    let mut names = Vec::new();
    let mut i = rg + 1;
    if let Some(name) = segments.get(i) {
        names.push(*name);
    }
    i += 1;
    while i < segments.len() {
        if segments[i].eq_ignore_ascii_case("providers") {
            i += 2; // the namespace
            continue;
        }
        // A type and its name; the blob service's `default` is not a name anyone gave.
        if let Some(name) = segments.get(i + 1)
            && !(segments[i].eq_ignore_ascii_case("blobservices") && name.eq_ignore_ascii_case("default"))
        {
            names.push(*name);
        }
        i += 2;
    }
    names.join("/")
}

/// Tenant ids of two snapshots, when they differ.
pub fn tenant_mismatch(old: &Snapshot, new: &Snapshot) -> Result<Option<(String, String)>, StoreError> {
    let (a, b) = (old.meta()?.tenant_id.unwrap_or_default(), new.meta()?.tenant_id.unwrap_or_default());
    Ok((a != b).then_some((a, b)))
}

/// Counts per kind, for reports that want them as a map.
pub fn by_kind(s: &Summary) -> BTreeMap<&'static str, &Counts> {
    BTreeMap::from([
        ("principals", &s.principals),
        ("resources", &s.resources),
        ("role_definitions", &s.role_definitions),
        ("grants", &s.grants),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_targets_are_named_by_their_path_below_the_subscription() {
        let c = "/subscriptions/s/resourcegroups/rg-app/providers/microsoft.storage/storageaccounts/stdata/blobservices/default/containers/c1";
        assert_eq!(arm_path_names(c), "rg-app/stdata/c1");
        assert_eq!(arm_path_names("/subscriptions/s/resourceGroups/rg-app"), "rg-app");
        assert_eq!(arm_path_names("/subscriptions/s"), "");
        assert_eq!(arm_path_names("20000000-0000-4000-8000-000000000007"), "");
    }
}
