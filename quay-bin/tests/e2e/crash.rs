//! kill -9 in the middle of an upload's chunk: the upload stays resumable, and the file the
//! cut-off write left in the staging directory is removed by a collection once it is older
//! than the abandoned-upload age.

use std::io::Write;
use std::time::Duration;

use crate::support::*;

/// Files in the storage's staging directory.
fn staged(data: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(data.join("storage/.staging"))
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn kill_9_during_a_chunk_leaves_a_resumable_upload_and_nothing_a_collection_keeps() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let env = [("ABANDONED_UPLOAD_AGE", "3s")];
    let quay = Quay::start(&data, &[], &env);
    let auth = basic_auth();
    let upload = start_upload(&quay.address);

    // Half of a 20 MB chunk, then kill -9 while the server writes it.
    let chunk = noise(7, 20 << 20);
    let mut patch = begin_chunk(&quay.address, &upload, chunk.len());
    patch.write_all(&chunk[..10 << 20]).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    drop(quay); // SIGKILL
    drop(patch);
    assert!(!staged(&data).is_empty(), "the cut-off write left its file");

    // The upload is still there, at the size it had before the chunk, and takes it again.
    let quay = Quay::start(&data, &[], &env);
    let status = exchange(
        &quay.address,
        &format!(
            "GET {upload} HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\nconnection: close\r\n\r\n"
        ),
        b"",
    );
    assert!(status.starts_with("HTTP/1.1 204"), "{status}");
    assert!(status.contains("range: 0-0"), "{status}");
    let digest = sha256(&chunk);
    let finished = exchange(
        &quay.address,
        &format!(
            "PUT {upload}?digest={digest} HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n",
            chunk.len()
        ),
        &chunk,
    );
    assert!(finished.starts_with("HTTP/1.1 201"), "{finished}");

    // Once older than the abandoned-upload age, the leftover goes with the next collection.
    std::thread::sleep(Duration::from_secs(4));
    let data_arg = data.to_str().unwrap();
    let output = run_quay(&["gc", "--once", "--data-dir", data_arg], &env);
    assert!(output.status.success());
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(!printed.contains(" 0 unfinished writes"), "{printed}");
    assert_eq!(staged(&data), Vec::<String>::new());
}
