//! Several storage locations as one store: Quay's distributed storage, the ground of
//! geo-replication.
//!
//! A node lists the locations in its order of preference (`DISTRIBUTED_STORAGE_PREFERENCE`;
//! a node in Europe puts the European bucket first). It stores new blobs and upload parts
//! in the first, and reads a blob from the first that holds it, falling back in order: a
//! location that has not received a blob yet, or lost it, costs a lookup, not a pull. No
//! read consults the database, so a registry with one location pays nothing for this.
//!
//! An upload part's name says which location holds it, so a node continues an upload that
//! a node preferring another location started, and the commit gathers every part. When all
//! parts are in the location the blob goes to, that location commits them itself (a rename,
//! on a filesystem).
//!
//! With replication on (`FEATURE_STORAGE_REPLICATION`), committing a blob records where it
//! landed (Quay's placements, for operators to query) and queues it; the [`Replicator`]
//! copies it to every default location (`DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS`) that does
//! not hold it, hashing the bytes on the way, and records each copy. The records follow the
//! blob's row, which the collector deletes before the bytes, and a copy is recorded only
//! while the row exists: a copy made of a blob being collected is removed again. Deleting a
//! blob deletes it from every location.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use async_trait::async_trait;
use futures::StreamExt;
use quay_core::clock::{Clock, SystemClock};
use quay_core::ports::{
    BlobStore, ByteSource, ByteStream, LocationHealth, UploadStore, WrittenPart,
};
use quay_core::range::ByteRange;
use quay_core::{Digest, Error};

use crate::error::StorageError;
use crate::object_storage::ObjectStorage;
use crate::object_storage::{SINGLE_LOCATION, Verify};
use crate::sql::SqlMetadata;
use crate::sql::replication::QueuedBlob;

/// A storage location: an object store under the name the configuration gives it.
#[derive(Clone, Debug)]
pub struct StorageLocation {
    /// The name in `DISTRIBUTED_STORAGE_CONFIG`.
    pub name: String,
    /// Its bytes.
    pub storage: ObjectStorage,
}

/// The storage locations of a node, and where blobs are replicated to.
#[derive(Clone, Debug)]
pub struct StorageLocations {
    /// In this node's order of preference: the first takes new blobs and upload parts.
    pub locations: Vec<StorageLocation>,
    /// The locations every blob is copied to (`DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS`, when
    /// `FEATURE_STORAGE_REPLICATION` is on); none: no replication.
    pub replicate_to: Vec<String>,
}

impl From<ObjectStorage> for StorageLocations {
    /// One location, without replication.
    fn from(storage: ObjectStorage) -> Self {
        Self {
            locations: vec![StorageLocation {
                name: SINGLE_LOCATION.into(),
                storage,
            }],
            replicate_to: Vec::new(),
        }
    }
}

/// Blob and upload bytes across the storage locations of one node.
#[derive(Clone, Debug)]
pub struct DistributedStorage {
    locations: Arc<[StorageLocation]>,
    replication: Option<Replication>,
}

#[derive(Clone)]
struct Replication {
    /// Indexes into the locations.
    targets: Vec<usize>,
    records: SqlMetadata,
    clock: Arc<dyn Clock>,
    /// Wakes this node's replicator when this node queues a blob; blobs other nodes queue
    /// wait for its next poll.
    queued: Arc<Notify>,
}

impl std::fmt::Debug for Replication {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Replication")
            .field("targets", &self.targets)
            .finish_non_exhaustive()
    }
}

/// Separates the location from the part's own name in the names of upload parts.
const PART_LOCATION_SEPARATOR: char = '.';

impl DistributedStorage {
    /// The locations of `plan`, recording placements and queueing replication in
    /// `records` when the plan replicates.
    pub fn new(plan: StorageLocations, records: SqlMetadata) -> Result<Self, StorageError> {
        if plan.locations.is_empty() {
            return Err(StorageError::InvalidLocations(
                "no storage location is configured".into(),
            ));
        }
        let mut names = BTreeSet::new();
        for location in &plan.locations {
            if !names.insert(location.name.as_str()) {
                return Err(StorageError::InvalidLocations(format!(
                    "storage location {:?} is configured twice",
                    location.name
                )));
            }
        }
        let index_of = |name: &str| {
            plan.locations
                .iter()
                .position(|location| location.name == name)
                .ok_or_else(|| {
                    StorageError::InvalidLocations(format!(
                        "blobs are to be replicated to {name:?}, which is not a configured storage location"
                    ))
                })
        };
        let targets = plan
            .replicate_to
            .iter()
            .map(|name| index_of(name))
            .collect::<Result<BTreeSet<usize>, _>>()?;
        let replication = (!targets.is_empty()).then(move || Replication {
            targets: targets.into_iter().collect(),
            records,
            clock: Arc::new(SystemClock),
            queued: Arc::new(Notify::new()),
        });
        Ok(Self {
            locations: plan.locations.into(),
            replication,
        })
    }

