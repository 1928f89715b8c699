//! Repository mirrors: their configurations, and the schedule the workers of every node
//! claim syncs from (one node per mirror: `FOR UPDATE SKIP LOCKED` on PostgreSQL, the write
//! lock on SQLite), the claim proven by its token on every later write.

use async_trait::async_trait;
use quay_core::audit::AuditEntry;
use quay_core::events::Event;
use quay_core::mirror::{
    ExternalReference, MirrorConfig, MirrorEndpoint, Platform, SyncSchedule, SyncStatus,
};
use quay_core::names::RobotName;
use quay_core::ports::{
    ClaimState, ClaimedMirror, MirrorSave, MirrorStore, Repository, RepositoryId, RepositoryState,
    StoredMirror,
};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Value};
use serde_json::Value as Json;

use super::outbox::EventSource;
use super::repository_row::{REPOSITORY_COLUMNS, RepositoryRow};
use super::{SqlMetadata, audit};
use crate::error::{OrStorage, StorageError};

const MIRROR_COLUMNS: &str = "m.is_enabled AS is_enabled, m.external_reference AS external_reference, \
    m.username AS username, m.credentials IS NOT NULL AS has_credentials, m.robot_id AS robot_id, \
    a.name AS robot_name, m.tag_patterns AS tag_patterns, m.sync_interval_s AS sync_interval_s, \
    m.verify_tls AS verify_tls, m.unsigned_images AS unsigned_images, m.proxy AS proxy, \
    m.timeout_s AS timeout_s, m.platforms AS platforms, m.remove_stale_tags AS remove_stale_tags, \
    m.copy_referrers AS copy_referrers, m.sync_status AS sync_status, \
    m.sync_start_ms AS sync_start_ms, m.sync_expiration_ms AS sync_expiration_ms, \
    m.sync_retries_remaining AS sync_retries_remaining, \
    m.sync_transaction_id AS sync_transaction_id, m.last_sync AS last_sync";

const MIRROR_FROM: &str = "repo_mirror m
    JOIN repository r ON r.id = m.repository_id
    JOIN namespace n ON n.id = r.namespace_id
    LEFT JOIN account a ON a.id = m.robot_id";

#[derive(FromQueryResult)]
struct MirrorRow {
    #[sea_orm(nested)]
    repository: RepositoryRow,
    is_enabled: bool,
    external_reference: String,
    username: Option<String>,
    has_credentials: bool,
    robot_id: i64,
    robot_name: Option<String>,
    tag_patterns: String,
    sync_interval_s: i64,
    verify_tls: bool,
    unsigned_images: bool,
    proxy: String,
    timeout_s: i64,
    platforms: String,
    remove_stale_tags: bool,
    copy_referrers: bool,
    sync_status: i32,
    sync_start_ms: Option<i64>,
    sync_expiration_ms: Option<i64>,
    sync_retries_remaining: i32,
    sync_transaction_id: String,
    last_sync: Option<String>,
}

#[derive(FromQueryResult)]
struct Claimable {
    repository_id: i64,
}

#[derive(FromQueryResult)]
struct ClaimRow {
    sync_status: i32,
    sync_transaction_id: String,
}

#[derive(FromQueryResult)]
struct Credentials {
    credentials: Option<String>,
}

impl MirrorRow {
    fn into_mirror(self) -> Result<(StoredMirror, String), StorageError> {
        let id = self.repository.id;
        let corrupt = |what: &str| StorageError::CorruptMetadata(format!("{what} of mirror {id}"));
        let json = |text: &str, what: &str| -> Result<Json, StorageError> {
            serde_json::from_str(text).map_err(|_| corrupt(what))
        };
        let patterns: Vec<String> =
            serde_json::from_value(json(&self.tag_patterns, "tag patterns")?)
                .map_err(|_| corrupt("tag patterns"))?;
        let platform_names: Vec<String> =
            serde_json::from_value(json(&self.platforms, "platforms")?)
                .map_err(|_| corrupt("platforms"))?;
        let platforms = platform_names
            .iter()
            .map(|name| Platform::parse(name))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| corrupt("platforms"))?;
        let robot = self
            .robot_name
            .as_deref()
            .and_then(|name| RobotName::parse(name).ok())
            .ok_or_else(|| corrupt("robot (deleted?)"))?;
        let config = MirrorConfig {
            is_enabled: self.is_enabled,
            endpoint: MirrorEndpoint {
                reference: ExternalReference::parse(&self.external_reference)
                    .map_err(|_| corrupt("external reference"))?,
                verify_tls: self.verify_tls,
                proxy: serde_json::from_value(json(&self.proxy, "proxy")?)
                    .map_err(|_| corrupt("proxy"))?,
            },
            username: self.username,
            robot,
            tag_patterns: patterns,
            sync_interval_s: u64::try_from(self.sync_interval_s).unwrap_or(0),
            unsigned_images: self.unsigned_images,
            timeout_s: u64::try_from(self.timeout_s).unwrap_or(0),
            platforms,
            remove_stale_tags: self.remove_stale_tags,
            copy_referrers: self.copy_referrers,
        };
        let schedule = SyncSchedule {
            status: SyncStatus::from_number(self.sync_status).ok_or_else(|| corrupt("status"))?,
            start_ms: self.sync_start_ms,
            expiration_ms: self.sync_expiration_ms,
            retries_remaining: u32::try_from(self.sync_retries_remaining).unwrap_or(0),
        };
        let last_sync = self
            .last_sync
            .as_deref()
            .map(|text| json(text, "last sync"))
            .transpose()?;
        let mirror = StoredMirror {
            repository: self.repository.into_details()?.repository,
            config,
            robot: self.robot_id,
            schedule,
            has_credentials: self.has_credentials,
            last_sync,
        };
        Ok((mirror, self.sync_transaction_id))
    }
}

