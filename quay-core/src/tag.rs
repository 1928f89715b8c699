//! The time machine: a tag is a row with a lifetime, never a value overwritten in place.
//!
//! Every retarget closes the tag's alive row and opens a new one; a delete closes the alive
//! row. Closed rows stay behind as history (restorable until garbage collection removes
//! them). The functions here are pure: given the rows a store read under its lock, they
//! return the changes to apply, and the store applies them in the same transaction.
//!
//! A lifetime never ends before it starts, even when the clocks of several nodes disagree:
//! a row is closed at the later of now and its own start. (The one exception is a row taken
//! out of the time machine on purpose, which ends before the window to be collected.) Rows of one tag may end in the
//! same millisecond (a tag pushed twice within it); the stores order such rows by insertion.
//! They serialize changes per repository, so there is never more than one alive row to close.

use std::collections::BTreeMap;

use crate::duration;
use crate::error::{Error, Result};
use crate::names::Digest;

/// Database id of a manifest row.
pub type ManifestId = i64;

/// One lifetime of a tag: from `start_ms` until `end_ms` (open-ended when `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagRow {
    /// Database id of the row.
    pub id: i64,
    /// The manifest the tag pointed to during this lifetime.
    pub manifest_id: ManifestId,
    /// When the lifetime began, in epoch milliseconds.
    pub start_ms: i64,
    /// When it ends or ended; `None` while open.
    pub end_ms: Option<i64>,
    /// An immutable tag can be neither moved nor deleted.
    pub immutable: bool,
}

impl TagRow {
    /// Alive: not yet ended at `now_ms`.
    pub fn is_alive(&self, now_ms: i64) -> bool {
        self.end_ms.is_none_or(|end| end > now_ms)
    }
}

/// Closing a tag row: set its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Closing {
    /// The row to close.
    pub row_id: i64,
    /// Its new end, epoch milliseconds.
    pub end_ms: i64,
}

/// Where a retarget points a tag, and how the new lifetime is marked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Target {
    /// The manifest the tag is to point to.
    pub manifest_id: ManifestId,
    /// The new lifetime ends after this long (an expiration), if set.
    pub lifetime_ms: Option<i64>,
    /// The lifetime restores an earlier one (the time machine's restore).
    pub reversion: bool,
    /// The new lifetime cannot be moved, deleted or expired.
    pub immutable: bool,
}

/// A new lifetime to insert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opening {
    /// The manifest the tag now points to.
    pub manifest_id: ManifestId,
    /// Start of the lifetime.
    pub start_ms: i64,
    /// Planned end (expiration), if any.
    pub end_ms: Option<i64>,
    /// A restored lifetime.
    pub reversion: bool,
    /// An immutable one.
    pub immutable: bool,
}

/// What a retarget does to the rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retarget {
    /// The tag already points to that manifest: nothing changes, no history row is written.
    Unchanged,
    /// Close the alive row (if any) and open a new one.
    Move {
        /// The alive row being closed.
        close: Option<Closing>,
        /// The new row.
        open: Opening,
    },
}

/// Points tag `name` at `target`.
///
/// `history` holds the tag's rows, at least its alive row if it has one. A restore
/// (`target.reversion`) always opens a new row, so that the history shows it.
pub fn retarget(name: &str, history: &[TagRow], target: Target, now_ms: i64) -> Result<Retarget> {
    let alive = alive_row(history, now_ms);
    if let Some(row) = alive {
        if row.manifest_id == target.manifest_id && !target.reversion {
            return Ok(Retarget::Unchanged);
        }
        if row.immutable {
            return Err(Error::TagImmutable(name.to_string()));
        }
    }
    let start_ms = alive.map_or(now_ms, |row| close_time(row, now_ms));
    Ok(Retarget::Move {
        close: alive.map(|row| Closing {
            row_id: row.id,
            end_ms: start_ms,
        }),
        open: Opening {
            manifest_id: target.manifest_id,
            start_ms,
            end_ms: target.lifetime_ms.map(|ms| start_ms.saturating_add(ms)),
            reversion: target.reversion,
            immutable: target.immutable,
        },
    })
}

/// Deletes tag `name`: closes its alive row. `None` when there is no alive row.
pub fn delete(name: &str, history: &[TagRow], now_ms: i64) -> Result<Option<Closing>> {
    let Some(row) = alive_row(history, now_ms) else {
        return Ok(None);
    };
    if row.immutable {
        return Err(Error::TagImmutable(name.to_string()));
    }
    Ok(Some(Closing {
        row_id: row.id,
        end_ms: close_time(row, now_ms),
    }))
}

