//! One family of questions: an unknown host key, an untrusted FTPS certificate and an existing
//! destination are put to whoever is attached as an answerer; a late watcher still sees a
//! pending question; with nobody attached (or once the last answerer leaves) the policy
//! decides; a changed host key is refused and shown, never asked about.

use std::time::Duration;

use ferry::engine::api::{Answer, Event, Place, Question, Refusal, Request, Response};
use ferry::engine::{EngineClient, Subscription};
use ferry::profile::{HostKeyPolicy, Protocol};
use ferry::remote::ErrorKind;
use ferry::remote::trust::HostKeyDecision;
use ferry::transfer::conflict::ConflictChoice;
use ferry::transfer::model::{Direction, OverwritePolicy, TransferState};

use crate::support::engine::{EngineFixture, call, enqueue, list, request, wait_batches};
use crate::support::ftp_server::{FtpServer, FtpServerConfig, TlsMode};
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};

/// A fixture whose profile `srv` asks about unknown host keys.
fn asking(port: u16) -> EngineFixture {
    let fx = EngineFixture::new(|_| {});
    fx.add_profile_with(
        "srv",
        Protocol::Sftp,
        port,
        DEFAULT_USER,
        DEFAULT_PASSWORD,
        |p| {
            p.host_key_policy = HostKeyPolicy::Ask;
        },
    );
    fx
}

/// The next question a watcher sees, within ten seconds.
async fn next_question(watch: &mut Subscription) -> (u64, Question) {
    let wait = async {
        loop {
            if let Some(Event::Question { id, question }) = watch.next_event().await {
                return (id, question);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("a question within ten seconds")
}

fn listing(client: &EngineClient) -> tokio::task::JoinHandle<Result<usize, ErrorKind>> {
    let client = client.clone();
    tokio::spawn(async move {
        list(&client, Place::Profile("srv".into()), "/")
            .await
            .map(|(entries, _)| entries.len())
            .map_err(|f| f.kind)
    })
}

#[tokio::test]
async fn a_late_watcher_sees_a_pending_host_key_question_and_answers_it() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let fx = asking(server.port());
    let client = fx.start();
    let mut first = client.subscribe(true);
    let listed = listing(&client);
    let (id, question) = next_question(&mut first).await;
    let Question::HostKey(asked) = &question else {
        panic!("{question:?}")
    };
    assert_eq!(asked.port, server.port());

    let _late = client.subscribe(true);
    let pending = match call(&client, Request::Questions).await {
        Response::Questions { pending } => pending,
        other => panic!("{other:?}"),
    };
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].id, &pending[0].question), (id, &question));
    let answer = Answer::HostKey {
        decision: HostKeyDecision::Remember,
    };
    call(
        &client,
        Request::Answer {
            question: id,
            answer,
        },
    )
    .await;
    assert!(listed.await.expect("join").is_ok());
    let known = std::fs::read_to_string(fx.data_dir().join("known_hosts")).expect("known_hosts");
    assert!(known.contains(&server.host_key_openssh()), "{known}");
    let answered_twice = client
        .request(Request::Answer {
            question: id,
            answer,
        })
        .await;
    assert!(matches!(answered_twice, Response::Error(ref f) if f.kind == ErrorKind::NotFound));
    client.shutdown().await;
}

#[tokio::test]
async fn with_nobody_attached_an_unknown_key_is_refused_without_asking() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let fx = asking(server.port());
    let client = fx.start();
    let mut watcher = client.subscribe(false);
    assert_eq!(
        listing(&client).await.expect("join"),
        Err(ErrorKind::HostKey)
    );
    while let Some(event) = watcher.events.try_next() {
        assert!(!matches!(event, Event::Question { .. }), "{event:?}");
    }
    client.shutdown().await;
}

#[tokio::test]
async fn when_the_last_answerer_leaves_a_pending_question_is_refused() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let fx = asking(server.port());
    let client = fx.start();
    let mut answerer = client.subscribe(true);
    let listed = listing(&client);
    next_question(&mut answerer).await;
    drop(answerer);
    let outcome = tokio::time::timeout(Duration::from_secs(10), listed).await;
    assert_eq!(
        outcome.expect("decided at once").expect("join"),
        Err(ErrorKind::HostKey)
    );
    client.shutdown().await;
}

#[tokio::test]
async fn a_changed_host_key_is_refused_and_shown_with_both_fingerprints() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let other = SftpServer::start(SftpServerConfig::default()).await;
    let fx = asking(server.port());
    let line = format!(
        "[127.0.0.1]:{} {}\n",
        server.port(),
        other.host_key_openssh()
    );
    std::fs::create_dir_all(fx.data_dir()).expect("data dir");
    std::fs::write(fx.data_dir().join("known_hosts"), line).expect("known_hosts");
    let client = fx.start();
    let mut watcher = client.subscribe(true);
    assert_eq!(
        listing(&client).await.expect("join"),
        Err(ErrorKind::HostKey)
    );
    let refusal = loop {
        match watcher.events.try_next().expect("a Refused event") {
            Event::Refused { refusal } => break refusal,
            Event::Question { .. } => panic!("a changed key is never a question"),
            _ => {}
        }
    };
    let Refusal::HostKeyChanged(refusal) = refusal;
    let presented = ferry::remote::hostkeys::fingerprint(server.host_public_key());
    let recorded = ferry::remote::hostkeys::fingerprint(other.host_public_key());
    assert_eq!((refusal.presented, refusal.recorded), (presented, recorded));
    assert_eq!(refusal.line, 1);
    assert!(refusal.file.ends_with("known_hosts"));
    client.shutdown().await;
}

