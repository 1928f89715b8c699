//! Auto-prune policies (`FEATURE_AUTO_PRUNE`): which tags of a repository a policy deletes.
//!
//! A policy keeps the newest `number_of_tags` tags, or deletes tags older than a
//! `creation_date` duration; a tag pattern narrows it to the tags whose names match (or,
//! with `tagPatternMatches: false`, do not match). Pruning is an ordinary delete: the tag
//! goes into the time machine. Immutable tags and cosign companion tags are never pruned.

use regex::Regex;

use crate::duration;
use crate::error::{Error, Result};
use crate::tag::is_cosign_companion;

/// How a policy chooses tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PruneMethod {
    /// Keep this many of the newest tags.
    NumberOfTags(u32),
    /// Delete tags created longer ago than this (`7d`, `2w`...).
    CreationDate(String),
}

/// An auto-prune policy of a namespace or of one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrunePolicy {
    /// Its id.
    pub uuid: String,
    /// How it chooses.
    pub method: PruneMethod,
    /// Only tags whose names match this regular expression (or do not, see below).
    pub tag_pattern: Option<String>,
    /// Whether the pattern selects the matching tags (`true`) or the others.
    pub pattern_matches: bool,
}

impl PrunePolicy {
    /// A policy from the API's fields, checked: an unknown method, a count that is not a
    /// positive integer, a duration that does not parse or a pattern that does not compile
    /// is refused.
    pub fn parse(
        uuid: String,
        method: &str,
        value: &serde_json::Value,
        tag_pattern: Option<String>,
        pattern_matches: Option<bool>,
    ) -> Result<Self> {
        let method = match method {
            "number_of_tags" => match value.as_u64().and_then(|n| u32::try_from(n).ok()) {
                Some(count) if count > 0 => PruneMethod::NumberOfTags(count),
                _ => {
                    return Err(invalid(
                        "value must be a positive integer for number_of_tags",
                    ));
                }
            },
            "creation_date" => match value.as_str() {
                Some(text) if duration::parse(text).is_some_and(|d| !d.is_zero()) => {
                    PruneMethod::CreationDate(text.to_string())
                }
                _ => {
                    return Err(invalid(
                        "value must be a duration such as 7d or 2w for creation_date",
                    ));
                }
            },
            other => return Err(invalid(&format!("Invalid method provided: {other:?}"))),
        };
        if let Some(pattern) = &tag_pattern {
            Regex::new(pattern)
                .map_err(|error| invalid(&format!("Invalid tag pattern: {error}")))?;
        }
        Ok(Self {
            uuid,
            method,
            tag_pattern: tag_pattern.filter(|pattern| !pattern.is_empty()),
            pattern_matches: pattern_matches.unwrap_or(true),
        })
    }

    /// The method's name and value, as the API and the store show them.
    pub fn method_and_value(&self) -> (&'static str, serde_json::Value) {
        match &self.method {
            PruneMethod::NumberOfTags(count) => ("number_of_tags", (*count).into()),
            PruneMethod::CreationDate(text) => ("creation_date", text.as_str().into()),
        }
    }
}

/// An alive tag, as a policy sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrunableTag {
    /// Its name.
    pub name: String,
    /// When its current lifetime started, epoch milliseconds.
    pub start_ms: i64,
    /// Immutable tags are never pruned.
    pub immutable: bool,
}

/// The names of the tags `policy` deletes among `tags` at `now_ms`.
pub fn tags_to_prune(policy: &PrunePolicy, tags: &[PrunableTag], now_ms: i64) -> Vec<String> {
    let pattern = policy
        .tag_pattern
        .as_deref()
        .and_then(|pattern| Regex::new(pattern).ok());
    let mut candidates: Vec<&PrunableTag> = tags
        .iter()
        .filter(|tag| !tag.immutable && !is_cosign_companion(&tag.name))
        .filter(|tag| {
            pattern
                .as_ref()
                .is_none_or(|pattern| pattern.is_match(&tag.name) == policy.pattern_matches)
        })
        .collect();
    // Newest first; among tags of one moment, by name, so that the choice is stable.
    candidates.sort_by(|a, b| b.start_ms.cmp(&a.start_ms).then(a.name.cmp(&b.name)));
    match &policy.method {
        PruneMethod::NumberOfTags(keep) => candidates
            .into_iter()
            .skip(*keep as usize)
            .map(|tag| tag.name.clone())
            .collect(),
        PruneMethod::CreationDate(text) => {
            let max_age = duration::parse(text).map_or(i64::MAX, duration::as_ms);
            candidates
                .into_iter()
                .filter(|tag| tag.start_ms < now_ms.saturating_sub(max_age))
                .map(|tag| tag.name.clone())
                .collect()
        }
    }
}

fn invalid(message: &str) -> Error {
    Error::InvalidRequest(message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str, start_ms: i64) -> PrunableTag {
        PrunableTag {
            name: name.to_string(),
            start_ms,
            immutable: false,
        }
    }

    fn policy(
        method: &str,
        value: &serde_json::Value,
        pattern: Option<&str>,
        matches: bool,
    ) -> PrunePolicy {
        PrunePolicy::parse(
            "p".into(),
            method,
            value,
            pattern.map(str::to_string),
            Some(matches),
        )
        .unwrap()
    }

    #[test]
    fn by_count_keeps_the_newest() {
        let tags = [tag("a", 1), tag("b", 3), tag("c", 2), tag("d", 4)];
        let keep_two = policy("number_of_tags", &2.into(), None, true);
        let mut pruned = tags_to_prune(&keep_two, &tags, 10);
        pruned.sort();
        assert_eq!(pruned, ["a", "c"]);
    }

    #[test]
    fn by_age_deletes_the_old() {
        let day = 86_400_000;
        let tags = [tag("old", 0), tag("new", 9 * day)];
        let week = policy("creation_date", &"7d".into(), None, true);
        assert_eq!(tags_to_prune(&week, &tags, 10 * day), ["old"]);
    }

    #[test]
    fn patterns_immutable_and_cosign_tags() {
        let mut frozen = tag("dev-frozen", 0);
        frozen.immutable = true;
        let signature = format!("sha256-{}.sig", "a".repeat(64));
        let tags = [
            tag("dev-1", 1),
            tag("dev-2", 2),
            tag("release", 0),
            frozen,
            tag(&signature, 0),
        ];
        let only_dev = policy("number_of_tags", &1.into(), Some("^dev-"), true);
        assert_eq!(tags_to_prune(&only_dev, &tags, 10), ["dev-1"]);
        let all_but_dev = policy("number_of_tags", &1.into(), Some("^dev-"), false);
        assert!(tags_to_prune(&all_but_dev, &tags, 10).is_empty());
    }

    #[test]
    fn bad_policies_are_refused() {
        for (method, value, pattern) in [
            ("number_of_tags", serde_json::json!(0), None),
            ("number_of_tags", serde_json::json!("3"), None),
            ("creation_date", serde_json::json!("soon"), None),
            ("creation_date", serde_json::json!(7), None),
            ("sometimes", serde_json::json!(1), None),
            (
                "number_of_tags",
                serde_json::json!(1),
                Some("(".to_string()),
            ),
        ] {
            assert!(
                matches!(
                    PrunePolicy::parse("p".into(), method, &value, pattern, None),
                    Err(Error::InvalidRequest(_))
                ),
                "{method} {value}"
            );
        }
    }
}
