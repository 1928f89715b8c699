//! Blobs on their way from an upstream: one download per digest, however many clients ask.
//!
//! The first request for a blob starts a download task, which runs to the end even if its
//! client goes away. The task writes the upstream's bytes into parts of the upload store
//! (the upload primitive: each part is written whole or not at all) and announces each part
//! as it is written; every client, the first included, follows the announcements and reads
//! the parts back, so that each gets every byte from the first and none waits for the whole
//! blob. The last part is announced only once the client library has checked the digest and
//! the size has been counted: a blob that does not match ends every stream with an error
//! before its last bytes, and is never stored. A verified blob is committed into the blob
//! store, and a client still reading the parts, which the commit removes, goes on from the
//! blob store at the offset it has reached.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use quay_core::ports::{BlobInfo, BlobStore, ByteStream, UploadStore, WrittenPart};
use quay_core::range::ByteRange;
use quay_core::upstream::{UpstreamFailure, UpstreamProblem};
use quay_core::{Digest, Error};
use tokio::sync::watch;

/// How many bytes a part holds at most: what a client may wait for before its first byte.
const PART_BYTES: u64 = 1024 * 1024;

/// Downloads in progress, by digest.
pub(super) struct BlobDownloads {
    uploads: Arc<dyn UploadStore>,
    blobs: Arc<dyn BlobStore>,
    in_flight: Arc<Mutex<HashMap<Digest, Arc<Download>>>>,
}

/// One download: where its parts go, and how far it has come.
struct Download {
    blob: BlobInfo,
    upload: String,
    progress: watch::Sender<Progress>,
}

#[derive(Clone, Debug, Default)]
struct Progress {
    /// Parts written and announced, in order.
    parts: Vec<WrittenPart>,
    state: State,
}

#[derive(Clone, Debug, Default)]
enum State {
    /// The upstream has not answered yet.
    #[default]
    Connecting,
    /// Bytes are arriving.
    Streaming,
    /// Every byte is verified and in the blob store.
    Stored,
    /// The download failed; nothing of it is kept.
    Failed(UpstreamFailure),
}

impl BlobDownloads {
    pub(super) fn new(uploads: Arc<dyn UploadStore>, blobs: Arc<dyn BlobStore>) -> Self {
        Self {
            uploads,
            blobs,
            in_flight: Arc::default(),
        }
    }

    /// The blob's bytes, following the download in progress or one started with `start`
    /// (which opens the upstream's stream). Answers once the upstream has answered, so that
    /// a failure before the first byte is the request's failure.
    pub(super) async fn follow<F>(&self, blob: &BlobInfo, start: F) -> quay_core::Result<ByteStream>
    where
        F: Future<Output = Result<BoxStream<'static, io::Result<Bytes>>, UpstreamFailure>>
            + Send
            + 'static,
    {
        let download = {
            let mut in_flight = self
                .in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match in_flight.get(&blob.digest) {
                Some(download) => Arc::clone(download),
                None => {
                    let download = Arc::new(Download {
                        blob: blob.clone(),
                        upload: format!("proxy-{}", uuid::Uuid::new_v4().simple()),
                        progress: watch::Sender::new(Progress::default()),
                    });
                    in_flight.insert(blob.digest.clone(), Arc::clone(&download));
                    let task = Task {
                        download: Arc::clone(&download),
                        uploads: Arc::clone(&self.uploads),
                        in_flight: Arc::clone(&self.in_flight),
                    };
                    tokio::spawn(task.run(start));
                    download
                }
            }
        };
        let mut progress = download.progress.subscribe();
        let answered = progress
            .wait_for(|progress| !matches!(progress.state, State::Connecting))
            .await
            .map_err(|_| Error::Internal("a blob download ended without a word".into()))?
            .clone();
        if let State::Failed(failure) = answered.state
            && answered.parts.is_empty()
        {
            return Err(Error::Upstream(failure));
        }
        let follower = Follower {
            download,
            progress,
            uploads: Arc::clone(&self.uploads),
            blobs: Arc::clone(&self.blobs),
            next_part: 0,
            offset: 0,
            reading: None,
            from_blob_store: false,
        };
        Ok(Box::pin(futures::stream::unfold(follower, Follower::next)))
    }
}