/// The configuration's columns, in the order of [`CONFIG_SET`].
fn config_values(save: &MirrorSave) -> Vec<Value> {
    let config = &save.config;
    let platforms: Vec<String> = config.platforms.iter().map(ToString::to_string).collect();
    vec![
        config.is_enabled.into(),
        config.endpoint.reference.to_string().into(),
        config.username.clone().into(),
        save.robot.into(),
        serde_json::to_string(&config.tag_patterns)
            .unwrap_or_default()
            .into(),
        i64::try_from(config.sync_interval_s)
            .unwrap_or(i64::MAX)
            .into(),
        config.endpoint.verify_tls.into(),
        config.unsigned_images.into(),
        serde_json::to_string(&config.endpoint.proxy)
            .unwrap_or_default()
            .into(),
        i64::try_from(config.timeout_s).unwrap_or(i64::MAX).into(),
        serde_json::to_string(&platforms).unwrap_or_default().into(),
        config.remove_stale_tags.into(),
        config.copy_referrers.into(),
    ]
}

const CONFIG_COLUMNS: &str = "is_enabled, external_reference, username, robot_id, tag_patterns, \
    sync_interval_s, verify_tls, unsigned_images, proxy, timeout_s, platforms, \
    remove_stale_tags, copy_referrers";

const CONFIG_SET: &str = "is_enabled = $1, external_reference = $2, username = $3, \
    robot_id = $4, tag_patterns = $5, sync_interval_s = $6, verify_tls = $7, \
    unsigned_images = $8, proxy = $9, timeout_s = $10, platforms = $11, \
    remove_stale_tags = $12, copy_referrers = $13";

fn schedule_values(schedule: &SyncSchedule) -> [Value; 4] {
    [
        schedule.status.number().into(),
        schedule.start_ms.into(),
        schedule.expiration_ms.into(),
        i32::try_from(schedule.retries_remaining)
            .unwrap_or(i32::MAX)
            .into(),
    ]
}

impl SqlMetadata {
    async fn mirror_rows(
        &self,
        conn: &impl ConnectionTrait,
        repository: RepositoryId,
    ) -> quay_core::Result<Option<(StoredMirror, String)>> {
        let row = MirrorRow::find_by_statement(self.statement(
            &format!(
                "SELECT {REPOSITORY_COLUMNS}, {MIRROR_COLUMNS} FROM {MIRROR_FROM}
                 WHERE m.repository_id = $1"
            ),
            [repository.into()],
        ))
        .one(conn)
        .await
        .or_storage()?;
        Ok(row.map(MirrorRow::into_mirror).transpose()?)
    }

    /// The repository ids a claim may take: `only` that one unless another node holds it,
    /// or the due ones (Quay's eligibility, [`SyncSchedule::is_due`]), soonest first.
    fn claimable_sql(&self, only: bool) -> String {
        let syncing = SyncStatus::Syncing.number();
        let sync_now = SyncStatus::SyncNow.number();
        let lapsed = "(m.sync_expiration_ms IS NULL OR m.sync_expiration_ms <= $1)";
        let condition = if only {
            format!("m.repository_id = $2 AND (m.sync_status <> {syncing} OR {lapsed})")
        } else {
            format!(
                "r.state = 'MIRROR' AND (
                   (m.sync_status = {sync_now} AND {lapsed})
                   OR (m.sync_status = {syncing} AND m.sync_expiration_ms <= $1)
                   OR (m.sync_status NOT IN ({sync_now}, {syncing}) AND m.is_enabled
                       AND m.sync_retries_remaining > 0 AND m.sync_expiration_ms IS NULL
                       AND m.sync_start_ms <= $1))"
            )
        };
        let lock = match self.backend() {
            DbBackend::Postgres => " FOR UPDATE OF m SKIP LOCKED",
            _ => "",
        };
        format!(
            "SELECT m.repository_id AS repository_id FROM repo_mirror m
             JOIN repository r ON r.id = m.repository_id
             WHERE {condition}
             ORDER BY m.sync_start_ms, m.repository_id LIMIT 1{lock}"
        )
    }
}

