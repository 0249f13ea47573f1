//! Progress lines on a terminal: `ferry get -r` of hostile names in a pseudo-terminal draws its
//! progress and summary with every name escaped; the only control bytes are ferry's own (cursor
//! up, erase line, line ends).

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

use crate::support::env::FerryEnv;
use crate::support::hostile::{assert_terminal_safe, create_tree};
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};

/// Runs `ferry ARGS` in a pseudo-terminal in `env`; returns every byte it wrote there.
fn in_terminal(env: &FerryEnv, args: &[&str]) -> Vec<u8> {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 100,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("a pseudo-terminal");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_ferry"));
    cmd.args(args);
    cmd.env_clear();
    cmd.env("HOME", env.home());
    cmd.env("FERRY_DATA_DIR", env.data_dir());
    cmd.env("FERRY_CONFIG", env.config_file());
    cmd.env("FERRY_PASSPHRASE_FILE", env.passphrase_file());
    cmd.env("TERM", "xterm-256color");
    let mut child = pty.slave.spawn_command(cmd).expect("spawn ferry");
    drop(pty.slave);
    let output = Arc::new(Mutex::new(Vec::new()));
    let mut reader = pty.master.try_clone_reader().expect("reader");
    let sink = output.clone();
    let reading = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().expect("output").extend_from_slice(&buf[..n]);
        }
    });
    let status = child.wait().expect("ferry ends");
    drop(pty.master);
    let _ = reading.join();
    let bytes = output.lock().expect("output").clone();
    assert!(status.success(), "{}", String::from_utf8_lossy(&bytes));
    bytes
}

/// `bytes` without ferry's own terminal controls.
fn without_own_controls(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes)
        .replace("\x1b[1A", "")
        .replace("\x1b[2K", "")
        .replace("\r\n", "\n");
    text.into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_and_summary_on_a_terminal_show_hostile_names_escaped() {
    // Slow replies keep each file running long enough for progress lines to be drawn.
    let server = SftpServer::start(SftpServerConfig {
        reply_delay: Some(Duration::from_millis(150)),
        ..SftpServerConfig::default()
    })
    .await;
    let url = format!("sftp://{DEFAULT_USER}@127.0.0.1:{}", server.port());
    let env = FerryEnv::with_password_profile("srv", &url, DEFAULT_PASSWORD, "accept-new");
    create_tree(&server.root().join("h"), |_| true);
    let down = env.dir.path().join("down");
    std::fs::create_dir(&down).expect("mkdir");
    let target = down.to_str().expect("utf8").to_string();
    let bytes = tokio::task::spawn_blocking(move || {
        let bytes = in_terminal(&env, &["get", "-r", "srv:/h", &target]);
        drop(env);
        bytes
    })
    .await
    .expect("join");
    let shown = without_own_controls(&bytes);
    assert_terminal_safe("progress on a terminal", &shown);
    let text = String::from_utf8_lossy(&shown);
    assert!(
        text.contains("running,"),
        "progress lines were drawn: {text}"
    );
    assert!(text.contains("\\x1b]0;pwned\\x07.txt"), "{text}");
}