/// The download task.
struct Task {
    download: Arc<Download>,
    uploads: Arc<dyn UploadStore>,
    in_flight: Arc<Mutex<HashMap<Digest, Arc<Download>>>>,
}

impl Task {
    async fn run<F>(self, start: F)
    where
        F: Future<Output = Result<BoxStream<'static, io::Result<Bytes>>, UpstreamFailure>>,
    {
        let download = &self.download;
        let outcome = match start.await {
            Ok(body) => {
                download
                    .progress
                    .send_modify(|progress| progress.state = State::Streaming);
                self.write(body).await
            }
            Err(failure) => Err(failure),
        };
        if let Err(failure) = outcome {
            tracing::warn!(
                digest = %download.blob.digest,
                %failure,
                "a blob from the upstream was not stored"
            );
            download
                .progress
                .send_modify(|progress| progress.state = State::Failed(failure));
            let parts = part_names(&download.progress.borrow());
            let _ = self.uploads.discard(&download.upload, &parts).await;
        }
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&download.blob.digest);
    }

    /// Writes the body part by part, announcing each; the last once verified.
    async fn write(
        &self,
        body: BoxStream<'static, io::Result<Bytes>>,
    ) -> Result<(), UpstreamFailure> {
        let download = &self.download;
        let expected = download.blob.size;
        let mut source = PartSource::new(body);
        let mut written = 0u64;
        loop {
            let part = self.uploads.write_part(&download.upload, &mut source).await;
            let part = match (part, source.failure.take()) {
                (_, Some(failure)) => return Err(failure),
                (Ok(part), None) => part,
                (Err(error), None) => {
                    return Err(UpstreamFailure::new(
                        UpstreamProblem::Unavailable,
                        format!("storing it failed: {error}"),
                    ));
                }
            };
            written += part.size;
            if written > expected {
                return Err(UpstreamFailure::new(
                    UpstreamProblem::Invalid,
                    format!("it sent more than the {expected} bytes declared"),
                ));
            }
            if !source.ended {
                download
                    .progress
                    .send_modify(|progress| progress.parts.push(part));
                source.next_part();
                continue;
            }
            if written != expected {
                return Err(UpstreamFailure::new(
                    UpstreamProblem::Invalid,
                    format!("it sent {written} bytes where {expected} were declared"),
                ));
            }
            let mut parts = part_names(&download.progress.borrow());
            if part.size > 0 {
                parts.push(part.name.clone());
            }
            self.uploads
                .commit(&download.upload, &parts, &download.blob.digest)
                .await
                .map_err(|error| {
                    UpstreamFailure::new(
                        UpstreamProblem::Unavailable,
                        format!("storing it failed: {error}"),
                    )
                })?;
            download.progress.send_modify(|progress| {
                if part.size > 0 {
                    progress.parts.push(part);
                }
                progress.state = State::Stored;
            });
            return Ok(());
        }
    }
}

fn part_names(progress: &Progress) -> Vec<String> {
    progress
        .parts
        .iter()
        .map(|part| part.name.clone())
        .collect()
}

/// The upstream's body, cut into parts of at most [`PART_BYTES`]: a part's stream ends at
/// the boundary, and the next takes up where it stopped. An upstream error ends the part
/// with an error and is kept, to tell it from the store's failures.
struct PartSource {
    body: BoxStream<'static, io::Result<Bytes>>,
    pending: Option<Bytes>,
    in_part: u64,
    ended: bool,
    failure: Option<UpstreamFailure>,
}

impl PartSource {
    fn new(body: BoxStream<'static, io::Result<Bytes>>) -> Self {
        Self {
            body,
            pending: None,
            in_part: 0,
            ended: false,
            failure: None,
        }
    }

    fn next_part(&mut self) {
        self.in_part = 0;
    }
}

