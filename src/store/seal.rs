//! The seal: what the fingerprint leaves out, made tamper-evident.
//!
//! The fingerprint covers data rows only, so that two collections of an unchanged tenant share it. The seal covers
//! the rest of the evidence: a canonical JSON *statement* of the fingerprint and of every `meta`, `parts` and
//! `request_stats` row (keys sorted, rows in primary-key order, values typed), its SHA-256, and optionally an SSHSIG
//! over the statement's bytes. `verify` rebuilds the statement from the rows as they are and names every difference.
//! Without a signature, the seal proves only that the file is consistent with itself: anyone who can run azsnap can
//! re-seal an edited file. With a signature checked against a trusted key, it proves who sealed it.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::signing::{Signer, SigningKey};
use crate::store::meta::key;
use crate::store::{Snapshot, StoreError};

/// The statement a seal is the SHA-256 of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Statement {
    kind: String,
    seal_version: u32,
    fingerprint: Option<String>,
    meta: BTreeMap<String, String>,
    parts: Vec<BTreeMap<String, Value>>,
    request_stats: Vec<BTreeMap<String, Value>>,
}

const KIND: &str = "azsnap-seal";

fn statement(conn: &Connection) -> rusqlite::Result<Statement> {
    let mut stmt = conn.prepare("SELECT key, value FROM meta ORDER BY key")?;
    let meta: BTreeMap<String, String> =
        stmt.query_map([], |r| Ok((r.get("key")?, r.get("value")?)))?.collect::<Result<_, _>>()?;
    Ok(Statement {
        kind: KIND.to_owned(),
        seal_version: 1,
        fingerprint: meta.get(key::FINGERPRINT).cloned(),
        meta,
        parts: rows(conn, "parts", "name")?,
        request_stats: rows(conn, "request_stats", "service")?,
    })
}

/// Every row of `table` as a map of column name to typed value, ordered by `order`.
fn rows(conn: &Connection, table: &str, order: &str) -> rusqlite::Result<Vec<BTreeMap<String, Value>>> {
    let mut stmt = conn.prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))?;
    let names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let mut out = Vec::new();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let mut m = BTreeMap::new();
        for (i, name) in names.iter().enumerate() {
            let v = match row.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::from(n),
                ValueRef::Real(f) => Value::from(f),
                ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::from(crate::model::hex(b)),
            };
            m.insert(name.clone(), v);
        }
        out.push(m);
    }
    Ok(out)
}

fn encode(s: &Statement) -> String {
    // Struct fields in declared order, maps sorted: the same rows always give the same bytes.
    let mut text = serde_json::to_string(s).unwrap_or_default();
    text.push('\n');
    text
}

/// Writes the seal of the snapshot being finished at `path` (`conn`), signed with `key` when given.
pub(crate) fn write(conn: &Connection, path: &Path, key: Option<&SigningKey>) -> Result<(), StoreError> {
    let sql_err = |source| StoreError::WriteSql { path: path.to_owned(), source };
    let text = encode(&statement(conn).map_err(sql_err)?);
    let sha = crate::model::sha256_hex(text.as_bytes());
    let signature = sign(key, &text, path)?;
    conn.execute(
        "INSERT OR REPLACE INTO seal (id, statement, sha256, signature) VALUES (1, ?1, ?2, ?3)",
        (&text, &sha, &signature),
    )
    .map_err(sql_err)?;
    Ok(())
}

/// An SSHSIG over `text` with `key`, when there is a key, for the file at `path` (a snapshot or a journal).
pub(crate) fn sign(key: Option<&SigningKey>, text: &str, path: &Path) -> Result<Option<String>, StoreError> {
    key.map(|k| k.sign(text.as_bytes()))
        .transpose()
        .map_err(|e| StoreError::Write { path: path.to_owned(), source: std::io::Error::other(e.to_string()) })
}

/// What `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub integrity_problems: Vec<String>,
    pub stored_fingerprint: Option<String>,
    pub computed_fingerprint: String,
    pub seal: SealCheck,
    pub signature: SignatureCheck,
}

