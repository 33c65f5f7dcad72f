//! `azsnap verify SNAP`: SQLite integrity check plus fingerprint recomputation.
//!
//! Exit 0 when the file is sound and its data matches the fingerprint sealed into it; exit 3 otherwise.

use std::path::PathBuf;

use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::report::{RecordFormat, Table, write_json};
use crate::store::Snapshot;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The snapshot file.
    pub snapshot: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    pub format: RecordFormat,
}

#[derive(Debug, serde::Serialize)]
struct VerifyReport {
    path: String,
    verified: bool,
    integrity_problems: Vec<String>,
    stored_fingerprint: Option<String>,
    computed_fingerprint: String,
}

pub fn run(args: &VerifyArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let snap = Snapshot::open(&args.snapshot)?;
    let path = args.snapshot.display().to_string();
    let integrity_problems = snap.integrity_problems()?;
    let computed_fingerprint = snap.compute_fingerprint()?;
    let stored_fingerprint = snap.stored_fingerprint()?;
    let report = VerifyReport {
        verified: integrity_problems.is_empty() && stored_fingerprint.as_ref() == Some(&computed_fingerprint),
        path,
        integrity_problems,
        stored_fingerprint,
        computed_fingerprint,
    };
    match args.format {
        RecordFormat::Json => write_json(ui.out(), &report)?,
        RecordFormat::Table => {
            let mut t = Table::key_value();
            t.push(["snapshot", report.path.as_str()]);
            let integrity = if report.integrity_problems.is_empty() {
                "ok".to_owned()
            } else {
                report.integrity_problems.join("; ")
            };
            t.push(["integrity", &integrity]);
            t.push(["stored fingerprint", report.stored_fingerprint.as_deref().unwrap_or("(none)")]);
            t.push(["computed fingerprint", &report.computed_fingerprint]);
            t.push(["verified", if report.verified { "yes" } else { "no" }]);
            let style = ui.table_style();
            t.write_text(ui.out(), style)?;
        }
    }
    if let Some(problem) = report.integrity_problems.first() {
        return Err(CliError::bad_input(format!(
            "{}: snapshot is corrupt ({} integrity problem(s), first: {problem})",
            report.path,
            report.integrity_problems.len()
        )));
    }
    match &report.stored_fingerprint {
        None => Err(CliError::bad_input(format!("{}: snapshot was never sealed (it has no fingerprint)", report.path))),
        Some(stored) if *stored != report.computed_fingerprint => Err(CliError::bad_input(format!(
            "{}: fingerprint mismatch: the data was changed after the snapshot was written (sealed {}, now {})",
            report.path,
            short(stored),
            short(&report.computed_fingerprint)
        ))),
        Some(_) => Ok(exit_code::SUCCESS),
    }
}

fn short(fp: &str) -> &str {
    fp.get(..12).unwrap_or(fp)
}
