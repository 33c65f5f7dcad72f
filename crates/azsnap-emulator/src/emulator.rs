//! The emulator: one request in, one response out. Every request goes the same way: authentication → injected
//! faults → throttling → the API's router ([`crate::graph`] or [`crate::arm`]); `$batch` items go through it one
//! by one.

use std::sync::{Mutex, RwLock};

use serde_json::{Value, json};

use crate::auth::{Audience, Caller, TokenIssuer};
use crate::faults::{Fault, FaultStream};
use crate::http::{ApiRequest, ApiResponse, graph_error};
use crate::limits::{Limiter, Verdict, format_seconds};
use crate::model::Guid;
use crate::options::EmulatorOptions;
use crate::tenant::TenantFile;
use crate::world::World;
use crate::{arm, batch, graph, login};

/// Request statistics, for tests and benchmarks (`GET /_emulator/stats`).
#[derive(Debug, Default, Clone, serde::Serialize)]
pub(crate) struct Stats {
    pub requests: u64,
    /// 429 answers, `$batch` items included.
    pub throttled: u64,
    /// 429 answers to `$batch` items (part of `throttled`).
    pub throttled_inner: u64,
    pub faults: u64,
    /// Requests per endpoint class (`token`, `login`, `graph`, `graph_batch_inner`, `arm`, `emulator`).
    pub by_class: std::collections::BTreeMap<String, u64>,
    /// Requests per route, `$batch` items included: method and path with IDs as `{id}` (`GET /v1.0/groups/{id}`).
    pub by_route: std::collections::BTreeMap<String, u64>,
    /// Graph identity resource units spent by admitted requests.
    pub resource_units: f64,
    /// Injected faults by kind.
    pub faults_by_kind: std::collections::BTreeMap<String, u64>,
    /// Successful writes (requests that changed state).
    pub writes: u64,
    /// Every write request answered, in order: `METHOD path -> status`.
    pub write_log: Vec<String>,
}

/// The emulator: everything a request needs.
pub struct Emulator {
    world: RwLock<World>,
    issuer: TokenIssuer,
    pub(crate) options: EmulatorOptions,
    stats: Mutex<Stats>,
    limiter: Option<Mutex<Limiter>>,
    faults: Mutex<FaultStream>,
    started: std::time::Instant,
    /// Produces the tenant as it was at start, for `POST /_emulator/reset`.
    initial: Box<dyn Fn() -> Option<TenantFile> + Send + Sync>,
}

/// A request's route for the stats: its method and path, with each segment that names one object (a GUID, or the
/// name after an ARM `resourceGroups`, `storageAccounts` or `containers`) written `{id}`.
fn route(req: &ApiRequest) -> String {
    let mut path = String::new();
    let mut previous = "";
    for segment in req.path.trim_start_matches('/').split('/') {
        let id = segment.parse::<Guid>().is_ok()
            || ["resourceGroups", "storageAccounts", "containers"].iter().any(|p| previous.eq_ignore_ascii_case(p));
        path.push('/');
        path.push_str(if id { "{id}" } else { segment });
        previous = segment;
    }
    format!("{} {path}", req.method)
}

/// The header through which `handle` tells the HTTP layer to drop the connection or answer slowly.
pub(crate) const FAULT_HEADER: &str = "x-emulator-fault";

impl Emulator {
    /// An emulator that keeps a copy of `tenant` to reset to.
    pub fn new(tenant: TenantFile, options: EmulatorOptions) -> Self {
        let copy = std::sync::Arc::new(tenant.clone());
        Self::with_reset(tenant, options, Box::new(move || Some((*copy).clone())))
    }

    /// An emulator that rebuilds its initial tenant with `initial` on reset (reload a file, regenerate), so a large
    /// tenant is not held twice.
    pub fn with_reset(
        tenant: TenantFile,
        options: EmulatorOptions,
        initial: Box<dyn Fn() -> Option<TenantFile> + Send + Sync>,
    ) -> Self {
        Emulator {
            initial,
            world: RwLock::new(World::new(tenant, options.license)),
            issuer: TokenIssuer::new(options.seed, options.token_lifetime_secs),
            limiter: options.throttle.clone().map(|l| Mutex::new(Limiter::new(l))),
            faults: Mutex::new(FaultStream::new(options.faults.clone(), options.seed)),
            options,
            stats: Mutex::new(Stats::default()),
            started: std::time::Instant::now(),
        }
    }

