//! `azsnap mock serve|generate`: the Azure emulator and its synthetic tenants.

use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::output::{self, OutputFile};
use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::mock::faults::FaultRates;
use crate::mock::generate::{Sizes, generate};
use crate::mock::limits::Limits;
use crate::mock::{Emulator, EmulatorOptions, License, TenantFile, TlsIdentity};

/// `--license free|p1|p2`, its values listed in `--help`.
fn license_parser() -> impl clap::builder::TypedValueParser<Value = License> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(License::NAMES).try_map(|s| s.parse::<License>())
}

/// Reads and validates the tenant file at `path` (a regular file within the size limit).
fn load_tenant(path: &std::path::Path) -> Result<TenantFile, crate::mock::tenant::TenantError> {
    let shown = path.display().to_string();
    let text = crate::files::read(path, crate::files::limit::TENANT).map_err(|e| {
        crate::mock::tenant::TenantError::Read { path: shown.clone(), source: std::io::Error::other(e.why) }
    })?;
    TenantFile::parse(&text, &shown)
}

#[derive(Debug, clap::Subcommand)]
pub enum MockCommand {
    /// Serve Graph, ARM and the token endpoint for a tenant on one loopback port, until killed.
    Serve(ServeArgs),
    /// Write a deterministic synthetic tenant file.
    Generate(GenerateArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Port to listen on; 0 picks a free one. The first line on stdout is `listening on http://127.0.0.1:PORT`
    /// (`https://` with `--tls`).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Serve HTTPS, with a certificate for 127.0.0.1, localhost and ::1 issued by a certificate authority generated
    /// at start; its certificate is written to `--tls-ca-file` for clients to trust (SSL_CERT_FILE,
    /// REQUESTS_CA_BUNDLE). See docs/emulator.md.
    #[arg(long)]
    pub tls: bool,
    /// Serve HTTPS with this certificate chain (PEM, leaf first) instead of a generated one; needs `--tls-key`.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of `--tls-cert` (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Where `--tls` writes the generated authority's certificate (PEM) [default:
    /// azsnap-emulator-ca-PORT.pem in the temporary directory].
    #[arg(long, value_name = "FILE", requires = "tls", conflicts_with = "tls_cert")]
    pub tls_ca_file: Option<PathBuf>,
    /// Tenant file to serve (see docs/tenant-format.md) [default: the bundled Contoso tenant].
    #[arg(long, value_name = "FILE", conflicts_with = "generate")]
    pub tenant: Option<PathBuf>,
    /// Serve a generated tenant of this size preset (s, m, l, xl) instead of a file.
    #[arg(long, value_name = "SIZE")]
    pub generate: Option<String>,
    /// Serve as if the tenant had this Entra ID license (default: the tenant file's).
    #[arg(long, value_parser = license_parser())]
    pub license: Option<License>,
    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, default_value_t = 3599, value_name = "SECS")]
    pub token_lifetime: u64,
    /// Added delay before every answer, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    /// Items per page of ARM lists.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub arm_page_size: usize,
    /// Seed for the token signing key and the fault sequence.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Throttling: the documented Graph and ARM limits, or none.
    #[arg(long, value_enum, default_value = "documented")]
    pub throttle: ThrottleMode,
    /// Injected faults and their rates, e.g. `5xx=0.05,429=0.05,429-no-retry-after=0.02,reset=0.01,slow=0.01`.
    #[arg(long, value_name = "SPEC", default_value = "")]
    pub faults: FaultRates,
    /// Age in seconds after which a delta token is refused with 410 (Graph documents 7 days).
    #[arg(long, default_value_t = 7 * 24 * 3600, value_name = "SECS")]
    pub delta_token_max_age: u64,
    /// How long a `slow` fault delays its answer, in milliseconds.
    #[arg(long, default_value_t = 1_500, value_name = "MS")]
    pub slow_ms: u64,
    /// Connections served at once; more are closed as they arrive.
    #[arg(long, default_value_t = 512, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_connections: usize,
    /// Seconds a client may take to send a request's headers, or stay idle between requests, before its connection
    /// is closed.
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,
}

/// Whether the emulator throttles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ThrottleMode {
    /// Graph's identity resource-unit buckets and reports tier, and ARM's token buckets, as documented.
    Documented,
    /// No throttling.
    Off,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Size preset: s (1k users), m (20k), l (200k), xl (1M). Explicit counts override it.
    #[arg(long, default_value = "s")]
    pub size: String,
    /// Number of users.
    #[arg(long)]
    pub users: Option<usize>,
    /// Number of groups.
    #[arg(long)]
    pub groups: Option<usize>,
    /// Number of enterprise applications.
    #[arg(long)]
    pub apps: Option<usize>,
    /// Number of subscriptions.
    #[arg(long)]
    pub subscriptions: Option<usize>,
    /// Seed for the generator; the same seed gives the same tenant.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where to write the tenant file.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

