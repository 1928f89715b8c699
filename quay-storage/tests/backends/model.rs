//! The time machine against a model: random sequences of pushes, moves, deletes, restores,
//! expirations, permanent removals, collections and clock advances run on the real store
//! and on a small in-memory model of the rules; after every step both agree on what each
//! tag pulls, which tags are listed, and what the tag API shows.

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

/// A tag in the model: its newest lifetime (image, start, planned end), and how many of its
/// other rows are kept by the window or are past it until the next collection. The clock
/// never moves two weeks, so no kept row ever passes the default window.
#[derive(Clone, Copy, Default)]
struct ModelTag {
    newest: Option<(usize, i64, Option<i64>)>,
    kept: usize,
    purgeable: usize,
}

impl ModelTag {
    fn alive_at(&self, now: i64) -> Option<(usize, i64, Option<i64>)> {
        self.newest
            .filter(|(_, _, end)| end.is_none_or(|end| end > now))
    }

    /// The newest lifetime ends (or has ended) and stays in the time machine.
    fn close(&mut self) {
        if self.newest.take().is_some() {
            self.kept += 1;
        }
    }

    fn open(&mut self, image: usize, now: i64) {
        self.close();
        self.newest = Some((image, now, None));
    }

    fn has_rows(&self) -> bool {
        self.newest.is_some() || self.kept + self.purgeable > 0
    }
}

/// A small deterministic generator (xorshift), so that a failing sequence can be replayed.
pub(crate) struct Dice(pub(crate) u64);

impl Dice {
    pub(crate) fn roll(&mut self, sides: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % sides as u64) as usize
    }
}

fn image_parts(image: usize) -> (String, String) {
    (format!("{{\"image\":{image}}}"), format!("layer {image}"))
}

pub(crate) async fn the_time_machine_agrees_with_its_model(h: &Harness) {
    let path = repo("ns/model");
    // Every image is pushed once under a tag of its own and that tag deleted, so that the
    // images stay restorable for the whole test (the window is two weeks).
    let mut digests: Vec<Digest> = Vec::new();
    for image in 0..IMAGES {
        let (config, layer) = image_parts(image);
        let name = format!("seed-{image}");
        digests.push(
            push_image(
                &h.registry,
                &path,
                &name,
                config.as_bytes(),
                &[layer.as_bytes()],
            )
            .await,
        );
        h.registry
            .delete_manifest(&path, &tag(&name), &ANYONE)
            .await
            .unwrap();
    }
    let mut model: BTreeMap<&str, ModelTag> = BTreeMap::new();
    for sequence in 1..=SEQUENCES {
        let mut dice = Dice(sequence.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for step in 0..STEPS {
            let context = format!("sequence {sequence} step {step}");
            let name = NAMES[dice.roll(NAMES.len())];
            let tag_name = TagName::parse(name).unwrap();
            let image = dice.roll(IMAGES);
            let now = h.clock.now_ms();
            let entry = model.entry(name).or_default();
            match dice.roll(7) {
                0 => {
                    let (config, layer) = image_parts(image);
                    push_image(
                        &h.registry,
                        &path,
                        name,
                        config.as_bytes(),
                        &[layer.as_bytes()],
                    )
                    .await;
                    // Pushing what an alive tag already points to changes nothing.
                    if entry.alive_at(now).map(|(alive, _, _)| alive) != Some(image) {
                        entry.open(image, now);
                    }
                }
                1 => {
                    let deleted = h.registry.delete_manifest(&path, &tag(name), &ANYONE).await;
                    if entry.alive_at(now).is_some() {
                        deleted.unwrap();
                        entry.close();
                    } else {
                        assert!(matches!(deleted, Err(Error::ManifestUnknown)), "{context}");
                    }
                }
                2 => {
                    h.registry
                        .restore_tag(&path, &tag_name, &digests[image], &ANYONE)
                        .await
                        .unwrap();
                    entry.open(image, now);
                }
                3 => {
                    let wanted = now + [1_000, 2 * HOUR_MS, 30 * 24 * HOUR_MS][dice.roll(3)];
                    let changed = h
                        .registry
                        .change_tag_expiration(&path, &tag_name, Some(wanted), &NOBODY)
                        .await;
                    if let Some((alive, start, _)) = entry.alive_at(now) {
                        changed.unwrap();
                        let lifetime = (wanted - start).clamp(HOUR_MS, 104 * 7 * 24 * HOUR_MS);
                        entry.newest = Some((alive, start, Some(start + lifetime)));
                    } else {
                        assert!(matches!(changed, Err(Error::NotFound { .. })), "{context}");
                    }
                }
                4 => {
                    h.clock
                        .advance_ms([1_000, 30 * 60_000, 2 * HOUR_MS][dice.roll(3)]);
                }
                5 => {
                    // Out of the time machine: the alive lifetime ends before the window.
                    let alive = entry.alive_at(now);
                    let target = alive.map_or(image, |(alive, _, _)| alive);
                    let removed = h
                        .registry
                        .remove_tag_from_time_machine(
                            &path,
                            &tag_name,
                            Some(&digests[target]),
                            true,
                            &ANYONE,
                        )
                        .await
                        .unwrap();
                    assert_eq!(removed, alive.is_some(), "{context}");
                    if removed {
                        entry.newest = None;
                        entry.purgeable += 1;
                    }
                }
                _ => {
                    // Only what was taken out of the time machine goes.
                    h.collector().collect().await.unwrap();
                    for tag in model.values_mut() {
                        tag.purgeable = 0;
                    }
                }
            }
            check(h, &path, &model, &digests, &context).await;
        }
    }
}

/// `/v2` pulls, `tags/list` and the tag API's active lifetimes agree with the model.
async fn check(
    h: &Harness,
    path: &quay_core::RepositoryPath,
    model: &BTreeMap<&str, ModelTag>,
    digests: &[Digest],
    context: &str,
) {
    let now = h.clock.now_ms();
    let mut expected_lifetimes = Vec::new();
    let mut expected_names = Vec::new();
    for name in NAMES {
        let expected = model.get(name).copied().unwrap_or_default();
        let pulled = h.registry.manifest(path, &tag(name), &ANYONE).await;
        match expected.alive_at(now) {
            Some((image, _, end)) => {
                assert_eq!(
                    pulled.unwrap().manifest.digest,
                    digests[image],
                    "{context}: {name}"
                );
                expected_names.push(name.to_string());
                expected_lifetimes.push((name.to_string(), digests[image].clone(), end));
            }
            None if expected.has_rows() => {
                assert!(
                    matches!(pulled, Err(Error::TagExpired(_))),
                    "{context}: {name}: {pulled:?}"
                );
            }
            None => {
                assert!(
                    matches!(pulled, Err(Error::ManifestUnknown)),
                    "{context}: {name}: {pulled:?}"
                );
            }
        }
    }
    assert_eq!(
        tag_names(&h.registry, path).await,
        expected_names,
        "{context}"
    );
    let active = TagHistoryQuery {
        only_active: true,
        name: None,
        offset: 0,
        limit: 100,
    };
    let mut lifetimes: Vec<(String, Digest, Option<i64>)> = h
        .registry
        .tag_history(path, active, &ANYONE)
        .await
        .unwrap()
        .lifetimes
        .into_iter()
        .map(|lifetime| (lifetime.name, lifetime.manifest_digest, lifetime.end_ms))
        .collect();
    lifetimes.sort();
    assert_eq!(lifetimes, expected_lifetimes, "{context}");
}
