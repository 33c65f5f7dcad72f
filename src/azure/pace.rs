//! Pacing: spending Graph's identity budget at the documented rate instead of sending as fast as possible and
//! being answered 429. `$batch` items are the bulk of a collection's requests (mailbox purposes, owners, PIM for
//! groups, app role assignments: one item per object), so they go through a pacer: a token bucket in resource
//! units, refilled at a rate that starts at the documented budget and slows down on the first 429 (and waits out
//! its `Retry-After`) instead of re-sending every pending item.

use std::sync::Mutex;
use std::time::Duration;

/// The budget pacing starts from: Graph's identity limit for a tenant of more than 500 users, 8,000 resource units
/// per 10 s per app and tenant (`api-contract.md` §7), less a tenth left to the list requests running beside the
/// batches. Smaller tenants have smaller buckets; their first 429 slows the pacer down to what they admit.
pub const UNITS_PER_SECOND: f64 = 720.0;
/// What may be spent at once before the refill rate applies (half the documented bucket).
pub const BURST: f64 = 4_000.0;

/// The pacer's arithmetic, with the clock passed in (seconds), so it is testable.
#[derive(Debug, Clone)]
pub struct Budget {
    rate: f64,
    max_rate: f64,
    cap: f64,
    tokens: f64,
    at: f64,
    paused_until: f64,
}

impl Budget {
    pub fn new(rate: f64, cap: f64) -> Self {
        Budget { rate, max_rate: rate, cap, tokens: cap, at: 0.0, paused_until: 0.0 }
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

    /// Takes `units` now and returns 0, or returns how many seconds to wait before asking again.
    pub fn take(&mut self, units: f64, now: f64) -> f64 {
        self.refill(now);
        if now < self.paused_until {
            return self.paused_until - now;
        }
        let units = units.min(self.cap);
        if self.tokens >= units {
            self.tokens -= units;
            0.0
        } else {
            (units - self.tokens) / self.rate
        }
    }

    /// The service answered 429 (asking to wait `retry_after` seconds): pause that long, spend nothing saved up,
    /// and go on at a lower rate.
    pub fn throttled(&mut self, retry_after: f64, now: f64) {
        self.refill(now);
        self.tokens = 0.0;
        self.paused_until = self.paused_until.max(now + retry_after);
        self.rate = (self.rate * 0.7).max(self.max_rate * 0.02);
    }

    /// A call went through unthrottled: creep back towards the starting rate.
    pub fn admitted(&mut self) {
        self.rate = (self.rate + self.max_rate * 0.005).min(self.max_rate);
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }
}

/// A [`Budget`] shared by every task of a run, on the real clock.
pub struct Pacer {
    budget: Mutex<Budget>,
    start: tokio::time::Instant,
}

impl Pacer {
    pub fn new(rate: f64, cap: f64) -> Self {
        Pacer { budget: Mutex::new(Budget::new(rate, cap)), start: tokio::time::Instant::now() }
    }

    fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Waits until `units` may be spent, and spends them.
    pub async fn acquire(&self, units: f64) {
        loop {
            let wait = match self.budget.lock() {
                Ok(mut b) => b.take(units, self.now()),
                Err(_) => 0.0,
            };
            if wait <= 0.0 {
                return;
            }
            tokio::time::sleep(Duration::from_secs_f64(wait.min(60.0))).await;
        }
    }

    pub fn throttled(&self, retry_after: Duration) {
        let now = self.now();
        if let Ok(mut b) = self.budget.lock() {
            b.throttled(retry_after.as_secs_f64(), now);
        }
    }

    pub fn admitted(&self) {
        if let Ok(mut b) = self.budget.lock() {
            b.admitted();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spends_at_the_rate_and_slows_down_on_a_429() {
        let mut b = Budget::new(100.0, 200.0);
        assert_eq!(b.take(200.0, 0.0), 0.0, "the burst is there at once");
        assert!((b.take(50.0, 0.0) - 0.5).abs() < 1e-9, "then the rate: 50 units at 100/s");
        assert_eq!(b.take(50.0, 0.5), 0.0);
        // A 429 asking for 2 s: nothing before then, and a lower rate after.
        b.throttled(2.0, 0.5);
        assert!((b.take(10.0, 1.0) - 1.5).abs() < 1e-9);
        assert!((b.rate() - 70.0).abs() < 1e-9);
        assert!((b.take(70.0, 2.5) - 1.0).abs() < 1e-9, "nothing refills during the pause");
        assert_eq!(b.take(70.0, 3.5), 0.0);
        for _ in 0..1_000 {
            b.admitted();
        }
        assert!((b.rate() - 100.0).abs() < 1e-9, "never above the starting rate");
    }
}