#[async_trait]
impl MirrorStore for SqlMetadata {
    async fn mirror(&self, repository: RepositoryId) -> quay_core::Result<Option<StoredMirror>> {
        Ok(self
            .mirror_rows(&self.db, repository)
            .await?
            .map(|(mirror, _)| mirror))
    }

    async fn save_mirror(
        &self,
        repository: &Repository,
        save: MirrorSave,
        create: bool,
        audit: Vec<AuditEntry>,
        now_ms: i64,
    ) -> quay_core::Result<()> {
        let txn = self.lock_repository(repository.id).await.or_storage()?;
        let mut values = config_values(&save);
        if create {
            let schedule = SyncSchedule::new(save.sync_start_ms.unwrap_or(now_ms));
            values.extend(schedule_values(&schedule));
            values.extend([
                repository.id.into(),
                uuid::Uuid::new_v4().to_string().into(),
                now_ms.into(),
                save.sealed_credentials.flatten().into(),
            ]);
            let inserted = self
                .execute(
                    &txn,
                    &format!(
                        "INSERT INTO repo_mirror ({CONFIG_COLUMNS}, sync_status, sync_start_ms,
                             sync_expiration_ms, sync_retries_remaining, repository_id,
                             sync_transaction_id, created_ms, credentials)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                                 $15, $16, $17, $18, $19, $20, $21)
                         ON CONFLICT (repository_id) DO NOTHING"
                    ),
                    values,
                )
                .await?;
            if inserted == 0 {
                return Err(quay_core::Error::AlreadyExists(
                    "Mirror configuration already exits for repository".into(),
                ));
            }
            self.execute(
                &txn,
                "UPDATE repository SET state = $1 WHERE id = $2",
                [RepositoryState::Mirror.name().into(), repository.id.into()],
            )
            .await?;
        } else {
            values.push(repository.id.into());
            self.execute(
                &txn,
                &format!("UPDATE repo_mirror SET {CONFIG_SET} WHERE repository_id = $14"),
                values,
            )
            .await?;
            if let Some(credentials) = save.sealed_credentials {
                self.execute(
                    &txn,
                    "UPDATE repo_mirror SET credentials = $1 WHERE repository_id = $2",
                    [credentials.into(), repository.id.into()],
                )
                .await?;
            }
            if let Some(start_ms) = save.sync_start_ms {
                self.execute(
                    &txn,
                    "UPDATE repo_mirror SET sync_start_ms = $1 WHERE repository_id = $2",
                    [start_ms.into(), repository.id.into()],
                )
                .await?;
            }
        }
        audit::record(&txn, audit).await?;
        txn.commit().await.or_storage()?;
        Ok(())
    }

    async fn sealed_mirror_credentials(
        &self,
        repository: RepositoryId,
    ) -> quay_core::Result<Option<String>> {
        let row = Credentials::find_by_statement(self.statement(
            "SELECT credentials FROM repo_mirror WHERE repository_id = $1",
            [repository.into()],
        ))
        .one(&self.db)
        .await
        .or_storage()?;
        Ok(row.and_then(|row| row.credentials))
    }

    async fn change_schedule(
        &self,
        repository: RepositoryId,
        current: &SyncSchedule,
        next: &SyncSchedule,
        audit: Vec<AuditEntry>,
    ) -> quay_core::Result<bool> {
        let txn = self.write_transaction().await.or_storage()?;
        let mut values: Vec<Value> = schedule_values(next).into();
        values.extend([
            repository.into(),
            current.status.number().into(),
            current.expiration_ms.into(),
        ]);
        let changed = self
            .execute(
                &txn,
                "UPDATE repo_mirror SET sync_status = $1, sync_start_ms = $2,
                     sync_expiration_ms = $3, sync_retries_remaining = $4
                 WHERE repository_id = $5 AND sync_status = $6
                   AND sync_expiration_ms IS NOT DISTINCT FROM $7",
                values,
            )
            .await?
            == 1;
        if changed {
            audit::record(&txn, audit).await?;
        }
        txn.commit().await.or_storage()?;
        Ok(changed)
    }

    async fn claim_mirror(
        &self,
        only: Option<RepositoryId>,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> quay_core::Result<Option<ClaimedMirror>> {
        let txn = self.write_transaction().await.or_storage()?;
        let mut values: Vec<Value> = vec![now_ms.into()];
        if let Some(only) = only {
            values.push(only.into());
        }
        let found = Claimable::find_by_statement(
            self.statement(&self.claimable_sql(only.is_some()), values),
        )
        .one(&txn)
        .await
        .or_storage()?;
        let Some(found) = found else {
            txn.commit().await.or_storage()?;
            return Ok(None);
        };
        let claim = uuid::Uuid::new_v4().to_string();
        self.execute(
            &txn,
            "UPDATE repo_mirror SET sync_status = $1, sync_expiration_ms = $2,
                 sync_transaction_id = $3
             WHERE repository_id = $4",
            [
                SyncStatus::Syncing.number().into(),
                lease_until_ms.into(),
                claim.as_str().into(),
                found.repository_id.into(),
            ],
        )
        .await?;
        let claimed = self.mirror_rows(&txn, found.repository_id).await?;
        txn.commit().await.or_storage()?;
        Ok(claimed.map(|(mirror, claim)| ClaimedMirror { mirror, claim }))
    }

    async fn renew_claim(
        &self,
        repository: RepositoryId,
        claim: &str,
        lease_until_ms: i64,
    ) -> quay_core::Result<ClaimState> {
        let renewed = self
            .execute(
                &self.db,
                "UPDATE repo_mirror SET sync_expiration_ms = $1
                 WHERE repository_id = $2 AND sync_transaction_id = $3 AND sync_status = $4",
                [
                    lease_until_ms.into(),
                    repository.into(),
                    claim.into(),
                    SyncStatus::Syncing.number().into(),
                ],
            )
            .await?;
        if renewed == 1 {
            return Ok(ClaimState::Held);
        }
        let row = ClaimRow::find_by_statement(self.statement(
            "SELECT sync_status, sync_transaction_id FROM repo_mirror WHERE repository_id = $1",
            [repository.into()],
        ))
        .one(&self.db)
        .await
        .or_storage()?;
        Ok(match row {
            Some(row)
                if row.sync_transaction_id == claim
                    && row.sync_status == SyncStatus::Cancel.number() =>
            {
                ClaimState::Cancelled
            }
            _ => ClaimState::Lost,
        })
    }

    async fn release_claim(
        &self,
        claimed: &ClaimedMirror,
        next: &SyncSchedule,
        report: &Json,
        audit: Vec<AuditEntry>,
        event: Option<Event>,
        now_ms: i64,
    ) -> quay_core::Result<bool> {
        let repository = claimed.mirror.repository.id;
        let txn = self.write_transaction().await.or_storage()?;
        let mut values: Vec<Value> = schedule_values(next).into();
        values.extend([
            report.to_string().into(),
            repository.into(),
            claimed.claim.as_str().into(),
            SyncStatus::Syncing.number().into(),
            SyncStatus::Cancel.number().into(),
        ]);
        // A cancel that came while the sync ran stays a cancel, whatever the sync's end.
        let released = self
            .execute(
                &txn,
                "UPDATE repo_mirror SET
                     sync_status = CASE WHEN sync_status = $9 THEN $9 ELSE $1 END,
                     sync_start_ms = CASE WHEN sync_status = $9 THEN NULL ELSE $2 END,
                     sync_expiration_ms = $3,
                     sync_retries_remaining = CASE WHEN sync_status = $9 THEN 0 ELSE $4 END,
                     last_sync = $5
                 WHERE repository_id = $6 AND sync_transaction_id = $7
                   AND sync_status IN ($8, $9)",
                values,
            )
            .await?
            == 1;
        if released {
            audit::record(&txn, audit).await?;
            if let Some(event) = event {
                self.emit(&txn, EventSource::Repository(repository), &event, now_ms)
                    .await?;
            }
        }
        txn.commit().await.or_storage()?;
        Ok(released)
    }

    async fn record_sync_event(
        &self,
        repository: RepositoryId,
        audit: AuditEntry,
        event: Event,
        now_ms: i64,
    ) -> quay_core::Result<()> {
        let txn = self.write_transaction().await.or_storage()?;
        audit::record(&txn, [audit]).await?;
        self.emit(&txn, EventSource::Repository(repository), &event, now_ms)
            .await?;
        txn.commit().await.or_storage()?;
        Ok(())
    }

    async fn set_repository_state(
        &self,
        repository: &Repository,
        state: RepositoryState,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let txn = self.write_transaction().await.or_storage()?;
        self.execute(
            &txn,
            "UPDATE repository SET state = $1 WHERE id = $2",
            [state.name().into(), repository.id.into()],
        )
        .await?;
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()?;
        Ok(())
    }
}
