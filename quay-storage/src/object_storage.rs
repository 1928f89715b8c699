//! Blob bytes and upload parts on any OpenDAL service (local filesystem, memory, S3, ...).
//!
//! Layout, as Quay's: a blob lives at `sha256/<first two hex>/<hex>`, once for the whole
//! registry; an upload's parts live under `uploads/<upload id>/<part id>`; health checks write
//! `health/probe`. Nothing a client names ever becomes a path: digests are validated hex,
//! upload and part ids are generated.
//!
//! Every write is atomic. On the filesystem, writes go to a staging directory and are renamed
//! into place on close (a crash in between leaves the staged file, which the garbage
//! collector removes once nothing has touched it for the abandoned-upload age); on object
//! stores, an object appears only when its upload completes.
//! Committing an upload renames its single part into place where the service can rename
//! (the filesystem: no byte is copied), and otherwise streams the parts into the blob.

use std::path::Path;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use opendal::layers::RetryLayer;
use opendal::{ErrorKind, Operator};
use quay_core::hash::ContentHasher;
use quay_core::ports::{
    BlobStore, ByteSource, ByteStream, LocationHealth, UploadStore, WrittenPart,
};
use quay_core::range::ByteRange;
use quay_core::secret::Secret;
use quay_core::{Digest, Error};

use crate::error::{OrStorage, StorageError};
use crate::local_file;
use crate::local_parts::LocalParts;

/// The name of the location of a store that has only one, as Quay's default configuration
/// names it.
pub(crate) const SINGLE_LOCATION: &str = "default";

/// What health checks write (a small object, overwritten by every check).
const HEALTH_PROBE: &str = "health/probe";

/// Bytes buffered before each write to the filesystem. Bounds memory per upload.
const FILESYSTEM_CHUNK: usize = 1024 * 1024;

/// Bytes per part of an S3 multipart upload: S3 takes no part under 5 MiB (but the last).
/// Bounds memory per upload and per blob being assembled.
const S3_CHUNK: usize = 8 * 1024 * 1024;

/// Where an S3-compatible bucket is and how to sign in to it (Quay's `S3Storage` and
/// `RadosGWStorage` locations).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket.
    pub bucket: String,
    /// The prefix of every object in it (`storage_path`).
    pub root: String,
    /// The service's URL (`https://s3.amazonaws.com`, a Ceph RGW, MinIO...); AWS's when
    /// `None`.
    pub endpoint: Option<String>,
    /// The region (`us-east-1` when `None`, which S3-compatible services accept).
    pub region: Option<String>,
    /// The access key; without keys, requests are not signed.
    pub access_key: Option<Secret>,
    /// The secret key.
    pub secret_key: Option<Secret>,
}

/// Where a filesystem location writes files before renaming them into place, under its root.
const STAGING: &str = ".staging/";

/// Blob and upload bytes on one OpenDAL operator.
#[derive(Clone, Debug)]
pub struct ObjectStorage {
    operator: Operator,
    chunk_size: usize,
    can_rename: bool,
    /// Whether writes go to [`STAGING`] first (the filesystem), where a crash in the middle
    /// of one leaves its file.
    stages_writes: bool,
    /// A filesystem location's directory, whose upload parts are written and committed
    /// directly ([`local_parts`]) and whose blobs are read directly ([`local_file`]).
    local_parts: Option<LocalParts>,
}

impl ObjectStorage {
    /// Storage on `operator`, writing in chunks of `chunk_size` bytes.
    pub fn new(operator: Operator, chunk_size: usize) -> Self {
        let can_rename = operator.info().capability().rename;
        Self {
            operator,
            chunk_size,
            can_rename,
            stages_writes: false,
            local_parts: None,
        }
    }

    /// Storage in a local directory (Quay's `LocalStorage`), created if missing.
    pub fn filesystem(root: &Path) -> Result<Self, StorageError> {
        let local_parts = LocalParts {
            root: root.to_path_buf(),
            staging: root.join(STAGING),
            chunk_size: FILESYSTEM_CHUNK,
        };
        let root = root.to_string_lossy();
        let builder = opendal::services::Fs::default()
            .root(&root)
            .atomic_write_dir(&format!("{root}/{STAGING}"));
        Ok(Self {
            stages_writes: true,
            local_parts: Some(local_parts),
            ..Self::new(Operator::new(builder)?, FILESYSTEM_CHUNK)
        })
    }

