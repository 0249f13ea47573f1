//! The whole app against a real engine and the in-process SFTP server: unlock the vault,
//! connect the right pane, mark three files, F5, confirm, and watch them finish in the Queue
//! tab; then the same between two servers (remote | remote panes).

use ferry::config::Config;
use ferry::engine::api::VaultState;
use ferry::engine::{EngineClient, EngineSetup};
use ferry::paths::Paths;
use ferry::profile::{HostKeyPolicy, Profile, ProfileSecret, Protocol};
use ferry::store::Store;
use ferry::transfer::model::TransferState;
use ferry::tui::app::{App, Tab};
use ferry::tui::layers::Layer;
use ferry::vault::{Argon2Cost, Unlock, VaultHeader};
use secrecy::SecretString;

use crate::harness::{Live, start};
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};

const PASSPHRASE: &str = "correct horse battery";

/// A data directory with a passphrase vault and a password profile per server; the engine
/// starts locked, as `ferry` does.
pub fn engine(dir: &std::path::Path, servers: &[(&str, u16)]) -> EngineClient {
    let data = dir.join("data");
    let store = Store::open(&data.join("ferry.redb")).expect("store");
    let cheap = Argon2Cost {
        memory_kib: 8 * 1024,
        passes: 1,
    };
    let passphrase = SecretString::from(PASSPHRASE.to_string());
    let (header, key) = VaultHeader::create(&Unlock::Passphrase(passphrase), cheap).expect("vault");
    store.init_vault(&header).expect("init");
    for (name, port) in servers {
        let mut profile = Profile::new(name, Protocol::Sftp, "127.0.0.1", *port, DEFAULT_USER);
        profile.id = store.reserve_profile_id().expect("id");
        profile.host_key_policy = HostKeyPolicy::AcceptNew;
        profile.password = Some(key.seal(
            profile.slot(ProfileSecret::Password),
            &SecretString::from(DEFAULT_PASSWORD.to_string()),
        ));
        store.add_profile(&profile).expect("profile");
    }
    ferry::engine::start(EngineSetup {
        store,
        config: Config::default(),
        paths: Paths::resolve(None, Some(data)).expect("paths"),
        vault_key: None,
        host_key_policy: None,
        run_queue: true,
    })
    .expect("engine")
}

fn unlocked(app: &App) -> bool {
    matches!(app.vault, Some(VaultState::Unlocked { .. }))
}

/// Types the passphrase into the unlock dialog.
pub async fn unlock(live: &mut Live) {
    live.settle("the unlock dialog", |app| {
        matches!(app.layers.last(), Some(Layer::Unlock(_)))
    })
    .await;
    live.type_text(PASSPHRASE);
    live.keys(&["enter"]);
    live.settle("the vault to unlock", unlocked).await;
    live.settle("the profiles", |app| !app.profiles.is_empty())
        .await;
}

/// `o`, the profile's name, Enter; waits for the focused pane's listing.
async fn open(live: &mut Live, profile: &str) {
    live.keys(&["o"]);
    live.type_text(profile);
    live.keys(&["enter"]);
    let profile = profile.to_string();
    live.settle("the server's listing", move |app| {
        let pane = app.explorer.focused_pane();
        pane.label() == profile && pane.loading.is_none() && pane.connecting.is_none()
    })
    .await;
}

