//! Drift between two snapshots of one tenant: principals, resources, role definitions and grants added, removed
//! or changed. Runs as SQL over both files (the newer one attached to the older one's read-only connection), so
//! it is as fast as SQLite's index joins and needs no memory beyond the differences.
//!
//! Grants are matched on what they mean (principal, relation, target, role, scope, state), never on assignment ids:
//! an assignment re-created under a new id is not drift. A grant that went from eligible to active (or back) is one
//! change of `state`; a changed end date, PIM type or condition is a change.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use rusqlite::types::Value as Sql;
use serde::Serialize;

use crate::analyze::coverage::{self, Coverage, NotCompared, OptionDiffers};
pub use crate::analyze::ignore::{Ignore, IgnoreError, RuleUse};
use crate::analyze::privileged::Privileged;
use crate::store::{Snapshot, StoreError};

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
    pub relation: String,
    pub target_id: String,
    pub target_name: String,
    /// An Azure target's path of names below its subscription (`rg-app/stdata/c1`), empty for other targets.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target_path: String,
    pub role_id: String,
    pub role_name: String,
    pub scope: String,
    pub state: String,
    pub end_at: Option<String>,
}

/// One difference.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// `added`, `removed` or `changed`.
    pub change: String,
    /// `principal`, `resource`, `role_definition` or `grant`.
    pub kind: String,
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

fn text(v: &Sql) -> Option<String> {
    match v {
        Sql::Null => None,
        Sql::Integer(i) => Some(i.to_string()),
        Sql::Real(f) => Some(f.to_string()),
        Sql::Text(t) => Some(t.clone()),
        Sql::Blob(_) => Some("<blob>".to_owned()),
    }
}

fn rows(snap: &Snapshot, sql: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Vec<Vec<Sql>>, StoreError> {
    let corrupt = |e| StoreError::corrupt(snap.path(), e);
    let mut stmt = snap.connection().prepare(sql).map_err(corrupt)?;
    let n = stmt.column_count();
    stmt.query_map(params, |r| (0..n).map(|i| r.get::<_, Sql>(i)).collect::<Result<Vec<_>, _>>())
        .and_then(Iterator::collect)
        .map_err(corrupt)
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

/// Fields of `principals_changed.sql`, in the order of its old/new column pairs.
const PRINCIPAL_FIELDS: &[&str] = &[
    "kind",
    "displayName",
    "userPrincipalName",
    "userType",
    "accountEnabled",
    "onPremisesSync",
    "mailboxPurpose",
    "securityEnabled",
    "groupTypes",
    "membershipRule",
    "isAssignableToRole",
    "servicePrincipalType",
    "managedIdentityType",
];
const RESOURCE_FIELDS: &[&str] = &["displayName", "parent", "state", "attributes", "-"];
const ROLE_FIELDS: &[&str] = &["name", "enabled", "permissions", "assignableScopes", "description"];
const GRANT_FIELDS: &[&str] = &["startAt", "endAt", "assignmentType", "memberType", "condition"];

/// Pairs of old/new columns starting at `from`, named by `names`, kept where they differ.
fn fields(row: &[Sql], from: usize, names: &[&str]) -> Vec<Field> {
    names
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let (old, new) = (text(&row[from + 2 * i]), text(&row[from + 2 * i + 1]));
            (old != new && *name != "-").then(|| Field { field: (*name).to_owned(), old, new })
        })
        .collect()
}

/// The compared values of a grant row from `grants_scan.sql` (`\x01` is NULL).
fn split_values(joined: &str) -> Vec<Option<String>> {
    joined.split('\0').map(|f| (f != "\u{1}").then(|| f.to_owned())).collect()
}

/// One grant difference: change, key, values, and the old values for a change.
type GrantDelta = (&'static str, String, String, Option<String>);

/// A grant table read in key order, one row at a time into reused buffers: key and values joined by NUL (NULL
/// values written as `\x01`), as bytes, so the merge allocates nothing per row.
struct Cursor<'s> {
    rows: rusqlite::Rows<'s>,
    key: Vec<u8>,
    values: Vec<u8>,
    live: bool,
}

