//! The `scope` parameter of the registry token endpoint:
//! `repository:<name>:<actions>`, actions a comma list of `pull`, `push` and `*`.

use quay_core::access::GrantedActions;
use quay_core::{Error, RepositoryPath};

/// What a client asks a registry token for, on one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestedScope {
    /// The repository as the client named it (the token's grant repeats it verbatim).
    pub name: String,
    /// The repository.
    pub repository: RepositoryPath,
    /// The actions asked for.
    pub actions: GrantedActions,
}

/// Parses one scope; `hostname` (`SERVER_HOSTNAME`) may prefix the repository name.
pub fn parse_scope(scope: &str, hostname: Option<&str>) -> quay_core::Result<RequestedScope> {
    let undecodable =
        || Error::InvalidRequest(format!("Unable to decode repository and actions: {scope}"));
    let rest = scope.strip_prefix("repository:").ok_or_else(undecodable)?;
    let (name, actions) = rest.rsplit_once(':').ok_or_else(undecodable)?;
    let mut requested = GrantedActions::default();
    for action in actions.split(',') {
        match action {
            "pull" => requested.pull = true,
            "push" => requested.push = true,
            "*" => requested.all = true,
            _ => return Err(undecodable()),
        }
    }
    let path = hostname
        .and_then(|host| name.strip_prefix(host))
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(name);
    Ok(RequestedScope {
        name: name.to_string(),
        repository: RepositoryPath::parse(path)?,
        actions: requested,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        let scope = parse_scope("repository:acme/app:pull,push", None).unwrap();
        assert_eq!(scope.repository.to_string(), "acme/app");
        assert!(scope.actions.pull && scope.actions.push && !scope.actions.all);
        let prefixed = parse_scope(
            "repository:quay.test:8443/acme/app:*",
            Some("quay.test:8443"),
        )
        .unwrap();
        assert_eq!(prefixed.name, "quay.test:8443/acme/app");
        assert_eq!(prefixed.repository.to_string(), "acme/app");
        assert!(prefixed.actions.all);
        let single = parse_scope("repository:busybox:pull", None).unwrap();
        assert_eq!(single.repository.to_string(), "library/busybox");
        for bad in [
            "registry:catalog:*",
            "repository:acme/app",
            "repository:acme/app:delete",
            "acme/app:pull",
        ] {
            assert!(
                matches!(parse_scope(bad, None), Err(Error::InvalidRequest(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_scope("repository:Acme/app:pull", None),
            Err(Error::NameInvalid(_))
        ));
    }
}
