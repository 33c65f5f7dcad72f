//! Timestamps as snapshots store them: UTC, RFC 3339, `Z` suffix, sub-second digits only when present.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time, UTC. Its text form is canonical, so equal times compare equal as stored text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }

    /// Whole days from `earlier` to this time (negative when `earlier` is later).
    pub fn days_since(&self, earlier: &Timestamp) -> i64 {
        (self.0 - earlier.0).num_days()
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp(t)
    }
}

impl FromStr for Timestamp {
    type Err = chrono::ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Timestamp(DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc)))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_is_canonical() {
        let a: Timestamp = "2026-01-02T03:04:05+01:00".parse().unwrap();
        assert_eq!(a.to_string(), "2026-01-02T02:04:05Z");
        let b: Timestamp = "2026-01-02T02:04:05.000Z".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(b.to_string(), "2026-01-02T02:04:05Z");
        let c: Timestamp = "2026-01-02T02:04:05.25Z".parse().unwrap();
        assert_eq!(c.to_string(), "2026-01-02T02:04:05.250Z");
    }
}
