//! The one HTTP client for Graph and ARM: bearer tokens from the credential, a concurrency budget per service,
//! retries of 408/429/5xx and dropped connections only (honouring `Retry-After`, fractions included, and
//! exponential backoff with jitter when it is absent, within a run-wide budget), nextLinks followed only on the
//! configured hosts, and request statistics.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use azure_core::credentials::TokenCredential;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::azure::cloud::Endpoints;
use crate::azure::credential::classify;
use crate::azure::error::ApiError;
use crate::model::RequestStats;

/// Which API a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Graph,
    Arm,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Graph => "graph",
            Service::Arm => "arm",
        }
    }
}

/// How hard to try.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff when the answer gives no `Retry-After`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Retries allowed in the whole run.
    pub budget: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            budget: 20_000,
        }
    }
}

/// An answer that succeeded.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

pub struct AzureClient {
    http: reqwest::Client,
    credential: std::sync::Arc<dyn TokenCredential>,
    pub endpoints: Endpoints,
    graph_slots: Semaphore,
    arm_slots: Semaphore,
    retry: RetryPolicy,
    retries_used: AtomicU32,
    stats: Mutex<[RequestStats; 2]>,
    jitter: Mutex<u64>,
}

/// Seconds from a `Retry-After` header (`2`, `2.128`); HTTP-date forms are not used by Graph or ARM.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get("retry-after")?.to_str().ok()?.trim().parse::<f64>().ok()?;
    (v.is_finite() && v >= 0.0).then(|| Duration::from_secs_f64(v.min(600.0)))
}

