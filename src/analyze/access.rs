//! Effective access: what one principal can reach, or who can reach one resource, with nested groups and
//! inherited Azure scopes expanded by recursive SQL. Every row carries the path that grants it.

use serde::Serialize;

use crate::analyze::privileged::Privileged;
use crate::analyze::sql::{Row, rows};
use crate::model::{GrantState, Guid, Relation};
use crate::store::{Snapshot, StoreError};

/// Something named on the command line, found in the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    pub id: String,
    pub name: String,
    pub kind: String,
    /// What tells it apart from others of its name: a user's UPN, an app's id, a resource's parent.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// Why a name did not identify exactly one object.
#[derive(Debug)]
pub enum ResolveError {
    NotFound,
    /// `total` objects match; the first few of them.
    Ambiguous {
        total: usize,
        candidates: Vec<Found>,
    },
    Store(StoreError),
}

impl From<StoreError> for ResolveError {
    fn from(e: StoreError) -> Self {
        ResolveError::Store(e)
    }
}

/// One effective grant.
#[derive(Debug, Clone, Serialize)]
pub struct Access {
    pub principal_id: String,
    pub principal: String,
    pub principal_kind: String,
    /// The principal's UPN or application id: two principals of one name differ here.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub principal_detail: String,
    pub relation: Relation,
    pub role_id: String,
    pub role: String,
    pub target_id: String,
    pub target: String,
    /// An Azure target's path of names below its subscription (`rg-app/stdata/c1`), when it has one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target_path: String,
    /// The scope of the assignment as stored (`''` when the relation has none).
    pub scope: String,
    pub state: GrantState,
    pub end_at: Option<String>,
    /// The groups the access comes through, nearest first; empty when held directly.
    pub via: Vec<String>,
    /// The object ids of those groups, in the same order.
    pub via_ids: Vec<String>,
    /// For access inherited from an Azure scope above the target: that scope's id.
    pub inherited_from: Option<String>,
    pub privileged: bool,
    /// `alice → group A → group B → Owner on sub-1 (inherited from mg-prod)`.
    pub path: String,
}

const PRINCIPAL_NAME: &str = "coalesce(display_name, user_principal_name, id) AS name";
/// The columns a candidate is shown with: id, name, kind, detail.
const PRINCIPAL_COLUMNS: &str = "id, coalesce(display_name, user_principal_name, id) AS name, kind, \
                                 coalesce(user_principal_name, app_id, '') AS detail";
const RESOURCE_COLUMNS: &str = "id, coalesce(display_name, name, id) AS name, kind, coalesce(parent_id, '') AS detail";
/// Candidates listed when a name is ambiguous.
const SHOWN: usize = 10;

fn found(rs: Vec<Row>) -> Vec<Found> {
    rs.iter()
        .map(|r| Found { id: r.text("id"), name: r.text("name"), kind: r.text("kind"), detail: r.text("detail") })
        .collect()
}

fn one(mut candidates: Vec<Found>) -> Result<Option<Found>, ResolveError> {
    candidates.dedup_by(|a, b| a.id == b.id);
    match candidates.len() {
        0 => Ok(None),
        1 => Ok(candidates.pop()),
        total => {
            candidates.truncate(SHOWN);
            Err(ResolveError::Ambiguous { total, candidates })
        }
    }
}

/// The objects of `table` whose `filter` holds for `text`: the first few, and (when there are more) how many.
fn matching(
    snap: &Snapshot,
    columns: &str,
    table: &str,
    filter: &str,
    text: &str,
) -> Result<Option<Found>, ResolveError> {
    let hits = found(rows(
        snap,
        &format!("SELECT {columns} FROM {table} WHERE {filter} ORDER BY id LIMIT {}", SHOWN + 1),
        &[&text],
    )?);
    if hits.len() <= SHOWN {
        return one(hits);
    }
    let count = rows(snap, &format!("SELECT count(DISTINCT id) AS n FROM {table} WHERE {filter}"), &[&text])?;
    let total = count.first().map_or(hits.len(), |r| r.count("n") as usize);
    let mut candidates = hits;
    candidates.truncate(SHOWN);
    Err(ResolveError::Ambiguous { total, candidates })
}

