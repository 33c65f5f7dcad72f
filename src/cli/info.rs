//! `azsnap info SNAP`: metadata, completeness, per-part status, counts per kind and fingerprint.
//!
//! The JSON form is a stable interface for scripts (documented in `docs/snapshot-format.md`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::model::{Part, RequestStats};
use crate::report::{RecordFormat, Table, write_json};
use crate::store::{Counts, FORMAT, SealCheck, SignatureCheck, Snapshot, SnapshotMeta};

#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// The snapshot file.
    pub snapshot: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    pub format: RecordFormat,
}

/// Everything `info` reports, in the shape of its JSON output.
#[derive(Debug, serde::Serialize)]
struct InfoReport {
    path: String,
    #[serde(flatten)]
    meta: SnapshotMeta,
    /// Part name → status phrase (`complete`, `unavailable: license`, …).
    parts: BTreeMap<String, String>,
    /// Part name → objects written.
    part_objects: BTreeMap<String, u64>,
    counts: Counts,
    request_stats: Vec<RequestStats>,
    /// The seal's SHA-256 (format 1.2 and later); `verify` checks it.
    seal: Option<String>,
    /// Who signed the seal, as `ssh-keygen -l` prints a key (`SHA256:… (ED25519)`); the signature is checked over
    /// the stored statement, not against a trusted key (that is `verify --key`).
    signed_by: Option<String>,
    warnings: Vec<String>,
}

pub(super) fn run(args: &InfoArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let snap = Snapshot::open(&args.snapshot)?;
    let meta = snap.meta()?;
    let parts = snap.parts()?;
    let mut warnings = warnings(&snap, &meta, &parts);
    // The seal against the metadata as it is now (cheap; `verify` also recomputes the data's fingerprint), so
    // `info` never shows edited metadata without saying so.
    let (seal, signature) = snap.check_seal()?;
    let signed_by = signature.signed_by();
    if let SignatureCheck::Invalid { reason } = &signature {
        warnings.push(format!("the signature is not valid: {reason}"));
    }
    let seal = match seal {
        SealCheck::Intact { sha256 } => Some(sha256),
        SealCheck::Broken { differences } => {
            warnings.push(format!(
                "the metadata was changed after the snapshot was sealed ({}); what is shown is not what was collected; \
                 run `azsnap verify`",
                differences.join("; ")
            ));
            snap.stored_seal()?.map(|(_, sha, _)| sha)
        }
        SealCheck::NotSealed => None,
    };
    let report = InfoReport {
        path: args.snapshot.display().to_string(),
        seal,
        signed_by,
        warnings,
        parts: parts.iter().map(|p| (p.name.clone(), p.describe())).collect(),
        part_objects: parts.iter().map(|p| (p.name.clone(), p.objects)).collect(),
        counts: snap.counts()?,
        request_stats: snap.request_stats()?,
        meta,
    };
    match args.format {
        RecordFormat::Json => write_json(ui.out(), &report)?,
        RecordFormat::Table => render(&report, &parts, ui)?,
    }
    Ok(exit_code::SUCCESS)
}

fn warnings(snap: &Snapshot, meta: &SnapshotMeta, parts: &[Part]) -> Vec<String> {
    let mut w = Vec::new();
    if snap.format_version().minor > FORMAT.minor {
        w.push(format!(
            "written in format {}, newer than this azsnap ({FORMAT}); fields added since are not shown",
            snap.format_version()
        ));
    }
    if meta.fingerprint.is_none() {
        w.push("the snapshot was never sealed (no fingerprint)".to_owned());
    }
    if !meta.complete {
        w.push("the snapshot is partial: not every part was collected".to_owned());
    }
    for p in parts.iter().filter(|p| !p.status.counts_as_complete()) {
        w.push(format!("part {} {}", p.name, p.describe()));
    }
    w
}

fn render(r: &InfoReport, parts: &[Part], ui: &mut Ui) -> std::io::Result<()> {
    let style = ui.table_style();
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let mut about = Table::key_value();
    about.push(["snapshot", &r.path]);
    about.push(["format", &format!("{} (written by azsnap {})", r.meta.format_version, opt(&r.meta.tool_version))]);
    let tenant = match &r.meta.tenant_name {
        Some(name) => format!("{name} ({})", opt(&r.meta.tenant_id)),
        None => opt(&r.meta.tenant_id),
    };
    about.push(["tenant", &tenant]);
    about.push(["cloud", &opt(&r.meta.cloud)]);
    about.push(["started", &opt(&r.meta.started_at)]);
    about.push(["finished", &opt(&r.meta.finished_at)]);
    about.push(["complete", if r.meta.complete { "yes" } else { "no" }]);
    about.push(["fingerprint", &opt(&r.meta.fingerprint)]);
    about.push(["seal", r.seal.as_deref().unwrap_or("none (format before 1.2)")]);
    about.push(["signed by", r.signed_by.as_deref().unwrap_or("not signed")]);
    about.write_text(ui.out(), style)?;

    if !parts.is_empty() {
        let mut t = Table::new(["part", "status", "objects"]);
        for p in parts {
            t.push([p.name.clone(), p.describe(), p.objects.to_string()]);
        }
        writeln!(ui.out())?;
        t.write_text(ui.out(), style)?;
    }

    let c = &r.counts;
    let mut t = Table::new(["kind", "count"]);
    for (kind, n) in [
        ("users", c.users),
        ("groups", c.groups),
        ("service principals", c.service_principals),
        ("managed identities", c.managed_identities),
        ("other principals", c.other_principals),
        ("management groups", c.management_groups),
        ("subscriptions", c.subscriptions),
        ("resource groups", c.resource_groups),
        ("storage accounts", c.storage_accounts),
        ("containers", c.containers),
        ("user-assigned identities", c.user_assigned_identities),
        ("other resources", c.other_resources),
        ("role definitions", c.role_definitions),
        ("grants", c.grants),
    ] {
        t.push([kind.to_owned(), n.to_string()]);
    }
    for (relation, n) in &c.grants_by_relation {
        t.push([format!("  grants: {relation}"), n.to_string()]);
    }
    writeln!(ui.out())?;
    t.write_text(ui.out(), style)?;

    if !r.request_stats.is_empty() {
        let mut t = Table::new(["service", "requests", "pages", "throttled", "retried", "failed", "bytes"]);
        for s in &r.request_stats {
            t.push([
                s.service.clone(),
                s.requests.to_string(),
                s.pages.to_string(),
                s.throttled.to_string(),
                s.retried.to_string(),
                s.failed.to_string(),
                s.bytes.to_string(),
            ]);
        }
        writeln!(ui.out())?;
        t.write_text(ui.out(), style)?;
    }
    for w in &r.warnings {
        ui.note(&format!("warning: {w}"));
    }
    Ok(())
}
