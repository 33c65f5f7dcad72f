//! The one error type at the command-line edge: an exit code, a one-line message, the causes, and optional hints.
//!
//! Library errors convert into it with the `From` impls here, and only here; [`exit_code_of`] is the one place that
//! decides which exit code an error means; [`CliError::from_error`] keeps the error's source chain as `caused by:`
//! lines. `cli::main` prints it. Nothing here panics or prints backtraces.

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

/// The exit code a library error means (docs/exit-codes.md): an unusable input file is [`exit_code::BAD_INPUT`], an
/// output that cannot be written [`exit_code::USAGE`], a refused login [`exit_code::AUTH`], a service that failed
/// for good [`exit_code::API_FAILURE`]. Errors that wrap another are decided by what they wrap.
pub(super) fn exit_code_of(e: &(dyn std::error::Error + 'static)) -> u8 {
    #[cfg(feature = "export")]
    use crate::analyze::export::ExportError;
    use crate::analyze::query::QueryError;
    use crate::apply::ApplyError;
    use crate::azure::ApiError;
    use crate::plan::PlanError;
    let bad_or_usage = |bad: bool| if bad { exit_code::BAD_INPUT } else { exit_code::USAGE };
    if let Some(e) = e.downcast_ref::<StoreError>() {
        return bad_or_usage(e.is_bad_input());
    }
    if let Some(e) = e.downcast_ref::<PlanError>() {
        return match e {
            PlanError::Store(s) => exit_code_of(s),
            other => bad_or_usage(other.is_bad_input()),
        };
    }
    if let Some(e) = e.downcast_ref::<ApiError>() {
        return match e {
            ApiError::Auth(crate::azure::credential::TokenFailure::Refused { .. }) => exit_code::AUTH,
            _ => exit_code::API_FAILURE,
        };
    }
    if let Some(e) = e.downcast_ref::<ApplyError>() {
        return match e {
            ApplyError::Api(a) => exit_code_of(a),
            ApplyError::Store(s) => exit_code_of(s),
        };
    }
    #[cfg(feature = "export")]
    if let Some(e) = e.downcast_ref::<ExportError>() {
        return match e {
            ExportError::Store(s) => exit_code_of(s),
            ExportError::Write { .. } => exit_code::USAGE,
            ExportError::Unsuitable { .. } => exit_code::BAD_INPUT,
        };
    }
    if let Some(e) = e.downcast_ref::<QueryError>() {
        return match e {
            QueryError::Store(s) => exit_code_of(s),
            QueryError::Usage(_) => exit_code::USAGE,
            QueryError::Sql(_) => exit_code::BAD_INPUT,
        };
    }
    if let Some(e) = e.downcast_ref::<crate::analyze::ignore::IgnoreError>() {
        return match e {
            crate::analyze::ignore::IgnoreError::Store(s) => exit_code_of(s),
            _ => exit_code::BAD_INPUT,
        };
    }
    // Input files that cannot be used: keys, signatures and trust files, files too big or not regular, tenant files.
    if e.is::<crate::signing::SignError>()
        || e.is::<crate::files::FileError>()
        || e.is::<crate::mock::tenant::TenantError>()
    {
        return exit_code::BAD_INPUT;
    }
    exit_code::USAGE
}

impl CliError {
    /// The error as one line with the exit code it means, and its sources as `caused by:` lines (each only when
    /// the line above does not already say it).
    pub fn from_error(e: &(dyn std::error::Error + 'static)) -> Self {
        let mut out = CliError::new(exit_code_of(e), e.to_string());
        let mut said = out.message.clone();
        let mut next = e.source();
        while let Some(cause) = next {
            let text = cause.to_string();
            if !text.is_empty() && !said.contains(&text) {
                out.details.push(format!("caused by: {text}"));
                said.push_str(&text);
            }
            next = cause.source();
        }
        out
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        CliError::from_error(&e)
    }
}

impl From<crate::signing::SignError> for CliError {
    /// A key, signature or trust file that cannot be used is a bad input file.
    fn from(e: crate::signing::SignError) -> Self {
        CliError::from_error(&e)
    }
}

impl From<crate::files::FileError> for CliError {
    fn from(e: crate::files::FileError) -> Self {
        CliError::from_error(&e)
    }
}

impl From<crate::mock::tenant::TenantError> for CliError {
    fn from(e: crate::mock::tenant::TenantError) -> Self {
        CliError::from_error(&e)
    }
}

impl From<crate::plan::PlanError> for CliError {
    fn from(e: crate::plan::PlanError) -> Self {
        match e {
            crate::plan::PlanError::Store(e) => e.into(),
            other => CliError::from_error(&other),
        }
    }
}

#[cfg(feature = "export")]
impl From<crate::analyze::export::ExportError> for CliError {
    fn from(e: crate::analyze::export::ExportError) -> Self {
        match e {
            crate::analyze::export::ExportError::Store(e) => e.into(),
            other => CliError::from_error(&other),
        }
    }
}

impl From<crate::azure::ApiError> for CliError {
    /// A refused login keeps its AADSTS explanation, trace id and hint.
    fn from(e: crate::azure::ApiError) -> Self {
        match e {
            crate::azure::ApiError::Auth(f) => crate::cli::azure_args::auth_error(&f),
            other => CliError::from_error(&other),
        }
    }
}

impl From<crate::apply::ApplyError> for CliError {
    fn from(e: crate::apply::ApplyError) -> Self {
        match e {
            crate::apply::ApplyError::Api(e) => e.into(),
            crate::apply::ApplyError::Store(e) => e.into(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot use the plan")]
    struct Outer(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("cannot use the plan: {0}")]
    struct Says(#[source] std::io::Error);

    #[test]
    fn sources_become_caused_by_lines_once() {
        let e = CliError::from_error(&Outer(std::io::Error::other("disk on fire")));
        assert_eq!(e.message, "cannot use the plan");
        assert_eq!(e.details, ["caused by: disk on fire"]);
        // A message that already says its source is not repeated.
        let e = CliError::from_error(&Says(std::io::Error::other("disk on fire")));
        assert!(e.details.is_empty(), "{:?}", e.details);
    }

    #[test]
    fn one_function_decides_the_exit_code() {
        let missing = StoreError::NotFound { path: "x.db".into() };
        assert_eq!(exit_code_of(&missing), exit_code::BAD_INPUT);
        assert_eq!(exit_code_of(&StoreError::Exists { path: "x.db".into() }), exit_code::USAGE);
        let wrapped = crate::apply::ApplyError::Store(StoreError::NotFound { path: "j".into() });
        assert_eq!(exit_code_of(&wrapped), exit_code::BAD_INPUT);
        let file = crate::files::FileError { path: "p.json".into(), why: "is a directory".into() };
        assert_eq!(exit_code_of(&file), exit_code::BAD_INPUT);
        assert_eq!(CliError::from(file).code, exit_code::BAD_INPUT);
        let api = crate::azure::ApiError::Limit { service: "graph", message: "gave up".into() };
        assert_eq!(exit_code_of(&api), exit_code::API_FAILURE);
        assert_eq!(exit_code_of(&Outer(std::io::Error::other("x"))), exit_code::USAGE);
    }
}
