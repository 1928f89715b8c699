//! Tests' view of the log: what a piece of code logs, as `init_logging` would print it.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

/// What `run` returns, and the lines it logs on this thread, at every level.
pub(crate) fn logged<T>(run: impl FnOnce() -> T) -> (T, String) {
    let lines = Lines::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer({
            let lines = lines.clone();
            move || lines.clone()
        })
        .finish();
    let returned = tracing::subscriber::with_default(subscriber, run);
    let bytes = lines.0.lock().unwrap_or_else(PoisonError::into_inner);
    (returned, String::from_utf8_lossy(&bytes).into_owned())
}

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl io::Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let mut lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        lines.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
