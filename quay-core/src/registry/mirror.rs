//! Repository mirroring's sync: a claimed mirror's matching upstream tags copied by digest
//! through the same [`Upstream`] port as the proxy cache, every blob verified as it is
//! stored, each tag moved in one step once all it needs is here; and the writes a mirror's
//! state refuses.
//!
//! A tag's copy is all or nothing: blobs and child manifests first (they are harmless
//! without a tag), then the manifest and the tag in one transaction. A sync that dies half
//! way leaves each tag as it was or as upstream has it, never between. Referrers (OCI 1.1
//! `subject`s, from the referrers API or its `sha256-<hex>` tag, and cosign's
//! `sha256-<hex>.sig`/`.att`/`.sbom` tags) come with each manifest; an index is narrowed to
//! the configured platforms and says which upstream digest it came from.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::TryStreamExt;

use super::proxied::parse_upstream;
use super::stores::Registry;
use crate::access::Caller;
use crate::audit::{Actor, AuditEntry, LogKind, Performer};
use crate::error::{Error, Result};
use crate::events::{Event, EventKind};
use crate::manifest;
use crate::mirror::{
    self as rules, SyncControl, SyncEnd, SyncReport, TagAction, TagOutcome, cosign_tags,
    matching_tags, narrow_index, source_digest,
};
use crate::names::{Digest, Reference, RepositoryPath, TagName};
use crate::permission::RepositoryAction;
use crate::ports::{
    BlobInfo, ClaimedMirror, NewManifest, StoredMirror, TagPlacement, TagResolution, Upstream,
    UpstreamOrigin, UpstreamSource,
};
use crate::repository::{Repository, RepositoryState};
use crate::upstream::{Transport, UpstreamEndpoint, UpstreamFailure, UpstreamProblem};

/// A sync's plan: each matching upstream tag with the digest it names and what to do
/// with it.
type Plan = Vec<(TagName, TagAction, Option<Digest>)>;

/// What a copied manifest is to the mirror.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Copied {
    /// What a tag names: an index is narrowed to the platforms; its referrers come along.
    Tagged,
    /// A child of an index: its referrers come along (per-platform signatures, SBOMs).
    Child,
    /// A referrer or a signature: copied as it is.
    Companion,
}

/// One sync's work on one repository.
struct Sync<'a> {
    registry: &'a Registry,
    upstream: &'a dyn Upstream,
    mirror: &'a StoredMirror,
    source: UpstreamSource,
    /// The robot, as the pushes' performer.
    actor: Actor,
    /// The tags the upstream lists, once [`Sync::plan`] read them (cosign's tags are
    /// among them).
    listed: Vec<String>,
}

impl Registry {
    /// Repository mirrors sync through `upstream` (`FEATURE_REPO_MIRROR`).
    pub fn with_mirroring(mut self, upstream: Arc<dyn Upstream>) -> Self {
        self.mirroring = Some(upstream);
        self
    }

    /// Whether mirrors sync here.
    pub fn mirrors_enabled(&self) -> bool {
        self.mirroring.is_some()
    }

    /// Refuses to change the tags of a repository whose state does not allow `actor` to:
    /// read-only ones, and mirrors, whose tags only their sync and robot change.
    pub(super) async fn refuse_unwritable(
        &self,
        repository: &Repository,
        actor: &Actor,
    ) -> Result<()> {
        match repository.state {
            RepositoryState::Normal => Ok(()),
            RepositoryState::ReadOnly => Err(Error::RepositoryNotWritable {
                state: RepositoryState::ReadOnly.name(),
                detail: format!("{} takes no changes", repository.path),
            }),
            RepositoryState::Mirror => {
                let mirror = self.mirrors.mirror(repository.id).await?;
                match mirror {
                    Some(mirror) if actor.account() == Some(mirror.robot) => Ok(()),
                    mirror => Err(Error::RepositoryNotWritable {
                        state: RepositoryState::Mirror.name(),
                        detail: match mirror {
                            Some(mirror) => format!(
                                "{} mirrors {}; only its mirror robot {} pushes to it",
                                repository.path,
                                mirror.config.endpoint.reference,
                                mirror.config.robot
                            ),
                            None => format!("{} is a mirror", repository.path),
                        },
                    }),
                }
            }
        }
    }

