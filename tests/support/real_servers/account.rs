//! The local account that real servers log in as: from FERRY_TEST_USER / FERRY_TEST_PASSWORD, or
//! created (as root) on first use.

use super::process::run;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const DEFAULT_USER: &str = "ferrytest";
const PASSWORD_FILE: &str = "/var/lib/ferry-test/password";

#[derive(Debug, Clone)]
pub struct TestUser {
    pub name: String,
    pub password: String,
    pub home: PathBuf,
    pub uid: u32,
    pub gid: u32,
}

/// The test account (resolved once per process). Panics with instructions when there is none.
pub fn test_user() -> &'static TestUser {
    static USER: OnceLock<TestUser> = OnceLock::new();
    USER.get_or_init(resolve)
}

pub(super) fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

fn resolve() -> TestUser {
    let name = std::env::var("FERRY_TEST_USER")
        .ok()
        .filter(|v| !v.is_empty());
    let password = std::env::var("FERRY_TEST_PASSWORD")
        .ok()
        .filter(|v| !v.is_empty());
    let (name, password) = match (name, password) {
        (Some(name), Some(password)) => (name, password),
        (None, None) => {
            assert!(
                running_as_root(),
                "real-server tests need a local account: set FERRY_TEST_USER and FERRY_TEST_PASSWORD, \
                 or run as root so the tests can create `{DEFAULT_USER}`"
            );
            (DEFAULT_USER.to_string(), ensure_default_user())
        }
        _ => panic!("set both FERRY_TEST_USER and FERRY_TEST_PASSWORD, or neither"),
    };
    let passwd = getent_passwd(&name)
        .unwrap_or_else(|| panic!("FERRY_TEST_USER={name}: no such local account"));
    let fields: Vec<&str> = passwd.trim().split(':').collect();
    assert!(
        fields.len() >= 7,
        "unexpected passwd entry for {name}: {passwd}"
    );
    TestUser {
        name,
        password,
        uid: fields[2].parse().expect("uid"),
        gid: fields[3].parse().expect("gid"),
        home: PathBuf::from(fields[5]),
    }
}

fn getent_passwd(name: &str) -> Option<String> {
    let out = Command::new("getent")
        .args(["passwd", name])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Creates `ferrytest` if needed and returns its password, setting a fresh random one when none
/// is on record.
fn ensure_default_user() -> String {
    if getent_passwd(DEFAULT_USER).is_none() {
        run(Command::new("useradd").args(["--create-home", "--shell", "/bin/sh", DEFAULT_USER]));
    }
    if let Ok(password) = std::fs::read_to_string(PASSWORD_FILE) {
        return password.trim().to_string();
    }
    let password: String = (0..24)
        .map(|_| char::from(b'a' + rand::random_range(0..26u8)))
        .collect();
    let mut chpasswd = Command::new("chpasswd");
    chpasswd.stdin(std::process::Stdio::piped());
    let mut child = chpasswd.spawn().expect("run chpasswd");
    use std::io::Write as _;
    writeln!(child.stdin.take().unwrap(), "{DEFAULT_USER}:{password}").expect("write to chpasswd");
    assert!(
        child.wait().expect("wait for chpasswd").success(),
        "chpasswd failed"
    );
    let file = Path::new(PASSWORD_FILE);
    std::fs::create_dir_all(file.parent().unwrap()).expect("create /var/lib/ferry-test");
    std::fs::write(file, &password).expect("record test password");
    set_mode(file, 0o600);
    password
}

pub(super) fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

pub(super) fn chown(path: &Path, user: &TestUser) {
    std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
        .unwrap_or_else(|e| panic!("chown {} {}: {e}", user.name, path.display()));
}
