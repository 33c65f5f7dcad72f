//! Throttling as documented: Graph's identity resource-unit buckets (per app and tenant, sized by tenant), the
//! identity reports tier for `signInActivity`, Graph's write quota, Outlook's per-mailbox limit for mailbox
//! settings (which are not identity requests and spend no resource units), ARM's per-principal token buckets, and
//! Resource Graph's per-user quota (a fixed window, not a bucket).
//!
//! Buckets refill continuously. A request that finds too few tokens gets 429 with a `Retry-After` (seconds, with
//! fractions) after which the bucket holds enough again. The clock is passed in, so the arithmetic is testable.

use std::collections::HashMap;

use crate::http::ApiRequest;

/// A token bucket: `capacity` tokens, refilled at `rate` per second.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub capacity: f64,
    pub rate: f64,
    tokens: f64,
    at: f64,
}

impl Bucket {
    pub fn new(capacity: f64, rate: f64) -> Self {
        Bucket { capacity, rate, tokens: capacity, at: 0.0 }
    }

    fn refill(&mut self, now: f64) {
        if now > self.at {
            self.tokens = (self.tokens + (now - self.at) * self.rate).min(self.capacity);
            self.at = now;
        }
    }

    /// Seconds until `cost` tokens are available (0 when they are now).
    pub fn wait_for(&mut self, cost: f64, now: f64) -> f64 {
        self.refill(now);
        if self.tokens >= cost { 0.0 } else { (cost.min(self.capacity) - self.tokens) / self.rate }
    }

    pub fn take(&mut self, cost: f64, now: f64) {
        self.refill(now);
        self.tokens -= cost;
    }

    pub fn remaining(&mut self, now: f64) -> f64 {
        self.refill(now);
        self.tokens.max(0.0)
    }
}

/// The documented limits, or smaller ones for tests (`GET /_emulator/limits` shows them).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Limits {
    /// Graph identity resource units per 10 s for this app in this tenant.
    pub graph_ru_per_10s: f64,
    /// Graph writes per 150 s for this app in this tenant.
    pub graph_writes_per_150s: f64,
    /// Identity reports requests (signInActivity) per 10 s, and per minute.
    pub reports_per_10s: f64,
    pub sign_in_activity_per_min: f64,
    /// Outlook requests (mailbox settings) per 10 minutes, per app and mailbox.
    pub outlook_per_10min: f64,
    /// ARM bucket sizes and refill per second, per principal and subscription (or tenant).
    pub arm_reads: (f64, f64),
    pub arm_writes: (f64, f64),
    pub arm_deletes: (f64, f64),
    /// Resource Graph queries per user in each window of `resource_graph_window_secs` (15 in 5 s documented).
    pub resource_graph_queries: u32,
    pub resource_graph_window_secs: f64,
}

impl Limits {
    /// The documented numbers for a tenant with `users` users (S < 50, M 50–500, L > 500).
    pub fn documented(users: usize) -> Self {
        let ru = if users < 50 {
            3_500.0
        } else if users <= 500 {
            5_000.0
        } else {
            8_000.0
        };
        Limits {
            graph_ru_per_10s: ru,
            graph_writes_per_150s: 3_000.0,
            reports_per_10s: 5.0,
            sign_in_activity_per_min: 10.0,
            outlook_per_10min: 10_000.0,
            arm_reads: (250.0, 25.0),
            arm_writes: (200.0, 10.0),
            arm_deletes: (200.0, 10.0),
            resource_graph_queries: 15,
            resource_graph_window_secs: 5.0,
        }
    }
}

/// The mailbox an Outlook request (`users/{id}/mailboxSettings…`) reads, if it is one.
pub fn outlook_mailbox(req: &ApiRequest) -> Option<&str> {
    let mut segs = req.path.trim_start_matches('/').split('/').skip(1);
    match (segs.next(), segs.next(), segs.next()) {
        (Some("users"), Some(id), Some(s)) if s.eq_ignore_ascii_case("mailboxSettings") => Some(id),
        _ => None,
    }
}

