//! Pacing: spending each service's documented budget at its rate instead of sending as fast as possible and being
//! answered 429 (`api-contract.md` §7). Every request is paced against the limit of its tier:
//!
//! - **identity**: Graph's identity resource-unit bucket (users, groups, apps, roles, PIM and the `$batch` items
//!   reading them), per app and tenant;
//! - **reports**: Graph's identity reports tier (`signInActivity`): 5 requests per 10 s and 10 per minute;
//! - **outlook**: mailbox settings, under Outlook's limits (10,000 requests per 10 minutes and 4 at once per app and
//!   mailbox; one request per mailbox stays far below them), so only Graph's app-wide ceiling applies;
//! - **ARM**, per subscription (or the tenant) and operation type: the per-principal token bucket, corrected by the
//!   `x-ms-ratelimit-remaining-*` headers ARM sends with every answer, and the per-subscription global bucket.
//!
//! A pacer is a token bucket whose refill rate starts at the documented budget and slows down on a 429 (after
//! waiting out its `Retry-After`), creeping back while answers come through: a limit shared with other apps, or
//! smaller than documented, is found without a retry storm.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The identity budget pacing starts from: Graph's limit for a tenant of more than 500 users, 8,000 resource units
/// per 10 s per app and tenant, less a tenth left to other apps' and the list requests' share. Smaller tenants have
/// smaller buckets; their first 429 slows the pacer down to what they admit.
pub const UNITS_PER_SECOND: f64 = 720.0;
/// What may be spent at once before the refill rate applies (half the documented bucket).
pub const BURST: f64 = 4_000.0;

/// How far apart (seconds) two requests may arrive at the service compared with when they were sent (latency and
/// its jitter): a budget spends only what it will still have that much later, so the service's own bucket, a little
/// behind the client's, is never found short by a fraction. It delays the first request past a full bucket once,
/// never the rate.
const JITTER: f64 = 0.5;

/// The pacer's arithmetic, with the clock passed in (seconds), so it is testable.
#[derive(Debug, Clone)]
pub struct Budget {
    rate: f64,
    max_rate: f64,
    cap: f64,
    tokens: f64,
    at: f64,
    paused_until: f64,
    /// How much a 429 slows the rate down (0.7: to 70 %).
    slow_down: f64,
    /// What is known of the service's bucket.
    probe: Probe,
}

/// Whether a budget knows how full the service's bucket is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Probe {
    /// Counted from the documented size (or told by the service).
    Known,
    /// Not yet: one request goes first and its answer says (`sent`: when it went).
    Unknown { sent: Option<f64> },
}

/// How often requests waiting for a probe's answer look again.
const PROBE_POLL: f64 = 0.02;
/// How long the others wait for a probe's answer before counting on the documented bucket.
const PROBE_PATIENCE: f64 = 10.0;

impl Budget {
    pub fn new(rate: f64, cap: f64) -> Self {
        Budget {
            rate,
            max_rate: rate,
            cap,
            tokens: cap,
            at: 0.0,
            paused_until: 0.0,
            slow_down: 0.7,
            probe: Probe::Known,
        }
    }

    /// A budget of a service that reports what is left of its bucket with every answer (ARM): whatever the
    /// documented size, the first request goes alone and its answer says how much there is (other tools of the same
    /// principal may have spent it); an answer that does not say leaves the documented size.
    pub fn reported(rate: f64, cap: f64) -> Self {
        Budget { tokens: 0.0, probe: Probe::Unknown { sent: None }, ..Budget::fixed(rate, cap) }
    }

    /// A budget whose rate is the service's fixed, documented one: a 429 (another client of the same app, a clock
    /// apart) pauses it and slows it only a little, since the limit itself is known.
    pub fn fixed(rate: f64, cap: f64) -> Self {
        Budget { slow_down: 0.9, ..Budget::new(rate, cap) }
    }

    fn refill(&mut self, now: f64) {
        if now > self.at {
            let from = self.at.max(self.paused_until.min(now));
            if now > from {
                self.tokens = (self.tokens + (now - from) * self.rate).min(self.cap);
            }
            self.at = now;
        }
    }

