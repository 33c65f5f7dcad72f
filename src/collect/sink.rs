//! The single writer: parts send batches over a bounded channel to one thread that owns the snapshot writer, so
//! pages stream to disk and memory does not grow with the tenant.

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::store::{Batch, SnapshotWriter, StoreError};

/// Rows to a batch when a part sends rows it already has (from PREV, or gathered from `$batch` answers).
pub(super) const CHUNK: usize = 1_000;

/// Where parts send rows. Cheap to clone.
#[derive(Clone)]
pub struct Sink {
    tx: mpsc::Sender<Batch>,
    written: Arc<Mutex<u64>>,
    progress: Option<Arc<super::Progress>>,
}

/// The writer thread; `finish` hands the writer back once every sink is dropped.
pub(super) struct WriterTask {
    handle: tokio::task::JoinHandle<Result<SnapshotWriter, StoreError>>,
}

/// Starts the writer thread around `writer`.
pub(super) fn start(mut writer: SnapshotWriter, progress: Option<Arc<super::Progress>>) -> (Sink, WriterTask) {
    let (tx, mut rx) = mpsc::channel::<Batch>(16);
    let written = Arc::new(Mutex::new(0u64));
    let handle = tokio::task::spawn_blocking(move || {
        while let Some(batch) = rx.blocking_recv() {
            writer.write(&batch)?;
        }
        Ok(writer)
    });
    (Sink { tx, written, progress }, WriterTask { handle })
}

impl Sink {
    /// Sends `batch` to the writer (waits when the writer is behind).
    pub async fn send(&self, batch: Batch) {
        if self.count(&batch) {
            // A closed channel means the writer failed; its error is reported by `WriterTask::finish`.
            let _ = self.tx.send(batch).await;
        }
    }

    /// Sends `rows` in batches of [`CHUNK`] made by `batch`, so that rows taken from a file or from memory (which
    /// come faster than the writer takes them) never sit in the channel by the tens of thousands.
    pub async fn send_all<T>(&self, rows: impl IntoIterator<Item = T>, batch: fn(Vec<T>) -> Batch) {
        let mut chunk = Vec::with_capacity(CHUNK);
        for row in rows {
            chunk.push(row);
            if chunk.len() == CHUNK {
                self.send(batch(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)))).await;
            }
        }
        self.send(batch(chunk)).await;
    }

    /// [`Sink::send`] from a thread outside the async runtime (one reading a file, say).
    pub fn blocking_send(&self, batch: Batch) {
        if self.count(&batch) {
            let _ = self.tx.blocking_send(batch);
        }
    }

    /// Counts `batch`'s rows as sent; `false` when it has nothing to send.
    fn count(&self, batch: &Batch) -> bool {
        if batch.is_empty() {
            return false;
        }
        let rows = batch.rows() as u64;
        if let Ok(mut n) = self.written.lock() {
            *n += rows;
        }
        if let Some(p) = &self.progress {
            p.rows.fetch_add(rows, std::sync::atomic::Ordering::Relaxed);
        }
        true
    }

    /// Rows sent so far.
    pub fn rows(&self) -> u64 {
        self.written.lock().map(|n| *n).unwrap_or(0)
    }

    /// The running count of rows sent, readable after every sink is dropped.
    pub fn counter(&self) -> Arc<Mutex<u64>> {
        self.written.clone()
    }
}

impl WriterTask {
    /// Waits for the writer to drain (every `Sink` must be dropped first) and returns it.
    pub(super) async fn finish(self) -> Result<SnapshotWriter, StoreError> {
        match self.handle.await {
            Ok(r) => r,
            Err(e) => Err(StoreError::Write { path: "snapshot".into(), source: std::io::Error::other(e.to_string()) }),
        }
    }
}
