//! Hostile names through the command line: listings, summaries, errors and log files show them
//! escaped, `--json` keeps them exactly, and a recursive download and re-upload reproduce every
//! name byte for byte. Against the in-process SFTP and FTP servers, and sshd with
//! FERRY_REAL_SERVERS=1 (names made on its disk by the test).

use std::ffi::OsStr;
use std::path::Path;

use crate::support::env::{FerryEnv, run};
use crate::support::ftp_server::{FtpServer, FtpServerConfig};
use crate::support::hostile::{
    self, assert_logs_safe, assert_terminal_safe, create_tree, json_names, os, tree,
};
use crate::support::real_servers::{RealSshd, SshdOptions, skip_without_real_servers, test_user};
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};

/// `ferry ARGS...` with byte arguments, logging at debug level.
fn ferry(env: &FerryEnv, args: &[&OsStr]) -> assert_cmd::Command {
    let mut cmd = env.ferry_unlocked(&[]);
    cmd.args(args).env("FERRY_LOG", "ferry=debug");
    cmd
}

/// `srv:` followed by a path's bytes.
fn remote(path: &[u8]) -> std::ffi::OsString {
    os(&[b"srv:".as_slice(), path].concat()).to_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs a command that must succeed; its stdout and stderr must be terminal-safe.
async fn ok(env: &FerryEnv, what: &str, args: &[&OsStr]) -> std::process::Output {
    let out = run(ferry(env, args)).await;
    assert!(out.status.success(), "{what} failed: {}", stderr(&out));
    assert_terminal_safe(&format!("{what} stdout"), &out.stdout);
    assert_terminal_safe(&format!("{what} stderr"), &out.stderr);
    out
}

/// The whole round: `dir` is `remote_dir` (a path on the server) as seen on the server's disk,
/// already holding the hostile tree in `h` with the top-level names `top`.
async fn round_trip(env: &FerryEnv, disk: &Path, remote_dir: &str, top: &[Vec<u8>]) {
    let listed = [remote_dir.as_bytes(), b"/h"].concat();
    let listed = remote(&listed);

    let out = ok(env, "ls", &[OsStr::new("ls"), &listed]).await;
    assert_eq!(
        out.stdout.iter().filter(|&&b| b == b'\n').count(),
        top.len()
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("esc\\x1b]0;pwned\\x07.txt"), "{text}");
    assert!(text.contains("caf\\xe9.txt") || !top.iter().any(|n| n == b"caf\xe9.txt"));
    ok(env, "ls -l", &[OsStr::new("ls"), OsStr::new("-l"), &listed]).await;

    let out = ok(
        env,
        "ls --json",
        &[OsStr::new("ls"), OsStr::new("--json"), &listed],
    )
    .await;
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut names = json_names(&listing);
    names.sort();
    assert_eq!(names, top, "--json names");

    let down = env.dir.path().join("down");
    std::fs::create_dir(&down).expect("mkdir down");
    let get = [
        OsStr::new("get"),
        OsStr::new("-r"),
        &listed,
        down.as_os_str(),
    ];
    ok(env, "get -r", &get).await;
    assert_eq!(
        tree(&down.join("h")),
        tree(&disk.join("h")),
        "downloaded tree"
    );

    // --json events: one per line, terminal-safe, every path exact.
    let again = env.dir.path().join("again");
    std::fs::create_dir(&again).expect("mkdir again");
    let get = [
        OsStr::new("get"),
        OsStr::new("-r"),
        OsStr::new("--json"),
        &listed,
        again.as_os_str(),
    ];
    let out = ok(env, "get -r --json", &get).await;
    let mut finished: Vec<Vec<u8>> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("a JSON line"))
        .filter(|event| event["event"] == "finished")
        .map(|finished| {
            let transfer = &finished["transfer"];
            match transfer.get("remote_path_bytes").and_then(|b| b.as_str()) {
                Some(hex) => hex::decode(hex).expect("hex"),
                None => transfer["remote_path"]
                    .as_str()
                    .expect("path")
                    .as_bytes()
                    .to_vec(),
            }
        })
        .filter(|path| !path.ends_with(b"/h"))
        .collect();
    finished.sort();
    let mut expected: Vec<Vec<u8>> = tree(&disk.join("h"))
        .into_keys()
        .map(|rel| [remote_dir.as_bytes(), b"/h/", &rel].concat())
        .collect();
    expected.sort();
    let files: Vec<Vec<u8>> = finished
        .into_iter()
        .filter(|p| expected.contains(p))
        .collect();
    assert_eq!(files, expected, "--json events name every file exactly");

    let back = remote(&[remote_dir.as_bytes(), b"/back"].concat());
    ok(env, "mkdir", &[OsStr::new("mkdir"), &back]).await;
    let local = down.join("h");
    ok(
        env,
        "put -r",
        &[
            OsStr::new("put"),
            OsStr::new("-r"),
            local.as_os_str(),
            &back,
        ],
    )
    .await;
    assert_eq!(
        tree(&disk.join("back/h")),
        tree(&disk.join("h")),
        "uploaded tree"
    );

    // Rename and remove address a name that is not UTF-8 exactly.
    let from = remote(&[remote_dir.as_bytes(), b"/h/caf\xe9.txt"].concat());
    let to = os(&[remote_dir.as_bytes(), b"/h/moved\xe9\x1b.txt"].concat()).to_owned();
    if top.iter().any(|n| n == b"caf\xe9.txt") {
        ok(env, "mv", &[OsStr::new("mv"), &from, &to]).await;
        assert!(disk.join("h").join(os(b"moved\xe9\x1b.txt")).is_file());
        let gone = remote(&[remote_dir.as_bytes(), b"/h/moved\xe9\x1b.txt"].concat());
        ok(env, "rm", &[OsStr::new("rm"), &gone]).await;
        assert!(!disk.join("h").join(os(b"moved\xe9\x1b.txt")).exists());
    }

    // An error about a hostile name shows it escaped.
    let missing = remote(&[remote_dir.as_bytes(), b"/h/missing\x1b]0;x\x07\xff"].concat());
    let out = run(ferry(env, &[OsStr::new("get"), &missing, down.as_os_str()])).await;
    assert!(!out.status.success());
    assert_terminal_safe("failed get stderr", &out.stderr);
    assert!(
        stderr(&out).contains("missing\\x1b]0;x\\x07\\xff"),
        "{}",
        stderr(&out)
    );

    // The log file holds the failure, escaped.
    let log_dir = env.data_dir().join("state/logs");
    assert!(assert_logs_safe(&log_dir) > 0, "something was logged");
    let logged = log_text(&log_dir);
    assert!(logged.contains("missing\\x1b]0;x\\x07\\xff"), "{logged}");
}

