//! Sizes against a model: random sequences of image and index pushes (sharing layers
//! within and across namespaces), retags, tag and repository deletions, collections, and
//! pushes that a quota refuses, run on the real store and on a model that knows which
//! manifests exist; after every step the stored sizes equal the model's, and a recomputation
//! from scratch finds nothing to repair.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::Dice;
use crate::support::*;
use quay_core::account::NamespaceRecord;
use quay_core::audit::{Actor, LogKind};
use quay_core::clock::Clock;
use quay_core::names::Namespace;
use quay_core::ports::{AccountStore, QuotaStore};
use quay_core::quota::{BackfillStatus, LimitKind, QuotaLimit, QuotaSettings};
use quay_core::{Digest, Error, RepositoryPath};
use quay_storage::{MetadataOptions, SqlMetadata};

const NAMESPACES: [&str; 2] = ["alpha", "beta"];
const REPOSITORIES: [&str; 2] = ["one", "two"];
const TAGS: [&str; 2] = ["a", "b"];
/// Layer sizes: all different, so that a blob counted twice or not at all shows.
const LAYER_SIZES: [usize; 6] = [101, 211, 331, 457, 587, 719];
const SEQUENCES: u64 = 6;
const STEPS: usize = 25;
/// Longer than a manifest pushed by digest stays alive without a tag.
const TWO_HOURS_MS: i64 = 7_200_000;

/// A manifest as the model sees it: its own blobs and the manifests it lists.
#[derive(Clone)]
struct ModelManifest {
    blobs: BTreeSet<Digest>,
    children: Vec<Digest>,
}

/// What exists: manifests until collected, and the tags that keep them.
#[derive(Default)]
struct Model {
    manifests: BTreeMap<(usize, usize), BTreeMap<Digest, ModelManifest>>,
    tags: BTreeMap<(usize, usize, usize), Digest>,
    sizes: BTreeMap<Digest, u64>,
    /// `beta`'s quota, with one Reject limit at 100 %: (quota id, bytes).
    quota: Option<(i64, u64)>,
    /// Pushes stored and pushes refused, so that the test proves it saw both.
    stored: usize,
    refused: usize,
}

impl Model {
    fn blobs_of(&self, namespace: usize, repository: Option<usize>) -> BTreeSet<&Digest> {
        self.manifests
            .iter()
            .filter(|((ns, repo), _)| *ns == namespace && repository.is_none_or(|r| r == *repo))
            .flat_map(|(_, manifests)| manifests.values())
            .flat_map(|manifest| &manifest.blobs)
            .collect()
    }

    fn size(&self, namespace: usize, repository: Option<usize>) -> u64 {
        self.blobs_of(namespace, repository)
            .into_iter()
            .map(|digest| self.sizes[digest])
            .sum()
    }

    /// Whether pushing `manifest` into the namespace would be refused: by the upload
    /// checks (the namespace plus the blob being uploaded reaches the quota) or by the
    /// manifest check (the namespace with it reaches the quota).
    fn refuses(&self, namespace: usize, manifest: &ModelManifest) -> bool {
        let Some((_, limit)) = self.quota.filter(|_| namespace == 1) else {
            return false;
        };
        let size = self.size(namespace, None);
        let uploads_refused = manifest
            .blobs
            .iter()
            .any(|blob| size >= limit || size + self.sizes[blob] >= limit);
        let present = self.blobs_of(namespace, None);
        let added: u64 = manifest
            .blobs
            .iter()
            .filter(|blob| !present.contains(blob))
            .map(|blob| self.sizes[blob])
            .sum();
        uploads_refused || size + added >= limit
    }

    fn add(
        &mut self,
        namespace: usize,
        repository: usize,
        digest: Digest,
        manifest: ModelManifest,
    ) {
        self.manifests
            .entry((namespace, repository))
            .or_default()
            .entry(digest)
            .or_insert(manifest);
    }

    /// A collection after every hidden tag lapsed: what no alive tag reaches goes.
    fn collect(&mut self) {
        for ((namespace, repository), manifests) in &mut self.manifests {
            let mut reachable: BTreeSet<Digest> = self
                .tags
                .iter()
                .filter(|((ns, repo, _), _)| ns == namespace && repo == repository)
                .map(|(_, digest)| digest.clone())
                .collect();
            let listed: Vec<Digest> = reachable
                .iter()
                .flat_map(|digest| manifests[digest].children.clone())
                .collect();
            reachable.extend(listed);
            manifests.retain(|digest, _| reachable.contains(digest));
        }
    }
}

fn path(namespace: usize, repository: usize) -> RepositoryPath {
    repo(&format!(
        "{}/{}",
        NAMESPACES[namespace], REPOSITORIES[repository]
    ))
}

