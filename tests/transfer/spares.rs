//! Spare logins (`Pool::open_spares`): a large upload logs in the connections its blocks will
//! borrow while its first connection gets ready. They start only once that first login is in
//! (so none tries a wrong password or questions a key) after a slow greeting (a long link),
//! only where the host key is known, never past the cap; and a segmented copy asking for more
//! sessions waits for a spare still logging in instead of going without it.

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
    pool_with(relay, known_line, dir, DEFAULT_PASSWORD)
}

fn pool_with(
    relay: &Relay,
    known_line: Option<String>,
    dir: &std::path::Path,
    password: &str,
) -> Arc<Pool> {
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
        on_login: None,
        auth_gate: None,
    };
    let credentials = Credentials {
        password: Some(password.to_string().into()),
        ..Credentials::default()
    };
    Pool::new(profile, credentials, options)
}

// One thread: the three requests below are polled in order, so what each finds is certain.
#[tokio::test(flavor = "current_thread")]
async fn ranges_wait_for_spares_under_way_and_the_cap_holds() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let relay = Relay::start(server.addr(), ONE_WAY).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let known = format!("[127.0.0.1]:{} {}", relay.port(), server.host_key_openssh());
    let pool = pool_through(&relay, Some(known), dir.path());

    pool.open_spares(8);
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
}

#[tokio::test(flavor = "current_thread")]
async fn no_spare_logs_in_before_the_host_key_is_known() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let relay = Relay::start(server.addr(), ONE_WAY).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = pool_through(&relay, None, dir.path());

    pool.open_spares(8);
    // The transfer's own login learns the key (accept-new); a spare started beside it would
    // have connected long before this login's round trips are over.
    let _own = pool.acquire(0).await.expect("login");
    assert_eq!(relay.connections(), 1, "no spare raced the first login");

    // Now the key is known: spares up to the cap, and not beyond.
    pool.open_spares(8);
    wait::until("the spares' logins", Duration::from_secs(10), || {
        server.open_connections() == 3
    })
    .await;
    pool.open_spares(8);
    // A login that started would have reached the relay well within this.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(relay.connections(), 3, "the cap holds");
}

/// A large upload asks for spares before its first login: they follow once that login is in,
/// after a slow greeting (a long link), as many as asked for; none on a short link.
#[tokio::test(flavor = "multi_thread")]
async fn spares_follow_a_login_over_a_long_link_only() {
    // Through the relay the greeting comes one way after the connection stands.
    for (one_way, spares) in [(Duration::from_millis(40), 1), (Duration::ZERO, 0)] {
        let server = SftpServer::start(SftpServerConfig::default()).await;
        let relay = Relay::start(server.addr(), one_way).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let known = format!("[127.0.0.1]:{} {}", relay.port(), server.host_key_openssh());
        let pool = pool_through(&relay, Some(known), dir.path());

        pool.want_spares(1);
        let _own = pool.acquire(0).await.expect("login");
        if spares > 0 {
            wait::until("the spare's login", Duration::from_secs(10), || {
                server.open_connections() == 1 + spares
            })
            .await;
        }
        // A spare that started would have connected well within this.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            relay.connections(),
            1 + spares as u64,
            "one way {one_way:?}"
        );
    }
}

/// A wrong password fails the first login only: the spares that started after its slow
/// greeting give up before they authenticate, so none tries the password again.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_first_login_is_not_tried_again_by_spares() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let relay = Relay::start(server.addr(), Duration::from_millis(40)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let known = format!("[127.0.0.1]:{} {}", relay.port(), server.host_key_openssh());
    let pool = pool_with(&relay, Some(known), dir.path(), "not-the-password");

    pool.want_spares(2);
    assert!(pool.acquire(0).await.is_err(), "refused");
    wait::until("the spares giving up", Duration::from_secs(10), || {
        server.open_connections() == 0
    })
    .await;
    assert_eq!(relay.connections(), 3, "the spares started at the greeting");
    assert_eq!(server.passwords_tried(), 1, "only the first login tried it");
}