    /// The repository at `path`, which must exist and take `actor`'s changes.
    pub(super) async fn writable(
        &self,
        path: &RepositoryPath,
        actor: &Actor,
    ) -> Result<Repository> {
        let repository = self.existing(path).await?;
        self.refuse_unwritable(&repository, actor).await?;
        Ok(repository)
    }

    /// What a sync of the mirror of `path` would do now, changing nothing (its admins).
    pub async fn mirror_dry_run(
        &self,
        path: &RepositoryPath,
        caller: &Caller,
    ) -> Result<SyncReport> {
        self.permit(caller, path, RepositoryAction::Admin).await?;
        self.plan_mirror_sync(path).await
    }

    /// [`Registry::mirror_dry_run`] for the operator (`quay-bin mirror --dry-run`), who
    /// needs no permission.
    pub async fn plan_mirror_sync(&self, path: &RepositoryPath) -> Result<SyncReport> {
        let upstream = self.mirroring()?;
        let repository = self.existing(path).await?;
        let mirror = self
            .mirrors
            .mirror(repository.id)
            .await?
            .ok_or(Error::NotFound {
                what: "mirror configuration of",
                name: path.to_string(),
            })?;
        let started_ms = self.now_ms();
        let mut sync = Sync::new(self, upstream.as_ref(), &mirror);
        let (outcome, message, tags, failure_reason) = match sync.plan().await {
            Ok(plan) => (
                "dry run",
                format!("{} tags considered; nothing changed", plan.len()),
                plan.into_iter()
                    .map(|(tag, action, digest)| TagOutcome {
                        tag: tag.to_string(),
                        action,
                        digest: digest.map(|digest| digest.to_string()),
                        error: None,
                    })
                    .collect(),
                None,
            ),
            Err(error) => (
                "failed",
                reason(&error),
                Vec::new(),
                Some(failure_reason(&error)),
            ),
        };
        Ok(SyncReport {
            outcome: outcome.into(),
            message,
            started_ms,
            finished_ms: self.now_ms(),
            tags,
            failure_reason,
        })
    }

    /// The mirror of the repository at `path`, for the operator's worker.
    pub async fn mirror_of(&self, path: &RepositoryPath) -> Result<Option<StoredMirror>> {
        match self.repositories.find_repository(path).await? {
            Some(repository) => self.mirrors.mirror(repository.id).await,
            None => Ok(None),
        }
    }

