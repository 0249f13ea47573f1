//! `ferry profile add | list | show | edit | rm` as a user types them.

use std::os::unix::fs::PermissionsExt;

use crate::support::env::FerryEnv;

const SECRET: &str = "pw-Never-Shown-4411";

fn env_with_vault() -> FerryEnv {
    let env = FerryEnv::new();
    env.init_vault();
    env
}

/// A fresh ed25519 key file (made in-process) in the environment's directory.
fn new_key(env: &FerryEnv, name: &str, passphrase: &str) -> std::path::PathBuf {
    let path = env.dir.path().join(name);
    crate::support::keys::write_ed25519(&path, name, passphrase);
    path
}

#[test]
fn add_list_show_edit_rm() {
    let env = env_with_vault();
    let mut add = env.ferry_unlocked(&[
        "profile",
        "add",
        "web",
        "sftp://deploy@10.0.0.5:2222/srv/www",
        "--password-stdin",
        "--max-connections",
        "8",
        "--host-key-policy",
        "accept-new",
        "--timeout",
        "20",
    ]);
    add.write_stdin(format!("{SECRET}\n"));
    env.ok(add);
    let out = env.ok(env.ferry(&["profile", "add", "files", "ftps://bob@ftp.example.com"]));
    assert!(out.contains("ftps://bob@ftp.example.com:21"), "{out}");
    env.ok(env.ferry(&[
        "profile",
        "add",
        "legacy",
        "ftps://bob@old.example.com",
        "--implicit-tls",
    ]));

    let list = env.ok(env.ferry(&["profile", "list"]));
    for name in ["web", "files", "legacy"] {
        assert!(list.contains(name), "{list}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(env.ferry(&["profile", "list", "--json"]))).expect("json");
    let names: Vec<&str> = json
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["files", "legacy", "web"]);
    assert_eq!(json[1]["protocol"], "ftps-implicit");
    assert_eq!(json[1]["port"], 990);

    let show: serde_json::Value =
        serde_json::from_str(&env.ok(env.ferry(&["profile", "show", "web", "--json"])))
            .expect("json");
    assert_eq!(show["host"], "10.0.0.5");
    assert_eq!(show["port"], 2222);
    assert_eq!(show["user"], "deploy");
    assert_eq!(show["remote_dir"], "/srv/www");
    assert_eq!(show["password"], "set");
    assert_eq!(show["max_connections"], 8);
    assert_eq!(show["host_key_policy"], "accept-new");
    assert_eq!(show["timeout_secs"], 20);

    env.ok(env.ferry(&[
        "profile",
        "edit",
        "web",
        "--rename",
        "www",
        "--url",
        "sftp://admin@10.0.0.6",
        "--clear-password",
    ]));
    let show: serde_json::Value =
        serde_json::from_str(&env.ok(env.ferry(&["profile", "show", "www", "--json"])))
            .expect("json");
    assert_eq!(show["host"], "10.0.0.6");
    assert_eq!(show["port"], 22);
    assert_eq!(show["user"], "admin");
    assert!(show["password"].is_null());
    assert_eq!(show["max_connections"], 8, "untouched options stay");
    let err = env.fails(env.ferry(&["profile", "show", "web"]));
    assert!(err.contains("no profile named `web`"), "{err}");

    env.ok(env.ferry(&["profile", "rm", "www"]));
    let err = env.fails(env.ferry(&["profile", "rm", "www"]));
    assert!(err.contains("no profile named `www`"), "{err}");
    let log = env.ok(env.ferry(&["log"]));
    assert!(log.contains("profile `www` removed"), "{log}");
}

#[test]
fn show_and_list_never_print_a_secret() {
    let env = env_with_vault();
    let key = new_key(&env, "id_enc", "key-Pass-Phrase-99");
    let mut add = env.ferry_unlocked(&[
        "profile",
        "add",
        "web",
        "sftp://deploy@h",
        "--password-stdin",
    ]);
    add.write_stdin(format!("{SECRET}\n"));
    env.ok(add);
    let mut edit = env.ferry_unlocked(&[
        "profile",
        "edit",
        "web",
        "--key",
        key.to_str().expect("utf8"),
        "--key-passphrase-stdin",
    ]);
    edit.write_stdin("key-Pass-Phrase-99\n");
    env.ok(edit);
    for args in [
        vec!["profile", "show", "web"],
        vec!["profile", "show", "web", "--json"],
        vec!["profile", "list"],
        vec!["profile", "list", "--json"],
        vec!["log"],
        vec![],
    ] {
        let out = env.ferry(&args).output().expect("run");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(SECRET), "{args:?} printed the password");
        assert!(
            !all.contains("key-Pass-Phrase-99"),
            "{args:?} printed the key passphrase"
        );
    }
    let show = env.ok(env.ferry(&["profile", "show", "web"]));
    assert!(show.contains("key passphrase:  set"), "{show}");
}