/// Bounds of an expiration set through the API, as offsets from the lifetime's start
/// (`LABELED_EXPIRATION_MINIMUM` and `LABELED_EXPIRATION_MAXIMUM`: one hour, 104 weeks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpirationLimits {
    /// Shortest lifetime, milliseconds.
    pub min_ms: i64,
    /// Longest lifetime, milliseconds.
    pub max_ms: i64,
    /// Whether an immutable tag may be given an expiration
    /// (`FEATURE_IMMUTABLE_TAGS_CAN_EXPIRE`, default false).
    pub immutable_can_expire: bool,
}

impl Default for ExpirationLimits {
    fn default() -> Self {
        Self {
            min_ms: 3_600_000,
            max_ms: 104 * 7 * 86_400_000,
            immutable_can_expire: false,
        }
    }
}

/// A change of the alive row's planned end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpirationChange {
    /// The alive row.
    pub row_id: i64,
    /// Its end before (`None`: no expiration).
    pub old_end_ms: Option<i64>,
    /// Its end after.
    pub new_end_ms: Option<i64>,
}

/// Sets (or with `None` clears) the expiration of tag `name`'s alive row: the requested
/// moment must be in the future, and is clamped to the limits counted from the row's start.
pub fn change_expiration(
    name: &str,
    history: &[TagRow],
    requested_end_ms: Option<i64>,
    now_ms: i64,
    limits: ExpirationLimits,
) -> Result<ExpirationChange> {
    let row = alive_row(history, now_ms).ok_or_else(|| Error::NotFound {
        what: "tag",
        name: name.to_string(),
    })?;
    let new_end_ms = match requested_end_ms {
        None => None,
        Some(end) if end <= now_ms => {
            return Err(Error::InvalidRequest(
                "Expiration must be in the future".into(),
            ));
        }
        Some(end) => {
            let offset = (end - row.start_ms).clamp(limits.min_ms, limits.max_ms);
            Some(row.start_ms.saturating_add(offset))
        }
    };
    if row.immutable && new_end_ms.is_some() && !limits.immutable_can_expire {
        return Err(Error::TagImmutable(name.to_string()));
    }
    Ok(ExpirationChange {
        row_id: row.id,
        old_end_ms: row.end_ms,
        new_end_ms,
    })
}

/// Takes rows of a tag out of the time machine (Quay's permanent delete): they end before
/// the window, so the next garbage collection removes them.
///
/// With `alive`, the alive row (unless immutable) ends at once; otherwise every row that
/// pointed to `manifest_id` and ended within the window does. Rows get distinct ends, one
/// millisecond apart, as history rows of one tag do in Quay. Empty when nothing qualifies.
pub fn remove_from_time_machine(
    history: &[TagRow],
    manifest_id: ManifestId,
    alive: bool,
    now_ms: i64,
    window_ms: i64,
) -> Vec<Closing> {
    let before_window = now_ms.saturating_sub(window_ms);
    if alive {
        return alive_row(history, now_ms)
            .filter(|row| !row.immutable && row.manifest_id == manifest_id)
            .map(|row| Closing {
                row_id: row.id,
                end_ms: before_window,
            })
            .into_iter()
            .collect();
    }
    history
        .iter()
        .filter(|row| row.manifest_id == manifest_id)
        .filter(|row| {
            row.end_ms
                .is_some_and(|end| end > before_window && end <= now_ms)
        })
        .zip(1..)
        .map(|(row, i)| Closing {
            row_id: row.id,
            end_ms: before_window.saturating_sub(i),
        })
        .collect()
}

/// Whether a hidden temporary tag must be added to keep a manifest alive until `wanted_end`
/// (`None`: forever), given the ends of the tags that are alive on it now.
pub fn needs_temporary_tag(
    alive_ends: impl IntoIterator<Item = Option<i64>>,
    wanted_end: Option<i64>,
) -> bool {
    !alive_ends.into_iter().any(|end| match (end, wanted_end) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(end), Some(wanted)) => end >= wanted,
    })
}

