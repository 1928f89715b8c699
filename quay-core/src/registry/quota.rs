//! Holding pushes to their namespace's quota.
//!
//! Manifests are judged by the store, inside the transaction that adds them, because only
//! there is the size they bring the namespace to known exactly; every manifest push is
//! judged, also one that adds nothing, as in Quay: a namespace at its Reject limit takes no
//! push until it is cleaned up or its quota raised. Uploads (and mounts) are judged here, at
//! start and after each chunk, on the namespace's size plus the repository's open uploads:
//! an upload that reaches a Reject limit is cancelled and its bytes discarded.

use super::stores::Registry;
use crate::audit::{Actor, LogKind};
use crate::error::{Error, Result};
use crate::ports::{Repository, UploadSession};
use crate::quota::{LimitKind, Reached};

impl Registry {
    /// Refuses an upload to a namespace that its open uploads have brought to a Reject
    /// limit.
    pub(super) async fn check_upload_quota(
        &self,
        repository: &Repository,
        actor: &Actor,
    ) -> Result<()> {
        if !self.settings.quota.enforced() {
            return Ok(());
        }
        let Some((size, quota)) = self.accounts.upload_usage(repository).await? else {
            return Ok(());
        };
        match self.settings.quota.judge(quota.as_ref(), size) {
            Some(reached) if reached.limit.kind == LimitKind::Reject => {
                self.quota_reached(repository, reached, actor).await?;
                Err(Error::QuotaExceeded(reached))
            }
            _ => Ok(()),
        }
    }

    /// [`Self::check_upload_quota`] for an upload in progress, which a refusal cancels.
    pub(super) async fn check_upload_in_progress(
        &self,
        repository: &Repository,
        session: &UploadSession,
        actor: &Actor,
    ) -> Result<()> {
        let refusal = match self.check_upload_quota(repository, actor).await {
            Err(refusal @ Error::QuotaExceeded(_)) => refusal,
            other => return other,
        };
        self.uploads.discard(&session.id, &session.parts).await?;
        self.upload_sessions
            .remove_upload(repository.id, &session.id)
            .await?;
        Err(refusal)
    }

    /// Tells the namespace's admins, and the usage log, that a push reached a limit.
    pub(super) async fn quota_reached(
        &self,
        repository: &Repository,
        reached: Reached,
        actor: &Actor,
    ) -> Result<()> {
        let now_ms = self.now_ms();
        let kind = match reached.limit.kind {
            LimitKind::Warning => LogKind::QuotaWarning,
            LimitKind::Reject => LogKind::QuotaError,
        };
        let audit = actor
            .entry(kind, now_ms)
            .repository(repository)
            .meta("namespace", repository.path.namespace.as_str())
            .meta("threshold_percent", reached.limit.threshold_percent)
            .meta("usage_bytes", reached.size)
            .meta("limit_bytes", reached.limit_bytes);
        self.accounts
            .record_quota_reached(
                repository.namespace,
                reached,
                audit,
                &self.settings.site,
                now_ms,
            )
            .await
    }
}
