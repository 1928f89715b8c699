//! Storage quota: what counts towards a namespace's and a repository's size, how a
//! namespace's limits are evaluated against it, and the human sizes the API accepts and
//! shows (`10 GiB`).
//!
//! A size is the sum of the sizes of the distinct blobs that the manifests of a repository
//! (or of all repositories of a namespace) reference. A blob counts once however many
//! manifests share it; a manifest list adds nothing of its own, its children count. Blobs
//! that were uploaded but that no manifest references yet do not count: a failed push leaves
//! nothing counted. The store keeps the totals exact by applying [`size_change`] in the
//! transaction that adds or removes a manifest; totals of data older than the accounting
//! are computed once by a backfill ([`BackfillStatus`]).
//!
//! A namespace has at most one quota (`limit_bytes`) with any number of limits, each a
//! Warning or a Reject at a percentage of it. The largest threshold the size has reached
//! decides; a quota without limits never warns or rejects. A namespace without a quota is
//! rejected only by the registry-wide `DEFAULT_SYSTEM_REJECT_QUOTA_BYTES`, when set.

mod validation;

use serde::Deserialize;

use crate::account::NamespaceId;

/// What crossing a limit does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// Pushes continue; the namespace's admins are told.
    Warning,
    /// Pushes are refused while the namespace is at it.
    Reject,
}

impl LimitKind {
    /// Quay's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "Warning",
            Self::Reject => "Reject",
        }
    }
}

/// A limit of a quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaLimit {
    /// What crossing it does.
    pub kind: LimitKind,
    /// At which percentage of the quota, 1 to 100.
    pub threshold_percent: u8,
}

impl QuotaLimit {
    /// The size at which the limit is reached.
    pub fn bytes_allowed(self, limit_bytes: u64) -> u64 {
        let allowed = u128::from(limit_bytes) * u128::from(self.threshold_percent) / 100;
        u64::try_from(allowed).unwrap_or(u64::MAX)
    }
}

/// The limit a size has reached, if any: the one with the largest threshold among those
/// reached.
pub fn evaluate(limit_bytes: u64, limits: &[QuotaLimit], size: u64) -> Option<QuotaLimit> {
    limits
        .iter()
        .copied()
        .filter(|limit| size >= limit.bytes_allowed(limit_bytes))
        .max_by_key(|limit| {
            (
                limit.bytes_allowed(limit_bytes),
                limit.kind == LimitKind::Reject,
            )
        })
}

/// For a namespace without a quota: a Reject at 100 % of the registry-wide default, when
/// one is set (non-zero) and reached.
pub fn evaluate_default(system_reject_bytes: u64, size: u64) -> Option<QuotaLimit> {
    (system_reject_bytes > 0 && size >= system_reject_bytes).then_some(QuotaLimit {
        kind: LimitKind::Reject,
        threshold_percent: 100,
    })
}

/// A quota as stored: its size and its limits, each with its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceQuota {
    /// Database id.
    pub id: i64,
    /// The namespace it limits.
    pub namespace: NamespaceId,
    /// The quota, in bytes.
    pub limit_bytes: u64,
    /// Its limits, by id, in the order they were created.
    pub limits: Vec<(i64, QuotaLimit)>,
}

impl NamespaceQuota {
    /// The limit that `size` reaches, if any.
    pub fn evaluate(&self, size: u64) -> Option<QuotaLimit> {
        let limits: Vec<QuotaLimit> = self.limits.iter().map(|(_, limit)| *limit).collect();
        evaluate(self.limit_bytes, &limits, size)
    }
}

/// Quota switches of the registry, with Quay's keys and defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct QuotaSettings {
    /// Whether sizes are kept and the quota API served (off).
    #[serde(rename = "FEATURE_QUOTA_MANAGEMENT")]
    pub management: bool,
    /// Whether pushes are checked against limits (on; only with management).
    #[serde(rename = "FEATURE_VERIFY_QUOTA")]
    pub verify: bool,
    /// The Reject size of namespaces without a quota (0, the default, for none).
    #[serde(rename = "DEFAULT_SYSTEM_REJECT_QUOTA_BYTES")]
    pub system_reject_bytes: u64,
}

impl Default for QuotaSettings {
    fn default() -> Self {
        Self {
            management: false,
            verify: true,
            system_reject_bytes: 0,
        }
    }
}

