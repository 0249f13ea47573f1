//! The store on disk: no plaintext secrets, private modes, one holder at a time, newer schemas
//! refused untouched, damage reported, migrations from older versions.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use ferry::store::{CURRENT_VERSION, Store, StoreError, force_version};

use crate::support::env::{FerryEnv, files_under};

const DISTINCTIVE: &str = "Zq8-unmistakable-PASSWORD-7731";

#[test]
fn plaintext_password_never_reaches_the_disk() {
    let env = FerryEnv::new();
    env.init_vault();
    let mut cmd = env.ferry_unlocked(&["profile", "add", "web", "sftp://u@h", "--password-stdin"]);
    cmd.write_stdin(format!("{DISTINCTIVE}\n"));
    env.ok(cmd);
    let mut cmd = env.ferry_unlocked(&["profile", "edit", "web", "--password-stdin"]);
    cmd.env("FERRY_LOG", "trace")
        .write_stdin(format!("{DISTINCTIVE}-2\n"));
    env.ok(cmd);
    env.ok(env.ferry(&["profile", "show", "web"]));

    let files = files_under(&env.data_dir());
    assert!(files.iter().any(|f| f.ends_with("ferry.redb")));
    assert!(
        files.iter().any(|f| f.to_string_lossy().contains("/logs/")),
        "a log file was written: {files:?}"
    );
    for file in files {
        let bytes = std::fs::read(&file).expect("read");
        let found = bytes
            .windows(DISTINCTIVE.len())
            .any(|w| w == DISTINCTIVE.as_bytes());
        assert!(!found, "plaintext password found in {}", file.display());
    }
}

#[test]
fn data_dir_is_0700_and_files_0600() {
    let env = FerryEnv::new();
    env.init_vault();
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&env.data_dir()), 0o700);
    assert_eq!(mode(&env.store_file()), 0o600);
    for file in files_under(&env.data_dir()) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

#[test]
fn second_process_is_told_the_store_is_in_use() {
    let env = FerryEnv::new();
    env.ok(env.ferry(&["profile", "list"]));
    let held = Store::open(&env.store_file()).expect("hold the store");
    let started = Instant::now();
    let mut cmd = env.ferry(&["profile", "list"]);
    cmd.timeout(Duration::from_secs(10));
    let err = env.fails(cmd);
    assert!(started.elapsed() < Duration::from_secs(10), "it hung");
    assert!(err.contains("is in use by process"), "{err}");
    assert!(
        err.contains(&std::process::id().to_string()),
        "names the holder: {err}"
    );
    assert!(err.contains("ferry.redb"), "{err}");
    drop(held);
    env.ok(env.ferry(&["profile", "list"]));
}

#[test]
fn store_from_a_newer_ferry_is_refused_and_left_untouched() {
    let env = FerryEnv::new();
    env.ok(env.ferry(&["profile", "add", "web", "sftp://u@h"]));
    {
        let store = Store::open(&env.store_file()).expect("open");
        force_version(&store, CURRENT_VERSION + 1).expect("bump");
    }
    let before = std::fs::read(env.store_file()).expect("read");
    let err = env.fails(env.ferry(&["profile", "list"]));
    assert!(err.contains("newer ferry"), "{err}");
    assert_eq!(
        std::fs::read(env.store_file()).expect("read"),
        before,
        "file changed"
    );
}

#[test]
fn damaged_store_is_reported_not_repaired() {
    let env = FerryEnv::new();
    env.ok(env.ferry(&["profile", "add", "web", "sftp://u@h"]));
    let mut bytes = std::fs::read(env.store_file()).expect("read");
    for byte in bytes.iter_mut().skip(4096).step_by(7) {
        *byte ^= 0x5a;
    }
    std::fs::write(env.store_file(), &bytes).expect("write");
    let err = env.fails(env.ferry(&["profile", "list"]));
    assert!(err.contains("damaged"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(
        std::fs::read(env.store_file()).expect("read"),
        bytes,
        "file changed"
    );
}

#[test]
fn not_a_store_is_reported() {
    let env = FerryEnv::new();
    std::fs::create_dir_all(env.data_dir()).expect("mkdir");
    std::fs::write(env.store_file(), b"this is a text file, not a database").expect("write");
    let err = env.fails(env.ferry(&["profile", "list"]));
    assert!(
        err.contains("damaged") || err.contains("ferry.redb"),
        "{err}"
    );
}

#[test]
fn migrates_from_every_older_version() {
    for version in 0..CURRENT_VERSION {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("ferry.redb");
        let store = Store::create_at_version(&path, version).expect("create old");
        assert_eq!(store.schema_version().expect("version"), version);
        if version >= 1 {
            store.add_profile(&sample_profile()).expect("profile at v1");
        }
        drop(store);
        let store = Store::open(&path).expect("migrate");
        assert_eq!(store.schema_version().expect("version"), CURRENT_VERSION);
        let profiles = store.list_profiles().expect("profiles");
        assert_eq!(
            profiles.len(),
            usize::from(version >= 1),
            "v{version} data survives"
        );
        assert!(
            store
                .queued_transfers()
                .expect("transfers table")
                .is_empty()
        );
        drop(store);
    }
}

fn sample_profile() -> ferry::profile::Profile {
    ferry::profile::Profile {
        id: 1,
        name: "old".into(),
        protocol: ferry::profile::Protocol::Sftp,
        host: "h".into(),
        port: 22,
        user: "u".into(),
        remote_dir: None,
        local_dir: None,
        key_file: None,
        agent: false,
        password: None,
        key_passphrase: None,
        max_connections: 4,
        host_key_policy: Default::default(),
        timeout_secs: None,
        cert_pin: None,
        created_at: 0,
        updated_at: 0,
    }
}

#[test]
fn store_errors_name_the_path() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("ferry.redb");
    let _held = Store::open(&path).expect("open");
    match Store::open(&path) {
        Err(err @ StoreError::InUse { .. }) => {
            assert!(err.to_string().contains(&path.display().to_string()))
        }
        other => panic!("expected InUse, got {other:?}"),
    }
}
