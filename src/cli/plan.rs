//! `azsnap plan …`: build provisioning plans offline, or show one.

use std::path::PathBuf;

use crate::cli::{CliError, Ui};

#[derive(Debug, clap::Subcommand)]
pub enum PlanCommand {
    /// Undo the drift between a baseline and the current snapshot.
    Revert {
        #[arg(long, value_name = "OLD.db")]
        baseline: PathBuf,
        #[arg(long, value_name = "NEW.db")]
        current: PathBuf,
        #[arg(short, long, value_name = "plan.json")]
        output: PathBuf,
    },
    /// Revoke access held by disabled or inactive principals.
    RevokeUnused {
        snapshot: PathBuf,
        #[arg(long, default_value_t = 90, value_name = "N")]
        inactive_days: u32,
        /// Only non-human identities.
        #[arg(long)]
        non_human_only: bool,
        #[arg(short, long, value_name = "plan.json")]
        output: PathBuf,
    },
    /// Turn the `revoke` decisions of a review sheet into a plan.
    FromReview {
        review: PathBuf,
        #[arg(long, value_name = "SNAP.db")]
        snapshot: PathBuf,
        #[arg(short, long, value_name = "plan.json")]
        output: PathBuf,
    },
    /// Render a plan for a person.
    Show { plan: PathBuf },
}

pub fn run(cmd: &PlanCommand, _ui: &mut Ui) -> Result<u8, CliError> {
    let name = match cmd {
        PlanCommand::Revert { .. } => "plan revert",
        PlanCommand::RevokeUnused { .. } => "plan revoke-unused",
        PlanCommand::FromReview { .. } => "plan from-review",
        PlanCommand::Show { .. } => "plan show",
    };
    Err(CliError::not_implemented(name))
}