    /// Seconds to wait before `units` may be spent (0 when they may be now).
    pub fn wait(&mut self, units: f64, now: f64) -> f64 {
        match self.probe {
            Probe::Unknown { sent: None } => return 0.0,
            Probe::Unknown { sent: Some(at) } if now < at + PROBE_PATIENCE => return PROBE_POLL,
            Probe::Unknown { .. } => self.remaining(None, now),
            Probe::Known => {}
        }
        self.refill(now);
        if now < self.paused_until {
            return self.paused_until - now;
        }
        // A full bucket is full at the service too (it has had at least as long to refill).
        let need = if self.tokens >= self.cap { units } else { units + self.rate * JITTER };
        let need = need.min(self.cap);
        if self.tokens >= need { 0.0 } else { (need - self.tokens) / self.rate }
    }

    /// Takes `units` now and returns 0, or returns how many seconds to wait before asking again.
    pub fn take(&mut self, units: f64, now: f64) -> f64 {
        let wait = self.wait(units, now);
        if wait <= 0.0 {
            if self.probe == (Probe::Unknown { sent: None }) {
                self.probe = Probe::Unknown { sent: Some(now) };
            } else {
                self.tokens -= units.min(self.cap);
            }
        }
        wait
    }

    /// The service answered 429 (asking to wait `retry_after` seconds): pause that long, spend nothing saved up,
    /// and go on at a lower rate. The 429s of requests that were in flight together slow it down once.
    pub fn throttled(&mut self, retry_after: f64, now: f64) {
        self.refill(now);
        self.probe = Probe::Known;
        self.tokens = 0.0;
        if now >= self.paused_until {
            self.rate = (self.rate * self.slow_down).max(self.max_rate * 0.02);
        }
        self.paused_until = self.paused_until.max(now + retry_after);
    }

    /// A call went through unthrottled: creep back towards the starting rate.
    pub fn admitted(&mut self) {
        self.rate = (self.rate + self.max_rate * 0.005).min(self.max_rate);
    }

    /// The service says how much of its bucket is left (`None`: its answer did not say): never count on more than
    /// that.
    pub fn remaining(&mut self, remaining: Option<f64>, now: f64) {
        self.refill(now);
        match (self.probe, remaining) {
            (Probe::Unknown { .. }, Some(n)) => self.tokens = n.clamp(0.0, self.cap),
            (Probe::Unknown { .. }, None) => self.tokens = self.cap,
            (Probe::Known, Some(n)) => self.tokens = self.tokens.min(n.max(0.0)),
            (Probe::Known, None) => {}
        }
        self.probe = Probe::Known;
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }
}

/// One tier's budgets (all must admit a request), shared by every task of a run, on the real clock.
pub struct Pacer {
    /// What limits this tier, for the progress display ("Graph's reports tier").
    pub name: &'static str,
    budgets: Mutex<Vec<Budget>>,
    start: tokio::time::Instant,
    /// Requests waiting for this pacer now.
    waiting: AtomicUsize,
}

/// What a progress display shows of a pacer.
#[derive(Debug, Clone, PartialEq)]
pub struct PacerState {
    pub name: &'static str,
    /// Requests waiting for it now: this limit is what slows the run down.
    pub waiting: usize,
    /// Requests (or resource units) per second it lets through now: the slowest of its budgets.
    pub rate: f64,
}

impl Pacer {
    pub fn new(name: &'static str, budgets: Vec<Budget>) -> Self {
        Pacer { name, budgets: Mutex::new(budgets), start: tokio::time::Instant::now(), waiting: AtomicUsize::new(0) }
    }

    fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Vec<Budget>) -> T) -> T {
        let mut budgets = self.budgets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut budgets)
    }

    /// Seconds to wait for `units` in every budget, spending them when none has to wait.
    fn try_take(&self, units: f64) -> f64 {
        let now = self.now();
        self.with(|budgets| {
            let wait = budgets.iter_mut().map(|b| b.wait(units, now)).fold(0.0, f64::max);
            if wait <= 0.0 {
                for b in budgets.iter_mut() {
                    b.take(units, now);
                }
            }
            wait
        })
    }

    /// Waits until `units` may be spent, and spends them.
    pub async fn acquire(&self, units: f64) {
        let mut counted = false;
        loop {
            let wait = self.try_take(units);
            if wait <= 0.0 {
                break;
            }
            if !counted {
                counted = true;
                self.waiting.fetch_add(1, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_secs_f64(wait.min(60.0))).await;
        }
        if counted {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
        }
    }

    pub fn throttled(&self, retry_after: Duration) {
        let now = self.now();
        self.with(|budgets| budgets.iter_mut().for_each(|b| b.throttled(retry_after.as_secs_f64(), now)));
    }

    pub fn admitted(&self) {
        self.with(|budgets| budgets.iter_mut().for_each(Budget::admitted));
    }

    /// An attempt ended: the service reported `remaining[i]` units left in budget `i` (`None`, or no entry: it
    /// did not say, or there was no answer).
    pub fn remaining(&self, remaining: &[Option<f64>]) {
        let now = self.now();
        self.with(|budgets| {
            for (i, b) in budgets.iter_mut().enumerate() {
                b.remaining(remaining.get(i).copied().flatten(), now);
            }
        });
    }

    pub fn state(&self) -> PacerState {
        PacerState {
            name: self.name,
            waiting: self.waiting.load(Ordering::Relaxed),
            rate: self.with(|budgets| budgets.iter().map(Budget::rate).fold(f64::INFINITY, f64::min)),
        }
    }
}

/// The tier a Graph request belongs to, from its URL (absolute, or relative to the version root as `$batch` items
/// are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphTier {
    Identity,
    Reports,
    Outlook,
    /// A `$batch` call: its items are paced one by one, each in its own tier.
    Batch,
}

impl GraphTier {
    pub fn of(url: &str) -> GraphTier {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let path = path.trim_end_matches('/');
        if path.ends_with("/$batch") {
            GraphTier::Batch
        } else if query.to_ascii_lowercase().contains("signinactivity") {
            GraphTier::Reports
        } else if path.to_ascii_lowercase().contains("/mailboxsettings") {
            GraphTier::Outlook
        } else {
            GraphTier::Identity
        }
    }
}

/// Which ARM bucket a request spends: reads, writes or deletes, of one subscription or of the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArmBucket {
    /// Lower-case subscription id, or `None` for tenant-level requests.
    pub subscription: Option<String>,
    pub op: &'static str,
}

impl ArmBucket {
    /// The bucket of `method` on `url` (absolute or a path).
    pub fn of(method: &str, url: &str) -> ArmBucket {
        let path = url.split_once("://").map_or(url, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
        let mut segments = path.split('?').next().unwrap_or("").split('/').filter(|s| !s.is_empty());
        let subscription = match (segments.next(), segments.next()) {
            (Some(first), Some(id)) if first.eq_ignore_ascii_case("subscriptions") => Some(id.to_ascii_lowercase()),
            _ => None,
        };
        let op = match method {
            "GET" | "HEAD" => "reads",
            "DELETE" => "deletes",
            _ => "writes",
        };
        ArmBucket { subscription, op }
    }

    /// The headers ARM reports this bucket's remaining budgets in, in the order of [`ArmBucket::budgets`]: the
    /// principal's, then (for a subscription) the subscription-wide one.
    pub fn headers(&self) -> Vec<String> {
        match self.subscription {
            Some(_) => vec![
                format!("x-ms-ratelimit-remaining-subscription-{}", self.op),
                format!("x-ms-ratelimit-remaining-subscription-global-{}", self.op),
            ],
            None => vec![format!("x-ms-ratelimit-remaining-tenant-{}", self.op)],
        }
    }

    fn budgets(&self) -> Vec<Budget> {
        // Per principal: reads 250 refilled at 25/s, writes and deletes 200 at 10/s; a subscription's global
        // bucket is 15 times that.
        let (cap, rate) = if self.op == "reads" { (250.0, 25.0) } else { (200.0, 10.0) };
        let mut budgets = vec![Budget::reported(rate, cap)];
        if self.subscription.is_some() {
            budgets.push(Budget::reported(rate * 15.0, cap * 15.0));
        }
        budgets
    }

    fn name(&self) -> &'static str {
        match self.op {
            "reads" => "ARM's read budget",
            "deletes" => "ARM's delete budget",
            _ => "ARM's write budget",
        }
    }
}

