//! The process exit codes of `azsnap`, as documented in `docs/exit-codes.md`.
//!
//! Every command maps its outcome to exactly one of these; tests assert on the constants, not on raw numbers.

/// Success. For `diff --fail-on`: no drift of the kind named.
pub const SUCCESS: u8 = 0;
/// Drift or findings are present, and the command was asked to fail on them (`--fail-on`).
pub const FINDINGS: u8 = 1;
/// Usage error: bad flags, a missing argument, an output path that cannot be written, a command not built yet.
pub const USAGE: u8 = 2;
/// Bad input file: not a snapshot, corrupt, unknown format version, tampered with, malformed plan.
pub const BAD_INPUT: u8 = 3;
/// Authentication or permission failure: bad secret, missing Graph permission, tenant mismatch.
pub const AUTH: u8 = 4;
/// Azure API failure after retries: network, 5xx, throttling beyond the retry budget.
pub const API_FAILURE: u8 = 5;
/// Collection finished but incomplete: a part was not collected for a reason other than an option.
pub const INCOMPLETE: u8 = 6;
/// `apply` finished with at least one failed action.
pub const APPLY_FAILED: u8 = 7;
/// Interrupted (Ctrl-C or SIGTERM): partial files removed, nothing written at the output's name.
pub const INTERRUPTED: u8 = 130;

/// Every exit code with its name, in order; `docs/exit-codes.md` documents each (a test checks it).
pub const ALL: &[(&str, u8)] = &[
    ("SUCCESS", SUCCESS),
    ("FINDINGS", FINDINGS),
    ("USAGE", USAGE),
    ("BAD_INPUT", BAD_INPUT),
    ("AUTH", AUTH),
    ("API_FAILURE", API_FAILURE),
    ("INCOMPLETE", INCOMPLETE),
    ("APPLY_FAILED", APPLY_FAILED),
    ("INTERRUPTED", INTERRUPTED),
];
