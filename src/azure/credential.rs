//! Credentials, through `azure_identity`: client secret, workload identity federation, managed identity, Azure CLI.
//!
//! Against a loopback `--endpoint` (the emulator) the same credential types run: the library keeps its https
//! authority, and a transport rewrites only its token requests to the loopback address. Secrets are held as
//! `azure_core` secrets, which never print.

use std::path::PathBuf;
use std::sync::Arc;

use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{AsyncRawResponse, ClientOptions, HttpClient, Request, Transport};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};

use crate::azure::cloud::Endpoints;

/// How to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CredentialKind {
    /// Workload identity when `AZURE_FEDERATED_TOKEN_FILE` is set, else a client secret when one is given.
    Auto,
    /// Client id and secret (`AZURE_CLIENT_SECRET` or `--client-secret-file`).
    Secret,
    /// Workload identity federation (`AZURE_FEDERATED_TOKEN_FILE`), e.g. in CI runners.
    WorkloadIdentity,
    /// The managed identity of the machine azsnap runs on.
    ManagedIdentity,
    /// The account signed in to the Azure CLI (`az login`).
    AzureCli,
}

/// Everything needed to build a credential. `Debug` never shows the secret.
#[derive(Debug, Clone)]
pub struct CredentialConfig {
    pub kind: CredentialKind,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub secret: Option<Secret>,
    pub federated_token_file: Option<PathBuf>,
}

/// Why no credential could be built.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("no credentials: {0}")]
    Missing(String),
    #[error("cannot set up {kind} credentials: {message}")]
    Invalid { kind: &'static str, message: String },
}

/// Sends the credential library's requests to a loopback endpoint instead of the cloud's login host.
#[derive(Debug)]
struct Redirect {
    inner: Arc<dyn HttpClient>,
    scheme: String,
    host: String,
    port: Option<u16>,
}

#[async_trait::async_trait]
impl HttpClient for Redirect {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let mut req = request.clone();
        let url = req.url_mut();
        // Setting these cannot fail for an http(s) URL and a host name or address.
        let _ = url.set_scheme(&self.scheme);
        let _ = url.set_host(Some(&self.host));
        let _ = url.set_port(self.port);
        self.inner.execute_request(&req).await
    }
}

/// Checks every answer of the login endpoint before the credential library sees it: a body that is not JSON (an
/// HTML error page), too large, or a token whose lifetime is out of range is a broken service (exit 5), not bad
/// credentials, and never reaches the library (which panics on some of them).
#[derive(Debug)]
struct Guard {
    inner: Arc<dyn HttpClient>,
    stats: Arc<TokenStats>,
}

/// Requests to the login endpoint (token requests, managed-identity endpoint), and how many did not give a token.
#[derive(Debug, Default)]
pub struct TokenStats {
    pub requests: std::sync::atomic::AtomicU64,
    pub failed: std::sync::atomic::AtomicU64,
}

/// The largest login answer read: tokens are a few KiB.
const TOKEN_BODY_LIMIT: usize = 1 << 20;
/// The longest token lifetime accepted: Entra issues hours, managed identities a day.
const MAX_TOKEN_SECONDS: f64 = 366.0 * 86_400.0;
/// Begins the message of every answer [`Guard`] refuses; [`classify`] knows them by it.
const BROKEN: &str = "unusable answer from the login endpoint";
/// Begins the message of a refusal [`Guard`] read from the identity platform's error answer (its
/// `error_description`, whole), so [`classify`] needs no guess at the library's wording.
const REFUSED: &str = "the identity platform refused: ";

fn broken(why: String) -> azure_core::Error {
    azure_core::Error::with_message(azure_core::error::ErrorKind::DataConversion, format!("{BROKEN}: {why}"))
}

