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
use crate::azure::pace::{ArmBucket, GraphTier, Pacer, Pacers};
use crate::azure::reply::{Outcome, read_body, reply_body, request_id, retry_after, transport_text};
use crate::azure::retry::retryable;
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
    pub limits: Limits,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            budget: 20_000,
            limits: Limits::default(),
        }
    }
}

/// What azsnap accepts from a server, so a broken or hostile one costs bounded time and memory
/// (`docs/collect.md` lists them with their flags).
#[derive(Debug, Clone)]
pub struct Limits {
    /// To open a connection.
    pub connect_timeout: Duration,
    /// Silence while waiting for the answer's headers or its next bytes.
    pub read_timeout: Duration,
    /// One attempt, from sending to the last byte of the answer.
    pub attempt_timeout: Duration,
    /// One request, every retry and wait included.
    pub request_deadline: Duration,
    /// The longest `Retry-After` honoured; a server asking for more ends the request.
    pub max_retry_after: Duration,
    /// The largest answer body read (Graph's and ARM's real pages are a few MB at most).
    pub max_body: u64,
    /// The most items one page may hold (Graph's `$top` is at most 999; ARM pages are of the same order).
    pub max_page_items: usize,
    /// The most pages one list may have.
    pub max_pages: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            attempt_timeout: Duration::from_secs(120),
            request_deadline: Duration::from_secs(600),
            max_retry_after: Duration::from_secs(300),
            max_body: 32 << 20,
            max_page_items: 100_000,
            max_pages: 100_000,
        }
    }
}

/// An answer that succeeded.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// The service's id of the request (`request-id` from Graph, `x-ms-request-id` from ARM), for support cases
    /// and the apply journal; only when it is a plain token (letters, digits, `-`), at most 64 characters.
    pub request_id: Option<String>,
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
    /// Requests to the login endpoint, counted by the credential's transport.
    token_stats: std::sync::Arc<crate::azure::credential::TokenStats>,
    /// Paces requests (and `$batch` items) against their tier's budget.
    pub pacers: Pacers,
    /// Called with the item count of every list page read (a progress display's hook).
    pub on_page: std::sync::OnceLock<fn(usize)>,
    jitter: Mutex<u64>,
}

/// What one request sends.
#[derive(Clone, Copy)]
struct Request<'a> {
    url: &'a str,
    headers: &'a [(&'a str, &'a str)],
    body: Option<&'a Value>,
}

