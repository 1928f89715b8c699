//! Running the auto-prune policies: the tags each selects are deleted, into the time
//! machine, as if a user had deleted them (`autoprune_tag_delete`).

use super::stores::Registry;
use crate::audit::{Actor, LogKind};
use crate::error::{Error, Result};
use crate::names::TagName;
use crate::ports::TagHistoryQuery;
use crate::prune::{PrunableTag, tags_to_prune};

impl Registry {
    /// Applies every policy to every repository it covers; how many tags were pruned.
    pub async fn prune(&self) -> Result<u64> {
        let mut pruned = 0;
        for (policy, repository) in self.prune_targets.prune_targets().await? {
            let now_ms = self.now_ms();
            let alive = TagHistoryQuery {
                only_active: true,
                name: None,
                offset: 0,
                limit: u32::MAX,
            };
            let tags: Vec<PrunableTag> = self
                .tag_history
                .tag_history(repository.id, &alive, now_ms)
                .await?
                .into_iter()
                .map(|lifetime| PrunableTag {
                    name: lifetime.name,
                    start_ms: lifetime.start_ms,
                    immutable: lifetime.immutable,
                })
                .collect();
            let (method, value) = policy.method_and_value();
            for name in tags_to_prune(&policy, &tags, now_ms) {
                let Ok(tag) = TagName::parse(&name) else {
                    continue;
                };
                let audit = Actor::system()
                    .entry(LogKind::AutopruneTagDelete, now_ms)
                    .repository(&repository)
                    .meta("tag", name.as_str())
                    .meta("method", method)
                    .meta("value", value.clone());
                match self
                    .tags
                    .delete_tag(repository.id, &tag, audit, now_ms)
                    .await
                {
                    Ok(true) => pruned += 1,
                    // Changed since it was read: made immutable or already gone.
                    Ok(false) | Err(Error::TagImmutable(_)) => {}
                    Err(other) => return Err(other),
                }
            }
        }
        Ok(pruned)
    }
}
