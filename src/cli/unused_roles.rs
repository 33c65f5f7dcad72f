//! `azsnap unused-roles SNAP`: roles nobody holds, and assignments of disabled, deleted or inactive holders.

use std::path::PathBuf;

use crate::analyze::unused::{UnusedReport, unused};
use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::report::{Format, Table, write_json};
use crate::store::Snapshot;

#[derive(Debug, clap::Args)]
pub struct UnusedRolesArgs {
    pub snapshot: PathBuf,
    /// A holder with no sign-in for this many days counts as inactive (when sign-in data was collected).
    #[arg(long, default_value_t = 90, value_name = "N")]
    pub inactive_days: u32,
    /// List unassigned built-in roles too (a tenant has hundreds: Azure alone ships about 600).
    #[arg(long)]
    pub builtin: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub(super) fn tables(r: &UnusedReport) -> (Table, Table) {
    let mut roles = Table::new(["kind", "role", "built-in", "application", "id"]);
    for u in &r.unused_roles {
        roles.push([
            u.kind.clone(),
            u.name.clone(),
            if u.builtin { "yes" } else { "no" }.to_owned(),
            u.application.clone().unwrap_or_default(),
            u.id.clone(),
        ]);
    }
    let mut stale = Table::new(["holder", "kind", "role", "on", "state", "why"]);
    for s in &r.stale_assignments {
        stale.push([
            s.principal_name.clone(),
            s.principal_kind.clone(),
            s.role_name.clone(),
            s.target_name.clone(),
            s.state.to_string(),
            s.reason.clone(),
        ]);
    }
    (roles, stale)
}

pub(super) fn run(args: &UnusedRolesArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let snap = Snapshot::open(&args.snapshot)?;
    let mut report = unused(&snap, args.inactive_days, crate::clock::now())?;
    if !args.builtin {
        let before = report.unused_roles.len();
        report.unused_roles.retain(|u| !u.builtin);
        report.builtin_left_out = before - report.unused_roles.len();
    }
    let (roles, stale) = tables(&report);
    match args.format {
        Format::Json => write_json(ui.out(), &report)?,
        Format::Csv => {
            // One CSV document: the assignments (the rows someone acts on); roles are in --format json.
            stale.write_csv(ui.out())?;
        }
        Format::Table | Format::Markdown => {
            let style = ui.table_style();
            let md = args.format == Format::Markdown;
            let builtin = match report.builtin_left_out {
                0 => String::new(),
                n => format!("; {n} built-in ones with --builtin"),
            };
            writeln!(ui.out(), "Role definitions nobody holds ({}{builtin}):", report.unused_roles.len())?;
            if md {
                roles.write_markdown(ui.out())?
            } else {
                roles.write_text(ui.out(), style)?
            }
            writeln!(ui.out())?;
            writeln!(
                ui.out(),
                "Assignments held by disabled, deleted or inactive principals ({}; inactive = no sign-in for {} days):",
                report.stale_assignments.len(),
                report.inactive_days
            )?;
            if md {
                stale.write_markdown(ui.out())?
            } else {
                stale.write_text(ui.out(), style)?
            }
            for l in &report.limits {
                writeln!(ui.out(), "note: {l}")?;
            }
        }
    }
    Ok(exit_code::SUCCESS)
}
