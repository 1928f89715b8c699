//! The tag API's use cases: history, create and move, restore, expiration, immutability and
//! permanent deletion. Each reads the tag's rows, lets [`crate::tag`] decide, and hands the
//! decision to the store, which applies it only if the tag has not changed in between.

use std::sync::Arc;

use bytes::Bytes;

use super::stores::Registry;
use crate::access::Caller;
use crate::audit::{Actor, AuditEntry, LogKind};
use crate::error::{Error, Result};
use crate::manifest;
use crate::names::{Digest, RepositoryPath, TagName};
use crate::permission::RepositoryAction;
use crate::ports::{
    ManifestLabel, Repository, StoredManifest, TagChange, TagHistoryQuery, TagLifetime,
};
use crate::tag::{self as rules, Retarget, TagRow, Target};

/// What to change about a tag; each given part is applied, in this order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagEdit {
    /// When the alive tag expires (epoch milliseconds), `Some(None)` to clear it.
    pub expiration_ms: Option<Option<i64>>,
    /// Makes the alive tag immutable, or (the repository's admins only) mutable again.
    pub immutable: Option<bool>,
    /// Points the tag, creating it if needed, at this alive manifest of the repository.
    pub target: Option<Digest>,
}

/// A page of tag history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagHistoryPage {
    /// The lifetimes on the page.
    pub lifetimes: Vec<TagLifetime>,
    /// Whether more follow.
    pub has_additional: bool,
}

impl Registry {
    /// The alive manifest `digest` with its labels, for the API (not a pull: not logged).
    pub async fn manifest_with_labels(
        &self,
        path: &RepositoryPath,
        digest: &Digest,
        caller: &Caller,
    ) -> Result<(Arc<StoredManifest>, Vec<ManifestLabel>)> {
        let manifest = self.readable_manifest(path, digest, caller).await?;
        let labels = self.manifest_details.manifest_labels(manifest.id).await?;
        Ok((manifest, labels))
    }

    /// The alive manifest `digest`, once `caller` may read the repository.
    async fn readable_manifest(
        &self,
        path: &RepositoryPath,
        digest: &Digest,
        caller: &Caller,
    ) -> Result<Arc<StoredManifest>> {
        self.permit(caller, path, RepositoryAction::Read).await?;
        let repository = self.existing(path).await?;
        let live = self
            .manifests
            .live_manifest(repository.id, digest, self.now_ms())
            .await?
            .ok_or(Error::ManifestUnknown)?;
        Ok(live.manifest)
    }

    /// The image configuration of the alive image manifest `digest` (its entrypoint,
    /// environment, history), for the API; `None` for an index or an artifact whose config
    /// is not an image's.
    pub async fn image_configuration(
        &self,
        path: &RepositoryPath,
        digest: &Digest,
        caller: &Caller,
    ) -> Result<Option<Bytes>> {
        let manifest = self.readable_manifest(path, digest, caller).await?;
        let parsed = manifest::parse(
            &manifest.bytes,
            Some(manifest.media_type.as_str()),
            digest.algorithm(),
        )?;
        self.image_config_bytes(&parsed).await
    }

    /// A page of the repository's visible tag lifetimes, newest first.
    pub async fn tag_history(
        &self,
        path: &RepositoryPath,
        query: TagHistoryQuery,
        caller: &Caller,
    ) -> Result<TagHistoryPage> {
        self.permit(caller, path, RepositoryAction::Read).await?;
        let repository = self.existing(path).await?;
        let limit = query.limit;
        let one_more = TagHistoryQuery {
            limit: limit + 1,
            ..query
        };
        let mut lifetimes = self
            .tag_history
            .tag_history(repository.id, &one_more, self.now_ms())
            .await?;
        let has_additional = lifetimes.len() > limit as usize;
        lifetimes.truncate(limit as usize);
        Ok(TagHistoryPage {
            lifetimes,
            has_additional,
        })
    }

    /// Changes a tag as `edit` says: expiration, immutability, target (writers; making a tag
    /// mutable again takes an admin).
    pub async fn change_tag(
        &self,
        path: &RepositoryPath,
        tag: &TagName,
        edit: TagEdit,
        caller: &Caller,
    ) -> Result<()> {
        let needed = if edit.immutable == Some(false) {
            RepositoryAction::Admin
        } else {
            RepositoryAction::Write
        };
        self.permit(caller, path, needed).await?;
        let actor = &caller.actor;
        if let Some(end_ms) = edit.expiration_ms {
            self.change_tag_expiration(path, tag, end_ms, actor).await?;
        }
        if let Some(immutable) = edit.immutable {
            self.set_tag_immutability(path, tag, immutable, actor)
                .await?;
        }
        if let Some(digest) = edit.target {
            self.set_tag(path, tag, &digest, actor).await?;
        }
        Ok(())
    }