    /// Storage in an S3-compatible bucket. Configuration comes from `location` only, never
    /// from the environment or `~/.aws`, so that what the config file says is what is used.
    pub fn s3(location: &S3Location) -> Result<Self, StorageError> {
        // OpenDAL's HTTP client (reqwest on rustls), installed once per process.
        opendal::install_default();
        let mut builder = opendal::services::S3::default()
            .bucket(&location.bucket)
            .root(&location.root)
            .region(location.region.as_deref().unwrap_or("us-east-1"))
            .disable_config_load()
            .disable_ec2_metadata();
        if let Some(endpoint) = &location.endpoint {
            builder = builder.endpoint(endpoint);
        }
        match (&location.access_key, &location.secret_key) {
            (Some(access), Some(secret)) => {
                builder = builder
                    .access_key_id(access.expose())
                    .secret_access_key(secret.expose());
            }
            _ => builder = builder.skip_signature(),
        }
        // Object stores answer a request now and then with a temporary failure (S3's 500
        // and 503 "slow down"); OpenDAL retries those, with backoff, before we see them.
        let operator = Operator::new(builder)?.layer(RetryLayer::new().with_jitter());
        Ok(Self::new(operator, S3_CHUNK))
    }

    /// Storage in memory, for tests and ephemeral registries.
    pub fn memory() -> Self {
        let operator = Operator::new(opendal::services::Memory::default())
            .unwrap_or_else(|_| unreachable!("the memory service needs no configuration"));
        Self::new(operator, FILESYSTEM_CHUNK)
    }

    /// The operator underneath, for checks that look at storage directly.
    pub fn operator(&self) -> &Operator {
        &self.operator
    }

    /// Stores `bytes` as blob `digest`, atomically: the blob appears only complete (and,
    /// with [`Verify::Digest`], only if the bytes hash to `digest`).
    pub(crate) async fn write_blob(
        &self,
        digest: &Digest,
        mut bytes: ByteStream,
        verify: Verify,
    ) -> quay_core::Result<()> {
        let mut writer = self
            .operator
            .writer_with(&blob_path(digest))
            .chunk(self.chunk_size)
            .await
            .or_storage()?;
        let mut hasher = match verify {
            Verify::Digest => Some(ContentHasher::new(digest.algorithm())),
            Verify::Trusted => None,
        };
        let mut written = Ok(());
        while let Some(chunk) = bytes.next().await {
            written = match chunk {
                Ok(chunk) => {
                    if let Some(hasher) = &mut hasher {
                        hasher.update(&chunk);
                    }
                    writer.write(chunk).await.or_storage()
                }
                Err(error) => Err(Error::storage(error)),
            };
            if written.is_err() {
                break;
            }
        }
        if written.is_ok()
            && let Some(hasher) = hasher
            && let actual = hasher.finish()
            && actual != *digest
        {
            written = Err(Error::DigestMismatch {
                expected: digest.clone(),
                actual,
            });
        }
        if let Err(error) = written {
            // Nothing of the blob appears; the failure to report is the first one.
            let _ = writer.abort().await;
            return Err(error);
        }
        writer.close().await.or_storage()?;
        Ok(())
    }

    /// Whether the store takes a write and reads it back: a store that can still be read
    /// but no longer written (a full disk, a read-only bucket) fails.
    pub(crate) async fn check(&self) -> quay_core::Result<()> {
        self.operator
            .write(HEALTH_PROBE, &b"ok"[..])
            .await
            .or_storage()?;
        self.operator
            .stat(HEALTH_PROBE)
            .await
            .or_storage()
            .map(drop)
    }
}

/// Whether bytes written as a blob are hashed on the way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Hash them and keep the blob only if they match its digest: a copy from another
    /// location, which could have been damaged there.
    Digest,
    /// They were verified before: an upload's parts, hashed as they arrived.
    Trusted,
}

