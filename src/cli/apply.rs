//! `azsnap apply PLAN`: execute a plan against the live APIs — shown first, confirmed, re-checked live, journaled.

use std::path::{Path, PathBuf};

use crate::apply::{Applier, Options, RunInfo, Status, apply, groups_of, identity};
use crate::cli::azure_args::AzureArgs;
use crate::cli::plan::PlanFile;
use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::model::Guid;
use crate::plan::Plan;
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
    /// Apply only the plan whose SHA-256 is HEX (as `plan show` prints it): the plan that was reviewed.
    #[arg(long, value_name = "HEX")]
    pub expect_sha256: Option<String>,
    /// Apply only a plan approved with `azsnap plan sign` (PLAN.sig) by a key that --allowed-signers or --key
    /// trusts.
    #[arg(long)]
    pub require_signature: bool,
    #[command(flatten)]
    pub trust: crate::cli::keys::TrustArgs,
    /// Seal the journal at the end of the run with this key (an SSHSIG, as for snapshots).
    #[command(flatten)]
    pub signing: crate::cli::keys::SigningKeyArg,
    /// Print the plan's journal — every attempt, when, by whom, with the service's request id — and each run's
    /// seal, then exit; no credentials needed.
    #[arg(long)]
    pub journal_report: bool,
    /// Refuse a plan built from a snapshot collected more than DAYS ago (without it, such a plan gets a warning
    /// after 7 days).
    #[arg(long, value_name = "DAYS")]
    pub max_age: Option<u32>,
    #[command(flatten)]
    pub azure: AzureArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// Age after which a plan's snapshot gets a warning.
const WARN_AGE_DAYS: i64 = 7;

/// `PLAN.journal`, beside the plan.
pub(super) fn journal_path(plan: &Path) -> PathBuf {
    crate::cli::output::beside(plan, ".journal")
}

fn wrong_tenant(plan: &Plan, other: &str) -> CliError {
    CliError::new(
        exit_code::AUTH,
        format!("the plan is for tenant {}, the credentials are for {other}", plan.tenant_id),
    )
    .with_hint("apply a plan with credentials of the tenant its snapshots were collected from")
}

/// The checks that bind a plan to what was reviewed, before anything touches the network: its SHA-256, its
/// approval signature, the age of the snapshot it was built from. Returns who approved it, if anyone.
fn check_binding(args: &ApplyArgs, file: &PlanFile, ui: &mut Ui) -> Result<Option<String>, CliError> {
    if let Some(want) = &args.expect_sha256
        && !want.trim().eq_ignore_ascii_case(&file.sha256)
    {
        return Err(CliError::bad_input(format!(
            "{}: the plan's SHA-256 is {}, not the {} that was expected; it is not the plan that was reviewed",
            args.plan.display(),
            file.sha256,
            want.trim()
        )));
    }
    let mut approved_by = None;
    if args.require_signature {
        let trusted = args
            .trust
            .load()?
            .ok_or_else(|| CliError::usage("--require-signature needs --allowed-signers or --key"))?;
        let signer = file.signer(&args.plan)?.ok_or_else(|| {
            CliError::bad_input(format!(
                "{}: not signed (no {}); a second person approves it with `azsnap plan sign`",
                args.plan.display(),
                crate::cli::plan::signature_path(&args.plan).display()
            ))
        })?;
        let who = crate::cli::keys::require_trusted(&trusted, &args.trust.source(), &signer, "the plan")?;
        approved_by = Some(format!("{who} ({})", signer.fingerprint()));
    }
    let newest = file.plan.source.snapshots.iter().filter_map(|s| s.collected_at.as_deref()).max();
    if let Some(collected) = newest.and_then(|t| t.parse::<crate::model::Timestamp>().ok()) {
        let days = crate::clock::now().days_since(&collected);
        match args.max_age {
            Some(max) if days > i64::from(max) => {
                return Err(CliError::bad_input(format!(
                    "{}: built from a snapshot collected {days} days ago ({collected}), more than --max-age {max}",
                    args.plan.display()
                ))
                .with_hint("collect again and rebuild the plan, so it acts on today's access"));
            }
            None if days > WARN_AGE_DAYS => ui.note(&format!(
                "warning: the plan was built from a snapshot collected {days} days ago ({collected}); access may \
                 have changed since (--max-age DAYS refuses such plans)"
            )),
            _ => {}
        }
    }
    Ok(approved_by)
}

