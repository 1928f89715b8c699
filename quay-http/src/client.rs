//! Who is on the other end of a request, as the usage log and the access log name it.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap, header};

/// The client's address: the first `X-Forwarded-For` hop behind a proxy, else the peer.
pub(crate) fn client_ip(headers: &HeaderMap, extensions: &Extensions) -> Option<String> {
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .map(|hop| hop.trim().to_string())
        .filter(|hop| !hop.is_empty());
    forwarded.or_else(|| {
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip().to_string())
    })
}

/// The client's `User-Agent`.
pub(crate) fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|agent| agent.to_str().ok())
        .map(str::to_string)
}
