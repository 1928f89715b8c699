//! Tags as lifetimes. The decisions are [`quay_core::tag`]'s; this module reads the rows they
//! need and applies the changes they return, inside the caller's transaction.

use async_trait::async_trait;
use quay_core::Digest;
use quay_core::TagName;
use quay_core::audit::AuditEntry;
use quay_core::manifest::ManifestMediaType;
use quay_core::ports::{
    LiveManifest, RepositoryId, StoredManifest, TagChange, TagHistory, TagHistoryQuery,
    TagLifetime, TagList, TagNameFilter, TagResolution, TagStore,
};
use quay_core::tag::{self as rules, Closing, Opening, Retarget, TagRow, Target};
use sea_orm::sea_query::{Expr, ExprTrait, Order};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};

use super::entity::tag;
use super::manifest_row::{ManifestRow, manifest_id};
use super::{SqlMetadata, audit};
use crate::error::{OrStorage, StorageError};

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
        reversion: Set(opening.reversion),
        immutable: Set(opening.immutable),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await
    .or_storage()?;
    Ok(())
}

/// Points tag `name` at `target`, keeping the previous target as history.
pub(super) async fn retarget(
    conn: &impl ConnectionTrait,
    repository: RepositoryId,
    name: &TagName,
    target: Target,
    now_ms: i64,
) -> quay_core::Result<()> {
    let history = history(conn, repository, name.as_str()).await?;
    if let Retarget::Move {
        close: closing,
        open: opening,
    } = rules::retarget(name.as_str(), &history, target, now_ms)?
    {
        if let Some(closing) = closing {
            close(conn, closing).await?;
        }
        open(conn, repository, name.to_string(), opening, false).await?;
        let left = closing.and_then(|closing| history.iter().find(|row| row.id == closing.row_id));
        if let Some(left) = left.filter(|row| row.manifest_id != target.manifest_id) {
            expire_cosign_companions(conn, repository, left.manifest_id, now_ms).await?;
        }
    }
    Ok(())
}

/// Ends the cosign companion tags of a manifest (`sha256-<hex>.sig`, `.att`, `.sbom`) once
/// no other visible tag keeps the manifest: a signature outlives nothing it signs.
async fn expire_cosign_companions(
    conn: &impl ConnectionTrait,
    repository: RepositoryId,
    manifest_id: i64,
    now_ms: i64,
) -> quay_core::Result<()> {
    // One indexed lookup in the common case, where the manifest has no companions. The
    // names are built from the digest in SQL (`sha256:<hex>` → `sha256-<hex>.sig`), in the
    // syntax both databases share.
    let backend = conn.get_database_backend();
    let companions = CompanionRow::find_by_statement(Statement::from_sql_and_values(
        backend,
        "SELECT t.id AS id, t.name AS name, t.manifest_id AS manifest_id,
                t.lifetime_start_ms AS lifetime_start_ms, t.lifetime_end_ms AS lifetime_end_ms,
                t.immutable AS immutable
         FROM manifest m JOIN tag t
           ON t.repository_id = $1
          AND t.name IN ('sha256-' || SUBSTR(m.digest, 8) || '.sig',
                         'sha256-' || SUBSTR(m.digest, 8) || '.att',
                         'sha256-' || SUBSTR(m.digest, 8) || '.sbom')
         WHERE m.id = $2 AND m.digest LIKE 'sha256:%' AND t.hidden = $3
           AND (t.lifetime_end_ms IS NULL OR t.lifetime_end_ms > $4)",
        [
            repository.into(),
            manifest_id.into(),
            false.into(),
            now_ms.into(),
        ],
    ))
    .all(conn)
    .await
    .or_storage()?;
    if companions.is_empty() {
        return Ok(());
    }
    let alive_names: Vec<String> = tag::Entity::find()
        .select_only()
        .column(tag::Column::Name)
        .filter(tag::Column::ManifestId.eq(manifest_id))
        .filter(tag::Column::Hidden.eq(false))
        .filter(alive(now_ms))
        .into_tuple()
        .all(conn)
        .await
        .or_storage()?;
    if alive_names
        .iter()
        .any(|name| !rules::is_cosign_companion(name))
    {
        return Ok(());
    }
    for companion in companions {
        let row = TagRow {
            id: companion.id,
            manifest_id: companion.manifest_id,
            start_ms: companion.lifetime_start_ms,
            end_ms: companion.lifetime_end_ms,
            immutable: companion.immutable,
        };
        if row.immutable {
            continue;
        }
        if let Some(closing) = rules::delete(&companion.name, &[row], now_ms)? {
            close(conn, closing).await?;
        }
    }
    Ok(())
}

