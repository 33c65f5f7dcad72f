//! What the HTML evidence report shows, gathered from the other analyses: the snapshot's identity and checks, its
//! completeness, privileged holders with their paths, drift since a baseline, non-human identities with access,
//! unused roles and stale holders, and (over a series) privileged holders and grants over time.
//!
//! Everything here is data; `report::page` renders it.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use crate::analyze::access::{self, Access, Found};
use crate::analyze::diff::{DiffReport, diff};
use crate::analyze::history::{self, Filter, SnapshotInfo};
use crate::analyze::identity::{Identity, non_human_identities};
use crate::analyze::ignore::{Ignore, IgnoreError};
use crate::analyze::privileged::Privileged;
use crate::analyze::review::{ReviewRow, review_privileged};
use crate::analyze::sql::rows;
use crate::analyze::unused::{UnusedReport, unused};
use crate::model::{Part, Timestamp};
use crate::store::{Counts, Snapshot, SnapshotMeta, StoreError, Verification};

/// Principals whose access paths are drawn as graphs; the table lists every privileged holder.
pub const GRAPHS: usize = 24;

/// Rows a long table shows before it says how many more there are and which command lists them all.
pub const ROWS: usize = 500;

/// A holder of privileged access and the paths that give it (for the graph).
#[derive(Debug, Clone)]
pub struct Holder {
    pub principal_id: String,
    pub principal: String,
    pub class: String,
    pub human: bool,
    /// Privileged grants reached, directly or through groups.
    pub grants: Vec<ReviewRow>,
    /// The privileged paths as `access` finds them, for the graph (the first [`GRAPHS`] holders only).
    pub paths: Vec<Access>,
}

/// One snapshot of the series: what the history chart plots.
#[derive(Debug, Clone)]
pub struct Point {
    pub info: SnapshotInfo,
    /// Principals other than groups holding a privileged grant of their own or membership of a privileged group.
    pub privileged_holders: usize,
    pub privileged_grants: usize,
    /// Every grant in the snapshot.
    pub grants: u64,
}

/// The report's content.
#[derive(Debug)]
pub struct Evidence {
    pub file: String,
    pub meta: SnapshotMeta,
    pub checks: Verification,
    pub parts: Vec<Part>,
    pub counts: Counts,
    /// Privileged holders, people first, then by name.
    pub holders: Vec<Holder>,
    pub baseline: Option<DiffReport>,
    /// Non-human identities that hold access, most privileged access first.
    pub non_human: Vec<Identity>,
    pub unused: UnusedReport,
    /// The time inactivity is measured to: the end of the collection.
    pub as_of: Timestamp,
    pub series: Vec<Point>,
}

/// Gathers the report of `snap`: `baseline` is an older snapshot of the same tenant to show drift from; `series`
/// (from [`history::open_series`]) the snapshots whose trend to chart; `checks` gives `snap`'s verification once
/// the rest is gathered (so that it can run alongside, on another core).
pub fn evidence(
    snap: &Snapshot,
    baseline: Option<&Path>,
    series: &[(Snapshot, SnapshotInfo)],
    inactive_days: u32,
    checks: impl FnOnce() -> Result<Verification, StoreError>,
) -> Result<Evidence, IgnoreError> {
    let meta = snap.meta()?;
    let privileged = Privileged::builtin().with_custom_roles(snap, &["main"])?;
    let as_of = meta
        .finished_at
        .as_deref()
        .or(meta.started_at.as_deref())
        .and_then(|t| t.parse::<Timestamp>().ok())
        .unwrap_or_else(crate::clock::now);
    let holders = holders(snap, &privileged)?;
    let baseline = match baseline {
        Some(old) => {
            let old = Snapshot::open(old)?;
            Some(diff(&old, snap.path(), &Privileged::builtin(), &Ignore::default())?)
        }
        None => None,
    };
    let mut non_human = non_human_identities(snap, &privileged)?;
    non_human.retain(|i| i.access > 0);
    non_human.sort_by(|a, b| (b.privileged_access, b.access, &a.name).cmp(&(a.privileged_access, a.access, &b.name)));
    let unused = unused(snap, inactive_days, as_of)?;
    let series = points(series)?;
    Ok(Evidence {
        checks: checks()?,
        file: snap.path().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        parts: snap.parts()?,
        counts: snap.counts()?,
        holders,
        baseline,
        non_human,
        unused,
        as_of,
        series,
        meta,
    })
}

/// Every principal but groups with privileged effective access, with its privileged grants; the paths of the first
/// [`GRAPHS`] of them.
fn holders(snap: &Snapshot, privileged: &Privileged) -> Result<Vec<Holder>, StoreError> {
    let mut by_id: BTreeMap<String, Holder> = BTreeMap::new();
    review_privileged(snap, privileged, |row| {
        // Groups are how access reaches people and applications, not holders themselves: they appear in the paths.
        if row.class != "group" {
            let h = by_id.entry(row.principal_id.clone()).or_insert_with(|| Holder {
                principal_id: row.principal_id.clone(),
                principal: row.principal.clone(),
                class: row.class.clone(),
                human: row.human,
                grants: Vec::new(),
                paths: Vec::new(),
            });
            h.grants.push(row);
        }
        Ok::<(), StoreError>(())
    })?;
    let mut list: Vec<Holder> = by_id.into_values().collect();
    list.sort_by(|a, b| (!a.human, &a.principal, &a.principal_id).cmp(&(!b.human, &b.principal, &b.principal_id)));
    for h in list.iter_mut().take(GRAPHS) {
        let found = Found {
            id: h.principal_id.clone(),
            name: h.principal.clone(),
            kind: h.class.clone(),
            detail: String::new(),
        };
        h.paths = access::for_principal(snap, &found, privileged)?;
        h.paths.retain(|a| a.privileged);
    }
    Ok(list)
}

/// The chart's points: one per snapshot of the series, from one history pass over the privileged grants.
fn points(series: &[(Snapshot, SnapshotInfo)]) -> Result<Vec<Point>, StoreError> {
    if series.is_empty() {
        return Ok(Vec::new());
    }
    let filter = Filter { privileged: true, all: true, ..Filter::default() };
    let timeline = history::history(series, &filter, &Privileged::builtin())?;
    let mut holders: Vec<HashSet<&str>> = vec![HashSet::new(); series.len()];
    let mut grants = vec![0usize; series.len()];
    for t in timeline.grants.iter().filter(|t| t.principal_kind != "group") {
        for [from, to] in &t.seen_in {
            for i in *from..=*to {
                holders[i].insert(&t.principal_id);
                grants[i] += 1;
            }
        }
    }
    let mut out = Vec::with_capacity(series.len());
    for (i, (snap, info)) in series.iter().enumerate() {
        let total = rows(snap, "SELECT count(*) AS n FROM grants", &[])?;
        out.push(Point {
            info: info.clone(),
            privileged_holders: holders[i].len(),
            privileged_grants: grants[i],
            grants: total.first().map_or(0, |r| r.text("n").parse().unwrap_or(0)),
        });
    }
    Ok(out)
}

/// Tenants of the series other than the report's (refused by the command).
pub fn other_tenants(snap: &Snapshot, series: &[(Snapshot, SnapshotInfo)]) -> Result<BTreeSet<String>, StoreError> {
    let tenant = snap.meta()?.tenant_id.unwrap_or_default();
    let mut other = BTreeSet::new();
    for (s, info) in series {
        if s.meta()?.tenant_id.unwrap_or_default() != tenant {
            other.insert(info.path.clone());
        }
    }
    Ok(other)
}