fn done_count(app: &App) -> usize {
    app.queue
        .finished
        .iter()
        .filter(|t| t.state == TransferState::Done)
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn unlock_connect_mark_three_files_f5_and_watch_them_finish() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let local = dir.path().join("reports");
    std::fs::create_dir(&local).expect("mkdir");
    for name in ["a.csv", "b.csv", "c.csv", "d.csv"] {
        std::fs::write(local.join(name), format!("contents of {name}\n")).expect("write");
    }
    let client = engine(dir.path(), &[("web", server.port())]);
    let mut live = Live::new(client.clone(), start(&local.to_string_lossy(), (80, 24)));
    unlock(&mut live).await;
    live.settle("the local listing", |app| {
        app.explorer.focused_pane().listing.total() == 4
    })
    .await;
    open(&mut live, "web").await;
    live.keys(&["tab", "j", "space", "space", "space", "F5"]);
    assert!(live.screen().contains("Copy 3 files"), "{}", live.screen());
    live.keys(&["enter"]);
    live.settle("three uploads done", |app| done_count(app) == 3)
        .await;
    live.settle("the copy's end", |app| {
        app.message
            .as_ref()
            .is_some_and(|(m, _)| m.starts_with("copy done"))
    })
    .await;
    live.keys(&["3"]);
    let screen = live.screen();
    let rows = screen
        .lines()
        .filter(|l| l.starts_with("│ done   ↑ web:/"))
        .count();
    assert_eq!(rows, 3, "{screen}");
    assert!(
        screen.contains("copy done: 3 done, 0 skipped, 0 failed"),
        "{screen}"
    );
    for name in ["a.csv", "b.csv", "c.csv"] {
        let there = std::fs::read_to_string(server.root().join(name)).expect("uploaded");
        assert_eq!(there, format!("contents of {name}\n"));
    }
    assert!(
        !server.root().join("d.csv").exists(),
        "only the marked files"
    );
    // The server pane shows what arrived.
    live.keys(&["2"]);
    live.settle("the server pane refreshed", |app| {
        app.explorer.session().right.listing.total() == 3
    })
    .await;
    assert_eq!(live.app.tab, Tab::Explorer);
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn three_files_copy_from_one_server_pane_to_another() {
    let a = SftpServer::start(SftpServerConfig::default()).await;
    let b = SftpServer::start(SftpServerConfig::default()).await;
    for name in ["x.log", "y.log", "z.log"] {
        std::fs::write(a.root().join(name), format!("log {name}\n")).expect("write");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let client = engine(dir.path(), &[("alpha", a.port()), ("beta", b.port())]);
    let mut live = Live::new(
        client.clone(),
        start(&dir.path().to_string_lossy(), (120, 35)),
    );
    unlock(&mut live).await;
    open(&mut live, "beta").await;
    // The left pane of beta's session becomes alpha: remote | remote.
    live.keys(&["tab"]);
    open(&mut live, "alpha").await;
    assert_eq!(live.app.explorer.session().label(), "alpha|beta");
    live.keys(&["space", "space", "space", "F5", "enter"]);
    live.settle("three relays done", |app| done_count(app) == 3)
        .await;
    for name in ["x.log", "y.log", "z.log"] {
        let there = std::fs::read_to_string(b.root().join(name)).expect("copied");
        assert_eq!(there, format!("log {name}\n"));
    }
    live.keys(&["3"]);
    assert!(
        live.screen().contains("alpha:/x.log → beta:/x.log"),
        "{}",
        live.screen()
    );
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn f4_edits_a_server_file_and_sends_it_back_when_it_changed() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    std::fs::write(server.root().join("motd"), "old message\n").expect("write");
    let dir = tempfile::tempdir().expect("tempdir");
    let client = engine(dir.path(), &[("web", server.port())]);
    let mut start = start(&dir.path().to_string_lossy(), (80, 24));
    start.edit_dir = dir.path().join("edit").to_string_lossy().into_owned();
    let mut live = Live::new(client.clone(), start);
    live.editor = Box::new(|path| {
        let before = std::fs::read_to_string(path).expect("the downloaded copy");
        assert_eq!(before, "old message\n");
        std::fs::write(path, "new message\n").expect("edit");
        true
    });
    unlock(&mut live).await;
    open(&mut live, "web").await;
    live.keys(&["F4"]);
    live.settle("the file saved back", |app| {
        app.message
            .as_ref()
            .is_some_and(|(m, _)| m.contains("saved on the server"))
    })
    .await;
    let there = std::fs::read_to_string(server.root().join("motd")).expect("motd");
    assert_eq!(there, "new message\n");
    client.shutdown().await;
}
