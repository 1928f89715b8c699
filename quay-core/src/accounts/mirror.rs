//! Repository mirrors' configurations and their sync requests, all for the repository's
//! administrators (Quay's `endpoints/api/mirror.py`), each change in the usage log; and the
//! repository state (`changestate`).

use std::sync::Arc;

use super::tenancy::Accounts;
use crate::access::Caller;
use crate::account::{AccountKind, AccountRecord, Grantee};
use crate::audit::LogKind;
use crate::error::{Error, Result};
use crate::mirror::{CheckedMirror, CredentialsChange, MirrorConfig, MirrorRequest, SyncSchedule};
use crate::names::RepositoryPath;
use crate::permission::{RepositoryAction, Role};
use crate::ports::{MirrorSave, StoredMirror, Upstream};
use crate::repository::{Repository, RepositoryState};

impl Accounts {
    /// Checks mirrors' upstreams against the outbound rules through `upstream`; without it
    /// mirroring is off (`FEATURE_REPO_MIRROR`).
    pub fn with_mirroring(mut self, upstream: Arc<dyn Upstream>) -> Self {
        self.mirroring = Some(upstream);
        self
    }

    /// The mirror of the repository at `path`.
    pub async fn mirror(&self, caller: &Caller, path: &RepositoryPath) -> Result<StoredMirror> {
        let repository = self.mirror_admin(caller, path).await?;
        self.existing_mirror(&repository).await
    }

    /// Makes the repository at `path` a mirror as `request` says: its state becomes
    /// `MIRROR`, its robot gets write if it lacks it.
    pub async fn create_mirror(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        request: MirrorRequest,
    ) -> Result<StoredMirror> {
        let repository = self.mirror_admin(caller, path).await?;
        if self.mirrors.mirror(repository.id).await?.is_some() {
            return Err(Error::AlreadyExists(
                "Mirror configuration already exits for repository".into(),
            ));
        }
        let checked = MirrorConfig::create(request)?;
        let start_ms = checked.sync_start_ms.unwrap_or_else(|| self.now_ms());
        self.save(caller, &repository, checked, true, Some(start_ms))
            .await?;
        self.existing_mirror(&repository).await
    }

    /// Changes the mirror of the repository at `path` as `request` says (the fields it
    /// names).
    pub async fn update_mirror(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        request: MirrorRequest,
    ) -> Result<StoredMirror> {
        let repository = self.mirror_admin(caller, path).await?;
        let current = self.existing_mirror(&repository).await?;
        let checked = current.config.update(request, current.has_credentials)?;
        let start = checked.sync_start_ms;
        self.save(caller, &repository, checked, false, start)
            .await?;
        self.existing_mirror(&repository).await
    }

    /// Asks for a sync now (Quay's `sync-now`); refused while one runs.
    pub async fn sync_mirror_now(&self, caller: &Caller, path: &RepositoryPath) -> Result<()> {
        self.change_mirror_schedule(caller, path, "SYNC_NOW", SyncSchedule::asked_now)
            .await
    }

    /// Cancels a running or asked-for sync (Quay's `sync-cancel`).
    pub async fn cancel_mirror_sync(&self, caller: &Caller, path: &RepositoryPath) -> Result<()> {
        self.change_mirror_schedule(caller, path, "SYNC_CANCEL", SyncSchedule::cancelled)
            .await
    }

    /// Sets the state of the repository at `path` (Quay's `changestate`): `MIRROR` needs a
    /// mirror configuration.
    pub async fn change_repository_state(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        state: RepositoryState,
    ) -> Result<()> {
        let repository = self.mirror_admin(caller, path).await?;
        if state == RepositoryState::Mirror && self.mirrors.mirror(repository.id).await?.is_none() {
            return Err(Error::InvalidRequest(
                "a repository becomes a mirror with a mirror configuration".into(),
            ));
        }
        let audit = self
            .entry(&caller.actor, LogKind::ChangeRepoState)
            .repository(&repository)
            .meta("state_changed", state.name());
        self.mirrors
            .set_repository_state(&repository, state, audit)
            .await
    }

    /// The repository at `path`, once `caller` administers it and mirroring is on.
    async fn mirror_admin(&self, caller: &Caller, path: &RepositoryPath) -> Result<Repository> {
        if self.mirroring.is_none() {
            return Err(Error::InvalidRequest(
                "FEATURE_REPO_MIRROR is off: repositories are not mirrored".into(),
            ));
        }
        let details = self
            .repository_for(&caller.identity, path, RepositoryAction::Admin)
            .await?;
        Ok(details.repository)
    }