/// The names of cosign's companion tags of a manifest (`sha256-<hex>.sig`, `.att`,
/// `.sbom`): they expire with the last tag of the manifest they sign.
pub fn cosign_companions(digest: &Digest) -> Vec<String> {
    match digest.as_str().split_once(':') {
        Some(("sha256", hex)) => ["sig", "att", "sbom"]
            .iter()
            .map(|kind| format!("sha256-{hex}.{kind}"))
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether `name` is a cosign companion tag (which auto-pruning leaves alone).
pub fn is_cosign_companion(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("sha256-") else {
        return false;
    };
    let Some((hex, kind)) = rest.split_once('.') else {
        return false;
    };
    hex.len() == 64
        && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && matches!(kind, "sig" | "att" | "sbom")
}

/// The image label that makes a pushed tag expire (`quay.expires-after: 2w`).
pub const EXPIRES_AFTER_LABEL: &str = "quay.expires-after";

/// The image label that makes a pushed tag immutable (`quay.immutable: true`), with
/// `FEATURE_IMMUTABLE_TAGS`.
pub const IMMUTABLE_LABEL: &str = "quay.immutable";

/// The lifetime `quay.expires-after` asks for, in milliseconds. An invalid value is ignored,
/// as in Quay.
pub fn label_lifetime_ms(labels: &BTreeMap<String, String>) -> Option<i64> {
    labels
        .get(EXPIRES_AFTER_LABEL)
        .and_then(|value| duration::parse(value))
        .map(duration::as_ms)
}

/// Whether `quay.immutable` asks for an immutable tag.
pub fn label_immutable(labels: &BTreeMap<String, String>) -> bool {
    labels
        .get(IMMUTABLE_LABEL)
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("true"))
}

fn alive_row(history: &[TagRow], now_ms: i64) -> Option<&TagRow> {
    history.iter().find(|row| row.is_alive(now_ms))
}

/// The moment to close `alive` (and start its successor): now, but never before it started.
fn close_time(alive: &TagRow, now_ms: i64) -> i64 {
    now_ms.max(alive.start_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> &'static str {
        "latest"
    }

    fn to(manifest_id: i64) -> Target {
        Target {
            manifest_id,
            ..Target::default()
        }
    }

    fn row(id: i64, manifest_id: i64, start_ms: i64, end_ms: Option<i64>) -> TagRow {
        TagRow {
            id,
            manifest_id,
            start_ms,
            end_ms,
            immutable: false,
        }
    }

    #[test]
    fn first_push_opens_a_row() {
        let change = retarget(name(), &[], to(7), 1000).unwrap();
        assert_eq!(
            change,
            Retarget::Move {
                close: None,
                open: Opening {
                    manifest_id: 7,
                    start_ms: 1000,
                    end_ms: None,
                    reversion: false,
                    immutable: false,
                }
            }
        );
    }

    #[test]
    fn moving_closes_the_alive_row_and_keeps_history() {
        let history = [row(1, 7, 10, None), row(0, 6, 5, Some(10))];
        let Retarget::Move { close, open } = retarget(
            name(),
            &history,
            Target {
                lifetime_ms: Some(60),
                ..to(8)
            },
            1000,
        )
        .unwrap() else {
            panic!("must move");
        };
        assert_eq!(
            close,
            Some(Closing {
                row_id: 1,
                end_ms: 1000
            })
        );
        assert_eq!(open.start_ms, 1000);
        assert_eq!(open.end_ms, Some(1060));
    }

    #[test]
    fn pushing_the_same_manifest_changes_nothing() {
        let history = [row(1, 7, 10, None)];
        assert_eq!(
            retarget(name(), &history, to(7), 1000).unwrap(),
            Retarget::Unchanged
        );
    }

    #[test]
    fn an_expired_row_is_history_not_the_tag() {
        // Expired at 500: pushing the same manifest again opens a new row.
        let history = [row(1, 7, 10, Some(500))];
        let change = retarget(name(), &history, to(7), 1000).unwrap();
        assert!(matches!(change, Retarget::Move { close: None, .. }));
    }

    #[test]
    fn a_lifetime_never_ends_before_it_starts() {
        // Opened by a node whose clock runs ahead of this one's.
        let history = [row(2, 8, 1500, None), row(1, 7, 10, Some(1500))];
        let Retarget::Move { close, open } = retarget(name(), &history, to(9), 1000).unwrap()
        else {
            panic!("must move");
        };
        assert_eq!(close.unwrap().end_ms, 1500);
        assert_eq!(open.start_ms, 1500);
        let closing = delete(name(), &history, 1000).unwrap().unwrap();
        assert_eq!(closing.end_ms, 1500);
        // Closing in the very millisecond it was opened is fine.
        let closing = delete(name(), &history, 1500).unwrap().unwrap();
        assert_eq!(
            closing,
            Closing {
                row_id: 2,
                end_ms: 1500
            }
        );
    }

    #[test]
    fn immutable_tags_neither_move_nor_go() {
        let mut alive = row(1, 7, 10, None);
        alive.immutable = true;
        let history = [alive];
        assert!(matches!(
            retarget(name(), &history, to(8), 1000),
            Err(Error::TagImmutable(_))
        ));
        assert!(matches!(
            delete(name(), &history, 1000),
            Err(Error::TagImmutable(_))
        ));
        // Re-pushing what it already points to is fine.
        assert_eq!(
            retarget(name(), &history, to(7), 1000).unwrap(),
            Retarget::Unchanged
        );
    }

    #[test]
    fn deleting_closes_only_an_alive_row() {
        assert_eq!(delete(name(), &[], 5).unwrap(), None);
        assert_eq!(delete(name(), &[row(1, 7, 0, Some(4))], 5).unwrap(), None);
        let expiring = [row(1, 7, 0, Some(50))];
        assert_eq!(
            delete(name(), &expiring, 5).unwrap(),
            Some(Closing {
                row_id: 1,
                end_ms: 5
            })
        );
    }

    #[test]
    fn temporary_tags_only_when_nothing_outlives_them() {
        assert!(needs_temporary_tag([], Some(10)));
        assert!(needs_temporary_tag([Some(5)], Some(10)));
        assert!(!needs_temporary_tag([Some(10)], Some(10)));
        assert!(!needs_temporary_tag([None], Some(10)));
        assert!(!needs_temporary_tag([None], None));
        assert!(needs_temporary_tag([Some(i64::MAX)], None));
    }

    #[test]
    fn a_restore_always_writes_history() {
        let history = [row(1, 7, 10, None)];
        let restore = Target {
            reversion: true,
            ..to(7)
        };
        let Retarget::Move { close, open } = retarget(name(), &history, restore, 1000).unwrap()
        else {
            panic!("a restore opens a row");
        };
        assert_eq!(close.unwrap().row_id, 1);
        assert!(open.reversion);
    }

    #[test]
    fn expirations_are_clamped_from_the_start_and_must_lie_ahead() {
        let hour = 3_600_000;
        let limits = ExpirationLimits::default();
        let history = [row(1, 7, 0, None)];
        let change = change_expiration(name(), &history, Some(10), 5, limits).unwrap();
        assert_eq!(
            change.new_end_ms,
            Some(hour),
            "at least an hour after the start"
        );
        let far = change_expiration(name(), &history, Some(i64::MAX), 5, limits).unwrap();
        assert_eq!(far.new_end_ms, Some(limits.max_ms));
        let cleared = change_expiration(name(), &history, None, 5, limits).unwrap();
        assert_eq!(cleared.new_end_ms, None);
        assert!(matches!(
            change_expiration(name(), &history, Some(5), 5, limits),
            Err(Error::InvalidRequest(_))
        ));
        assert!(matches!(
            change_expiration(name(), &[row(1, 7, 0, Some(4))], Some(hour), 5, limits),
            Err(Error::NotFound { .. })
        ));
        let mut immutable = row(1, 7, 0, None);
        immutable.immutable = true;
        assert!(matches!(
            change_expiration(name(), &[immutable.clone()], Some(hour), 5, limits),
            Err(Error::TagImmutable(_))
        ));
        let may_expire = ExpirationLimits {
            immutable_can_expire: true,
            ..limits
        };
        assert!(change_expiration(name(), &[immutable], Some(hour), 5, may_expire).is_ok());
    }

    #[test]
    fn permanent_deletion_ends_rows_before_the_window() {
        let window = 100;
        let history = [
            row(3, 7, 950, None),
            row(2, 7, 920, Some(950)),
            row(1, 7, 500, Some(920)),
            row(0, 7, 100, Some(900)),
        ];
        let alive = remove_from_time_machine(&history, 7, true, 1000, window);
        assert_eq!(
            alive,
            vec![Closing {
                row_id: 3,
                end_ms: 900
            }]
        );
        assert!(remove_from_time_machine(&history, 8, true, 1000, window).is_empty());
        let dead = remove_from_time_machine(&history, 7, false, 1000, window);
        assert_eq!(
            dead,
            vec![
                Closing {
                    row_id: 2,
                    end_ms: 899
                },
                Closing {
                    row_id: 1,
                    end_ms: 898
                }
            ]
        );
        // A window of zero keeps nothing that could be taken out.
        assert!(remove_from_time_machine(&history, 7, false, 1000, 0).is_empty());
    }

    #[test]
    fn cosign_companions_are_recognised() {
        let digest = Digest::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap();
        let names = cosign_companions(&digest);
        assert_eq!(names.len(), 3);
        assert!(names.iter().all(|name| is_cosign_companion(name)));
        assert!(!is_cosign_companion("sha256-abc.sig"));
        assert!(!is_cosign_companion(&format!(
            "sha256-{}.tar",
            "ab".repeat(32)
        )));
        assert!(!is_cosign_companion("latest"));
    }

    #[test]
    fn labels_ask_for_expiry_and_immutability() {
        let labels = BTreeMap::from([
            (EXPIRES_AFTER_LABEL.to_string(), "2h".to_string()),
            (IMMUTABLE_LABEL.to_string(), "True".to_string()),
        ]);
        assert_eq!(label_lifetime_ms(&labels), Some(7_200_000));
        assert!(label_immutable(&labels));
        let invalid = BTreeMap::from([(EXPIRES_AFTER_LABEL.to_string(), "soon".to_string())]);
        assert_eq!(label_lifetime_ms(&invalid), None);
        assert!(!label_immutable(&invalid));
    }
}