/// Every pacer of a run.
pub struct Pacers {
    pub identity: Arc<Pacer>,
    pub reports: Arc<Pacer>,
    pub outlook: Arc<Pacer>,
    arm: Mutex<HashMap<ArmBucket, Arc<Pacer>>>,
}

impl Default for Pacers {
    fn default() -> Self {
        Pacers {
            identity: Arc::new(Pacer::new("Graph's identity budget", vec![Budget::new(UNITS_PER_SECOND, BURST)])),
            // 5 per 10 s and 10 per minute, both documented; the minute's limit is the one that binds on a long run.
            reports: Arc::new(Pacer::new(
                "Graph's reports tier",
                vec![Budget::fixed(5.0 / 10.0, 5.0), Budget::fixed(10.0 / 60.0, 10.0)],
            )),
            // Graph's ceiling per app, 130,000 requests per 10 s: the only app-wide limit on mailbox reads.
            outlook: Arc::new(Pacer::new("Outlook's mailbox limits", vec![Budget::new(13_000.0, 130_000.0)])),
            arm: Mutex::new(HashMap::new()),
        }
    }
}

impl Pacers {
    /// The pacer of a Graph tier (`None` for `$batch` calls, whose items are paced instead).
    pub fn graph(&self, tier: GraphTier) -> Option<&Arc<Pacer>> {
        match tier {
            GraphTier::Identity => Some(&self.identity),
            GraphTier::Reports => Some(&self.reports),
            GraphTier::Outlook => Some(&self.outlook),
            GraphTier::Batch => None,
        }
    }

    /// The pacer of an ARM bucket, made on first use.
    pub fn arm(&self, bucket: &ArmBucket) -> Arc<Pacer> {
        let mut map = self.arm.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(bucket.clone()).or_insert_with(|| Arc::new(Pacer::new(bucket.name(), bucket.budgets()))).clone()
    }

