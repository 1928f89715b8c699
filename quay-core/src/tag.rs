//! The time machine: a tag is a row with a lifetime, never a value overwritten in place.
//!
//! Every retarget closes the tag's alive row and opens a new one; a delete closes the alive
//! row. Closed rows stay behind as history (restorable until garbage collection removes
//! them). The functions here are pure: given the rows a store read under its lock, they
//! return the changes to apply, and the store applies them in the same transaction.
//!
//! A lifetime never ends before it starts, even when the clocks of several nodes disagree:
//! a row is closed at the later of now and its own start. Rows of one tag may end in the
//! same millisecond (a tag pushed twice within it); the stores order such rows by insertion.
//! They serialize changes per repository, so there is never more than one alive row to close.

use crate::error::{Error, Result};

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

/// A new lifetime to insert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opening {
    /// The manifest the tag now points to.
    pub manifest_id: ManifestId,
    /// Start of the lifetime.
    pub start_ms: i64,
    /// Planned end (expiration), if any.
    pub end_ms: Option<i64>,
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

/// Points tag `name` at `manifest_id`.
///
/// `history` holds the tag's rows, at least its alive row if it has one. `lifetime_ms` makes
/// the new row expire after that long.
pub fn retarget(
    name: &str,
    history: &[TagRow],
    manifest_id: ManifestId,
    now_ms: i64,
    lifetime_ms: Option<i64>,
) -> Result<Retarget> {
    let alive = alive_row(history, now_ms);
    if let Some(row) = alive {
        if row.manifest_id == manifest_id {
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
            manifest_id,
            start_ms,
            end_ms: lifetime_ms.map(|ms| start_ms.saturating_add(ms)),
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
        let change = retarget(name(), &[], 7, 1000, None).unwrap();
        assert_eq!(
            change,
            Retarget::Move {
                close: None,
                open: Opening {
                    manifest_id: 7,
                    start_ms: 1000,
                    end_ms: None
                }
            }
        );
    }

    #[test]
    fn moving_closes_the_alive_row_and_keeps_history() {
        let history = [row(1, 7, 10, None), row(0, 6, 5, Some(10))];
        let Retarget::Move { close, open } = retarget(name(), &history, 8, 1000, Some(60)).unwrap()
        else {
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
            retarget(name(), &history, 7, 1000, None).unwrap(),
            Retarget::Unchanged
        );
    }

    #[test]
    fn an_expired_row_is_history_not_the_tag() {
        // Expired at 500: pushing the same manifest again opens a new row.
        let history = [row(1, 7, 10, Some(500))];
        let change = retarget(name(), &history, 7, 1000, None).unwrap();
        assert!(matches!(change, Retarget::Move { close: None, .. }));
    }

    #[test]
    fn a_lifetime_never_ends_before_it_starts() {
        // Opened by a node whose clock runs ahead of this one's.
        let history = [row(2, 8, 1500, None), row(1, 7, 10, Some(1500))];
        let Retarget::Move { close, open } = retarget(name(), &history, 9, 1000, None).unwrap()
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
            retarget(name(), &history, 8, 1000, None),
            Err(Error::TagImmutable(_))
        ));
        assert!(matches!(
            delete(name(), &history, 1000),
            Err(Error::TagImmutable(_))
        ));
        // Re-pushing what it already points to is fine.
        assert_eq!(
            retarget(name(), &history, 7, 1000, None).unwrap(),
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
}
