//! Live counters of a collection, for a progress display: per part, what it has done (pages, items) of a total
//! where one is known, and when it started and finished. Parts count through the task-local of the part they run
//! in, so the helpers they share (`Ctx::stream`, `$batch` reads) count for whichever part calls them.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One part's counters.
#[derive(Debug)]
pub struct Track {
    pub name: String,
    /// Pages or items done, and the total expected (0: not known).
    done: AtomicU64,
    total: AtomicU64,
    /// "pages" or "items": what `done` counts (the first kind counted names it).
    unit: Mutex<&'static str>,
    pub started: Instant,
    /// Runs of this part under way (ARM parts run once per scope).
    running: AtomicUsize,
}

/// What a display shows of a part.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackState {
    pub name: String,
    pub done: u64,
    pub total: Option<u64>,
    pub unit: &'static str,
    pub seconds: f64,
    pub finished: bool,
}

impl Track {
    fn new(name: &str) -> Self {
        Track {
            name: name.to_owned(),
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            unit: Mutex::new(""),
            started: Instant::now(),
            running: AtomicUsize::new(0),
        }
    }

    fn count(&self, unit: &'static str, n: u64) {
        let mut u = self.unit.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if u.is_empty() {
            *u = unit;
        }
        if *u == unit {
            self.done.fetch_add(n, Relaxed);
        }
    }

    pub fn state(&self) -> TrackState {
        let total = self.total.load(Relaxed);
        TrackState {
            name: self.name.clone(),
            done: self.done.load(Relaxed),
            total: (total > 0).then_some(total),
            unit: *self.unit.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
            seconds: self.started.elapsed().as_secs_f64(),
            finished: self.running.load(Relaxed) == 0,
        }
    }
}

/// Every part's counters, and the run's totals.
#[derive(Debug, Default)]
pub struct Progress {
    /// Rows written.
    pub rows: AtomicU64,
    pub parts_done: AtomicUsize,
    tracks: Mutex<Vec<Arc<Track>>>,
    /// Users and groups in the tenant (`$count`), when read: the totals of the parts that go through them.
    users: AtomicU64,
}

impl Progress {
    fn track(&self, name: &str) -> Arc<Track> {
        let mut tracks = self.tracks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(t) = tracks.iter().find(|t| t.name == name) {
            return t.clone();
        }
        let t = Arc::new(Track::new(name));
        tracks.push(t.clone());
        t
    }

    /// Every part started so far, in the order they started.
    pub fn tracks(&self) -> Vec<TrackState> {
        let tracks = self.tracks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        tracks.iter().map(|t| t.state()).collect()
    }

    /// The tenant has `n` users: the users part expects that many, sign-in activity as many pages of 500.
    pub fn users(&self, n: u64) {
        self.users.store(n, Relaxed);
        let tracks = self.tracks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for t in tracks.iter() {
            set_expected(t, n);
        }
    }
}

/// Pages of `signInActivity` (500 users a page).
const SIGN_IN_PAGE: u64 = 500;

fn set_expected(t: &Track, users: u64) {
    match t.name.as_str() {
        "users" => t.total.store(users, Relaxed),
        "sign_in_activity" => t.total.store(users.div_ceil(SIGN_IN_PAGE), Relaxed),
        _ => {}
    }
}

tokio::task_local! {
    static CURRENT: Arc<Track>;
}

/// Runs `fut` as part `name`: what it counts is that part's.
pub async fn part<T>(progress: Option<&Arc<Progress>>, name: &str, fut: impl Future<Output = T>) -> T {
    let Some(progress) = progress else { return fut.await };
    let track = progress.track(name);
    set_expected(&track, progress.users.load(Relaxed));
    track.running.fetch_add(1, Relaxed);
    let out = CURRENT.scope(track.clone(), fut).await;
    track.running.fetch_sub(1, Relaxed);
    out
}

/// The running part read a page of `items` items (a list read page by page counts pages when it has no total of
/// items, and items when it does).
pub fn page(items: usize) {
    let _ = CURRENT.try_with(|t| {
        let by_items = t.name == "users";
        if by_items { t.count("items", items as u64) } else { t.count("pages", 1) }
    });
}

/// The running part got answers for `n` items of a known list (`$batch` reads).
pub fn items(n: u64) {
    let _ = CURRENT.try_with(|t| t.count("items", n));
}

/// The running part has `n` items to read.
pub fn expect_items(n: u64) {
    let _ = CURRENT.try_with(|t| {
        t.count("items", 0);
        if *t.unit.lock().unwrap_or_else(std::sync::PoisonError::into_inner) == "items" {
            t.total.store(n, Relaxed);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn parts_count_what_they_do_and_get_totals() {
        let progress = Arc::new(Progress::default());
        part(Some(&progress), "sign_in_activity", async {
            page(500);
            page(500);
        })
        .await;
        part(Some(&progress), "mailbox_settings", async {
            expect_items(40);
            items(20);
        })
        .await;
        progress.users(1_001);
        page(3); // outside any part: counted nowhere
        let t = progress.tracks();
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].done, t[0].total, t[0].unit, t[0].finished), (2, Some(3), "pages", true));
        assert_eq!((t[1].done, t[1].total, t[1].unit), (20, Some(40), "items"));
    }
}
