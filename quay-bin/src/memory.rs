//! Giving the allocator's free pages back to the kernel: once the server has started, and
//! every second after.
//!
//! glibc keeps freed memory in the arena of the thread that freed it and gives back only
//! what lies at an arena's top, above a threshold that itself grows with the largest block
//! freed (the password hasher's 7 MiB raises it to 14 MiB). A server therefore kept the
//! high-water mark of every burst for good. Starting alone allocates about 8 MiB that is
//! freed before the first request (building the routes' OpenAPI document: utoipa merges the
//! document of every group of routes by cloning it): 13 MiB of private memory right after
//! start without releasing it, 5 MiB with. Under load the arenas' free pages grow again;
//! releasing them every second lowered the benchmark's peak by about 3.5 MiB, for about
//! 0.35 ms of CPU per pass (up to 5 ms after a large upload, when there is most to return).

/// How often free pages are given back while serving.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const RELEASE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Gives free pages back now, and every [`RELEASE_EVERY`] for as long as the runtime runs.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn release_free_pages_from_now_on() {
    release_free_pages();
    tokio::spawn(async {
        loop {
            tokio::time::sleep(RELEASE_EVERY).await;
            release_free_pages();
        }
    });
}

/// Other allocators give free pages back by themselves, or offer no way to ask.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn release_free_pages_from_now_on() {}

/// Returns every whole free page of every malloc arena to the kernel (`malloc_trim`). The
/// allocator asks for them anew when it needs them.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release_free_pages() {
    // SAFETY: `malloc_trim` takes no pointer; it walks glibc's own free lists under the
    // lock each arena's allocations take.
    unsafe {
        libc::malloc_trim(0);
    }
}
