//! A timeline of grants over any number of snapshots of one tenant: when each grant first appeared, disappeared,
//! came back or changed state (eligible ↔ active), and the snapshots it was seen in.
//!
//! One pass per snapshot, oldest first, over its grants (filtered in SQL), keyed on what a grant means as `diff`
//! matches them (principal, relation, target, role, scope) with its state as the value; the only thing held is one
//! small record per distinct grant, never a snapshot's table or a diff. A grant missing from a snapshot whose part
//! that produces it is not complete there (not collected, denied, unlicensed, or collected with an option that
//! narrows it) is *not known* in that snapshot, never gone.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use rusqlite::OptionalExtension as _;
use serde::Serialize;

use crate::analyze::coverage;
use crate::analyze::privileged::Privileged;
use crate::model::{GrantState, PartStatus, Relation};
use crate::store::{Snapshot, StoreError};

/// One snapshot of the series, in collection order.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotInfo {
    pub index: usize,
    pub path: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub fingerprint: Option<String>,
    /// Parts whose grants are not known in this snapshot (not complete there).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_known: Vec<String>,
}

/// Which grants the timeline follows; all of them when empty.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Grants held by this object id, or on it (its members and owners).
    pub principal: Option<String>,
    /// Grants on this target, or (an ARM id) on anything below it.
    pub resource: Option<String>,
    /// Grants of any of these role ids.
    pub roles: Vec<String>,
    /// Only privileged grants (in the snapshot they are seen in).
    pub privileged: bool,
    /// Grants that never changed (present from the first snapshot to the last) too.
    pub all: bool,
}

/// The state of a grant in one snapshot: one bit per [`GrantState`] (a PIM-eligible grant can be active too).
type States = u8;
const ACTIVE: States = 1;
const ELIGIBLE: States = 2;

fn states_word(s: States) -> &'static str {
    match s {
        ACTIVE => "active",
        ELIGIBLE => "eligible",
        3 => "active+eligible",
        _ => "absent",
    }
}

/// What happened to a grant at one snapshot.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Event {
    /// The snapshot's index.
    pub snapshot: usize,
    /// `appeared` (the first time, or again after it was gone), `disappeared`, or `state_changed`.
    pub change: &'static str,
    /// The state before (`absent` when it appeared).
    pub from: &'static str,
    /// The state after (`absent` when it disappeared).
    pub to: &'static str,
}

/// One grant's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub principal_id: String,
    pub principal: String,
    pub principal_kind: String,
    pub relation: Relation,
    pub target_id: String,
    pub target: String,
    pub role_id: String,
    pub role: String,
    pub scope: String,
    /// The first and last snapshot it was seen in.
    pub first_seen: usize,
    pub last_seen: usize,
    /// Its state in the newest snapshot (`absent` when gone there; the last known state when not known there).
    pub state: &'static str,
    /// Runs of consecutive snapshots it was seen in, as `[first, last]` index pairs.
    pub seen_in: Vec<[usize; 2]>,
    /// Snapshots where it was not known (its part incomplete there).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_known_in: Vec<usize>,
    pub privileged: bool,
    pub events: Vec<Event>,
}

/// The whole timeline.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub tenant_id: Option<String>,
    pub snapshots: Vec<SnapshotInfo>,
    /// Grants followed that never changed in the series (listed only with `all`).
    pub unchanged: usize,
    pub grants: Vec<Timeline>,
}

/// Why a set of files is no series.
#[derive(Debug)]
pub enum HistoryError {
    /// Snapshots of more than one tenant: (tenant, first file of it) per tenant.
    Tenants(Vec<(String, String)>),
    /// A snapshot that failed verification, and why.
    Unverified {
        path: String,
        problem: String,
    },
    Store(StoreError),
}

impl From<StoreError> for HistoryError {
    fn from(e: StoreError) -> Self {
        HistoryError::Store(e)
    }
}

/// One grant followed through the series.
struct Track {
    first: usize,
    last: usize,
    /// Its state in the snapshot being read (0 until seen there), and in the last snapshot it was known in.
    now: States,
    known: States,
    runs: Vec<[usize; 2]>,
    not_known: Vec<usize>,
    part: &'static str,
    privileged: bool,
    events: Vec<Event>,
}