    /// Runs a claimed sync to its end and releases the claim: the `repo_mirror_sync_*`
    /// events and entries, each tag's outcome, the next schedule. `control` is told to stop
    /// (by whoever renews the claim) when the sync was cancelled or the claim lost, which it
    /// reads between tags; it counts the tags left meanwhile.
    pub async fn run_mirror_sync(
        &self,
        claimed: &ClaimedMirror,
        control: &SyncControl,
    ) -> Result<SyncReport> {
        let upstream = self.mirroring()?;
        let mirror = &claimed.mirror;
        let repository = &mirror.repository;
        let started_ms = self.now_ms();
        let describe = mirror.config.endpoint.reference.to_string();
        let started = format!("Sync of {describe} started");
        self.mirrors
            .record_sync_event(
                repository.id,
                self.mirror_entry(mirror, LogKind::RepoMirrorSyncStarted, &started),
                Event::mirror_sync(
                    EventKind::RepoMirrorSyncStarted,
                    &self.settings.site,
                    &repository.path,
                    &started,
                ),
                started_ms,
            )
            .await?;
        let mut sync = Sync::new(self, upstream.as_ref(), mirror);
        let mut tags = Vec::new();
        let mut audit = Vec::new();
        let mut end = SyncEnd::Success;
        let mut first_failure = None;
        let message = match sync.plan().await {
            Err(error) => {
                end = SyncEnd::Failure;
                first_failure = Some(failure_reason(&error));
                format!("Sync of {describe} failed: {}", reason(&error))
            }
            Ok(plan) => {
                control.set_pending_tags(plan.len());
                for (tag, action, digest) in plan {
                    if control.stopping() {
                        end = SyncEnd::Cancelled;
                        break;
                    }
                    let outcome = sync.apply(&tag, action, digest.as_ref()).await;
                    control.tag_taken();
                    let (kind, action, error) = match outcome {
                        Ok(()) => (LogKind::RepoMirrorSyncTagSuccess, action, None),
                        Err(error) => {
                            end = SyncEnd::Failure;
                            first_failure.get_or_insert(failure_reason(&error));
                            (
                                LogKind::RepoMirrorSyncTagFailed,
                                TagAction::Failed,
                                Some(reason(&error)),
                            )
                        }
                    };
                    if action != TagAction::Unchanged {
                        audit.push(
                            self.mirror_entry(mirror, kind, error.as_deref().unwrap_or("synced"))
                                .meta("tag", tag.as_str()),
                        );
                    }
                    tags.push(TagOutcome {
                        tag: tag.to_string(),
                        action,
                        digest: digest.map(|digest| digest.to_string()),
                        error,
                    });
                }
                let failed = tags
                    .iter()
                    .filter(|tag| tag.action == TagAction::Failed)
                    .count();
                match end {
                    SyncEnd::Success => {
                        format!("Sync of {describe} succeeded: {} tags", tags.len())
                    }
                    SyncEnd::Cancelled => format!("Sync of {describe} cancelled"),
                    SyncEnd::Failure => format!(
                        "Sync of {describe} failed (PARTIAL SYNC): {failed} of {} tags failed",
                        tags.len()
                    ),
                }
            }
        };
        control.set_pending_tags(0);
        let finished_ms = self.now_ms();
        let report = SyncReport {
            outcome: match end {
                SyncEnd::Success => "success",
                SyncEnd::Failure => "failed",
                SyncEnd::Cancelled => "cancelled",
            }
            .into(),
            message: message.clone(),
            started_ms,
            finished_ms,
            tags,
            failure_reason: first_failure,
        };
        let next =
            mirror
                .schedule
                .released(end, mirror.config.sync_interval_s, started_ms, finished_ms);
        let (kind, event) = match end {
            SyncEnd::Success => (
                LogKind::RepoMirrorSyncSuccess,
                Some(EventKind::RepoMirrorSyncSuccess),
            ),
            SyncEnd::Failure => (
                LogKind::RepoMirrorSyncFailed,
                Some(EventKind::RepoMirrorSyncFailed),
            ),
            SyncEnd::Cancelled => (LogKind::RepoMirrorSyncFailed, None),
        };
        audit.push(self.mirror_entry(mirror, kind, &message));
        let event = event
            .map(|kind| Event::mirror_sync(kind, &self.settings.site, &repository.path, &message));
        self.mirrors
            .release_claim(claimed, &next, &report.to_json(), audit, event, finished_ms)
            .await?;
        Ok(report)
    }

    fn mirroring(&self) -> Result<Arc<dyn Upstream>> {
        self.mirroring.clone().ok_or_else(|| {
            Error::InvalidRequest("FEATURE_REPO_MIRROR is off: mirrors do not sync".into())
        })
    }

    /// A usage log entry of the mirror's sync, by nobody (the worker), with Quay's fields.
    fn mirror_entry(&self, mirror: &StoredMirror, kind: LogKind, message: &str) -> AuditEntry {
        let repository = &mirror.repository;
        Actor::system()
            .entry(kind, self.now_ms())
            .repository(repository)
            .meta("namespace", repository.path.namespace.as_str())
            .meta("repo", repository.path.name.as_str())
            .meta("message", message)
            .meta("verb", "sync")
    }
}

/// How a mirror reaches its upstream.
fn endpoint(mirror: &StoredMirror) -> UpstreamEndpoint {
    let endpoint = &mirror.config.endpoint;
    UpstreamEndpoint {
        host: endpoint.reference.registry.clone(),
        transport: if endpoint.verify_tls {
            Transport::Https
        } else {
            Transport::Unverified
        },
        proxy: endpoint.proxy.clone(),
    }
}

impl<'a> Sync<'a> {
    fn new(registry: &'a Registry, upstream: &'a dyn Upstream, mirror: &'a StoredMirror) -> Self {
        let source = UpstreamSource {
            origin: UpstreamOrigin::Mirror(mirror.repository.id),
            endpoint: endpoint(mirror),
            repository: mirror.config.endpoint.reference.repository.clone(),
        };
        let actor = Actor {
            performer: Some(Performer {
                account: mirror.robot,
                name: mirror.config.robot.to_string(),
                is_robot: true,
                credential: crate::audit::CredentialKind::RobotToken,
            }),
            ip: None,
            user_agent: Some("quay-rs repository mirror".into()),
        };
        Self {
            registry,
            upstream,
            mirror,
            source,
            actor,
            listed: Vec::new(),
        }
    }

