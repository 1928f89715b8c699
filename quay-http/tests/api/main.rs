//! HTTP tests of the registry API against a real server on 127.0.0.1, driven by reqwest and
//! the `oci-client` crate.

// Test helpers are shared between modules of this test crate, not exported.
#![allow(unreachable_pub)]

mod blobs;
mod health;
mod listing;
mod manifests;
mod oci_client;
mod support;