/// The seal, checked.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SealCheck {
    /// The format predates seals (before 1.2): metadata, part statuses and statistics are not covered.
    NotSealed,
    /// The statement matches the rows and its SHA-256.
    Intact { sha256: String },
    /// What disagrees, one line each (`meta complete: sealed "true", now "false"`).
    Broken { differences: Vec<String> },
}

/// The signature over the statement, checked with the key it carries (trust is the caller's question).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SignatureCheck {
    Unsigned,
    Valid {
        fingerprint: String,
        algorithm: String,
        #[serde(skip)]
        signer: Signer,
    },
    Invalid {
        reason: String,
    },
}

impl SignatureCheck {
    /// The signer as `SHA256:… (ED25519)`, when the signature checks out.
    pub fn signed_by(&self) -> Option<String> {
        match self {
            SignatureCheck::Valid { signer, .. } => Some(signer.label()),
            _ => None,
        }
    }
}

impl Verification {
    /// Whether the file is sound, its data matches the fingerprint and the seal (when it has one) is intact, and a
    /// signature, if present, checks out.
    pub fn ok(&self) -> bool {
        self.integrity_problems.is_empty()
            && self.stored_fingerprint.as_deref() == Some(self.computed_fingerprint.as_str())
            && !matches!(self.seal, SealCheck::Broken { .. })
            && !matches!(self.signature, SignatureCheck::Invalid { .. })
    }

    /// The first reason the snapshot fails verification, as one line, if it does.
    pub fn problem(&self) -> Option<String> {
        if let Some(p) = self.integrity_problems.first() {
            return Some(format!(
                "snapshot is corrupt ({} integrity problem(s), first: {p})",
                self.integrity_problems.len()
            ));
        }
        let short = |fp: &str| fp.get(..12).unwrap_or(fp).to_owned();
        match &self.stored_fingerprint {
            None => return Some("snapshot was never sealed (it has no fingerprint)".to_owned()),
            Some(stored) if *stored != self.computed_fingerprint => {
                return Some(format!(
                    "data changed after the snapshot was written: fingerprint mismatch (sealed {}, now {})",
                    short(stored),
                    short(&self.computed_fingerprint)
                ));
            }
            Some(_) => {}
        }
        seal_problem(&self.seal, &self.signature)
    }
}

/// What is wrong with a checked seal and signature, as one line, if anything is.
pub fn seal_problem(seal: &SealCheck, signature: &SignatureCheck) -> Option<String> {
    if let SealCheck::Broken { differences } = seal {
        let more = if differences.len() > 1 { format!(" (and {} more)", differences.len() - 1) } else { "".into() };
        return Some(format!(
            "the seal is broken: {}{more}",
            differences.first().map_or("the statement does not match", String::as_str)
        ));
    }
    if let SignatureCheck::Invalid { reason } = signature {
        return Some(format!("the signature is not valid: {reason}"));
    }
    None
}

impl Snapshot {
    /// The stored seal: (statement, SHA-256, signature), or `None` for a format without seals.
    pub fn stored_seal(&self) -> Result<Option<(String, String, Option<String>)>, StoreError> {
        let has_table: bool = self
            .connection()
            .query_row("SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'seal'", [], |r| {
                r.get(0)
            })
            .map_err(|e| StoreError::corrupt(self.path(), e))?;
        if !has_table {
            return Ok(None);
        }
        self.connection()
            .query_row("SELECT statement, sha256, signature FROM seal WHERE id = 1", [], |r| {
                Ok((r.get("statement")?, r.get("sha256")?, r.get("signature")?))
            })
            .optional()
            .map_err(|e| StoreError::corrupt(self.path(), e))
    }

    /// Runs every check: SQLite's integrity check, the fingerprint, the seal and the signature.
    pub fn verify(&self) -> Result<Verification, StoreError> {
        let integrity_problems = self.integrity_problems()?;
        let computed_fingerprint = self.compute_fingerprint()?;
        let stored_fingerprint = self.stored_fingerprint()?;
        let (seal, signature) = self.check_seal()?;
        Ok(Verification { integrity_problems, stored_fingerprint, computed_fingerprint, seal, signature })
    }

