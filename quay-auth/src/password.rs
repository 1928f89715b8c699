//! Passwords, hashed with argon2id on a fixed number of workers.
//!
//! Verifying a password costs tens of milliseconds and 7 MiB on purpose. Clients that send
//! Basic credentials with every request (a plain `curl -u`) would pay that each time, so a
//! successful verification is remembered while it is used (until five minutes pass without
//! it), keyed by the stored hash and the hash of the password: a changed password has a new
//! stored hash, which no remembered entry matches.
//!
//! Hashing is bounded in time and memory. It runs on [`PasswordLimits::workers`] threads of
//! its own, each hash in memory of its own ([`HashingMemory`]) that is given back to the
//! kernel as soon as the hash is done; at most [`PasswordLimits::queue`] passwords wait for a
//! worker, and one beyond that is refused at once ([`AuthError::HashingBusy`]) rather than
//! waiting with the others. Hashed on the runtime's blocking threads instead, 200 connections
//! sending wrong passwords took the process to 4 GB on 151 threads, and every other request
//! waited seconds.

use std::time::Duration;

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, ParamsBuilder, Version};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use memmap2::MmapMut;
use moka::sync::Cache;
use sha2::{Digest as _, Sha256};

use crate::error::AuthError;

/// OWASP's argon2id parameters for 7 MiB of memory: each hash stays small in memory.
fn params() -> Params {
    ParamsBuilder::new()
        .m_cost(7 * 1024)
        .t_cost(5)
        .p_cost(1)
        .build()
        .unwrap_or_default()
}

/// How much password hashing may run and wait at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordLimits {
    /// Hashes computed at once: half the cores (at least one), so that the other half
    /// keeps serving requests while passwords are checked.
    pub workers: usize,
    /// Hashes waiting for a worker: eight per worker, a wait of about a quarter second.
    pub queue: usize,
}

impl Default for PasswordLimits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let workers = (cores / 2).max(1);
        Self {
            workers,
            queue: 8 * workers,
        }
    }
}

/// How long a verified password is remembered without being used.
const REMEMBERED_WHILE_UNUSED: Duration = Duration::from_secs(300);

/// Work for a hashing worker.
type Job = Box<dyn FnOnce() + Send>;

/// Hashes and verifies passwords.
pub struct Passwords {
    verified: Cache<(String, [u8; 32]), ()>,
    /// The queue before the workers; they stop when it is dropped.
    jobs: Sender<Job>,
}

impl Passwords {
    /// Hashing within `limits`, on worker threads started now.
    pub fn new(limits: PasswordLimits) -> Result<Self, AuthError> {
        Self::remembering(limits, REMEMBERED_WHILE_UNUSED)
    }

    /// [`Passwords::new`], remembering a verified password until it is unused for `unused`.
    fn remembering(limits: PasswordLimits, unused: Duration) -> Result<Self, AuthError> {
        let (jobs, queue) = bounded::<Job>(limits.queue);
        for _ in 0..limits.workers.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name("password-hashing".into())
                .spawn(move || work(&queue))
                .map_err(|e| AuthError::Hashing(format!("starting a worker: {e}")))?;
        }
        Ok(Self {
            verified: Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(unused)
                .build(),
            jobs,
        })
    }

    /// The stored form of a new password.
    pub async fn hash(&self, password: &str) -> Result<String, AuthError> {
        let password = password.to_string();
        self.on_a_worker(move || hash_new(&password)).await?
    }

    /// Whether `password` is the one `stored` was made from; [`AuthError::HashingBusy`]
    /// when it cannot be checked now.
    pub async fn verify(&self, password: &str, stored: &str) -> Result<bool, AuthError> {
        let key = (
            stored.to_string(),
            Sha256::digest(password.as_bytes()).into(),
        );
        // A read, unlike `contains_key`, starts the entry's idle time anew.
        if self.verified.get(&key).is_some() {
            return Ok(true);
        }
        let (password, stored) = (password.to_string(), stored.to_string());
        let valid = self
            .on_a_worker(move || verify_stored(&password, &stored))
            .await??;
        if valid {
            self.verified.insert(key, ());
        }
        Ok(valid)
    }

    /// Runs `hashing` on a worker, after those queued before it; refused when the queue is
    /// full.
    async fn on_a_worker<T: Send + 'static>(
        &self,
        hashing: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(hashing());
        });
        self.jobs.try_send(job).map_err(|error| match error {
            TrySendError::Full(_) => AuthError::HashingBusy,
            TrySendError::Disconnected(_) => AuthError::Hashing("no hashing worker".into()),
        })?;
        result
            .await
            .map_err(|_| AuthError::Hashing("a hashing worker stopped".into()))
    }
}

