//! Who may do what: the whole permission decision, as pure functions of facts.
//!
//! The rules are Quay's (`auth/permissions.py`). A subject's effective role on a repository
//! is the highest role any source gives it:
//!
//! | source | role |
//! |---|---|
//! | a permission on the repository, for the subject itself | that role |
//! | a permission on the repository, for a team the subject is in | that role |
//! | membership of a team with the `admin` team role in the owning organization | admin |
//! | owning the namespace (a user's own namespace) | admin |
//! | a public repository (anyone; anonymous only with `FEATURE_ANONYMOUS_ACCESS`) | read |
//! | a global read-only superuser | read |
//! | a superuser, with `FEATURE_SUPERUSERS_FULL_ACCESS` | admin |
//!
//! Reading needs read, pushing and deleting need write, administering needs admin. A
//! repository that does not exist yet may be created (by a push) by whoever may create
//! repositories in its namespace: the namespace's owner, members of an organization team
//! with the `creator` or `admin` team role, and full-access superusers.
//!
//! The stores gather the [`RepositoryFacts`] and [`NamespaceFacts`] in one query; the
//! frontends decide the status of a denial (401 or 403) from who asked.

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
}

impl Default for PermissionSettings {
    fn default() -> Self {
        Self {
            anonymous_access: true,
            superusers_full_access: false,
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

/// The highest role `subject` has on a repository, if any.
pub fn effective_role(
    subject: Subject,
    facts: &RepositoryFacts,
    settings: PermissionSettings,
) -> Option<Role> {
    let public_read = (facts.visibility == Visibility::Public
        && (subject != Subject::Anonymous || settings.anonymous_access))
        .then_some(Role::Read);
    // Anonymous callers hold nothing but what public visibility gives everyone.
    if subject == Subject::Anonymous {
        return public_read;
    }
    let full_access_superuser =
        subject == Subject::User(Superuser::Yes) && settings.superusers_full_access;
    [
        facts.direct_role,
        facts.team_role,
        (facts.namespace.team_role == Some(TeamRole::Admin)).then_some(Role::Admin),
        facts.namespace.owner.then_some(Role::Admin),
        full_access_superuser.then_some(Role::Admin),
        (subject == Subject::User(Superuser::ReadOnly)).then_some(Role::Read),
        public_read,
    ]
    .into_iter()
    .flatten()
    .max()
}

/// Whether `subject` may do `action` to an existing repository.
pub fn may_on_repository(
    subject: Subject,
    action: RepositoryAction,
    facts: &RepositoryFacts,
    settings: PermissionSettings,
) -> bool {
    effective_role(subject, facts, settings).is_some_and(|role| role >= action.required_role())
}

/// Whether `subject` may do `action` in a namespace.
pub fn may_in_namespace(
    subject: Subject,
    action: NamespaceAction,
    facts: &NamespaceFacts,
    settings: PermissionSettings,
) -> bool {
    if subject == Subject::Anonymous {
        return false;
    }
    if subject == Subject::User(Superuser::Yes) && settings.superusers_full_access {
        return true;
    }
    match action {
        NamespaceAction::View => facts.owner || facts.team_role.is_some(),
        NamespaceAction::CreateRepository => {
            facts.owner || facts.team_role >= Some(TeamRole::Creator)
        }
        NamespaceAction::Administer => facts.owner || facts.team_role == Some(TeamRole::Admin),
    }
}

#[cfg(test)]
mod tests;
