//! Feeds arbitrary header values to the two byte-range parsers, which read client headers
//! on every chunk upload and blob download. Neither may panic (they do arithmetic on
//! client-supplied numbers), and what they accept must be a range the storage layer can
//! serve as is: a chunk range is not reversed, and a download part lies inside the blob.
//!
//! The first 8 bytes are the blob size (little-endian), the rest is the header text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use quay_core::range::{ChunkRange, RangeRequest};

fuzz_target!(|data: &[u8]| {
    let Some((size, header)) = data.split_first_chunk::<8>() else {
        return;
    };
    let size = u64::from_le_bytes(*size);
    let Ok(header) = std::str::from_utf8(header) else {
        return;
    };

    if let Ok(chunk) = ChunkRange::parse(header) {
        assert!(chunk.start <= chunk.end, "{chunk:?} from {header:?}");
    }
    if let RangeRequest::Part(part) = RangeRequest::parse(header, size) {
        assert!(
            part.start <= part.end && part.end < size,
            "{part:?} of {size} bytes from {header:?}"
        );
    }
});
