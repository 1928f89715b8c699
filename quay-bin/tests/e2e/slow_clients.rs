//! Slow and idle clients cost little: a thousand idle connections, or connections that send
//! half a request head or half a body, do not keep new clients from being served, and each
//! is closed after its timeout; a connection limit holds; SIGTERM waits for a slow upload
//! only up to its deadline, and the upload can be resumed afterwards.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::*;

/// Short limits, so that the test sees them act.
const LIMITS: [(&str, &str); 4] = [
    ("HTTP_IDLE_TIMEOUT", "2s"),
    ("HTTP_HEADER_READ_TIMEOUT", "2s"),
    ("HTTP_BODY_TIMEOUT", "2s"),
    ("HTTP_SHUTDOWN_TIMEOUT", "3s"),
];

/// `GET /v2/` on a new connection answers (401 with a challenge) within a second.
fn served(address: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return false;
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let request = b"GET /v2/ HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    if stream.write_all(request).is_err() {
        return false;
    }
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).is_ok() && answer.starts_with(b"HTTP/1.1 401")
}

/// Whether the server closed `stream` (a read sees the end, or a reset).
fn closed(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            // An answer (a 408 or the like) before the close.
            Ok(_) => continue,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// Waits until the server closed every connection in `streams`, at most `within`.
fn all_closed(streams: &mut [TcpStream], within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        let open = streams
            .iter_mut()
            .map(closed)
            .filter(|closed| !closed)
            .count();
        if open == 0 {
            return true;
        }
        if Instant::now() > deadline {
            report(&format!("{open} connections still open"));
            return false;
        }
    }
}

fn connections(address: &str, count: usize, first_bytes: &[u8]) -> Vec<TcpStream> {
    (0..count)
        .map(|_| {
            let mut stream = TcpStream::connect(address).unwrap();
            stream.write_all(first_bytes).unwrap();
            stream
        })
        .collect()
}

#[test]
fn idle_half_headed_and_half_bodied_connections_do_not_stop_new_clients() {
    let work = tempfile::tempdir().unwrap();
    let quay = Quay::start(&work.path().join("data"), &[], &LIMITS);
    let address = quay.address.clone();
    let auth = basic_auth();

    // A hundred idle after a request (kept alive), nine hundred before their first.
    let mut idle = connections(&address, 100, b"GET /v2/ HTTP/1.1\r\nhost: x\r\n\r\n");
    for stream in &mut idle {
        let mut answer = [0u8; 12];
        stream.read_exact(&mut answer).unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 401"));
    }
    idle.extend(connections(&address, 900, b""));
    assert!(
        served(&address),
        "a new client beside 1000 idle connections"
    );
    let mut half_headers = connections(&address, 500, b"GET /v2/ HTTP/1.1\r\nhost: x\r\n");
    assert!(
        served(&address),
        "a new client beside 500 half request heads"
    );
    let half_body = format!(
        "PATCH /v2/ns/app/blobs/uploads/00000000-0000-0000-0000-000000000000 HTTP/1.1\r\n\
         host: x\r\nauthorization: {auth}\r\ncontent-length: 1000\r\n\r\nonly ten b"
    );
    let mut half_bodies = connections(&address, 200, half_body.as_bytes());
    assert!(served(&address), "a new client beside 200 half bodies");

    // Each kind is closed after its timeout (2 s here), and not much later.
    let started = Instant::now();
    assert!(all_closed(&mut idle, Duration::from_secs(10)), "idle");
    assert!(
        all_closed(&mut half_headers, Duration::from_secs(10)),
        "half heads"
    );
    assert!(
        all_closed(&mut half_bodies, Duration::from_secs(10)),
        "half bodies"
    );
    report(&format!(
        "1,700 idle and slow connections closed within {:?}",
        started.elapsed()
    ));
    assert!(served(&address));
}

#[test]
fn a_connection_kept_alive_after_a_request_waits_its_idle_timeout() {
    let work = tempfile::tempdir().unwrap();
    let limits = [
        ("HTTP_HEADER_READ_TIMEOUT", "1s"),
        ("HTTP_IDLE_TIMEOUT", "3s"),
    ];
    let quay = Quay::start(&work.path().join("data"), &[], &limits);
    let mut kept = connections(&quay.address, 1, b"GET /v2/ HTTP/1.1\r\nhost: x\r\n\r\n");
    let mut answer = [0u8; 12];
    kept[0].read_exact(&mut answer).unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 401"));
    // Past the head's timeout, the connection is still open: it waits for a request...
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!closed(&mut kept[0]), "closed after the head's timeout");
    // ... and is closed once idle for its own.
    assert!(all_closed(&mut kept, Duration::from_secs(3)));
}

#[test]
fn at_the_connection_limit_new_clients_wait_for_a_free_connection() {
    let work = tempfile::tempdir().unwrap();
    let mut env = LIMITS.to_vec();
    env.push(("HTTP_MAX_CONNECTIONS", "50"));
    env.push(("HTTP_IDLE_TIMEOUT", "60s"));
    let mut quay = Quay::start(&work.path().join("data"), &[], &env);
    let address = quay.address.clone();
    let mut idle = connections(&address, 50, b"");
    // Make sure the server took all fifty before trying another.
    std::thread::sleep(Duration::from_millis(500));
    assert!(!served(&address), "a 51st connection waits");
    idle.truncate(40);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !served(&address) {
        assert!(Instant::now() < deadline, "served once connections closed");
    }
    assert!(
        quay.logs()
            .iter()
            .any(|line| line.contains("connection limit reached"))
    );
}

#[test]
fn sigterm_waits_for_a_slow_upload_only_until_its_deadline_and_the_upload_resumes() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let quay = Quay::start(&data, &[], &LIMITS);
    let upload = start_upload(&quay.address);

    // A chunk of 100 MB at about 1 MB/s: it would take 100 s.
    let chunk = noise(3, 100 << 20);
    let mut slow = begin_chunk(&quay.address, &upload, chunk.len());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = std::thread::spawn({
        let stop = stop.clone();
        move || {
            for piece in chunk.chunks(64 << 10) {
                if stop.load(std::sync::atomic::Ordering::Relaxed) || slow.write_all(piece).is_err()
                {
                    return;
                }
                std::thread::sleep(Duration::from_millis(64));
            }
        }
    });
    std::thread::sleep(Duration::from_secs(1));
    let terminated = Instant::now();
    let status = quay.terminate();
    let stopped_after = terminated.elapsed();
    report(&format!(
        "SIGTERM during a slow upload: stopped after {stopped_after:?}"
    ));
    assert!(status.success(), "{status:?}");
    assert!(
        stopped_after < Duration::from_secs(6),
        "the shutdown deadline is 3 s: {stopped_after:?}"
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    sender.join().unwrap();

    // The upload is where it was before the cut-off chunk, and takes chunks again.
    let quay = Quay::start(&data, &[], &LIMITS);
    let answer = exchange(
        &quay.address,
        &format!(
            "PATCH {upload} HTTP/1.1\r\nhost: x\r\nauthorization: {}\r\n\
             content-range: 0-4\r\ncontent-length: 5\r\nconnection: close\r\n\r\n",
            basic_auth()
        ),
        b"hello",
    );
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    assert!(answer.contains("range: 0-4"), "{answer}");
}
