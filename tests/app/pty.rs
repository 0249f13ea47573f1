//! The real binary in a pseudo-terminal (portable-pty, read back through vt100): set up the
//! vault, visit every tab, open help, resize, quit, and find the terminal as it was before:
//! main screen, cursor shown, line editing and echo back on.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

fn nonzero(n: u16) -> std::num::NonZero<u16> {
    std::num::NonZero::new(n).expect("a size above zero")
}

/// A running ferry and what its terminal shows.
struct Session {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Session {
    fn start(dir: &std::path::Path) -> Session {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 24,
                cols: 80,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let config = dir.join("config.toml");
        std::fs::write(
            &config,
            "[vault]\nargon2_memory = \"8MiB\"\nargon2_passes = 1\n",
        )
        .expect("config");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_ferry"));
        cmd.cwd(dir);
        cmd.env("HOME", dir);
        cmd.env("FERRY_DATA_DIR", dir.join("data"));
        cmd.env("FERRY_CONFIG", &config);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("FERRY_PASSPHRASE_FILE");
        cmd.env_remove("FERRY_KEY_FILE");
        let child = pty.slave.spawn_command(cmd).expect("spawn ferry");
        drop(pty.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(nonzero(24), nonzero(80), 0)));
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let feed = parser.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                feed.lock().expect("parser").process(&buf[..n]);
            }
        });
        let writer = pty.master.take_writer().expect("writer");
        Session {
            parser,
            writer,
            child,
            master: pty.master,
        }
    }

    fn screen(&self) -> String {
        self.parser.lock().expect("parser").screen().contents()
    }

    fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).expect("write");
        self.writer.flush().expect("flush");
    }

    /// Waits until the screen shows `text`.
    fn wait_for(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.screen().contains(text) {
            assert!(
                Instant::now() < deadline,
                "`{text}` never showed; the screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the screen no longer shows `text`.
    fn wait_until_gone(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.screen().contains(text) {
            assert!(
                Instant::now() < deadline,
                "`{text}` stayed; the screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn resize(&mut self, rows: u16, cols: u16) {
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize");
        self.parser
            .lock()
            .expect("parser")
            .screen_mut()
            .set_size(nonzero(rows), nonzero(cols));
    }

    /// Whether the terminal is back in its usual mode: lines edited and echoed by the tty.
    fn cooked(&self) -> bool {
        let fd = self.master.as_raw_fd().expect("master fd");
        // SAFETY: tcgetattr fills a termios struct for an open terminal fd.
        let mut termios: libc::termios = unsafe { std::mem::zeroed() };
        let ok = unsafe { libc::tcgetattr(fd, &mut termios) } == 0;
        ok && termios.c_lflag & libc::ICANON != 0 && termios.c_lflag & libc::ECHO != 0
    }
}

#[test]
fn the_binary_opens_visits_every_tab_quits_and_restores_the_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("hello.txt"), "hi").expect("file");
    let mut session = Session::start(dir.path());
    session.wait_for("Set up the vault");
    assert!(
        session
            .parser
            .lock()
            .expect("parser")
            .screen()
            .alternate_screen()
    );
    assert!(!session.cooked(), "raw mode while the app runs");
    session.send("a passphrase\ta passphrase\r");
    session.wait_for("vault unlocked");
    session.wait_for("hello.txt");
    for (key, shows) in [
        ("1", "recent failures"),
        ("3", "overall"),
        ("5", "no profiles yet"),
        ("2", "hello.txt"),
    ] {
        session.send(key);
        session.wait_for(shows);
    }
    session.send("?");
    session.wait_for("Keys");
    session.send("\x1b");
    session.wait_until_gone("Keys");
    session.resize(20, 60);
    session.wait_for("terminal too small");
    session.resize(30, 100);
    session.wait_for("hello.txt");
    session.send("q");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = session.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "ferry did not quit:\n{}",
            session.screen()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    std::thread::sleep(Duration::from_millis(100));
    let parser = session.parser.lock().expect("parser");
    assert!(
        !parser.screen().alternate_screen(),
        "back on the main screen"
    );
    assert!(!parser.screen().hide_cursor(), "the cursor is shown");
    drop(parser);
    assert!(session.cooked(), "line editing and echo are back");
}
