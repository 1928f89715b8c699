//! Tags as lifetimes. The decisions are [`quay_core::tag`]'s; this module reads the rows they
//! need and applies the changes they return, inside the caller's transaction.

use async_trait::async_trait;
use quay_core::Digest;
use quay_core::TagName;
use quay_core::audit::AuditEntry;
use quay_core::ports::{LiveManifest, RepositoryId, TagList, TagResolution, TagStore};
use quay_core::tag::{self as rules, Closing, Opening, Retarget, TagRow};
use sea_orm::sea_query::{Expr, ExprTrait, Order};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::tag;
use super::manifests::{ManifestRow, manifest_id};
use super::{SqlMetadata, audit};
use crate::error::OrStorage;

/// Prefix of the names of hidden temporary tags, as in Quay.
const TEMPORARY_TAG_PREFIX: &str = "$temp-";

/// Rows alive at `now_ms`: not ended yet.
pub(super) fn alive(now_ms: i64) -> Condition {
    Condition::any()
        .add(tag::Column::LifetimeEndMs.is_null())
        .add(tag::Column::LifetimeEndMs.gt(now_ms))
}

fn row(model: &tag::Model) -> TagRow {
    TagRow {
        id: model.id,
        manifest_id: model.manifest_id,
        start_ms: model.lifetime_start_ms,
        end_ms: model.lifetime_end_ms,
        immutable: model.immutable,
    }
}

/// The rows of tag `name` that the rules need: its newest row, which is the alive one if
/// the tag is alive (rows that ended in the same millisecond are ordered by insertion).
async fn history(
    conn: &impl ConnectionTrait,
    repository: RepositoryId,
    name: &str,
) -> quay_core::Result<Vec<TagRow>> {
    let rows = tag::Entity::find()
        .filter(tag::Column::RepositoryId.eq(repository))
        .filter(tag::Column::Name.eq(name))
        .order_by(Expr::col(tag::Column::LifetimeEndMs).is_null(), Order::Desc)
        .order_by_desc(tag::Column::LifetimeEndMs)
        .order_by_desc(tag::Column::Id)
        .limit(1)
        .all(conn)
        .await
        .or_storage()?;
    Ok(rows.iter().map(row).collect())
}

async fn close(conn: &impl ConnectionTrait, closing: Closing) -> quay_core::Result<()> {
    tag::Entity::update_many()
        .col_expr(tag::Column::LifetimeEndMs, Expr::value(closing.end_ms))
        .filter(tag::Column::Id.eq(closing.row_id))
        .exec(conn)
        .await
        .or_storage()?;
    Ok(())
}

