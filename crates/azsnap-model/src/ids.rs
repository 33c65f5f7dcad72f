//! ID newtypes: GUIDs (Entra object ids, tenant ids, role ids) and Azure Resource Manager ids.
//!
//! Both validate on construction, so an ID that reaches a URL or an OData filter has been checked. Both are stored
//! in a canonical form (lower case) because Entra GUIDs and ARM ids compare case-insensitively.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Lower-case hexadecimal of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Lower-case hexadecimal SHA-256 of `bytes` (file hashes in manifests, plans and journals).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

/// Why a string is not a valid ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("'{0}' is not a GUID (expected 8-4-4-4-12 hexadecimal digits)")]
    NotGuid(String),
    #[error("'{0}' is not an Azure resource id (expected a path starting with '/')")]
    NotArmId(String),
}

/// A GUID in canonical lower-case `8-4-4-4-12` form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Guid(String);

impl Guid {
    /// The all-zero GUID, used by Graph as the "default access" app role.
    pub fn nil() -> Self {
        Guid("00000000-0000-0000-0000-000000000000".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A stable, version-4-shaped GUID from the first 16 bytes of `digest` (at least 16 long): ids derived from
    /// text, the same every time.
    pub fn from_digest(digest: &[u8]) -> Guid {
        let h = hex(&digest[..16.min(digest.len())]);
        let h = format!("{h:0<32}");
        Guid(format!("{}-{}-4{}-8{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32]))
    }

    /// [`Guid::from_digest`] of the SHA-256 of `text`.
    pub fn derived(text: &str) -> Guid {
        use sha2::{Digest, Sha256};
        Guid::from_digest(&Sha256::digest(text.as_bytes()))
    }

    /// Whether `s` has the shape of a GUID (case-insensitive, no braces).
    pub fn is_guid(s: &str) -> bool {
        let bytes = s.as_bytes();
        bytes.len() == 36
            && bytes.iter().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => *b == b'-',
                _ => b.is_ascii_hexdigit(),
            })
    }
}

impl FromStr for Guid {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if Guid::is_guid(s) { Ok(Guid(s.to_ascii_lowercase())) } else { Err(IdError::NotGuid(s.to_owned())) }
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An Azure Resource Manager id (`/subscriptions/…/resourceGroups/…`), or the root scope `/`.
///
/// Canonical form: lower case, a single leading `/`, no trailing `/`, no empty segments. The original casing is not
/// kept here; callers that need it for display keep the string they were given.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArmId(String);

impl ArmId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The root scope `/`.
    pub fn root() -> Self {
        ArmId("/".to_owned())
    }

    /// An id from text already in canonical form (built by this program, not read from outside); anything that
    /// does not parse becomes the root scope.
    pub fn from_canonical(s: &str) -> Self {
        s.parse().unwrap_or_else(|_| ArmId::root())
    }

    /// Whether `self` is `other` or lies below it (a scope contains itself).
    pub fn is_within(&self, other: &ArmId) -> bool {
        other.0 == "/"
            || self.0 == other.0
            || (self.0.starts_with(&other.0) && self.0.as_bytes().get(other.0.len()) == Some(&b'/'))
    }
}

impl FromStr for ArmId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || IdError::NotArmId(s.to_owned());
        if !s.starts_with('/') || s.chars().any(|c| c.is_control() || c == '?' || c == '#') {
            return Err(bad());
        }
        let trimmed = s.trim_end_matches('/');
        if trimmed.is_empty() {
            return Ok(ArmId::root());
        }
        if trimmed[1..].split('/').any(str::is_empty) {
            return Err(bad());
        }
        Ok(ArmId(trimmed.to_ascii_lowercase()))
    }
}

impl fmt::Display for ArmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_guids_are_stable_valid_and_distinct() {
        let a = Guid::derived("directoryRole:x");
        assert_eq!(a, Guid::derived("directoryRole:x"));
        assert_ne!(a, Guid::derived("directoryRole:y"));
        assert_eq!(a.as_str().parse::<Guid>(), Ok(a.clone()));
        assert_eq!(&a.as_str()[14..15], "4");
        assert_eq!(hex(&[0, 15, 255]), "000fff");
        assert_eq!(sha256_hex(b"").len(), 64);
    }

    #[test]
    fn guid_is_lowercased_and_validated() {
        let g: Guid = "62E90394-69F5-4237-9190-012177145E10".parse().unwrap();
        assert_eq!(g.as_str(), "62e90394-69f5-4237-9190-012177145e10");
        for bad in [
            "",
            "62e90394-69f5-4237-9190-012177145e1",
            "62e90394x69f5-4237-9190-012177145e10",
            "{62e90394-69f5-4237-9190-012177145e10}",
            "62e90394-69f5-4237-9190-012177145e1g",
            "' or 1 eq 1 or id eq '0000-0000-0000",
        ] {
            assert!(bad.parse::<Guid>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn arm_ids_compare_case_insensitively_and_nest() {
        let rg: ArmId = "/subscriptions/ABC/resourceGroups/RG1/".parse().unwrap();
        let sub: ArmId = "/subscriptions/abc".parse().unwrap();
        let other: ArmId = "/subscriptions/abcd".parse().unwrap();
        assert_eq!(rg.as_str(), "/subscriptions/abc/resourcegroups/rg1");
        assert!(rg.is_within(&sub));
        assert!(sub.is_within(&sub));
        assert!(!other.is_within(&sub), "prefix of a segment is not containment");
        assert!(sub.is_within(&ArmId::root()));
        assert_eq!("/".parse::<ArmId>().unwrap(), ArmId::root());
        for bad in ["", "subscriptions/x", "/a//b", "/a?b", "/a#b"] {
            assert!(bad.parse::<ArmId>().is_err(), "{bad:?} accepted");
        }
    }
}