impl Stream for PartSource {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.in_part == PART_BYTES || this.ended {
            return Poll::Ready(None);
        }
        let mut chunk = match this.pending.take() {
            Some(chunk) => chunk,
            None => match this.body.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.ended = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(error))) => {
                    // The client library ends a body that does not match its digest so.
                    let problem = if error.kind() == io::ErrorKind::Other
                        && error.to_string().contains("digest")
                    {
                        UpstreamProblem::Invalid
                    } else {
                        UpstreamProblem::Unavailable
                    };
                    let failure = UpstreamFailure::new(problem, error.to_string());
                    this.failure = Some(failure);
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(Some(Ok(chunk))) => chunk,
            },
        };
        let room = PART_BYTES - this.in_part;
        if chunk.len() as u64 > room {
            let rest = chunk.split_off(usize::try_from(room).unwrap_or(usize::MAX));
            this.pending = Some(rest);
        }
        this.in_part += chunk.len() as u64;
        Poll::Ready(Some(Ok(chunk)))
    }
}

/// A client following a download.
struct Follower {
    download: Arc<Download>,
    progress: watch::Receiver<Progress>,
    uploads: Arc<dyn UploadStore>,
    blobs: Arc<dyn BlobStore>,
    /// The next part to read.
    next_part: usize,
    /// Bytes given to the client so far.
    offset: u64,
    /// The part (or the rest of the stored blob) being read.
    reading: Option<ByteStream>,
    from_blob_store: bool,
}

impl Follower {
    async fn next(mut self) -> Option<(io::Result<Bytes>, Self)> {
        loop {
            if let Some(reading) = &mut self.reading {
                match reading.next().await {
                    Some(Ok(chunk)) => {
                        self.offset += chunk.len() as u64;
                        return Some((Ok(chunk), self));
                    }
                    Some(Err(error)) => {
                        // The commit removed the part under us: the blob store has it all.
                        if !self.from_blob_store && self.stored_in_the_end().await {
                            self.reading = None;
                            self.from_blob_store = true;
                            continue;
                        }
                        return self.fail(error);
                    }
                    None if self.from_blob_store => return None,
                    None => {
                        self.reading = None;
                        self.next_part += 1;
                        continue;
                    }
                }
            }
            if self.from_blob_store {
                let rest = rest_from_blob_store(
                    Arc::clone(&self.blobs),
                    self.download.blob.digest.clone(),
                    self.offset,
                );
                match rest.await {
                    Ok(Some(rest)) => {
                        self.reading = Some(rest);
                        continue;
                    }
                    Ok(None) => return None,
                    Err(error) => return self.fail(io::Error::other(error)),
                }
            }
            let progress = self.progress.borrow_and_update().clone();
            if let Some(part) = progress.parts.get(self.next_part) {
                match self
                    .uploads
                    .read_parts(&self.download.upload, std::slice::from_ref(&part.name))
                    .await
                {
                    Ok(stream) => self.reading = Some(stream),
                    Err(_) if self.stored_in_the_end().await => self.from_blob_store = true,
                    Err(error) => return self.fail(io::Error::other(error)),
                }
                continue;
            }
            match progress.state {
                State::Stored => return None,
                State::Failed(failure) => return self.fail(io::Error::other(failure.to_string())),
                State::Connecting | State::Streaming => {
                    if self.progress.changed().await.is_err() {
                        return self.fail(io::Error::other("the blob download stopped"));
                    }
                }
            }
        }
    }

    /// Whether the download ends with the blob stored: a part that cannot be read was
    /// removed by the commit, which announces `Stored` only once it is done.
    async fn stored_in_the_end(&mut self) -> bool {
        self.progress
            .wait_for(|progress| matches!(progress.state, State::Stored | State::Failed(_)))
            .await
            .is_ok_and(|progress| matches!(progress.state, State::Stored))
    }

    fn fail(mut self, error: io::Error) -> Option<(io::Result<Bytes>, Self)> {
        // One error, then the end: the client sees a body cut short.
        self.reading = Some(Box::pin(futures::stream::empty()));
        self.from_blob_store = true;
        Some((Err(error), self))
    }
}

/// The bytes of the stored blob from `offset` on; `None` past its end.
async fn rest_from_blob_store(
    blobs: Arc<dyn BlobStore>,
    digest: Digest,
    offset: u64,
) -> quay_core::Result<Option<ByteStream>> {
    let stored = blobs
        .blob_size(&digest)
        .await?
        .ok_or_else(|| Error::BlobUnknown(digest.clone()))?;
    if offset >= stored {
        return Ok(None);
    }
    let range = ByteRange {
        start: offset,
        end: stored - 1,
    };
    Ok(Some(blobs.read_blob(&digest, Some(range)).await?))
}