/// A principal by object id, application id, user principal name or display name (case-insensitive). An object
/// id that only appears in grants (a deleted principal) is found too.
pub fn resolve_principal(snap: &Snapshot, text: &str) -> Result<Found, ResolveError> {
    let text = text.trim();
    if let Ok(guid) = text.parse::<Guid>() {
        let id = guid.as_str();
        let by_id = rows(
            snap,
            &format!("SELECT id, {PRINCIPAL_NAME}, kind, '' AS detail FROM principals WHERE id = ?1"),
            &[&id],
        )?;
        if let Some(f) = one(found(by_id))? {
            return Ok(f);
        }
        let by_app = rows(
            snap,
            &format!("SELECT id, {PRINCIPAL_NAME}, kind, '' AS detail FROM principals WHERE app_id = ?1 ORDER BY id"),
            &[&id],
        )?;
        if let Some(f) = one(found(by_app))? {
            return Ok(f);
        }
        let in_grants = rows(snap, "SELECT 1 FROM grants WHERE principal_id = ?1 LIMIT 1", &[&id])?;
        if !in_grants.is_empty() {
            return Ok(Found {
                id: id.to_owned(),
                name: id.to_owned(),
                kind: "unknown".to_owned(),
                detail: String::new(),
            });
        }
        return Err(ResolveError::NotFound);
    }
    for column in ["user_principal_name", "display_name", "mail"] {
        let filter = format!("{column} = ?1 COLLATE NOCASE");
        if let Some(f) = matching(snap, PRINCIPAL_COLUMNS, "principals", &filter, text)? {
            return Ok(f);
        }
    }
    Err(ResolveError::NotFound)
}

/// A resource by ARM id, subscription or object id, or name: an Azure resource, the tenant, or a directory
/// object others are granted access on (a group, an application).
pub fn resolve_resource(snap: &Snapshot, text: &str) -> Result<Found, ResolveError> {
    let text = text.trim();
    let resource = format!("SELECT {RESOURCE_COLUMNS} FROM resources");
    if text.starts_with('/') {
        let id = text.trim_end_matches('/').to_ascii_lowercase();
        let id = if id.is_empty() { "/".to_owned() } else { id };
        let hit = rows(snap, &format!("{resource} WHERE id = ?1"), &[&id])?;
        if let Some(f) = one(found(hit))? {
            return Ok(f);
        }
        let in_grants = rows(snap, "SELECT 1 FROM grants WHERE target_id = ?1 LIMIT 1", &[&id])?;
        return if in_grants.is_empty() {
            Err(ResolveError::NotFound)
        } else {
            Ok(Found { name: id.clone(), id, kind: "other".to_owned(), detail: String::new() })
        };
    }
    if let Ok(guid) = text.parse::<Guid>() {
        let id = guid.as_str();
        let subscription = format!("/subscriptions/{id}");
        let mut hits = found(rows(snap, &format!("{resource} WHERE id = ?1 OR id = ?2"), &[&id, &subscription])?);
        hits.extend(found(rows(
            snap,
            &format!("SELECT {PRINCIPAL_COLUMNS} FROM principals WHERE id = ?1 OR app_id = ?1 ORDER BY id"),
            &[&id],
        )?));
        return one(hits)?.ok_or(ResolveError::NotFound);
    }
    let by_name = "name = ?1 COLLATE NOCASE OR display_name = ?1 COLLATE NOCASE";
    if let Some(f) = matching(snap, RESOURCE_COLUMNS, "resources", by_name, text)? {
        return Ok(f);
    }
    let objects = "kind IN ('group', 'service_principal', 'managed_identity') AND display_name = ?1 COLLATE NOCASE";
    matching(snap, PRINCIPAL_COLUMNS, "principals", objects, text)?.ok_or(ResolveError::NotFound)
}

fn split_path(path: &str) -> Vec<String> {
    if path.is_empty() { Vec::new() } else { path.split(" → ").map(str::to_owned).collect() }
}

