//! Benchmarks of the registry, run with `cargo bench -p quay-benches`:
//!
//! - `manifest_parsing`: `quay_core::manifest::parse` on each media type, small and large;
//! - `blob_path`: blob uploads (monolithic, and in chunks) and downloads through the whole
//!   HTTP stack of a real server on 127.0.0.1, with SQLite metadata and filesystem blobs;
//! - `garbage_collection`, `quota`: what collection costs, and what quota adds to a push;
//! - `outbox`: what a notification's event adds to a push.
//!
//! Side-by-side comparisons with other registries use `../shared/perf/bench.sh`; these
//! benchmarks watch the registry's own paths for regressions.
