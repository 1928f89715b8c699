//! Who may push and pull what, with skopeo `--creds` as users run it: every kind of
//! subject against a public and a private repository, each outcome asserted, and a
//! private repository refused exactly like a missing one.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::support::*;

/// What a subject may do: pull the public repository, pull the private one, push to the
/// public one, push to the private one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Outcomes {
    pull_public: bool,
    pull_private: bool,
    push_public: bool,
    push_private: bool,
}

const EVERYTHING: Outcomes = Outcomes {
    pull_public: true,
    pull_private: true,
    push_public: true,
    push_private: true,
};
const READ: Outcomes = Outcomes {
    pull_public: true,
    pull_private: true,
    push_public: false,
    push_private: false,
};
const PUBLIC_ONLY: Outcomes = Outcomes {
    pull_public: true,
    pull_private: false,
    push_public: false,
    push_private: false,
};

/// A username (or robot name) and its password (or token).
type Credentials = (String, String);

/// skopeo's credentials flag for a subject, for the side `side` names (`""` for inspect,
/// `"dest-"` for a copy's destination).
fn creds(side: &str, subject: Option<&Credentials>) -> String {
    match subject {
        Some((user, secret)) => format!("--{side}creds={user}:{secret}"),
        None => format!("--{side}no-creds"),
    }
}

