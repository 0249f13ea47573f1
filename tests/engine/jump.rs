//! Jump hosts: a profile reaches its server through a chain of other profiles' servers, each
//! hop's host key checked like the target's; `ferry test` shows every hop; a jump host whose
//! key changed is refused.

use std::time::Duration;

use ferry::engine::EngineClient;
use ferry::engine::api::{Request, Response, TestReport};
use ferry::profile::Protocol;
use ferry::remote::ErrorKind;
use ferry::transfer::model::Direction;

use crate::support::engine::{
    EngineFixture, call, enqueue, random_file, request, sha256_file, wait_batches,
};
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};

async fn test_report(client: &EngineClient, profile: &str) -> TestReport {
    match call(
        client,
        Request::Test {
            profile: profile.into(),
        },
    )
    .await
    {
        Response::Tested { report } => *report,
        other => panic!("{other:?}"),
    }
}

/// Profiles `hop1`, `hop2` and `srv` (through both) for three in-process servers.
fn chain(fx: &EngineFixture, hop1: &SftpServer, hop2: &SftpServer, target: &SftpServer) {
    let add = |name: &str, server: &SftpServer, jump: Vec<String>| {
        fx.add_profile_with(
            name,
            Protocol::Sftp,
            server.port(),
            DEFAULT_USER,
            DEFAULT_PASSWORD,
            |profile| profile.jump = jump,
        );
    };
    add("hop1", hop1, Vec::new());
    add("hop2", hop2, Vec::new());
    add("srv", target, vec!["hop1".into(), "hop2".into()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chain_of_two_jump_hosts_reaches_the_server() {
    let hop1 = SftpServer::start(SftpServerConfig::default()).await;
    let hop2 = SftpServer::start(SftpServerConfig::default()).await;
    let target = SftpServer::start(SftpServerConfig::default()).await;
    let fx = EngineFixture::new(|_| {});
    chain(&fx, &hop1, &hop2, &target);
    let client = fx.start();

    let report = test_report(&client, "srv").await;
    assert!(report.ok, "{report:?}");
    let names: Vec<&str> = report.hops.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["hop1", "hop2"]);
    for (hop, server) in report.hops.iter().zip([&hop1, &hop2]) {
        let (kind, fingerprint) = hop.host_key.clone().expect("hop's key shown");
        assert_eq!(kind, "ssh-ed25519");
        let expected = server
            .host_public_key()
            .fingerprint(Default::default())
            .to_string();
        assert_eq!(fingerprint, expected, "{hop:?}");
    }
    assert_eq!(hop1.forwards(), 1, "hop1 forwarded to hop2");
    assert_eq!(hop2.forwards(), 1, "hop2 forwarded to the server");
    assert_eq!(hop1.sftp_sessions() + hop2.sftp_sessions(), 0);

    let up = fx.local("up");
    let file = up.join("through.bin");
    random_file(&file, 3 << 20, 5);
    let mut watch = client.subscribe(false);
    let batch = enqueue(
        &client,
        request(
            Direction::Upload,
            "srv",
            &[file.to_str().expect("utf8")],
            "/",
            false,
        ),
    )
    .await;
    let (summaries, _) = wait_batches(&mut watch, &[batch], Duration::from_secs(60)).await;
    assert_eq!(summaries[0].done, 1, "{summaries:?}");
    assert_eq!(
        sha256_file(&target.root().join("through.bin")),
        sha256_file(&file)
    );
    assert!(!hop1.root().join("through.bin").exists());
    client.request(Request::Shutdown).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_jump_host_whose_key_changed_is_refused() {
    let hop1 = SftpServer::start(SftpServerConfig::default()).await;
    let hop2 = SftpServer::start(SftpServerConfig::default()).await;
    let target = SftpServer::start(SftpServerConfig::default()).await;
    let fx = EngineFixture::new(|_| {});
    chain(&fx, &hop1, &hop2, &target);
    let client = fx.start();
    assert!(test_report(&client, "srv").await.ok, "keys learned");
    client.request(Request::Shutdown).await;
    drop(client);

    // The second hop's key is no longer the one remembered: known_hosts now holds another
    // (the same as the hop coming back with a new key, without giving its port away to other
    // tests meanwhile).
    let path = fx.data_dir().join("ferry.redb");
    for _ in 0..100 {
        if ferry::store::Store::open(&path).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let known_hosts = fx.data_dir().join("known_hosts");
    let hop2_name = format!("[127.0.0.1]:{} ", hop2.port());
    let text = std::fs::read_to_string(&known_hosts).expect("keys learned");
    assert!(text.contains(&hop2_name), "{text}");
    let impostor = SftpServer::start(SftpServerConfig::default()).await;
    let rewritten: String = text
        .lines()
        .map(|line| match line.starts_with(&hop2_name) {
            true => format!("{hop2_name}{}\n", impostor.host_key_openssh()),
            false => format!("{line}\n"),
        })
        .collect();
    std::fs::write(&known_hosts, rewritten).expect("known_hosts");
    let client = fx.start();
    let report = test_report(&client, "srv").await;
    assert!(!report.ok, "{report:?}");
    let error = report.error.expect("refused");
    assert_eq!(error.kind, ErrorKind::HostKey, "{error:?}");
    assert!(
        error.message.contains("hop2"),
        "names the hop: {}",
        error.message
    );
    assert_eq!(target.connections(), 1, "the server was not reached again");
    client.request(Request::Shutdown).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sshd_behind_sshd() {
    use crate::support::real_servers::{
        RealSshd, SshdOptions, skip_without_real_servers, test_user,
    };
    if skip_without_real_servers() {
        return;
    }
    let jump = RealSshd::start(SshdOptions::default());
    let target = RealSshd::start(SshdOptions::default());
    let user = test_user();
    let fx = EngineFixture::new(|_| {});
    fx.add_profile(
        "gate",
        Protocol::Sftp,
        jump.port(),
        &user.name,
        &user.password,
    );
    fx.add_profile_with(
        "inner",
        Protocol::Sftp,
        target.port(),
        &user.name,
        &user.password,
        |profile| profile.jump = vec!["gate".into()],
    );
    let client = fx.start();
    let report = test_report(&client, "inner").await;
    assert!(report.ok, "{report:?}");
    assert_eq!(report.hops.len(), 1);
    assert_eq!(report.hops[0].name, "gate");
    assert!(report.hops[0].host_key.is_some());
    assert!(report.banner.is_some_and(|b| b.contains("OpenSSH")));
    client.request(Request::Shutdown).await;
}
