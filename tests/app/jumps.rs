//! Jump hosts from the app against a real engine: a chain typed into the profile form is
//! saved, a bad hop is refused beside its field with the reason, and a connection test
//! through two in-process SSH servers shows both hops with their host keys.

use ferry::engine::EngineClient;
use ferry::engine::api::{Request, Response, SecretChange};
use ferry::profile::{Profile, Protocol, local_user};
use ferry::tui::layers::Layer;

use crate::harness::{Live, start};
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};
use crate::whole::{engine, unlock};

/// The jump hosts the engine keeps for `name` (None: no such profile).
async fn saved_jumps(client: &EngineClient, name: &str) -> Option<Vec<String>> {
    let Response::Profiles { profiles } = client.request(Request::Profiles).await else {
        panic!("the profiles")
    };
    profiles
        .into_iter()
        .find(|s| s.profile.name == name)
        .map(|s| s.profile.jump)
}

fn form_open(live: &Live) -> bool {
    matches!(live.app.layers.last(), Some(Layer::Form(_)))
}

/// In a new profile's form: name, host 127.0.0.1, `port` and the test server's login.
fn fill_in(live: &mut Live, name: &str, port: u16) {
    live.keys(&["5", "a"]);
    live.type_text(name);
    live.keys(&["tab", "tab"]);
    live.type_text("127.0.0.1");
    live.keys(&["tab", "backspace", "backspace"]);
    live.type_text(&port.to_string());
    live.keys(&["tab"]);
    for _ in local_user().chars() {
        live.keys(&["backspace"]);
    }
    live.type_text(DEFAULT_USER);
    live.keys(&["tab", "tab"]);
    live.type_text(DEFAULT_PASSWORD);
    // key file, key passphrase, ssh-agent, unknown host key: accept-new.
    live.keys(&["tab", "tab", "tab", "tab", "space"]);
    // jump hosts
    live.keys(&["tab"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chain_typed_in_the_form_is_saved_and_its_test_shows_both_hops() {
    let hop1 = SftpServer::start(SftpServerConfig::default()).await;
    let hop2 = SftpServer::start(SftpServerConfig::default()).await;
    let target = SftpServer::start(SftpServerConfig::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = engine(dir.path(), &[("hop1", hop1.port()), ("hop2", hop2.port())]);
    let mut live = Live::new(
        client.clone(),
        start(&dir.path().to_string_lossy(), (120, 35)),
    );
    unlock(&mut live).await;
    fill_in(&mut live, "srv", target.port());
    live.type_text("hop1, hop2");
    assert!(live.screen().contains("jump hosts hop1, hop2"));
    live.keys(&["enter"]);
    // The saved profile's event and the form's own answer come in either order.
    live.settle("the profile saved and its form closed", |app| {
        app.profiles.iter().any(|s| s.profile.name == "srv")
            && !matches!(app.layers.last(), Some(Layer::Form(_)))
    })
    .await;
    assert_eq!(
        saved_jumps(&client, "srv").await.as_deref(),
        Some(&["hop1".to_string(), "hop2".to_string()][..])
    );
    live.keys(&["G"]);
    assert!(
        live.screen().contains("jump         hop1 → hop2"),
        "{}",
        live.screen()
    );

    live.keys(&["t"]);
    live.settle("the test's report", |app| {
        app.profiles_tab.reports.contains_key("srv")
    })
    .await;
    let screen = live.screen();
    assert!(screen.contains("last test    0."), "{screen}");
    for (n, (name, server)) in [("hop1", &hop1), ("hop2", &hop2)].into_iter().enumerate() {
        let fingerprint = server
            .host_public_key()
            .fingerprint(Default::default())
            .to_string();
        let hop = format!(
            "jump {}       {name} (127.0.0.1:{}), ",
            n + 1,
            server.port()
        );
        let at = screen
            .find(&hop)
            .unwrap_or_else(|| panic!("{hop}\n{screen}"));
        let next_line = screen[at..].lines().nth(1).expect("the hop's key");
        assert!(
            next_line.contains(&format!("ssh-ed25519 {fingerprint}")),
            "{screen}"
        );
    }
    assert_eq!(hop1.forwards(), 1, "hop1 forwarded to hop2");
    assert_eq!(hop2.forwards(), 1, "hop2 forwarded to the server");
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_jump_host_is_refused_beside_its_field_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Nothing listens: no connection is made, the form checks against the saved profiles.
    let client = engine(dir.path(), &[("hop1", 1)]);
    let files = Profile::new("files", Protocol::Ftp, "127.0.0.1", 21, "bob");
    let reply = client
        .request(Request::SaveProfile {
            original: None,
            profile: Box::new(files),
            password: SecretChange::Keep,
            key_passphrase: SecretChange::Keep,
        })
        .await;
    assert!(matches!(reply, Response::Ok), "{reply:?}");
    let mut live = Live::new(
        client.clone(),
        start(&dir.path().to_string_lossy(), (80, 24)),
    );
    unlock(&mut live).await;
    live.settle("both profiles", |app| app.profiles.len() == 2)
        .await;
    fill_in(&mut live, "db", 22);

    let cases = [
        ("hop9", "hop 1: no such profile"),
        ("hop1, files", "hop 2: not an SFTP profile"),
        ("db", "hop 1: this profile itself"),
        ("hop1, ops@", "hop 2: not user@host[:port]"),
        ("hop1,", "hop 2: empty"),
    ];
    for (typed, reason) in cases {
        live.type_text(typed);
        let screen = live.screen();
        let row = screen
            .lines()
            .find(|l| l.contains("jump hosts"))
            .expect("the field");
        assert!(row.contains(reason), "{typed}: {reason}\n{screen}");
        live.keys(&["enter"]);
        assert!(form_open(&live), "{typed} refused");
        assert!(
            live.screen().contains("check the jump hosts field"),
            "{}",
            live.screen()
        );
        for _ in typed.chars() {
            live.keys(&["backspace"]);
        }
    }
    assert_eq!(saved_jumps(&client, "db").await, None, "nothing saved");

    live.type_text("hop1, ops@10.1.0.1:2222");
    live.keys(&["enter"]);
    live.settle("the profile saved", |app| {
        app.profiles.iter().any(|s| s.profile.name == "db")
    })
    .await;
    assert_eq!(
        saved_jumps(&client, "db").await.as_deref(),
        Some(&["hop1".to_string(), "ops@10.1.0.1:2222".to_string()][..])
    );
    client.shutdown().await;
}