/// An image of some of the layers, with a config naming them and a variant.
struct Image {
    config: Vec<u8>,
    layers: Vec<Vec<u8>>,
}

impl Image {
    fn new(layers: &[usize], variant: usize) -> Self {
        Self {
            config: format!("{{\"layers\":{layers:?},\"variant\":{variant}}}").into_bytes(),
            layers: layers
                .iter()
                .map(|index| vec![u8::try_from(*index).unwrap() + 1; LAYER_SIZES[*index]])
                .collect(),
        }
    }

    fn blobs(&self) -> impl Iterator<Item = &Vec<u8>> {
        std::iter::once(&self.config).chain(&self.layers)
    }

    fn manifest(&self) -> bytes::Bytes {
        let layers: Vec<&[u8]> = self.layers.iter().map(Vec::as_slice).collect();
        image_manifest(&self.config, &layers, "")
    }

    /// The image as the model sees it; records its blobs' sizes.
    fn model(&self, model: &mut Model) -> ModelManifest {
        let mut blobs = BTreeSet::new();
        for blob in self.blobs() {
            let digest = sha256(blob);
            model.sizes.insert(digest.clone(), blob.len() as u64);
            blobs.insert(digest);
        }
        ModelManifest {
            blobs,
            children: Vec::new(),
        }
    }
}

/// Uploads the image's blobs and pushes its manifest by `reference`.
async fn push(
    h: &Harness,
    target: &RepositoryPath,
    reference: &str,
    image: &Image,
) -> Result<Digest, Error> {
    for blob in image.blobs() {
        h.registry
            .upload_blob(target, &sha256(blob), body(&[blob]), &ANYONE)
            .await?;
    }
    let pushed = h
        .registry
        .put_manifest(
            target,
            &tag(reference),
            Some(OCI_MANIFEST),
            image.manifest(),
            &ANYONE,
        )
        .await?;
    Ok(pushed.digest)
}

fn some_layers(dice: &mut Dice) -> Vec<usize> {
    let count = 1 + dice.roll(3);
    let mut layers: Vec<usize> = (0..count).map(|_| dice.roll(LAYER_SIZES.len())).collect();
    layers.sort_unstable();
    layers.dedup();
    layers
}

/// Pushes an image, which must be refused exactly when the model says so; records what
/// was stored.
async fn push_checked(
    h: &Harness,
    model: &mut Model,
    (namespace, repository): (usize, usize),
    reference: &str,
    image: &Image,
) -> Option<Digest> {
    let manifest = image.model(model);
    let refused = model.refuses(namespace, &manifest);
    let target = path(namespace, repository);
    match push(h, &target, reference, image).await {
        Ok(digest) => {
            assert!(!refused, "{target}:{reference} should have been refused");
            model.add(namespace, repository, digest.clone(), manifest);
            model.stored += 1;
            Some(digest)
        }
        Err(Error::QuotaExceeded(_)) => {
            assert!(refused, "{target}:{reference} was refused");
            model.refused += 1;
            None
        }
        Err(other) => panic!("{target}:{reference}: {other}"),
    }
}

async fn namespace(h: &Harness, index: usize) -> NamespaceRecord {
    h.accounts
        .namespace(&Namespace::parse(NAMESPACES[index]).unwrap())
        .await
        .unwrap()
}

/// The stored sizes equal the model's, and a recomputation finds nothing to repair.
async fn check(h: &Harness, model: &Model, step: &str) {
    for (index, _) in NAMESPACES.iter().enumerate() {
        let record = namespace(h, index).await;
        let size = h.accounts.namespace_size(&record).await.unwrap();
        assert_eq!(size.backfill, BackfillStatus::Complete);
        assert_eq!(
            size.bytes,
            model.size(index, None),
            "{step}: namespace {index}"
        );
        for (repository, _) in REPOSITORIES.iter().enumerate() {
            let Some(found) = h
                .metadata
                .repositories
                .find_repository(&path(index, repository))
                .await
                .unwrap()
            else {
                assert_eq!(model.size(index, Some(repository)), 0, "{step}");
                continue;
            };
            let sizes = h.accounts.repository_sizes(&[found.id]).await.unwrap();
            assert_eq!(
                sizes.get(&found.id).copied().unwrap_or(0),
                model.size(index, Some(repository)),
                "{step}: {}",
                found.path
            );
        }
    }
    let differences = h.accounts.verify_sizes(false).await.unwrap();
    assert!(differences.is_empty(), "{step}: {differences:?}");
}

