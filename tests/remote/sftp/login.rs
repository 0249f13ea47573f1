//! Logging in: password, keyboard-interactive, key files (OpenSSH, PEM, passphrase), the
//! ssh-agent, the fallback to default keys, and failures that say what was offered and tried.

use ferry::profile::HostKeyPolicy;
use ferry::remote::sftp::{self, AuthEnv};
use ferry::remote::{Credentials, ErrorKind, Remote};

use super::harness::{Agent, ClientKey, Target, passphrase, password, twins};
use crate::support::real_servers::SshdOptions;
use crate::support::sftp_server::{AuthMethod, DEFAULT_USER, SftpServerConfig, SftpUser};

const PASSPHRASE: &str = "correct horse battery";

async fn logs_in_with_a_password(target: &Target) {
    let remote = target.connect().await;
    let info = remote.session_info();
    assert_eq!(info.auth_method, "password");
    let banner = info.banner.unwrap_or_default();
    assert!(banner.starts_with("SSH-2.0-"), "{banner}");
    assert_eq!(
        info.host_key,
        Some(("ssh-ed25519".to_string(), target.fingerprint()))
    );
    assert!(info.security.is_some());
    let home = remote.home().await.unwrap();
    match &target.sshd {
        Some(sshd) => assert_eq!(home, sshd.home().to_string_lossy()),
        None => assert_eq!(home, "/"),
    }
    remote.close().await;
}
twins!(logs_in_with_a_password => password_login_in_process, password_login_real);

async fn logs_in_with_keyboard_interactive(target: &Target) {
    let trust = target.trust();
    let remote = target
        .login(
            &target.profile(),
            &password(&target.password),
            &trust.options(HostKeyPolicy::Strict),
        )
        .await
        .unwrap();
    assert_eq!(remote.session_info().auth_method, "keyboard-interactive");
}

#[tokio::test]
async fn keyboard_interactive_in_process() {
    let config = SftpServerConfig {
        methods: vec![AuthMethod::KeyboardInteractive],
        ..Default::default()
    };
    logs_in_with_keyboard_interactive(&Target::in_process(config).await).await;
}

#[tokio::test]
async fn keyboard_interactive_real() {
    let options = SshdOptions {
        auth_methods: Some("keyboard-interactive".into()),
        ..Default::default()
    };
    if let Some(target) = Target::real(options).await {
        logs_in_with_keyboard_interactive(&target).await;
    }
}

/// Logs in with `key` (and `credentials` for its passphrase) and checks how.
async fn logs_in_with_key(target: &Target, key: &std::path::Path, credentials: &Credentials) {
    let mut profile = target.profile();
    profile.key_file = Some(key.to_path_buf());
    let trust = target.trust();
    let remote = target
        .login(&profile, credentials, &trust.options(HostKeyPolicy::Strict))
        .await
        .unwrap_or_else(|err| panic!("key login failed: {err}"));
    assert_eq!(
        remote.session_info().auth_method,
        format!("publickey ({})", key.display())
    );
    remote.home().await.unwrap();
}