    /// With `clock` as the time of queued replications (tests move it).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        if let Some(replication) = &mut self.replication {
            replication.clock = clock;
        }
        self
    }

    /// The locations, in this node's order of preference.
    pub fn locations(&self) -> &[StorageLocation] {
        &self.locations
    }

    /// A worker that copies queued blobs to the default locations, when this storage
    /// replicates.
    pub fn replicator(&self) -> Option<Replicator> {
        self.replication.as_ref().map(|replication| Replicator {
            storage: self.clone(),
            replication: replication.clone(),
        })
    }

    fn preferred(&self) -> &StorageLocation {
        &self.locations[0]
    }

    /// Location `name`, for an upload part.
    fn location(&self, name: &str) -> quay_core::Result<&StorageLocation> {
        self.locations
            .iter()
            .find(|location| location.name == name)
            .ok_or_else(|| {
                StorageError::InvalidLocations(format!(
                    "an upload part is in storage location {name:?}, which is not configured"
                ))
                .into()
            })
    }

    /// Each part's location and its name there. A part without a location was written
    /// before locations were named, when there was one: it is in the preferred location.
    fn split_parts<'a>(
        &self,
        parts: &'a [String],
    ) -> quay_core::Result<Vec<(&StorageLocation, &'a str)>> {
        parts
            .iter()
            .map(|part| match part.rsplit_once(PART_LOCATION_SEPARATOR) {
                Some((location, name)) => Ok((self.location(location)?, name)),
                None => Ok((self.preferred(), part.as_str())),
            })
            .collect()
    }

    /// The first location, in order of preference, where blob `digest` is stored, with
    /// its size there. A location that fails is passed over (a region may be down); if
    /// none holds the blob, its failure is the answer, since the blob may be there.
    async fn holder(&self, digest: &Digest) -> quay_core::Result<Option<(&StorageLocation, u64)>> {
        let mut failure = None;
        for location in self.locations.iter() {
            match location.storage.blob_size(digest).await {
                Ok(Some(size)) => return Ok(Some((location, size))),
                Ok(None) => {}
                Err(error) => failure = Some(passed_over(location, error)),
            }
        }
        failure.map_or(Ok(None), Err)
    }

    /// Records that `location` holds blob `digest`, queueing the blob for the other default
    /// locations; whether the blob still has its row.
    async fn record(&self, digest: &Digest, location: &StorageLocation) -> quay_core::Result<bool> {
        let Some(replication) = &self.replication else {
            return Ok(true);
        };
        let elsewhere = replication
            .targets
            .iter()
            .any(|target| self.locations[*target].name != location.name);
        let queue_at_ms = elsewhere.then(|| replication.clock.now_ms());
        let exists = replication
            .records
            .record_placement(digest, &location.name, queue_at_ms)
            .await?;
        if elsewhere {
            replication.queued.notify_one();
        }
        Ok(exists)
    }
}

#[async_trait]
impl BlobStore for DistributedStorage {
    async fn blob_size(&self, digest: &Digest) -> quay_core::Result<Option<u64>> {
        Ok(self.holder(digest).await?.map(|(_, size)| size))
    }

    async fn read_blob(
        &self,
        digest: &Digest,
        range: Option<ByteRange>,
    ) -> quay_core::Result<ByteStream> {
        let mut failure = None;
        for location in self.locations.iter() {
            match location.storage.read_blob(digest, range).await {
                Err(Error::BlobUnknown(_)) => {}
                Err(error) => failure = Some(passed_over(location, error)),
                read => return read,
            }
        }
        Err(failure.unwrap_or_else(|| Error::BlobUnknown(digest.clone())))
    }