    /// Points `tag` at the manifest `digest`, which must be alive in the repository
    /// (`create_tag`, or `move_tag` when the tag was alive).
    async fn set_tag(
        &self,
        path: &RepositoryPath,
        tag: &TagName,
        digest: &Digest,
        actor: &Actor,
    ) -> Result<()> {
        let repository = self.writable(path, actor).await?;
        let now_ms = self.now_ms();
        let live = self
            .manifests
            .live_manifest(repository.id, digest, now_ms)
            .await?
            .ok_or(Error::ManifestUnknown)?;
        let rows = self.tag_history.tag_rows(repository.id, tag).await?;
        let alive = alive(&rows, now_ms);
        let entry = match alive {
            Some((_, original)) => actor
                .entry(LogKind::MoveTag, now_ms)
                .meta("original_manifest_digest", original.as_str()),
            None => actor.entry(LogKind::CreateTag, now_ms),
        };
        let entry = tag_entry(entry, &repository, tag).meta("manifest_digest", digest.as_str());
        let target = Target {
            manifest_id: live.manifest.id,
            ..Target::default()
        };
        self.retarget(&repository, tag, &rows, target, vec![entry], now_ms)
            .await
    }

    /// Restores `tag` to the manifest `digest` it once pointed to (`revert_tag`). The
    /// manifest must still be in the repository: after the time-machine window and a
    /// garbage collection it is gone, and the restore is refused.
    pub async fn restore_tag(
        &self,
        path: &RepositoryPath,
        tag: &TagName,
        digest: &Digest,
        caller: &Caller,
    ) -> Result<()> {
        self.permit(caller, path, RepositoryAction::Write).await?;
        let repository = self.writable(path, &caller.actor).await?;
        let now_ms = self.now_ms();
        let manifest_id = self
            .tag_history
            .manifest_in_repository(repository.id, digest)
            .await?
            .ok_or(Error::ManifestUnknown)?;
        let rows = self.tag_history.tag_rows(repository.id, tag).await?;
        let entry = tag_entry(
            caller.actor.entry(LogKind::RevertTag, now_ms),
            &repository,
            tag,
        )
        .meta("manifest_digest", digest.as_str());
        let target = Target {
            manifest_id,
            reversion: true,
            ..Target::default()
        };
        self.retarget(&repository, tag, &rows, target, vec![entry], now_ms)
            .await
    }

    /// The repository, which must take `actor`'s changes, the tag's rows, and the moment
    /// they were read.
    async fn tag_state(
        &self,
        path: &RepositoryPath,
        tag: &TagName,
        actor: &Actor,
    ) -> Result<(Repository, Vec<TagRow>, i64)> {
        let repository = self.writable(path, actor).await?;
        let now_ms = self.now_ms();
        let rows = self.tag_history.tag_rows(repository.id, tag).await?;
        Ok((repository, rows_only(&rows), now_ms))
    }

    /// Points `tag` (whose rows are `rows`) at `target`, recording `audit`; nothing when it
    /// points there already.
    pub(super) async fn retarget(
        &self,
        repository: &Repository,
        tag: &TagName,
        rows: &[(TagRow, Digest)],
        target: Target,
        audit: Vec<AuditEntry>,
        now_ms: i64,
    ) -> Result<()> {
        let history = rows_only(rows);
        let Retarget::Move { close, open } =
            rules::retarget(tag.as_str(), &history, target, now_ms)?
        else {
            return Ok(());
        };
        let change = TagChange {
            closings: close.into_iter().collect(),
            opening: Some(open),
            ..based_on(tag, &history)
        };
        self.tags
            .apply_tag_change(repository.id, change, audit, now_ms)
            .await
    }

    /// Sets the moment the alive `tag` expires (epoch milliseconds), or with `None` clears
    /// it, clamped to the configured limits (`change_tag_expiration`).
    pub async fn change_tag_expiration(
        &self,
        path: &RepositoryPath,
        tag: &TagName,
        end_ms: Option<i64>,
        actor: &Actor,
    ) -> Result<()> {
        let (repository, history, now_ms) = self.tag_state(path, tag, actor).await?;
        let limits = self.settings.expiration_limits;
        let change = rules::change_expiration(tag.as_str(), &history, end_ms, now_ms, limits)?;
        if change.old_end_ms == change.new_end_ms {
            return Ok(());
        }
        let entry = tag_entry(
            actor.entry(LogKind::ChangeTagExpiration, now_ms),
            &repository,
            tag,
        )
        .meta("expiration_date", change.new_end_ms.map(|ms| ms / 1000))
        .meta("old_expiration_date", change.old_end_ms.map(|ms| ms / 1000));
        let tag_change = TagChange {
            expirations: vec![(change.row_id, change.new_end_ms)],
            ..based_on(tag, &history)
        };
        self.tags
            .apply_tag_change(repository.id, tag_change, vec![entry], now_ms)
            .await
    }

