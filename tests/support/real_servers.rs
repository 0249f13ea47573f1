//! Real servers for the FERRY_REAL_SERVERS=1 runs: OpenSSH's sshd and vsftpd started as child
//! processes on free loopback ports from throwaway configs in a temp dir, killed on drop.
//!
//! Password logins need a real local account: `FERRY_TEST_USER` / `FERRY_TEST_PASSWORD`, or,
//! when both are unset and the tests run as root, an account `ferrytest` that the tests create
//! (its random password is kept in `/var/lib/ferry-test/password`, readable by root only).
//! Without FERRY_REAL_SERVERS the tests skip; with it, a missing or failing server is a failure.

mod account;
mod process;
mod sshd;
mod vsftpd;

// Not every test binary uses every re-export.
#[allow(unused_imports)]
pub use account::{TestUser, test_user};
#[allow(unused_imports)]
pub use sshd::{RealSshd, SshdOptions};
#[allow(unused_imports)]
pub use vsftpd::{RealVsftpd, VsftpdOptions};

/// True when FERRY_REAL_SERVERS=1.
pub fn real_servers_enabled() -> bool {
    std::env::var("FERRY_REAL_SERVERS").is_ok_and(|v| v == "1")
}

/// For the top of a real-server test: prints why it is skipped and returns true when
/// FERRY_REAL_SERVERS is not set. `if skip_without_real_servers() { return; }`
pub fn skip_without_real_servers() -> bool {
    let skip = !real_servers_enabled();
    if skip {
        println!("skipped: set FERRY_REAL_SERVERS=1");
    }
    skip
}
