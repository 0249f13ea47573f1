//! Proves the test servers in `tests/support` work, using independent clients (curl, ssh,
//! sftp): the in-process libunftp server always, OpenSSH and vsftpd with FERRY_REAL_SERVERS=1.

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
