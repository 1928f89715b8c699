//! Giving memory back to the kernel: the allocator's free pages once the server has started
//! and every second after, and the code that starting ran ([`unmap_startup_code`]).
//!
//! glibc keeps freed memory in the arena of the thread that freed it and gives back only
//! what lies at an arena's top, above a threshold that itself grows with the largest block
//! freed (a block of 7 MiB freed raises it to 14 MiB). A server therefore kept the
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

/// Unmaps the program's code and constants, once the server has started, so that only what
/// serving runs is mapped again.
///
/// Starting runs code from all over the program (the migrations, the configuration, the
/// routes and their OpenAPI document, every backend's setup), and the kernel maps code 64 KiB
/// around each page it faults in: 16.7 of the 23.4 MiB of code were mapped when the server
/// began listening, and stayed mapped. Serving the whole benchmark afterwards maps 12.7 to
/// 14.8 MiB. The pages stay in the page cache; the first use of each maps it again without
/// reading the disk. Only mappings of the executable that were never written are unmapped
/// (a written page, such as the relocated constants or a debugger's breakpoint, would be
/// lost).
#[cfg(target_os = "linux")]
pub(crate) fn unmap_startup_code() {
    let (Ok(executable), Ok(smaps)) = (
        std::env::current_exe(),
        std::fs::read_to_string("/proc/self/smaps"),
    ) else {
        return;
    };
    let executable = executable.to_string_lossy();
    let mut unmapped_kib = 0;
    for mapping in mappings(&smaps) {
        if mapping.path == executable
            && !mapping.writable
            && mapping.written_kib == 0
            && unmap(&mapping)
        {
            unmapped_kib += mapping.rss_kib;
        }
    }
    tracing::debug!(unmapped_kib, "unmapped the code that starting ran");
}

/// Elsewhere the program's mappings are not listed the same way.
#[cfg(not(target_os = "linux"))]
pub(crate) fn unmap_startup_code() {}

/// One mapping of `/proc/self/smaps`, as far as [`unmap_startup_code`] reads it.
#[cfg(target_os = "linux")]
#[derive(Debug, PartialEq, Eq)]
struct Mapping<'a> {
    start: usize,
    end: usize,
    writable: bool,
    path: &'a str,
    rss_kib: u64,
    written_kib: u64,
}

/// The mappings that `smaps` lists: each is a header line (`start-end perms offset device
/// inode path`) followed by its `Name: value kB` lines.
#[cfg(target_os = "linux")]
fn mappings(smaps: &str) -> Vec<Mapping<'_>> {
    let mut mappings: Vec<Mapping<'_>> = Vec::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else { continue };
        if let Some(name) = first.strip_suffix(':') {
            let kib = fields.next().and_then(|value| value.parse().ok());
            match (mappings.last_mut(), name, kib) {
                (Some(mapping), "Rss", Some(kib)) => mapping.rss_kib = kib,
                // A page of a private mapping that was written is a copy of the file's, which
                // the kernel counts as anonymous. (A dirty page of the file itself, one not yet
                // written back after an install, is not: its bytes are the file's.)
                (Some(mapping), "Anonymous", Some(kib)) => mapping.written_kib = kib,
                _ => {}
            }
            continue;
        }
        let Some((start, end)) = first.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end), Some(perms)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
            fields.next(),
        ) else {
            continue;
        };
        // After the offset, the device and the inode comes the path, which may hold spaces.
        let path = fields.nth(3).map_or("", |path_start| {
            &line[path_start.as_ptr() as usize - line.as_ptr() as usize..]
        });
        mappings.push(Mapping {
            start,
            end,
            writable: perms.contains('w'),
            path,
            rss_kib: 0,
            written_kib: 0,
        });
    }
    mappings
}

/// Drops `mapping`'s pages from the process (`MADV_DONTNEED`); the next access to each maps
/// it again from the file. Whether it did.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn unmap(mapping: &Mapping<'_>) -> bool {
    // SAFETY: the range is a whole mapping of the executable file that was never written
    // (no page of it copied on write), so every page dropped is the file's bytes, which the next
    // access maps again unchanged; nothing in the process holds a reference that the drop
    // could invalidate.
    unsafe {
        libc::madvise(
            mapping.start as *mut libc::c_void,
            mapping.end - mapping.start,
            libc::MADV_DONTNEED,
        ) == 0
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn smaps_mappings_are_read_with_their_path_and_counters() {
        let smaps = "\
55d0c0a00000-55d0c0a08000 r--p 00000000 08:01 1234 /opt/a registry/quay-bin
Size:                 32 kB
Rss:                  24 kB
Private_Dirty:         4 kB
Anonymous:             0 kB
VmFlags: rd mr mw me
55d0c0a08000-55d0c0a10000 rw-p 00008000 08:01 1234 /opt/a registry/quay-bin
Rss:                   8 kB
Anonymous:             8 kB
7ffd0000-7ffd2000 rw-p 00000000 00:00 0
Rss:                   4 kB
";
        assert_eq!(
            mappings(smaps),
            [
                Mapping {
                    start: 0x55d0_c0a0_0000,
                    end: 0x55d0_c0a0_8000,
                    writable: false,
                    path: "/opt/a registry/quay-bin",
                    rss_kib: 24,
                    written_kib: 0,
                },
                Mapping {
                    start: 0x55d0_c0a0_8000,
                    end: 0x55d0_c0a1_0000,
                    writable: true,
                    path: "/opt/a registry/quay-bin",
                    rss_kib: 8,
                    written_kib: 8,
                },
                Mapping {
                    start: 0x7ffd_0000,
                    end: 0x7ffd_2000,
                    writable: true,
                    path: "",
                    rss_kib: 4,
                    written_kib: 0,
                },
            ]
        );
    }

    /// The resident kilobytes of the executable's mappings that were never written.
    fn resident_code_kib() -> u64 {
        let executable = std::env::current_exe().unwrap();
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        mappings(&smaps)
            .iter()
            .filter(|m| m.path == executable.to_string_lossy() && !m.writable)
            .map(|m| m.rss_kib)
            .sum()
    }

    #[test]
    fn unmapping_the_startup_code_leaves_mapped_only_what_runs_after() {
        let before = resident_code_kib();
        unmap_startup_code();
        let after = resident_code_kib();
        // What ran since (this test reading smaps) is mapped again, less than the test
        // harness and everything before it had mapped; unmapping nothing, it only grows.
        assert!(after < before, "{before} KiB before, {after} KiB after");
        // And code just unmapped (the parser) runs again, faulted back in.
        assert_eq!(mappings("").len(), 0);
    }
}