async fn open(
    conn: &impl ConnectionTrait,
    repository: RepositoryId,
    name: String,
    opening: Opening,
    hidden: bool,
) -> quay_core::Result<()> {
    tag::Entity::insert(tag::ActiveModel {
        repository_id: Set(repository),
        name: Set(name),
        manifest_id: Set(opening.manifest_id),
        lifetime_start_ms: Set(opening.start_ms),
        lifetime_end_ms: Set(opening.end_ms),
        hidden: Set(hidden),
        reversion: Set(false),
        immutable: Set(false),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await
    .or_storage()?;
    Ok(())
}

/// Points tag `name` at `manifest_id`, keeping the previous target as history.
pub(super) async fn retarget(
    conn: &impl ConnectionTrait,
    repository: RepositoryId,
    name: &TagName,
    manifest_id: i64,
    now_ms: i64,
) -> quay_core::Result<()> {
    let history = history(conn, repository, name.as_str()).await?;
    if let Retarget::Move {
        close: closing,
        open: opening,
    } = rules::retarget(name.as_str(), &history, manifest_id, now_ms, None)?
    {
        if let Some(closing) = closing {
            close(conn, closing).await?;
        }
        open(conn, repository, name.to_string(), opening, false).await?;
    }
    Ok(())
}

/// Keeps a manifest alive until `until_ms` (`None`: until deleted) with a hidden temporary
/// tag, unless an alive tag already keeps it alive that long.
pub(super) async fn keep_alive(
    conn: &impl ConnectionTrait,
    repository: RepositoryId,
    manifest_id: i64,
    until_ms: Option<i64>,
    now_ms: i64,
) -> quay_core::Result<()> {
    let kept_until = match liveness(conn, &[manifest_id], now_ms).await? {
        Liveness::Dead => vec![],
        Liveness::AliveUntil(end) => vec![end],
    };
    if rules::needs_temporary_tag(kept_until, until_ms) {
        let name = format!("{TEMPORARY_TAG_PREFIX}{}", uuid::Uuid::new_v4());
        let opening = Opening {
            manifest_id,
            start_ms: now_ms,
            end_ms: until_ms,
        };
        open(conn, repository, name, opening, true).await?;
    }
    Ok(())
}

/// A visible tag's newest row with the manifest it points to.
#[derive(FromQueryResult)]
struct TagTarget {
    lifetime_end_ms: Option<i64>,
    #[sea_orm(nested)]
    manifest: ManifestRow,
}

#[async_trait]
impl TagStore for SqlMetadata {
    async fn resolve_tag(
        &self,
        repository: RepositoryId,
        name: &TagName,
        now_ms: i64,
    ) -> quay_core::Result<TagResolution> {
        let newest = TagTarget::find_by_statement(self.statement(
            "SELECT t.lifetime_end_ms AS lifetime_end_ms,
                    m.id AS id, m.digest AS digest, m.media_type AS media_type, m.bytes AS bytes
             FROM tag t JOIN manifest m ON m.id = t.manifest_id
             WHERE t.repository_id = $1 AND t.name = $2 AND t.hidden = $3
             ORDER BY (t.lifetime_end_ms IS NULL) DESC, t.lifetime_end_ms DESC, t.id DESC
             LIMIT 1",
            [repository.into(), name.as_str().into(), false.into()],
        ))
        .one(&self.db)
        .await
        .or_storage()?;
        Ok(match newest {
            None => TagResolution::Unknown,
            Some(target) if target.lifetime_end_ms.is_none_or(|end| end > now_ms) => {
                TagResolution::Alive(LiveManifest {
                    manifest: target.manifest.into_stored()?.into(),
                    fresh_until_ms: target.lifetime_end_ms,
                })
            }
            Some(_) => TagResolution::Expired,
        })
    }

    async fn list_tags(&self, repository: RepositoryId, now_ms: i64) -> quay_core::Result<TagList> {
        let rows: Vec<(String, Option<i64>)> = tag::Entity::find()
            .select_only()
            .column(tag::Column::Name)
            .column(tag::Column::LifetimeEndMs)
            .filter(tag::Column::RepositoryId.eq(repository))
            .filter(tag::Column::Hidden.eq(false))
            .filter(alive(now_ms))
            .into_tuple()
            .all(&self.db)
            .await
            .or_storage()?;
        let fresh_until_ms = rows.iter().filter_map(|(_, end)| *end).min();
        // Sorted here, by bytes, so that the order is the same on every database.
        let mut names = rows
            .into_iter()
            .filter_map(|(name, _)| TagName::parse(&name).ok())
            .collect::<Vec<_>>();
        names.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        names.dedup();
        Ok(TagList {
            names: names.into(),
            fresh_until_ms,
        })
    }

    async fn delete_tag(
        &self,
        repository: RepositoryId,
        name: &TagName,
        audit: AuditEntry,
        now_ms: i64,
    ) -> quay_core::Result<bool> {
        let txn = self.lock_repository(repository).await.or_storage()?;
        let history = history(&txn, repository, name.as_str()).await?;
        let Some(closing) = rules::delete(name.as_str(), &history, now_ms)? else {
            return Ok(false);
        };
        close(&txn, closing).await?;
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()?;
        Ok(true)
    }

    async fn delete_manifest_tags(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        audit: AuditEntry,
        now_ms: i64,
    ) -> quay_core::Result<usize> {
        let txn = self.lock_repository(repository).await.or_storage()?;
        let Some(manifest_id) = manifest_id(&txn, repository, digest).await? else {
            return Ok(0);
        };
        let alive_tags: Vec<(String, bool)> = tag::Entity::find()
            .select_only()
            .column(tag::Column::Name)
            .column(tag::Column::Hidden)
            .filter(tag::Column::ManifestId.eq(manifest_id))
            .filter(alive(now_ms))
            .into_tuple()
            .all(&txn)
            .await
            .or_storage()?;
        let mut entries = Vec::new();
        for (name, hidden) in &alive_tags {
            let history = history(&txn, repository, name).await?;
            if let Some(closing) = rules::delete(name, &history, now_ms)? {
                close(&txn, closing).await?;
            }
            if !hidden {
                entries.push(audit.clone().meta("tag", name.as_str()));
            }
        }
        audit::record(&txn, entries).await?;
        txn.commit().await.or_storage()?;
        Ok(alive_tags.len())
    }
}

/// Whether a manifest is alive, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Liveness {
    /// No alive tag keeps it.
    Dead,
    /// Alive tags keep it until then (`None`: they have no end).
    AliveUntil(Option<i64>),
}

/// Whether an alive tag points to any of `manifests`, and until when.
pub(super) async fn liveness(
    conn: &impl ConnectionTrait,
    manifests: &[i64],
    now_ms: i64,
) -> quay_core::Result<Liveness> {
    let ends: Vec<Option<i64>> = tag::Entity::find()
        .select_only()
        .column(tag::Column::LifetimeEndMs)
        .filter(tag::Column::ManifestId.is_in(manifests.iter().copied()))
        .filter(alive(now_ms))
        .into_tuple()
        .all(conn)
        .await
        .or_storage()?;
    Ok(if ends.is_empty() {
        Liveness::Dead
    } else if ends.contains(&None) {
        Liveness::AliveUntil(None)
    } else {
        Liveness::AliveUntil(ends.into_iter().flatten().max())
    })
}
