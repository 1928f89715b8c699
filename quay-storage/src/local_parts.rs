//! Upload parts in a local directory, written and committed without OpenDAL's filesystem
//! writer, which takes a blocking-pool round trip for every step (making the directories,
//! checking the target, opening, each write, flushing, syncing, renaming, reading the
//! metadata back): eight thread handoffs for a small part, and as many again to rename it
//! into place and tidy up. Those handoffs, not the disk, were most of a small push's time.
//!
//! Here each buffered chunk is one blocking task, and a part that fits one chunk (the config
//! and most layers of a small image) is written, synced and renamed into place by a single
//! one; committing and discarding are one task each. What lands on disk is what OpenDAL's
//! writer leaves: the bytes written to a staging file, synced, renamed to
//! `uploads/<upload>/<part>`; a staging file a crash cuts off is removed with the unfinished
//! writes. A blob's name is synced once it is promoted, since a linked blob must be readable
//! after a power cut; a part's is not (as OpenDAL's writer does not): a power cut that loses
//! it fails the upload at its end, and its client starts again.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::StreamExt;
use quay_core::Error;
use quay_core::ports::ByteSource;

use crate::error::StorageError;

/// An upload's parts under a filesystem location's root.
#[derive(Clone, Debug)]
pub(crate) struct LocalParts {
    /// The location's root.
    pub(crate) root: PathBuf,
    /// Where writes are staged, under the root.
    pub(crate) staging: PathBuf,
    /// Bytes gathered from the body before each write.
    pub(crate) chunk_size: usize,
}

impl LocalParts {
    /// Writes everything `body` yields to `target` (relative to the root), which appears only
    /// complete and synced: the byte count, or the first failure, after which nothing of the
    /// part remains.
    pub(crate) async fn write(
        &self,
        target: &str,
        body: &mut ByteSource<'_>,
    ) -> quay_core::Result<u64> {
        let staged = self.staging.join(uuid::Uuid::new_v4().simple().to_string());
        let mut file = None;
        let mut pending = Vec::new();
        let mut pending_len = 0;
        let mut size = 0;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(error) => {
                    discard_staged(file, staged).await;
                    return Err(Error::storage(error));
                }
            };
            size += chunk.len() as u64;
            pending_len += chunk.len();
            pending.push(chunk);
            if pending_len < self.chunk_size {
                continue;
            }
            let (chunks, path) = (std::mem::take(&mut pending), staged.clone());
            pending_len = 0;
            match blocking(move || append(file, &path, &chunks)).await {
                Ok(written) => file = Some(written),
                Err(error) => {
                    discard_staged(None, staged).await;
                    return Err(StorageError::Files(error).into());
                }
            }
        }
        let target = self.root.join(target);
        blocking(move || {
            let finished = append(file, &staged, &pending)
                .and_then(|file| file.sync_all())
                .and_then(|()| rename_creating_parent(&staged, &target).map(drop));
            if finished.is_err() {
                let _ = fs::remove_file(&staged);
            }
            finished
        })
        .await
        .map_err(StorageError::Files)?;
        Ok(size)
    }

    /// Renames `part` to `blob` (both relative to the root), durably, and removes the part's
    /// directory if it is left empty.
    pub(crate) async fn promote(&self, part: &str, blob: &str) -> io::Result<()> {
        let (part, blob) = (self.root.join(part), self.root.join(blob));
        blocking(move || {
            let made_directory = rename_creating_parent(&part, &blob)?;
            // The blob is linked already and its bytes were synced with the part; its name
            // is its directory's data, which a power cut may lose unless that is synced too
            // (and, when the directory is new, its own name in its parent).
            sync_directory(parent(&blob))?;
            if made_directory {
                sync_directory(parent(parent(&blob)))?;
            }
            remove_empty_parent(&part);
            Ok(())
        })
        .await
    }

    /// Removes `parts` (relative to the root; those already gone are fine) and `directory`
    /// if that leaves it empty.
    pub(crate) async fn remove(&self, parts: Vec<String>, directory: &str) -> io::Result<()> {
        let root = self.root.clone();
        let directory = root.join(directory);
        blocking(move || {
            for part in &parts {
                match fs::remove_file(root.join(part)) {
                    Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
                    _ => {}
                }
            }
            // Only tidying: a racing chunk may still be writing into the directory, which
            // is then removed with the uploads' leftovers.
            let _ = fs::remove_dir(&directory);
            Ok(())
        })
        .await
    }
}

/// Runs `work` on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(io::Error::other)?
}

/// Writes `chunks` to the staged file, opening it first if this is the first write.
fn append(file: Option<File>, staged: &Path, chunks: &[Bytes]) -> io::Result<File> {
    let mut file = match file {
        Some(file) => file,
        None => create_with_parent(staged)?,
    };
    for chunk in chunks {
        file.write_all(chunk)?;
    }
    Ok(file)
}