    /// The seal and the signature checked against the metadata, part and statistics rows as they are now — not
    /// the data rows (that is the fingerprint, which [`Snapshot::verify`] recomputes); cheap, for `info`.
    pub fn check_seal(&self) -> Result<(SealCheck, SignatureCheck), StoreError> {
        let Some((text, sha, sig)) = self.stored_seal()? else {
            let sealed_since = crate::store::meta::FormatVersion { major: 1, minor: 2 };
            return Ok(if self.format_version() < sealed_since {
                (SealCheck::NotSealed, SignatureCheck::Unsigned)
            } else {
                let missing = "the seal is missing from a format that has one".to_owned();
                (SealCheck::Broken { differences: vec![missing] }, SignatureCheck::Unsigned)
            });
        };
        let now = statement(self.connection()).map_err(|e| StoreError::corrupt(self.path(), e))?;
        let mut differences = Vec::new();
        if crate::model::sha256_hex(text.as_bytes()) != sha {
            differences.push("the stored SHA-256 is not that of the stored statement".to_owned());
        }
        match serde_json::from_str::<Statement>(&text) {
            Ok(sealed) => {
                differences.extend(compare(&sealed, &now));
                if differences.is_empty() && encode(&sealed) != text {
                    differences.push("the statement is not in canonical form".to_owned());
                }
            }
            Err(_) => differences.push("the stored statement is not a seal statement".to_owned()),
        }
        let seal =
            if differences.is_empty() { SealCheck::Intact { sha256: sha } } else { SealCheck::Broken { differences } };
        let signature = match sig {
            None => SignatureCheck::Unsigned,
            Some(armored) => match crate::signing::check(&armored, text.as_bytes()) {
                Ok(signer) => {
                    SignatureCheck::Valid { fingerprint: signer.fingerprint(), algorithm: signer.algorithm(), signer }
                }
                Err(e) => SignatureCheck::Invalid { reason: e.to_string() },
            },
        };
        Ok((seal, signature))
    }
}

/// Every way `now` differs from `sealed`, one line each, named by table and key.
fn compare(sealed: &Statement, now: &Statement) -> Vec<String> {
    let mut out = Vec::new();
    if sealed.kind != KIND || sealed.seal_version != 1 {
        out.push(format!(
            "statement kind {:?} version {} is not one this build reads",
            sealed.kind, sealed.seal_version
        ));
    }
    let shown = |v: Option<&String>| v.map_or_else(|| "(absent)".to_owned(), |v| format!("{v:?}"));
    for k in sealed.meta.keys().chain(now.meta.keys().filter(|k| !sealed.meta.contains_key(*k))) {
        let (a, b) = (sealed.meta.get(k), now.meta.get(k));
        if a != b {
            out.push(format!("meta {k}: sealed {}, now {}", shown(a), shown(b)));
        }
    }
    out.extend(compare_rows("parts", "name", &sealed.parts, &now.parts));
    out.extend(compare_rows("request_stats", "service", &sealed.request_stats, &now.request_stats));
    out
}

fn compare_rows(
    table: &str,
    key: &str,
    sealed: &[BTreeMap<String, Value>],
    now: &[BTreeMap<String, Value>],
) -> Vec<String> {
    let by_key = |rows: &[BTreeMap<String, Value>]| -> BTreeMap<String, BTreeMap<String, Value>> {
        rows.iter().map(|r| (r.get(key).map(value_text).unwrap_or_default(), r.clone())).collect()
    };
    let (a, b) = (by_key(sealed), by_key(now));
    let mut out = Vec::new();
    for (k, row) in &a {
        match b.get(k) {
            None => out.push(format!("{table} {k}: sealed, now removed")),
            Some(other) => {
                for (col, v) in row {
                    let w = other.get(col).unwrap_or(&Value::Null);
                    if v != w {
                        out.push(format!("{table} {k} {col}: sealed {v}, now {w}"));
                    }
                }
                for (col, w) in other.iter().filter(|(c, _)| !row.contains_key(*c)) {
                    out.push(format!("{table} {k} {col}: not sealed, now {w}"));
                }
            }
        }
    }
    out.extend(b.keys().filter(|k| !a.contains_key(*k)).map(|k| format!("{table} {k}: not sealed, now added")));
    out
}

fn value_text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}
