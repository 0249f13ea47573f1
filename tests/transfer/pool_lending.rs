//! What a segmented copy may take from a profile's pool: `try_acquire` lends a free connection
//! at once, opens one while the cap leaves room, never passes the cap, never waits, leaves a
//! connection that frees up to a transfer already waiting for it, and a refused extra login
//! is no verdict on the profile.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferry::profile::{HostKeyPolicy, Profile, Protocol};
use ferry::remote::hostkeys::KnownHosts;
use ferry::remote::trust::NoPrompt;
use ferry::remote::{ConnectOptions, Credentials};
use ferry::transfer::pool::Pool;

use crate::support::ftp_server::{FtpServer, FtpServerConfig};
use crate::support::relay::Relay;

fn pool_for(port: u16, password: &str, max_connections: u32, dir: &std::path::Path) -> Arc<Pool> {
    let mut profile = Profile::new("ftp", Protocol::Ftp, "127.0.0.1", port, "ferry");
    profile.max_connections = max_connections;
    let credentials = Credentials {
        password: Some(password.to_string().into()),
        ..Credentials::default()
    };
    let known = KnownHosts::load(dir.join("known_hosts"), vec![]).expect("known hosts");
    let options = ConnectOptions {
        timeout: Duration::from_secs(10),
        keepalive: Duration::ZERO,
        host_key_policy: HostKeyPolicy::Ask,
        known_hosts: Arc::new(Mutex::new(known)),
        prompt: Arc::new(NoPrompt),
        in_flight_bytes: ConnectOptions::DEFAULT_IN_FLIGHT,
        jumps: Vec::new(),
        on_login: None,
        auth_gate: None,
    };
    Pool::new(profile, credentials, options)
}

// One thread: the waiting transfer runs only when this test yields, so the order is certain.
#[tokio::test(flavor = "current_thread")]
async fn extra_connections_never_pass_the_cap_or_a_waiting_transfer() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = pool_for(server.port(), server.password(), 2, dir.path());

    let own = pool.acquire(0).await.expect("login");
    let extra = pool
        .try_acquire()
        .await
        .expect("room for one more")
        .expect("login");
    assert!(pool.try_acquire().await.is_none(), "two is the cap");
    assert_eq!(server.open_sessions(), 2);

    let waiting = tokio::spawn({
        let pool = pool.clone();
        async move { pool.acquire(0).await }
    });
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!waiting.is_finished(), "no connection is free");
    extra.release();
    assert!(
        pool.try_acquire().await.is_none(),
        "the freed connection is the waiting transfer's"
    );
    let lent = waiting.await.expect("task").expect("the freed connection");
    assert_eq!(server.open_sessions(), 2);
    lent.release();
    own.release();
    let again = pool
        .try_acquire()
        .await
        .expect("an idle one")
        .expect("lent");
    assert_eq!(
        server.open_sessions(),
        2,
        "an idle connection, not a new login"
    );
    again.release();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_extra_login_does_not_fail_the_profile() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let relay = Relay::start(server.addr(), Duration::ZERO).await;
    let dir = tempfile::tempdir().expect("tempdir");
    // Refused like a session over a per-user limit (530), which looks like a wrong password.
    let pool = pool_for(relay.port(), "not-the-password", 2, dir.path());
    let extra = pool.try_acquire().await.expect("room for a login");
    assert!(extra.is_err(), "refused");
    assert!(pool.acquire(0).await.is_err(), "refused again");
    assert_eq!(
        relay.connections(),
        2,
        "the transfer's own login was still tried"
    );
    assert!(pool.acquire(0).await.is_err());
    assert_eq!(
        relay.connections(),
        2,
        "a transfer's refused login is remembered"
    );
}
