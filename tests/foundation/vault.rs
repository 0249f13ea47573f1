//! The vault through the binary: init, status, wrong passphrase, change-passphrase, key files.

use std::os::unix::fs::PermissionsExt;

use ferry::profile::ProfileSecret;
use ferry::store::Store;
use ferry::vault::Unlock;
use secrecy::{ExposeSecret, SecretString};

use crate::support::env::{FerryEnv, PASSPHRASE};

fn add_with_password(env: &FerryEnv, name: &str, password: &str) {
    let mut cmd = env.ferry_unlocked(&[
        "profile",
        "add",
        name,
        "sftp://deploy@10.0.0.5/srv",
        "--password-stdin",
    ]);
    cmd.write_stdin(format!("{password}\n"));
    env.ok(cmd);
}

fn passphrase(text: &str) -> Unlock {
    Unlock::Passphrase(SecretString::from(text.to_string()))
}

#[test]
fn init_then_status_reports_the_vault() {
    let env = FerryEnv::new();
    let out = env.ok(env.ferry(&["vault", "status"]));
    assert!(out.contains("not set up"), "{out}");
    env.init_vault();
    let out = env.ok(env.ferry(&["vault", "status", "--json"]));
    let status: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(status["initialised"], true);
    assert_eq!(status["secrets"], 0);
    let err = env.fails(env.ferry_unlocked(&["vault", "init"]));
    assert!(err.contains("already set up"), "{err}");
}

#[test]
fn wrong_passphrase_changes_nothing() {
    let env = FerryEnv::new();
    env.init_vault();
    add_with_password(&env, "web", "pw-web");
    let before = env.ok(env.ferry(&["profile", "show", "web", "--json"]));
    let wrong = env.dir.path().join("wrong");
    std::fs::write(&wrong, "not the passphrase\n").expect("write");
    let mut cmd = env.ferry(&["profile", "edit", "web", "--password-stdin"]);
    cmd.env("FERRY_PASSPHRASE_FILE", &wrong)
        .write_stdin("new\n");
    let err = env.fails(cmd);
    assert_eq!(err.trim(), "ferry: wrong passphrase");
    assert_eq!(
        env.ok(env.ferry(&["profile", "show", "web", "--json"])),
        before
    );
    let store = Store::open(&env.store_file()).expect("open");
    let key = store
        .vault_header()
        .expect("header")
        .expect("vault")
        .unlock(&passphrase(PASSPHRASE))
        .expect("unlock");
    let profile = store.profile("web").expect("web");
    let sealed = profile.password.as_ref().expect("sealed");
    let plain = key
        .open(profile.slot(ProfileSecret::Password), sealed)
        .expect("opens");
    assert_eq!(
        plain.expose_secret(),
        "pw-web",
        "the old password is still there"
    );
}

#[test]
fn change_passphrase_reseals_every_secret() {
    let env = FerryEnv::new();
    env.init_vault();
    add_with_password(&env, "web", "pw-web");
    add_with_password(&env, "db", "pw-db");
    let new_pass = env.dir.path().join("new");
    std::fs::write(&new_pass, "a brand new passphrase\n").expect("write");
    let mut cmd = env.ferry_unlocked(&["vault", "change-passphrase"]);
    cmd.env("FERRY_NEW_PASSPHRASE_FILE", &new_pass);
    let out = env.ok(cmd);
    assert!(out.contains("2 secret(s) re-sealed"), "{out}");

    let store = Store::open(&env.store_file()).expect("open");
    let header = store.vault_header().expect("header").expect("vault");
    assert!(header.unlock(&passphrase(PASSPHRASE)).is_err());
    let key = header
        .unlock(&passphrase("a brand new passphrase"))
        .expect("new passphrase opens");
    for (name, expected) in [("web", "pw-web"), ("db", "pw-db")] {
        let profile = store.profile(name).expect("profile");
        let sealed = profile.password.as_ref().expect("sealed");
        let plain = key
            .open(profile.slot(ProfileSecret::Password), sealed)
            .expect("opens");
        assert_eq!(plain.expose_secret(), expected);
    }
    drop(store);
    let err = env.fails(env.ferry_unlocked(&["vault", "change-passphrase"]));
    assert!(err.contains("wrong passphrase"), "{err}");
}

#[test]
fn key_file_vault_is_created_0600_and_unlocks_without_prompt() {
    let env = FerryEnv::new();
    let key = env.dir.path().join("keys/ferry.key");
    let path = key.to_str().expect("utf8");
    env.ok(env.ferry(&["vault", "init", "--key-file", path]));
    assert_eq!(std::fs::metadata(&key).expect("key").len(), 32);
    assert_eq!(
        std::fs::metadata(&key).expect("key").permissions().mode() & 0o777,
        0o600
    );
    // The recorded path unlocks; FERRY_KEY_FILE pointing elsewhere is refused as the wrong key.
    let mut cmd = env.ferry(&["profile", "add", "web", "sftp://u@h", "--password-stdin"]);
    cmd.write_stdin("pw\n");
    env.ok(cmd);
    let other = env.dir.path().join("other.key");
    std::fs::write(&other, [7u8; 32]).expect("write");
    let mut cmd = env.ferry(&["profile", "edit", "web", "--password-stdin"]);
    cmd.env("FERRY_KEY_FILE", &other).write_stdin("pw2\n");
    let err = env.fails(cmd);
    assert!(err.contains("wrong key file"), "{err}");
}

#[test]
fn secrets_need_an_initialised_vault() {
    let env = FerryEnv::new();
    let mut cmd = env.ferry(&["profile", "add", "web", "sftp://u@h", "--password-stdin"]);
    cmd.write_stdin("pw\n");
    let err = env.fails(cmd);
    assert!(err.contains("ferry vault init"), "{err}");
    let out = env.ok(env.ferry(&["profile", "list"]));
    assert!(out.contains("no profiles"), "{out}");
}

#[test]
fn locked_vault_without_terminal_says_how_to_unlock() {
    let env = FerryEnv::new();
    env.init_vault();
    let mut cmd = env.ferry(&["profile", "add", "web", "sftp://u@h", "--password-stdin"]);
    cmd.write_stdin("pw\n");
    let err = env.fails(cmd);
    assert!(err.contains("FERRY_PASSPHRASE_FILE"), "{err}");
}

#[test]
fn default_argon2_cost_is_at_least_64_mib_and_3_passes() {
    let env = FerryEnv::new();
    env.write_config("");
    env.init_vault();
    let out = env.ok(env.ferry(&["vault", "status"]));
    assert!(out.contains("64 MiB, 3 passes"), "{out}");
}
