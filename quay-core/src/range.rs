//! The two byte-range headers of the distribution API.
//!
//! - `Content-Range` on a chunk upload (`PATCH`): `<start>-<end>`, inclusive, where `start`
//!   must be the upload's current size. The specification has no unit prefix; clients that
//!   send `bytes start-end` or `bytes=start-end` (and an optional `/total`) are accepted too.
//! - `Range` on a blob download: one RFC 9110 byte range (`bytes=a-b`, `bytes=a-`,
//!   `bytes=-n`). A request for several ranges is answered with the whole blob, which the RFC
//!   allows.

use crate::error::{Error, Result};

/// The inclusive byte range a chunk claims to cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkRange {
    /// Offset of the first byte.
    pub start: u64,
    /// Offset of the last byte (inclusive).
    pub end: u64,
}

impl ChunkRange {
    /// Parses a `Content-Range` header of an upload chunk.
    pub fn parse(header: &str) -> Result<Self> {
        let invalid = || Error::UploadInvalid(format!("invalid Content-Range {header:?}"));
        let mut text = header.trim();
        for prefix in ["bytes=", "bytes "] {
            if let Some(rest) = text.strip_prefix(prefix) {
                text = rest.trim_start();
            }
        }
        let text = text.split_once('/').map_or(text, |(range, _total)| range);
        let (start, end) = text.split_once('-').ok_or_else(invalid)?;
        let start = parse_decimal(start).ok_or_else(invalid)?;
        let end = parse_decimal(end).ok_or_else(invalid)?;
        if end < start {
            return Err(invalid());
        }
        Ok(Self { start, end })
    }

    /// Number of bytes in the range (at least one).
    pub fn byte_count(&self) -> u64 {
        self.end - self.start + 1
    }
}

/// A resolved download range: `start..=end` within a blob of known size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    /// Offset of the first byte.
    pub start: u64,
    /// Offset of the last byte (inclusive).
    pub end: u64,
}

impl ByteRange {
    /// Number of bytes in the range (at least one).
    pub fn byte_count(&self) -> u64 {
        self.end - self.start + 1
    }
}

/// What a `Range` request header asks of a blob of `size` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeRequest {
    /// Send the whole blob (no header, an unknown unit, several ranges, or a syntax error,
    /// which RFC 9110 says to ignore).
    Whole,
    /// Send this part.
    Part(ByteRange),
    /// The range lies outside the blob: 416.
    Unsatisfiable,
}

impl RangeRequest {
    /// Interprets a `Range` header against a blob of `size` bytes.
    pub fn parse(header: &str, size: u64) -> Self {
        let Some(spec) = header.trim().strip_prefix("bytes=") else {
            return Self::Whole;
        };
        if spec.contains(',') {
            return Self::Whole;
        }
        let Some((first, last)) = spec.trim().split_once('-') else {
            return Self::Whole;
        };
        match (parse_decimal(first), last.is_empty()) {
            // bytes=-n: the last n bytes.
            (None, false) if first.is_empty() => match parse_decimal(last) {
                Some(0) => Self::Unsatisfiable,
                Some(n) if size > 0 => Self::Part(ByteRange {
                    start: size.saturating_sub(n),
                    end: size - 1,
                }),
                Some(_) => Self::Unsatisfiable,
                None => Self::Whole,
            },
            // bytes=a-
            (Some(start), true) if start < size => Self::Part(ByteRange {
                start,
                end: size - 1,
            }),
            (Some(_), true) => Self::Unsatisfiable,
            // bytes=a-b
            (Some(start), false) => match parse_decimal(last) {
                Some(end) if end < start => Self::Whole,
                Some(_) if start >= size => Self::Unsatisfiable,
                Some(end) => Self::Part(ByteRange {
                    start,
                    end: end.min(size - 1),
                }),
                None => Self::Whole,
            },
            (None, _) => Self::Whole,
        }
    }
}

fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_ranges() {
        assert_eq!(
            ChunkRange::parse("0-9").unwrap(),
            ChunkRange { start: 0, end: 9 }
        );
        assert_eq!(ChunkRange::parse("bytes 5-9/20").unwrap().byte_count(), 5);
        assert_eq!(ChunkRange::parse("bytes=5-5").unwrap().byte_count(), 1);
        for bad in [
            "",
            "5",
            "9-5",
            "a-b",
            "-1-2",
            "1-",
            "-5",
            "+1-2",
            "1 - 2x",
            "99999999999999999999-1",
        ] {
            assert!(ChunkRange::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn download_ranges() {
        let part = |start, end| RangeRequest::Part(ByteRange { start, end });
        assert_eq!(RangeRequest::parse("bytes=0-9", 100), part(0, 9));
        assert_eq!(RangeRequest::parse("bytes=90-200", 100), part(90, 99));
        assert_eq!(RangeRequest::parse("bytes=90-", 100), part(90, 99));
        assert_eq!(RangeRequest::parse("bytes=-10", 100), part(90, 99));
        assert_eq!(RangeRequest::parse("bytes=-1000", 100), part(0, 99));
        assert_eq!(
            RangeRequest::parse("bytes=100-", 100),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(
            RangeRequest::parse("bytes=100-200", 100),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(
            RangeRequest::parse("bytes=-0", 100),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(
            RangeRequest::parse("bytes=0-0", 0),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(
            RangeRequest::parse("bytes=0-1,3-4", 100),
            RangeRequest::Whole
        );
        assert_eq!(RangeRequest::parse("items=0-1", 100), RangeRequest::Whole);
        assert_eq!(RangeRequest::parse("bytes=5-1", 100), RangeRequest::Whole);
        assert_eq!(RangeRequest::parse("bytes=x", 100), RangeRequest::Whole);
    }
}