/// Removes a staged file after a failure (a failure to remove it leaves it to the removal of
/// unfinished writes).
async fn discard_staged(file: Option<File>, staged: PathBuf) {
    let _ = blocking(move || {
        drop(file);
        match fs::remove_file(&staged) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    })
    .await;
}

fn create_with_parent(path: &Path) -> io::Result<File> {
    match File::create_new(path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(parent(path))?;
            File::create_new(path)
        }
        opened => opened,
    }
}

/// Renames `from` to `to`, making `to`'s directory if it is missing: whether it made it.
fn rename_creating_parent(from: &Path, to: &Path) -> io::Result<bool> {
    match fs::rename(from, to) {
        // The source exists (the caller made or checked it), so the target's directory is
        // what is missing.
        Err(error) if error.kind() == io::ErrorKind::NotFound && from.exists() => {
            fs::create_dir_all(parent(to))?;
            fs::rename(from, to).map(|()| true)
        }
        renamed => renamed.map(|()| false),
    }
}

fn sync_directory(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

fn remove_empty_parent(path: &Path) {
    let _ = fs::remove_dir(parent(path));
}

fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

#[cfg(test)]
mod tests {
    use futures::stream;

    use super::*;

    fn parts_in(root: &Path) -> LocalParts {
        LocalParts {
            root: root.to_path_buf(),
            staging: root.join(".staging"),
            chunk_size: 4,
        }
    }

    fn files_under(dir: &Path) -> Vec<String> {
        let Ok(entries) = fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn a_part_of_many_chunks_appears_whole_and_leaves_no_staged_file() {
        let dir = tempfile::tempdir().unwrap();
        let parts = parts_in(dir.path());
        let chunks = ["ab", "cdef", "g", "", "hijklmn", "o"].map(|s| Ok(Bytes::from(s)));
        let mut body = stream::iter(chunks);
        let size = parts.write("uploads/u/p1", &mut body).await.unwrap();
        assert_eq!(size, 15);
        let written = fs::read(dir.path().join("uploads/u/p1")).unwrap();
        assert_eq!(written, b"abcdefghijklmno");
        assert!(files_under(&parts.staging).is_empty());

        // An empty body is an empty part.
        let size = parts
            .write("uploads/u/p2", &mut stream::empty())
            .await
            .unwrap();
        assert_eq!(size, 0);
        assert_eq!(fs::read(dir.path().join("uploads/u/p2")).unwrap(), b"");
    }

    #[tokio::test]
    async fn a_body_that_breaks_off_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let parts = parts_in(dir.path());
        // Before the first write, and after some were written.
        for chunks_before in [0, 3] {
            let mut chunks: Vec<io::Result<Bytes>> = (0..chunks_before)
                .map(|_| Ok(Bytes::from("abcd")))
                .collect();
            chunks.push(Err(io::Error::other("connection reset")));
            let result = parts.write("uploads/u/p", &mut stream::iter(chunks)).await;
            assert!(result.is_err(), "{chunks_before}");
            assert!(files_under(&dir.path().join("uploads/u")).is_empty());
            assert!(files_under(&parts.staging).is_empty());
        }
    }

    #[tokio::test]
    async fn promoting_moves_the_part_and_tidies_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let parts = parts_in(dir.path());
        let mut body = stream::iter([Ok(Bytes::from("blob bytes"))]);
        parts.write("uploads/u/p", &mut body).await.unwrap();
        parts
            .promote("uploads/u/p", "sha256/ab/abcd")
            .await
            .unwrap();
        assert_eq!(
            fs::read(dir.path().join("sha256/ab/abcd")).unwrap(),
            b"blob bytes"
        );
        assert!(!dir.path().join("uploads/u").exists());

        // A part that is not there fails; nothing appears.
        let missing = parts.promote("uploads/v/p", "sha256/cd/cdef").await;
        assert_eq!(missing.unwrap_err().kind(), io::ErrorKind::NotFound);
        assert!(!dir.path().join("sha256/cd").exists());
    }

    #[tokio::test]
    async fn removing_takes_the_parts_and_their_directory_even_when_some_are_gone() {
        let dir = tempfile::tempdir().unwrap();
        let parts = parts_in(dir.path());
        for part in ["uploads/u/p1", "uploads/u/p2"] {
            let mut body = stream::iter([Ok(Bytes::from("x"))]);
            parts.write(part, &mut body).await.unwrap();
        }
        let names = ["uploads/u/p1", "uploads/u/p2", "uploads/u/gone"].map(String::from);
        parts.remove(names.to_vec(), "uploads/u/").await.unwrap();
        assert!(!dir.path().join("uploads/u").exists());
    }
}
