//! Proves the test servers in `tests/support` work, using independent clients (curl, openssl
//! and a bare control connection): the in-process libunftp server, and vsftpd. curl and
//! openssl are outside tools, so the checks that use them run with FERRY_REAL_SERVERS=1 (skipped
//! with a note otherwise), and there a missing tool fails the test.

mod support;

// A test target's root looks for modules next to itself, hence the paths.
#[path = "ftp_server_selftest/in_process.rs"]
mod in_process;
#[path = "ftp_server_selftest/raw_ftp.rs"]
mod raw_ftp;
#[path = "ftp_server_selftest/real.rs"]
mod real;

use rand::RngCore;
use std::path::Path;
use std::process::Output;

fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// Whether a check that drives `tools` runs: only with FERRY_REAL_SERVERS=1, where each tool
/// must be installed.
fn outside_tools(tools: &[&str]) -> bool {
    if support::real_servers::skip_without_real_servers() {
        return false;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for tool in tools {
        let found = std::env::split_paths(&path).any(|dir| dir.join(tool).is_file());
        assert!(found, "FERRY_REAL_SERVERS=1 but {tool} is not installed");
    }
    true
}

async fn curl(args: &[&str]) -> Output {
    tokio::process::Command::new("curl")
        .args(["-sS", "--max-time", "60"])
        .args(args)
        .output()
        .await
        .expect("run curl")
}

#[track_caller]
fn assert_ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "curl failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[track_caller]
fn assert_failed(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "curl unexpectedly succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn file_eq(a: &Path, b: &Path) -> bool {
    std::fs::read(a).unwrap() == std::fs::read(b).unwrap()
}