#[test]
fn validation_messages() {
    let env = env_with_vault();
    env.ok(env.ferry(&["profile", "add", "web", "sftp://u@h"]));
    let cases: &[(&[&str], &str)] = &[
        (&["profile", "add", "web", "sftp://u@h2"], "already exists"),
        (&["profile", "add", "x", "sftp://u@:22"], "host is empty"),
        (&["profile", "add", "x", "sftp://u@h:0"], "outside 1-65535"),
        (
            &["profile", "add", "x", "sftp://u@h:65536"],
            "outside 1-65535",
        ),
        (
            &["profile", "add", "x", "gopher://h"],
            "unknown scheme `gopher`",
        ),
        (
            &["profile", "add", "x", "ftp://u:pw@h"],
            "do not put a password in the URL",
        ),
        (&["profile", "add", "a:b", "sftp://h"], "not valid"),
        (
            &[
                "profile",
                "add",
                "x",
                "sftp://h",
                "--key",
                "/nonexistent/key",
            ],
            "cannot read key file /nonexistent/key",
        ),
        (
            &["profile", "add", "x", "ftp://h", "--agent"],
            "sftp:// profiles only",
        ),
        (
            &["profile", "add", "x", "sftp://h", "--max-connections", "0"],
            "between 1 and 64",
        ),
    ];
    for (args, expected) in cases {
        let err = env.fails(env.ferry(args));
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line: {err}");
    }
}

#[test]
fn loose_key_file_gives_a_warning_and_encrypted_key_needs_its_passphrase() {
    let env = env_with_vault();
    let key = new_key(&env, "id_plain", "");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = env
        .ferry(&[
            "profile",
            "add",
            "k",
            "sftp://u@h",
            "--key",
            key.to_str().expect("utf8"),
        ])
        .output()
        .expect("run");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("readable by other users"), "{err}");

    let enc = new_key(&env, "id_enc", "right");
    let path = enc.to_str().expect("utf8");
    let err = env.fails(env.ferry(&["profile", "add", "e", "sftp://u@h", "--key", path]));
    assert!(err.contains("--key-passphrase-stdin"), "{err}");
    let mut cmd = env.ferry_unlocked(&[
        "profile",
        "add",
        "e",
        "sftp://u@h",
        "--key",
        path,
        "--key-passphrase-stdin",
    ]);
    cmd.write_stdin("wrong\n");
    let err = env.fails(cmd);
    assert!(err.contains("wrong passphrase"), "{err}");
    let mut cmd = env.ferry_unlocked(&[
        "profile",
        "add",
        "e",
        "sftp://u@h",
        "--key",
        path,
        "--key-passphrase-stdin",
    ]);
    cmd.write_stdin("right\n");
    env.ok(cmd);
}

#[test]
fn no_arguments_prints_help_and_status() {
    let env = env_with_vault();
    env.ok(env.ferry(&["profile", "add", "web", "sftp://u@h"]));
    let out = env.ok(env.ferry(&[]));
    assert!(out.contains("Usage: ferry"), "{out}");
    assert!(out.contains("vault:    set up"), "{out}");
    assert!(out.contains("profiles: 1 (web)"), "{out}");
}