pub(crate) async fn sizes_agree_with_their_model(h: &Harness) {
    for (index, name) in NAMESPACES.iter().enumerate() {
        let name = Namespace::parse(name).unwrap();
        let audit = Actor::system().entry(LogKind::OrgCreate, 0);
        h.directory
            .create_organization(&name, None, None, audit, 0)
            .await
            .unwrap();
        h.set_window(NAMESPACES[index], 0).await;
    }
    let beta = namespace(h, 1).await;
    let mut model = Model::default();
    let collector = h.collector();
    for sequence in 0..SEQUENCES {
        let mut dice = Dice(sequence.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        for step in 0..STEPS {
            let namespace_index = dice.roll(NAMESPACES.len());
            let repository = dice.roll(REPOSITORIES.len());
            let tag_index = dice.roll(TAGS.len());
            let reference = TAGS[tag_index];
            let what = match dice.roll(10) {
                0..=3 => {
                    let layers = some_layers(&mut dice);
                    let image = Image::new(&layers, 0);
                    let target = (namespace_index, repository);
                    if let Some(digest) =
                        push_checked(h, &mut model, target, reference, &image).await
                    {
                        model
                            .tags
                            .insert((namespace_index, repository, tag_index), digest);
                    }
                    format!("push {layers:?}")
                }
                4 => {
                    // A multi-arch index: two children by digest, then the index by tag.
                    let target = (namespace_index, repository);
                    let mut children = Vec::new();
                    for variant in 1..=2 {
                        let image = Image::new(&some_layers(&mut dice), variant);
                        let digest = sha256(&image.manifest());
                        match push_checked(h, &mut model, target, digest.as_str(), &image).await {
                            Some(digest) => children.push((digest, image.manifest().len())),
                            None => break,
                        }
                    }
                    if children.len() == 2 {
                        let entries: Vec<(&Digest, usize)> = children
                            .iter()
                            .map(|(digest, size)| (digest, *size))
                            .collect();
                        let pushed = h
                            .registry
                            .put_manifest(
                                &path(namespace_index, repository),
                                &tag(reference),
                                Some(OCI_INDEX),
                                index_manifest(&entries),
                                &ANYONE,
                            )
                            .await
                            .expect("an index adds nothing and is never refused");
                        let index = ModelManifest {
                            blobs: BTreeSet::new(),
                            children: children.into_iter().map(|(digest, _)| digest).collect(),
                        };
                        model.add(namespace_index, repository, pushed.digest.clone(), index);
                        model
                            .tags
                            .insert((namespace_index, repository, tag_index), pushed.digest);
                    }
                    "push index".to_string()
                }
                5 => {
                    if model
                        .tags
                        .remove(&(namespace_index, repository, tag_index))
                        .is_some()
                    {
                        h.registry
                            .delete_manifest(
                                &path(namespace_index, repository),
                                &tag(reference),
                                &ANYONE,
                            )
                            .await
                            .unwrap();
                    }
                    "delete tag".to_string()
                }
                6 => {
                    let target = path(namespace_index, repository);
                    if let Some(found) = h
                        .metadata
                        .repositories
                        .find_repository(&target)
                        .await
                        .unwrap()
                    {
                        let audit = NOBODY.entry(LogKind::DeleteRepo, 0);
                        h.metadata
                            .repositories
                            .delete_repository(found.id, audit)
                            .await
                            .unwrap();
                        model.manifests.remove(&(namespace_index, repository));
                        model.tags.retain(|(ns, repo, _), _| {
                            (*ns, *repo) != (namespace_index, repository)
                        });
                    }
                    "delete repository".to_string()
                }
                7 => {
                    h.clock.advance_ms(TWO_HOURS_MS);
                    collector.collect().await.unwrap();
                    model.collect();
                    "collect".to_string()
                }
                8 => {
                    let bytes = model.size(1, None) + 1 + 300 * dice.roll(4) as u64;
                    // Quotas are set through the port: who may set them is the API's
                    // tests' business.
                    let audit = || NOBODY.entry(LogKind::OrgChangeQuota, 0);
                    match model.quota {
                        Some((id, _)) => {
                            h.directory.change_quota(id, bytes, audit()).await.unwrap();
                        }
                        None => {
                            h.directory
                                .create_quota(beta.id, bytes, audit())
                                .await
                                .unwrap();
                            let quota = h.accounts.quota(beta.id).await.unwrap().unwrap();
                            let reject = QuotaLimit::new(LimitKind::Reject, 100).unwrap();
                            h.directory
                                .create_quota_limit(quota.id, reject, audit())
                                .await
                                .unwrap();
                            model.quota = Some((quota.id, bytes));
                        }
                    }
                    model.quota = model.quota.map(|(id, _)| (id, bytes));
                    format!("quota {bytes}")
                }
                _ => {
                    if let Some((id, _)) = model.quota.take() {
                        let audit = NOBODY.entry(LogKind::OrgDeleteQuota, 0);
                        h.directory.delete_quota(id, audit).await.unwrap();
                    }
                    "no quota".to_string()
                }
            };
            let step = format!(
                "sequence {sequence} step {step}: {what} in {}",
                path(namespace_index, repository)
            );
            check(h, &model, &step).await;
        }
    }
    assert!(
        model.stored > 20 && model.refused > 5,
        "stored {}, refused {}",
        model.stored,
        model.refused
    );
}

/// Pushes racing on two nodes into repositories of one namespace, all sharing a layer: the
/// shared layer counts once for the namespace and once for each repository.
pub(crate) async fn racing_pushes_count_a_shared_layer_once(h: &Harness) {
    const RACERS: usize = 16;
    let images: Vec<Image> = (0..RACERS)
        .map(|racer| Image::new(&[0, 1 + racer % 5], racer))
        .collect();
    let pushes = images.iter().enumerate().map(|(racer, image)| {
        let node = if racer % 2 == 0 {
            &h.registry
        } else {
            &h.other_node
        };
        async move {
            let target = repo(&format!("race/repo{racer}"));
            for blob in image.blobs() {
                node.upload_blob(&target, &sha256(blob), body(&[blob]), &ANYONE)
                    .await
                    .unwrap();
            }
            node.put_manifest(
                &target,
                &tag("v1"),
                Some(OCI_MANIFEST),
                image.manifest(),
                &ANYONE,
            )
            .await
            .unwrap();
        }
    });
    futures::future::join_all(pushes).await;

    let distinct: BTreeMap<Digest, u64> = images
        .iter()
        .flat_map(Image::blobs)
        .map(|blob| (sha256(blob), blob.len() as u64))
        .collect();
    let expected: u64 = distinct.values().sum();
    let namespace = h
        .accounts
        .namespace(&Namespace::parse("race").unwrap())
        .await
        .unwrap();
    assert_eq!(
        h.accounts.namespace_size(&namespace).await.unwrap().bytes,
        expected
    );
    for (racer, image) in images.iter().enumerate() {
        let found = h
            .metadata
            .repositories
            .find_repository(&repo(&format!("race/repo{racer}")))
            .await
            .unwrap()
            .unwrap();
        let own: u64 = image.blobs().map(|blob| blob.len() as u64).sum();
        let sizes = h.accounts.repository_sizes(&[found.id]).await.unwrap();
        assert_eq!(sizes[&found.id], own, "repo{racer}");
    }
    assert!(h.accounts.verify_sizes(false).await.unwrap().is_empty());
}

/// Namespaces that existed before sizes were kept, and every node's backfill running at
/// once: each namespace is computed by exactly one node, to the size of its image.
pub(crate) async fn backfills_on_two_nodes_size_each_namespace_once(h: &Harness) {
    const OLDER_NAMESPACES: usize = 6;
    let mut expected = BTreeMap::new();
    for index in 0..OLDER_NAMESPACES {
        let image = Image::new(&[index, (index + 1) % LAYER_SIZES.len()], index);
        let name = format!("older{index}");
        push(h, &repo(&format!("{name}/app")), "v1", &image)
            .await
            .unwrap();
        let bytes: u64 = image.blobs().map(|blob| blob.len() as u64).sum();
        expected.insert(name, bytes);
    }
    // A node that ran with quota management off made every size unknown.
    let connect = async |management| {
        let quota = QuotaSettings {
            management,
            ..QUOTA
        };
        SqlMetadata::connect(&h.database_uri, &MetadataOptions::default(), quota)
            .await
            .unwrap()
    };
    drop(connect(false).await);

    let (first, second) = (connect(true).await, connect(true).await);
    let now_ms = h.clock.now_ms();
    let (by_first, by_second) = futures::join!(
        first.backfill_sizes(100, now_ms),
        second.backfill_sizes(100, now_ms)
    );
    assert_eq!(
        by_first.unwrap() + by_second.unwrap(),
        u32::try_from(OLDER_NAMESPACES).unwrap(),
        "each namespace computed once"
    );
    for (name, bytes) in expected {
        let record = h
            .accounts
            .namespace(&Namespace::parse(&name).unwrap())
            .await
            .unwrap();
        let size = h.accounts.namespace_size(&record).await.unwrap();
        assert_eq!(
            (size.bytes, size.backfill),
            (bytes, BackfillStatus::Complete),
            "{name}"
        );
    }
    assert!(h.accounts.verify_sizes(false).await.unwrap().is_empty());
}