impl QuotaSettings {
    /// Whether pushes are checked.
    pub fn enforced(&self) -> bool {
        self.management && self.verify
    }

    /// What a namespace of `size` bytes, limited by `quota`, has reached.
    pub fn judge(&self, quota: Option<&NamespaceQuota>, size: u64) -> Option<Reached> {
        let limit = match quota {
            Some(quota) => quota.evaluate(size),
            None => evaluate_default(self.system_reject_bytes, size),
        }?;
        Some(Reached {
            limit,
            limit_bytes: quota.map_or(self.system_reject_bytes, |quota| quota.limit_bytes),
            size,
        })
    }

    /// The quota a namespace works under: its own, or the system default.
    pub fn configured_bytes(&self, quota: Option<&NamespaceQuota>) -> Option<u64> {
        match quota {
            Some(quota) => Some(quota.limit_bytes),
            None => (self.system_reject_bytes > 0).then_some(self.system_reject_bytes),
        }
    }
}

/// A limit a namespace's size has reached: what a push is told and the admins are notified
/// of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reached {
    /// The limit.
    pub limit: QuotaLimit,
    /// The quota it is a percentage of, in bytes.
    pub limit_bytes: u64,
    /// The size that reached it.
    pub size: u64,
}

/// How one blob of a manifest being added or removed is used elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobUse {
    /// Its size.
    pub size: u64,
    /// Whether another manifest of the same repository references it.
    pub elsewhere_in_repository: bool,
    /// Whether another manifest of the same namespace (this repository included)
    /// references it.
    pub elsewhere_in_namespace: bool,
}

/// By how much adding (or removing) a manifest changes the sizes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SizeChange {
    /// Change of the repository's size.
    pub repository: u64,
    /// Change of the namespace's size.
    pub namespace: u64,
}

/// The size change of adding or removing a manifest whose distinct blobs are used as `uses`
/// say: a blob counts for the repository unless another of its manifests has it, and for
/// the namespace unless another manifest of the namespace has it.
pub fn size_change(uses: impl IntoIterator<Item = BlobUse>) -> SizeChange {
    uses.into_iter()
        .fold(SizeChange::default(), |change, blob| SizeChange {
            repository: change.repository
                + if blob.elsewhere_in_repository {
                    0
                } else {
                    blob.size
                },
            namespace: change.namespace
                + if blob.elsewhere_in_namespace {
                    0
                } else {
                    blob.size
                },
        })
}

/// Whether a namespace's size is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackfillStatus {
    /// Not computed yet: the namespace existed before sizes were kept.
    Waiting,
    /// Being computed.
    Running,
    /// Known, and kept exact by every change.
    Complete,
}

impl BackfillStatus {
    /// Quay's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Running => "running",
            Self::Complete => "complete",
        }
    }
}

/// A namespace's size as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamespaceSize {
    /// Bytes (0 until the backfill is complete).
    pub bytes: u64,
    /// Whether `bytes` is known.
    pub backfill: BackfillStatus,
}

/// A stored total that differs from what the data says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SizeDifference {
    /// `namespace` or `namespace/repository`.
    pub owner: String,
    /// The stored total (`None`: no total stored).
    pub stored: Option<u64>,
    /// What the manifests reference.
    pub actual: u64,
}

/// Binary units, by power of 1024.
const BINARY_UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
/// Decimal units, by power of 1000.
const DECIMAL_UNITS: [&str; 7] = ["B", "KB", "MB", "GB", "TB", "PB", "EB"];

/// Parses a size as the quota API accepts it: an integer with an optional unit, binary
/// (`KiB`, or `Ki`, up to `EiB`) or decimal (`KB`, or `K`, up to `EB`); no unit means bytes.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let number: u64 = text[..digits].parse().ok()?;
    let unit = text[digits..].strip_prefix(' ').unwrap_or(&text[digits..]);
    if unit.is_empty() {
        return Some(number);
    }
    let power = |units: &[&str; 7], short: fn(&str) -> String| {
        units
            .iter()
            .position(|full| *full == unit || (full.len() > 1 && short(full) == unit))
    };
    let (base, exponent) = if let Some(exponent) = power(&BINARY_UNITS, |full| full[..2].into()) {
        (1024_u64, exponent)
    } else if let Some(exponent) = power(&DECIMAL_UNITS, |full| full[..1].into()) {
        (1000_u64, exponent)
    } else {
        return None;
    };
    let exponent = u32::try_from(exponent).ok()?;
    number.checked_mul(base.checked_pow(exponent)?)
}

