//! Signatures that can be checked without azsnap: Ed25519 keys in OpenSSH's own formats, and SSHSIG signatures
//! (namespace `azsnap`) that `ssh-keygen -Y verify -n azsnap` accepts. The cryptography is the `ssh-key` crate's;
//! this module only loads keys, signs bytes and decides whose signature it trusts (a public key file, or an
//! OpenSSH `allowed_signers` file).

use std::path::Path;

use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};
use zeroize::Zeroizing;

/// The SSHSIG namespace of every azsnap signature (`ssh-keygen -Y … -n azsnap`).
pub const NAMESPACE: &str = "azsnap";

/// Why a key, a signature or a trust file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("{path}: cannot read: {why}")]
    Read { path: String, why: String },
    #[error("{path}: {why}")]
    Key { path: String, why: String },
    #[error("{0}")]
    Signature(String),
}

/// A secret Ed25519 key to sign with, read from an OpenSSH private key file (`ssh-keygen -t ed25519`, or
/// `azsnap keygen`).
pub struct SigningKey {
    key: PrivateKey,
}

impl std::fmt::Debug for SigningKey {
    /// The public fingerprint only; the secret is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.fingerprint())
    }
}

impl SigningKey {
    /// Reads the key at `path`. Only unencrypted Ed25519 keys are taken; the error says what the file is instead.
    pub fn load(path: &Path) -> Result<SigningKey, SignError> {
        let shown = path.display().to_string();
        let text = crate::files::read_text(path, crate::files::limit::SECRET)
            .map_err(|e| SignError::Read { path: shown.clone(), why: e.why })?;
        let key_err = |why: &str| SignError::Key { path: shown.clone(), why: why.to_owned() };
        let text = text.trim_start_matches('\u{feff}');
        let key = PrivateKey::from_openssh(text).map_err(|_| match other_key_type(text) {
            Some(kind) => key_err(&format!("a {kind} key; azsnap signs with Ed25519 keys only")),
            None => key_err("not an OpenSSH private key (`ssh-keygen -t ed25519` or `azsnap keygen` writes one)"),
        })?;
        if key.is_encrypted() {
            return Err(key_err(
                "the key is protected by a passphrase; azsnap signs unattended, so give it a key without one \
                 (`azsnap keygen`), kept in a secret store",
            ));
        }
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(key_err(&format!("a {} key; azsnap signs with Ed25519 keys only", key.algorithm())));
        }
        Ok(SigningKey { key })
    }

    /// An SSHSIG over `message`, armored (`-----BEGIN SSH SIGNATURE-----`), as `ssh-keygen -Y sign` writes it.
    pub fn sign(&self, message: &[u8]) -> Result<String, SignError> {
        let sig = self
            .key
            .sign(NAMESPACE, HashAlg::Sha512, message)
            .map_err(|e| SignError::Signature(format!("cannot sign: {e}")))?;
        sig.to_pem(LineEnding::LF).map_err(|e| SignError::Signature(format!("cannot encode the signature: {e}")))
    }

    /// The public key's fingerprint, as `ssh-keygen -l` prints it (`SHA256:…`).
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint(HashAlg::Sha256).to_string()
    }
}

/// The algorithm named inside an OpenSSH private key file this build does not decode (RSA, ECDSA, security keys),
/// for an error that says what the file is.
fn other_key_type(text: &str) -> Option<&'static str> {
    use base64::Engine as _;
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD.decode(body.trim()).ok()?;
    let has = |name: &str| bytes.windows(name.len()).any(|w| w == name.as_bytes());
    [
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519",
        "sk-ecdsa",
        "ssh-rsa",
        "ssh-dss",
    ]
    .into_iter()
    .find(|name| has(name))
}

/// A new Ed25519 key pair: the private key file's text (OpenSSH format, wiped from memory when dropped) and the
/// public key line.
pub fn generate(comment: &str) -> Result<(Zeroizing<String>, String), SignError> {
    let mut key = PrivateKey::random(&mut ssh_key::rand_core::OsRng, Algorithm::Ed25519)
        .map_err(|e| SignError::Signature(format!("cannot make a key: {e}")))?;
    key.set_comment(comment);
    let secret =
        key.to_openssh(LineEnding::LF).map_err(|e| SignError::Signature(format!("cannot encode the key: {e}")))?;
    let public = key
        .public_key()
        .to_openssh()
        .map_err(|e| SignError::Signature(format!("cannot encode the public key: {e}")))?;
    Ok((secret, public))
}

/// Who made a signature that checks out over its message: the key it carries.
#[derive(Debug, Clone)]
pub struct Signer {
    key: PublicKey,
}