/// Why a login answer cannot be used, if it cannot.
fn check_token_answer(status: u16, body: &[u8]) -> Result<(), String> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        let start = String::from_utf8_lossy(&body[..body.len().min(40)])
            .chars()
            .filter(|c| !c.is_control())
            .collect::<String>();
        return Err(format!("HTTP {status} with a body that is not JSON ({start:?}…)"));
    };
    if !v.is_object() {
        return Err(format!("HTTP {status} with JSON that is not an object"));
    }
    if (200..300).contains(&status) {
        for key in ["expires_in", "ext_expires_in", "expires_on"] {
            let Some(x) = v.get(key) else { continue };
            let secs = x.as_f64().or_else(|| x.as_str().and_then(|s| s.trim().parse::<f64>().ok()));
            let limit = if key == "expires_on" { 4_102_444_800.0 } else { MAX_TOKEN_SECONDS };
            if !secs.is_some_and(|n| n.is_finite() && (0.0..=limit).contains(&n)) {
                return Err(format!("`{key}` {x} is not a token lifetime"));
            }
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl HttpClient for Guard {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        use std::sync::atomic::Ordering::Relaxed;
        self.stats.requests.fetch_add(1, Relaxed);
        let answer = self.checked(request).await;
        if answer.as_ref().is_err() {
            self.stats.failed.fetch_add(1, Relaxed);
        }
        answer
    }
}

impl Guard {
    async fn checked(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let (status, headers, body) = self.inner.execute_request(request).await?.deconstruct();
        let mut buf = vec![0u8; TOKEN_BODY_LIMIT];
        let n = body
            .collect_into(&mut buf)
            .await
            .map_err(|e| broken(format!("larger than {} KiB, or cut off ({e})", TOKEN_BODY_LIMIT >> 10)))?;
        buf.truncate(n);
        check_token_answer(u16::from(status), &buf).map_err(broken)?;
        // The identity platform's refusal, read here: the library's own reading of it fails on descriptions with
        // escapes ("expected a borrowed string") and would show them as literal `\r\n`.
        if !(200..300).contains(&u16::from(status))
            && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&buf)
            && let Some(description) = v["error_description"].as_str()
        {
            return Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                format!("{REFUSED}{description}"),
            ));
        }
        Ok(AsyncRawResponse::from_bytes(status, headers, buf))
    }
}

fn client_options(endpoints: &Endpoints, stats: Arc<TokenStats>) -> ClientOptions {
    // A login endpoint that cannot be reached should fail the run in seconds, not after the library's minute.
    let mut options = ClientOptions {
        retry: azure_core::http::RetryOptions::exponential(azure_core::http::ExponentialRetryOptions {
            initial_delay: azure_core::time::Duration::milliseconds(200),
            max_retries: 3,
            max_total_elapsed: azure_core::time::Duration::seconds(15),
            max_delay: azure_core::time::Duration::seconds(4),
        }),
        ..ClientOptions::default()
    };
    let mut transport: Arc<dyn HttpClient> = azure_core::http::new_http_client(None);
    if let Some(target) = endpoints.token_redirect.as_deref().and_then(|t| reqwest::Url::parse(t).ok()) {
        transport = Arc::new(Redirect {
            inner: transport,
            scheme: target.scheme().to_owned(),
            host: target.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned(),
            port: target.port(),
        });
    }
    options.transport = Some(Transport::new(Arc::new(Guard { inner: transport, stats })));
    if endpoints.authority != "https://login.microsoftonline.com" {
        options.cloud = Some(Arc::new(cloud_config(endpoints)));
    }
    options
}

fn cloud_config(endpoints: &Endpoints) -> azure_core::cloud::CloudConfiguration {
    use azure_core::cloud::CloudConfiguration;
    match endpoints.authority.as_str() {
        "https://login.microsoftonline.us" => CloudConfiguration::AzureGovernment,
        "https://login.chinacloudapi.cn" => CloudConfiguration::AzureChina,
        other => {
            let mut custom = azure_core::cloud::CustomConfiguration::default();
            custom.authority_host = other.to_owned();
            CloudConfiguration::Custom(custom)
        }
    }
}