    /// Makes the alive `tag` immutable or mutable again (`change_tag_immutability`). A tag
    /// with an expiration cannot become immutable unless immutable tags may expire.
    async fn set_tag_immutability(
        &self,
        path: &RepositoryPath,
        tag: &TagName,
        immutable: bool,
        actor: &Actor,
    ) -> Result<()> {
        let (repository, history, now_ms) = self.tag_state(path, tag, actor).await?;
        let Some(row) = history.iter().find(|row| row.is_alive(now_ms)) else {
            return Err(Error::NotFound {
                what: "tag",
                name: tag.to_string(),
            });
        };
        if row.immutable == immutable {
            return Ok(());
        }
        if immutable
            && row.end_ms.is_some()
            && !self.settings.expiration_limits.immutable_can_expire
        {
            return Err(Error::InvalidRequest(format!(
                "tag {tag} has an expiration and cannot be made immutable"
            )));
        }
        let entry = tag_entry(
            actor.entry(LogKind::ChangeTagImmutability, now_ms),
            &repository,
            tag,
        )
        .meta("immutable", immutable);
        let change = TagChange {
            immutability: Some((row.id, immutable)),
            ..based_on(tag, &history)
        };
        self.tags
            .apply_tag_change(repository.id, change, vec![entry], now_ms)
            .await
    }

    /// Takes `tag`'s lifetimes on the manifest `digest` out of the time machine, so the
    /// next garbage collection removes them (`permanently_delete_tag`): the alive one with
    /// `alive` (on whatever manifest it points to, without a `digest`), otherwise those
    /// that ended within the namespace's window. Whether any was.
    pub async fn remove_tag_from_time_machine(
        &self,
        path: &RepositoryPath,
        tag: &TagName,
        digest: Option<&Digest>,
        alive: bool,
        caller: &Caller,
    ) -> Result<bool> {
        self.permit(caller, path, RepositoryAction::Write).await?;
        let repository = self.writable(path, &caller.actor).await?;
        let now_ms = self.now_ms();
        let namespace = self
            .accounts
            .namespace(&path.namespace)
            .await?
            .ok_or(Error::RepositoryUnknown)?;
        let rows = self.tag_history.tag_rows(repository.id, tag).await?;
        let digest = match (digest, alive) {
            (Some(digest), _) => digest,
            (None, true) => match self::alive(&rows, now_ms) {
                Some((_, digest)) => digest,
                None => return Ok(false),
            },
            (None, false) => {
                return Err(Error::InvalidRequest("Missing manifest_digest".into()));
            }
        };
        let Some(manifest_id) = self
            .tag_history
            .manifest_in_repository(repository.id, digest)
            .await?
        else {
            return Ok(false);
        };
        let history = rows_only(&rows);
        let window_ms = namespace.tag_expiration_s.saturating_mul(1000);
        let closings =
            rules::remove_from_time_machine(&history, manifest_id, alive, now_ms, window_ms);
        if closings.is_empty() {
            return Ok(false);
        }
        let entry = tag_entry(
            caller.actor.entry(LogKind::PermanentlyDeleteTag, now_ms),
            &repository,
            tag,
        )
        .meta("manifest_digest", digest.as_str());
        let change = TagChange {
            closings,
            ..based_on(tag, &history)
        };
        self.tags
            .apply_tag_change(repository.id, change, vec![entry], now_ms)
            .await?;
        Ok(true)
    }
}

/// An entry about `tag` of `repository`, with the fields Quay's tag entries carry.
fn tag_entry(entry: AuditEntry, repository: &Repository, tag: &TagName) -> AuditEntry {
    entry.repository(repository).meta("tag", tag.as_str())
}

fn rows_only(rows: &[(TagRow, Digest)]) -> Vec<TagRow> {
    rows.iter().map(|(row, _)| row.clone()).collect()
}

fn alive(rows: &[(TagRow, Digest)], now_ms: i64) -> Option<&(TagRow, Digest)> {
    rows.iter().find(|(row, _)| row.is_alive(now_ms))
}

/// An empty change of `tag`, conditional on its newest row being `history`'s first.
pub(super) fn based_on(tag: &TagName, history: &[TagRow]) -> TagChange {
    TagChange {
        name: tag.clone(),
        based_on: history.first().map(|row| (row.id, row.end_ms)),
        closings: Vec::new(),
        opening: None,
        expirations: Vec::new(),
        immutability: None,
    }
}
