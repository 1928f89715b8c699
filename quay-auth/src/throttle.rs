//! Failed logins slow down whoever makes them, as Quay's `invalid_login_attempts` do.
//!
//! Failures are counted per account name and per client address. Up to a free number of
//! them costs nothing; after that, each further attempt must wait twice as long as the last
//! after the latest failure, up to [`MAX_WAIT_S`]. An attempt made too early is refused
//! without its credential being checked at all (also a right one: otherwise the refusal
//! would tell a guesser which guess was right), so a guesser gets about one guess a minute
//! per account and per address, and costs the registry no hashing. Counts are kept by
//! each node in memory, for [`FORGET_AFTER`] after the last failure; a successful login
//! clears its account's count.

use std::net::IpAddr;
use std::time::Duration;

use moka::sync::Cache;

/// Failures an account name may have before its logins must wait.
const FREE_PER_ACCOUNT: u32 = 5;
/// Failures a client address may have before its logins must wait: more than an account,
/// because many people can share an address (a NAT, a CI farm).
const FREE_PER_ADDRESS: u32 = 20;
/// The longest wait, seconds.
pub(crate) const MAX_WAIT_S: u64 = 60;
/// A count is forgotten this long after its last failure.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

/// Who failed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

/// Failures of one key.
#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    last_ms: i64,
}

/// The failures of the last [`FORGET_AFTER`].
pub(crate) struct LoginThrottle {
    failures: Cache<Key, Failures>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            failures: Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(FORGET_AFTER)
                .build(),
        }
    }
}

/// Who an attempt is by: the account name it names (none for `$app` and `$oauthtoken`,
/// whose "username" is shared by everyone), and the client's address (unknown without one,
/// or where it is no address).
pub(crate) struct Attempt<'a> {
    pub(crate) account: Option<&'a str>,
    pub(crate) address: Option<&'a str>,
}

impl Attempt<'_> {
    fn keys(&self) -> impl Iterator<Item = (Key, u32)> {
        let account = self
            .account
            .map(|name| (Key::Account(name.to_ascii_lowercase()), FREE_PER_ACCOUNT));
        let address = self
            .address
            .and_then(|address| address.parse().ok())
            .map(|address| (Key::Address(address), FREE_PER_ADDRESS));
        account.into_iter().chain(address)
    }
}

impl LoginThrottle {
    /// Seconds the attempt must still wait, if it may not be made now.
    pub(crate) fn wait_s(&self, attempt: &Attempt<'_>, now_ms: i64) -> Option<u64> {
        attempt
            .keys()
            .filter_map(|(key, free)| {
                let failures = self.failures.get(&key)?;
                let until_ms = failures.last_ms + wait_ms(failures.count, free);
                (until_ms > now_ms).then(|| ((until_ms - now_ms) as u64).div_ceil(1000))
            })
            .max()
    }

    /// Counts a failed attempt. The count is updated in place, so that failures arriving
    /// at once on many connections are all counted.
    pub(crate) fn failed(&self, attempt: &Attempt<'_>, now_ms: i64) {
        for (key, _) in attempt.keys() {
            self.failures.entry(key).and_upsert_with(|known| Failures {
                count: known
                    .map_or(0, |entry| entry.value().count)
                    .saturating_add(1),
                last_ms: now_ms,
            });
        }
    }

    /// A successful login: its account starts over (its address does not, so that one
    /// valid credential does not buy a guesser more guesses).
    pub(crate) fn succeeded(&self, attempt: &Attempt<'_>) {
        if let Some(name) = attempt.account {
            self.failures
                .invalidate(&Key::Account(name.to_ascii_lowercase()));
        }
    }
}

/// How long after the latest of `count` failures the next attempt must wait.
fn wait_ms(count: u32, free: u32) -> i64 {
    match count.checked_sub(free) {
        None => 0,
        Some(over) => {
            let seconds = 1u64.checked_shl(over).unwrap_or(u64::MAX).min(MAX_WAIT_S);
            seconds as i64 * 1000
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by<'a>(account: &'a str, address: &'a str) -> Attempt<'a> {
        Attempt {
            account: Some(account),
            address: Some(address),
        }
    }

    #[test]
    fn failures_beyond_the_free_ones_wait_twice_as_long_each_time() {
        let throttle = LoginThrottle::default();
        let guesser = by("alice", "10.0.0.1");
        let mut now = 1_000_000;
        for _ in 0..FREE_PER_ACCOUNT {
            assert_eq!(throttle.wait_s(&guesser, now), None);
            throttle.failed(&guesser, now);
        }
        // The sixth failure must wait a second, the seventh two, ... up to a minute.
        for expected in [1, 2, 4, 8, 16, 32, 60, 60] {
            assert_eq!(throttle.wait_s(&guesser, now), Some(expected));
            now += i64::try_from(expected).unwrap() * 1000;
            assert_eq!(throttle.wait_s(&guesser, now), None);
            throttle.failed(&guesser, now);
        }
        // The account is throttled from everywhere; the same address for others only
        // after its own free failures.
        assert!(throttle.wait_s(&by("Alice", "10.0.0.2"), now).is_some());
        assert_eq!(throttle.wait_s(&by("bob", "10.0.0.1"), now), None);
        throttle.succeeded(&guesser);
        assert_eq!(throttle.wait_s(&by("alice", "10.0.0.2"), now), None);
    }

    #[test]
    fn an_address_spraying_accounts_is_slowed_after_its_free_failures() {
        let throttle = LoginThrottle::default();
        let now = 5_000;
        for n in 0..FREE_PER_ADDRESS {
            let name = format!("user{n}");
            let attempt = by(&name, "2001:db8::1");
            assert_eq!(throttle.wait_s(&attempt, now), None);
            throttle.failed(&attempt, now);
        }
        assert_eq!(
            throttle.wait_s(&by("someone-else", "2001:db8::1"), now),
            Some(1)
        );
        let shared = Attempt {
            account: None,
            address: Some("2001:db8::1"),
        };
        assert_eq!(throttle.wait_s(&shared, now), Some(1));
    }
}