/// Resource units a Graph request costs, per the documented base costs and modifiers (none for Outlook requests,
/// which are outside the identity service).
pub fn resource_units(req: &ApiRequest) -> f64 {
    if outlook_mailbox(req).is_some() {
        return 0.0;
    }
    let segs: Vec<&str> = req.path.trim_start_matches('/').split('/').skip(1).collect();
    if req.method != "GET" {
        return 1.0;
    }
    let base: f64 = match segs.as_slice() {
        ["users"] | ["applications"] | ["oauth2PermissionGrants"] => 2.0,
        ["groups", _, "members", ..] => 3.0,
        ["groups", _, "transitiveMembers", ..] => 5.0,
        ["servicePrincipals", _, "appRoleAssignments"] => 2.0,
        ["users", _, "memberOf"] | ["users", _, "transitiveMemberOf"] => 2.0,
        ["directoryObjects", "getByIds"] => 5.0,
        _ => 1.0,
    };
    let mut cost = base;
    if req.param("$select").is_some() {
        cost -= 1.0;
    }
    if req.param("$expand").is_some() {
        cost += 1.0;
    }
    if req.param("$top").and_then(|t| t.parse::<u32>().ok()).is_some_and(|t| t < 20) {
        cost -= 1.0;
    }
    cost.max(1.0)
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Go ahead; these headers go on the answer.
    Admit(Vec<(String, String)>),
    /// 429 after this many seconds; these headers go on the 429.
    Throttle { retry_after: f64, headers: Vec<(String, String)>, scope: String },
}

/// The buckets of one emulator.
#[derive(Debug)]
pub struct Limiter {
    pub(crate) limits: Limits,
    buckets: HashMap<String, Bucket>,
    /// Resource Graph's windows per principal: when the current one started, and the queries spent in it.
    windows: HashMap<String, (f64, u32)>,
}

/// `Retry-After` as Graph writes it: whole seconds when whole, else three decimals.
pub fn format_seconds(s: f64) -> String {
    let s = (s * 1000.0).ceil() / 1000.0;
    if s.fract() == 0.0 { format!("{}", s as u64) } else { format!("{s:.3}") }
}

impl Limiter {
    pub fn new(limits: Limits) -> Self {
        Limiter { limits, buckets: HashMap::new(), windows: HashMap::new() }
    }

    fn bucket(&mut self, key: &str, capacity: f64, rate: f64) -> &mut Bucket {
        self.buckets.entry(key.to_owned()).or_insert_with(|| Bucket::new(capacity, rate))
    }

    /// Decides a Graph request by `app` in `tenant` at time `now` (seconds).
    pub fn graph(&mut self, req: &ApiRequest, app: &str, tenant: &str, now: f64) -> Verdict {
        let l = self.limits.clone();
        if let Some(mailbox) = outlook_mailbox(req) {
            let key = format!("outlook:{app}:{}", mailbox.to_ascii_lowercase());
            let bucket = self.bucket(&key, l.outlook_per_10min, l.outlook_per_10min / 600.0);
            let wait = bucket.wait_for(1.0, now);
            if wait > 0.0 {
                return Verdict::Throttle { retry_after: wait, headers: Vec::new(), scope: key };
            }
            bucket.take(1.0, now);
            return Verdict::Admit(Vec::new());
        }
        let cost = resource_units(req);
        let write = req.method != "GET" && !req.path.ends_with("/getByIds");
        // Reading or filtering on sign-in activity, or reading the audit log, is an identity reports request.
        let reports = req.path.to_ascii_lowercase().contains("/auditlogs/")
            || ["$select", "$filter"]
                .iter()
                .any(|p| req.param(p).is_some_and(|s| s.to_ascii_lowercase().contains("signinactivity")));
        let mut checks: Vec<(String, f64, f64, f64)> =
            vec![(format!("graph-ru:{app}:{tenant}"), l.graph_ru_per_10s, l.graph_ru_per_10s / 10.0, cost)];
        if write {
            checks.push((
                format!("graph-w:{app}:{tenant}"),
                l.graph_writes_per_150s,
                l.graph_writes_per_150s / 150.0,
                1.0,
            ));
        }
        if reports {
            checks.push((format!("reports:{app}:{tenant}"), l.reports_per_10s, l.reports_per_10s / 10.0, 1.0));
            checks.push((
                format!("signin:{app}:{tenant}"),
                l.sign_in_activity_per_min,
                l.sign_in_activity_per_min / 60.0,
                1.0,
            ));
        }
        let mut wait: f64 = 0.0;
        for (key, cap, rate, c) in &checks {
            wait = wait.max(self.bucket(key, *cap, *rate).wait_for(*c, now));
        }
        let rw = if write { "ReadWrite" } else { "Read" };
        let scope = format!("Tenant_Application/{rw}/{app}/{tenant}");
        if wait > 0.0 {
            let info = if reports {
                "ReportsLimitExceeded"
            } else if write {
                "WriteLimitExceeded"
            } else {
                "ResourceUnitLimitExceeded"
            };
            return Verdict::Throttle {
                retry_after: wait,
                headers: vec![
                    ("x-ms-throttle-scope".to_owned(), scope.clone()),
                    ("x-ms-throttle-information".to_owned(), info.to_owned()),
                ],
                scope,
            };
        }
        for (key, cap, rate, c) in &checks {
            self.bucket(key, *cap, *rate).take(*c, now);
        }
        let mut headers = vec![("x-ms-resource-unit".to_owned(), format!("{cost}"))];
        let ru = self.bucket(&checks[0].0, checks[0].1, checks[0].2);
        let used = 1.0 - ru.remaining(now) / ru.capacity;
        if used > 0.8 {
            headers.push(("x-ms-throttle-limit-percentage".to_owned(), format!("{:.1}", used)));
        }
        Verdict::Admit(headers)
    }