fn retryable(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

impl AzureClient {
    pub fn new(
        endpoints: Endpoints,
        credential: std::sync::Arc<dyn TokenCredential>,
        concurrency: usize,
        retry: RetryPolicy,
    ) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("azsnap/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(20))
            .timeout(Duration::from_secs(180))
            .pool_max_idle_per_host(concurrency.max(1) * 2)
            .build()
            .map_err(|e| ApiError::Transport { service: "http", message: e.to_string() })?;
        let stats = [
            RequestStats { service: "graph".to_owned(), ..RequestStats::default() },
            RequestStats { service: "arm".to_owned(), ..RequestStats::default() },
        ];
        Ok(AzureClient {
            http,
            credential,
            endpoints,
            graph_slots: Semaphore::new(concurrency.max(1)),
            arm_slots: Semaphore::new(concurrency.max(1)),
            retry,
            retries_used: AtomicU32::new(0),
            stats: Mutex::new(stats),
            jitter: Mutex::new(0x2545_f491_4f6c_dd1d),
        })
    }

    /// Request statistics so far.
    pub fn stats(&self) -> Vec<RequestStats> {
        self.stats.lock().map(|s| s.to_vec()).unwrap_or_default()
    }

    fn note(&self, service: Service, f: impl FnOnce(&mut RequestStats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s[service as usize]);
        }
    }

    /// A bearer token for `service`.
    pub async fn token(&self, service: Service) -> Result<String, ApiError> {
        let scope = match service {
            Service::Graph => &self.endpoints.graph_scope,
            Service::Arm => &self.endpoints.arm_scope,
        };
        let token =
            self.credential.get_token(&[scope.as_str()], None).await.map_err(|e| ApiError::Auth(classify(&e)))?;
        Ok(token.token.secret().to_owned())
    }

    /// The absolute URL of `path` on `service` (`path` starts with `/`).
    pub fn url(&self, service: Service, path: &str) -> String {
        match service {
            Service::Graph => format!("{}{path}", self.endpoints.graph),
            Service::Arm => format!("{}{path}", self.endpoints.arm),
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.retry.base_delay.saturating_mul(1u32 << attempt.min(16)).min(self.retry.max_delay);
        let mut j = self.jitter.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *j ^= *j << 13;
        *j ^= *j >> 7;
        *j ^= *j << 17;
        // Between half and the full delay.
        exp.mul_f64(0.5 + (*j % 1000) as f64 / 2000.0)
    }

    /// Sends one request, retrying what may be retried. Returns the successful answer.
    pub async fn send(
        &self,
        service: Service,
        method: reqwest::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Reply, ApiError> {
        let name = service.name();
        let slots = match service {
            Service::Graph => &self.graph_slots,
            Service::Arm => &self.arm_slots,
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let token = self.token(service).await?;
            let outcome = {
                let _slot =
                    slots.acquire().await.map_err(|e| ApiError::Transport { service: name, message: e.to_string() })?;
                let mut req = self.http.request(method.clone(), url).bearer_auth(token);
                for (k, v) in headers {
                    req = req.header(*k, *v);
                }
                if let Some(b) = body {
                    req = req.json(b);
                }
                self.note(service, |s| s.requests += 1);
                match req.send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let wait = retry_after(resp.headers());
                        match resp.bytes().await {
                            Ok(bytes) => {
                                self.note(service, |s| s.bytes += bytes.len() as u64);
                                Ok((status, wait, bytes))
                            }
                            Err(e) => Err(e.to_string()),
                        }
                    }
                    Err(e) => Err(e.to_string()),
                }
            };
            let (delay, last) = match outcome {
                Ok((status, _, bytes)) if (200..300).contains(&status) => {
                    let body = if bytes.is_empty() {
                        Value::Null
                    } else {
                        serde_json::from_slice(&bytes)
                            .map_err(|e| ApiError::Json { url: url.to_owned(), message: e.to_string() })?
                    };
                    return Ok(Reply { status, body });
                }
                // A token that expired between the credential's cache and the service: again with a fresh one; and once
                // more a second later, when the clocks disagree about the last second of a token's life (the cache
                // may hand out the same token until its own clock says it expired).
                Ok((401, _, _)) if attempt <= 2 => {
                    (if attempt == 1 { Duration::ZERO } else { Duration::from_secs(1) }, "HTTP 401".to_owned())
                }
                Ok((status, wait, _)) if retryable(status) => {
                    if status == 429 {
                        self.note(service, |s| s.throttled += 1);
                    }
                    (wait.unwrap_or_else(|| self.backoff(attempt)), format!("HTTP {status}"))
                }
                Ok((status, _, bytes)) => {
                    self.note(service, |s| s.failed += 1);
                    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    let code = v["error"]["code"].as_str().or(v["error"].as_str()).unwrap_or("").to_owned();
                    let message = v["error"]["message"].as_str().unwrap_or("").to_owned();
                    return Err(ApiError::Status { service: name, status, code, message, url: url.to_owned() });
                }
                Err(transport) => (self.backoff(attempt), transport),
            };
            let used = self.retries_used.fetch_add(1, Ordering::Relaxed);
            if attempt >= self.retry.max_attempts || used >= self.retry.budget {
                self.note(service, |s| s.failed += 1);
                if last.starts_with("HTTP") {
                    return Err(ApiError::RetriesExhausted { service: name, attempts: attempt, last });
                }
                return Err(ApiError::Transport { service: name, message: last });
            }
            self.note(service, |s| s.retried += 1);
            tokio::time::sleep(delay).await;
        }
    }

    /// GET `url` (absolute) as JSON.
    pub async fn get(&self, service: Service, url: &str, headers: &[(&str, &str)]) -> Result<Value, ApiError> {
        Ok(self.send(service, reqwest::Method::GET, url, headers, None).await?.body)
    }

    /// A pager over a list starting at `first` (absolute URL).
    pub fn pager<'a>(&'a self, service: Service, first: &str, headers: &'a [(&'a str, &'a str)]) -> Pager<'a> {
        Pager { client: self, service, next: Some(first.to_owned()), headers, last: Value::Null }
    }

    /// Walks a paged list to the end, handing each page's items to `each`; returns the last page.
    pub async fn pages(
        &self,
        service: Service,
        first: &str,
        headers: &[(&str, &str)],
        mut each: impl FnMut(Vec<Value>) -> Result<(), ApiError>,
    ) -> Result<Value, ApiError> {
        let mut pager = self.pager(service, first, headers);
        while let Some(items) = pager.next().await? {
            each(items)?;
        }
        Ok(pager.last)
    }
}

/// Pages of a list, fetched one at a time: follows `@odata.nextLink` (Graph) or `nextLink` (ARM), only on the
/// configured hosts.
pub struct Pager<'a> {
    client: &'a AzureClient,
    service: Service,
    next: Option<String>,
    headers: &'a [(&'a str, &'a str)],
    /// The last page fetched, without its items (for `@odata.deltaLink` and the like).
    pub last: Value,
}

impl Pager<'_> {
    /// The next page's items, or `None` after the last page.
    pub async fn next(&mut self) -> Result<Option<Vec<Value>>, ApiError> {
        let Some(url) = self.next.take() else { return Ok(None) };
        let mut page = self.client.get(self.service, &url, self.headers).await?;
        self.client.note(self.service, |s| s.pages += 1);
        let items = match page.get_mut("value").map(Value::take) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        let next = page.get("@odata.nextLink").or_else(|| page.get("nextLink")).and_then(Value::as_str);
        if let Some(n) = next.filter(|n| !n.is_empty()) {
            if !self.client.endpoints.owns(n) {
                return Err(ApiError::ForeignLink(n.to_owned()));
            }
            self.next = Some(n.to_owned());
        }
        self.last = page;
        Ok(Some(items))
    }
}