impl Signer {
    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint(HashAlg::Sha256).to_string()
    }

    /// The key's algorithm as `ssh-keygen -l` names it (`ED25519`).
    pub fn algorithm(&self) -> String {
        self.key.algorithm().as_str().trim_start_matches("ssh-").to_ascii_uppercase()
    }

    /// `SHA256:… (ED25519)`: how azsnap names a signer everywhere (`info`, manifests, the journal).
    pub fn label(&self) -> String {
        format!("{} ({})", self.fingerprint(), self.algorithm())
    }
}

/// Checks the armored SSHSIG `armored` over `message`: that it is well formed, of namespace `azsnap`, and made by
/// the key it carries. Returns that key; whether the key is trusted is [`Trusted::accepts`]'s question.
pub fn check(armored: &str, message: &[u8]) -> Result<Signer, SignError> {
    let sig =
        SshSig::from_pem(armored.trim()).map_err(|_| SignError::Signature("the signature is not an SSHSIG".into()))?;
    if sig.namespace() != NAMESPACE {
        return Err(SignError::Signature(format!(
            "the signature is for namespace {:?}, not {NAMESPACE:?}",
            sig.namespace()
        )));
    }
    let key = PublicKey::from(sig.public_key().clone());
    key.verify(NAMESPACE, message, &sig)
        .map_err(|_| SignError::Signature("the signature does not match what it claims to sign".into()))?;
    Ok(Signer { key })
}

/// The keys whose signatures count: one public key, or the entries of an OpenSSH `allowed_signers` file.
#[derive(Debug, Clone, Default)]
pub struct Trusted {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    principals: String,
    key: PublicKey,
    /// `namespaces="…"`: when present, the entry counts only for these.
    namespaces: Option<Vec<String>>,
    /// `valid-after` / `valid-before`, as `YYYYMMDD[HHMM[SS]]` UTC, compared as text of equal length.
    valid_after: Option<String>,
    valid_before: Option<String>,
}

impl Trusted {
    /// One public key (`KEY.pub`, as `ssh-keygen` or `azsnap keygen` writes it).
    pub fn public_key_file(path: &Path) -> Result<Trusted, SignError> {
        let shown = path.display().to_string();
        let text = crate::files::read_text(path, crate::files::limit::SECRET)
            .map_err(|e| SignError::Read { path: shown.clone(), why: e.why })?;
        let key = PublicKey::from_openssh(text.trim_start_matches('\u{feff}').trim()).map_err(|_| SignError::Key {
            path: shown,
            why: "not an OpenSSH public key (one line: `ssh-ed25519 AAAA… comment`)".to_owned(),
        })?;
        let principals = key.comment().to_owned();
        Ok(Trusted {
            entries: vec![Entry { principals, key, namespaces: None, valid_after: None, valid_before: None }],
        })
    }

    /// An OpenSSH `allowed_signers` file (`ssh-keygen(1)`, ALLOWED SIGNERS): `principals [options] keytype key`
    /// a line, `#` comments. `namespaces`, `valid-after` and `valid-before` are honoured; `cert-authority` is
    /// refused (azsnap signatures are made with plain keys). Errors name the line.
    pub fn allowed_signers(path: &Path) -> Result<Trusted, SignError> {
        let shown = path.display().to_string();
        let text = crate::files::read_text(path, crate::files::limit::SECRET)
            .map_err(|e| SignError::Read { path: shown.clone(), why: e.why })?;
        let mut entries = Vec::new();
        for (n, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = |why: String| SignError::Key { path: shown.clone(), why: format!("line {}: {why}", n + 1) };
            entries.push(parse_allowed_signer(line).map_err(at)?);
        }
        if entries.is_empty() {
            return Err(SignError::Key { path: shown, why: "names no signer".to_owned() });
        }
        Ok(Trusted { entries })
    }

    /// The principals of the entry that trusts `signer` for azsnap signatures at `now` (`YYYYMMDDHHMMSS`, UTC),
    /// if one does.
    pub fn accepts(&self, signer: &Signer, now: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| {
                e.key.key_data() == signer.key.key_data()
                    && e.namespaces.as_ref().is_none_or(|ns| ns.iter().any(|n| n == NAMESPACE))
                    && e.valid_after.as_deref().is_none_or(|t| now.get(..t.len()).is_some_and(|n| n >= t))
                    && e.valid_before.as_deref().is_none_or(|t| now.get(..t.len()).is_some_and(|n| n < t))
            })
            .map(|e| e.principals.as_str())
    }

    /// The fingerprints of the trusted keys, for an error that says which keys were expected.
    pub fn fingerprints(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.key.fingerprint(HashAlg::Sha256).to_string()).collect()
    }
}