    /// Counts a request of `class`; `http` says whether it came over the wire (batch items do not).
    fn count(&self, class: &str, http: bool) {
        if let Ok(mut s) = self.stats.lock() {
            if http {
                s.requests += 1;
            }
            *s.by_class.entry(class.to_owned()).or_default() += 1;
        }
    }

    /// Answers one request, and records writes in the write log.
    pub fn handle(&self, req: &ApiRequest) -> ApiResponse {
        self.handle_counted(req, true)
    }

    fn handle_counted(&self, req: &ApiRequest, top_level: bool) -> ApiResponse {
        // Graph and ARM treat `//` in a path as `/` (the Python SDK sends `/v1.0//users`); `$batch` items too.
        if req.path.contains("//") {
            let mut collapsed = req.clone();
            collapsed.path = collapse_slashes(&req.path);
            return self.handle_counted(&collapsed, top_level);
        }
        let resp = self.answer(req, top_level);
        if is_write(req)
            && let Ok(mut s) = self.stats.lock()
        {
            if changed_state(req, &resp) {
                s.writes += 1;
            }
            s.write_log.push(format!("{} {} -> {}", req.method, req.path, resp.status));
        }
        resp
    }

    /// Answers one request of a `$batch`: counted and throttled on its own, like Graph does.
    fn handle_inner(&self, req: &ApiRequest) -> ApiResponse {
        self.count("graph_batch_inner", false);
        self.handle_counted(req, false)
    }

    fn answer(&self, req: &ApiRequest, top_level: bool) -> ApiResponse {
        if let Ok(mut s) = self.stats.lock() {
            *s.by_route.entry(route(req)).or_default() += 1;
        }
        let count = |class: &str| {
            if top_level {
                self.count(class, true);
            }
        };
        let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
        if segments.first() == Some(&"_emulator") {
            count("emulator");
            return self.introspect(req, &segments[1..]);
        }
        if req.method == "POST" && segments.len() == 4 && segments[1..] == ["oauth2", "v2.0", "token"] {
            count("token");
            return self.issuer.token_endpoint(&self.read().tenant, segments[0], req);
        }
        if req.method == "GET" && segments == ["msi", "token"] {
            count("token");
            return self.issuer.managed_identity_endpoint(&self.read().tenant, req);
        }
        if let Some(r) = login::answer(&self.read().tenant, req, &segments) {
            count("login");
            return r;
        }
        if matches!(segments.first(), Some(&"v1.0") | Some(&"beta")) {
            count("graph");
            let r = self.answer_graph(req, top_level, &segments[1..]);
            return graph_headers(req, r);
        }
        count("arm");
        let r = self.answer_arm(req, top_level, &segments);
        arm_headers(req, r)
    }

