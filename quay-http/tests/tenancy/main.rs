//! HTTP tests of tenancy against a real server on 127.0.0.1 with accounts: the `/api/v1`
//! REST API, sessions and tokens, the usage log, and what the registry lets each caller do.

// Test helpers are shared between modules of this test crate, not exported.
#![allow(unreachable_pub)]

mod access;
mod discovery;
mod mirror;
mod notifications;
mod organizations;
mod proxy_cache;
mod quota;
mod support;
mod usage_log;
mod users;
mod web;
