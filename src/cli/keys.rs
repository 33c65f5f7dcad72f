//! Signing keys and trusted keys on the command line, shared by `collect`, `export`, `plan sign`, `apply` and
//! `verify`; and `azsnap keygen`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::signing::{Signer, SigningKey, Trusted};

/// `--signing-key FILE`: an Ed25519 OpenSSH private key to sign with.
#[derive(Debug, Clone, clap::Args)]
pub struct SigningKeyArg {
    /// Sign with this Ed25519 private key (OpenSSH format, no passphrase; `azsnap keygen` or
    /// `ssh-keygen -t ed25519` writes one). The signature is an SSHSIG, namespace `azsnap`.
    #[arg(long, value_name = "FILE", env = "AZSNAP_SIGNING_KEY_FILE")]
    pub signing_key: Option<PathBuf>,
}

impl SigningKeyArg {
    /// The key, read and checked now (before any work), when one was given.
    pub fn load(&self) -> Result<Option<SigningKey>, CliError> {
        self.signing_key.as_deref().map(SigningKey::load).transpose().map_err(CliError::from)
    }
}

/// `--key KEY.pub` or `--allowed-signers FILE`: whose signatures count.
#[derive(Debug, Clone, clap::Args)]
pub struct TrustArgs {
    /// Require a signature by this public key (`KEY.pub`, one OpenSSH public key line).
    #[arg(long, value_name = "KEY.pub", conflicts_with = "allowed_signers")]
    pub key: Option<PathBuf>,
    /// Require a signature by a key in this OpenSSH allowed-signers file (`ssh-keygen(1)`, ALLOWED SIGNERS).
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
}

impl TrustArgs {
    /// The trusted keys, when `--key` or `--allowed-signers` was given.
    pub fn load(&self) -> Result<Option<Trusted>, CliError> {
        match (&self.key, &self.allowed_signers) {
            (Some(k), _) => Ok(Some(Trusted::public_key_file(k)?)),
            (None, Some(f)) => Ok(Some(Trusted::allowed_signers(f)?)),
            (None, None) => Ok(None),
        }
    }

    /// The file the trust came from, for messages.
    pub fn source(&self) -> String {
        self.key.as_deref().or(self.allowed_signers.as_deref()).map(|p| p.display().to_string()).unwrap_or_default()
    }
}

/// The principals `trusted` knows `signer` by, or exit 3 naming the signer and the keys that were expected.
pub(super) fn require_trusted<'a>(
    trusted: &'a Trusted,
    source: &str,
    signer: &Signer,
    what: &str,
) -> Result<&'a str, CliError> {
    trusted.accepts(signer, &now_ssh()).ok_or_else(|| {
        CliError::bad_input(format!(
            "{what} is signed by {} ({}), which {source} does not trust (it trusts {})",
            signer.fingerprint(),
            signer.algorithm(),
            trusted.fingerprints().join(", ")
        ))
    })
}

/// Now as `YYYYMMDDHHMMSS` (UTC), how allowed-signers validity times compare.
fn now_ssh() -> String {
    crate::clock::now().to_string().chars().filter(char::is_ascii_digit).take(14).collect()
}

#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Where to write the private key; the public key goes to `FILE.pub`.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// The key's comment (shown by `ssh-keygen -l`, and the principal in an allowed-signers line).
    #[arg(long, default_value = "azsnap")]
    pub comment: String,
}

/// `azsnap keygen -o FILE`: a new Ed25519 key pair, the secret file readable by its owner only (0600).
pub(super) fn keygen(args: &KeygenArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let public_path = crate::cli::output::beside(&args.output, ".pub");
    for p in [&args.output, &public_path] {
        if p.exists() {
            return Err(CliError::usage(format!("{}: already exists; keygen never replaces a key", p.display())));
        }
    }
    let (secret, public) = crate::signing::generate(&args.comment)?;
    write_new(&args.output, secret.as_bytes(), true)?;
    if let Err(e) = write_new(&public_path, format!("{public}\n").as_bytes(), false) {
        let _ = std::fs::remove_file(&args.output);
        return Err(e);
    }
    let fingerprint = SigningKey::load(&args.output)?.fingerprint();
    writeln!(ui.out(), "{fingerprint} {} (ED25519)", args.comment)?;
    ui.note(&format!(
        "wrote {} (secret, mode 0600) and {}; keep the secret in your CI's secret store, give the .pub to auditors",
        args.output.display(),
        public_path.display()
    ));
    Ok(exit_code::SUCCESS)
}

/// Creates `path` (never replacing anything), secret files with mode 0600 from the start.
fn write_new(path: &Path, bytes: &[u8], secret: bool) -> Result<(), CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let cannot = |e: std::io::Error| CliError::usage(format!("{}: cannot write: {e}", path.display()));
    let mut f = options.open(path).map_err(cannot)?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| {
        let _ = std::fs::remove_file(path);
        cannot(e)
    })
}