fn describe(a: &Access, inherited_name: Option<&str>) -> String {
    let mut steps = vec![a.principal.clone()];
    steps.extend(a.via.iter().cloned());
    let last = match a.relation {
        Relation::Member => format!("member of {}", a.target),
        Relation::Owner => format!("owner of {}", a.target),
        Relation::Delegated => format!("delegated {} on {}", a.role, a.target),
        Relation::AppRole | Relation::DirectoryRole | Relation::AzureRole => format!("{} on {}", a.role, a.target),
    };
    steps.push(last);
    let mut text = steps.join(" → ");
    if let Some(from) = inherited_name {
        text.push_str(&format!(" (inherited from {from})"));
    }
    if a.state == GrantState::Eligible {
        text.push_str(" [eligible]");
    }
    text
}

/// Everything `principal` can reach.
pub fn for_principal(snap: &Snapshot, principal: &Found, privileged: &Privileged) -> Result<Vec<Access>, StoreError> {
    let rs = rows(snap, include_str!("../../queries/analyze/access_principal.sql"), &[&principal.id])?;
    let privileged = &privileged.with_custom_roles(snap, &["main"])?;
    let groups = privileged.groups(snap, &["main"])?;
    rs.iter()
        .map(|r| {
            let relation: Relation = r.word("relation")?;
            let role_id = r.text("role_id");
            let target_id = r.text("target_id");
            let mut a = Access {
                principal_id: principal.id.clone(),
                principal: principal.name.clone(),
                principal_kind: principal.kind.clone(),
                principal_detail: principal.detail.clone(),
                target_path: crate::analyze::diff::arm_path_names(&target_id),
                privileged: privileged.grant(relation, &role_id, &target_id, &groups),
                role: r.text("role"),
                relation,
                role_id,
                target_id,
                target: r.text("target"),
                scope: r.text("scope"),
                state: r.word("state")?,
                end_at: r.opt("end_at"),
                via: split_path(&r.text("via")),
                // The chain of ids starts at the principal.
                via_ids: r.text("via_ids").split(' ').skip(1).map(str::to_owned).collect(),
                inherited_from: r.opt("inherited_from"),
                path: String::new(),
            };
            a.path = describe(&a, r.opt("inherited_name").as_deref());
            Ok(a)
        })
        .collect()
}

/// Everyone who can reach `resource`.
pub fn for_resource(snap: &Snapshot, resource: &Found, privileged: &Privileged) -> Result<Vec<Access>, StoreError> {
    let rs = rows(snap, include_str!("../../queries/analyze/access_resource.sql"), &[&resource.id])?;
    let privileged = &privileged.with_custom_roles(snap, &["main"])?;
    let groups = privileged.groups(snap, &["main"])?;
    rs.iter()
        .map(|r| {
            let relation: Relation = r.word("relation")?;
            let role_id = r.text("role_id");
            let inherited = r.text("depth") != "0";
            let held_at_name = r.text("held_at_name");
            let mut a = Access {
                principal_id: r.text("principal_id"),
                principal: r.text("principal"),
                principal_kind: r.text("principal_kind"),
                principal_detail: r.text("principal_detail"),
                target_path: crate::analyze::diff::arm_path_names(&resource.id),
                privileged: privileged.grant(relation, &role_id, &resource.id, &groups),
                relation,
                role_id,
                role: r.text("role"),
                inherited_from: inherited.then(|| r.text("held_at")),
                target_id: resource.id.clone(),
                target: resource.name.clone(),
                scope: r.text("scope"),
                state: r.word("state")?,
                end_at: r.opt("end_at"),
                via: split_path(&r.text("via")),
                // The chain of ids starts at the holder and ends at the principal.
                via_ids: {
                    let ids = r.text("via_ids");
                    let mut ids: Vec<String> = ids.split(' ').map(str::to_owned).collect();
                    ids.reverse();
                    ids.split_off(1)
                },
                path: String::new(),
            };
            a.path = describe(&a, inherited.then_some(held_at_name.as_str()));
            Ok(a)
        })
        .collect()
}
