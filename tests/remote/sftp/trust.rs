//! Host-key trust on connect: strict, accept-new and ask policies, changed and revoked keys.

use ferry::profile::HostKeyPolicy;
use ferry::remote::hostkeys;
use ferry::remote::{ErrorKind, Remote, RemoteError};

use super::harness::{Target, Trust, password, twins};
use crate::support::sftp_server::{SftpServer, SftpServerConfig, random_ed25519_key};

async fn connect(target: &Target, trust: &Trust, policy: HostKeyPolicy) -> Result<(), RemoteError> {
    let remote = target
        .login(
            &target.profile(),
            &password(&target.password),
            &trust.options(policy),
        )
        .await?;
    remote.close().await;
    Ok(())
}

fn refused(result: Result<(), RemoteError>) -> RemoteError {
    let err = result.expect_err("the host key must be refused");
    assert_eq!(err.kind, ErrorKind::HostKey, "{err}");
    err
}

async fn strict_refuses_an_unknown_key(target: &Target) {
    let trust = Trust::new(true);
    let err = refused(connect(target, &trust, HostKeyPolicy::Strict).await);
    let message = err.to_string();
    assert!(message.contains(&target.fingerprint()), "{message}");
    assert!(message.contains("strict"), "{message}");
    assert!(trust.prompt.asked().is_empty());
    assert_eq!(trust.contents(), "");
}
twins!(strict_refuses_an_unknown_key => strict_refuses_unknown_in_process, strict_refuses_unknown_real);

async fn accept_new_records_the_key(target: &Target) {
    let trust = Trust::new(false);
    connect(target, &trust, HostKeyPolicy::AcceptNew)
        .await
        .unwrap();
    let recorded = trust.contents();
    assert!(
        recorded.starts_with(&format!("[127.0.0.1]:{} ssh-ed25519 ", target.port)),
        "{recorded}"
    );
    // Known now: strict accepts it.
    connect(target, &trust, HostKeyPolicy::Strict)
        .await
        .unwrap();
    assert!(trust.prompt.asked().is_empty());
}
twins!(accept_new_records_the_key => accept_new_in_process, accept_new_real);

async fn ask_shows_the_fingerprint_and_obeys(target: &Target) {
    let yes = Trust::new(true);
    connect(target, &yes, HostKeyPolicy::Ask).await.unwrap();
    let asked = yes.prompt.asked();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].fingerprint, target.fingerprint());
    assert_eq!(asked[0].key_type, "ssh-ed25519");
    assert_eq!(
        (asked[0].host.as_str(), asked[0].port),
        ("127.0.0.1", target.port)
    );
    assert!(yes.contents().contains("ssh-ed25519"));

    let no = Trust::new(false);
    refused(connect(target, &no, HostKeyPolicy::Ask).await);
    assert_eq!(no.prompt.asked().len(), 1);
    assert_eq!(no.contents(), "");
}
twins!(ask_shows_the_fingerprint_and_obeys => ask_in_process, ask_real);

async fn a_changed_key_is_refused_naming_both(target: &Target) {
    let impostor = random_ed25519_key();
    let mut recorded = impostor.public_key().clone();
    recorded.set_comment("");
    let trust = Trust::knowing(&format!(
        "[127.0.0.1]:{} {}",
        target.port,
        recorded.to_openssh().unwrap()
    ));
    let message = refused(connect(target, &trust, HostKeyPolicy::AcceptNew).await).to_string();
    assert!(message.contains("HOST KEY CHANGED"), "{message}");
    assert!(message.contains(&target.fingerprint()), "{message}");
    assert!(
        message.contains(&hostkeys::fingerprint(&recorded)),
        "{message}"
    );
    assert!(
        message.contains(&format!("{}:1", trust.file().display())),
        "{message}"
    );
}
twins!(a_changed_key_is_refused_naming_both => changed_key_in_process, changed_key_real);

#[tokio::test]
async fn a_server_rekeyed_on_the_same_port_is_refused() {
    let first = Target::in_process(SftpServerConfig::default()).await;
    let trust = Trust::new(false);
    connect(&first, &trust, HostKeyPolicy::AcceptNew)
        .await
        .unwrap();
    let old_fingerprint = first.fingerprint();
    let port = first.port;
    let Target { server, .. } = first;
    server.expect("in-process server").shutdown().await;

    let second = SftpServer::start(SftpServerConfig {
        port: Some(port),
        ..Default::default()
    })
    .await;
    let new_fingerprint = hostkeys::fingerprint(second.host_public_key());
    let profile = super::harness::profile(port, crate::support::sftp_server::DEFAULT_USER);
    let credentials = password(crate::support::sftp_server::DEFAULT_PASSWORD);
    let err = ferry::remote::sftp::connect_with(
        &profile,
        &credentials,
        &trust.options(HostKeyPolicy::AcceptNew),
        &Default::default(),
    )
    .await
    .expect_err("a changed key is refused");
    assert_eq!(err.kind, ErrorKind::HostKey);
    let message = err.to_string();
    assert!(message.contains(&old_fingerprint), "{message}");
    assert!(message.contains(&new_fingerprint), "{message}");
}

async fn a_revoked_key_is_refused(target: &Target) {
    let trust = Trust::knowing(&format!("@revoked {}", target.known_hosts_line()));
    let message = refused(connect(target, &trust, HostKeyPolicy::AcceptNew).await).to_string();
    assert!(message.contains("@revoked"), "{message}");
    assert!(message.contains(&target.fingerprint()), "{message}");
}
twins!(a_revoked_key_is_refused => revoked_in_process, revoked_real);