impl GenerateArgs {
    fn sizes(&self) -> Result<Sizes, CliError> {
        let mut sizes = preset(&self.size)?;
        sizes.users = self.users.unwrap_or(sizes.users).max(1);
        sizes.groups = self.groups.unwrap_or(sizes.groups).max(1);
        sizes.apps = self.apps.unwrap_or(sizes.apps);
        sizes.subscriptions = self.subscriptions.unwrap_or(sizes.subscriptions);
        Ok(sizes)
    }
}

fn preset(name: &str) -> Result<Sizes, CliError> {
    Sizes::preset(name).ok_or_else(|| CliError::usage(format!("unknown size '{name}' (s, m, l or xl)")))
}

pub(super) fn run(cmd: &MockCommand, ui: &mut Ui) -> Result<u8, CliError> {
    match cmd {
        MockCommand::Serve(args) => serve(args, ui),
        MockCommand::Generate(args) => generate_file(args, ui),
    }
}

fn generate_file(args: &GenerateArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let tenant = generate(&args.sizes()?, args.seed);
    let mut out = OutputFile::create(&args.output, true)?;
    serde_json::to_writer(&mut out, &tenant).map_err(|e| output::write_error(&args.output, e))?;
    out.commit()?;
    writeln!(
        ui.out(),
        "tenant {} written to {}: {} users, {} groups, {} service principals, {} subscriptions, {} role assignments",
        tenant.tenant.id,
        args.output.display(),
        tenant.users.len(),
        tenant.groups.len(),
        tenant.service_principals.len(),
        tenant.subscriptions.len(),
        tenant.role_assignments.len()
    )?;
    Ok(exit_code::SUCCESS)
}

fn serve(args: &ServeArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let tenant = match &args.generate {
        Some(size) => generate(&preset(size)?, args.seed),
        None => match &args.tenant {
            Some(path) => load_tenant(path),
            None => TenantFile::contoso(),
        }?,
    };
    let options = EmulatorOptions {
        license: args.license,
        token_lifetime_secs: args.token_lifetime,
        seed: args.seed,
        arm_page_size: args.arm_page_size.max(1),
        latency_ms: args.latency_ms,
        throttle: match args.throttle {
            ThrottleMode::Documented => Some(Limits::documented(tenant.users.len())),
            ThrottleMode::Off => None,
        },
        faults: args.faults.clone(),
        slow_ms: args.slow_ms,
        delta_token_max_age_secs: args.delta_token_max_age,
        max_connections: args.max_connections,
        idle_timeout_secs: args.idle_timeout,
    };
    let reload: Box<dyn Fn() -> Option<TenantFile> + Send + Sync> = match &args.generate {
        Some(size) => {
            let (sizes, seed) = (preset(size)?, args.seed);
            Box::new(move || Some(generate(&sizes, seed)))
        }
        None => {
            let path = args.tenant.clone();
            Box::new(move || path.as_deref().map_or_else(TenantFile::contoso, load_tenant).ok())
        }
    };
    let tls = tls_identity(args)?;
    // Clients need the tenant id for their token requests; a generated tenant's is not in any file (stderr keeps
    // the one-line stdout contract).
    ui.note(&format!(
        "serving tenant {} ({}): {} users, {} groups, {} service principals",
        tenant.tenant.id,
        tenant.tenant.display_name,
        tenant.users.len(),
        tenant.groups.len(),
        tenant.service_principals.len()
    ));
    let emu = Arc::new(Emulator::with_reset(tenant, options, reload));
    let runtime = crate::cli::runtime()?;
    runtime.block_on(async {
        let running = match &tls {
            Some(identity) => crate::mock::start_tls(emu, args.port, identity).await,
            None => crate::mock::start(emu, args.port).await,
        }
        .map_err(|e| CliError::usage(format!("cannot listen on 127.0.0.1:{}: {e}", args.port)))?;
        if let Some(ca) = tls.as_ref().and_then(|t| t.ca_pem()) {
            let path = args.tls_ca_file.clone().unwrap_or_else(|| {
                std::env::temp_dir().join(format!("azsnap-emulator-ca-{}.pem", running.addr.port()))
            });
            output::write_whole(&path, ca.as_bytes(), true)?;
            ui.note(&format!(
                "TLS certificate authority written to {} (trust it with SSL_CERT_FILE or REQUESTS_CA_BUNDLE)",
                path.display()
            ));
        }
        writeln!(ui.out(), "listening on {}", running.base_url())?;
        ui.flush()?;
        wait_for_signal().await;
        running.stop().await;
        Ok(exit_code::SUCCESS)
    })
}

/// The certificate `--tls` or `--tls-cert/--tls-key` asks for, if any.
fn tls_identity(args: &ServeArgs) -> Result<Option<TlsIdentity>, CliError> {
    let invalid = |e: crate::mock::TlsError| CliError::usage(e.to_string());
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let read = |path: &std::path::Path| {
                crate::files::read(path, crate::files::limit::SECRET)
                    .map_err(|e| CliError::usage(format!("cannot read {}: {}", path.display(), e.why)))
            };
            TlsIdentity::from_pem(&read(cert)?, &read(key)?).map(Some).map_err(invalid)
        }
        _ if args.tls => TlsIdentity::generate().map(Some).map_err(invalid),
        _ => Ok(None),
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
