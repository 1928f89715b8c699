//! The REST API under a property-based fuzzer: schemathesis generates requests from
//! `/api/v1/discovery` (valid and invalid ones) and checks every response.

use std::process::Command;

use crate::support::*;

#[test]
fn schemathesis_finds_no_server_errors_and_responses_match_their_schemas() {
    fuzz_the_api(&[]);
}

/// The same on PostgreSQL, which refuses text that SQLite stores (a NUL character).
#[test]
fn schemathesis_finds_no_server_errors_on_postgresql() {
    if let Some(database) = PostgresDatabase::create() {
        fuzz_the_api(&[("DB_URI", &database.uri)]);
    }
}

/// Runs schemathesis against a registry configured by `env`.
fn fuzz_the_api(env: &[(&str, &str)]) {
    if !have("schemathesis") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    // A superuser, so that the fuzzer reaches every operation past its permission check.
    let mut env = env.to_vec();
    env.push(("SUPER_USERS", "[ns]"));
    let quay = Quay::start(&data, &[], &env);
    let token = access_token_with(&data, USER, &env);
    let output = Command::new("schemathesis")
        .args([
            "run",
            &format!("http://{}/api/v1/discovery", quay.address),
            "--header",
            &format!("Authorization: Bearer {token}"),
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-time",
            "60",
            // One worker: with two, Python 3.11's `ast` module, which hypothesis uses to
            // describe its strategies, can fail across threads ("AST constructor recursion
            // depth mismatch", CPython gh-106905) and schemathesis reports an error that is
            // no finding about the server.
            "--workers",
            "1",
            "--seed",
            "20261125",
            "--no-color",
        ])
        .current_dir(work.path())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("passed"), "{report}");
}