impl Cursor<'_> {
    fn advance(&mut self) -> rusqlite::Result<()> {
        self.key.clear();
        self.values.clear();
        let Some(r) = self.rows.next()? else {
            self.live = false;
            return Ok(());
        };
        for i in 0..11 {
            let out = if i < 6 { &mut self.key } else { &mut self.values };
            if i != 0 && i != 6 {
                out.push(0);
            }
            match r.get_ref(i)? {
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => out.extend_from_slice(t),
                rusqlite::types::ValueRef::Null => out.push(1),
                rusqlite::types::ValueRef::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
                rusqlite::types::ValueRef::Real(f) => out.extend_from_slice(f.to_string().as_bytes()),
            }
        }
        self.live = true;
        Ok(())
    }

    fn take(&self) -> (String, String) {
        (String::from_utf8_lossy(&self.key).into_owned(), String::from_utf8_lossy(&self.values).into_owned())
    }
}

/// Merges the grants of one range of principal ids, `[from, to)`, from both tables read in primary-key order, in
/// one pass. SQLite orders text by bytes, as byte slices compare, and NUL sorts before every other byte, so the
/// joined keys sort as the key tuples do.
fn merge_range(conn: &rusqlite::Connection, from: &str, to: &str) -> rusqlite::Result<Vec<GrantDelta>> {
    let scan = include_str!("../../queries/diff/grants_scan.sql");
    let mut a_stmt = conn.prepare(&scan.replace("{schema}", "main"))?;
    let mut b_stmt = conn.prepare(&scan.replace("{schema}", "new"))?;
    let mut a = Cursor { rows: a_stmt.query((from, to))?, key: Vec::new(), values: Vec::new(), live: false };
    let mut b = Cursor { rows: b_stmt.query((from, to))?, key: Vec::new(), values: Vec::new(), live: false };
    a.advance()?;
    b.advance()?;
    let mut out = Vec::new();
    while a.live || b.live {
        let order = match (a.live, b.live) {
            (true, false) => std::cmp::Ordering::Less,
            (false, true) => std::cmp::Ordering::Greater,
            _ => a.key.cmp(&b.key),
        };
        match order {
            std::cmp::Ordering::Less => {
                let (k, v) = a.take();
                out.push(("removed", k, v, None));
                a.advance()?;
            }
            std::cmp::Ordering::Greater => {
                let (k, v) = b.take();
                out.push(("added", k, v, None));
                b.advance()?;
            }
            std::cmp::Ordering::Equal => {
                if a.values != b.values {
                    let (k, v) = b.take();
                    out.push(("changed", k, v, Some(a.take().1)));
                }
                a.advance()?;
                b.advance()?;
            }
        }
    }
    Ok(out)
}

/// Above every principal id (ids are ASCII; this is U+10FFFF).
const KEY_MAX: &str = "\u{10ffff}";