    async fn existing_mirror(&self, repository: &Repository) -> Result<StoredMirror> {
        self.mirrors
            .mirror(repository.id)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "mirror configuration of",
                name: repository.path.to_string(),
            })
    }

    /// Saves a checked configuration: the robot must be the namespace's (it gets write on
    /// the repository if it lacks it), the upstream must be one the registry may reach, the
    /// credentials are sealed.
    async fn save(
        &self,
        caller: &Caller,
        repository: &Repository,
        checked: CheckedMirror,
        create: bool,
        sync_start_ms: Option<i64>,
    ) -> Result<()> {
        let robot = self.mirror_robot(repository, &checked.config).await?;
        if let Some(upstream) = &self.mirroring {
            upstream
                .check_permitted(&checked.config.endpoint.reference.registry)
                .await
                .map_err(|error| error.in_field("external_reference"))?;
        }
        let sealed_credentials = match checked.credentials {
            CredentialsChange::Keep => None,
            CredentialsChange::Clear => Some(None),
            CredentialsChange::Set(credentials) => {
                let sealer = self.sealer.as_ref().ok_or_else(|| {
                    Error::InvalidRequest(
                        "this registry has no key to seal upstream credentials with \
                         (DATABASE_SECRET_KEY)"
                            .into(),
                    )
                })?;
                Some(Some(sealer.seal(&credentials.to_sealable())?))
            }
        };
        self.grant_write(caller, repository, &robot).await?;
        let config = &checked.config;
        let mut audit = vec![
            self.entry(&caller.actor, LogKind::RepoMirrorConfigChanged)
                .repository(repository)
                .meta("changed", checked.changed.join(", "))
                .meta("to", config.endpoint.reference.to_string()),
        ];
        if create {
            audit.push(
                self.entry(&caller.actor, LogKind::RepoMirrorEnabled)
                    .repository(repository)
                    .meta("namespace", repository.path.namespace.as_str())
                    .meta("repo", repository.path.name.as_str()),
            );
        }
        let save = MirrorSave {
            config: checked.config,
            robot: robot.id,
            sealed_credentials,
            sync_start_ms,
        };
        self.mirrors
            .save_mirror(repository, save, create, audit, self.now_ms())
            .await
    }

    /// The configuration's robot, which must be one of the repository's namespace.
    async fn mirror_robot(
        &self,
        repository: &Repository,
        config: &MirrorConfig,
    ) -> Result<AccountRecord> {
        let invalid = || Error::InvalidRequest("Invalid robot".into());
        if config.robot.owner != repository.path.namespace {
            return Err(invalid());
        }
        match self.directory.account(&config.robot.to_string()).await? {
            Some(robot) if robot.kind == AccountKind::Robot => Ok(robot),
            _ => Err(invalid()),
        }
    }

    /// Grants the robot write on the repository unless it has write already (Quay does the
    /// same: a mirror's robot pushes).
    async fn grant_write(
        &self,
        caller: &Caller,
        repository: &Repository,
        robot: &AccountRecord,
    ) -> Result<()> {
        let grantee = Grantee::Account(robot.id);
        let held = self
            .directory
            .repository_permissions(repository.id)
            .await?
            .into_iter()
            .find(|permission| permission.grantee == grantee)
            .map(|permission| permission.role);
        if held >= Some(Role::Write) {
            return Ok(());
        }
        let audit = self
            .entry(&caller.actor, LogKind::ChangeRepoPermission)
            .repository(repository)
            .meta("username", robot.name.as_str())
            .meta("role", Role::Write.as_str());
        self.directory
            .set_permission(repository.id, &grantee, Role::Write, audit)
            .await
    }

    async fn change_mirror_schedule(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        to: &str,
        change: fn(&SyncSchedule) -> Option<SyncSchedule>,
    ) -> Result<()> {
        let repository = self.mirror_admin(caller, path).await?;
        let mirror = self.existing_mirror(&repository).await?;
        let refused = || Error::NotFound {
            what: "sync to change of",
            name: format!("{path} ({})", mirror.schedule.status.name()),
        };
        let next = change(&mirror.schedule).ok_or_else(refused)?;
        let audit = self
            .entry(&caller.actor, LogKind::RepoMirrorConfigChanged)
            .repository(&repository)
            .meta("changed", "sync_status")
            .meta("to", to);
        if self
            .mirrors
            .change_schedule(repository.id, &mirror.schedule, &next, vec![audit])
            .await?
        {
            Ok(())
        } else {
            Err(refused())
        }
    }
}