    /// Graph: authenticate, then (except for `$batch`, whose items go through here one by one) faults, throttling.
    fn answer_graph(&self, req: &ApiRequest, top_level: bool, rest: &[&str]) -> ApiResponse {
        let caller = match self.authenticate(req, Audience::Graph) {
            Ok(c) => c,
            Err(e) => return e,
        };
        if req.method == "POST" && rest == ["$batch"] {
            let version = req.path.trim_start_matches('/').split('/').next().unwrap_or("v1.0");
            return batch::handle(req, version, |item| self.handle_inner(item));
        }
        let slow = match self.inject_fault(top_level, true) {
            FaultOutcome::Replace(r) => return r,
            FaultOutcome::Slow => true,
            FaultOutcome::None => false,
        };
        let now = self.started.elapsed().as_secs_f64();
        let verdict = self
            .limiter
            .as_ref()
            .and_then(|l| l.lock().ok())
            .map(|mut l| l.graph(req, &caller.app_id, &caller.tenant_id, now));
        let headers = match verdict {
            Some(Verdict::Throttle { retry_after, headers, .. }) => {
                self.note_throttled(top_level);
                let mut r = crate::http::graph_throttled();
                r.headers.extend(headers);
                r.headers.push(("Retry-After".to_owned(), format_seconds(retry_after)));
                return r;
            }
            Some(Verdict::Admit(headers)) => headers,
            None => {
                let units = crate::limits::resource_units(req);
                if units > 0.0 { vec![("x-ms-resource-unit".to_owned(), format!("{units}"))] } else { Vec::new() }
            }
        };
        if self.limiter.is_some() {
            let spent: f64 = headers
                .iter()
                .find(|(k, _)| k == "x-ms-resource-unit")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0.0);
            if let Ok(mut s) = self.stats.lock() {
                s.resource_units += spent;
            }
        }
        let mut r = graph::handle(&self.world, self.options.delta_token_max_age_secs, &caller, req, rest);
        r.headers.extend(headers);
        slowed(r, slow)
    }

    /// ARM: authenticate, faults, per-principal throttling, then the read or write.
    fn answer_arm(&self, req: &ApiRequest, top_level: bool, segments: &[&str]) -> ApiResponse {
        let caller = match self.authenticate(req, Audience::Arm) {
            Ok(c) => c,
            Err(e) => return e,
        };
        let slow = match self.inject_fault(top_level, false) {
            FaultOutcome::Replace(r) => return r,
            FaultOutcome::Slow => true,
            FaultOutcome::None => false,
        };
        let subscription =
            segments.first().filter(|s| s.eq_ignore_ascii_case("subscriptions")).and(segments.get(1)).copied();
        let now = self.started.elapsed().as_secs_f64();
        let verdict = self.limiter.as_ref().and_then(|l| l.lock().ok()).map(|mut l| {
            if is_resource_graph(req) {
                l.resource_graph(&caller.object_id, now)
            } else {
                l.arm(&req.method, &caller.object_id, subscription, now)
            }
        });
        let mut extra = Vec::new();
        match verdict {
            Some(Verdict::Throttle { retry_after, headers, scope }) => {
                self.note_throttled(true);
                let mut r = crate::http::arm_throttled(&scope);
                r.headers.extend(headers);
                r.headers.push(("Retry-After".to_owned(), format!("{}", retry_after.ceil().max(1.0) as u64)));
                return r;
            }
            Some(Verdict::Admit(headers)) => extra = headers,
            None => {}
        }
        let mut r = if matches!(req.method.as_str(), "PUT" | "DELETE" | "PATCH") {
            arm::handle_write(&mut self.write(), &self.options, &caller, req)
        } else {
            arm::handle(&self.read(), &self.options, &caller, req)
        };
        r.headers.extend(extra);
        slowed(r, slow)
    }

    fn note_throttled(&self, top_level: bool) {
        if let Ok(mut s) = self.stats.lock() {
            s.throttled += 1;
            if !top_level {
                s.throttled_inner += 1;
            }
        }
    }

    /// Draws the next fault. `Replace` answers instead of the service; `Slow` lets the real answer through, late.
    fn inject_fault(&self, top_level: bool, graph: bool) -> FaultOutcome {
        let Some(fault) = self.faults.lock().ok().and_then(|mut f| f.draw()) else { return FaultOutcome::None };
        // A batch item cannot drop the connection or be slow on its own.
        if !top_level && matches!(fault, Fault::Reset | Fault::Slow) {
            return FaultOutcome::None;
        }
        if let Ok(mut s) = self.stats.lock() {
            s.faults += 1;
            *s.faults_by_kind.entry(fault.name().to_owned()).or_default() += 1;
            if matches!(fault, Fault::Throttle | Fault::ThrottleWithoutRetryAfter) {
                s.throttled += 1;
                if !top_level {
                    s.throttled_inner += 1;
                }
            }
        }
        let error = |status: u16, code: &str, msg: &str| {
            if graph { graph_error(status, code, msg) } else { crate::http::arm_error(status, code, msg) }
        };
        FaultOutcome::Replace(match fault {
            Fault::ServerError => error(
                503,
                if graph { "serviceNotAvailable" } else { "ServiceUnavailable" },
                "The service is temporarily unavailable.",
            ),
            Fault::Throttle => {
                error(429, "TooManyRequests", "Please retry again later.").with_header("Retry-After", "1")
            }
            Fault::ThrottleWithoutRetryAfter => error(429, "TooManyRequests", "Please retry again later."),
            Fault::Reset => ApiResponse::empty(599).with_header(FAULT_HEADER, "reset"),
            Fault::Slow => return FaultOutcome::Slow,
        })
    }

    fn authenticate(&self, req: &ApiRequest, audience: Audience) -> Result<Caller, ApiResponse> {
        let caller = self.issuer.check(req, audience)?;
        let world = self.read();
        if caller.tenant_id != world.tenant.tenant.id.as_str() {
            return Err(match audience {
                Audience::Graph => graph_error(401, "InvalidAuthenticationToken", "Access token validation failure."),
                Audience::Arm => crate::http::arm_error(
                    401,
                    "InvalidAuthenticationTokenTenant",
                    "The access token is from the wrong issuer. It must match the tenant associated with this \
                     subscription.",
                ),
            });
        }
        Ok(caller)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, World> {
        World::read(&self.world)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, World> {
        World::write(&self.world)
    }

    fn introspect(&self, req: &ApiRequest, rest: &[&str]) -> ApiResponse {
        match (req.method.as_str(), rest) {
            ("GET", ["stats"]) => {
                let stats = self.stats.lock().map(|s| s.clone()).unwrap_or_default();
                ApiResponse::ok(serde_json::to_value(stats).unwrap_or(Value::Null))
            }
            ("GET", ["tenant"]) => ApiResponse::ok(serde_json::to_value(&self.read().tenant).unwrap_or(Value::Null)),
            ("GET", ["limits"]) => {
                let limits = self.limiter.as_ref().and_then(|l| l.lock().ok()).map(|l| l.limits.clone());
                ApiResponse::ok(json!({"throttling": limits.is_some(), "limits": limits}))
            }
            ("POST", ["reset"]) => {
                let Some(tenant) = (self.initial)() else {
                    return graph_error(500, "InternalServerError", "The initial tenant could not be rebuilt.");
                };
                *self.write() = World::new(tenant, self.options.license);
                if let Ok(mut s) = self.stats.lock() {
                    *s = Stats::default();
                }
                ApiResponse::ok(json!({"reset": ["tenant", "stats"]}))
            }
            _ => graph_error(404, "Request_ResourceNotFound", &format!("No emulator endpoint '{}'.", req.path)),
        }
    }
}

/// `path` with every run of `/` made one.
fn collapse_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

/// Whether a request is a Resource Graph query (a read, with its own quota).
fn is_resource_graph(req: &ApiRequest) -> bool {
    req.method == "POST"
        && req.path.to_ascii_lowercase().trim_end_matches('/') == "/providers/microsoft.resourcegraph/resources"
}

/// Whether a request asks to change state (as opposed to reads that happen to be POSTs).
fn is_write(req: &ApiRequest) -> bool {
    match req.method.as_str() {
        "PUT" | "DELETE" | "PATCH" => true,
        "POST" => {
            !["/token", "/getByIds", "/$batch", "/getEntities"].iter().any(|s| req.path.ends_with(s))
                && !is_resource_graph(req)
                && !req.path.starts_with("/_emulator")
        }
        _ => false,
    }
}

/// Whether a write's answer means state changed: Graph 201/204; ARM 201 for PUT, 200 for DELETE (204 = absent).
fn changed_state(req: &ApiRequest, resp: &ApiResponse) -> bool {
    let graph = req.path.starts_with("/v1.0/") || req.path.starts_with("/beta/");
    matches!(
        (graph, req.method.as_str(), resp.status),
        (true, _, 201 | 204) | (false, "PUT", 201) | (false, "DELETE", 200)
    )
}

/// What a drawn fault does to a request.
enum FaultOutcome {
    None,
    Replace(ApiResponse),
    Slow,
}

/// Marks an answer for late delivery by the HTTP layer.
fn slowed(mut r: ApiResponse, slow: bool) -> ApiResponse {
    if slow {
        r.headers.push((FAULT_HEADER.to_owned(), "slow".to_owned()));
    }
    r
}

/// Headers every ARM answer carries: `x-ms-request-id` and `x-ms-correlation-request-id` (the client's
/// `x-ms-client-request-id`, echoed, when it sends one).
fn arm_headers(req: &ApiRequest, mut r: ApiResponse) -> ApiResponse {
    let id = Guid::derived(&format!("{}{}{:?}", req.method, req.path, std::time::Instant::now())).to_string();
    let correlation = req.header("x-ms-client-request-id").map_or_else(|| id.clone(), str::to_owned);
    r.headers.push(("x-ms-request-id".to_owned(), id));
    r.headers.push(("x-ms-correlation-request-id".to_owned(), correlation));
    r
}

/// Headers every Graph answer carries.
fn graph_headers(req: &ApiRequest, mut r: ApiResponse) -> ApiResponse {
    let id = req.header("client-request-id").map(str::to_owned).unwrap_or_else(|| {
        Guid::derived(&format!("{}{}{:?}", req.method, req.path, std::time::Instant::now())).to_string()
    });
    r.headers.push(("request-id".to_owned(), id.clone()));
    r.headers.push(("client-request-id".to_owned(), id));
    r.headers.push(("Cache-Control".to_owned(), "no-cache".to_owned()));
    if r.body.is_some() {
        r.headers.push(("OData-Version".to_owned(), "4.0".to_owned()));
    }
    r
}
