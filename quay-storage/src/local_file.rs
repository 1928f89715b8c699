//! Reading a blob from a local directory without OpenDAL's reader, which for every chunk
//! spawns a task, allocates and zeroes a fresh buffer, and reads on the blocking pool.
//!
//! A [`FileChunks`] stream maps the file a window at a time, one window ahead of the one
//! being sent, each mapped by one blocking-pool task with its pages read in (so that the
//! server's write never waits on the disk on a runtime thread). The bytes go from the page
//! cache straight to the socket: no copy into a buffer of ours, which cost a third of a
//! large download's CPU. A window is unmapped once the server has written it, so a download
//! holds a few megabytes of the file however large the blob is, and no thread between
//! windows, so a slow client costs no blocking thread.

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures::Stream;
use memmap2::{Mmap, MmapOptions};
use quay_core::range::ByteRange;
use tokio::task::JoinHandle;

/// Bytes per window: few enough that the windows in flight stay small, many enough that
/// mapping one costs little next to sending it.
const WINDOW: usize = 1024 * 1024;

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
            mapping: None,
        }))
    })
    .await
    .map_err(io::Error::other)?
}

/// The windows of a byte range of a file, mapped one ahead.
pub(crate) struct FileChunks {
    file: Arc<File>,
    /// Where the next window starts, and how many bytes are left to map.
    offset: u64,
    remaining: u64,
    mapping: Option<JoinHandle<io::Result<Mmap>>>,
}

impl FileChunks {
    /// Starts mapping the next window, if any is left.
    fn map_ahead(&mut self) {
        if self.remaining == 0 || self.mapping.is_some() {
            return;
        }
        let len = usize::try_from(self.remaining).map_or(WINDOW, |left| left.min(WINDOW));
        let (file, offset) = (self.file.clone(), self.offset);
        self.offset += len as u64;
        self.remaining -= len as u64;
        self.mapping = Some(tokio::task::spawn_blocking(move || {
            map_window(&file, offset, len)
        }));
    }
}

/// `len` bytes of `file` from `offset`, mapped read-only with their pages read in.
#[allow(unsafe_code)]
fn map_window(file: &File, offset: u64, len: usize) -> io::Result<Mmap> {
    // SAFETY: a mapping is undefined behaviour if the file changes under it. Blob files never
    // do: a blob is written whole under another name and renamed into place, and garbage
    // collection unlinks it (the mapping keeps the unlinked file's pages); nothing truncates
    // or rewrites one.
    unsafe {
        MmapOptions::new()
            .offset(offset)
            .len(len)
            .populate()
            .map(file)
    }
}

impl Stream for FileChunks {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.map_ahead();
        let Some(mapping) = self.mapping.as_mut() else {
            return Poll::Ready(None);
        };
        let mapped = ready!(Pin::new(mapping).poll(cx));
        self.mapping = None;
        let window = match mapped {
            Ok(Ok(window)) => window,
            Ok(Err(error)) => return Poll::Ready(Some(Err(error))),
            Err(join) => return Poll::Ready(Some(Err(io::Error::other(join)))),
        };
        // The next window is mapped while this one is sent.
        self.map_ahead();
        Poll::Ready(Some(Ok(Bytes::from_owner(window))))
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
        let content: Vec<u8> = (0..WINDOW * 5 / 2).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        assert_eq!(read(path.clone(), None).await, content);
        for (start, end) in [(0, 0), (WINDOW - 10, WINDOW + 10), (10, content.len() - 1)] {
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

    /// The process's resident pages of files (`RssFile`, and `RssShmem` for a temporary
    /// directory on tmpfs), in KiB.
    #[cfg(target_os = "linux")]
    fn resident_file_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .filter(|l| l.starts_with("RssFile:") || l.starts_with("RssShmem:"))
            .map(|l| l.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap())
            .sum()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_download_holds_two_windows_of_the_file_at_most() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        std::fs::write(&path, vec![7u8; WINDOW * 8]).unwrap();
        // Once, so that the code of a read is resident before counting.
        let _ = read(path.clone(), Some(ByteRange { start: 0, end: 0 })).await;

        let before = resident_file_kib();
        let mut chunks = open(path, None).await.unwrap().unwrap();
        let (mut sum, mut most_kib) = (0, 0);
        while let Some(chunk) = chunks.try_next().await.unwrap() {
            sum += chunk.iter().map(|b| u64::from(*b)).sum::<u64>();
            most_kib = most_kib.max(resident_file_kib().saturating_sub(before));
        }
        assert_eq!(sum, 7 * 8 * WINDOW as u64);
        let window_kib = (WINDOW / 1024) as u64;
        assert!(
            (window_kib..=2 * window_kib + 256).contains(&most_kib),
            "{most_kib} KiB of the file resident at most"
        );
        let after = resident_file_kib().saturating_sub(before);
        assert!(after < 256, "{after} KiB of the file still resident");
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
