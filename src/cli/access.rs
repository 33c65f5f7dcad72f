//! `azsnap access SNAP --principal X | --resource Y`: effective access with its paths.

use std::path::PathBuf;

use crate::analyze::access::{self, Found, ResolveError};
use crate::analyze::privileged::Privileged;
use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::model::{GrantState, Relation};
use crate::report::graph::Graph;
use crate::report::{Format, Table};
use crate::store::Snapshot;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("subject").required(true).args(["principal", "resource"])))]
pub struct AccessArgs {
    pub snapshot: PathBuf,
    /// Object id, application id, user principal name, mail or display name.
    #[arg(long)]
    pub principal: Option<String>,
    /// ARM id, subscription id, object id (a group or application) or name.
    #[arg(long)]
    pub resource: Option<String>,
    /// Only privileged access (roles listed in queries/privileged_roles.json).
    #[arg(long)]
    pub privileged: bool,
    /// Only active access (leave out PIM-eligible grants).
    #[arg(long)]
    pub active: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: AccessFormat,
}

/// `access` prints a list like every command, or the paths as a graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AccessFormat {
    /// Aligned tables for people (the default).
    Table,
    /// One JSON document, for scripts.
    Json,
    /// Comma-separated values with a header row.
    Csv,
    /// GitHub-flavoured Markdown tables, for CI job summaries.
    Markdown,
    /// The paths as a Graphviz graph (`dot -Tsvg`).
    Dot,
    /// The paths as a Mermaid flowchart (a GitHub markdown `mermaid` block).
    Mermaid,
}

#[derive(serde::Serialize)]
struct Report<'a> {
    subject: &'a Found,
    subject_type: &'static str,
    access: &'a [access::Access],
}

/// A name resolved to one object, or the usage error that says why not (with the candidates as hints).
pub(crate) fn resolved(what: &str, text: &str, r: Result<Found, ResolveError>) -> Result<Found, CliError> {
    r.map_err(|e| match e {
        ResolveError::NotFound => CliError::usage(format!("no {what} matches {text:?} in the snapshot"))
            .with_hint(format!("give the {what}'s object id, or check spelling with `azsnap query SNAP …`")),
        ResolveError::Ambiguous { total, candidates } => {
            let mut err = CliError::usage(format!("{total} {what}s match {text:?}; give an id"));
            for f in &candidates {
                let detail = if f.detail.is_empty() { String::new() } else { format!(", {}", f.detail) };
                err = err.with_hint(format!("{} ({}, {}{detail})", f.id, f.kind, f.name));
            }
            if total > candidates.len() {
                err = err.with_hint(format!("… and {} more", total - candidates.len()));
            }
            err
        }
        ResolveError::Store(e) => e.into(),
    })
}

pub(super) fn run(args: &AccessArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let snap = Snapshot::open(&args.snapshot)?;
    let privileged = Privileged::builtin();
    let (subject, subject_type, mut list) = if let Some(p) = &args.principal {
        let found = resolved("principal", p, access::resolve_principal(&snap, p))?;
        let list = access::for_principal(&snap, &found, &privileged)?;
        (found, "principal", list)
    } else {
        let r = args.resource.as_deref().unwrap_or_default();
        let found = resolved("resource", r, access::resolve_resource(&snap, r))?;
        let list = access::for_resource(&snap, &found, &privileged)?;
        (found, "resource", list)
    };
    list.retain(|a| (!args.privileged || a.privileged) && (!args.active || a.state == GrantState::Active));
    let mut t = if subject_type == "principal" {
        Table::new(["target", "relation", "access", "state", "privileged", "path"])
    } else {
        Table::new(["principal", "kind", "access", "state", "privileged", "path"])
    };
    for a in &list {
        let what = match a.relation {
            Relation::Member | Relation::Owner => a.relation.to_string(),
            _ => a.role.clone(),
        };
        // Names that identify: an Azure target by its path, a principal with its UPN or app id.
        let (who, kind) = if subject_type == "principal" {
            let target = if a.target_path.is_empty() { a.target.clone() } else { a.target_path.clone() };
            (target, a.relation.to_string())
        } else if a.principal_detail.is_empty() || a.principal_detail.eq_ignore_ascii_case(&a.principal) {
            (a.principal.clone(), a.principal_kind.clone())
        } else {
            (format!("{} ({})", a.principal, a.principal_detail), a.principal_kind.clone())
        };
        t.push([
            who,
            kind,
            what,
            a.state.to_string(),
            if a.privileged { "yes" } else { "" }.to_owned(),
            a.path.clone(),
        ]);
    }
    let format = match args.format {
        AccessFormat::Table => Format::Table,
        AccessFormat::Json => Format::Json,
        AccessFormat::Csv => Format::Csv,
        AccessFormat::Markdown => Format::Markdown,
        AccessFormat::Dot | AccessFormat::Mermaid => {
            let graph = Graph::of(&list);
            let text = if args.format == AccessFormat::Dot { graph.dot() } else { graph.mermaid() };
            ui.out().write_all(text.as_bytes())?;
            return Ok(exit_code::SUCCESS);
        }
    };
    if format == Format::Table {
        ui.note(&format!("{} {} ({}): {} effective grants", subject_type, subject.name, subject.id, list.len()));
    }
    ui.print(format, &t, &Report { subject: &subject, subject_type, access: &list })?;
    Ok(exit_code::SUCCESS)
}