/// Runs skopeo with its own empty home; whether it succeeded, and what it said.
fn try_skopeo(home: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new("skopeo")
        .args(args)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home)
        .env("REGISTRY_AUTH_FILE", home.join("auth.json"))
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The registry's answer to a manifest GET of `repository` by `subject`, with a token from
/// `/v2/auth` as clients get one: status, headers and body (without the date), with the
/// repository's name written as `REPOSITORY`.
fn raw_pull(address: &str, subject: Option<&Credentials>, repository: &str) -> String {
    let token_url =
        format!("http://{address}/v2/auth?service={address}&scope=repository:{repository}:pull");
    let mut args = vec!["-s".to_string(), token_url];
    if let Some((user, secret)) = subject {
        args.extend(["-u".to_string(), format!("{user}:{secret}")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let token: serde_json::Value = serde_json::from_str(&run("curl", &args)).unwrap();
    let authorization = format!("Authorization: Bearer {}", token["token"].as_str().unwrap());
    let url = format!("http://{address}/v2/{repository}/manifests/v1");
    // The same request id for both answers compared, so that only what differs shows.
    let id = "X-Request-Id: raw-pull";
    let response = run("curl", &["-s", "-i", "-H", &authorization, "-H", id, &url]);
    response
        .lines()
        .filter(|line| !line.to_ascii_lowercase().starts_with("date:"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace(repository, "REPOSITORY")
}

#[test]
fn every_subject_pushes_and_pulls_exactly_what_it_may() {
    if !have("skopeo") || !have("curl") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let quay = Quay::start(&data, &[], &[]);
    let address = quay.address.clone();
    for user in ["orgadmin", "creator", "reader", "writer", "nobody"] {
        create_user(&data, &[], &[], user, PASSWORD);
    }
    let admin = access_token(&data, "orgadmin");
    let owner = access_token(&data, USER);
    let call =
        |token: &str, method: &str, path: &str, body| api_ok(&address, token, method, path, body);

    // acme: teams of creators, readers (read) and writers (write); robots with read and
    // with write; a robot of another namespace.
    call(
        &admin,
        "POST",
        "/api/v1/organization/",
        Some(json!({"name": "acme"})),
    );
    for (team, role, member) in [
        ("creators", "creator", "creator"),
        ("readers", "member", "reader"),
        ("writers", "member", "writer"),
    ] {
        call(
            &admin,
            "PUT",
            &format!("/api/v1/organization/acme/team/{team}"),
            Some(json!({"role": role})),
        );
        call(
            &admin,
            "PUT",
            &format!("/api/v1/organization/acme/team/{team}/members/{member}"),
            None,
        );
    }
    let robot = |token: &str, path: &str| {
        call(token, "PUT", path, None)["token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let robot_reader = robot(&admin, "/api/v1/organization/acme/robots/reader");
    let robot_writer = robot(&admin, "/api/v1/organization/acme/robots/writer");
    let stranger = robot(&owner, "/api/v1/user/robots/stranger");

    // The owners push a first image to each repository; pushes create them private.
    let mut layout = Layout::new(&work.path().join("source"));
    let image = layout.image("amd64", &[noise(7, 50_000)]);
    layout.tag("v1", image);
    let source = format!("oci:{}:v1", layout.dir.display());
    let home = work.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let push = |subject: Option<&Credentials>, repository: &str, tag: &str| {
        let destination = format!("docker://{address}/{repository}:{tag}");
        try_skopeo(
            &home,
            &[
                "copy",
                "-q",
                "--dest-tls-verify=false",
                &creds("dest-", subject),
                &source,
                &destination,
            ],
        )
    };
    let pull = |subject: Option<&Credentials>, repository: &str| {
        let source = format!("docker://{address}/{repository}:v1");
        try_skopeo(
            &home,
            &[
                "inspect",
                "--raw",
                "--tls-verify=false",
                &creds("", subject),
                &source,
            ],
        )
    };
    let password = |user: &str| Some((user.to_string(), PASSWORD.to_string()));
    for (owner_creds, namespace) in [(password("orgadmin"), "acme"), (password(USER), USER)] {
        for repository in ["public", "private"] {
            let (pushed, said) = push(
                owner_creds.as_ref(),
                &format!("{namespace}/{repository}"),
                "v1",
            );
            assert!(pushed, "{said}");
        }
    }
    for (token, namespace) in [(&admin, "acme"), (&owner, USER)] {
        let path = format!("/api/v1/repository/{namespace}/public/changevisibility");
        call(token, "POST", &path, Some(json!({"visibility": "public"})));
    }
    for (kind, grantee, role) in [
        ("user", "acme+reader", "read"),
        ("user", "acme+writer", "write"),
        ("team", "readers", "read"),
        ("team", "writers", "write"),
    ] {
        for repository in ["public", "private"] {
            let path = format!("/api/v1/repository/acme/{repository}/permissions/{kind}/{grantee}");
            call(&admin, "PUT", &path, Some(json!({"role": role})));
        }
    }

    let robot_creds = |name: &str, token: &str| Some((name.to_string(), token.to_string()));
    let cases: Vec<(&str, Option<Credentials>, &str, Outcomes)> = vec![
        ("namespace owner", password(USER), USER, EVERYTHING),
        (
            "organization admin team",
            password("orgadmin"),
            "acme",
            EVERYTHING,
        ),
        ("creator team", password("creator"), "acme", PUBLIC_ONLY),
        ("member team with read", password("reader"), "acme", READ),
        (
            "member team with write",
            password("writer"),
            "acme",
            EVERYTHING,
        ),
        (
            "robot with read",
            robot_creds("acme+reader", &robot_reader),
            "acme",
            READ,
        ),
        (
            "robot with write",
            robot_creds("acme+writer", &robot_writer),
            "acme",
            EVERYTHING,
        ),
        (
            "robot of another namespace",
            robot_creds("ns+stranger", &stranger),
            "acme",
            PUBLIC_ONLY,
        ),
        (
            "user without a grant",
            password("nobody"),
            "acme",
            PUBLIC_ONLY,
        ),
        ("anonymous", None, "acme", PUBLIC_ONLY),
        ("anonymous", None, USER, PUBLIC_ONLY),
    ];
    for (who, subject, namespace, expected) in &cases {
        let subject = subject.as_ref();
        let tag = who.replace(' ', "-");
        let outcome = |(succeeded, said): (bool, String), what: &str, allowed: bool| {
            assert_eq!(succeeded, allowed, "{who}: {what} in {namespace}: {said}");
            succeeded
        };
        let actual = Outcomes {
            pull_public: outcome(
                pull(subject, &format!("{namespace}/public")),
                "pull public",
                expected.pull_public,
            ),
            pull_private: outcome(
                pull(subject, &format!("{namespace}/private")),
                "pull private",
                expected.pull_private,
            ),
            push_public: outcome(
                push(subject, &format!("{namespace}/public"), &tag),
                "push public",
                expected.push_public,
            ),
            push_private: outcome(
                push(subject, &format!("{namespace}/private"), &tag),
                "push private",
                expected.push_private,
            ),
        };
        assert_eq!(actual, *expected, "{who}");
        if !expected.pull_private {
            assert_eq!(
                raw_pull(&address, subject, &format!("{namespace}/private")),
                raw_pull(&address, subject, &format!("{namespace}/missing")),
                "{who}: a private repository must look missing"
            );
        }
    }
}
