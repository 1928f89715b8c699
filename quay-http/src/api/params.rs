//! What paths and bodies name, parsed once for every area of the API: namespaces,
//! repositories, roles, and the namespace of a user given by name.

use quay_core::names::{Namespace, RepositoryPath};
use quay_core::permission::Role;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ApiResult};

/// A role name: `read`, `write` or `admin`.
pub(crate) fn role(name: &str) -> ApiResult<Role> {
    Role::from_name(name).ok_or_else(|| {
        ApiError::invalid(format!(
            "Invalid role {name:?}: expected read, write or admin"
        ))
    })
}

/// A name that must be a valid namespace (organization, team, robot's short name).
pub(crate) fn name(text: &str) -> ApiResult<Namespace> {
    Ok(Namespace::parse(text)?)
}

/// A role.
#[derive(Deserialize, ToSchema)]
pub(crate) struct RoleRequest {
    /// `read`, `write` or `admin`.
    pub(crate) role: String,
}

/// The repository at `namespace/name` (as given in a path).
pub(crate) fn repository_path(namespace: &str, name: &str) -> ApiResult<RepositoryPath> {
    Ok(RepositoryPath::parse(&format!("{namespace}/{name}"))?)
}

/// Path parameters naming a repository.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct RepositoryParams {
    /// The namespace.
    namespace: String,
    /// The repository's name (a nested name's `/` as `%2F`).
    repository: String,
}

impl RepositoryParams {
    pub(crate) fn path(&self) -> ApiResult<RepositoryPath> {
        repository_path(&self.namespace, &self.repository)
    }

    /// The namespace and the repository's name, as given.
    pub(crate) fn parts(&self) -> (&str, &str) {
        (&self.namespace, &self.repository)
    }
}