/// A worker: takes jobs until the queue is gone, at the lowest CPU priority: it takes what
/// serving requests leaves of the cores, so that a flood of logins does not slow pulls down.
fn work(queue: &Receiver<Job>) {
    if let Err(error) =
        thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min)
    {
        tracing::debug!(?error, "password hashing runs at normal priority");
    }
    while let Ok(job) = queue.recv() {
        job();
    }
}

/// The memory of one hash: an anonymous mapping of its own, which the kernel takes back when
/// it is dropped.
///
/// From the allocator, the 7 MiB outlived the hash: glibc keeps a freed block of that size in
/// the freeing thread's arena, above the threshold at which it gives memory back (which the
/// first such block raises to 14 MiB). Kept by the worker between hashes instead, it was part
/// of the process for ten seconds after each login; given back after each hash, a flood of
/// logins grew the heap by 40 MiB. A mapping costs its page faults (about 1 ms of the tens a
/// hash takes) and is gone with the hash.
struct HashingMemory(MmapMut);

impl HashingMemory {
    fn for_params(params: &Params) -> Result<Self, AuthError> {
        MmapMut::map_anon(params.block_count() * size_of::<Block>())
            .map(Self)
            .map_err(|e| AuthError::Hashing(format!("mapping the hash's memory: {e}")))
    }
}

impl AsMut<[Block]> for HashingMemory {
    #[allow(unsafe_code)]
    fn as_mut(&mut self) -> &mut [Block] {
        let blocks = self.0.len() / size_of::<Block>();
        // SAFETY: the mapping starts on a page, which satisfies `Block`'s alignment (64), and
        // holds `blocks` whole blocks; its bytes are zeroes or what argon2 wrote, and any bytes
        // are a valid `Block` (an array of `u64`); the slice borrows the mapping mutably, so
        // nothing else reaches those bytes while it lives, nor after the mapping is gone.
        unsafe { std::slice::from_raw_parts_mut(self.0.as_mut_ptr().cast::<Block>(), blocks) }
    }
}

/// A new password's PHC string, with a random salt.
fn hash_new(password: &str) -> Result<String, AuthError> {
    let mut random = [0u8; 16];
    SecureRandom::fill(&SystemRandom::new(), &mut random).map_err(|_| AuthError::Random)?;
    let salt = SaltString::encode_b64(&random).map_err(|e| AuthError::Hashing(e.to_string()))?;
    let params = params();
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            &random,
            &mut output,
            HashingMemory::for_params(&params)?,
        )
        .map_err(|e| AuthError::Hashing(e.to_string()))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params)
            .try_into()
            .map_err(|e: argon2::password_hash::Error| AuthError::Hashing(e.to_string()))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&output).map_err(|e| AuthError::Hashing(e.to_string()))?),
    };
    Ok(hash.to_string())
}

