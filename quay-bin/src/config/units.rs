//! How Quay writes values that are not plain YAML: durations (`2w`, `30m`), seconds, sizes
//! (`20G`). Shared by every section, the server's `Limits` too.

use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Deserializer};

/// A duration as Quay writes it: `2w`, `1d`, `30m`.
pub(crate) fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}

pub(super) fn durations<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Duration>, D::Error> {
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|text| parse_duration(text).map_err(serde::de::Error::custom))
        .collect()
}

fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    quay_core::duration::parse(text)
        .with_context(|| format!("{text:?} is not a duration such as 2w, 1d or 30m"))
}

/// A number of seconds.
pub(super) fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    u64::deserialize(deserializer).map(Duration::from_secs)
}

pub(super) fn optional_seconds<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    seconds(deserializer).map(Some)
}

pub(super) fn size<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_size(&text)
        .map(Some)
        .map_err(|error| serde::de::Error::custom(format!("{error:#}")))
}

/// A size as Quay writes it: `20G`, `512M`, `1024` (bytes); units are binary.
pub(super) fn parse_size(text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .with_context(|| format!("invalid size {text:?}"))?;
    let shift = match unit
        .trim()
        .trim_end_matches(['b', 'B'])
        .trim_end_matches('i')
    {
        "" => 0,
        "K" | "k" => 10,
        "M" | "m" => 20,
        "G" | "g" => 30,
        "T" | "t" => 40,
        _ => bail!("invalid size unit in {text:?}"),
    };
    number
        .checked_mul(1 << shift)
        .with_context(|| format!("size {text:?} is too large"))
}
