//! The remote commands as a user types them, against the in-process SFTP server.

use crate::support::env::{FerryEnv, run};
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};

/// A ferry environment with a vault and a password profile `srv` for `server`.
fn env_for(server: &SftpServer, policy: &str) -> FerryEnv {
    let url = format!("sftp://{DEFAULT_USER}@127.0.0.1:{}", server.port());
    FerryEnv::with_password_profile("srv", &url, DEFAULT_PASSWORD, policy)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn test_command_reports_the_server_and_records_a_new_key() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let env = env_for(&server, "ask");

    // ask without a terminal: refused, nothing recorded, and the fingerprint is shown.
    let out = run(env.ferry_unlocked(&["test", "srv"])).await;
    assert!(!out.status.success());
    let fingerprint = ferry::remote::hostkeys::fingerprint(server.host_public_key());
    let err = text(&out.stderr);
    assert!(err.contains(&fingerprint), "{err}");
    assert!(err.contains("srv (127.0.0.1:"), "{err}");
    assert!(!env.data_dir().join("known_hosts").exists());

    let out =
        run(env.ferry_unlocked(&["--host-key-policy", "accept-new", "test", "srv", "--json"]))
            .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["ok"], true);
    assert!(
        report["host_key"]
            .as_str()
            .expect("key")
            .contains(&fingerprint)
    );
    assert!(
        report["auth_method"]
            .as_str()
            .expect("auth")
            .contains("password")
    );
    assert_eq!(report["home"], "/");
    let known = std::fs::read_to_string(env.data_dir().join("known_hosts")).expect("known_hosts");
    assert!(
        known.contains(&format!("[127.0.0.1]:{}", server.port())),
        "{known}"
    );

    // Now known: strict accepts it.
    let out = run(env.ferry_unlocked(&["--host-key-policy", "strict", "test", "srv"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("connected to srv"));
}

#[tokio::test(flavor = "multi_thread")]
async fn put_ls_get_mv_mkdir_rm_round_trip() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let env = env_for(&server, "accept-new");
    let local = env.dir.path().join("payload.bin");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&local, &data).expect("write");

    let out = run(env.ferry_unlocked(&["mkdir", "srv:/in/deep"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out =
        run(env.ferry_unlocked(&["put", local.to_str().expect("utf8"), "srv:/in/deep"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("1 done"),
        "{}",
        text(&out.stderr)
    );
    let history = env.ok(env.ferry(&["history", "--json"]));
    let history: serde_json::Value = serde_json::from_str(&history).expect("json");
    assert_eq!(history[0]["state"], "done");
    assert_eq!(history[0]["verification"]["kind"], "read-back", "{history}");
    assert_eq!(
        std::fs::read(server.root().join("in/deep/payload.bin")).expect("uploaded"),
        data
    );
    assert!(
        !server
            .root()
            .join("in/deep/payload.bin.ferry-part")
            .exists()
    );

    let out = run(env.ferry_unlocked(&["ls", "srv:/in/deep", "-l", "--json"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(listing[0]["name"], "payload.bin");
    assert_eq!(listing[0]["size"], data.len());
    assert_eq!(listing[0]["kind"], "file");

    let out = run(env.ferry_unlocked(&["mv", "srv:/in/deep/payload.bin", "/in/renamed.bin"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let down = env.dir.path().join("down");
    std::fs::create_dir(&down).expect("mkdir");
    let out =
        run(env.ferry_unlocked(&["get", "srv:/in/renamed.bin", down.to_str().expect("utf8")]))
            .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(down.join("renamed.bin")).expect("downloaded"),
        data
    );

    let out = run(env.ferry_unlocked(&["rm", "srv:/in"])).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("is a directory"),
        "{}",
        text(&out.stderr)
    );
    let out = run(env.ferry_unlocked(&["rm", "-r", "srv:/in"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!server.root().join("in").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_name_profile_address_and_path() {
    let config = SftpServerConfig {
        deny: vec!["/locked".into()],
        hostile_names: true,
        ..SftpServerConfig::default()
    };
    let server = SftpServer::start(config).await;
    std::fs::create_dir(server.root().join("locked")).expect("mkdir");
    let env = env_for(&server, "accept-new");

    let out = run(env.ferry_unlocked(&["ls", "srv:/missing"])).await;
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("srv (127.0.0.1:{})", server.port())),
        "{err}"
    );
    assert!(
        err.contains("/missing") && err.contains("no such file"),
        "{err}"
    );

    let file = env.dir.path().join("f.txt");
    std::fs::write(&file, "x").expect("write");
    let out = run(env.ferry_unlocked(&["put", file.to_str().expect("utf8"), "srv:/locked"])).await;
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("/locked") && err.contains("permission denied"),
        "{err}"
    );

    let out = run(env.ferry_unlocked(&["ls", "srv:/hostile"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("refused"),
        "{}",
        text(&out.stderr)
    );
    let listed = text(&out.stdout);
    assert!(
        !listed.lines().any(|l| l.contains('/') && l != "a/"),
        "{listed}"
    );

    let wrong = FerryEnv::new();
    wrong.init_vault();
    let url = format!("sftp://{DEFAULT_USER}@127.0.0.1:{}", server.port());
    let mut add = wrong.ferry_unlocked(&["profile", "add", "srv", &url, "--password-stdin"]);
    add.write_stdin("not-the-password\n");
    wrong.ok(add);
    let out = run(wrong.ferry_unlocked(&["--host-key-policy", "accept-new", "ls", "srv:"])).await;
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("authentication failed"), "{err}");
    assert!(err.contains("tried") && err.contains("password"), "{err}");
    assert!(!err.contains("not-the-password"), "{err}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let refused = FerryEnv::new();
    let url = format!("sftp://u@127.0.0.1:{port}");
    refused.ok(refused.ferry(&["profile", "add", "gone", &url]));
    let out = run(refused.ferry(&["ls", "gone:"])).await;
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "cannot connect to gone (127.0.0.1:{port}): connection refused"
        )),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn self_signed_ftps_certificate_is_refused_until_pinned() {
    use crate::support::ftp_server::{FtpServer, FtpServerConfig, TlsMode};
    let server = FtpServer::start(FtpServerConfig {
        tls: TlsMode::Explicit,
        require_tls: true,
        ..FtpServerConfig::default()
    })
    .await;
    let env = FerryEnv::new();
    env.init_vault();
    let url = format!("ftps://{}@127.0.0.1:{}", server.user(), server.port());
    let mut add = env.ferry_unlocked(&["profile", "add", "files", &url, "--password-stdin"]);
    add.write_stdin(format!("{}\n", server.password()));
    env.ok(add);
    std::fs::write(server.root().join("hello.txt"), "hi").expect("write");

    let out = run(env.ferry_unlocked(&["ls", "files:/"])).await;
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(&server.cert_sha256_colons()),
        "names the fingerprint: {err}"
    );
    assert!(err.contains("trust-cert"), "says how to pin: {err}");

    let out = run(env.ferry(&["profile", "trust-cert", "files", "--fingerprint", "00:11"])).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("does not have the fingerprint"),
        "{}",
        text(&out.stderr)
    );

    let pin = server.cert_sha256_colons();
    let out = run(env.ferry(&["profile", "trust-cert", "files", "--fingerprint", &pin])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&pin), "{}", text(&out.stdout));

    let out = run(env.ferry_unlocked(&["ls", "files:/"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("hello.txt"));
    let show = env.ok(env.ferry(&["profile", "show", "files", "--json"]));
    assert!(show.contains(server.cert_sha256()), "{show}");
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_ftp_warns_that_credentials_travel_unencrypted() {
    use crate::support::ftp_server::{FtpServer, FtpServerConfig};
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let env = FerryEnv::new();
    env.init_vault();
    let url = format!("ftp://{}@127.0.0.1:{}", server.user(), server.port());
    let mut add = env.ferry_unlocked(&["profile", "add", "plain", &url, "--password-stdin"]);
    add.write_stdin(format!("{}\n", server.password()));
    env.ok(add);
    let out = run(env.ferry_unlocked(&["test", "plain"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let warnings: Vec<String> = text(&out.stderr)
        .lines()
        .filter(|l| l.contains("unencrypted"))
        .map(String::from)
        .collect();
    assert_eq!(warnings.len(), 1, "one warning line: {warnings:?}");
}