    /// The upstream's matching tags against the local ones; keeps the upstream's listing.
    async fn plan(&mut self) -> Result<Plan> {
        self.upstream
            .check_permitted(&self.source.endpoint.host)
            .await?;
        self.listed = self.upstream.tags(&self.source).await?;
        let config = &self.mirror.config;
        let now_ms = self.registry.now_ms();
        let repository = self.mirror.repository.id;
        let mut upstream = BTreeMap::new();
        let mut local = BTreeMap::new();
        for tag in matching_tags(config, &self.listed)? {
            let reference = Reference::Tag(tag.clone());
            let digest = self
                .upstream
                .manifest_digest(&self.source, &reference)
                .await?;
            if let TagResolution::Alive(live) = self
                .registry
                .tags
                .resolve_tag(repository, &tag, now_ms)
                .await?
            {
                let held = &live.manifest;
                local.insert(tag.clone(), source_digest(&held.bytes, &held.digest));
            }
            upstream.insert(tag, digest);
        }
        let alive = if config.remove_stale_tags {
            self.registry
                .tags
                .list_tags(repository, now_ms)
                .await?
                .names
                .to_vec()
        } else {
            Vec::new()
        };
        Ok(rules::plan(&upstream, &local, &alive)
            .into_iter()
            .map(|(tag, action)| {
                let digest = upstream.get(&tag).cloned();
                (tag, action, digest)
            })
            .collect())
    }

    /// Does what the plan says for one tag.
    async fn apply(&self, tag: &TagName, action: TagAction, digest: Option<&Digest>) -> Result<()> {
        match (action, digest) {
            (TagAction::Copy | TagAction::Move, Some(digest)) => self.copy_tag(tag, digest).await,
            (TagAction::Remove, _) => self.remove_tag(tag).await,
            _ => Ok(()),
        }
    }

    /// Copies what upstream `tag` names (`digest`) and points the local tag at it.
    async fn copy_tag(&self, tag: &TagName, digest: &Digest) -> Result<()> {
        let placement = TagPlacement::Tag {
            name: tag.clone(),
            lifetime_ms: None,
            immutable: false,
        };
        let now_ms = self.registry.now_ms();
        let audit = self
            .actor
            .entry(LogKind::PushRepo, now_ms)
            .repository(&self.mirror.repository)
            .meta("tag", tag.as_str())
            .meta("mirrored_from", self.source.describe());
        let event = Event::repo_push(
            &self.registry.settings.site,
            &self.mirror.repository.path,
            std::slice::from_ref(tag),
        );
        self.copy_manifest(digest, placement, Some((audit, event)), Copied::Tagged)
            .await
    }

    /// Copies manifest `digest` with all it needs, stores it as `placement` says, then (for
    /// an image) its referrers.
    async fn copy_manifest(
        &self,
        digest: &Digest,
        placement: TagPlacement,
        record: Option<(AuditEntry, Event)>,
        copied: Copied,
    ) -> Result<()> {
        let fetched = self
            .upstream
            .manifest(&self.source, &Reference::Digest(digest.clone()))
            .await?;
        let mut parsed = parse_upstream(&fetched)?;
        let mut bytes = fetched.bytes.clone();
        if copied == Copied::Tagged
            && parsed.media_type.is_list()
            && let Some(narrowed) = narrow_index(&bytes, digest, &self.mirror.config.platforms)?
        {
            bytes = narrowed.into();
            parsed = manifest::parse(&bytes, Some(parsed.media_type.as_str()), digest.algorithm())?;
        }
        let repository = &self.mirror.repository;
        for child in parsed.child_manifests() {
            let live = self
                .registry
                .manifests
                .live_manifest(repository.id, &child.digest, self.registry.now_ms())
                .await?;
            if live.is_none() {
                let until_ms = self.registry.now_ms() + self.registry.settings.untagged_manifest_ms;
                Box::pin(self.copy_manifest(
                    &child.digest,
                    TagPlacement::Hidden {
                        until_ms: Some(until_ms),
                    },
                    None,
                    Copied::Child,
                ))
                .await?;
            }
        }
        for blob in parsed.required_blobs() {
            let size = blob.size.ok_or_else(|| {
                Error::Upstream(UpstreamFailure::new(
                    UpstreamProblem::Invalid,
                    format!("{digest} is a schema 1 manifest, which declares no blob sizes"),
                ))
            })?;
            let info = BlobInfo {
                digest: blob.digest,
                size,
            };
            self.copy_blob(&info).await?;
        }
        let new = NewManifest::of(parsed, bytes, Default::default());
        let (audit, event) = record.unzip();
        self.registry
            .manifests
            .store_manifest(
                repository.id,
                new,
                placement,
                audit,
                event,
                self.registry.now_ms(),
            )
            .await?;
        if self.mirror.config.copy_referrers && copied != Copied::Companion {
            self.copy_referrers(digest).await?;
        }
        Ok(())
    }