impl CredentialConfig {
    /// Builds the credential this configuration asks for.
    pub fn build(
        &self,
        endpoints: &Endpoints,
        stats: Arc<TokenStats>,
    ) -> Result<Arc<dyn TokenCredential>, CredentialError> {
        let kind = match self.kind {
            CredentialKind::Auto if self.federated_token_file.is_some() => Resolved::WorkloadIdentity,
            CredentialKind::Auto if self.secret.is_some() => Resolved::Secret,
            CredentialKind::Auto => {
                return Err(CredentialError::Missing(
                    "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or --client-secret-file), or \
                     AZURE_FEDERATED_TOKEN_FILE, or choose --credential managed-identity|azure-cli"
                        .to_owned(),
                ));
            }
            CredentialKind::Secret => Resolved::Secret,
            CredentialKind::WorkloadIdentity => Resolved::WorkloadIdentity,
            CredentialKind::ManagedIdentity => Resolved::ManagedIdentity,
            CredentialKind::AzureCli => Resolved::AzureCli,
        };
        let need = |v: &Option<String>, what: &str| {
            v.clone().ok_or_else(|| CredentialError::Missing(format!("{what} is required for {kind:?} credentials")))
        };
        let invalid =
            |kind: &'static str| move |e: azure_core::Error| CredentialError::Invalid { kind, message: e.to_string() };
        let options = client_options(endpoints, stats);
        Ok(match kind {
            Resolved::Secret => {
                let tenant = need(&self.tenant_id, "a tenant id (AZURE_TENANT_ID or --tenant-id)")?;
                let client = need(&self.client_id, "a client id (AZURE_CLIENT_ID or --client-id)")?;
                let secret = self.secret.clone().ok_or_else(|| {
                    CredentialError::Missing("a client secret (AZURE_CLIENT_SECRET or --client-secret-file)".to_owned())
                })?;
                ClientSecretCredential::new(
                    &tenant,
                    client,
                    secret,
                    Some(ClientSecretCredentialOptions { client_options: options }),
                )
                .map_err(invalid("client secret"))?
            }
            Resolved::WorkloadIdentity => {
                let mut o = WorkloadIdentityCredentialOptions {
                    client_id: self.client_id.clone(),
                    tenant_id: self.tenant_id.clone(),
                    token_file_path: self.federated_token_file.clone(),
                    ..WorkloadIdentityCredentialOptions::default()
                };
                o.credential_options.client_options = options;
                WorkloadIdentityCredential::new(Some(o)).map_err(invalid("workload identity"))?
            }
            Resolved::ManagedIdentity => {
                let o = ManagedIdentityCredentialOptions {
                    client_options: options,
                    ..ManagedIdentityCredentialOptions::default()
                };
                ManagedIdentityCredential::new(Some(o)).map_err(invalid("managed identity"))?
            }
            Resolved::AzureCli => {
                let o = AzureCliCredentialOptions {
                    tenant_id: self.tenant_id.clone(),
                    ..AzureCliCredentialOptions::default()
                };
                AzureCliCredential::new(Some(o)).map_err(invalid("Azure CLI"))?
            }
        })
    }
}

/// A credential kind with `Auto` decided.
#[derive(Debug, Clone, Copy)]
enum Resolved {
    Secret,
    WorkloadIdentity,
    ManagedIdentity,
    AzureCli,
}

/// What a failed token request means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenFailure {
    /// The identity platform refused: bad secret, unknown app or tenant, bad scope. `message` is the first sentence
    /// of its description (`AADSTS7000215: Invalid client secret provided.`).
    Refused { aadsts: Option<String>, message: String, trace_id: Option<String> },
    /// The login endpoint could not be reached, or answered something unusable (an HTML page, a broken token).
    Unreachable(String),
}

