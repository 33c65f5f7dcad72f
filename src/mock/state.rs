//! The emulator's state: the served tenant with its lookup indexes, the token issuer, options and statistics,
//! and the single entry point that turns a request into a response.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, RwLock};

use serde_json::{Value, json};

use crate::mock::auth::{Audience, Caller, TokenIssuer};
use crate::mock::http::{ApiRequest, ApiResponse, graph_error};
use crate::mock::tenant::{License, ObjectKind, TenantFile};
use crate::mock::{arm, graph};
use crate::model::Guid;

/// How the emulator behaves, beyond the tenant it serves.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// Overrides the tenant file's license.
    pub license: Option<License>,
    pub token_lifetime_secs: u64,
    /// Seed for the signing key and everything random.
    pub seed: u64,
    /// Items per ARM list page.
    pub arm_page_size: usize,
    /// Added delay before every answer.
    pub latency_ms: u64,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions { license: None, token_lifetime_secs: 3599, seed: 1, arm_page_size: 100, latency_ms: 0 }
    }
}

/// The served tenant plus indexes over it. Rebuilt after every write.
pub struct World {
    pub tenant: TenantFile,
    pub license: License,
    /// Object id → (kind, position in its list).
    pub objects: HashMap<Guid, (ObjectKind, usize)>,
    /// Groups each object is a direct member of.
    pub member_of: HashMap<Guid, Vec<Guid>>,
}

impl World {
    pub fn new(tenant: TenantFile, license_override: Option<License>) -> Self {
        let license = license_override.unwrap_or(tenant.tenant.license);
        let mut world = World { tenant, license, objects: HashMap::new(), member_of: HashMap::new() };
        world.reindex();
        world
    }

    pub fn reindex(&mut self) {
        let t = &self.tenant;
        let mut objects = HashMap::new();
        for (i, u) in t.users.iter().enumerate() {
            objects.insert(u.id.clone(), (ObjectKind::User, i));
        }
        for (i, g) in t.groups.iter().enumerate() {
            objects.insert(g.id.clone(), (ObjectKind::Group, i));
        }
        for (i, s) in t.service_principals.iter().enumerate() {
            objects.insert(s.id.clone(), (ObjectKind::ServicePrincipal, i));
        }
        for (i, a) in t.applications.iter().enumerate() {
            objects.insert(a.id.clone(), (ObjectKind::Application, i));
        }
        let mut member_of: HashMap<Guid, Vec<Guid>> = HashMap::new();
        for g in &t.groups {
            for m in &g.members {
                member_of.entry(m.clone()).or_default().push(g.id.clone());
            }
        }
        self.objects = objects;
        self.member_of = member_of;
    }

    /// Groups `id` belongs to, directly or through nested groups.
    pub fn transitive_groups(&self, id: &Guid) -> HashSet<Guid> {
        let mut seen = HashSet::new();
        let mut stack = vec![id.clone()];
        while let Some(next) = stack.pop() {
            for g in self.member_of.get(&next).into_iter().flatten() {
                if seen.insert(g.clone()) {
                    stack.push(g.clone());
                }
            }
        }
        seen
    }
}

/// Request statistics, for tests and benchmarks (`GET /_emulator/stats`).
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Stats {
    pub requests: u64,
    pub throttled: u64,
    pub faults: u64,
    /// Requests per endpoint class (`token`, `graph`, `graph_batch_inner`, `arm`, `emulator`).
    pub by_class: std::collections::BTreeMap<String, u64>,
    pub writes: u64,
}

/// The emulator: everything a request needs.
pub struct Emulator {
    pub world: RwLock<World>,
    pub issuer: TokenIssuer,
    pub options: EmulatorOptions,
    pub stats: Mutex<Stats>,
}

impl Emulator {
    pub fn new(tenant: TenantFile, options: EmulatorOptions) -> Self {
        Emulator {
            world: RwLock::new(World::new(tenant, options.license)),
            issuer: TokenIssuer::new(options.seed, options.token_lifetime_secs),
            options,
            stats: Mutex::new(Stats::default()),
        }
    }

    fn count(&self, class: &str) {
        if let Ok(mut s) = self.stats.lock() {
            s.requests += 1;
            *s.by_class.entry(class.to_owned()).or_default() += 1;
        }
    }

    /// Answers one request.
    pub fn handle(&self, req: &ApiRequest) -> ApiResponse {
        let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
        if segments.first() == Some(&"_emulator") {
            self.count("emulator");
            return self.introspect(req, &segments[1..]);
        }
        if req.method == "POST" && segments.len() == 4 && segments[1..] == ["oauth2", "v2.0", "token"] {
            self.count("token");
            let world = self.read();
            return self.issuer.token_endpoint(&world.tenant, segments[0], req);
        }
        if matches!(segments.first(), Some(&"v1.0") | Some(&"beta")) {
            self.count("graph");
            let caller = match self.authenticate(req, Audience::Graph) {
                Ok(c) => c,
                Err(e) => return e,
            };
            return graph::handle(self, &caller, req, &segments[1..]);
        }
        self.count("arm");
        let caller = match self.authenticate(req, Audience::Arm) {
            Ok(c) => c,
            Err(e) => return e,
        };
        let world = self.read();
        arm::handle(&world, &self.options, &caller, req)
    }

    fn authenticate(&self, req: &ApiRequest, audience: Audience) -> Result<Caller, ApiResponse> {
        let caller = self.issuer.check(req, audience)?;
        let world = self.read();
        if caller.tenant_id != world.tenant.tenant.id.as_str() {
            return Err(match audience {
                Audience::Graph => graph_error(401, "InvalidAuthenticationToken", "Access token validation failure."),
                Audience::Arm => crate::mock::http::arm_error(
                    401,
                    "InvalidAuthenticationTokenTenant",
                    "The access token is from the wrong issuer. It must match the tenant associated with this \
                     subscription.",
                ),
            });
        }
        Ok(caller)
    }

    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, World> {
        self.world.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn write(&self) -> std::sync::RwLockWriteGuard<'_, World> {
        self.world.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn introspect(&self, req: &ApiRequest, rest: &[&str]) -> ApiResponse {
        match (req.method.as_str(), rest) {
            ("GET", ["stats"]) => {
                let stats = self.stats.lock().map(|s| s.clone()).unwrap_or_default();
                ApiResponse::ok(serde_json::to_value(stats).unwrap_or(Value::Null))
            }
            ("GET", ["tenant"]) => ApiResponse::ok(serde_json::to_value(&self.read().tenant).unwrap_or(Value::Null)),
            ("POST", ["reset"]) => {
                if let Ok(mut s) = self.stats.lock() {
                    *s = Stats::default();
                }
                ApiResponse::ok(json!({"reset": "stats"}))
            }
            _ => graph_error(404, "Request_ResourceNotFound", &format!("No emulator endpoint '{}'.", req.path)),
        }
    }
}