    async fn delete_blob(&self, digest: &Digest) -> quay_core::Result<()> {
        for location in self.locations.iter() {
            location.storage.delete_blob(digest).await?;
        }
        Ok(())
    }

    async fn download_url(
        &self,
        digest: &Digest,
        valid_ms: u64,
    ) -> quay_core::Result<Option<String>> {
        // A signed URL does not say whether the blob is there: with several locations, sign
        // it where the blob is found. Not where it is recorded: a record outlives bytes
        // lost or removed by hand, and the client would follow the URL into a 404.
        let holder = match &*self.locations {
            [only] => only,
            _ => match self.holder(digest).await? {
                Some((location, _)) => location,
                None => return Err(Error::BlobUnknown(digest.clone())),
            },
        };
        holder.storage.download_url(digest, valid_ms).await
    }

    async fn check_locations(&self) -> Vec<LocationHealth> {
        let checks = self
            .locations
            .iter()
            .enumerate()
            .map(|(index, location)| async move {
                LocationHealth {
                    name: location.name.clone(),
                    preferred: index == 0,
                    status: location.storage.check().await,
                }
            });
        futures::future::join_all(checks).await
    }
}

#[async_trait]
impl UploadStore for DistributedStorage {
    async fn write_part(
        &self,
        upload: &str,
        body: &mut ByteSource<'_>,
    ) -> quay_core::Result<WrittenPart> {
        let location = self.preferred();
        let part = location.storage.write_part(upload, body).await?;
        Ok(WrittenPart {
            name: format!("{}{PART_LOCATION_SEPARATOR}{}", location.name, part.name),
            size: part.size,
        })
    }

    async fn read_parts(&self, upload: &str, parts: &[String]) -> quay_core::Result<ByteStream> {
        let mut streams = Vec::with_capacity(parts.len());
        for (location, part) in self.split_parts(parts)? {
            // Opening a part reads nothing yet: the bytes flow as the stream is polled.
            streams.push(
                location
                    .storage
                    .read_parts(upload, &[part.to_string()])
                    .await?,
            );
        }
        Ok(futures::stream::iter(streams).flatten().boxed())
    }

    async fn commit(
        &self,
        upload: &str,
        parts: &[String],
        digest: &Digest,
    ) -> quay_core::Result<()> {
        let target = self.preferred();
        let split = self.split_parts(parts)?;
        if split
            .iter()
            .all(|(location, _)| location.name == target.name)
        {
            let names: Vec<String> = split.iter().map(|(_, name)| (*name).to_string()).collect();
            target.storage.commit(upload, &names, digest).await?;
        } else {
            let bytes = self.read_parts(upload, parts).await?;
            target
                .storage
                .write_blob(digest, bytes, Verify::Trusted)
                .await?;
            self.discard(upload, parts).await?;
        }
        self.record(digest, target).await?;
        Ok(())
    }

    async fn discard(&self, upload: &str, parts: &[String]) -> quay_core::Result<()> {
        let split = self.split_parts(parts)?;
        for location in self.locations.iter() {
            let here: Vec<String> = split
                .iter()
                .filter(|(holder, _)| holder.name == location.name)
                .map(|(_, name)| (*name).to_string())
                .collect();
            // An upload without parts may still have left its directory anywhere.
            if !here.is_empty() || parts.is_empty() {
                location.storage.discard(upload, &here).await?;
            }
        }
        Ok(())
    }

    async fn remove_unfinished_writes(&self, before_ms: i64) -> quay_core::Result<u64> {
        let mut removed = 0;
        for location in self.locations.iter() {
            removed += location.storage.remove_unfinished_writes(before_ms).await?;
        }
        Ok(removed)
    }

    async fn stored_uploads(&self) -> quay_core::Result<Vec<String>> {
        let mut ids = BTreeSet::new();
        for location in self.locations.iter() {
            ids.extend(location.storage.stored_uploads().await?);
        }
        Ok(ids.into_iter().collect())
    }

    async fn discard_upload(&self, upload: &str) -> quay_core::Result<()> {
        for location in self.locations.iter() {
            location.storage.discard_upload(upload).await?;
        }
        Ok(())
    }
}

/// What one pass of the [`Replicator`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Replicated {
    /// Blobs taken off the queue: every default location holds them, or they were
    /// collected meanwhile.
    pub blobs: u64,
    /// Copies made.
    pub copies: u64,
    /// Bytes copied.
    pub bytes: u64,
    /// Blobs left for a later attempt.
    pub postponed: u64,
}

