//! `kill -9` of a running `ferry put`, then the same command again: it resumes from the part
//! file instead of starting over, and the final name never shows a partial file.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::engine::{random_file, sha256_file};
use crate::support::env::FerryEnv;
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};

#[tokio::test(flavor = "multi_thread")]
async fn killed_upload_resumes_and_never_shows_a_partial_file() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let url = format!("sftp://{DEFAULT_USER}@127.0.0.1:{}", server.port());
    let env = FerryEnv::with_password_profile("srv", &url, DEFAULT_PASSWORD, "accept-new");
    std::fs::create_dir(server.root().join("dst")).expect("mkdir");
    let size: u64 = 96 << 20;
    let file = env.dir.path().join("big.bin");
    random_file(&file, size as usize, 42);
    let path = file.to_str().expect("utf8").to_string();

    let mut child = env
        .process(&["put", &path, "srv:/dst", "--limit", "16MiB/s"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ferry put");
    let started = Instant::now();
    while server.bytes_received() < 24 << 20 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "upload did not get going"
        );
        assert!(
            child.try_wait().expect("wait").is_none(),
            "ferry put ended early"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !server.root().join("dst/big.bin").exists(),
            "partial file under the final name"
        );
    }
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    assert!(
        !server.root().join("dst/big.bin").exists(),
        "partial file under the final name"
    );
    assert!(server.root().join("dst/big.bin.ferry-part").exists());

    let before = server.bytes_received();
    let expected = sha256_file(&file);
    let (rerun, _env) = tokio::task::spawn_blocking(move || {
        let out = env
            .process(&["put", &path, "srv:/dst"])
            .output()
            .expect("rerun");
        (out, env)
    })
    .await
    .expect("join");
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let second_run = server.bytes_received() - before;
    assert!(
        second_run < size * 3 / 4,
        "the second run sent {second_run} of {size} bytes: it did not resume"
    );
    assert_eq!(sha256_file(&server.root().join("dst/big.bin")), expected);
    assert!(!server.root().join("dst/big.bin.ferry-part").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_records_the_offset_and_queue_commands_resume_it() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let url = format!("sftp://{DEFAULT_USER}@127.0.0.1:{}", server.port());
    let env = FerryEnv::with_password_profile("srv", &url, DEFAULT_PASSWORD, "accept-new");
    let size: u64 = 48 << 20;
    let file = env.dir.path().join("term.bin");
    random_file(&file, size as usize, 9);
    let expected = sha256_file(&file);
    let path = file.to_str().expect("utf8").to_string();

    let child = env
        .process(&["put", &path, "srv:/", "--limit", "12MiB/s"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    while server.bytes_received() < 12 << 20 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "upload did not get going"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().expect("wait"))
        .await
        .expect("join");
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("resume on the next run"));

    let queue: serde_json::Value =
        serde_json::from_str(&env.ok(env.ferry(&["queue", "--json"]))).expect("json");
    assert_eq!(queue[0]["state"], "interrupted", "{queue}");
    let offset = queue[0]["done"].as_u64().expect("bytes done");
    assert!(offset > 0 && offset < size, "offset recorded: {offset}");
    let id = queue[0]["id"].to_string();

    env.ok(env.ferry(&["queue", "pause", &id]));
    let queue: serde_json::Value =
        serde_json::from_str(&env.ok(env.ferry(&["queue", "--json"]))).expect("json");
    assert_eq!(queue[0]["state"], "paused");

    let before = server.bytes_received();
    let (resumed, env) = tokio::task::spawn_blocking(move || {
        let out = env
            .process(&["queue", "resume", &id])
            .output()
            .expect("resume");
        (out, env)
    })
    .await
    .expect("join");
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert!(
        server.bytes_received() - before < size * 9 / 10,
        "resumed, not restarted"
    );
    assert_eq!(sha256_file(&server.root().join("term.bin")), expected);
    let out = env.ok(env.ferry(&["queue"]));
    assert!(out.contains("the queue is empty"), "{out}");
    let history = env.ok(env.ferry(&["history"]));
    assert!(
        history.contains("done") && history.contains("term.bin"),
        "{history}"
    );
}
