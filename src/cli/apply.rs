//! `azsnap apply PLAN`: execute a plan against the live APIs — shown first, confirmed, re-checked live, journaled.

use std::path::{Path, PathBuf};

use crate::apply::{Applier, Options, Status, apply, groups_of, identity};
use crate::azure::ApiError;
use crate::cli::azure_args::AzureArgs;
use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::model::Guid;
use crate::plan::{Plan, PlanError};
use crate::report::{Format, Table};
use crate::store::Journal;

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    pub plan: PathBuf,
    /// Do not ask for confirmation (for CI).
    #[arg(long)]
    pub yes: bool,
    /// Read live state and say what each action would do; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Allow actions that could remove the last Global Administrator or the applying identity's own access.
    #[arg(long)]
    pub force_lockout_risk: bool,
    #[command(flatten)]
    pub azure: AzureArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// `PLAN.journal`, beside the plan.
pub fn journal_path(plan: &Path) -> PathBuf {
    let mut p = plan.as_os_str().to_owned();
    p.push(".journal");
    PathBuf::from(p)
}

fn api_error(e: ApiError) -> CliError {
    match e {
        ApiError::Auth(f) => crate::cli::azure_args::auth_error(&f),
        other => CliError::new(exit_code::API_FAILURE, other.to_string()),
    }
}

fn wrong_tenant(plan: &Plan, other: &str) -> CliError {
    CliError::new(
        exit_code::AUTH,
        format!("the plan is for tenant {}, the credentials are for {other}", plan.tenant_id),
    )
    .with_hint("apply a plan with credentials of the tenant its snapshots were collected from")
}

pub fn run(args: &ApplyArgs, ui: &mut Ui) -> Result<u8, CliError> {
    // Read once: the plan that is checked, hashed for the journal and applied is the same bytes.
    let bytes =
        crate::files::read(&args.plan, crate::files::limit::PLAN).map_err(|e| CliError::bad_input(e.to_string()))?;
    let plan = Plan::from_bytes(&args.plan, &bytes).map_err(|e: PlanError| CliError::from(e))?;
    let sha = crate::model::sha256_hex(&bytes);
    if let Some(t) = args.azure.tenant()
        && let Ok(g) = t.parse::<Guid>()
        && g.as_str() != plan.tenant_id
    {
        return Err(wrong_tenant(&plan, g.as_str()));
    }
    let client = args.azure.client(4)?;
    let runtime = crate::cli::runtime()?;
    let (tenant, me) = runtime.block_on(identity(&client)).map_err(api_error)?;
    if tenant != plan.tenant_id {
        return Err(wrong_tenant(&plan, &tenant));
    }
    let me = Applier { groups: runtime.block_on(groups_of(&client, &me)), id: me };
    // Locked for the whole run, before asking: a second apply of this plan is refused while this one runs.
    let journal = if args.dry_run { None } else { Some(Journal::open(&journal_path(&args.plan))?) };

    ui.note(&format!(
        "plan {} ({}, {} actions) for tenant {}{}:",
        args.plan.display(),
        plan.source.command,
        plan.actions.len(),
        plan.tenant_id,
        if args.dry_run { ", dry run" } else { "" }
    ));
    for (i, a) in plan.actions.iter().enumerate() {
        ui.note(&format!("  {}. {}{}", i + 1, a.describe(), if a.privileged { " (privileged)" } else { "" }));
    }
    if !args.dry_run && !args.yes && !plan.actions.is_empty() {
        match ui.confirm(&format!("Apply {} actions to tenant {}?", plan.actions.len(), plan.tenant_id))? {
            Some(true) => {}
            Some(false) => {
                ui.note("nothing changed");
                return Ok(exit_code::SUCCESS);
            }
            None => {
                return Err(CliError::usage("apply changes the tenant: confirm on a terminal, or pass --yes")
                    .with_hint("`--dry-run` shows what it would do without changing anything"));
            }
        }
    }
    let options = Options { dry_run: args.dry_run, force_lockout_risk: args.force_lockout_risk };
    let progress = ui.wants_progress();
    let outcomes = runtime
        .block_on(apply(&client, &plan, &sha, journal.as_ref(), &options, &me, |a, o| {
            if progress {
                ui.note(&format!("[{}] {}: {}", o.status.as_str(), a.id, o.detail));
            }
        }))
        .map_err(|e| match e {
            crate::apply::ApplyError::Api(e) => api_error(e),
            crate::apply::ApplyError::Store(e) => e.into(),
        })?;
    let mut t = Table::new(["#", "action", "status", "detail", "id"]);
    for (i, (a, o)) in plan.actions.iter().zip(&outcomes).enumerate() {
        t.push([(i + 1).to_string(), a.describe(), o.status.as_str().to_owned(), o.detail.clone(), a.id.clone()]);
    }
    ui.print(args.format, &t, &outcomes)?;
    let count = |s: Status| outcomes.iter().filter(|o| o.status == s).count();
    let not_done: Vec<&str> = outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Failed | Status::Refused))
        .map(|o| o.action_id.as_str())
        .collect();
    ui.note(&format!(
        "{}: {} done, {} skipped, {} would change, {} refused, {} failed",
        if args.dry_run { "dry run" } else { "applied" },
        count(Status::Done),
        count(Status::Skipped),
        count(Status::WouldDo),
        count(Status::Refused),
        count(Status::Failed)
    ));
    if not_done.is_empty() {
        Ok(exit_code::SUCCESS)
    } else {
        Err(CliError::new(
            exit_code::APPLY_FAILED,
            format!("{} actions were not applied: {}", not_done.len(), not_done.join(", ")),
        )
        .with_hint(format!(
            "fix the cause and run `azsnap apply {}` again: finished actions are not repeated (journal {})",
            args.plan.display(),
            journal_path(&args.plan).display()
        )))
    }
}