/// Where a blob's bytes live.
pub fn blob_path(digest: &Digest) -> String {
    let hex = digest.hex();
    format!("{}/{}/{hex}", digest.algorithm().name(), &hex[..2])
}

/// Where every upload's parts live, a directory per upload.
const UPLOADS: &str = "uploads/";

fn upload_dir(upload: &str) -> String {
    format!("{UPLOADS}{upload}/")
}

fn part_path(upload: &str, part: &str) -> String {
    format!("{UPLOADS}{upload}/{part}")
}

#[async_trait]
impl BlobStore for ObjectStorage {
    async fn blob_size(&self, digest: &Digest) -> quay_core::Result<Option<u64>> {
        match self.operator.stat(&blob_path(digest)).await {
            Ok(metadata) => Ok(Some(metadata.content_length())),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(error) => Err(StorageError::from(error).into()),
        }
    }

    async fn read_blob(
        &self,
        digest: &Digest,
        range: Option<ByteRange>,
    ) -> quay_core::Result<ByteStream> {
        if let Some(local) = &self.local_parts {
            return match local_file::open(local.root.join(blob_path(digest)), range).await {
                Ok(Some(chunks)) => Ok(chunks.boxed()),
                Ok(None) => Err(Error::BlobUnknown(digest.clone())),
                Err(error) => Err(StorageError::from(error).into()),
            };
        }
        let unknown = |error: opendal::Error| match error.kind() {
            ErrorKind::NotFound => Error::BlobUnknown(digest.clone()),
            _ => StorageError::from(error).into(),
        };
        // Some services look the object up when the reader is made, others (the
        // filesystem) when its stream is.
        let reader = self
            .operator
            .reader_with(&blob_path(digest))
            .chunk(self.chunk_size)
            // Read the next chunk while the current one is being sent.
            .concurrent(2)
            .await
            .map_err(unknown)?;
        let stream = match range {
            Some(range) => reader.into_bytes_stream(range.start..range.end + 1).await,
            None => reader.into_bytes_stream(..).await,
        };
        Ok(stream.map_err(unknown)?.boxed())
    }

    async fn delete_blob(&self, digest: &Digest) -> quay_core::Result<()> {
        self.operator.delete(&blob_path(digest)).await.or_storage()
    }

    async fn download_url(
        &self,
        digest: &Digest,
        valid_ms: u64,
    ) -> quay_core::Result<Option<String>> {
        if !self.operator.info().capability().presign_read {
            return Ok(None);
        }
        let signed = self
            .operator
            .presign_read(
                &blob_path(digest),
                std::time::Duration::from_millis(valid_ms),
            )
            .await
            .or_storage()?;
        Ok(Some(signed.uri().to_string()))
    }

    async fn check_locations(&self) -> Vec<LocationHealth> {
        vec![LocationHealth {
            name: SINGLE_LOCATION.into(),
            preferred: true,
            status: self.check().await,
        }]
    }
}

