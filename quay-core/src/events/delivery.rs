//! When a delivery is tried again, and when a notification stops: Quay's rules.
//!
//! Every failed attempt counts one failure on the notification and is tried again after
//! [`RetryPolicy::retry_after_ms`], up to [`RetryPolicy::max_attempts`] attempts. A
//! notification with [`DISABLE_AT_FAILURES`] failures is disabled until reset, and what is
//! queued for it is dropped; a success sets its count back to zero.

/// Failures after which a notification is disabled, as in Quay.
pub const DISABLE_AT_FAILURES: u32 = 3;

/// Whether a notification with `failures` still delivers.
pub fn enabled(failures: u32) -> bool {
    failures < DISABLE_AT_FAILURES
}

/// The retry rules; the defaults are Quay's (tests shorten the wait).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait before a failed attempt is tried again.
    pub retry_after_ms: i64,
    /// Attempts per delivery, the first included.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retry_after_ms: 30_000,
            max_attempts: 5,
        }
    }
}

/// How an attempt went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver took it (a 2xx, a mail accepted).
    Delivered,
    /// It did not (refused, timed out, unreachable).
    Failed,
}

/// What becomes of a delivery after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Nothing more to do: delivered.
    Done,
    /// Try again at this time (ms since the epoch).
    RetryAt(i64),
    /// Stop trying: out of attempts, or the notification was disabled.
    GiveUp,
}

/// The delivery's fate and the notification's new failure count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AfterAttempt {
    /// What becomes of the delivery.
    pub next: Next,
    /// The notification's failures after this attempt.
    pub failures: u32,
}

impl RetryPolicy {
    /// After attempt number `attempt` (the first is 1) of a delivery for a notification that
    /// had `failures`, made at `now_ms`.
    pub fn after_attempt(
        &self,
        attempt: u32,
        failures: u32,
        outcome: Outcome,
        now_ms: i64,
    ) -> AfterAttempt {
        match outcome {
            Outcome::Delivered => AfterAttempt {
                next: Next::Done,
                failures: 0,
            },
            Outcome::Failed => {
                let failures = failures.saturating_add(1);
                let next = if !enabled(failures) || attempt >= self.max_attempts {
                    Next::GiveUp
                } else {
                    Next::RetryAt(now_ms.saturating_add(self.retry_after_ms))
                };
                AfterAttempt { next, failures }
            }
        }
    }
}
