//! The time machine against a model: random sequences of pushes, moves, deletes, restores,
//! expirations, collections and clock advances run on the real store and on a small
//! in-memory model of the rules; after every step both agree on what each tag pulls and
//! which tags are listed.

use std::collections::BTreeMap;

use crate::support::*;
use quay_core::clock::Clock;
use quay_core::ports::TagHistoryQuery;
use quay_core::{Digest, Error, TagName};

const NAMES: [&str; 3] = ["latest", "stable", "v1"];
const IMAGES: usize = 3;
const SEQUENCES: u64 = 12;
const STEPS: usize = 30;
const HOUR_MS: i64 = 3_600_000;

/// A tag in the model: its alive lifetime (image, start, end) and whether it ever existed.
#[derive(Clone, Copy, Default)]
struct ModelTag {
    alive: Option<(usize, i64, Option<i64>)>,
    ever: bool,
}

impl ModelTag {
    fn alive_at(&self, now: i64) -> Option<(usize, i64, Option<i64>)> {
        self.alive
            .filter(|(_, _, end)| end.is_none_or(|end| end > now))
    }
}

/// A small deterministic generator (xorshift), so that a failing sequence can be replayed.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % sides as u64) as usize
    }
}

pub(crate) async fn the_time_machine_agrees_with_its_model(h: &Harness) {
    let path = repo("ns/model");
    let mut digests: Vec<Digest> = Vec::new();
    for image in 0..IMAGES {
        let config = format!("{{\"image\":{image}}}");
        let layer = format!("layer {image}");
        digests.push(
            push_image(
                &h.registry,
                &path,
                "seed",
                config.as_bytes(),
                &[layer.as_bytes()],
            )
            .await,
        );
    }
    h.registry
        .delete_manifest(&path, &tag("seed"), &NOBODY)
        .await
        .unwrap();
    for sequence in 1..=SEQUENCES {
        let mut dice = Dice(sequence.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut model: BTreeMap<&str, ModelTag> = BTreeMap::new();
        // Each sequence starts from no alive tag.
        for name in NAMES {
            let _ = h.registry.delete_manifest(&path, &tag(name), &NOBODY).await;
        }
        for step in 0..STEPS {
            let name = NAMES[dice.roll(NAMES.len())];
            let tag_name = TagName::parse(name).unwrap();
            let image = dice.roll(IMAGES);
            let now = h.clock.now_ms();
            let entry = model.entry(name).or_default();
            let context = format!("sequence {sequence} step {step}");
            match dice.roll(6) {
                0 => {
                    let config = format!("{{\"image\":{image}}}");
                    let layer = format!("layer {image}");
                    push_image(
                        &h.registry,
                        &path,
                        name,
                        config.as_bytes(),
                        &[layer.as_bytes()],
                    )
                    .await;
                    if entry.alive_at(now).map(|(alive, _, _)| alive) != Some(image) {
                        entry.alive = Some((image, now, None));
                    }
                    entry.ever = true;
                }
                1 => {
                    let deleted = h.registry.delete_manifest(&path, &tag(name), &NOBODY).await;
                    match entry.alive_at(now) {
                        Some(_) => {
                            deleted.unwrap();
                            entry.alive = None;
                        }
                        None => {
                            assert!(matches!(deleted, Err(Error::ManifestUnknown)), "{context}");
                        }
                    }
                }
                2 => {
                    h.registry
                        .restore_tag(&path, &tag_name, &digests[image], &NOBODY)
                        .await
                        .unwrap();
                    entry.alive = Some((image, now, None));
                    entry.ever = true;
                }
                3 => {
                    let wanted = now + [1_000, 2 * HOUR_MS, 30 * 24 * HOUR_MS][dice.roll(3)];
                    let changed = h
                        .registry
                        .change_tag_expiration(&path, &tag_name, Some(wanted), &NOBODY)
                        .await;
                    match entry.alive_at(now) {
                        Some((alive, start, _)) => {
                            changed.unwrap();
                            let end =
                                start + (wanted - start).clamp(HOUR_MS, 104 * 7 * 24 * HOUR_MS);
                            entry.alive = Some((alive, start, Some(end)));
                        }
                        None => {
                            assert!(matches!(changed, Err(Error::NotFound { .. })), "{context}");
                        }
                    }
                }
                4 => {
                    h.clock
                        .advance_ms([1_000, 30 * 60_000, 2 * HOUR_MS][dice.roll(3)]);
                }
                _ => {
                    // Within the window, collection changes nothing a client can see.
                    h.collector().collect().await.unwrap();
                }
            }
            let now = h.clock.now_ms();
            for name in NAMES {
                let expected = model.get(name).copied().unwrap_or_default();
                let pulled = h.registry.manifest(&path, &tag(name), &NOBODY).await;
                match (expected.alive_at(now), expected.ever) {
                    (Some((image, _, _)), _) => {
                        assert_eq!(pulled.unwrap().digest, digests[image], "{context}: {name}");
                    }
                    (None, true) => {
                        assert!(
                            matches!(pulled, Err(Error::TagExpired(_))),
                            "{context}: {name}"
                        );
                    }
                    (None, false) => {
                        assert!(
                            matches!(pulled, Err(Error::ManifestUnknown | Error::TagExpired(_))),
                            "{context}: {name}"
                        );
                    }
                }
            }
            let listed = tag_names(&h.registry, &path).await;
            let alive: Vec<String> = NAMES
                .iter()
                .filter(|name| {
                    model
                        .get(*name)
                        .is_some_and(|tag| tag.alive_at(now).is_some())
                })
                .map(ToString::to_string)
                .collect();
            let mut alive = alive;
            alive.sort();
            assert_eq!(listed, alive, "{context}");
            // The tag API's view: the alive lifetimes, with their targets and expirations.
            let active = TagHistoryQuery {
                only_active: true,
                name: None,
                offset: 0,
                limit: 100,
            };
            let mut lifetimes: Vec<(String, Digest, Option<i64>)> = h
                .registry
                .tag_history(&path, active)
                .await
                .unwrap()
                .lifetimes
                .into_iter()
                .map(|lifetime| (lifetime.name, lifetime.manifest_digest, lifetime.end_ms))
                .collect();
            lifetimes.sort();
            let expected: Vec<(String, Digest, Option<i64>)> = NAMES
                .iter()
                .filter_map(|name| {
                    let (image, _, end) = model.get(name)?.alive_at(now)?;
                    Some(((*name).to_string(), digests[image].clone(), end))
                })
                .collect();
            assert_eq!(lifetimes, expected, "{context}");
        }
    }
}