/// Every log file in `dir`, as text.
fn log_text(dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).expect("log dir").flatten() {
        text.push_str(&String::from_utf8_lossy(
            &std::fs::read(entry.path()).expect("log"),
        ));
    }
    text
}

fn sftp_env(port: u16, user: &str, password: &str) -> FerryEnv {
    let url = format!("sftp://{user}@127.0.0.1:{port}");
    FerryEnv::with_password_profile("srv", &url, password, "accept-new")
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_names_over_in_process_sftp() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let env = sftp_env(server.port(), DEFAULT_USER, DEFAULT_PASSWORD);
    let top = create_tree(&server.root().join("h"), |_| true);
    round_trip(&env, server.root(), "", &top).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_names_over_in_process_ftp() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let url = format!("ftp://{}@127.0.0.1:{}", server.user(), server.port());
    let env = FerryEnv::with_password_profile("srv", &url, server.password(), "accept-new");
    // libunftp decodes command arguments as UTF-8, so only such names can travel both ways.
    let carried = |n: &[u8]| hostile::utf8(n) && hostile::ftp_can_carry(n);
    let top = create_tree(&server.root().join("h"), carried);
    round_trip(&env, server.root(), "", &top).await;

    // Line breaks cannot be sent in a command, but a listing shows them escaped.
    let top = create_tree(&server.root().join("lines"), hostile::utf8);
    let out = ok(
        &env,
        "ls",
        &[OsStr::new("ls"), OsStr::new("--json"), &remote(b"/lines")],
    )
    .await;
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        json_names(&listing).contains(&b"cr\rreturn.txt".to_vec()),
        "{listing}"
    );
    assert!(top.len() > 2);
    ok(&env, "ls", &[OsStr::new("ls"), &remote(b"/lines")]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_names_over_sshd() {
    if skip_without_real_servers() {
        return;
    }
    let sshd = RealSshd::start(SshdOptions::default());
    let user = test_user();
    let env = sftp_env(sshd.port(), &user.name, &user.password);
    let scratch = sshd.scratch_dir();
    let top = create_tree(&scratch.join("h"), |_| true);
    chown_tree(scratch, user.uid, user.gid);
    let remote_dir = scratch.to_str().expect("scratch path is UTF-8");
    round_trip(&env, scratch, remote_dir, &top).await;
}

fn chown_tree(dir: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(dir, Some(uid), Some(gid)).expect("chown");
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        std::os::unix::fs::chown(&path, Some(uid), Some(gid)).expect("chown");
        if path.is_dir() {
            chown_tree(&path, uid, gid);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn latin1_profile_lists_and_transfers_proper_names() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let env = sftp_env(server.port(), DEFAULT_USER, DEFAULT_PASSWORD);
    let edit = ["profile", "edit", "srv", "--charset", "latin1"];
    env.ok(env.ferry_unlocked(&edit));
    let shown = env.ok(env.ferry_unlocked(&["profile", "show", "srv"]));
    assert!(shown.contains("latin1"), "{shown}");
    let disk = server.root().join("l1");
    std::fs::create_dir_all(disk.join(os(b"na\xefve"))).expect("mkdir");
    std::fs::write(disk.join(os(b"caf\xe9.txt")), b"coffee").expect("write");
    std::fs::write(disk.join(os(b"na\xefve/\xfcber.txt")), b"over").expect("write");

    let out = ok(
        &env,
        "ls",
        &[OsStr::new("ls"), OsStr::new("--json"), &remote(b"/l1")],
    )
    .await;
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut names: Vec<&str> = listing
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["name"].as_str().expect("name"))
        .collect();
    names.sort();
    assert_eq!(names, ["café.txt", "naïve"], "{listing}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("_bytes"));

    let down = env.dir.path().join("down");
    std::fs::create_dir(&down).expect("mkdir");
    ok(
        &env,
        "get -r",
        &[
            OsStr::new("get"),
            OsStr::new("-r"),
            &remote(b"/l1"),
            down.as_os_str(),
        ],
    )
    .await;
    assert_eq!(
        std::fs::read(down.join("l1/café.txt")).expect("local café"),
        b"coffee"
    );
    assert_eq!(
        std::fs::read(down.join("l1/naïve/über.txt")).expect("local über"),
        b"over"
    );

    let local = down.join("l1");
    ok(&env, "mkdir", &[OsStr::new("mkdir"), &remote(b"/again")]).await;
    ok(
        &env,
        "put -r",
        &[
            OsStr::new("put"),
            OsStr::new("-r"),
            local.as_os_str(),
            &remote(b"/again"),
        ],
    )
    .await;
    let again = server.root().join("again/l1");
    assert_eq!(
        tree(&again),
        tree(&disk),
        "re-uploaded under the Latin-1 names"
    );
    assert_eq!(
        std::fs::read(again.join(os(b"caf\xe9.txt"))).expect("latin1 name"),
        b"coffee"
    );
    assert!(again.join(os(b"na\xefve/\xfcber.txt")).is_file());

    // A name Latin-1 cannot write is refused with the reason.
    let snow = env.dir.path().join("snow\u{2603}.txt");
    std::fs::write(&snow, b"cold").expect("write");
    let out = run(ferry(
        &env,
        &[OsStr::new("put"), snow.as_os_str(), &remote(b"/")],
    ))
    .await;
    assert!(!out.status.success());
    assert_terminal_safe("refused put", &out.stderr);
    assert!(
        stderr(&out).contains("character set latin1"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_names_over_vsftpd() {
    use crate::support::real_servers::{RealVsftpd, VsftpdOptions};
    if skip_without_real_servers() {
        return;
    }
    let vsftpd = RealVsftpd::start(VsftpdOptions::default());
    let user = test_user();
    let url = format!("ftp://{}@127.0.0.1:{}", user.name, vsftpd.port());
    let env = FerryEnv::with_password_profile("srv", &url, &user.password, "accept-new");
    let root = vsftpd.root();
    // Raw bytes travel; only line breaks cannot be sent in an FTP command.
    let top = create_tree(&root.join("h"), hostile::ftp_can_carry);
    chown_tree(root, user.uid, user.gid);
    let remote_dir = root.to_str().expect("root path is UTF-8");
    round_trip(&env, root, remote_dir, &top).await;
}

/// `ferry test` shows what a server says about itself escaped: the SSH version line and the
/// FTP welcome text.
#[tokio::test(flavor = "multi_thread")]
async fn server_banners_are_shown_escaped() {
    let sftp = SftpServer::start(SftpServerConfig {
        software: "evil\x1b]0;pwned\x07\u{9b}31m".into(),
        ..SftpServerConfig::default()
    })
    .await;
    let env = sftp_env(sftp.port(), DEFAULT_USER, DEFAULT_PASSWORD);
    let out = ok(&env, "test", &[OsStr::new("test"), OsStr::new("srv")]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("evil\\x1b]0;pwned\\x07\\u{9b}31m"), "{text}");

    let ftp = FtpServer::start(FtpServerConfig {
        greeting: "welcome \x1b[2J\x1b]52;c;cHduZWQ=\x07 friend",
        ..FtpServerConfig::default()
    })
    .await;
    let url = format!("ftp://{}@127.0.0.1:{}", ftp.user(), ftp.port());
    let env = FerryEnv::with_password_profile("srv", &url, ftp.password(), "accept-new");
    let out = ok(&env, "test", &[OsStr::new("test"), OsStr::new("srv")]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("welcome \\x1b[2J\\x1b]52;c;cHduZWQ=\\x07 friend"),
        "{text}"
    );
}
