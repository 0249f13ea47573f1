//! `ferry put/get` output as scripts see it: JSON events, a non-zero exit naming each failed
//! file, and `ferry history --failed`.

use crate::support::engine::random_file;
use crate::support::env::{FerryEnv, run};
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};

fn env_for(server: &SftpServer) -> FerryEnv {
    let url = format!("sftp://{DEFAULT_USER}@127.0.0.1:{}", server.port());
    FerryEnv::with_password_profile("srv", &url, DEFAULT_PASSWORD, "accept-new")
}

#[tokio::test(flavor = "multi_thread")]
async fn json_events_and_failures_named_in_the_exit() {
    let server = SftpServer::start(SftpServerConfig {
        deny: vec!["/locked".into()],
        ..SftpServerConfig::default()
    })
    .await;
    std::fs::create_dir(server.root().join("locked")).expect("mkdir");
    let env = env_for(&server);
    let dir = env.dir.path().join("tree");
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    random_file(&dir.join("a.bin"), 300_000, 1);
    random_file(&dir.join("sub/b.bin"), 5_000_000, 2);

    let out = run(env.ferry_unlocked(&[
        "put",
        "-r",
        "--json",
        dir.to_str().expect("utf8"),
        "srv:/up",
    ]))
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON event"))
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert!(
        kinds.contains(&"planning") && kinds.contains(&"started") && kinds.contains(&"batch-done"),
        "{kinds:?}"
    );
    let done = events
        .iter()
        .find(|e| e["event"] == "batch-done")
        .expect("batch-done");
    assert_eq!(
        done["summary"]["done"], 4,
        "two files and two directories: {done}"
    );
    assert_eq!(
        std::fs::read(server.root().join("up/tree/sub/b.bin")).expect("b"),
        std::fs::read(dir.join("sub/b.bin")).expect("b")
    );

    let out = run(env.ferry_unlocked(&[
        "put",
        dir.join("a.bin").to_str().expect("utf8"),
        "srv:/locked",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("failed:")
            && err.contains("/locked/a.bin")
            && err.contains("permission denied"),
        "{err}"
    );

    let history = env.ok(env.ferry(&["history", "--failed", "--json"]));
    let history: serde_json::Value = serde_json::from_str(&history).expect("json");
    assert_eq!(history.as_array().expect("array").len(), 1, "{history}");
    assert_eq!(history[0]["error"]["kind"], "permission");
    assert_eq!(history[0]["attempts"], 1);
}
