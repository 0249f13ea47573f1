//! Profiles and the vault through the engine: a vault set up and unlocked by request (a wrong
//! passphrase is an auth error), profiles added with sealed secrets, listed without them,
//! changed, imported from an ssh config and removed.

use ferry::config::Config;
use ferry::engine::api::{Request, Response, Secret, SecretChange, VaultState};
use ferry::engine::{EngineClient, EngineSetup};
use ferry::paths::Paths;
use ferry::profile::{Profile, Protocol};
use ferry::remote::ErrorKind;
use ferry::store::Store;

use crate::support::engine::call;

/// An engine over an empty data directory (no vault yet), with a cheap Argon2id.
fn empty_engine(dir: &std::path::Path) -> EngineClient {
    let mut config = Config::default();
    config.vault.argon2_memory.0 = 8 << 20;
    config.vault.argon2_passes = 1;
    let data = dir.join("data");
    ferry::engine::start(EngineSetup {
        store: Store::open(&data.join("ferry.redb")).expect("store"),
        config,
        paths: Paths::resolve(None, Some(data)).expect("paths"),
        vault_key: None,
        host_key_policy: None,
        run_queue: true,
    })
    .expect("engine")
}

async fn vault(client: &EngineClient) -> VaultState {
    match call(client, Request::Vault).await {
        Response::Vault { state } => state,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_vault_is_set_up_locked_and_unlocked_through_the_engine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let client = empty_engine(dir.path());
    assert_eq!(vault(&client).await, VaultState::NotSetUp);
    let init = Request::InitVault {
        passphrase: Some(Secret::new("correct horse")),
        key_file: None,
    };
    assert!(format!("{init:?}").contains("[redacted]"), "{init:?}");
    assert!(!format!("{init:?}").contains("correct horse"));
    call(&client, init).await;
    assert!(matches!(vault(&client).await, VaultState::Unlocked { .. }));
    client.shutdown().await;

    let client = empty_engine(dir.path());
    assert!(matches!(
        vault(&client).await,
        VaultState::Locked {
            passphrase: true,
            ..
        }
    ));
    let wrong = client
        .request(Request::UnlockVault {
            passphrase: Some(Secret::new("wrong")),
        })
        .await;
    match wrong {
        Response::Error(failure) => {
            assert_eq!(failure.kind, ErrorKind::Auth);
            assert!(failure.message.contains("wrong passphrase"), "{failure:?}");
        }
        other => panic!("{other:?}"),
    }
    let right = Request::UnlockVault {
        passphrase: Some(Secret::new("correct horse")),
    };
    call(&client, right).await;
    assert!(matches!(vault(&client).await, VaultState::Unlocked { .. }));
    client.shutdown().await;
}

#[tokio::test]
async fn profiles_are_saved_with_sealed_secrets_and_listed_without_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let client = empty_engine(dir.path());
    let profile = Profile::new("web", Protocol::Sftp, "10.0.0.5", 22, "deploy");
    let save =
        |original: Option<&str>, profile: Profile, password: SecretChange| Request::SaveProfile {
            original: original.map(String::from),
            profile: Box::new(profile),
            password,
            key_passphrase: SecretChange::Keep,
        };
    let locked = client
        .request(save(
            None,
            profile.clone(),
            SecretChange::Set(Secret::new("hunter2")),
        ))
        .await;
    assert!(
        matches!(locked, Response::Error(ref f) if f.kind == ErrorKind::Auth),
        "{locked:?}"
    );
    call(
        &client,
        Request::InitVault {
            passphrase: Some(Secret::new("pass phrase")),
            key_file: None,
        },
    )
    .await;
    call(
        &client,
        save(
            None,
            profile.clone(),
            SecretChange::Set(Secret::new("hunter2")),
        ),
    )
    .await;
    let bad = Profile::new("bad name!", Protocol::Sftp, "h", 22, "u");
    let mut own_hop = Profile::new("loop", Protocol::Sftp, "h", 22, "u");
    own_hop.jump = vec!["web".into(), "loop".into()];
    let mut ftp_hop = Profile::new("files", Protocol::Ftp, "h", 21, "u");
    ftp_hop.jump = vec!["web".into()];
    for (bad, why) in [
        (bad, "name"),
        (own_hop, "its own jump host"),
        (ftp_hop, "sftp:// profiles only"),
    ] {
        let refused = client.request(save(None, bad, SecretChange::Keep)).await;
        assert!(
            matches!(refused, Response::Error(ref f) if f.kind == ErrorKind::Invalid && f.message.contains(why)),
            "{refused:?}"
        );
    }

    let listed = match call(&client, Request::Profiles).await {
        Response::Profiles { profiles } => profiles,
        other => panic!("{other:?}"),
    };
    assert_eq!(listed.len(), 1);
    assert!(listed[0].has_password);
    assert!(
        listed[0].profile.password.is_none(),
        "sealed secrets stay in the engine"
    );

    let mut renamed = listed[0].profile.clone();
    renamed.name = "www".into();
    renamed.port = 2222;
    call(&client, save(Some("web"), renamed, SecretChange::Keep)).await;
    let listed = match call(&client, Request::Profiles).await {
        Response::Profiles { profiles } => profiles,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        (listed[0].profile.name.as_str(), listed[0].profile.port),
        ("www", 2222)
    );
    assert!(listed[0].has_password, "the secret was kept");
    call(&client, Request::DeleteProfile { name: "www".into() }).await;
    let gone = client
        .request(Request::DeleteProfile { name: "www".into() })
        .await;
    assert!(
        matches!(gone, Response::Error(ref f) if f.kind == ErrorKind::NotFound),
        "{gone:?}"
    );
    client.shutdown().await;
}

#[tokio::test]
async fn hosts_are_imported_from_an_ssh_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("ssh_config");
    std::fs::write(
        &config,
        "Host backup\n  HostName 10.0.0.7\n  User root\n  Port 2200\nHost *.lan\n  User x\n",
    )
    .expect("write");
    let client = empty_engine(dir.path());
    let path = Some(config.to_string_lossy().into_owned());
    match call(&client, Request::ImportSshConfig { path }).await {
        Response::Imported { added, skipped } => {
            assert_eq!(added, vec!["backup".to_string()]);
            assert!(skipped.iter().any(|s| s.contains("*.lan")), "{skipped:?}");
        }
        other => panic!("{other:?}"),
    }
    client.shutdown().await;
}