#[async_trait]
impl UploadStore for ObjectStorage {
    async fn write_part(
        &self,
        upload: &str,
        body: &mut ByteSource<'_>,
    ) -> quay_core::Result<WrittenPart> {
        let name = uuid::Uuid::new_v4().simple().to_string();
        if let Some(local) = &self.local_parts {
            let size = local.write(&part_path(upload, &name), body).await?;
            return Ok(WrittenPart { name, size });
        }
        let mut writer = self
            .operator
            .writer_with(&part_path(upload, &name))
            .chunk(self.chunk_size)
            .await
            .or_storage()?;
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let written = match chunk {
                Ok(bytes) => {
                    size += bytes.len() as u64;
                    writer.write(bytes).await.or_storage()
                }
                Err(error) => Err(Error::storage(error)),
            };
            if let Err(error) = written {
                // Leave nothing of the part behind; the failure to report is the first one.
                let _ = writer.abort().await;
                return Err(error);
            }
        }
        writer.close().await.or_storage()?;
        Ok(WrittenPart { name, size })
    }

    async fn read_parts(&self, upload: &str, parts: &[String]) -> quay_core::Result<ByteStream> {
        let operator = self.operator.clone();
        let chunk_size = self.chunk_size;
        let paths: Vec<String> = parts.iter().map(|part| part_path(upload, part)).collect();
        let stream = futures::stream::iter(paths)
            .then(move |path| {
                let operator = operator.clone();
                async move {
                    let reader = operator.reader_with(&path).chunk(chunk_size).await?;
                    reader
                        .into_bytes_stream(..)
                        .await
                        .map_err(std::io::Error::other)
                }
            })
            .map_err(std::io::Error::other)
            .try_flatten();
        Ok(stream.boxed())
    }

    async fn commit(
        &self,
        upload: &str,
        parts: &[String],
        digest: &Digest,
    ) -> quay_core::Result<()> {
        let target = blob_path(digest);
        if let (Some(local), [only]) = (&self.local_parts, parts) {
            return local
                .promote(&part_path(upload, only), &target)
                .await
                .map_err(|error| StorageError::Files(error).into());
        }
        match parts {
            [only] if self.can_rename => {
                self.operator
                    .rename(&part_path(upload, only), &target)
                    .await
                    .or_storage()?;
            }
            _ => {
                let bytes = self.read_parts(upload, parts).await?;
                self.write_blob(digest, bytes, Verify::Trusted).await?;
            }
        }
        self.discard(upload, parts).await
    }

    async fn remove_unfinished_writes(&self, before_ms: i64) -> quay_core::Result<u64> {
        if !self.stages_writes {
            return Ok(0);
        }
        let mut removed = 0;
        let mut staged = self.operator.lister(STAGING).await.or_storage()?;
        while let Some(entry) = staged.try_next().await.or_storage()? {
            if entry.path() == STAGING {
                continue;
            }
            let metadata = match self.operator.stat(entry.path()).await {
                Ok(metadata) => metadata,
                // Renamed into place (or removed) meanwhile: finished after all.
                Err(error) if error.kind() == ErrorKind::NotFound => continue,
                Err(error) => return Err(StorageError::from(error).into()),
            };
            let touched_ms = metadata
                .last_modified()
                .map_or(i64::MAX, |at| at.into_inner().as_millisecond());
            if touched_ms < before_ms {
                self.operator.delete(entry.path()).await.or_storage()?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    async fn discard(&self, upload: &str, parts: &[String]) -> quay_core::Result<()> {
        if let Some(local) = &self.local_parts {
            let parts = parts.iter().map(|part| part_path(upload, part)).collect();
            return local
                .remove(parts, &upload_dir(upload))
                .await
                .map_err(|error| StorageError::Files(error).into());
        }
        for part in parts {
            // Deleting what is already gone succeeds: a retried commit or cancel is fine.
            self.operator
                .delete(&part_path(upload, part))
                .await
                .or_storage()?;
        }
        // Only tidying: an upload's directory left behind (a racing chunk may still be
        // writing into it) is removed with the uploads' leftovers.
        if let Err(error) = self.operator.delete(&upload_dir(upload)).await {
            tracing::debug!(upload, %error, "upload directory not removed");
        }
        Ok(())
    }

    async fn stored_uploads(&self) -> quay_core::Result<Vec<String>> {
        // One level down: a directory per upload, or on an object store the common prefix
        // of its parts.
        let mut ids = Vec::new();
        let mut entries = self.operator.lister(UPLOADS).await.or_storage()?;
        while let Some(entry) = entries.try_next().await.or_storage()? {
            if let Some(id) = entry
                .path()
                .strip_prefix(UPLOADS)
                .and_then(|rest| rest.strip_suffix('/'))
                .filter(|id| !id.is_empty())
            {
                ids.push(id.to_string());
            }
        }
        Ok(ids)
    }

    async fn discard_upload(&self, upload: &str) -> quay_core::Result<()> {
        self.operator
            .delete_with(&upload_dir(upload))
            .recursive(true)
            .await
            .or_storage()
    }
}