/// Whether `password` hashes, with the algorithm, parameters and salt of the PHC string
/// `stored`, to its hash (compared in constant time). A `stored` that is not such a string
/// matches nothing.
fn verify_stored(password: &str, stored: &str) -> Result<bool, AuthError> {
    let Ok(hash) = PasswordHash::new(stored) else {
        return Ok(false);
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return Ok(false);
    };
    let (Ok(algorithm), Ok(params)) =
        (Algorithm::try_from(hash.algorithm), Params::try_from(&hash))
    else {
        return Ok(false);
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return Ok(false),
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return Ok(false);
    };
    let memory = HashingMemory::for_params(&params)?;
    let mut output = [0u8; Output::MAX_LENGTH];
    let output = &mut output[..expected.len()];
    Ok(Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, output, memory)
        .is_ok()
        && Output::new(output).is_ok_and(|computed| computed == expected))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    fn passwords(limits: PasswordLimits) -> Arc<Passwords> {
        Arc::new(Passwords::new(limits).unwrap())
    }

    #[tokio::test]
    async fn passwords_verify_against_their_hash_only() {
        let passwords = passwords(PasswordLimits::default());
        let stored = passwords.hash("correct horse").await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"));
        assert!(passwords.verify("correct horse", &stored).await.unwrap());
        // Remembered, and still right.
        assert!(passwords.verify("correct horse", &stored).await.unwrap());
        assert!(!passwords.verify("battery staple", &stored).await.unwrap());
        assert!(!passwords.verify("correct horse", "garbage").await.unwrap());
        let other = passwords.hash("correct horse").await.unwrap();
        assert_ne!(stored, other, "salted");
    }

    #[tokio::test]
    async fn hashes_are_argon2s_own() {
        let passwords = passwords(PasswordLimits::default());
        // What we store, argon2's own verification accepts...
        let stored = passwords.hash("correct horse").await.unwrap();
        let parsed = PasswordHash::new(&stored).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        // ... and what argon2 hashes with other parameters, we verify.
        let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
        let other = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 2, 1, None).unwrap(),
        )
        .hash_password(b"wonderland", &salt)
        .unwrap()
        .to_string();
        assert!(passwords.verify("wonderland", &other).await.unwrap());
        assert!(!passwords.verify("wonderlane", &other).await.unwrap());
    }

    /// The process's private memory (`RssAnon`), in KiB.
    #[cfg(target_os = "linux")]
    fn private_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("RssAnon:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_hash_gives_its_memory_back_when_it_is_done() {
        let passwords = passwords(PasswordLimits::default());
        let before = private_kib();
        let stored = passwords.hash("correct horse").await.unwrap();
        assert!(!passwords.verify("battery staple", &stored).await.unwrap());
        let after = private_kib();
        // Each hash used 7 MiB; none of it is kept between hashes.
        assert!(
            after < before + 2048,
            "{before} KiB before, {after} KiB after"
        );
    }

    /// Occupies `passwords`' one worker and its one place in the queue until the sender
    /// returned is dropped, so that a verification that needs a hash is refused at once.
    async fn occupy_hashing(passwords: &Passwords) -> Sender<()> {
        let (release, released) = bounded::<()>(0);
        let (started, running) = tokio::sync::oneshot::channel();
        let first = released.clone();
        let job: Job = Box::new(move || {
            let _ = started.send(());
            let _ = first.recv();
        });
        passwords.jobs.try_send(job).unwrap();
        // Once the worker runs the first, the second waits in the queue.
        running.await.unwrap();
        let job: Job = Box::new(move || {
            let _ = released.recv();
        });
        passwords.jobs.try_send(job).unwrap();
        release
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_verified_password_is_remembered_while_it_is_used_and_forgotten_when_not() {
        let limits = PasswordLimits {
            workers: 1,
            queue: 1,
        };
        let unused = Duration::from_millis(1000);
        let passwords = Passwords::remembering(limits, unused).unwrap();
        let stored = passwords.hash("correct horse").await.unwrap();
        assert!(passwords.verify("correct horse", &stored).await.unwrap());
        let _occupied = occupy_hashing(&passwords).await;
        assert!(matches!(
            passwords.verify("battery staple", &stored).await,
            Err(AuthError::HashingBusy)
        ));
        // Used every 200 ms for three idle periods: never hashed again.
        for _ in 0..15 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert!(passwords.verify("correct horse", &stored).await.unwrap());
        }
        // Unused for longer than that: it takes a hash again.
        tokio::time::sleep(unused + Duration::from_millis(500)).await;
        assert!(matches!(
            passwords.verify("correct horse", &stored).await,
            Err(AuthError::HashingBusy)
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashing_beyond_the_workers_and_the_queue_is_refused_at_once() {
        let passwords = passwords(PasswordLimits {
            workers: 1,
            queue: 2,
        });
        let stored = passwords.hash("correct horse").await.unwrap();
        // The one worker is busy: two attempts may wait for it, the others are refused.
        let (release, released) = std::sync::mpsc::channel::<()>();
        let busy = {
            let passwords = passwords.clone();
            tokio::spawn(
                async move { passwords.on_a_worker(move || released.recv().is_ok()).await },
            )
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        let attempts: Vec<_> = (0..5)
            .map(|n| {
                let (passwords, stored) = (passwords.clone(), stored.clone());
                tokio::spawn(async move { passwords.verify(&format!("guess {n}"), &stored).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        release.send(()).unwrap();
        assert!(busy.await.unwrap().unwrap());
        let (mut checked, mut refused) = (0, 0);
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(valid) => {
                    assert!(!valid);
                    checked += 1;
                }
                Err(AuthError::HashingBusy) => refused += 1,
                Err(other) => panic!("{other}"),
            }
        }
        assert_eq!((checked, refused), (2, 3));
    }
}