/// Copies queued blobs to every default location: one per node may run, each takes its own
/// blobs from the queue.
#[derive(Clone, Debug)]
pub struct Replicator {
    storage: DistributedStorage,
    replication: Replication,
}

/// How long a replicator owns a blob it took; past it, another takes the blob over.
const CLAIM_LEASE: Duration = Duration::from_secs(30 * 60);

/// Blobs taken from the queue at a time.
const CLAIM_BATCH: u32 = 16;

/// The wait before a failed blob is tried again grows to this.
const LONGEST_RETRY_WAIT: Duration = Duration::from_secs(60 * 60);

impl Replicator {
    /// Copies every blob that is due, until the queue has none.
    pub async fn run(&self) -> quay_core::Result<Replicated> {
        let mut done = Replicated::default();
        loop {
            let now_ms = self.replication.clock.now_ms();
            let claimed = self
                .replication
                .records
                .claim_replications(now_ms, as_ms(CLAIM_LEASE), CLAIM_BATCH)
                .await?;
            for queued in &claimed {
                match self.replicate(&queued.digest, &mut done).await {
                    Ok(()) => {
                        let records = &self.replication.records;
                        records.finish_replication(&queued.digest).await?;
                        done.blobs += 1;
                    }
                    Err(error) => {
                        self.postpone(queued, &error).await?;
                        done.postponed += 1;
                    }
                }
            }
            if claimed.len() < CLAIM_BATCH as usize {
                return Ok(done);
            }
        }
    }

    /// Waits until this node queues a blob, or `poll` passed (for blobs other nodes queue,
    /// and retries that came due).
    pub async fn wait_for_work(&self, poll: Duration) {
        let _ = tokio::time::timeout(poll, self.replication.queued.notified()).await;
    }

    /// Puts blobs stored before replication was turned on into the queue; how many.
    pub async fn queue_every_blob(&self) -> quay_core::Result<u64> {
        let now_ms = self.replication.clock.now_ms();
        self.replication.records.queue_every_blob(now_ms).await
    }

    /// Makes every default location hold blob `digest`, or finds the blob gone.
    async fn replicate(&self, digest: &Digest, done: &mut Replicated) -> quay_core::Result<()> {
        let records = &self.replication.records;
        for &target in &self.replication.targets {
            let target = &self.storage.locations[target];
            // Looked at, not taken from the records: a location that lost a blob gets it
            // back when the blob is queued again (`quay-bin replicate --all`).
            if target.storage.blob_size(digest).await?.is_none() {
                // Nowhere at all: lost, or collected (then its place in the queue is gone too).
                let (source, size) = self
                    .storage
                    .holder(digest)
                    .await?
                    .ok_or_else(|| Error::BlobUnknown(digest.clone()))?;
                let bytes = source.storage.read_blob(digest, None).await?;
                target
                    .storage
                    .write_blob(digest, bytes, Verify::Digest)
                    .await?;
                done.copies += 1;
                done.bytes += size;
            }
            if !records.record_placement(digest, &target.name, None).await? {
                // Collected while it was being copied: the copy must not outlive it.
                target.storage.delete_blob(digest).await?;
                return Ok(());
            }
        }
        Ok(())
    }

    /// Leaves a blob that could not be copied for later: a minute after the first failure,
    /// twice as long after each further one, an hour at most.
    async fn postpone(&self, queued: &QueuedBlob, error: &Error) -> quay_core::Result<()> {
        let wait_ms = (60_000i64 << queued.attempts.min(16)).min(as_ms(LONGEST_RETRY_WAIT));
        let retry_ms = self.replication.clock.now_ms().saturating_add(wait_ms);
        self.replication
            .records
            .retry_replication(&queued.digest, retry_ms)
            .await?;
        tracing::warn!(
            digest = %queued.digest,
            attempts = queued.attempts + 1,
            %error,
            "blob not replicated; trying again later"
        );
        Ok(())
    }
}

/// Logs why `location` was passed over for another.
fn passed_over(location: &StorageLocation, error: Error) -> Error {
    tracing::warn!(location = location.name, %error, "storage location failed; trying the next");
    error
}

fn as_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
