//! A notification's tag filter (`eventConfig.tag_patterns`): globs over tag names, so that a
//! busy repository notifies only about the tags that matter.

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde_json::Value;

use crate::error::{Error, Result};

/// Globs (`*`, `?`, `[a-z]`, `{a,b}`); an event passes when one of its tags matches one.
#[derive(Clone, Debug)]
pub struct TagFilter {
    globs: GlobSet,
}

impl TagFilter {
    /// The filter of `patterns`; none at all means every tag. A pattern that is not a glob,
    /// or that is empty, is refused with the pattern named.
    pub fn new<'p>(patterns: impl IntoIterator<Item = &'p str>) -> Result<Option<Self>> {
        let mut builder = GlobSetBuilder::new();
        let mut any = false;
        for pattern in patterns {
            if pattern.trim().is_empty() {
                return Err(Error::InvalidRequest(
                    "tag_patterns: a pattern may not be empty".into(),
                ));
            }
            let glob = Glob::new(pattern).map_err(|error| {
                Error::InvalidRequest(format!(
                    "tag_patterns: `{pattern}` is not a glob: {}",
                    error.kind()
                ))
            })?;
            builder.add(glob);
            any = true;
        }
        if !any {
            return Ok(None);
        }
        let globs = builder
            .build()
            .map_err(|error| Error::InvalidRequest(format!("tag_patterns: {error}")))?;
        Ok(Some(Self { globs }))
    }

    /// The filter of a notification's `eventConfig` (its `tag_patterns`), if it has one.
    pub fn of_config(event_config: &Value) -> Result<Option<Self>> {
        match event_config.get("tag_patterns") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(patterns)) => {
                let patterns: Option<Vec<&str>> = patterns.iter().map(Value::as_str).collect();
                Self::new(patterns.ok_or_else(|| {
                    Error::InvalidRequest("eventConfig.tag_patterns must hold strings".into())
                })?)
            }
            Some(_) => Err(Error::InvalidRequest(
                "eventConfig.tag_patterns must be a list of globs".into(),
            )),
        }
    }

    /// Whether any of `tags` matches. An event without tags (a namespace event) never passes
    /// a tag filter.
    pub fn passes<'t>(&self, tags: impl IntoIterator<Item = &'t str>) -> bool {
        tags.into_iter().any(|tag| self.globs.is_match(tag))
    }
}

/// Whether an event about `tags` passes the tag filter of `event_config` (no filter: it
/// does).
pub fn passes(event_config: &Value, tags: &[&str]) -> Result<bool> {
    Ok(
        TagFilter::of_config(event_config)?
            .is_none_or(|filter| filter.passes(tags.iter().copied())),
    )
}
