//! `azsnap history SNAP… | DIR [--principal X | --resource Y | --role R | --privileged]`: when each grant appeared,
//! disappeared or changed state, over any number of snapshots of one tenant.

use std::path::PathBuf;

use crate::analyze::access;
use crate::analyze::history::{self, Filter, History, HistoryError};
use crate::analyze::privileged::Privileged;
use crate::analyze::sql::rows;
use crate::cli::access::resolved;
use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::report::{Format, Table};
use crate::store::Snapshot;

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// Snapshot files of one tenant, or directories of them (their `*.db` files); ordered by collection time.
    #[arg(required = true, value_name = "SNAP|DIR")]
    pub snapshots: Vec<PathBuf>,
    /// Grants held by this principal, or on it (a group's members and owners): object id, UPN or name.
    #[arg(long)]
    pub principal: Option<String>,
    /// Grants on this resource and (an Azure scope) everything below it: ARM id, subscription id or name.
    #[arg(long)]
    pub resource: Option<String>,
    /// Grants of this role: role definition id or name.
    #[arg(long)]
    pub role: Option<String>,
    /// Only privileged grants (roles listed in queries/privileged_roles.json, and privileged groups).
    #[arg(long)]
    pub privileged: bool,
    /// List every grant followed, also those that never changed (present from the first snapshot to the last).
    #[arg(long)]
    pub all: bool,
    /// Check only each snapshot's seal and signature, not its data fingerprint and SQLite integrity (which
    /// `verify` checks, and a history does by default).
    #[arg(long)]
    pub no_verify: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// Finds what a name means in the newest snapshot that has it.
fn newest_match<T>(
    series: &[(Snapshot, history::SnapshotInfo)],
    mut find: impl FnMut(&Snapshot) -> Result<T, access::ResolveError>,
) -> Result<T, access::ResolveError> {
    let mut last = Err(access::ResolveError::NotFound);
    for (snap, _) in series.iter().rev() {
        last = find(snap);
        if !matches!(last, Err(access::ResolveError::NotFound)) {
            break;
        }
    }
    last
}

/// Role definition ids by id or name (case-insensitive), in the newest snapshot that has the role.
fn role_ids(series: &[(Snapshot, history::SnapshotInfo)], text: &str) -> Result<Vec<String>, CliError> {
    let text = text.trim();
    for (snap, _) in series.iter().rev() {
        let found = rows(
            snap,
            "SELECT DISTINCT id FROM role_definitions WHERE id = lower(?1) OR name = ?1 COLLATE NOCASE ORDER BY id",
            &[&text],
        )?;
        if !found.is_empty() {
            return Ok(found.iter().map(|r| r.text("id")).collect());
        }
    }
    if let Ok(guid) = text.parse::<crate::model::Guid>() {
        return Ok(vec![guid.as_str().to_owned()]);
    }
    Err(CliError::usage(format!("no role matches {text:?} in the snapshots"))
        .with_hint("give the role definition id, or list roles with `azsnap query SNAP custom-roles`"))
}

pub(super) fn run(args: &HistoryArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let series = series(&args.snapshots, !args.no_verify)?;
    let mut filter = Filter { privileged: args.privileged, all: args.all, ..Filter::default() };
    if let Some(p) = &args.principal {
        filter.principal =
            Some(resolved("principal", p, newest_match(&series, |s| access::resolve_principal(s, p)))?.id);
    }
    if let Some(r) = &args.resource {
        filter.resource = Some(resolved("resource", r, newest_match(&series, |s| access::resolve_resource(s, r)))?.id);
    }
    if let Some(r) = &args.role {
        filter.roles = role_ids(&series, r)?;
    }
    let report = history::history(&series, &filter, &Privileged::builtin())?;
    if args.format == Format::Table {
        let changed = report.grants.iter().filter(|g| !g.events.iter().all(|e| e.snapshot == 0)).count();
        let unchanged = if args.all {
            String::new()
        } else {
            format!(" ({} unchanged throughout; --all lists them too)", report.unchanged)
        };
        ui.note(&format!(
            "{} snapshots from {} to {}: {changed} grants changed{unchanged}",
            report.snapshots.len(),
            when(&report, 0),
            when(&report, report.snapshots.len().saturating_sub(1)),
        ));
    }
    ui.print(args.format, &table(&report), &report)?;
    Ok(exit_code::SUCCESS)
}

/// The snapshots of `snapshots` (files, or directories of `*.db` files) of one tenant, verified (`verify`: fully, as
/// `verify` does; else their seals and signatures), in order of collection.
pub(super) fn series(snapshots: &[PathBuf], verify: bool) -> Result<Vec<(Snapshot, history::SnapshotInfo)>, CliError> {
    let paths =
        history::files(snapshots).map_err(|e| CliError::bad_input(format!("cannot list the snapshots: {e}")))?;
    if paths.is_empty() {
        return Err(CliError::usage("no snapshot files (*.db) in the directories given"));
    }
    history::open_series(&paths, verify).map_err(|e| match e {
        HistoryError::Tenants(tenants) => {
            let mut err = CliError::bad_input(format!(
                "the snapshots are of {} tenants; a history follows one tenant",
                tenants.len()
            ));
            for (tenant, path) in tenants {
                err = err.with_hint(format!("tenant {tenant}, e.g. {path}"));
            }
            err
        }
        HistoryError::Unverified { path, problem } => CliError::bad_input(format!("{path}: {problem}"))
            .with_hint("a history is only as good as its snapshots; check it with `azsnap verify`"),
        HistoryError::Store(e) => e.into(),
    })
}

/// A snapshot's time as shown: its start, to the minute.
fn when(report: &History, i: usize) -> String {
    let s = report.snapshots.get(i).and_then(|s| s.started_at.clone()).unwrap_or_default();
    s.get(..19).map_or(s.clone(), |t| t.replace('T', " "))
}

fn table(report: &History) -> Table {
    let mut t = Table::new(["principal", "access", "target", "now", "first seen", "last seen", "seen", "changes"]);
    let total = report.snapshots.len();
    for g in &report.grants {
        let access = match g.relation {
            crate::model::Relation::Member | crate::model::Relation::Owner => g.relation.to_string(),
            _ => g.role.clone(),
        };
        let seen: usize = g.seen_in.iter().map(|r| r[1] - r[0] + 1).sum();
        let changes: Vec<String> = g
            .events
            .iter()
            .filter(|e| e.snapshot > 0)
            .map(|e| match e.change {
                "appeared" => format!("{} +{}", when(report, e.snapshot), e.to),
                "disappeared" => format!("{} gone", when(report, e.snapshot)),
                _ => format!("{} {}→{}", when(report, e.snapshot), e.from, e.to),
            })
            .collect();
        t.push([
            g.principal.clone(),
            access,
            g.target.clone(),
            g.state.to_owned(),
            when(report, g.first_seen),
            when(report, g.last_seen),
            format!("{seen}/{total}"),
            changes.join("; "),
        ]);
    }
    t
}