/// Merges both grant tables, split by principal id into one range per core (at the quantiles of the older
/// snapshot's principals), each range on its own read-only connection pair. The result is in key order.
fn merge_grants(old: &Snapshot, new_path: &Path) -> Result<Vec<GrantDelta>, StoreError> {
    let corrupt = |e| StoreError::corrupt(old.path(), e);
    let parts = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    let mut bounds = vec![String::new()];
    let quantile =
        "SELECT id FROM main.principals ORDER BY id LIMIT 1 OFFSET (SELECT count(*) FROM main.principals) * ?1 / ?2";
    for i in 1..parts {
        let id: Option<String> = old
            .connection()
            .query_row(quantile, (i as i64, parts as i64), |r| r.get(0))
            .map_or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) }, |v| Ok(Some(v)))
            .map_err(corrupt)?;
        if let Some(id) = id.filter(|id| bounds.last().is_some_and(|b| id > b)) {
            bounds.push(id);
        }
    }
    bounds.push(KEY_MAX.to_owned());
    let ranges: Vec<(String, String)> = bounds.windows(2).map(|w| (w[0].clone(), w[1].clone())).collect();
    if ranges.len() == 1 {
        return merge_range(old.connection(), &ranges[0].0, &ranges[0].1).map_err(corrupt);
    }
    let old_path = old.path();
    let results: Vec<Result<Vec<GrantDelta>, StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .iter()
            .map(|(from, to)| {
                scope.spawn(move || {
                    let snap = Snapshot::open(old_path)?;
                    snap.attach(new_path, "new")?;
                    merge_range(snap.connection(), from, to).map_err(|e| StoreError::corrupt(old_path, e))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(StoreError::Corrupt { path: old_path.to_owned(), detail: "diff worker stopped".to_owned() })
                })
            })
            .collect()
    });
    let mut out = Vec::new();
    for r in results {
        out.extend(r?);
    }
    Ok(out)
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
    let grant_privileged =
        |relation: &str, role: &str, target: &str| privileged.grant(relation, role, target, &privileged_principals);
    let mut items = Vec::new();

    for r in rows(old, include_str!("../../queries/diff/entities_added_removed.sql"), &[])? {
        let key = text(&r[2]).unwrap_or_default();
        items.push(Item {
            change: text(&r[0]).unwrap_or_default(),
            kind: text(&r[1]).unwrap_or_default(),
            privileged: privileged_principals.contains(&key),
            name: text(&r[4]).unwrap_or_default(),
            object_kind: text(&r[3]).unwrap_or_default(),
            key,
            part: String::new(),
            grant: None,
            fields: Vec::new(),
        });
    }
    for r in rows(old, include_str!("../../queries/diff/principals_changed.sql"), &[])? {
        let key = text(&r[0]).unwrap_or_default();
        items.push(Item {
            change: "changed".to_owned(),
            kind: "principal".to_owned(),
            privileged: privileged_principals.contains(&key),
            name: text(&r[1]).unwrap_or_default(),
            object_kind: text(&r[2]).unwrap_or_default(),
            key,
            part: String::new(),
            grant: None,
            fields: fields(&r, 3, PRINCIPAL_FIELDS),
        });
    }
    for r in rows(old, include_str!("../../queries/diff/resources_changed.sql"), &[])? {
        let kind = text(&r[0]).unwrap_or_default();
        let names = if kind == "resource" { RESOURCE_FIELDS } else { ROLE_FIELDS };
        items.push(Item {
            change: "changed".to_owned(),
            key: text(&r[1]).unwrap_or_default(),
            name: text(&r[2]).unwrap_or_default(),
            object_kind: text(&r[3]).unwrap_or_default(),
            kind,
            privileged: false,
            part: String::new(),
            grant: None,
            fields: fields(&r, 4, names),
        });
    }

    // Grants added, removed or changed, by merging both grant tables in key order; a removal and an addition of the
    // same grant in another state become one change of `state`.
    let mut by_meaning: HashMap<String, Vec<(String, GrantView, Vec<Field>)>> = HashMap::new();
    let mut order = Vec::new();
    let names = old
        .connection()
        .prepare_cached(include_str!("../../queries/diff/grant_names.sql"))
        .map_err(|e| StoreError::corrupt(old.path(), e))?;
    let mut names = names;
    for (change, key, values, old_values) in merge_grants(old, new_path)? {
        let k: Vec<&str> = key.split('\0').collect();
        let v = split_values(&values);
        type Names = (String, String, String, String, String);
        let (principal_name, principal_kind, target_name, role_name, principal_detail): Names = names
            .query_row((k[0], k[2], k[3], k[1]), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .map_err(|e| StoreError::corrupt(old.path(), e))?;
        let view = GrantView {
            principal_id: k[0].to_owned(),
            relation: k[1].to_owned(),
            target_id: k[2].to_owned(),
            target_path: arm_path_names(k[2]),
            principal_detail,
            role_id: k[3].to_owned(),
            scope: k[4].to_owned(),
            state: k[5].to_owned(),
            end_at: v[1].clone(),
            principal_name,
            principal_kind,
            target_name,
            role_name,
        };
        let changed_fields = match &old_values {
            Some(o) => {
                let o = split_values(o);
                GRANT_FIELDS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| o[*i] != v[*i])
                    .map(|(i, f)| Field { field: (*f).to_owned(), old: o[i].clone(), new: v[i].clone() })
                    .collect()
            }
            None => Vec::new(),
        };
        let meaning = k[..5].join("|");
        if !by_meaning.contains_key(&meaning) {
            order.push(meaning.clone());
        }
        by_meaning.entry(meaning).or_default().push((change.to_owned(), view, changed_fields));
    }
    for meaning in order {
        let entries = by_meaning.remove(&meaning).unwrap_or_default();
        let removed = entries.iter().find(|(c, _, _)| c == "removed");
        let added = entries.iter().find(|(c, _, _)| c == "added");
        let mut push = |change: &str, view: &GrantView, fields: Vec<Field>| {
            items.push(Item {
                change: change.to_owned(),
                kind: "grant".to_owned(),
                key: meaning.clone(),
                name: view.principal_name.clone(),
                object_kind: view.relation.clone(),
                privileged: grant_privileged(&view.relation, &view.role_id, &view.target_id),
                part: String::new(),
                grant: Some(view.clone()),
                fields,
            });
        };
        match (removed, added, entries.len()) {
            (Some((_, old_view, _)), Some((_, new_view, _)), 2) => {
                let mut f = vec![Field {
                    field: "state".to_owned(),
                    old: Some(old_view.state.clone()),
                    new: Some(new_view.state.clone()),
                }];
                if old_view.end_at != new_view.end_at {
                    f.push(Field {
                        field: "endAt".to_owned(),
                        old: old_view.end_at.clone(),
                        new: new_view.end_at.clone(),
                    });
                }
                push("changed", new_view, f);
            }
            _ => {
                for (change, view, fields) in entries {
                    push(&change, &view, fields);
                }
            }
        }
    }

    // Only what both snapshots know is compared: differences in data a side did not (fully, or alike) collect are
    // counted per part and left out.
    let coverage = Coverage::of(old, &new)?;
    let mut left_out: BTreeMap<String, u64> = BTreeMap::new();
    let mut is_group = old
        .connection()
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM main.principals WHERE id = ?1 AND kind = 'group') \
             OR EXISTS (SELECT 1 FROM new.principals WHERE id = ?1 AND kind = 'group')",
        )
        .map_err(|e| StoreError::corrupt(old.path(), e))?;
    let mut compared = Vec::with_capacity(items.len());
    for mut item in items {
        let target_group = match &item.grant {
            Some(g) if matches!(g.relation.as_str(), "member" | "owner") => is_group
                .query_row([&g.target_id], |r| r.get::<_, bool>(0))
                .map_err(|e| StoreError::corrupt(old.path(), e))?,
            _ => false,
        };
        let parts: Vec<&'static str> = match (item.kind.as_str(), &item.grant) {
            ("principal", _) => vec![coverage::principal_part(&item.object_kind)],
            ("resource", _) => vec![coverage::resource_part(&item.object_kind, &item.key)],
            ("role_definition", _) => coverage::role_parts(&item.object_kind).to_vec(),
            (_, Some(g)) => vec![coverage::grant_part(&g.relation, &g.state, target_group)],
            _ => Vec::new(),
        };
        if let Some(part) = parts.iter().find(|p| coverage.left_out(p).is_some()) {
            *left_out.entry((*part).to_owned()).or_default() += 1;
            continue;
        }
        item.part = parts.first().copied().unwrap_or_default().to_owned();
        // Fields one side did not collect are not changes.
        if item.change == "changed" {
            let mut dropped = None;
            let (relation, state) = item.grant.as_ref().map_or(("", ""), |g| (g.relation.as_str(), g.state.as_str()));
            let from = |field: &str| match item.kind.as_str() {
                "principal" => coverage::field_part(field),
                "grant" => coverage::grant_field_part(relation, state, target_group, field),
                _ => None,
            };
            let from: Vec<Option<&'static str>> = item.fields.iter().map(|f| from(&f.field)).collect();
            let mut from = from.into_iter();
            item.fields.retain(|_| match from.next().flatten().filter(|p| coverage.left_out(p).is_some()) {
                Some(p) => {
                    dropped = Some(p);
                    false
                }
                None => true,
            });
            if let (true, Some(p)) = (item.fields.is_empty(), dropped) {
                *left_out.entry(p.to_owned()).or_default() += 1;
                continue;
            }
        }
        compared.push(item);
    }
    drop(is_group);
    let mut items = compared;
    let mut summary = Summary { not_compared: left_out.values().sum(), ..Summary::default() };
    let before = items.len();
    let ignore_rules = ignore.apply(&mut items, crate::clock::now().as_datetime().date_naive());
    summary.ignored = (before - items.len()) as u64;
    for i in &items {
        let counts = match i.kind.as_str() {
            "principal" => &mut summary.principals,
            "resource" => &mut summary.resources,
            "role_definition" => &mut summary.role_definitions,
            _ => &mut summary.grants,
        };
        match i.change.as_str() {
            "added" => {
                counts.added += 1;
                summary.added += 1;
            }
            "removed" => {
                counts.removed += 1;
                summary.removed += 1;
            }
            _ => {
                counts.changed += 1;
                summary.changed += 1;
            }
        }
        if i.privileged {
            summary.privileged += 1;
        }
    }
    // Privileged first, then grants, then everything else; stable within.
    let rank = |i: &Item| (!i.privileged, i.kind != "grant");
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