    /// Decides an ARM request by `principal`; `subscription` is `None` for tenant-level requests.
    pub fn arm(&mut self, method: &str, principal: &str, subscription: Option<&str>, now: f64) -> Verdict {
        let l = self.limits.clone();
        let (op, (cap, rate)) = match method {
            "GET" | "HEAD" => ("reads", l.arm_reads),
            "DELETE" => ("deletes", l.arm_deletes),
            _ => ("writes", l.arm_writes),
        };
        let (level, key) = match subscription {
            Some(s) => ("subscription", format!("arm:{op}:{s}:{principal}")),
            None => ("tenant", format!("arm:{op}:tenant:{principal}")),
        };
        let global_key = subscription.map(|s| format!("arm-global:{op}:{s}"));
        let mut wait = self.bucket(&key, cap, rate).wait_for(1.0, now);
        if let Some(g) = &global_key {
            wait = wait.max(self.bucket(g, cap * 15.0, rate * 15.0).wait_for(1.0, now));
        }
        let header = format!("x-ms-ratelimit-remaining-{level}-{op}");
        if wait > 0.0 {
            return Verdict::Throttle {
                retry_after: wait,
                headers: vec![(header, "0".to_owned())],
                scope: format!("{level}/{op}"),
            };
        }
        let b = self.bucket(&key, cap, rate);
        b.take(1.0, now);
        let mut headers = vec![(header, format!("{}", b.remaining(now).floor() as u64))];
        if let Some(g) = &global_key {
            let gb = self.bucket(g, cap * 15.0, rate * 15.0);
            gb.take(1.0, now);
            headers.push((
                format!("x-ms-ratelimit-remaining-{level}-global-{op}"),
                format!("{}", gb.remaining(now).floor() as u64),
            ));
        }
        Verdict::Admit(headers)
    }

