//! Text the registry cannot store, refused where it enters: the NUL character.
//!
//! PostgreSQL's text columns cannot hold a NUL (it answered 500, "invalid byte sequence"),
//! and SQLite stores one and then matches it oddly (`like:%00` matched every tag). Every
//! string a client sends arrives in the URL (path and query, percent-decoded), in a JSON
//! body or in a credential; each of those is checked here once, so that everything past the
//! edge holds only text every database stores, and a client learns what was wrong from a
//! 400 instead of a 500. (Rust strings are valid UTF-8 and serde_json refuses lone
//! surrogates, so NUL is the only character left to refuse.)

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use futures::future::{Either, Ready, ready};
use tower::Service;

use crate::api::error::ApiError;
use crate::error::HttpError;

/// What a client that sent a NUL is told.
pub(crate) const NUL_REFUSED: &str = "text with a NUL character (\\u0000 or %00) is not accepted";

/// A service that refuses a request whose URL decodes to text with a NUL, in the shape of
/// the API it addresses, and passes every other to `S`. (Written out rather than with
/// `axum::middleware::from_fn`, which boxes a future and clones the routes for every
/// request: this sits on the path of every manifest GET.)
#[derive(Clone)]
pub(crate) struct RefuseNulInUrl<S>(pub(crate) S);

impl<S> Service<Request> for RefuseNulInUrl<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if !url_has_nul(request.uri()) {
            return Either::Right(self.0.call(request));
        }
        let error = HttpError::InvalidRequest(NUL_REFUSED.into());
        let path = request.uri().path();
        Either::Left(ready(Ok(
            if path.starts_with("/api/") || path.starts_with("/oauth/") {
                ApiError::from(error).into_response()
            } else {
                error.into_response()
            },
        )))
    }
}

/// Whether the URL's path or query decodes to text with a NUL. A URL cannot carry the byte
/// itself, and decoding is done once, so `%00` is the only way to write one.
fn url_has_nul(uri: &Uri) -> bool {
    uri.path_and_query()
        .is_some_and(|target| target.as_str().contains("%00"))
}

/// Whether a JSON document decodes to text with a NUL. In valid JSON a backslash only
/// starts an escape inside a string, and `\u0000` is the only way to write a NUL (the raw
/// byte makes the document invalid, which the parser refuses anyway).
pub(crate) fn json_has_nul(document: &[u8]) -> bool {
    let mut rest = document;
    while let Some(at) = rest.iter().position(|&byte| byte == b'\\') {
        let escape = &rest[at + 1..];
        match escape {
            [b'u', b'0', b'0', b'0', b'0', ..] => return true,
            // Skip the escaped character, so that `\\u0000` (a backslash, then text) is no
            // NUL.
            [_, tail @ ..] => rest = tail,
            [] => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_nul_escapes_are_found_and_escaped_backslashes_are_not() {
        assert!(json_has_nul(br#"{"name":"a\u0000b"}"#));
        assert!(json_has_nul(br#"["\\\u0000"]"#));
        assert!(!json_has_nul(br#"{"name":"a\\u0000b"}"#));
        assert!(!json_has_nul(br#"{"name":"\u00e9\n\"\\"}"#));
        assert!(!json_has_nul(br#"{"name":"a\u0001"}"#));
        assert!(!json_has_nul(b"\\"));
    }

    #[test]
    fn urls_with_a_percent_encoded_nul_are_found() {
        for (uri, nul) in [
            ("/api/v1/repository/ns/a%00b", true),
            (
                "/api/v1/repository/ns/app/tag/?filter_tag_name=like:%00",
                true,
            ),
            ("/v2/ns/app/manifests/latest", false),
            ("/api/v1/repository/ns/app/tag/?specificTag=%2500", false),
        ] {
            assert_eq!(url_has_nul(&uri.parse().unwrap()), nul, "{uri}");
        }
    }
}