    /// The blob's bytes into the blob store (verified against the digest as they pass),
    /// unless they are there, and linked to the repository.
    async fn copy_blob(&self, blob: &BlobInfo) -> Result<()> {
        if self.registry.blobs.blob_size(&blob.digest).await?.is_none() {
            let stream = self.upstream.blob(&self.source, blob).await?;
            // The port stores the bytes as they pass; draining the stream is the copy.
            stream
                .try_for_each(|_| async { Ok(()) })
                .await
                .map_err(|error| {
                    Error::Upstream(UpstreamFailure::new(
                        UpstreamProblem::Unavailable,
                        format!("blob {}: {error}", blob.digest),
                    ))
                })?;
        }
        let now_ms = self.registry.now_ms();
        self.registry
            .blob_index
            .link_blob(
                self.mirror.repository.id,
                blob,
                now_ms,
                now_ms + self.registry.settings.upload_link_ms,
            )
            .await
    }

    /// The referrers of upstream manifest `digest`, and cosign's tags for it.
    async fn copy_referrers(&self, digest: &Digest) -> Result<()> {
        for referrer in self.upstream.referrers(&self.source, digest).await? {
            Box::pin(self.copy_manifest(
                &referrer,
                TagPlacement::Hidden { until_ms: None },
                None,
                Copied::Companion,
            ))
            .await?;
        }
        for tag in cosign_tags(&self.listed, digest) {
            let reference = Reference::Tag(tag.clone());
            let signature = self
                .upstream
                .manifest_digest(&self.source, &reference)
                .await?;
            let placement = TagPlacement::Tag {
                name: tag,
                lifetime_ms: None,
                immutable: false,
            };
            Box::pin(self.copy_manifest(&signature, placement, None, Copied::Companion)).await?;
        }
        Ok(())
    }

    /// Removes a tag gone upstream, into the time machine.
    async fn remove_tag(&self, tag: &TagName) -> Result<()> {
        let now_ms = self.registry.now_ms();
        let audit = self
            .actor
            .entry(LogKind::DeleteTag, now_ms)
            .repository(&self.mirror.repository)
            .meta("tag", tag.as_str())
            .meta("reason", "gone from the mirrored upstream");
        self.registry
            .tags
            .delete_tag(self.mirror.repository.id, tag, audit, now_ms)
            .await?;
        Ok(())
    }
}

/// What kind of failure `error` is, in the words of Quay's `last_error_reason` label, with
/// two of ours (`rate_limited`, `invalid_content`) where Quay has only `unknown_error`.
fn failure_reason(error: &Error) -> &'static str {
    match error {
        Error::Upstream(failure) => match failure.problem {
            UpstreamProblem::NotFound => "not_found",
            UpstreamProblem::Refused => "auth_failed",
            UpstreamProblem::RateLimited => "rate_limited",
            UpstreamProblem::Unavailable => "connection_error",
            UpstreamProblem::Invalid => "invalid_content",
        },
        _ => "unknown_error",
    }
}

/// Why a sync or a tag failed, for its report: an upstream's failure as it is (the error's
/// own words are those of a proxy cache's client).
fn reason(error: &Error) -> String {
    match error {
        Error::Upstream(failure) => failure.to_string(),
        other => other.to_string(),
    }
}
