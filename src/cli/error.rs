//! The one error type at the command-line edge: an exit code, a one-line message, and optional hints.
//!
//! Library errors convert into it with `From`; `cli::main` prints it. Nothing here panics or prints backtraces.

use std::io::Write;

use crate::exit_code;
use crate::model::text::printable;
use crate::store::StoreError;

/// A failed command, ready to print.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
    /// Lines printed as they are after the error line (`trace id: …`).
    pub details: Vec<String>,
    pub hints: Vec<String>,
    /// Print nothing (e.g. stdout was closed by a pager: a quiet, successful exit).
    pub silent: bool,
}

impl CliError {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        CliError { code, message: message.into(), details: Vec::new(), hints: Vec::new(), silent: false }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        CliError::new(exit_code::USAGE, message)
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        CliError::new(exit_code::BAD_INPUT, message)
    }

    pub fn with_detail(mut self, line: impl Into<String>) -> Self {
        self.details.push(line.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// Writes `error: …` and any `hint: …` lines.
    pub fn print(&self, err: &mut dyn Write) {
        if self.silent {
            return;
        }
        // Messages can quote names from the tenant or a file: control characters are shown, never obeyed.
        let _ = writeln!(err, "error: {}", printable(&self.message));
        for line in &self.details {
            let _ = writeln!(err, "{}", printable(line));
        }
        for hint in &self.hints {
            let _ = writeln!(err, "hint: {}", printable(hint));
        }
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        let code = if e.is_bad_input() { exit_code::BAD_INPUT } else { exit_code::USAGE };
        CliError::new(code, e.to_string())
    }
}

impl From<crate::signing::SignError> for CliError {
    /// A key, signature or trust file that cannot be used is a bad input file.
    fn from(e: crate::signing::SignError) -> Self {
        CliError::bad_input(e.to_string())
    }
}

impl From<crate::analyze::ignore::IgnoreError> for CliError {
    fn from(e: crate::analyze::ignore::IgnoreError) -> Self {
        match e {
            crate::analyze::ignore::IgnoreError::Store(e) => e.into(),
            rule => CliError::bad_input(format!("ignore file: {rule}")),
        }
    }
}

impl From<std::io::Error> for CliError {
    /// Only output errors reach here: a closed pipe ends the command quietly and successfully.
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError { silent: true, ..CliError::new(exit_code::SUCCESS, "") }
        } else {
            CliError::usage(format!("cannot write output: {e}"))
        }
    }
}
