//! The collection's progress display on a terminal: a line for the run (parts done, objects, requests, throttled
//! answers, time) and one per running part with what it has done of its total, the limit that slows it down when
//! one does, and the time left.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::azure::AzureClient;
use crate::azure::pace::PacerState;
use crate::collect::Progress;
use crate::collect::progress::TrackState;

/// Requests over every service: top-level Graph and ARM requests, the `$batch` items inside them, token requests.
#[derive(Debug, Default)]
pub(super) struct Totals {
    pub requests: u64,
    pub throttled: u64,
    pub inner: u64,
    pub inner_throttled: u64,
    pub login: u64,
}

impl Totals {
    pub(super) fn of(stats: &[crate::model::RequestStats]) -> Totals {
        let api = || stats.iter().filter(|s| s.service != "login");
        Totals {
            requests: api().map(|s| s.requests).sum(),
            throttled: api().map(|s| s.throttled).sum(),
            inner: api().map(|s| s.inner_requests).sum(),
            inner_throttled: api().map(|s| s.inner_throttled).sum(),
            login: stats.iter().filter(|s| s.service == "login").map(|s| s.requests).sum(),
        }
    }
}

/// The pacer that limits a part's requests, by name.
fn limit_of(part: &str) -> &'static str {
    match part {
        "sign_in_activity" => "Graph's reports tier",
        "mailbox_settings" => "Outlook's mailbox limits",
        "management_groups"
        | "subscriptions"
        | "resource_groups"
        | "storage_accounts"
        | "user_assigned_identities"
        | "containers"
        | "azure_role_definitions"
        | "azure_role_assignments"
        | "azure_pim" => "ARM's read budget",
        _ => "Graph's identity budget",
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate as people say it: `10/min` below one a second, `720/s` above.
fn per(rate: f64) -> String {
    if rate < 1.0 { format!("{:.0}/min", rate * 60.0) } else { format!("{rate:.0}/s") }
}

/// A duration as `45 s`, `3 min`, `1 h 20 min`.
fn roughly(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s.div_ceil(60)),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// What a running part's line says after its name: "12/40 pages, limited to 10/min by Graph's reports tier, ~3 min
/// left".
pub(super) fn part_line(t: &TrackState, pacers: &[PacerState]) -> String {
    let unit = if t.unit.is_empty() { "pages" } else { t.unit };
    let mut line = match t.total {
        Some(total) => format!("{}/{} {unit}", thousands(t.done), thousands(total)),
        None => format!("{} {unit}", thousands(t.done)),
    };
    let limit = pacers.iter().find(|p| p.name == limit_of(&t.name) && p.waiting > 0);
    if let Some(p) = limit {
        line.push_str(&format!(", limited to {} by {}", per(p.rate), p.name));
    }
    if let Some(total) = t.total.filter(|total| *total > t.done && t.done > 0) {
        // Under a limit, its rate is the part's (a burst at the start says nothing of the rest); else the part's own.
        let rate = match limit {
            Some(p) if t.name != "users" => p.rate,
            _ => t.done as f64 / t.seconds.max(0.001),
        };
        if rate > 0.0 {
            line.push_str(&format!(", ~{} left", roughly((total - t.done) as f64 / rate)));
        }
    }
    line
}

/// The run's line: "8 parts done, 5 running · 45,012 objects · 1,234 requests + 20,000 $batch items · 3 throttled".
pub(super) fn run_line(parts_done: usize, running: usize, rows: u64, t: &Totals) -> String {
    format!(
        "{parts_done} parts done, {running} running · {} objects · {} requests + {} $batch items · {} throttled",
        thousands(rows),
        thousands(t.requests),
        thousands(t.inner),
        thousands(t.throttled + t.inner_throttled)
    )
}

/// The display, redrawn four times a second until [`Display::finish`].
pub(super) struct Display {
    ticker: tokio::task::JoinHandle<()>,
    stop: Arc<tokio::sync::Notify>,
    multi: MultiProgress,
}

impl Display {
    pub(super) fn start(multi: MultiProgress, client: Arc<AzureClient>, progress: Arc<Progress>) -> Display {
        let header = multi.add(ProgressBar::new_spinner());
        header.set_style(
            ProgressStyle::with_template("{spinner} collecting [{elapsed}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let part_style =
            ProgressStyle::with_template("  {prefix:<26} {msg}").unwrap_or_else(|_| ProgressStyle::default_bar());
        let m = multi.clone();
        let stop = Arc::new(tokio::sync::Notify::new());
        let stopped = stop.clone();
        let ticker = tokio::spawn(async move {
            let mut bars: HashMap<String, ProgressBar> = HashMap::new();
            loop {
                let tracks = progress.tracks();
                let pacers = client.pacers.states();
                let done = tracks.iter().filter(|t| t.finished).count();
                let rows = progress.rows.load(std::sync::atomic::Ordering::Relaxed);
                header.set_message(run_line(done, tracks.len() - done, rows, &Totals::of(&client.stats())));
                header.tick();
                for t in &tracks {
                    if t.finished {
                        if let Some(bar) = bars.remove(&t.name) {
                            bar.finish_and_clear();
                            m.remove(&bar);
                        }
                    } else {
                        let bar = bars.entry(t.name.clone()).or_insert_with(|| {
                            let bar = m.add(ProgressBar::new_spinner());
                            bar.set_style(part_style.clone());
                            bar.set_prefix(t.name.clone());
                            bar
                        });
                        bar.set_message(part_line(t, &pacers));
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(250)) => {}
                    () = stopped.notified() => break,
                }
            }
        });
        Display { ticker, stop, multi }
    }

    /// Stops drawing (after the frame under way, if one is) and takes the display off the screen.
    pub(super) async fn finish(self) {
        self.stop.notify_one();
        let _ = self.ticker.await;
        let _ = self.multi.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(name: &str, done: u64, total: Option<u64>, unit: &'static str, seconds: f64) -> TrackState {
        TrackState { name: name.to_owned(), done, total, unit, seconds, finished: false }
    }

    fn pacer(name: &'static str, waiting: usize, rate: f64) -> PacerState {
        PacerState { name, waiting, rate }
    }

    #[test]
    fn a_limited_part_says_by_what_and_how_long_it_still_takes() {
        let reports = [pacer("Graph's reports tier", 1, 10.0 / 60.0), pacer("Graph's identity budget", 0, 720.0)];
        let t = track("sign_in_activity", 12, Some(40), "pages", 30.0);
        assert_eq!(part_line(&t, &reports), "12/40 pages, limited to 10/min by Graph's reports tier, ~3 min left");
        // Nothing waits: no limit named, the time left from the part's own pace.
        let t = track("mailbox_settings", 5_000, Some(20_000), "items", 10.0);
        assert_eq!(part_line(&t, &reports), "5,000/20,000 items, ~30 s left");
        assert_eq!(part_line(&track("groups", 3, None, "pages", 1.0), &reports), "3 pages");
    }

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(per(0.5), "30/min");
        assert_eq!(roughly(4_800.0), "1 h 20 min");
        let t = Totals { requests: 1_234, inner: 20_000, throttled: 1, inner_throttled: 2, ..Totals::default() };
        assert_eq!(
            run_line(8, 5, 45_012, &t),
            "8 parts done, 5 running · 45,012 objects · 1,234 requests + 20,000 $batch items · 3 throttled"
        );
    }
}
