//! A throwaway ferry installation for one test: its own data dir, config, HOME and passphrase
//! file, and `ferry` commands that see only those.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub const PASSPHRASE: &str = "correct horse battery staple";

pub struct FerryEnv {
    pub dir: tempfile::TempDir,
}

impl FerryEnv {
    /// A new environment with a fast Argon2 setting (the default costs are tested elsewhere).
    pub fn new() -> FerryEnv {
        let env = FerryEnv {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        std::fs::create_dir_all(env.home().join(".ssh")).expect("mkdir home");
        env.write_config("[vault]\nargon2_memory = \"8MiB\"\nargon2_passes = 1\n");
        std::fs::write(env.passphrase_file(), format!("{PASSPHRASE}\n")).expect("passphrase");
        env
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn passphrase_file(&self) -> PathBuf {
        self.dir.path().join("passphrase")
    }

    pub fn store_file(&self) -> PathBuf {
        self.data_dir().join("ferry.redb")
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config_file(), text).expect("write config");
    }

    /// `ferry ARGS` in this environment, without a passphrase source.
    pub fn ferry(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("ferry").expect("ferry binary");
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("USER", "tester")
            .env("FERRY_DATA_DIR", self.data_dir())
            .env("FERRY_CONFIG", self.config_file())
            .timeout(std::time::Duration::from_secs(60));
        cmd
    }

    /// `ferry ARGS` with `FERRY_PASSPHRASE_FILE` set.
    pub fn ferry_unlocked(&self, args: &[&str]) -> Command {
        let mut cmd = self.ferry(args);
        cmd.env("FERRY_PASSPHRASE_FILE", self.passphrase_file());
        cmd
    }

    /// A new environment with a vault and a password profile `name` at `url`.
    pub fn with_password_profile(name: &str, url: &str, password: &str, policy: &str) -> FerryEnv {
        let env = FerryEnv::new();
        env.init_vault();
        let mut add = env.ferry_unlocked(&[
            "profile",
            "add",
            name,
            url,
            "--password-stdin",
            "--host-key-policy",
            policy,
        ]);
        add.write_stdin(format!("{password}\n"));
        env.ok(add);
        env
    }

    /// `ferry ARGS` unlocked, as a plain process to spawn and signal (stdin closed).
    pub fn process(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ferry"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("FERRY_DATA_DIR", self.data_dir())
            .env("FERRY_CONFIG", self.config_file())
            .env("FERRY_PASSPHRASE_FILE", self.passphrase_file())
            .stdin(std::process::Stdio::null());
        cmd
    }

    /// Sets up a passphrase vault.
    pub fn init_vault(&self) {
        self.ferry_unlocked(&["vault", "init"]).assert().success();
    }

    /// Runs a command and returns its stdout, failing the test with stderr if it fails.
    pub fn ok(&self, mut cmd: Command) -> String {
        let out = cmd.output().expect("run ferry");
        assert!(
            out.status.success(),
            "ferry failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that must fail; returns its stderr.
    pub fn fails(&self, mut cmd: Command) -> String {
        let out = cmd.output().expect("run ferry");
        assert!(
            !out.status.success(),
            "ferry succeeded unexpectedly: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

/// Runs a blocking ferry command off the async runtime that serves a test server.
pub async fn run(mut cmd: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("run ferry"))
        .await
        .expect("join")
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}
