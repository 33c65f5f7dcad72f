//! `azsnap plan …`: build provisioning plans offline, or show one.

use std::path::{Path, PathBuf};

use crate::cli::output::{OutputFile, write_error};
use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::plan::{Plan, from_review, revert, revoke_unused};
use crate::report::{Format, Table, write_json};
use crate::store::Snapshot;

#[derive(Debug, clap::Args)]
pub struct PlanOutput {
    /// Where to write the plan.
    #[arg(short, long, value_name = "plan.json")]
    pub output: PathBuf,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum PlanCommand {
    /// Undo the drift between a baseline and the current snapshot.
    Revert {
        #[arg(long, value_name = "OLD.db")]
        baseline: PathBuf,
        #[arg(long, value_name = "NEW.db")]
        current: PathBuf,
        /// Build the plan even if the snapshots are of different tenants (the baseline's tenant is used).
        #[arg(long)]
        allow_tenant_mismatch: bool,
        /// Accepted changes not to revert: the ignore rules of `diff --ignore` (docs/diff-format.md).
        #[arg(long, value_name = "FILE")]
        ignore: Option<PathBuf>,
        #[command(flatten)]
        out: PlanOutput,
    },
    /// Revoke roles held by disabled, deleted or inactive principals.
    RevokeUnused {
        snapshot: PathBuf,
        #[arg(long, default_value_t = 90, value_name = "N")]
        inactive_days: u32,
        /// Only non-human identities.
        #[arg(long)]
        non_human_only: bool,
        #[command(flatten)]
        out: PlanOutput,
    },
    /// Turn the `revoke` decisions of a review sheet into a plan.
    FromReview {
        review: PathBuf,
        /// The snapshot the sheet was made from.
        #[arg(long, value_name = "SNAP.db")]
        snapshot: PathBuf,
        #[command(flatten)]
        out: PlanOutput,
    },
    /// Render a plan for a person, with its SHA-256 (what `apply --expect-sha256` takes) and who signed it.
    Show {
        plan: PathBuf,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Approve a plan: write PLAN.sig, an SSHSIG over the plan's bytes that `apply --require-signature` checks.
    Sign {
        plan: PathBuf,
        #[command(flatten)]
        signing: crate::cli::keys::SigningKeyArg,
        /// Replace an existing signature file.
        #[arg(long)]
        force: bool,
    },
    /// Print the JSON Schema of plan files.
    Schema,
}

pub(super) fn run(cmd: &PlanCommand, ui: &mut Ui) -> Result<u8, CliError> {
    let now = crate::clock::now();
    let (plan, out) = match cmd {
        PlanCommand::Show { plan, format } => return show(plan, *format, ui),
        PlanCommand::Sign { plan, signing, force } => return sign(plan, signing, *force, ui),
        PlanCommand::Schema => {
            write_json(ui.out(), &Plan::schema())?;
            return Ok(exit_code::SUCCESS);
        }
        PlanCommand::Revert { baseline, current, allow_tenant_mismatch, ignore, out } => {
            crate::cli::output::check_new(&out.output, out.force)?;
            let ignore = crate::cli::diff::read_ignore(ignore.as_deref())?;
            let old = Snapshot::open(baseline)?;
            let new = Snapshot::open(current)?;
            if let Some((a, b)) = crate::analyze::diff::tenant_mismatch(&old, &new)?
                && !allow_tenant_mismatch
            {
                return Err(CliError::bad_input(format!("the snapshots are of different tenants ({a} and {b})"))
                    .with_hint("a plan reverts drift within one tenant; pass --allow-tenant-mismatch to force"));
            }
            drop(new);
            (revert(&old, current, &ignore, now)?, out)
        }
        PlanCommand::RevokeUnused { snapshot, inactive_days, non_human_only, out } => {
            crate::cli::output::check_new(&out.output, out.force)?;
            (revoke_unused(&Snapshot::open(snapshot)?, *inactive_days, *non_human_only, now)?, out)
        }
        PlanCommand::FromReview { review, snapshot, out } => {
            crate::cli::output::check_new(&out.output, out.force)?;
            (from_review(review, &Snapshot::open(snapshot)?, now)?, out)
        }
    };
    save(&plan, &out.output, out.force)?;
    let removals = plan.actions.iter().filter(|a| a.operation.removes()).count();
    ui.note(&format!(
        "plan {}: {} actions ({} removals, {} additions, {} privileged); {} items not planned. Review it with `azsnap \
         plan show {}`, then `azsnap apply {}`",
        out.output.display(),
        plan.actions.len(),
        removals,
        plan.actions.len() - removals,
        plan.actions.iter().filter(|a| a.privileged).count(),
        plan.not_planned.len(),
        out.output.display(),
        out.output.display()
    ));
    Ok(exit_code::SUCCESS)
}

fn save(plan: &Plan, path: &Path, force: bool) -> Result<(), CliError> {
    let mut file = OutputFile::create(path, force)?;
    write_json(&mut file, plan).map_err(|e| write_error(path, e))?;
    file.commit()
}

/// `PLAN.sig`, beside the plan.
pub(super) fn signature_path(plan: &Path) -> PathBuf {
    crate::cli::output::beside(plan, ".sig")
}

/// A plan file read once: its bytes (what is hashed and signed) and the plan they hold.
pub(super) struct PlanFile {
    pub plan: Plan,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

impl PlanFile {
    pub(super) fn read(path: &Path) -> Result<PlanFile, CliError> {
        let bytes = crate::files::read(path, crate::files::limit::PLAN)?;
        let plan = Plan::from_bytes(path, &bytes)?;
        Ok(PlanFile { sha256: crate::model::sha256_hex(&bytes), plan, bytes })
    }

    /// The signer of `PLAN.sig` over these bytes: `None` when there is no signature file, an error (exit 3) when
    /// it does not check out.
    pub(super) fn signer(&self, path: &Path) -> Result<Option<crate::signing::Signer>, CliError> {
        let sig_path = signature_path(path);
        if !sig_path.exists() {
            return Ok(None);
        }
        let armored = crate::files::read_text(&sig_path, crate::files::limit::SECRET)?;
        let signer = crate::signing::check(&armored, &self.bytes).map_err(|e| {
            CliError::bad_input(format!("{}: {e} (was the plan changed after it was signed?)", sig_path.display()))
        })?;
        Ok(Some(signer))
    }
}

fn sign(path: &Path, signing: &crate::cli::keys::SigningKeyArg, force: bool, ui: &mut Ui) -> Result<u8, CliError> {
    let key = signing
        .load()?
        .ok_or_else(|| CliError::usage("plan sign needs a key: --signing-key FILE or AZSNAP_SIGNING_KEY_FILE"))?;
    let file = PlanFile::read(path)?;
    let out = signature_path(path);
    crate::cli::output::write_whole(&out, key.sign(&file.bytes)?.as_bytes(), force)?;
    ui.note(&format!(
        "signed plan {} (sha256 {}) with {}: {}; apply it with `azsnap apply {} --require-signature --allowed-signers FILE`",
        path.display(),
        file.sha256,
        key.fingerprint(),
        out.display(),
        path.display()
    ));
    Ok(exit_code::SUCCESS)
}

fn show(path: &Path, format: Format, ui: &mut Ui) -> Result<u8, CliError> {
    let file = PlanFile::read(path)?;
    let plan = &file.plan;
    if format == Format::Json {
        write_json(ui.out(), plan)?;
        return Ok(exit_code::SUCCESS);
    }
    let signed = match file.signer(path)? {
        Some(s) => format!("signed by {} ({})", s.fingerprint(), s.algorithm()),
        None => "not signed".to_owned(),
    };
    // CSV carries the ids next to the names, for a spreadsheet to sort and join on.
    let ids = format == Format::Csv;
    let mut headers = vec!["#", "action", "operation", "privileged", "reason", "id"];
    if ids {
        let id_columns =
            ["principal", "principal_detail", "principal_id", "target", "target_id", "role", "role_id", "scope"];
        headers.extend(id_columns);
    }
    let mut t = Table::new(headers);
    for (i, a) in plan.actions.iter().enumerate() {
        let mut row = vec![
            (i + 1).to_string(),
            a.describe(),
            a.operation.to_string(),
            if a.privileged { "yes" } else { "" }.to_owned(),
            a.reason.clone(),
            a.id.clone(),
        ];
        if ids {
            let role = a.role.as_ref();
            row.extend([
                a.principal.name.clone(),
                a.principal.detail.clone().unwrap_or_default(),
                a.principal.id.clone(),
                a.target.place().to_owned(),
                a.target.id.clone(),
                role.map(|r| r.name.clone()).unwrap_or_default(),
                role.map(|r| r.id.clone()).unwrap_or_default(),
                a.scope.clone().unwrap_or_default(),
            ]);
        }
        t.push(row);
    }
    let md = format == Format::Markdown;
    if format != Format::Csv {
        let sources: Vec<String> = plan
            .source
            .snapshots
            .iter()
            .map(|s| format!("{} {} ({})", s.role, s.file, short(&s.fingerprint)))
            .collect();
        let line = format!(
            "Plan ({}) for tenant {}, built {} from {}: {} actions",
            plan.source.command,
            plan.tenant_id,
            plan.created_at,
            sources.join(", "),
            plan.actions.len()
        );
        writeln!(ui.out(), "{}{line}\n", if md { "### " } else { "" })?;
        writeln!(ui.out(), "sha256 {} ({signed})\n", file.sha256)?;
    }
    ui.print(format, &t, &plan.actions)?;
    if !plan.not_planned.is_empty() && format != Format::Csv {
        writeln!(ui.out(), "\n{}Not planned ({}):", if md { "#### " } else { "" }, plan.not_planned.len())?;
        let mut n = Table::new(["what", "why"]);
        for np in &plan.not_planned {
            n.push([np.what.clone(), np.reason.clone()]);
        }
        ui.print(format, &n, &plan.not_planned)?;
    }
    Ok(exit_code::SUCCESS)
}

fn short(fingerprint: &str) -> &str {
    fingerprint.get(..12).unwrap_or(fingerprint)
}