/// Three local files that each exist on the server already.
fn conflicting_upload(
    fx: &EngineFixture,
    server: &SftpServer,
) -> ferry::transfer::model::TransferRequest {
    let local = fx.local("up");
    for name in ["a.txt", "b.txt", "c.txt"] {
        std::fs::write(local.join(name), b"new contents").expect("local");
        std::fs::write(server.root().join(name), b"old").expect("remote");
    }
    let sources: Vec<String> = ["a.txt", "b.txt", "c.txt"]
        .iter()
        .map(|n| local.join(n).to_string_lossy().into_owned())
        .collect();
    let sources: Vec<&str> = sources.iter().map(String::as_str).collect();
    let mut up = request(Direction::Upload, "srv", &sources, "/", false);
    up.overwrite = OverwritePolicy::Ask;
    up
}

#[tokio::test]
async fn an_existing_destination_is_asked_about_once_for_the_whole_batch() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let fx = EngineFixture::with_sftp(server.port(), |_| {});
    let client = fx.start();
    let mut answerer = client.subscribe(true);
    let batch = enqueue(&client, conflicting_upload(&fx, &server)).await;
    let (id, question) = next_question(&mut answerer).await;
    let Question::Exists(conflict) = question else {
        panic!("{question:?}")
    };
    assert_eq!(
        (conflict.existing_size, conflict.source_size, conflict.batch),
        (3, 12, batch)
    );
    let choice = ConflictChoice {
        policy: OverwritePolicy::Skip,
        apply_to_batch: true,
    };
    call(
        &client,
        Request::Answer {
            question: id,
            answer: Answer::Exists { choice },
        },
    )
    .await;
    let (summaries, events) = wait_batches(&mut answerer, &[batch], Duration::from_secs(20)).await;
    assert_eq!(summaries[0].skipped, 3, "{:?}", summaries[0]);
    let asked = events
        .iter()
        .filter(|e| matches!(e, Event::Question { .. }))
        .count();
    assert_eq!(asked, 0, "the answer covered the rest of the batch");
    for name in ["a.txt", "b.txt", "c.txt"] {
        assert_eq!(
            std::fs::read(server.root().join(name)).expect("kept"),
            b"old"
        );
    }
    client.shutdown().await;
}

#[tokio::test]
async fn with_nobody_to_ask_the_configured_policy_decides() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let fx = EngineFixture::with_sftp(server.port(), |c| {
        c.transfer.if_exists = OverwritePolicy::Rename;
    });
    let client = fx.start();
    let mut watch = client.subscribe(false);
    let batch = enqueue(&client, conflicting_upload(&fx, &server)).await;
    let (summaries, events) = wait_batches(&mut watch, &[batch], Duration::from_secs(20)).await;
    assert_eq!(summaries[0].done, 3, "{:?}", summaries[0]);
    assert!(!events.iter().any(|e| matches!(e, Event::Question { .. })));
    assert_eq!(
        std::fs::read(server.root().join("a.txt")).expect("kept"),
        b"old"
    );
    assert_eq!(
        std::fs::read(server.root().join("a (1).txt")).expect("renamed copy"),
        b"new contents"
    );
    let finished = events.iter().filter(
        |e| matches!(e, Event::Finished { transfer } if transfer.state == TransferState::Done),
    );
    assert_eq!(finished.count(), 3);
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untrusted_certificate_is_asked_about_and_pinned_when_trusted() {
    let server = FtpServer::start(FtpServerConfig {
        tls: TlsMode::Explicit,
        require_tls: true,
        ..FtpServerConfig::default()
    })
    .await;
    std::fs::write(server.root().join("hello.txt"), b"hi").expect("write");
    let fx = EngineFixture::new(|_| {});
    fx.add_profile(
        "srv",
        Protocol::Ftps,
        server.port(),
        server.user(),
        server.password(),
    );
    let client = fx.start();
    let mut answerer = client.subscribe(true);
    let listed = listing(&client);
    let (id, question) = next_question(&mut answerer).await;
    let Question::Certificate(asked) = question else {
        panic!("{question:?}")
    };
    assert_eq!(asked.certificate.sha256_hex, server.cert_sha256());
    call(
        &client,
        Request::Answer {
            question: id,
            answer: Answer::Certificate { trust: true },
        },
    )
    .await;
    assert_eq!(listed.await.expect("join"), Ok(1));
    let profiles = match call(&client, Request::Profiles).await {
        Response::Profiles { profiles } => profiles,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        profiles[0].profile.cert_pin.as_deref(),
        Some(server.cert_sha256())
    );
    client.shutdown().await;
}
