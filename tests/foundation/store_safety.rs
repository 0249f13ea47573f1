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

/// The records an older schema wrote, as fixed bytes (`tests/fixtures/store/v<N>/`).
fn fixture(version: u32, name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/store/v{version}/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Writes records into the tables of a store created at an older version, byte for byte.
fn write_raw(
    path: &std::path::Path,
    profiles: &[(u64, &str, Vec<u8>)],
    transfers: &[(u64, Vec<u8>)],
) {
    const PROFILES: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("profiles");
    const NAMES: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("profile_names");
    const TRANSFERS: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("transfers");
    let db = redb::Database::open(path).expect("raw open");
    let txn = redb::Database::begin_write(&db).expect("txn");
    {
        let mut table = txn.open_table(PROFILES).expect("profiles");
        let mut names = txn.open_table(NAMES).expect("profile names");
        for (id, name, bytes) in profiles {
            table.insert(*id, bytes.as_slice()).expect("insert profile");
            names.insert(*name, *id).expect("insert name");
        }
    }
    if !transfers.is_empty() {
        let mut table = txn.open_table(TRANSFERS).expect("transfers");
        for (id, bytes) in transfers {
            table
                .insert(*id, bytes.as_slice())
                .expect("insert transfer");
        }
    }
    txn.commit().expect("commit");
}

#[test]
fn migrates_from_every_older_version() {
    for version in 0..CURRENT_VERSION {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("ferry.redb");
        let store = Store::create_at_version(&path, version).expect("create old");
        assert_eq!(store.schema_version().expect("version"), version);
        drop(store);
        let profiles = match version {
            0 => vec![],
            v => vec![(1, "old", fixture(v, "profile-1"))],
        };
        let transfers = match version {
            2 => vec![(7, fixture(2, "transfer-7")), (8, fixture(2, "transfer-8"))],
            _ => vec![],
        };
        write_raw(&path, &profiles, &transfers);

        let store = Store::open(&path).expect("migrate");
        assert_eq!(store.schema_version().expect("version"), CURRENT_VERSION);
        let profiles = store.list_profiles().expect("profiles");
        assert_eq!(profiles.len(), usize::from(version >= 1), "v{version}");
        if version >= 1 {
            let old = store.profile("old").expect("v{version} profile reads");
            assert_eq!((old.host.as_str(), old.port), ("h.example", 2222));
            assert_eq!(old.remote_dir.as_deref(), Some("/srv"));
            assert_eq!(old.charset, None, "older profiles have no character set");
        }
        let queued: Vec<u64> = store
            .queued_transfers()
            .expect("queue")
            .iter()
            .map(|t| t.id)
            .collect();
        let expected: Vec<u64> = if version == 2 { vec![7] } else { vec![] };
        assert_eq!(
            queued, expected,
            "v{version}: only the unfinished transfer is queued"
        );
        if version == 2 {
            let interrupted = store.transfer(7).expect("read").expect("transfer 7");
            assert_eq!(interrupted.offset, 4);
            let error = interrupted.error.expect("its error survives");
            assert_eq!(error.kind, ferry::remote::ErrorKind::ConnectionLost);
            let done = store.transfer(8).expect("read").expect("transfer 8");
            assert_eq!(done.state, ferry::transfer::model::TransferState::Done);
            assert!(done.verification.is_some(), "its verification survives");
        }
        drop(store);
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
