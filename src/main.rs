//! The `azsnap` binary: parse the command line, run it, map the outcome to an exit code.
//!
//! Nothing else lives here; see `azsnap::cli` for dispatch and error printing.

use std::process::ExitCode;

fn main() -> ExitCode {
    azsnap::cli::main()
}