const SCAN: &str = "SELECT g.principal_id, g.relation, g.target_id, g.role_id, g.scope, g.state, \
     (g.relation IN ('member', 'owner') AND EXISTS (SELECT 1 FROM principals p WHERE p.id = g.target_id \
     AND p.kind = 'group')) AS target_group FROM grants g \
     WHERE (?1 IS NULL OR g.principal_id = ?1 OR g.target_id = ?1) \
     AND (?2 IS NULL OR g.target_id = ?2 OR substr(g.target_id, 1, length(?2) + 1) = ?2 || '/') \
     AND (?3 IS NULL OR g.role_id IN (SELECT value FROM json_each(?3)))";

/// Opens `paths`, checks they are one tenant's and pass verification (`full`: as `verify` does, data fingerprint
/// and SQLite integrity included, on every core; otherwise the seal and signature only), and orders them by
/// collection time.
pub fn open_series(paths: &[PathBuf], full: bool) -> Result<Vec<(Snapshot, SnapshotInfo)>, HistoryError> {
    let mut series = Vec::with_capacity(paths.len());
    let mut tenants: Vec<(String, String)> = Vec::new();
    for path in paths {
        let snap = Snapshot::open(path)?;
        let shown = path.display().to_string();
        if let Some(problem) = seal_problem(&snap)? {
            return Err(HistoryError::Unverified { path: shown, problem });
        }
        let meta = snap.meta()?;
        let tenant = meta.tenant_id.clone().unwrap_or_default();
        if !tenants.iter().any(|(t, _)| *t == tenant) {
            tenants.push((tenant, shown.clone()));
        }
        let narrowed = narrowed_parts(&meta.options);
        let not_known = snap
            .parts()?
            .into_iter()
            .filter(|p| p.status != PartStatus::Complete || narrowed.contains(p.name.as_str()))
            .map(|p| p.name)
            .collect();
        let info = SnapshotInfo {
            index: 0,
            path: shown,
            started_at: meta.started_at,
            finished_at: meta.finished_at,
            fingerprint: meta.fingerprint,
            not_known,
        };
        series.push((snap, info));
    }
    if tenants.len() > 1 {
        return Err(HistoryError::Tenants(tenants));
    }
    if full {
        verify_all(paths)?;
    }
    series.sort_by(|a, b| {
        (&a.1.started_at, &a.1.finished_at, &a.1.path).cmp(&(&b.1.started_at, &b.1.finished_at, &b.1.path))
    });
    for (i, (_, info)) in series.iter_mut().enumerate() {
        info.index = i;
    }
    Ok(series)
}

/// [`Snapshot::verify`] of every file, one worker per core, each on its own connections; the first failure.
fn verify_all(paths: &[PathBuf]) -> Result<(), HistoryError> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, paths.len().max(1));
    let results: Vec<Result<(), HistoryError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    for path in paths.iter().skip(w).step_by(workers) {
                        if let Some(problem) = Snapshot::open(path)?.verify()?.problem() {
                            return Err(HistoryError::Unverified { path: path.display().to_string(), problem });
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(HistoryError::Store(StoreError::Corrupt {
                        path: PathBuf::new(),
                        detail: "verification worker stopped".to_owned(),
                    }))
                })
            })
            .collect()
    });
    results.into_iter().collect()
}

/// What is wrong with a snapshot's seal or signature (cheap: not the data rows, which `verify` hashes).
fn seal_problem(snap: &Snapshot) -> Result<Option<String>, StoreError> {
    if snap.stored_fingerprint()?.is_none() {
        return Ok(Some("snapshot was never sealed (it has no fingerprint)".to_owned()));
    }
    let (seal, signature) = snap.check_seal()?;
    Ok(crate::store::seal_problem(&seal, &signature))
}

/// Parts a collection option narrows (their grants are not all there).
fn narrowed_parts(options: &serde_json::Value) -> HashSet<&'static str> {
    coverage::CONTENT_OPTIONS
        .iter()
        .filter(|(o, _)| options[*o].as_bool().unwrap_or(false))
        .flat_map(|(_, parts)| parts.iter().copied())
        .collect()
}