/// A size with one decimal in the largest binary unit that keeps it at least 1
/// (`10.0 GiB`), as Quay shows quotas.
pub fn human_size(bytes: u64) -> String {
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < BINARY_UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", BINARY_UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(kind: LimitKind, percent: i64) -> QuotaLimit {
        QuotaLimit::new(kind, percent).unwrap()
    }

    #[test]
    fn the_largest_reached_threshold_decides() {
        let limits = [
            limit(LimitKind::Warning, 70),
            limit(LimitKind::Reject, 80),
            limit(LimitKind::Warning, 90),
        ];
        assert_eq!(evaluate(1000, &limits, 699), None);
        assert_eq!(evaluate(1000, &limits, 700), Some(limits[0]));
        assert_eq!(evaluate(1000, &limits, 850), Some(limits[1]));
        // A warning above the reject threshold wins once reached, as in Quay.
        assert_eq!(evaluate(1000, &limits, 900), Some(limits[2]));
        assert_eq!(evaluate(1000, &[], u64::MAX), None, "no limits: never");
    }

    #[test]
    fn the_system_default_rejects_only_when_set() {
        assert_eq!(evaluate_default(0, u64::MAX), None);
        assert_eq!(evaluate_default(100, 99), None);
        assert_eq!(
            evaluate_default(100, 100).map(|limit| limit.kind),
            Some(LimitKind::Reject)
        );
    }

    #[test]
    fn thresholds_and_kinds_are_checked() {
        for percent in [0, 101, -5] {
            assert!(
                QuotaLimit::new(LimitKind::Warning, percent).is_err(),
                "{percent}"
            );
        }
        assert_eq!(LimitKind::parse("REJECT").unwrap(), LimitKind::Reject);
        assert!(LimitKind::parse("stop").is_err());
    }

    fn blob(size: u64, in_repository: bool, in_namespace: bool) -> BlobUse {
        BlobUse {
            size,
            elsewhere_in_repository: in_repository,
            elsewhere_in_namespace: in_namespace,
        }
    }

    #[test]
    fn a_blob_counts_where_nothing_else_has_it() {
        let change = size_change([
            blob(1, false, false),
            blob(10, false, true),
            blob(100, true, true),
        ]);
        assert_eq!(
            change,
            SizeChange {
                repository: 11,
                namespace: 1
            }
        );
        assert_eq!(size_change([]), SizeChange::default());
    }

    #[test]
    fn a_namespace_is_judged_by_its_quota_or_the_system_default() {
        let settings = QuotaSettings {
            management: true,
            verify: true,
            system_reject_bytes: 500,
        };
        let quota = NamespaceQuota {
            id: 1,
            namespace: 7,
            limit_bytes: 1000,
            limits: vec![(1, limit(LimitKind::Warning, 50))],
        };
        let reached = settings.judge(Some(&quota), 600).unwrap();
        assert_eq!(reached.limit.kind, LimitKind::Warning);
        assert_eq!(reached.limit_bytes, 1000);
        assert_eq!(settings.judge(Some(&quota), 499), None);
        assert_eq!(
            settings
                .judge(None, 500)
                .map(|r| (r.limit.kind, r.limit_bytes)),
            Some((LimitKind::Reject, 500))
        );
        assert_eq!(settings.configured_bytes(None), Some(500));
        assert_eq!(settings.configured_bytes(Some(&quota)), Some(1000));
        let off = QuotaSettings::default();
        assert_eq!(off.configured_bytes(None), None);
        assert!(!off.enforced());
    }

    #[test]
    fn sizes_in_every_unit() {
        assert_eq!(parse_size("10 GiB"), Some(10 << 30));
        assert_eq!(parse_size("10GiB"), Some(10 << 30));
        assert_eq!(parse_size("5 Mi"), Some(5 << 20));
        assert_eq!(parse_size("3 KB"), Some(3_000));
        assert_eq!(parse_size("2 M"), Some(2_000_000));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("7 B"), Some(7));
        for bad in [
            "",
            "GiB",
            "1.5 GiB",
            "10 gib",
            "10  GiB",
            "-1",
            "99999999999 EiB",
        ] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
        assert_eq!(human_size(10 << 30), "10.0 GiB");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(3), "3.0 B");
    }
}