/// An in-process server that accepts only `key`.
async fn key_server(key: &ClientKey) -> Target {
    Target::in_process(SftpServerConfig {
        users: vec![SftpUser::with_key(DEFAULT_USER, key.public.clone())],
        methods: vec![AuthMethod::PublicKey],
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn openssh_key_in_process() {
    let key = ClientKey::ed25519("");
    let target = key_server(&key).await;
    logs_in_with_key(&target, &key.path, &Credentials::default()).await;
}

#[tokio::test]
async fn openssh_key_real() {
    if let Some(target) = Target::real(SshdOptions::default()).await {
        let key = target.sshd().client_key().to_path_buf();
        logs_in_with_key(&target, &key, &Credentials::default()).await;
    }
}

#[tokio::test]
async fn pem_rsa_key_in_process() {
    let key = ClientKey::rsa_pem();
    assert!(
        std::fs::read_to_string(&key.path)
            .unwrap()
            .starts_with("-----BEGIN RSA PRIVATE KEY-----")
    );
    let target = key_server(&key).await;
    logs_in_with_key(&target, &key.path, &Credentials::default()).await;
}

#[tokio::test]
async fn pem_rsa_key_real() {
    let key = ClientKey::rsa_pem();
    // sshd reads the extra key through a command: its AuthorizedKeysFile is fixed.
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("extra_keys");
    std::fs::write(&keys, key.public_line() + "\n").unwrap();
    let options = SshdOptions {
        auth_methods: Some("publickey".into()),
        extra_config: vec![
            format!("AuthorizedKeysCommand /usr/bin/cat {}", keys.display()),
            "AuthorizedKeysCommandUser root".into(),
        ],
        ..Default::default()
    };
    if let Some(target) = Target::real(options).await {
        logs_in_with_key(&target, &key.path, &Credentials::default()).await;
    }
}

#[tokio::test]
async fn passphrase_key_in_process() {
    let key = ClientKey::ed25519(PASSPHRASE);
    let target = key_server(&key).await;
    logs_in_with_key(&target, &key.path, &passphrase(PASSPHRASE)).await;

    let mut profile = target.profile();
    profile.key_file = Some(key.path.clone());
    let trust = target.trust();
    let err = target
        .login(
            &profile,
            &passphrase("wrong"),
            &trust.options(HostKeyPolicy::Strict),
        )
        .await
        .expect_err("a wrong passphrase fails");
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(err.to_string().contains("wrong passphrase"), "{err}");
}

#[tokio::test]
async fn passphrase_key_real() {
    let options = SshdOptions {
        key_passphrase: Some(PASSPHRASE.into()),
        ..Default::default()
    };
    if let Some(target) = Target::real(options).await {
        let (key, secret) = target.sshd().passphrase_key().unwrap();
        let key = key.to_path_buf();
        logs_in_with_key(&target, &key, &passphrase(secret)).await;
    }
}

/// (The in-process agent, russh's, keeps no key comments: the method names the key type.)
async fn logs_in_with_the_agent(target: &Target, agent: &Agent) {
    let mut profile = target.profile();
    profile.agent = true;
    let trust = target.trust();
    let remote = sftp::connect_with(
        &profile,
        &Credentials::default(),
        &trust.options(HostKeyPolicy::Strict),
        &agent.env(),
    )
    .await
    .unwrap_or_else(|err| panic!("agent login failed: {err}"));
    assert_eq!(remote.session_info().auth_method, "agent (ED25519)");
}

#[tokio::test]
async fn agent_in_process() {
    let key = ClientKey::ed25519("");
    let target = key_server(&key).await;
    let agent = Agent::holding(&key.path);
    logs_in_with_the_agent(&target, &agent).await;
}

#[tokio::test]
async fn agent_real() {
    if let Some(target) = Target::real(SshdOptions::default()).await {
        let agent = Agent::holding(target.sshd().client_key());
        logs_in_with_the_agent(&target, &agent).await;
    }
}

#[tokio::test]
async fn a_profile_without_methods_uses_the_agent_then_default_keys() {
    let key = ClientKey::ed25519("");
    let target = key_server(&key).await;
    let trust = target.trust();
    let options = trust.options(HostKeyPolicy::Strict);

    let agent = Agent::holding(&key.path);
    let remote = sftp::connect_with(
        &target.profile(),
        &Credentials::default(),
        &options,
        &agent.env(),
    )
    .await
    .unwrap();
    assert!(remote.session_info().auth_method.starts_with("agent ("));

    let home = tempfile::tempdir().unwrap();
    let ssh_dir = home.path().join(".ssh");
    std::fs::create_dir(&ssh_dir).unwrap();
    std::fs::copy(&key.path, ssh_dir.join("id_ed25519")).unwrap();
    let env = AuthEnv {
        agent_socket: None,
        home: Some(home.path().to_path_buf()),
    };
    let remote = sftp::connect_with(&target.profile(), &Credentials::default(), &options, &env)
        .await
        .unwrap();
    assert_eq!(
        remote.session_info().auth_method,
        format!("publickey ({})", ssh_dir.join("id_ed25519").display())
    );
}

async fn wrong_password_names_offered_and_tried_methods(target: &Target) {
    let trust = target.trust();
    let wrong = "not-the-password-4711";
    let err = target
        .login(
            &target.profile(),
            &password(wrong),
            &trust.options(HostKeyPolicy::Strict),
        )
        .await
        .expect_err("a wrong password fails");
    assert_eq!(err.kind, ErrorKind::Auth);
    let message = err.to_string();
    assert!(
        message.contains(&format!(
            "authentication failed (as {}: server offers publickey,password,keyboard-interactive; tried password)",
            target.user
        )),
        "{message}"
    );
    assert!(!message.contains(wrong), "{message}");
    assert!(!err.is_transient());
}
twins!(wrong_password_names_offered_and_tried_methods => wrong_password_in_process, wrong_password_real);

#[tokio::test]
async fn failure_lists_every_method_tried() {
    let target = Target::in_process(SftpServerConfig {
        methods: vec![AuthMethod::PublicKey, AuthMethod::Password],
        ..Default::default()
    })
    .await;
    let stranger = ClientKey::ed25519("");
    let mut profile = target.profile();
    profile.key_file = Some(stranger.path.clone());
    let trust = target.trust();
    let err = target
        .login(
            &profile,
            &password("wrong"),
            &trust.options(HostKeyPolicy::Strict),
        )
        .await
        .expect_err("login fails");
    assert_eq!(
        err.detail,
        format!(
            "as {DEFAULT_USER}: server offers publickey,password; tried publickey ({}), password",
            stranger.path.display()
        )
    );
}

#[tokio::test]
async fn a_profile_with_nothing_to_try_says_so() {
    let target = Target::in_process(SftpServerConfig::default()).await;
    let trust = target.trust();
    let err = target
        .login(
            &target.profile(),
            &Credentials::default(),
            &trust.options(HostKeyPolicy::Strict),
        )
        .await
        .expect_err("nothing to log in with");
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(
        err.detail
            .contains("tried nothing (the profile has no password, key file or agent"),
        "{err}"
    );
}
