//! The wall clock, with a fixed override for reproducible runs.
//!
//! `AZSNAP_NOW` (an RFC 3339 time) pins "now" for tests and demos; nothing else reads the system clock.

use chrono::{DateTime, Utc};

use crate::Timestamp;

/// The environment variable that pins the clock.
pub const NOW_VAR: &str = "AZSNAP_NOW";

/// The current time, or the time in `AZSNAP_NOW` when it is set and valid.
pub fn now() -> Timestamp {
    std::env::var(NOW_VAR)
        .ok()
        .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| Timestamp::from(t.with_timezone(&Utc)))
        .unwrap_or_else(|| Timestamp::from(Utc::now()))
}
