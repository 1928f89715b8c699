//! The vocabulary of permissions: roles, team roles, visibility, superuser standing, the
//! actions on repositories and namespaces, and the facts the rules read. The rules
//! themselves are `access::decide`'s.
//!
//! The stores gather the [`RepositoryFacts`] and [`NamespaceFacts`] in one query.

/// A role on a repository; each includes the ones below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Pull.
    Read,
    /// Pull, push, change tags.
    Write,
    /// Everything, including permissions, visibility and deletion.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Self; 3] = [Self::Read, Self::Write, Self::Admin];

    /// Quay's name for the role.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }

    /// The role named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == name)
    }
}

/// A team's role in its organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TeamRole {
    /// Belongs to the organization.
    Member,
    /// May create repositories in the organization.
    Creator,
    /// Administers the organization and every repository in it.
    Admin,
}

impl TeamRole {
    /// Every team role, lowest first.
    pub const ALL: [Self; 3] = [Self::Member, Self::Creator, Self::Admin];

    /// Quay's name for the team role.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Creator => "creator",
            Self::Admin => "admin",
        }
    }

    /// The team role named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == name)
    }
}

/// Whether anyone may read a repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Readable by everyone.
    Public,
    /// Readable by those granted access.
    Private,
}

impl Visibility {
    /// Quay's name for the visibility.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }

    /// The visibility named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "public" => Some(Self::Public),
            "private" => Some(Self::Private),
            _ => None,
        }
    }
}

/// Standing of a user among the superusers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Superuser {
    /// An ordinary user.
    No,
    /// A global read-only superuser (`GLOBAL_READONLY_SUPER_USERS`).
    ReadOnly,
    /// A superuser (`SUPER_USERS`).
    Yes,
}

/// Who acts, as the rules see them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    /// Nobody authenticated.
    Anonymous,
    /// A user.
    User(Superuser),
    /// A robot account.
    Robot,
}

/// What a subject wants to do to a repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RepositoryAction {
    /// Read manifests, blobs and tags.
    Read,
    /// Push, change or delete tags.
    Write,
    /// Change permissions, visibility, settings; delete the repository.
    Admin,
}

impl RepositoryAction {
    /// The role the action needs.
    pub fn required_role(self) -> Role {
        match self {
            Self::Read => Role::Read,
            Self::Write => Role::Write,
            Self::Admin => Role::Admin,
        }
    }
}

/// What a subject wants to do in a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NamespaceAction {
    /// See the organization, its teams (as a member).
    View,
    /// Create repositories (through the API or by pushing).
    CreateRepository,
    /// Administer the organization: teams, robots, members, default permissions, logs.
    Administer,
}

/// Switches of the deployment that change the decisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PermissionSettings {
    /// `FEATURE_ANONYMOUS_ACCESS` (default true): anonymous callers may read public
    /// repositories.
    pub anonymous_access: bool,
    /// `FEATURE_SUPERUSERS_FULL_ACCESS` (default false): superusers may do anything
    /// anywhere.
    pub superusers_full_access: bool,
    /// `CREATE_NAMESPACE_ON_PUSH` (default false): a user's push to a namespace that does
    /// not exist creates it.
    pub create_namespace_on_push: bool,
    /// `FEATURE_PUBLIC_CATALOG` (default false): anonymous callers see the public
    /// repositories in `/v2/_catalog`.
    pub public_catalog: bool,
    /// Who may read a repository created by a push, or by a pull through a proxy cache
    /// organization (`CREATE_PRIVATE_REPO_ON_PUSH`: private).
    pub push_visibility: Visibility,
}

impl Default for PermissionSettings {
    fn default() -> Self {
        Self {
            anonymous_access: true,
            superusers_full_access: false,
            create_namespace_on_push: false,
            public_catalog: false,
            push_visibility: Visibility::Private,
        }
    }
}

/// Where a subject stands in a namespace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NamespaceFacts {
    /// The namespace is the subject's own (a user's namespace).
    pub owner: bool,
    /// The highest team role the subject holds in the namespace (an organization).
    pub team_role: Option<TeamRole>,
    /// The namespace is a proxy cache organization.
    pub proxy_cache: bool,
}

/// Where a subject stands with an existing repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RepositoryFacts {
    /// The repository's visibility.
    pub visibility: Visibility,
    /// The subject's standing in the repository's namespace.
    pub namespace: NamespaceFacts,
    /// The subject's own permission on the repository.
    pub direct_role: Option<Role>,
    /// The highest permission on the repository of a team the subject is in.
    pub team_role: Option<Role>,
}