/// Splits on whitespace outside double quotes.
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut cur, mut quoted, mut started) = (String::new(), false, false);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    out.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            c => {
                cur.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(cur);
    }
    out
}

fn parse_allowed_signer(line: &str) -> Result<Entry, String> {
    let f = fields(line);
    let is_key_type = |s: &str| s.starts_with("ssh-") || s.starts_with("ecdsa-") || s.starts_with("sk-");
    let (options, key_at) = match f.get(1) {
        Some(t) if is_key_type(t) => (None, 1),
        Some(t) => (Some(t.as_str()), 2),
        None => return Err("expected `principals [options] keytype key`".to_owned()),
    };
    let key_text = f.get(key_at..).map(|k| k.join(" ")).unwrap_or_default();
    let key = PublicKey::from_openssh(&key_text).map_err(|_| "the key is not an OpenSSH public key".to_owned())?;
    let mut entry = Entry {
        principals: f[0].trim_matches('"').to_owned(),
        key,
        namespaces: None,
        valid_after: None,
        valid_before: None,
    };
    for option in split_options(options.unwrap_or_default()) {
        let (name, value) = option.split_once('=').unwrap_or((option.as_str(), ""));
        let value = value.trim_matches('"');
        match name.to_ascii_lowercase().as_str() {
            "namespaces" => entry.namespaces = Some(value.split(',').map(|s| s.trim().to_owned()).collect()),
            "valid-after" => entry.valid_after = Some(ssh_time(value)?),
            "valid-before" => entry.valid_before = Some(ssh_time(value)?),
            "cert-authority" => return Err("cert-authority entries are not supported; list the signing key".into()),
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(entry)
}

/// Comma-separated options, commas inside double quotes kept.
fn split_options(options: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut cur, mut quoted) = (String::new(), false);
    for c in options.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A `valid-after`/`valid-before` time, `YYYYMMDD[HHMM[SS]]` with an optional `Z` (azsnap compares in UTC).
fn ssh_time(value: &str) -> Result<String, String> {
    let digits = value.strip_suffix('Z').unwrap_or(value);
    if matches!(digits.len(), 8 | 12 | 14) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits.to_owned())
    } else {
        Err(format!("time {value:?} is not YYYYMMDD[HHMM[SS]]"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (SigningKey, String) {
        let (secret, public) = generate("test@azsnap").unwrap();
        let key = PrivateKey::from_openssh(secret.as_bytes()).unwrap();
        (SigningKey { key }, public)
    }

    #[test]
    fn a_signature_checks_over_its_message_only() {
        let (key, public) = pair();
        let sig = key.sign(b"statement").unwrap();
        assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----"));
        let signer = check(&sig, b"statement").unwrap();
        assert_eq!(signer.fingerprint(), key.fingerprint());
        assert_eq!(signer.algorithm(), "ED25519");
        assert!(check(&sig, b"statement!").is_err());
        assert!(check("not a signature", b"statement").is_err());
        let trusted =
            Trusted { entries: vec![parse_allowed_signer(&format!("auditor@contoso.com {public}")).unwrap()] };
        assert_eq!(trusted.accepts(&signer, "20261203000000"), Some("auditor@contoso.com"));
        let (other, _) = pair();
        let stranger = check(&other.sign(b"statement").unwrap(), b"statement").unwrap();
        assert_eq!(trusted.accepts(&stranger, "20261203000000"), None);
    }

    #[test]
    fn allowed_signers_options_are_honoured() {
        let (key, public) = pair();
        let signer = check(&key.sign(b"m").unwrap(), b"m").unwrap();
        let with = |options: &str| Trusted {
            entries: vec![parse_allowed_signer(&format!("a@b,c@d {options} {public}")).unwrap()],
        };
        let now = "20261203120000";
        assert!(with(r#"namespaces="git,azsnap""#).accepts(&signer, now).is_some());
        assert!(with(r#"namespaces="git""#).accepts(&signer, now).is_none());
        assert!(with("valid-after=20260101").accepts(&signer, now).is_some());
        assert!(with("valid-after=20270101").accepts(&signer, now).is_none());
        assert!(with(r#"valid-before="202612031100""#).accepts(&signer, now).is_none());
        assert!(with(r#"namespaces="azsnap",valid-before=20270101Z"#).accepts(&signer, now).is_some());
        assert!(parse_allowed_signer(&format!("x cert-authority {public}")).is_err());
        assert!(parse_allowed_signer(&format!("x bogus=1 {public}")).is_err());
        assert!(parse_allowed_signer("x ssh-ed25519 AAAAnot-base64").is_err());
    }
}