/// Classifies a credential error: an `AADSTSnnnn` answer, or a network failure.
pub fn classify(err: &azure_core::Error) -> TokenFailure {
    let text = err.to_string();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        let t = e.to_string();
        if let Some(at) = t.find(BROKEN) {
            return TokenFailure::Unreachable(first_line(&t[at..]));
        }
        if let Some(at) = t.find(REFUSED) {
            return refusal(&t[at + REFUSED.len()..]);
        }
        source = e.source();
    }
    if let Some(at) = text.find("AADSTS") {
        let code: String = text[at + 6..].chars().take_while(char::is_ascii_digit).collect();
        let description = text[at..].lines().next().unwrap_or_default().trim().to_owned();
        return TokenFailure::Refused { aadsts: Some(format!("AADSTS{code}")), message: description, trace_id: None };
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(az) = e.downcast_ref::<azure_core::Error>()
            && matches!(az.kind(), azure_core::error::ErrorKind::Io | azure_core::error::ErrorKind::Connection)
        {
            return TokenFailure::Unreachable(first_line(&text));
        }
        if e.downcast_ref::<std::io::Error>().is_some() {
            return TokenFailure::Unreachable(first_line(&text));
        }
        source = e.source();
    }
    let lower = text.to_ascii_lowercase();
    if ["connection refused", "error sending request", "dns error", "timed out", "connect"]
        .iter()
        .any(|s| lower.contains(s))
    {
        return TokenFailure::Unreachable(first_line(&text));
    }
    TokenFailure::Refused { aadsts: None, message: first_line(&text), trace_id: None }
}

/// A refusal from the identity platform's `error_description`: `AADSTS7000215: Invalid client secret provided.
/// Ensure …\r\nTrace ID: …\r\nCorrelation ID: …` → the code, the first sentence, the trace id.
fn refusal(description: &str) -> TokenFailure {
    let first = description.lines().next().unwrap_or_default().trim();
    let aadsts = first
        .strip_prefix("AADSTS")
        .map(|rest| format!("AADSTS{}", rest.chars().take_while(char::is_ascii_digit).collect::<String>()));
    let sentence = match first.find(". ") {
        Some(end) => &first[..=end],
        None => first,
    };
    let trace_id = description
        .lines()
        .find_map(|l| l.trim().strip_prefix("Trace ID:"))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    TokenFailure::Refused { aadsts, message: sentence.trim().to_owned(), trace_id }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().trim().to_owned()
}

/// The claims of a JWT access token, read without verifying it (to learn who we are, never to trust).
pub fn token_claims(token: &str) -> serde_json::Value {
    token
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, p.trim_end_matches('=')).ok()
        })
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_as_code_first_sentence_and_trace_id() {
        let d = "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent is the value.\r\nTrace ID: c791b354-a54e\r\nCorrelation ID: x\r\nTimestamp: 2026-12-02 19:28:28Z";
        let TokenFailure::Refused { aadsts, message, trace_id } = refusal(d) else { panic!("not a refusal") };
        assert_eq!(aadsts.as_deref(), Some("AADSTS7000215"));
        assert_eq!(message, "AADSTS7000215: Invalid client secret provided.");
        assert_eq!(trace_id.as_deref(), Some("c791b354-a54e"));
    }

    #[test]
    fn login_answers_are_checked_before_the_library_sees_them() {
        assert!(check_token_answer(200, br#"{"access_token":"x","expires_in":3599,"token_type":"Bearer"}"#).is_ok());
        assert!(
            check_token_answer(200, br#"{"access_token":"x","expires_in":"85770","expires_on":"1766000000"}"#).is_ok()
        );
        assert!(check_token_answer(400, br#"{"error":"invalid_client","error_codes":[7000215]}"#).is_ok());
        for (status, bad) in [
            (200, &b"<html><body>Sign in</body></html>"[..]),
            (500, b"<html>Internal Server Error</html>"),
            (200, br#"{"access_token":"x","expires_in":1000000000000}"#),
            (200, br#"{"access_token":"x","expires_in":-5}"#),
            (200, br#"{"access_token":"x","expires_in":"soon"}"#),
            (200, b"[1,2]"),
        ] {
            assert!(check_token_answer(status, bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