impl AzureClient {
    pub fn new(
        endpoints: Endpoints,
        credential: std::sync::Arc<dyn TokenCredential>,
        token_stats: std::sync::Arc<crate::azure::credential::TokenStats>,
        concurrency: usize,
        retry: RetryPolicy,
    ) -> Result<Self, ApiError> {
        let limits = &retry.limits;
        // Redirects are followed only to the configured hosts (and a few times at most); any other is an error.
        let owner = endpoints.clone();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if owner.owns(attempt.url().as_str()) {
                attempt.follow()
            } else {
                let to = attempt.url().to_string();
                attempt.error(format!("redirect to another host refused: {to}"))
            }
        });
        let http = reqwest::Client::builder()
            .user_agent(concat!("azsnap/", env!("CARGO_PKG_VERSION")))
            .redirect(redirects)
            .connect_timeout(limits.connect_timeout)
            .read_timeout(limits.read_timeout)
            .timeout(limits.attempt_timeout)
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
            token_stats,
            pacers: Pacers::default(),
            on_page: std::sync::OnceLock::new(),
            jitter: Mutex::new(0x2545_f491_4f6c_dd1d),
        })
    }

    /// Request statistics so far: Graph and ARM, and a `login` row for token requests.
    pub fn stats(&self) -> Vec<RequestStats> {
        use std::sync::atomic::Ordering::Relaxed;
        let mut out = self.stats.lock().map(|s| s.to_vec()).unwrap_or_default();
        let requests = self.token_stats.requests.load(Relaxed);
        out.push(RequestStats {
            service: "login".to_owned(),
            requests,
            failed: self.token_stats.failed.load(Relaxed),
            ..RequestStats::default()
        });
        out
    }

    /// Counts the inner requests of a `$batch` answer, and those of them answered 429.
    pub fn note_inner(&self, service: Service, requests: u64, throttled: u64) {
        self.note(service, |s| {
            s.inner_requests += requests;
            s.inner_throttled += throttled;
        });
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

    /// Sends one request, retrying what may be retried, within the request deadline. Returns the successful answer.
    pub async fn send(
        &self,
        service: Service,
        method: reqwest::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Reply, ApiError> {
        self.send_parsed(service, method, Request { url, headers, body }, None).await
    }

    /// [`AzureClient::send`], parsing a list page with at most `max_items` items when given.
    async fn send_parsed(
        &self,
        service: Service,
        method: reqwest::Method,
        req: Request<'_>,
        max_items: Option<usize>,
    ) -> Result<Reply, ApiError> {
        let deadline = self.retry.limits.request_deadline;
        let until = tokio::time::Instant::now() + deadline;
        let url = req.url;
        match tokio::time::timeout(deadline, self.attempts(service, method, req, max_items, until)).await {
            Ok(result) => result,
            Err(_) => {
                self.note(service, |s| s.failed += 1);
                Err(ApiError::Limit {
                    service: service.name(),
                    message: format!(
                        "no answer within the request deadline of {} s (--request-deadline), retries included ({url})",
                        deadline.as_secs()
                    ),
                })
            }
        }
    }

    /// Sends the request once and reads its answer: status, `Retry-After`, body and request id. Reports what an ARM
    /// answer says is left of its budget to `pacer`.
    async fn send_once(
        &self,
        service: Service,
        method: reqwest::Method,
        Request { url, headers, body }: Request<'_>,
        token: &str,
        pacer: Option<&Pacer>,
        remaining_headers: &[String],
    ) -> Result<(u16, Option<Duration>, Vec<u8>, Option<String>), Outcome> {
        let slots = match service {
            Service::Graph => &self.graph_slots,
            Service::Arm => &self.arm_slots,
        };
        let _slot = slots.acquire().await.map_err(|e| Outcome::Transport(e.to_string()))?;
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
                let id = request_id(resp.headers());
                if let Some(p) = pacer {
                    let left: Vec<Option<f64>> = remaining_headers
                        .iter()
                        .map(|name| {
                            let v = resp.headers().get(name).and_then(|v| v.to_str().ok());
                            v.and_then(|v| v.trim().parse::<f64>().ok()).filter(|n| n.is_finite())
                        })
                        .collect();
                    p.remaining(&left);
                }
                read_body(resp, self.retry.limits.max_body).await.map(|bytes| {
                    self.note(service, |s| s.bytes += bytes.len() as u64);
                    (status, wait, bytes, id)
                })
            }
            Err(e) => {
                // No answer: a probe that says nothing (the documented bucket is assumed).
                if let Some(p) = pacer {
                    p.remaining(&[]);
                }
                if e.is_redirect() {
                    Err(Outcome::Redirect(transport_text(&e)))
                } else {
                    Err(Outcome::Transport(transport_text(&e)))
                }
            }
        }
    }

    /// The budget a request spends, and (ARM) the headers that report what is left of it.
    fn budget(
        &self,
        service: Service,
        method: &reqwest::Method,
        url: &str,
    ) -> (Option<std::sync::Arc<Pacer>>, Vec<String>) {
        match service {
            Service::Graph => (self.pacers.graph(GraphTier::of(url)).cloned(), Vec::new()),
            Service::Arm => {
                let bucket = ArmBucket::of(method.as_str(), url);
                (Some(self.pacers.arm(&bucket)), bucket.headers())
            }
        }
    }

    async fn attempts(
        &self,
        service: Service,
        method: reqwest::Method,
        Request { url, headers, body }: Request<'_>,
        max_items: Option<usize>,
        until: tokio::time::Instant,
    ) -> Result<Reply, ApiError> {
        let name = service.name();
        let limits = &self.retry.limits;
        let untrusted = |message: String| ApiError::Untrusted { service: name, message };
        let limit = |message: String| ApiError::Limit { service: name, message };
        // A request that failed for good: counted once, whatever the reason.
        let failed = |e: ApiError| {
            self.note(service, |s| s.failed += 1);
            Err(e)
        };
        let (pacer, remaining_headers) = self.budget(service, &method, url);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let token = self.token(service).await?;
            if let Some(p) = &pacer {
                p.acquire(1.0).await;
            }
            let outcome = self
                .send_once(
                    service,
                    method.clone(),
                    Request { url, headers, body },
                    &token,
                    pacer.as_deref(),
                    &remaining_headers,
                )
                .await;
            let (delay, last) = match outcome {
                Ok((status, _, bytes, request_id)) if (200..300).contains(&status) => {
                    if let Some(p) = &pacer {
                        p.admitted();
                    }
                    let body = reply_body(service, &bytes, max_items, url)?;
                    return Ok(Reply { status, body, request_id });
                }
                // A token that expired between the credential's cache and the service: again with a fresh one; and once
                // more a second later, when the clocks disagree about the last second of a token's life (the cache
                // may hand out the same token until its own clock says it expired).
                Ok((401, _, _, _)) if attempt <= 2 => {
                    (if attempt == 1 { Duration::ZERO } else { Duration::from_secs(1) }, "HTTP 401".to_owned())
                }
                Ok((status, wait, _, _)) if retryable(status) => {
                    if status == 429 {
                        self.note(service, |s| s.throttled += 1);
                    }
                    if let Some(w) = wait.filter(|w| *w > limits.max_retry_after) {
                        return failed(limit(format!(
                            "asked to wait {} s (Retry-After), more than the {} s azsnap waits (--max-retry-after) ({url})",
                            w.as_secs(),
                            limits.max_retry_after.as_secs()
                        )));
                    }
                    // The tier slows down for every request of it, not just this one (a wait it will not honour
                    // was refused above, so it never stalls the others).
                    if let (429, Some(p)) = (status, &pacer) {
                        p.throttled(wait.unwrap_or(Duration::from_secs(1)));
                    }
                    (wait.unwrap_or_else(|| self.backoff(attempt)), format!("HTTP {status}"))
                }
                Ok((status, _, _, _)) if (300..400).contains(&status) => {
                    return failed(untrusted(format!(
                        "answered {status} (a redirect it was not allowed to make) ({url})"
                    )));
                }
                Ok((status, _, bytes, _)) => {
                    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    let code = v["error"]["code"].as_str().or(v["error"].as_str()).unwrap_or("").to_owned();
                    let message = v["error"]["message"].as_str().unwrap_or("").to_owned();
                    return failed(ApiError::Status { service: name, status, code, message, url: url.to_owned() });
                }
                Err(Outcome::TooLarge(n)) => {
                    return failed(untrusted(format!(
                        "an answer of {n} bytes or more, over the {} MiB limit ({url})",
                        limits.max_body >> 20
                    )));
                }
                Err(Outcome::Redirect(m)) => {
                    return failed(untrusted(m));
                }
                Err(Outcome::Transport(transport)) => (self.backoff(attempt), transport),
            };
            let used = self.retries_used.fetch_add(1, Ordering::Relaxed);
            if attempt >= self.retry.max_attempts || used >= self.retry.budget {
                if last.starts_with("HTTP") {
                    return failed(ApiError::RetriesExhausted { service: name, attempts: attempt, last });
                }
                return failed(ApiError::Transport { service: name, message: last });
            }
            if tokio::time::Instant::now() + delay > until {
                return failed(limit(format!(
                    "a retry in {:.1} s would pass the request deadline of {} s (--request-deadline); last answer: {last} ({url})",
                    delay.as_secs_f64(),
                    limits.request_deadline.as_secs()
                )));
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
        Pager {
            client: self,
            service,
            next: Some(first.to_owned()),
            headers,
            last: Value::Null,
            seen: std::collections::HashSet::new(),
        }
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
    /// Every page URL fetched: a link back to one of them is a loop.
    seen: std::collections::HashSet<String>,
}

impl Pager<'_> {
    /// The next page's items, or `None` after the last page.
    pub async fn next(&mut self) -> Result<Option<Vec<Value>>, ApiError> {
        let Some(url) = self.next.take() else { return Ok(None) };
        let limits = &self.client.retry.limits;
        let untrusted = |message: String| ApiError::Untrusted { service: self.service.name(), message };
        if self.seen.len() as u64 >= limits.max_pages {
            return Err(untrusted(format!(
                "the list goes on past {} pages (--max-pages); stopped at {url}",
                limits.max_pages
            )));
        }
        self.seen.insert(url.clone());
        let request = Request { url: &url, headers: self.headers, body: None };
        let mut page = self
            .client
            .send_parsed(self.service, reqwest::Method::GET, request, Some(limits.max_page_items))
            .await?
            .body;
        self.client.note(self.service, |s| s.pages += 1);
        if let Some(hook) = self.client.on_page.get() {
            hook(page["value"].as_array().map_or(0, Vec::len));
        }
        let items = match page.get_mut("value").map(Value::take) {
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => Vec::new(),
            Some(_) => return Err(untrusted(format!("the page's `value` is not a list ({url})"))),
        };
        crate::azure::items::check_page(&items, &url).map_err(|why| untrusted(format!("{why} ({url})")))?;
        let next = page.get("@odata.nextLink").or_else(|| page.get("nextLink")).and_then(Value::as_str);
        if let Some(n) = next.filter(|n| !n.is_empty()) {
            if !self.client.endpoints.owns(n) {
                return Err(ApiError::ForeignLink(n.to_owned()));
            }
            if self.seen.contains(n) {
                return Err(untrusted(format!("the next page link repeats an earlier page (a loop): {n}")));
            }
            self.next = Some(n.to_owned());
        }
        self.last = page;
        Ok(Some(items))
    }
}
