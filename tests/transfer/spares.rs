//! Spare logins (`Pool::open_spares`): a large upload logs in the connections its blocks will
//! borrow alongside its first one. They start only where the server's host key is known (no
//! login racing another may ask about a key) and on a long link only, never pass the cap, and
//! a segmented copy asking for more sessions waits for a spare still logging in instead of
//! going without it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferry::profile::{HostKeyPolicy, Profile, Protocol};
use ferry::remote::hostkeys::KnownHosts;
use ferry::remote::trust::NoPrompt;
use ferry::remote::{ConnectOptions, Credentials};
use ferry::transfer::pool::Pool;

use crate::support::relay::Relay;
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};
use crate::support::wait;

/// Each way: logins take a few round trips of 40 ms, so spares are still under way when asked for.
const ONE_WAY: Duration = Duration::from_millis(20);

fn pool_through(relay: &Relay, known_line: Option<String>, dir: &std::path::Path) -> Arc<Pool> {
    let mut profile = Profile::new(
        "srv",
        Protocol::Sftp,
        "127.0.0.1",
        relay.port(),
        DEFAULT_USER,
    );
    profile.max_connections = 3;
    let own_file = dir.join("known_hosts");
    if let Some(line) = known_line {
        std::fs::write(&own_file, format!("{line}\n")).expect("write known_hosts");
    }
    let known = KnownHosts::load(own_file, vec![]).expect("known hosts");
    let options = ConnectOptions {
        timeout: Duration::from_secs(10),
        keepalive: Duration::ZERO,
        host_key_policy: HostKeyPolicy::AcceptNew,
        known_hosts: Arc::new(Mutex::new(known)),
        prompt: Arc::new(NoPrompt),
        in_flight_bytes: ConnectOptions::DEFAULT_IN_FLIGHT,
        jumps: Vec::new(),
        greeted: None,
    };
    let credentials = Credentials {
        password: Some(DEFAULT_PASSWORD.to_string().into()),
        ..Credentials::default()
    };
    Pool::new(profile, credentials, options)
}

// One thread: the three requests below are polled in order, so which one logs in is certain.
#[tokio::test(flavor = "current_thread")]
async fn ranges_wait_for_spares_under_way_and_the_cap_holds() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let relay = Relay::start(server.addr(), ONE_WAY).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let known = format!("[127.0.0.1]:{} {}", relay.port(), server.host_key_openssh());
    let pool = pool_through(&relay, Some(known), dir.path());

    pool.open_spares();
    // Three sessions for ranges at once, while the spares log in: the cap is reached, so each
    // waits for a spare instead of going without.
    let (first, second, third) =
        tokio::join!(pool.try_acquire(), pool.try_acquire(), pool.try_acquire());
    for (n, lent) in [first, second, third].into_iter().enumerate() {
        let lease = lent
            .unwrap_or_else(|| panic!("range {n} went without a session"))
            .unwrap_or_else(|err| panic!("range {n}: {err}"));
        lease.release();
    }
    assert_eq!(relay.connections(), 3, "three spares, no more logins");
    assert_eq!(server.open_connections(), 3);

    pool.open_spares();
    assert!(pool.try_acquire().await.is_some(), "an idle connection");
    assert_eq!(
        relay.connections(),
        3,
        "the cap is reached: no spare, no new login"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn no_spare_logs_in_before_the_host_key_is_known() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let relay = Relay::start(server.addr(), ONE_WAY).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = pool_through(&relay, None, dir.path());

    pool.open_spares();
    // The transfer's own login learns the key (accept-new); a spare started beside it would
    // have connected long before this login's round trips are over.
    let _own = pool.acquire(0).await.expect("login");
    assert_eq!(relay.connections(), 1, "no spare raced the first login");

    // Now the key is known: spares up to the cap, and not beyond.
    pool.open_spares();
    wait::until("the spares' logins", Duration::from_secs(10), || {
        server.open_connections() == 3
    })
    .await;
    pool.open_spares();
    // A login that started would have reached the relay well within this.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(relay.connections(), 3, "the cap holds");
}

/// A large upload asks for spares before its first login: they follow that login's server
/// greeting on a long link, and never come on a short one.
#[tokio::test(flavor = "multi_thread")]
async fn spares_follow_a_slow_greeting_only() {
    // Through the relay the greeting comes one way after the connection stands.
    for (one_way, spares) in [(Duration::from_millis(40), 2), (Duration::ZERO, 0)] {
        let server = SftpServer::start(SftpServerConfig::default()).await;
        let relay = Relay::start(server.addr(), one_way).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let known = format!("[127.0.0.1]:{} {}", relay.port(), server.host_key_openssh());
        let pool = pool_through(&relay, Some(known), dir.path());

        pool.want_spares();
        let _own = pool.acquire(0).await.expect("login");
        if spares > 0 {
            wait::until("the spares' logins", Duration::from_secs(10), || {
                server.open_connections() == 1 + spares
            })
            .await;
        } else {
            // A spare started at the greeting would have connected long before this.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(
            relay.connections(),
            1 + spares as u64,
            "one way {one_way:?}"
        );
    }
}