/// The timeline of the grants `filter` selects over `series` (from [`open_series`]).
pub fn history(
    series: &[(Snapshot, SnapshotInfo)],
    filter: &Filter,
    privileged: &Privileged,
) -> Result<History, StoreError> {
    let mut index: HashMap<Box<str>, usize> = HashMap::new();
    let mut tracks: Vec<Track> = Vec::new();
    let roles = (!filter.roles.is_empty()).then(|| serde_json::to_string(&filter.roles).unwrap_or_default());
    let mut key = String::new();
    for (i, (snap, info)) in series.iter().enumerate() {
        let corrupt = |e| StoreError::corrupt(snap.path(), e);
        let privileged = privileged.with_custom_roles(snap, &["main"])?;
        let groups = if filter.privileged { privileged.groups(snap, &["main"])? } else { HashSet::new() };
        let mut stmt = snap.connection().prepare(SCAN).map_err(corrupt)?;
        let mut rows =
            stmt.query((filter.principal.as_deref(), filter.resource.as_deref(), roles.as_deref())).map_err(corrupt)?;
        while let Some(r) = rows.next().map_err(corrupt)? {
            let text = |i: usize| r.get_ref(i).ok().and_then(|v| v.as_str().ok()).unwrap_or_default();
            let Ok(relation) = text(1).parse::<Relation>() else { continue };
            let (principal, target, role) = (text(0), text(2), text(3));
            let is_privileged = privileged.grant(relation, role, target, &groups);
            if filter.privileged && !is_privileged {
                continue;
            }
            let state = if text(5) == GrantState::Eligible.as_str() { ELIGIBLE } else { ACTIVE };
            key.clear();
            for (n, part) in [principal, text(1), target, role, text(4)].iter().enumerate() {
                if n > 0 {
                    key.push('\0');
                }
                key.push_str(part);
            }
            let t = match index.get(key.as_str()) {
                Some(&t) => t,
                None => {
                    let target_group: bool = r.get(6).map_err(corrupt)?;
                    let state = if state == ELIGIBLE { GrantState::Eligible } else { GrantState::Active };
                    tracks.push(Track {
                        first: i,
                        last: i,
                        now: 0,
                        known: 0,
                        runs: Vec::new(),
                        not_known: Vec::new(),
                        part: coverage::grant_part(relation, state, target_group),
                        privileged: false,
                        events: Vec::new(),
                    });
                    index.insert(key.as_str().into(), tracks.len() - 1);
                    tracks.len() - 1
                }
            };
            tracks[t].now |= state;
            tracks[t].privileged |= is_privileged;
        }
        for t in &mut tracks {
            step(t, i, info);
        }
    }
    let newest = series.len().saturating_sub(1);
    let mut keys: Vec<Option<Box<str>>> = vec![None; tracks.len()];
    for (k, i) in index {
        keys[i] = Some(k);
    }
    let mut grants = Vec::new();
    let mut unchanged = 0;
    let mut names: Vec<Names> = series.iter().map(|_| Names::default()).collect();
    for (t, key) in tracks.into_iter().zip(keys) {
        if !filter.all && t.events.iter().all(|e| e.snapshot == 0) {
            unchanged += 1;
            continue;
        }
        let last = t.last;
        grants.push(describe(t, key.as_deref().unwrap_or_default(), &series[last].0, &mut names[last], newest)?);
    }
    grants.sort_by(|a, b| {
        (a.first_seen, &a.principal, &a.role, &a.target, &a.target_id).cmp(&(
            b.first_seen,
            &b.principal,
            &b.role,
            &b.target,
            &b.target_id,
        ))
    });
    Ok(History {
        tenant_id: match series.first() {
            Some((snap, _)) => snap.meta()?.tenant_id,
            None => None,
        },
        snapshots: series.iter().map(|(_, info)| info.clone()).collect(),
        unchanged,
        grants,
    })
}

/// Closes snapshot `i` for one grant: its events there and its runs of sightings.
fn step(t: &mut Track, i: usize, info: &SnapshotInfo) {
    let now = std::mem::take(&mut t.now);
    if now == 0 && info.not_known.iter().any(|p| p == t.part) {
        t.not_known.push(i);
        return;
    }
    if now != t.known {
        let change = match (t.known, now) {
            (0, _) => "appeared",
            (_, 0) => "disappeared",
            _ => "state_changed",
        };
        t.events.push(Event { snapshot: i, change, from: states_word(t.known), to: states_word(now) });
        t.known = now;
    }
    if now != 0 {
        t.last = i;
        // A run goes on across snapshots where the grant was not known.
        let not_known = &t.not_known;
        match t.runs.last_mut() {
            Some(run) if (run[1] + 1..i).all(|j| not_known.binary_search(&j).is_ok()) => run[1] = i,
            _ => t.runs.push([i, i]),
        }
    }
}

/// Names looked up in one snapshot, each once (grants share principals, targets and roles).
#[derive(Default)]
struct Names {
    principals: HashMap<String, (String, String)>,
    targets: HashMap<String, String>,
    roles: HashMap<(Relation, String, String), Option<String>>,
}

