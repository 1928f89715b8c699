//! Pull entries of the usage log, written in batches off the request path.
//!
//! A pull changes nothing in the database, so its entry need not share a transaction; it
//! goes into a bounded queue that one task drains into multi-row inserts. A full queue
//! makes pulls wait for the writer instead of dropping entries or growing without bound.
//! While the log cannot be written (a full disk), the writer keeps what arrives with the
//! batch it retries, up to `HELD_WHILE_FAILING` entries, so that pulls go on for a while
//! before they wait for space.
//! [`PullLog::close`] drains what is queued, so a clean shutdown loses nothing.
//!
//! The writer lingers a moment after the first entry of a batch to gather more: without
//! that, pulls that arrive one at a time would each cost a transaction, and at tens of
//! thousands of pulls a second the handoffs to the database thread cost more than the
//! pulls themselves. Entries therefore reach the log up to `LINGER` (50 ms) after their pull.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use quay_core::audit::AuditEntry;
use quay_core::ports::{AuditLog, AuditSink};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Entries queued before pulls wait, and most entries written at once. At tens of thousands
/// of pulls a second the writer sets the pace, so the queue stays full and each batch is
/// full too: what these hold is memory at the busiest moment and buys no rate. 256 and 256
/// held 3.5 to 4.5 MiB less than 1,024 and 1,000 at 60,000 pulls a second (about 2.7 KiB
/// for each entry fewer: the entry, its metadata map and what writing it takes), at the same
/// rates; the transaction a batch costs is small beside the 256 rows it writes.
const QUEUE: usize = 256;
const BATCH: usize = 256;
/// Most entries kept while writing fails: a few megabytes, only then.
const HELD_WHILE_FAILING: usize = 4096;
/// How long the writer waits for more entries before it writes a batch.
const LINGER: Duration = Duration::from_millis(50);
/// How long a failed write waits before it is tried again, at first; each further failure
/// doubles the wait, up to [`MAX_RETRY`] (a full disk can last a while).
const RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(8);

/// The queue and its writer.
pub struct PullLog {
    sender: mpsc::Sender<AuditEntry>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl PullLog {
    /// Starts the writer on the current runtime.
    pub fn start(log: Arc<dyn AuditLog>) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let (stop, stopped) = oneshot::channel();
        let writer = tokio::spawn(write_batches(log, receiver, stopped));
        Self {
            sender,
            stop: Mutex::new(Some(stop)),
            writer: Mutex::new(Some(writer)),
        }
    }

    /// Writes what is queued and stops the writer. Entries recorded afterwards are lost,
    /// so call it after the server stopped taking requests.
    pub async fn close(&self) {
        if let Some(stop) = self.stop.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = stop.send(());
        }
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(writer) = writer
            && let Err(error) = writer.await
        {
            tracing::error!(%error, "the pull log writer failed");
        }
    }
}

#[async_trait]
impl AuditSink for PullLog {
    async fn record(&self, entry: AuditEntry) {
        if self.sender.send(entry).await.is_err() {
            tracing::warn!("pull log entry after shutdown, not recorded");
        }
    }
}

async fn write_batches(
    log: Arc<dyn AuditLog>,
    mut receiver: mpsc::Receiver<AuditEntry>,
    mut stopped: oneshot::Receiver<()>,
) {
    loop {
        let first = tokio::select! {
            entry = receiver.recv() => entry,
            _ = &mut stopped => {
                receiver.close();
                receiver.recv().await
            }
        };
        let Some(first) = first else { return };
        let mut batch = vec![first];
        gather(&mut receiver, &mut batch, BATCH, Instant::now() + LINGER).await;
        // A failed write is retried with what arrived meanwhile: the entries are kept, and
        // pulls wait once the writer holds all it may and the queue is full, as strict
        // logging requires.
        let mut retry = RETRY;
        while let Err(error) = log.append(&batch).await {
            tracing::error!(%error, entries = batch.len(), "writing pull log entries failed; retrying");
            let deadline = Instant::now() + retry;
            gather(&mut receiver, &mut batch, HELD_WHILE_FAILING, deadline).await;
            tokio::time::sleep_until(deadline).await;
            retry = (retry * 2).min(MAX_RETRY);
        }
    }
}

/// Moves queued entries into `batch` until it holds `most`, the queue is closed (shutting
/// down) or `deadline` comes.
async fn gather(
    receiver: &mut mpsc::Receiver<AuditEntry>,
    batch: &mut Vec<AuditEntry>,
    most: usize,
    deadline: Instant,
) {
    while batch.len() < most {
        match tokio::time::timeout_at(deadline, receiver.recv()).await {
            Ok(Some(entry)) => batch.push(entry),
            Ok(None) | Err(_) => break,
        }
    }
}
