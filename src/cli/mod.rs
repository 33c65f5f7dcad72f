//! The command line: the clap root, the single dispatch `match`, and error printing.
//!
//! One file per subcommand holds its `…Args` and a `run` that validates, calls the library and renders. Only this
//! module and `report` print; only [`main`] decides the exit code.

mod access;
mod apply;
mod azure_args;
mod collect;
mod demo;
mod diff;
mod error;
mod history;
#[cfg(feature = "export")]
mod export;
#[cfg(not(feature = "export"))]
#[path = "export_missing.rs"]
mod export;
mod identities;
mod info;
mod keys;
mod mock;
mod output;
mod plan;
mod progress;
mod query;
mod report;
mod review;
mod ui;
mod unused_roles;
mod verify;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use error::CliError;

/// The async runtime for the commands that talk HTTP (collect, apply, the emulator, the demo).
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start the async runtime: {e}")))
}
pub use ui::Ui;

/// Offline snapshots of who can access what in an Azure tenant.
///
/// `collect` captures Entra ID and Azure Resource Manager access into one SQLite file; every other command works on
/// those files without the network, except `apply`, which executes a plan against the live APIs.
#[derive(Debug, Parser)]
#[command(name = "azsnap", version, about, long_about, max_term_width = 110)]
pub struct Cli {
    /// Print no progress, warnings or summaries on stderr (results and errors still print).
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Role ids to treat as privileged besides the built-in list (one GUID a line, `#` comments): directory roles,
    /// Azure roles or app roles. Every command that marks privileged access uses them.
    #[arg(long, global = true, value_name = "FILE")]
    pub privileged_roles: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Capture a full access snapshot of a tenant from Microsoft Graph and Azure Resource Manager.
    Collect(collect::CollectArgs),
    /// The Azure emulator: serve a tenant file, or generate one (also `azsnap emulator …`).
    #[command(subcommand, visible_alias = "emulator")]
    Mock(mock::MockCommand),
    /// A guided offline tour on the bundled emulator tenant: collect, change access, collect, diff.
    Demo(demo::DemoArgs),
    /// Show a snapshot's metadata, completeness, counts per kind and fingerprint.
    Info(info::InfoArgs),
    /// Check a snapshot's integrity, fingerprint, seal and signature; exit 3 if it was changed or is corrupt.
    Verify(verify::VerifyArgs),
    /// Write a new Ed25519 signing key pair (FILE and FILE.pub) for signing snapshots, bundles and plans.
    Keygen(keys::KeygenArgs),
    /// Show what changed between two snapshots; `--fail-on` turns drift into exit code 1.
    Diff(diff::DiffArgs),
    /// List role definitions nobody holds, and assignments held by disabled or inactive principals.
    UnusedRoles(unused_roles::UnusedRolesArgs),
    /// Classify every principal: person, guest, shared/room/equipment mailbox, application, managed identity.
    Identities(identities::IdentitiesArgs),
    /// Effective access of a principal, or on a resource, with nested groups and inherited scopes expanded.
    Access(access::AccessArgs),
    /// A timeline of grants over many snapshots of one tenant: when each appeared, disappeared or changed state.
    History(history::HistoryArgs),
    /// Run a named query from `queries/`, or your own SQL file, read-only.
    Query(query::QueryArgs),
    /// Write an audit evidence bundle: one file per table and a manifest of hashes.
    Export(export::ExportArgs),
    /// Write an HTML evidence report: checks, completeness, privileged holders and their paths, drift, trends.
    Report(report::ReportArgs),
    /// Write an access-review sheet with one row per grant and an empty decision column.
    Review(review::ReviewArgs),
    /// Build a provisioning plan (revert drift, revoke unused access, apply review decisions), or show one.
    #[command(subcommand)]
    Plan(plan::PlanCommand),
    /// Execute a plan against the live APIs: confirm, re-check live state, act, journal.
    Apply(apply::ApplyArgs),
}

/// Parses the process arguments, runs the command and returns its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with exit 0; usage errors to stderr with exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { crate::exit_code::USAGE } else { crate::exit_code::SUCCESS });
        }
    };
    let mut ui = Ui::stdio(cli.quiet);
    // `mock serve` stops gracefully on Ctrl-C itself; every other command is interrupted cleanly.
    if !matches!(cli.command, Command::Mock(mock::MockCommand::Serve(_))) {
        on_interrupt();
    }
    let result =
        extra_privileged(cli.privileged_roles.as_deref()).and_then(|()| run(&cli.command, &mut ui)).and_then(|code| {
            ui.flush()?;
            Ok(code)
        });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            e.print(&mut std::io::stderr());
            ExitCode::from(e.code)
        }
    }
}

/// Reads `--privileged-roles FILE` into the privileged list every command uses.
fn extra_privileged(path: Option<&std::path::Path>) -> Result<(), CliError> {
    let Some(path) = path else { return Ok(()) };
    let text = crate::files::read_text(path, crate::files::limit::IGNORE)
        .map_err(|e| CliError::bad_input(format!("cannot read the privileged roles file {e}")))?;
    let extra = crate::analyze::privileged::parse_extra(&text)
        .map_err(|e| CliError::bad_input(format!("{}: {e}", path.display())))?;
    crate::analyze::privileged::add_extra(extra);
    Ok(())
}

/// On Ctrl-C (SIGINT) or SIGTERM: remove the partial files this process is writing, say so in one line, and
/// exit with [`crate::exit_code::INTERRUPTED`]. Nothing half-written is left at an output's name or beside it.
fn on_interrupt() {
    let spawned = std::thread::Builder::new().name("interrupt".to_owned()).spawn(|| {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        rt.block_on(async {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
                else {
                    return;
                };
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            #[cfg(not(unix))]
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            crate::cli::ui::clear_progress();
            let targets = crate::store::exclusive::remove_interrupted();
            let what = if targets.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = targets.iter().map(|t| t.display().to_string()).collect();
                format!("; nothing written at {}", names.join(", "))
            };
            let _ = writeln!(std::io::stderr(), "interrupted{what}");
            std::process::exit(i32::from(crate::exit_code::INTERRUPTED));
        });
    });
    drop(spawned);
}

/// Runs one command; the single dispatch point.
pub fn run(command: &Command, ui: &mut Ui) -> Result<u8, CliError> {
    match command {
        Command::Collect(args) => collect::run(args, ui),
        Command::Mock(cmd) => mock::run(cmd, ui),
        Command::Demo(args) => demo::run(args, ui),
        Command::Info(args) => info::run(args, ui),
        Command::Verify(args) => verify::run(args, ui),
        Command::Keygen(args) => keys::keygen(args, ui),
        Command::Diff(args) => diff::run(args, ui),
        Command::UnusedRoles(args) => unused_roles::run(args, ui),
        Command::Identities(args) => identities::run(args, ui),
        Command::Access(args) => access::run(args, ui),
        Command::History(args) => history::run(args, ui),
        Command::Query(args) => query::run(args, ui),
        Command::Export(args) => export::run(args, ui),
        Command::Report(args) => report::run(args, ui),
        Command::Review(args) => review::run(args, ui),
        Command::Plan(cmd) => plan::run(cmd, ui),
        Command::Apply(args) => apply::run(args, ui),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