impl Names {
    fn principal(&mut self, snap: &Snapshot, id: &str) -> Result<(String, String), StoreError> {
        if let Some(p) = self.principals.get(id) {
            return Ok(p.clone());
        }
        let found: Option<(String, String)> = snap
            .connection()
            .prepare_cached(
                "SELECT coalesce(display_name, user_principal_name, id), kind FROM principals WHERE id = ?1",
            )
            .and_then(|mut s| s.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(|e| StoreError::corrupt(snap.path(), e))?;
        let p = found.unwrap_or_else(|| (id.to_owned(), "unknown".to_owned()));
        self.principals.insert(id.to_owned(), p.clone());
        Ok(p)
    }

    fn target(&mut self, snap: &Snapshot, id: &str) -> Result<String, StoreError> {
        if let Some(t) = self.targets.get(id) {
            return Ok(t.clone());
        }
        let found: Option<String> = snap
            .connection()
            .prepare_cached(
                "SELECT coalesce((SELECT coalesce(display_name, user_principal_name) FROM principals WHERE id = ?1), \
                 (SELECT coalesce(display_name, name) FROM resources WHERE id = ?1))",
            )
            .and_then(|mut s| s.query_row([id], |r| r.get(0)))
            .map_err(|e| StoreError::corrupt(snap.path(), e))?;
        let t = found.unwrap_or_else(|| id.to_owned());
        self.targets.insert(id.to_owned(), t.clone());
        Ok(t)
    }

    /// The role's name by the rule of the `grant_role` view (`queries/store/views.sql`): directory and Azure roles
    /// by id, app roles and delegated scopes by id among the target's roles.
    fn role(
        &mut self,
        snap: &Snapshot,
        relation: Relation,
        role_id: &str,
        target_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let (kind, resource) = match relation {
            Relation::Member | Relation::Owner => return Ok(None),
            Relation::DirectoryRole => ("directory", ""),
            Relation::AzureRole => ("azure", ""),
            Relation::AppRole | Relation::Delegated => ("app", target_id),
        };
        let key = (relation, role_id.to_owned(), resource.to_owned());
        if let Some(r) = self.roles.get(&key) {
            return Ok(r.clone());
        }
        let found: Option<Option<String>> = snap
            .connection()
            .prepare_cached("SELECT name FROM role_definitions WHERE id = ?1 AND kind = ?2 AND resource_id = ?3")
            .and_then(|mut s| s.query_row((role_id, kind, resource), |r| r.get(0)).optional())
            .map_err(|e| StoreError::corrupt(snap.path(), e))?;
        let name = found.flatten();
        self.roles.insert(key, name.clone());
        Ok(name)
    }
}

/// A track with the names the last snapshot it was seen in gives its principal, target and role.
fn describe(t: Track, key: &str, snap: &Snapshot, names: &mut Names, newest: usize) -> Result<Timeline, StoreError> {
    let mut parts = key.split('\0');
    let mut next = || parts.next().unwrap_or_default().to_owned();
    let (principal_id, relation, target_id, role_id, scope) = (next(), next(), next(), next(), next());
    let relation: Relation = relation.parse().unwrap_or(Relation::Member);
    let (principal, principal_kind) = names.principal(snap, &principal_id)?;
    let target = names.target(snap, &target_id)?;
    let role = names.role(snap, relation, &role_id, &target_id)?;
    let gone_now = t.last < newest && !t.not_known.contains(&newest);
    Ok(Timeline {
        principal,
        principal_kind,
        relation,
        target,
        role: role.unwrap_or_else(|| if role_id.is_empty() { relation.to_string() } else { role_id.clone() }),
        principal_id,
        target_id,
        role_id,
        scope,
        first_seen: t.first,
        last_seen: t.last,
        state: if gone_now { "absent" } else { states_word(t.known) },
        seen_in: t.runs,
        not_known_in: t.not_known,
        privileged: t.privileged,
        events: t.events,
    })
}

/// The snapshot files named: each a file, or a directory whose `*.db` files are taken (not its subdirectories).
pub fn files(args: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = BTreeSet::new();
    for a in args {
        if a.is_dir() {
            for entry in std::fs::read_dir(a)? {
                let path = entry?.path();
                if path.is_file() && path.extension().is_some_and(|e| e == "db") {
                    out.insert(path);
                }
            }
        } else {
            out.insert(a.clone());
        }
    }
    Ok(out.into_iter().collect())
}
