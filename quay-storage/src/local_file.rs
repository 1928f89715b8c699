//! Reading a blob from a local directory without OpenDAL's reader, which for every chunk
//! spawns a task, allocates and zeroes a fresh buffer, and reads on the blocking pool.
//!
//! A [`FileChunks`] stream reads the file in order, one chunk ahead of the one being sent,
//! each read one blocking-pool task into a buffer of its own small pool: a buffer comes back
//! to the pool when the server has written the chunk it holds, so a download touches the
//! same few megabytes however large the blob is. No thread is held between chunks, so a
//! slow client costs no blocking thread.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures::Stream;
use quay_core::range::ByteRange;
use tokio::task::JoinHandle;

/// Bytes per read: few enough to stay in the caches while the socket takes them, many
/// enough that a task per chunk costs little.
const CHUNK: usize = 1024 * 1024;

/// Buffers a download keeps for reuse: the one being read, the one being sent, and one
/// the server may still hold.
const POOLED: usize = 3;

/// Opens `path` for reading `range` (the whole file without one); `None` if there is no
/// such file. A range past the end fails here, before any byte is sent.
pub(crate) async fn open(
    path: PathBuf,
    range: Option<ByteRange>,
) -> io::Result<Option<FileChunks>> {
    tokio::task::spawn_blocking(move || {
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        let size = file.metadata()?.len();
        let (offset, remaining) = match range {
            Some(range) if range.end >= size => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("bytes {}-{} of a file of {size}", range.start, range.end),
                ));
            }
            Some(range) => (range.start, range.byte_count()),
            None => (0, size),
        };
        Ok(Some(FileChunks {
            file: Arc::new(file),
            offset,
            remaining,
            pool: Arc::default(),
            reading: None,
        }))
    })
    .await
    .map_err(io::Error::other)?
}

/// The chunks of a byte range of a file, read one ahead.
pub(crate) struct FileChunks {
    file: Arc<File>,
    /// Where the next read starts, and how many bytes are left to read.
    offset: u64,
    remaining: u64,
    pool: Arc<Mutex<Vec<Vec<u8>>>>,
    reading: Option<JoinHandle<io::Result<Chunk>>>,
}

impl FileChunks {
    /// Starts reading the next chunk, if any is left.
    fn read_ahead(&mut self) {
        if self.remaining == 0 || self.reading.is_some() {
            return;
        }
        let want = usize::try_from(self.remaining).map_or(CHUNK, |left| left.min(CHUNK));
        let mut buffer = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        let (file, offset, pool) = (self.file.clone(), self.offset, self.pool.clone());
        self.offset += want as u64;
        self.remaining -= want as u64;
        self.reading = Some(tokio::task::spawn_blocking(move || {
            // Zeroed once, when the buffer is new (or too small); reused as it is afterwards.
            if buffer.len() < want {
                buffer.resize(want, 0);
            }
            file.read_exact_at(&mut buffer[..want], offset)?;
            Ok(Chunk {
                buffer,
                len: want,
                pool,
            })
        }));
    }
}

impl Stream for FileChunks {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.read_ahead();
        let Some(reading) = self.reading.as_mut() else {
            return Poll::Ready(None);
        };
        let read = ready!(Pin::new(reading).poll(cx));
        self.reading = None;
        let chunk = match read {
            Ok(Ok(chunk)) => chunk,
            Ok(Err(error)) => return Poll::Ready(Some(Err(error))),
            Err(join) => return Poll::Ready(Some(Err(io::Error::other(join)))),
        };
        // The next chunk is read while this one is sent.
        self.read_ahead();
        Poll::Ready(Some(Ok(Bytes::from_owner(chunk))))
    }
}

/// A chunk read into a pooled buffer, which goes back to its pool when dropped.
struct Chunk {
    buffer: Vec<u8>,
    len: usize,
    pool: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl AsRef<[u8]> for Chunk {
    fn as_ref(&self) -> &[u8] {
        &self.buffer[..self.len]
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < POOLED {
            pool.push(std::mem::take(&mut self.buffer));
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt;

    use super::*;

    async fn read(path: PathBuf, range: Option<ByteRange>) -> Vec<u8> {
        let chunks = open(path, range).await.unwrap().unwrap();
        let chunks: Vec<Bytes> = chunks.try_collect().await.unwrap();
        chunks.concat()
    }

    #[tokio::test]
    async fn reads_whole_files_and_ranges_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        let content: Vec<u8> = (0..CHUNK * 5 / 2).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        assert_eq!(read(path.clone(), None).await, content);
        for (start, end) in [(0, 0), (CHUNK - 10, CHUNK + 10), (10, content.len() - 1)] {
            let range = ByteRange {
                start: start as u64,
                end: end as u64,
            };
            assert_eq!(
                read(path.clone(), Some(range)).await,
                content[start..=end],
                "{start}-{end}"
            );
        }
        std::fs::write(&path, b"").unwrap();
        assert!(read(path, None).await.is_empty());
    }

    #[tokio::test]
    async fn a_missing_file_is_none_and_a_range_past_the_end_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        assert!(open(path.clone(), None).await.unwrap().is_none());
        std::fs::write(&path, b"short").unwrap();
        let past = ByteRange { start: 2, end: 5 };
        let error = open(path, Some(past)).await.err().unwrap();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    }
}
