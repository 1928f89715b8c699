//! Feeds arbitrary text to the name parsers, which see every repository, tag and digest in
//! a request path. Parsing may refuse but never panic, and what it accepts must be kept
//! verbatim: names are compared and stored as text, so a parser that normalised its input
//! would make two spellings of one name (or one spelling of two names) possible. Repository
//! paths are also checked not to look like file-system escapes, in case one ever ends up
//! in a path.

#![no_main]

use libfuzzer_sys::fuzz_target;
use quay_core::names::{Namespace, RepoName};
use quay_core::{Digest, Reference, RepositoryPath, TagName};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(digest) = Digest::parse(text) {
        assert_eq!(digest.to_string(), text);
        assert_eq!(digest.hex().len(), digest.algorithm().hex_len());
    }
    if let Ok(reference) = Reference::parse(text) {
        assert_eq!(reference.to_string(), text);
    }
    if let Ok(tag) = TagName::parse(text) {
        assert_eq!(tag.to_string(), text);
    }
    if let Ok(namespace) = Namespace::parse(text) {
        assert_eq!(namespace.to_string(), text);
    }
    if let Ok(name) = RepoName::parse(text) {
        assert_eq!(name.to_string(), text);
    }
    if let Ok(path) = RepositoryPath::parse(text) {
        let shown = path.to_string();
        // A single segment lives in the library namespace.
        if text.contains('/') {
            assert_eq!(shown, text);
        } else {
            assert_eq!(shown, format!("library/{text}"));
        }
        assert!(!shown.starts_with('/'), "absolute path {shown:?}");
        assert!(
            !shown.split('/').any(|component| component == ".."),
            "path escape {shown:?}"
        );
    }
});
