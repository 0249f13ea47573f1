//! Child-process plumbing for the real servers: free ports, logs, waiting for the banner, and
//! killing the child on drop.

use std::io::Read as _;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A port that was free a moment ago (bound to port 0, then released).
pub(super) fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// Runs a setup command to completion; panics with its output if it fails.
pub(super) fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Panics with an install hint when a server binary is missing.
pub(super) fn require_binary(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "FERRY_REAL_SERVERS=1 but {path} is missing (apt-get install {package})"
    );
}

/// A server child process in its own process group; the group (the server and the session
/// processes it forked) is killed on drop.
#[derive(Debug)]
pub(super) struct ServerProcess {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl ServerProcess {
    /// Spawns `cmd` with stdout and stderr going to `log`.
    pub fn spawn(name: &'static str, mut cmd: Command, log: &Path) -> ServerProcess {
        let file = std::fs::File::create(log).expect("create server log");
        cmd.process_group(0)
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("clone log handle"))
            .stderr(file);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        ServerProcess {
            name,
            child,
            log: log.to_path_buf(),
        }
    }

    /// Waits until the port greets with `banner`; panics with the server's log if it exits or
    /// does not answer in time.
    pub fn wait_for_banner(&mut self, port: u16, banner: &str) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited during start-up ({status}):\n{}",
                    self.name,
                    self.log()
                );
            }
            if greets(port, banner) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer on 127.0.0.1:{port} within {START_TIMEOUT:?}:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills every session process the server forked (all its descendants: sshd's monitor and
    /// the unprivileged child that carries the connection), cutting the connections the way a
    /// crash or a network failure would; the server keeps listening. Returns how many died.
    /// Read straight from /proc and killed with kill(2): spawning pgrep and kill took long
    /// enough on a loaded machine for a transfer to run far past the offset a cut aimed at.
    pub fn kill_sessions(&self) -> usize {
        let parents = parent_pids();
        let mut pids = Vec::new();
        let mut queue = vec![self.child.id() as i32];
        while let Some(parent) = queue.pop() {
            for (&pid, _) in parents.iter().filter(|(_, ppid)| **ppid == parent) {
                queue.push(pid);
                pids.push(pid);
            }
        }
        for &pid in &pids {
            // SAFETY: kill(2) with a pid read from /proc and a valid signal number.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        pids.len()
    }
}

/// Every process's parent, from `/proc/PID/stat` (the field after the parenthesised name).
fn parent_pids() -> std::collections::HashMap<i32, i32> {
    let mut parents = std::collections::HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return parents;
    };
    for entry in dir.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|field| field.parse::<i32>().ok());
        if let Some(ppid) = ppid {
            parents.insert(pid, ppid);
        }
    }
    parents
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn greets(port: u16, banner: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut first = vec![0u8; banner.len()];
    stream.read_exact(&mut first).is_ok() && first == banner.as_bytes()
}