    /// Every pacer's state, Graph's first, ARM's summed per operation type (its rate: the slowest bucket's).
    pub fn states(&self) -> Vec<PacerState> {
        let mut out = vec![self.identity.state(), self.reports.state(), self.outlook.state()];
        let arm: Vec<PacerState> = self.arm.lock().map(|m| m.values().map(|p| p.state()).collect()).unwrap_or_default();
        for s in arm {
            match out.iter_mut().find(|o| o.name == s.name) {
                Some(o) => {
                    o.waiting += s.waiting;
                    o.rate = o.rate.min(s.rate);
                }
                None => out.push(s),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spends_at_the_rate_and_slows_down_on_a_429() {
        let mut b = Budget::new(100.0, 200.0);
        assert_eq!(b.take(200.0, 0.0), 0.0, "a full bucket at once");
        let first = (50.0 + 100.0 * JITTER) / 100.0;
        assert!((b.take(50.0, 0.0) - first).abs() < 1e-9, "then the rate: 50 units at 100/s, and the margin");
        assert_eq!(b.take(50.0, first), 0.0);
        // A 429 asking for 2 s: nothing before then, and a lower rate after.
        let t = first;
        b.throttled(2.0, t);
        assert!((b.take(10.0, t + 0.5) - 1.5).abs() < 1e-9);
        assert!((b.rate() - 70.0).abs() < 1e-9);
        let refill = (70.0 + 70.0 * JITTER) / 70.0;
        assert!((b.take(70.0, t + 2.0) - refill).abs() < 1e-9, "nothing refills during the pause");
        assert_eq!(b.take(70.0, t + 2.0 + refill), 0.0);
        // The 429s of one episode (answers to requests sent together) slow it down once.
        let u = t + 10.0;
        b.throttled(1.0, u);
        b.throttled(1.0, u + 0.1);
        assert!((b.rate() - 49.0).abs() < 1e-9);
        for _ in 0..1_000 {
            b.admitted();
        }
        assert!((b.rate() - 100.0).abs() < 1e-9, "never above the starting rate");
    }

    /// When each of `n` requests of the reports tier may go, sending each as soon as the pacer lets it.
    fn reports_schedule(n: usize) -> Vec<f64> {
        let p = Pacers::default();
        let mut budgets = p.reports.with(|b| b.clone());
        let mut admitted_at = Vec::new();
        let mut now = 0.0;
        while admitted_at.len() < n {
            let wait = budgets.iter_mut().map(|b| b.wait(1.0, now)).fold(0.0, f64::max);
            if wait <= 0.0 {
                budgets.iter_mut().for_each(|b| {
                    b.take(1.0, now);
                });
                admitted_at.push(now);
            } else {
                now += wait.max(1e-6);
            }
        }
        admitted_at
    }

    #[test]
    fn the_reports_tier_lets_a_burst_through_then_one_every_six_seconds() {
        let at = reports_schedule(40);
        assert_eq!(at[..4], [0.0; 4], "{at:?}");
        assert!(at[4] < 1.0, "{at:?}");
        assert!((at[39] - at[38] - 6.0).abs() < 1e-6, "the minute's limit: {at:?}");
        // Never more than the service admits: 5 in any 10 s, 10 in the first minute plus its refill.
        for (i, t) in at.iter().enumerate() {
            assert!(at.iter().filter(|u| **u >= *t && **u < t + 10.0 - 1e-9).count() <= 5 + 5, "{i}: {at:?}");
        }
        assert!(at.iter().filter(|t| **t < 60.0).count() <= 10 + 10, "{at:?}");
        // And no slower than the limits allow: 40 pages in the documented 180 s, give or take the margins.
        assert!(at[39] < 180.0 + 2.0, "{at:?}");
    }

    #[test]
    fn the_remaining_header_caps_what_is_spent() {
        let mut b = Budget::fixed(25.0, 250.0);
        b.remaining(Some(20.0), 0.0);
        assert_eq!(b.take(3.0, 0.0), 0.0);
        assert!((b.take(5.0, 0.0) - 0.02).abs() < 1e-9, "17 left of the header's 20, and a margin of 12.5");
        b.remaining(Some(1_000.0), 0.0);
        assert!(b.take(5.0, 0.0) > 0.0, "a header never adds budget");
        b.remaining(None, 0.0);
        assert!(b.take(5.0, 0.0) > 0.0, "nor does an answer that does not say");
    }

    #[test]
    fn a_reported_budget_sends_one_request_first_and_believes_its_answer() {
        let mut b = Budget::reported(25.0, 250.0);
        assert_eq!(b.take(1.0, 0.0), 0.0, "the probe goes");
        assert_eq!(b.take(1.0, 0.0), PROBE_POLL, "the others wait for its answer");
        let mut lost = b.clone();
        assert_eq!(lost.take(1.0, PROBE_PATIENCE + 1.0), 0.0, "not for ever: then the documented bucket");
        b.remaining(Some(3.0), 0.05);
        assert!(b.take(1.0, 0.05) > 0.0, "3 left, less than the margin");
        assert_eq!(b.take(1.0, 0.6), 0.0, "refilled at the documented rate");
        let mut silent = Budget::reported(25.0, 250.0);
        silent.take(1.0, 0.0);
        silent.remaining(None, 0.05);
        assert_eq!(silent.take(200.0, 0.05), 0.0, "no header: the documented bucket");
    }

    #[test]
    fn requests_are_sorted_into_their_tiers() {
        assert_eq!(GraphTier::of("https://g/v1.0/users?$select=id,signInActivity&$top=500"), GraphTier::Reports);
        assert_eq!(GraphTier::of("/users/x/mailboxSettings/userPurpose"), GraphTier::Outlook);
        assert_eq!(GraphTier::of("https://g/v1.0/$batch"), GraphTier::Batch);
        assert_eq!(GraphTier::of("https://g/v1.0/groups?$select=id"), GraphTier::Identity);
        let b = ArmBucket::of("GET", "https://m/subscriptions/ABC/resourceGroups?api-version=1");
        assert_eq!(b, ArmBucket { subscription: Some("abc".to_owned()), op: "reads" });
        assert_eq!(b.headers()[0], "x-ms-ratelimit-remaining-subscription-reads");
        let t = ArmBucket::of("DELETE", "https://m/providers/Microsoft.Management/managementGroups/x");
        assert_eq!(t, ArmBucket { subscription: None, op: "deletes" });
        assert_eq!(t.headers(), ["x-ms-ratelimit-remaining-tenant-deletes"]);
    }
}
