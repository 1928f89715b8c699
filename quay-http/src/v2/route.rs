//! Which `/v2` endpoint a path names.
//!
//! Repository names contain slashes, so the endpoint is recognised by its suffix: the path
//! is split at the *last* `/manifests/`, `/blobs/`, ... so that a repository may even be
//! called `a/manifests/b`. Every name is validated here, before anything is looked up.

use quay_core::{Digest, Error, Reference, RepositoryPath};

use crate::error::{HttpError, HttpResult};

/// A `/v2/<name>/...` endpoint.
#[derive(Debug)]
pub(crate) enum Route {
    /// `/v2/<name>/manifests/<reference>`
    Manifest(RepositoryPath, Reference),
    /// `/v2/<name>/manifests/<reference>` with a reference that is neither a tag nor a
    /// digest, and why: nothing can be stored under it.
    ImpossibleManifest(Error),
    /// `/v2/<name>/blobs/<digest>`
    Blob(RepositoryPath, Digest),
    /// `/v2/<name>/blobs/uploads/`
    Uploads(RepositoryPath),
    /// `/v2/<name>/blobs/uploads/<id>`
    Upload(RepositoryPath, String),
    /// `/v2/<name>/tags/list`
    Tags(RepositoryPath),
    /// `/v2/<name>/referrers/<digest>`
    Referrers(RepositoryPath, Digest),
}

impl Route {
    /// The repository the request is about.
    pub(crate) fn repository_mut(&mut self) -> Option<&mut RepositoryPath> {
        match self {
            Self::Manifest(repo, _)
            | Self::Blob(repo, _)
            | Self::Uploads(repo)
            | Self::Upload(repo, _)
            | Self::Tags(repo)
            | Self::Referrers(repo, _) => Some(repo),
            Self::ImpossibleManifest(_) => None,
        }
    }

    /// The endpoint's path template, for metrics and the access log.
    pub(crate) fn template(&self) -> &'static str {
        match self {
            Self::Manifest(..) | Self::ImpossibleManifest(_) => "/v2/{name}/manifests/{reference}",
            Self::Blob(..) => "/v2/{name}/blobs/{digest}",
            Self::Uploads(_) => "/v2/{name}/blobs/uploads/",
            Self::Upload(..) => "/v2/{name}/blobs/uploads/{id}",
            Self::Tags(_) => "/v2/{name}/tags/list",
            Self::Referrers(..) => "/v2/{name}/referrers/{digest}",
        }
    }

    /// Parses the path after `/v2/`.
    pub(crate) fn parse(path: &str) -> HttpResult<Self> {
        let repo = |name: &str| RepositoryPath::parse(name).map_err(HttpError::from);
        if let Some(name) = path.strip_suffix("/tags/list") {
            return Ok(Self::Tags(repo(name)?));
        }
        if let Some((name, reference)) = last_segment_after(path, "/manifests/") {
            let repo = repo(name)?;
            return Ok(match Reference::parse(reference) {
                Ok(reference) => Self::Manifest(repo, reference),
                Err(error) => Self::ImpossibleManifest(error),
            });
        }
        if let Some((name, digest)) = last_segment_after(path, "/referrers/") {
            return Ok(Self::Referrers(repo(name)?, Digest::parse(digest)?));
        }
        if let Some(name) = path
            .strip_suffix("/blobs/uploads/")
            .or_else(|| path.strip_suffix("/blobs/uploads"))
        {
            return Ok(Self::Uploads(repo(name)?));
        }
        if let Some((name, id)) = last_segment_after(path, "/blobs/uploads/") {
            return Ok(Self::Upload(repo(name)?, id.to_string()));
        }
        if let Some((name, digest)) = last_segment_after(path, "/blobs/") {
            return Ok(Self::Blob(repo(name)?, Digest::parse(digest)?));
        }
        Err(HttpError::UnknownEndpoint)
    }
}

/// Splits `path` at the last `marker` if what follows is one non-empty segment.
fn last_segment_after<'a>(path: &'a str, marker: &str) -> Option<(&'a str, &'a str)> {
    let (name, segment) = path.rsplit_once(marker)?;
    (!segment.is_empty() && !segment.contains('/')).then_some((name, segment))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn endpoints_are_recognised_by_their_suffix() {
        let route = |p: &str| Route::parse(p).unwrap();
        assert!(
            matches!(route("ns/app/manifests/v1"), Route::Manifest(r, Reference::Tag(_)) if r.to_string() == "ns/app")
        );
        assert!(matches!(
            route(&format!("ns/app/manifests/{DIGEST}")),
            Route::Manifest(_, Reference::Digest(_))
        ));
        assert!(
            matches!(route("aa/manifests/b/manifests/v1"), Route::Manifest(r, _) if r.to_string() == "aa/manifests/b")
        );
        assert!(
            matches!(route(&format!("ns/a/b/blobs/{DIGEST}")), Route::Blob(r, _) if r.to_string() == "ns/a/b")
        );
        assert!(matches!(route("ns/app/blobs/uploads/"), Route::Uploads(_)));
        assert!(matches!(route("ns/app/blobs/uploads"), Route::Uploads(_)));
        assert!(
            matches!(route("ns/app/blobs/uploads/abc-123"), Route::Upload(_, id) if id == "abc-123")
        );
        assert!(matches!(route("ns/app/tags/list"), Route::Tags(_)));
        assert!(
            matches!(route("solo/tags/list"), Route::Tags(r) if r.to_string() == "library/solo")
        );
        assert!(matches!(
            route(&format!("ns/app/referrers/{DIGEST}")),
            Route::Referrers(..)
        ));
    }

    #[test]
    fn bad_names_are_refused_before_lookup() {
        let error = |p: &str| Route::parse(p).unwrap_err();
        assert!(matches!(
            error("NS/app/tags/list"),
            HttpError::Registry(quay_core::Error::NameInvalid(_))
        ));
        assert!(matches!(
            error("ns/../x/tags/list"),
            HttpError::Registry(quay_core::Error::NameInvalid(_))
        ));
        assert!(matches!(
            Route::parse("ns/app/manifests/bad!tag"),
            Ok(Route::ImpossibleManifest(quay_core::Error::TagInvalid(_)))
        ));
        assert!(matches!(
            error("NS/app/manifests/bad!tag"),
            HttpError::Registry(quay_core::Error::NameInvalid(_))
        ));
        assert!(matches!(
            error("ns/app/blobs/sha256:short"),
            HttpError::Registry(quay_core::Error::DigestInvalid(_))
        ));
        assert!(matches!(error("ns/app/other"), HttpError::UnknownEndpoint));
        assert!(matches!(
            error("ns/app/manifests/"),
            HttpError::UnknownEndpoint
        ));
    }
}