    /// A Resource Graph query by `principal`: at most `resource_graph_queries` in each window, with the quota
    /// headers Resource Graph puts on every answer (`x-ms-user-quota-remaining`, `x-ms-user-quota-resets-after`
    /// as `hh:mm:ss`).
    pub fn resource_graph(&mut self, principal: &str, now: f64) -> Verdict {
        let (quota, window) = (self.limits.resource_graph_queries, self.limits.resource_graph_window_secs);
        let (start, used) = self.windows.entry(principal.to_owned()).or_insert((now, 0));
        if now - *start >= window {
            (*start, *used) = (now, 0);
        }
        let resets_after = (*start + window - now).max(0.0);
        let clock = resets_after.ceil() as u64;
        let resets = format!("{:02}:{:02}:{:02}", clock / 3600, clock / 60 % 60, clock % 60);
        if *used >= quota {
            return Verdict::Throttle {
                retry_after: resets_after,
                headers: vec![
                    ("x-ms-user-quota-remaining".to_owned(), "0".to_owned()),
                    ("x-ms-user-quota-resets-after".to_owned(), resets),
                ],
                scope: "user/resourcegraph".to_owned(),
            };
        }
        *used += 1;
        Verdict::Admit(vec![
            ("x-ms-user-quota-remaining".to_owned(), (quota - *used).to_string()),
            ("x-ms-user-quota-resets-after".to_owned(), resets),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refills_and_says_how_long_to_wait() {
        let mut b = Bucket::new(10.0, 2.0);
        assert_eq!(b.wait_for(10.0, 0.0), 0.0);
        b.take(10.0, 0.0);
        assert_eq!(b.wait_for(1.0, 0.0), 0.5);
        assert_eq!(b.wait_for(1.0, 0.5), 0.0, "honouring the wait is enough");
        assert_eq!(b.remaining(100.0), 10.0, "never above capacity");
    }

    #[test]
    fn resource_graph_quota_is_a_fixed_window_per_user() {
        let mut l = Limiter::new(Limits::documented(15));
        let remaining = |v: &Verdict| match v {
            Verdict::Admit(h) | Verdict::Throttle { headers: h, .. } => h[0].1.clone(),
        };
        for n in 0..15 {
            let v = l.resource_graph("alice", 1.0 + f64::from(n) * 0.1);
            assert_eq!(remaining(&v), (14 - n).to_string());
        }
        let Verdict::Throttle { retry_after, headers, .. } = l.resource_graph("alice", 3.0) else {
            panic!("the 16th query in the window is throttled")
        };
        assert!((retry_after - 3.0).abs() < 1e-9, "{retry_after}");
        assert_eq!(headers[1], ("x-ms-user-quota-resets-after".to_owned(), "00:00:03".to_owned()));
        assert!(matches!(l.resource_graph("bob", 3.0), Verdict::Admit(_)), "each user has their own quota");
        let v = l.resource_graph("alice", 6.0);
        assert_eq!(remaining(&v), "14", "a new window starts with the whole quota");
    }

    #[test]
    fn resource_unit_costs_follow_the_documented_table() {
        let mut req = ApiRequest::get("/v1.0/users");
        assert_eq!(resource_units(&req), 2.0);
        req.query = vec![("$select".into(), "id".into())];
        assert_eq!(resource_units(&req), 1.0);
        let mut t = ApiRequest::get("/v1.0/groups/x/transitiveMembers");
        assert_eq!(resource_units(&t), 5.0);
        t.query = vec![("$top".into(), "5".into()), ("$select".into(), "id".into())];
        assert_eq!(resource_units(&t), 3.0);
        assert_eq!(resource_units(&ApiRequest::get("/v1.0/organization")), 1.0);
        assert_eq!(resource_units(&ApiRequest::get("/v1.0/users/u1/mailboxSettings/userPurpose")), 0.0);
    }

    #[test]
    fn mailbox_settings_spend_the_mailboxs_outlook_limit_not_resource_units() {
        let mut limits = Limits::documented(10);
        limits.graph_ru_per_10s = 1.0;
        limits.outlook_per_10min = 2.0;
        let mut l = Limiter::new(limits);
        let a = ApiRequest::get("/v1.0/users/a/mailboxSettings/userPurpose");
        let b = ApiRequest::get("/v1.0/users/b/mailboxSettings");
        for _ in 0..2 {
            assert_eq!(l.graph(&a, "app", "t", 0.0), Verdict::Admit(Vec::new()));
        }
        let Verdict::Throttle { retry_after, .. } = l.graph(&a, "app", "t", 0.0) else { panic!("not throttled") };
        assert!((retry_after - 300.0).abs() < 1e-9, "2 per 600 s: {retry_after}");
        assert_eq!(l.graph(&b, "app", "t", 0.0), Verdict::Admit(Vec::new()), "limits are per mailbox");
        assert!(matches!(l.graph(&ApiRequest::get("/v1.0/organization"), "app", "t", 0.0), Verdict::Admit(_)));
    }

    #[test]
    fn graph_throttles_with_a_retry_after_that_works() {
        let mut limits = Limits::documented(10);
        limits.graph_ru_per_10s = 4.0;
        let mut l = Limiter::new(limits);
        let req = ApiRequest::get("/v1.0/users");
        assert!(matches!(l.graph(&req, "app", "t", 0.0), Verdict::Admit(_)));
        assert!(matches!(l.graph(&req, "app", "t", 0.0), Verdict::Admit(_)));
        let Verdict::Throttle { retry_after, .. } = l.graph(&req, "app", "t", 0.0) else { panic!("not throttled") };
        assert!((retry_after - 5.0).abs() < 1e-9, "2 RU at 0.4 RU/s: {retry_after}");
        assert!(matches!(l.graph(&req, "app", "t", retry_after), Verdict::Admit(_)));
        assert!(matches!(l.graph(&req, "other-app", "t", 0.0), Verdict::Admit(_)), "buckets are per app");
    }

    #[test]
    fn documented_sizes() {
        assert_eq!(Limits::documented(10).graph_ru_per_10s, 3_500.0);
        assert_eq!(Limits::documented(200).graph_ru_per_10s, 5_000.0);
        assert_eq!(Limits::documented(200_000).graph_ru_per_10s, 8_000.0);
        assert_eq!(format_seconds(2.0), "2");
        assert_eq!(format_seconds(2.1271), "2.128");
    }
}
