//! The connection options `collect` and `apply` share: tenant, client, credential kind, cloud and endpoints.
//! Secrets come from the environment or a file, never from the command line.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::Secret;

use crate::azure::client::RetryPolicy;
use crate::azure::credential::{CredentialConfig, CredentialKind, TokenFailure};
use crate::azure::{AzureClient, Cloud, Endpoints};
use crate::cli::CliError;
use crate::exit_code;

#[derive(Debug, clap::Args)]
pub struct AzureArgs {
    /// Tenant id or verified domain [default: AZURE_TENANT_ID].
    #[arg(long)]
    pub tenant_id: Option<String>,
    /// Application (client) id [default: AZURE_CLIENT_ID].
    #[arg(long)]
    pub client_id: Option<String>,
    /// File holding the client secret (otherwise AZURE_CLIENT_SECRET; a secret is never taken on the command line).
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// How to authenticate.
    #[arg(long, value_enum, default_value = "auto")]
    pub credential: CredentialKind,
    /// Graph host to use, e.g. graph.microsoft.us; moves the login and ARM hosts and scopes to that cloud too.
    #[arg(long, value_name = "DOMAIN")]
    pub graph_domain: Option<String>,
    /// National cloud.
    #[arg(long, value_enum, default_value = "public")]
    pub cloud: Cloud,
    /// One base URL for login, Graph and ARM (the emulator or a proxy; plain http only for loopback).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Give up on a request after this many seconds, retries and waits included.
    #[arg(long, value_name = "SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_deadline: u64,
    /// Give up on a connection silent for this many seconds (waiting for headers or the next bytes).
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub read_timeout: u64,
    /// The longest Retry-After honoured; a service asking for a longer wait ends the request.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub max_retry_after: u64,
    /// The most pages one list may have before azsnap calls it a loop.
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pages: u64,
}

/// The error for a token request that failed: the identity platform's refusal (exit 4: its code and first
/// sentence, then its trace id on a line of its own), or a login endpoint that could not be used (exit 5).
pub(super) fn auth_error(failure: &TokenFailure) -> CliError {
    match failure {
        TokenFailure::Refused { message, trace_id, .. } => {
            let e = CliError::new(exit_code::AUTH, format!("authentication failed: {message}"));
            let e = match trace_id {
                Some(t) => e.with_detail(format!("trace id: {t}")),
                None => e,
            };
            e.with_hint("check AZURE_TENANT_ID, AZURE_CLIENT_ID and the client secret (or federated token) of the app")
        }
        TokenFailure::Unreachable(m) => {
            CliError::new(exit_code::API_FAILURE, format!("the login endpoint could not be used: {m}"))
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl AzureArgs {
    pub fn endpoints(&self) -> Result<Endpoints, CliError> {
        Endpoints::new(self.cloud, self.graph_domain.as_deref(), self.endpoint.as_deref())
            .map_err(|e| CliError::usage(e.to_string()))
    }

    /// The tenant the credentials are for, if given.
    pub fn tenant(&self) -> Option<String> {
        self.tenant_id.clone().or_else(|| env("AZURE_TENANT_ID"))
    }

    /// The Graph/ARM client these options describe, with `concurrency` requests in flight per service.
    pub fn client(&self, concurrency: usize) -> Result<Arc<AzureClient>, CliError> {
        let endpoints = self.endpoints()?;
        let tokens = Arc::new(crate::azure::credential::TokenStats::default());
        let credential = self
            .credential_config()?
            .build(&endpoints, tokens.clone())
            .map_err(|e| CliError::new(exit_code::AUTH, e.to_string()))?;
        let mut policy = RetryPolicy::default();
        let limits = &mut policy.limits;
        limits.request_deadline = Duration::from_secs(self.request_deadline);
        limits.read_timeout = Duration::from_secs(self.read_timeout);
        limits.attempt_timeout = limits.attempt_timeout.min(limits.request_deadline);
        limits.max_retry_after = Duration::from_secs(self.max_retry_after);
        limits.max_pages = self.max_pages;
        let client = AzureClient::new(endpoints, credential, tokens, concurrency, policy)
            .map_err(|e| CliError::new(exit_code::API_FAILURE, e.to_string()))?;
        Ok(Arc::new(client))
    }

    pub fn credential_config(&self) -> Result<CredentialConfig, CliError> {
        let secret = match &self.client_secret_file {
            Some(path) => {
                let text = crate::files::read_text(path, crate::files::limit::SECRET)
                    .map_err(|e| CliError::usage(format!("cannot read the client secret file {e}")))?;
                let trimmed = text.trim_end_matches(['\r', '\n']).to_owned();
                if trimmed.is_empty() {
                    return Err(CliError::usage(format!("{}: the client secret file is empty", path.display())));
                }
                Some(Secret::new(trimmed))
            }
            None => env("AZURE_CLIENT_SECRET").map(Secret::new),
        };
        Ok(CredentialConfig {
            kind: self.credential,
            tenant_id: self.tenant(),
            client_id: self.client_id.clone().or_else(|| env("AZURE_CLIENT_ID")),
            secret,
            federated_token_file: env("AZURE_FEDERATED_TOKEN_FILE").map(PathBuf::from),
        })
    }
}