/// An alive cosign companion tag of a manifest.
#[derive(FromQueryResult)]
struct CompanionRow {
    id: i64,
    name: String,
    manifest_id: i64,
    lifetime_start_ms: i64,
    lifetime_end_ms: Option<i64>,
    immutable: bool,
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
            reversion: false,
            immutable: false,
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

/// A tag row with its manifest's digest, as `tag_rows` reads it.
#[derive(FromQueryResult)]
struct RowWithDigest {
    id: i64,
    manifest_id: i64,
    lifetime_start_ms: i64,
    lifetime_end_ms: Option<i64>,
    immutable: bool,
    digest: String,
}

/// A lifetime as the tag history reads it.
#[derive(FromQueryResult)]
struct LifetimeRow {
    name: String,
    digest: String,
    media_type: String,
    layers_size: i64,
    lifetime_start_ms: i64,
    lifetime_end_ms: Option<i64>,
    reversion: bool,
    immutable: bool,
}

impl LifetimeRow {
    fn into_lifetime(self) -> Result<TagLifetime, StorageError> {
        let corrupt =
            |what: &str| StorageError::CorruptMetadata(format!("tag {}: {what}", self.name));
        Ok(TagLifetime {
            manifest_digest: Digest::parse(&self.digest).map_err(|_| corrupt("digest"))?,
            media_type: ManifestMediaType::from_media_type(&self.media_type)
                .ok_or_else(|| corrupt("media type"))?,
            size: u64::try_from(self.layers_size).unwrap_or(0),
            start_ms: self.lifetime_start_ms,
            end_ms: self.lifetime_end_ms,
            reversion: self.reversion,
            immutable: self.immutable,
            name: self.name,
        })
    }
}

/// `text` as a `LIKE` pattern matching names that contain it (`\` escapes).
fn containing(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[async_trait]
impl TagStore for SqlMetadata {
    async fn apply_tag_change(
        &self,
        repository: RepositoryId,
        change: TagChange,
        audit: Vec<AuditEntry>,
        now_ms: i64,
    ) -> quay_core::Result<()> {
        let txn = self.lock_repository(repository).await.or_storage()?;
        let name = change.name.as_str();
        let newest = history(&txn, repository, name).await?;
        if newest.first().map(|row| (row.id, row.end_ms)) != change.based_on {
            return Err(quay_core::Error::TagChanged(name.to_string()));
        }
        let left: Vec<i64> = tag::Entity::find()
            .select_only()
            .column(tag::Column::ManifestId)
            .filter(tag::Column::Id.is_in(change.closings.iter().map(|c| c.row_id)))
            .into_tuple()
            .all(&txn)
            .await
            .or_storage()?;
        for closing in &change.closings {
            close(&txn, *closing).await?;
        }
        for (row_id, end_ms) in &change.expirations {
            tag::Entity::update_many()
                .col_expr(tag::Column::LifetimeEndMs, Expr::value(*end_ms))
                .filter(tag::Column::Id.eq(*row_id))
                .exec(&txn)
                .await
                .or_storage()?;
        }
        if let Some((row_id, immutable)) = change.immutability {
            tag::Entity::update_many()
                .col_expr(tag::Column::Immutable, Expr::value(immutable))
                .filter(tag::Column::Id.eq(row_id))
                .exec(&txn)
                .await
                .or_storage()?;
        }
        if let Some(opening) = change.opening {
            open(&txn, repository, name.to_string(), opening, false).await?;
        }
        let staying = change.opening.map(|opening| opening.manifest_id);
        for manifest_id in left.into_iter().filter(|id| Some(*id) != staying) {
            expire_cosign_companions(&txn, repository, manifest_id, now_ms).await?;
        }
        audit::record(&txn, audit).await?;
        txn.commit().await.or_storage()
    }

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
        if let Some(row) = history.first() {
            expire_cosign_companions(&txn, repository, row.manifest_id, now_ms).await?;
        }
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
        expire_cosign_companions(&txn, repository, manifest_id, now_ms).await?;
        audit::record(&txn, entries).await?;
        txn.commit().await.or_storage()?;
        Ok(alive_tags.len())
    }
}

#[async_trait]
impl TagHistory for SqlMetadata {
    async fn tag_rows(
        &self,
        repository: RepositoryId,
        name: &TagName,
    ) -> quay_core::Result<Vec<(TagRow, Digest)>> {
        let rows = RowWithDigest::find_by_statement(self.statement(
            "SELECT t.id AS id, t.manifest_id AS manifest_id,
                    t.lifetime_start_ms AS lifetime_start_ms, t.lifetime_end_ms AS lifetime_end_ms,
                    t.immutable AS immutable, m.digest AS digest
             FROM tag t JOIN manifest m ON m.id = t.manifest_id
             WHERE t.repository_id = $1 AND t.name = $2 AND t.hidden = $3
             ORDER BY (t.lifetime_end_ms IS NULL) DESC, t.lifetime_end_ms DESC, t.id DESC",
            [repository.into(), name.as_str().into(), false.into()],
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        rows.into_iter()
            .map(|row| {
                let digest = Digest::parse(&row.digest).map_err(|_| {
                    StorageError::CorruptMetadata(format!("tag row {}: digest", row.id))
                })?;
                let tag_row = TagRow {
                    id: row.id,
                    manifest_id: row.manifest_id,
                    start_ms: row.lifetime_start_ms,
                    end_ms: row.lifetime_end_ms,
                    immutable: row.immutable,
                };
                Ok((tag_row, digest))
            })
            .collect()
    }

    async fn tag_history(
        &self,
        repository: RepositoryId,
        query: &TagHistoryQuery,
        now_ms: i64,
    ) -> quay_core::Result<Vec<TagLifetime>> {
        let mut sql = String::from(
            "SELECT t.name AS name, m.digest AS digest, m.media_type AS media_type,
                    m.layers_size AS layers_size, t.lifetime_start_ms AS lifetime_start_ms,
                    t.lifetime_end_ms AS lifetime_end_ms, t.reversion AS reversion,
                    t.immutable AS immutable
             FROM tag t JOIN manifest m ON m.id = t.manifest_id
             WHERE t.repository_id = $1 AND t.hidden = $2",
        );
        let mut values: Vec<sea_orm::Value> = vec![repository.into(), false.into()];
        if query.only_active {
            values.push(now_ms.into());
            let n = values.len();
            sql.push_str(&format!(
                " AND (t.lifetime_end_ms IS NULL OR t.lifetime_end_ms > ${n})"
            ));
        }
        match &query.name {
            Some(TagNameFilter::Exact(name)) => {
                values.push(name.as_str().into());
                sql.push_str(&format!(" AND t.name = ${}", values.len()));
            }
            Some(TagNameFilter::Containing(text)) => {
                values.push(containing(text).into());
                sql.push_str(&format!(
                    " AND LOWER(t.name) LIKE ${} ESCAPE '\\'",
                    values.len()
                ));
            }
            None => {}
        }
        values.push(i64::from(query.limit).into());
        values.push(i64::try_from(query.offset).unwrap_or(i64::MAX).into());
        let n = values.len();
        sql.push_str(&format!(
            " ORDER BY t.lifetime_start_ms DESC, t.name, t.id DESC LIMIT ${} OFFSET ${n}",
            n - 1
        ));
        let rows = LifetimeRow::find_by_statement(self.statement(&sql, values))
            .all(&self.db)
            .await
            .or_storage()?;
        Ok(rows
            .into_iter()
            .map(LifetimeRow::into_lifetime)
            .collect::<Result<_, _>>()?)
    }

    async fn manifest_in_repository(
        &self,
        repository: RepositoryId,
        digest: &Digest,
    ) -> quay_core::Result<Option<i64>> {
        manifest_id(&self.db, repository, digest).await
    }

    async fn held_manifest(
        &self,
        repository: RepositoryId,
        digest: &Digest,
    ) -> quay_core::Result<Option<StoredManifest>> {
        let row = self.manifest_row(repository, digest).await?;
        Ok(row.map(ManifestRow::into_stored).transpose()?)
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
