//! `azsnap verify SNAP [--key KEY.pub | --allowed-signers FILE]`: SQLite integrity, the data fingerprint, the seal
//! over metadata, part statuses and statistics, and the signature.
//!
//! Exit 0 when every check passes (and, with a trusted key, the seal is signed by it); exit 3 otherwise, naming
//! what disagrees.

use std::path::PathBuf;

use crate::cli::keys::{TrustArgs, require_trusted};
use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::report::{RecordFormat, Table, write_json};
use crate::store::{SealCheck, SignatureCheck, Snapshot, Verification};

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The snapshot file.
    pub snapshot: PathBuf,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: RecordFormat,
}

#[derive(Debug, serde::Serialize)]
struct VerifyReport {
    path: String,
    verified: bool,
    #[serde(flatten)]
    checks: Verification,
    /// With `--key`/`--allowed-signers`: whether the signature is by a trusted key, and its principals.
    trusted: Option<bool>,
    trusted_as: Option<String>,
}

pub(super) fn run(args: &VerifyArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let trusted = args.trust.load()?;
    let snap = Snapshot::open(&args.snapshot)?;
    let path = args.snapshot.display().to_string();
    let checks = snap.verify()?;
    let mut failure = checks.problem().map(|p| CliError::bad_input(format!("{path}: {p}")));
    let mut trusted_as = None;
    if let Some(trusted) = &trusted {
        let why = match (&checks.seal, &checks.signature) {
            (SealCheck::NotSealed, _) => Some(format!(
                "format {} has no seal to sign; collect it again with this azsnap and --signing-key",
                snap.format_version()
            )),
            (_, SignatureCheck::Unsigned) => Some("the snapshot is not signed".to_owned()),
            (_, SignatureCheck::Valid { signer, .. }) => {
                match require_trusted(trusted, &args.trust.source(), signer, "the seal") {
                    Ok(principals) => {
                        trusted_as = Some(principals.to_owned());
                        None
                    }
                    Err(e) => Some(e.message),
                }
            }
            (_, SignatureCheck::Invalid { .. }) => None, // already the failure
        };
        if let Some(why) = why
            && failure.is_none()
        {
            failure = Some(CliError::bad_input(format!("{path}: {why}")));
        }
    }
    let report = VerifyReport {
        verified: failure.is_none(),
        trusted: trusted.as_ref().map(|_| trusted_as.is_some()),
        trusted_as,
        path,
        checks,
    };
    match args.format {
        RecordFormat::Json => write_json(ui.out(), &report)?,
        RecordFormat::Table => render(&report, ui)?,
    }
    if matches!(report.checks.seal, SealCheck::NotSealed) && failure.is_none() {
        ui.note(&format!(
            "note: {}: format {} predates seals: the data is checked, its metadata (times, tenant, options, part \
             statuses, statistics) is not sealed",
            report.path,
            snap.format_version()
        ));
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(exit_code::SUCCESS),
    }
}

fn render(r: &VerifyReport, ui: &mut Ui) -> std::io::Result<()> {
    let c = &r.checks;
    let mut t = Table::key_value();
    t.push(["snapshot", r.path.as_str()]);
    let integrity = if c.integrity_problems.is_empty() { "ok".to_owned() } else { c.integrity_problems.join("; ") };
    t.push(["integrity", &integrity]);
    t.push(["stored fingerprint", c.stored_fingerprint.as_deref().unwrap_or("(none)")]);
    t.push(["computed fingerprint", &c.computed_fingerprint]);
    let seal = match &c.seal {
        SealCheck::NotSealed => "not sealed (format before 1.2)".to_owned(),
        SealCheck::Intact { sha256 } => format!("intact ({sha256})"),
        SealCheck::Broken { differences } => format!("broken: {}", differences.join("; ")),
    };
    t.push(["seal", &seal]);
    let signature = match &c.signature {
        SignatureCheck::Unsigned => "none".to_owned(),
        SignatureCheck::Valid { signer, .. } => format!("valid, by {}", signer.label()),
        SignatureCheck::Invalid { reason } => format!("invalid: {reason}"),
    };
    t.push(["signature", &signature]);
    match (r.trusted, &r.trusted_as) {
        (Some(true), Some(who)) => t.push(["trusted", &format!("yes ({who})")]),
        (Some(_), _) => t.push(["trusted", "no"]),
        (None, _) => {}
    }
    t.push(["verified", if r.verified { "yes" } else { "no" }]);
    let style = ui.table_style();
    t.write_text(ui.out(), style)
}