/// `apply --journal-report`: every attempt and every run's seal; exit 3 when a seal does not check out.
fn journal_report(args: &ApplyArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let path = journal_path(&args.plan);
    let journal = Journal::read(&path)?;
    let attempts = journal.attempts()?;
    let seals = journal.check_seals()?;
    let mut t =
        Table::new(["#", "run", "at", "action", "operation", "status", "actor", "request id", "approved by", "detail"]);
    for a in &attempts {
        let actor = match (&a.actor_appid, &a.actor_oid) {
            (Some(app), Some(oid)) => format!("app {app} (object {oid})"),
            (None, Some(oid)) => format!("object {oid}"),
            _ => "-".to_owned(),
        };
        t.push([
            a.seq.to_string(),
            a.run_id.clone(),
            a.at.clone(),
            a.action_id.clone(),
            a.operation.clone(),
            a.status.to_string(),
            actor,
            a.request_id.clone().unwrap_or_default(),
            a.approved_by.clone().unwrap_or_default(),
            a.reviewed_by.clone().unwrap_or_default(),
            a.detail.clone(),
        ]);
    }
    #[derive(serde::Serialize)]
    struct Report<'a> {
        journal: String,
        attempts: &'a [crate::store::Attempt],
        seals: &'a [crate::store::RunSeal],
    }
    let report = Report { journal: path.display().to_string(), attempts: &attempts, seals: &seals };
    if args.format == Format::Json {
        crate::report::write_json(ui.out(), &report)?;
    } else {
        ui.print(args.format, &t, &attempts)?;
        if args.format != Format::Csv {
            let mut s = Table::new(["run", "rows up to", "seal", "signed by"]);
            for r in &seals {
                s.push([
                    r.run_id.clone(),
                    format!("#{}", r.last_seq),
                    if r.intact { "intact".to_owned() } else { r.problem.clone().unwrap_or_default() },
                    r.signed_by.clone().unwrap_or_else(|| "not signed".to_owned()),
                ]);
            }
            writeln!(ui.out())?;
            ui.print(args.format, &s, &seals)?;
        }
    }
    match seals.iter().find_map(|r| r.problem.clone()) {
        Some(problem) => Err(CliError::bad_input(format!("{}: {problem}", path.display()))),
        None => Ok(exit_code::SUCCESS),
    }
}

pub(super) fn run(args: &ApplyArgs, ui: &mut Ui) -> Result<u8, CliError> {
    if args.journal_report {
        return journal_report(args, ui);
    }
    let key = args.signing.load()?;
    // Read once: the plan that is checked, hashed for the journal and applied is the same bytes.
    let file = PlanFile::read(&args.plan)?;
    let approved_by = check_binding(args, &file, ui)?;
    let PlanFile { plan, sha256: sha, .. } = file;
    if let Some(t) = args.azure.tenant()
        && let Ok(g) = t.parse::<Guid>()
        && g.as_str() != plan.tenant_id
    {
        return Err(wrong_tenant(&plan, g.as_str()));
    }
    let client = args.azure.client(4)?;
    let runtime = crate::cli::runtime()?;
    let (tenant, me, app) = runtime.block_on(identity(&client))?;
    if tenant != plan.tenant_id {
        return Err(wrong_tenant(&plan, &tenant));
    }
    let run = RunInfo {
        run_id: Guid::derived(&format!("{sha}{}{}", crate::clock::now(), std::process::id())).to_string(),
        plan_sha256: sha.clone(),
        actor_tid: tenant.clone(),
        actor_oid: me.clone(),
        actor_appid: app,
        approved_by,
    };
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
    let result = runtime.block_on(apply(&client, &plan, journal.as_ref(), &options, &me, &run, |a, o| {
        if progress {
            ui.note(&format!("[{}] {}: {}", o.status.label(), a.id, o.detail));
        }
    }));
    // Whatever happened, what the run recorded is sealed (and signed, with --signing-key).
    if let Some(j) = &journal {
        j.seal(&run.run_id, key.as_ref())?;
    }
    let outcomes = result?;
    let mut t = Table::new(["#", "action", "status", "detail", "id"]);
    for (i, (a, o)) in plan.actions.iter().zip(&outcomes).enumerate() {
        t.push([(i + 1).to_string(), a.describe(), o.status.label().to_owned(), o.detail.clone(), a.id.clone()]);
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
