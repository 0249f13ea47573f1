//! Failures, classified: unreachable hosts, silent servers, dropped connections, full disks,
//! missing and forbidden paths, and hostile names in listings.

use std::time::Duration;

use bytes::Bytes;
use ferry::profile::HostKeyPolicy;
use ferry::remote::{ErrorKind, Remote, RemoteError};

use super::harness::{Target, Trust, password, profile, random_bytes, twins};
use crate::support::sftp_server::{HOSTILE_DIR, SftpServerConfig};

const MIB: usize = 1024 * 1024;

async fn connect_error(host: &str, port: u16, timeout: Duration) -> RemoteError {
    let trust = Trust::new(false);
    let mut options = trust.options(HostKeyPolicy::Strict);
    options.timeout = timeout;
    let mut profile = profile(port, "nobody");
    profile.host = host.into();
    ferry::remote::sftp::connect_with(&profile, &password("x"), &options, &Default::default())
        .await
        .expect_err("connect must fail")
}

#[tokio::test]
async fn a_closed_port_is_refused() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = connect_error("127.0.0.1", port, Duration::from_secs(10)).await;
    assert_eq!(err.kind, ErrorKind::Refused, "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("cannot connect to sftp-test (127.0.0.1:{port})")),
        "{err}"
    );
}

#[tokio::test]
async fn an_unknown_host_name_is_a_dns_error() {
    let err = connect_error("nonexistent.invalid", 22, Duration::from_secs(10)).await;
    assert_eq!(err.kind, ErrorKind::Dns, "{err}");
}

#[tokio::test]
async fn a_server_that_never_speaks_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let err = connect_error("127.0.0.1", port, Duration::from_millis(300)).await;
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert!(err.is_transient());
    silent.abort();
}

/// The version request goes out with the subsystem request; a refused subsystem is still
/// named as such, at once, not a timeout on the version.
#[tokio::test]
async fn a_server_without_sftp_says_so() {
    let target = Target::in_process(SftpServerConfig {
        refuse_sftp: true,
        ..Default::default()
    })
    .await;
    let trust = target.trust();
    let err = target
        .login(
            &target.profile(),
            &password(&target.password),
            &trust.options(HostKeyPolicy::Strict),
        )
        .await
        .expect_err("no sftp subsystem");
    assert_eq!(err.kind, ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("no sftp subsystem"), "{err}");
}

#[tokio::test]
async fn a_connection_dropped_mid_write_is_lost() {
    let target = Target::in_process(SftpServerConfig {
        drop_after_bytes: Some(MIB as u64),
        ..Default::default()
    })
    .await;
    let remote = target.connect().await;
    let path = target.path("dropped.bin");
    let data = Bytes::from(random_bytes(4 * MIB));
    let mut writer = remote.write_at(&path, 0).await.unwrap();
    let mut failure = None;
    for chunk in data.chunks(256 * 1024) {
        if let Err(err) = writer.write(Bytes::copy_from_slice(chunk)).await {
            failure = Some(err);
            break;
        }
    }
    let err = match failure {
        Some(err) => err,
        None => writer
            .finish(ferry::remote::Finish::default())
            .await
            .expect_err("the drop surfaces"),
    };
    assert_eq!(err.kind, ErrorKind::ConnectionLost, "{err}");
    assert!(err.to_string().contains(&path), "{err}");
    assert!(err.is_transient());
}

/// Writes 3 MiB to `path`; the failure must come back as `NoSpace` naming the path.
async fn filling_the_disk_is_no_space(target: &Target, path: &str) {
    let remote = target.connect().await;
    let mut writer = remote.write_at(path, 0).await.unwrap();
    let mut result = Ok(());
    for _ in 0..12 {
        result = writer.write(Bytes::from(random_bytes(256 * 1024))).await;
        if result.is_err() {
            break;
        }
    }
    let err = match result {
        Err(err) => err,
        Ok(()) => writer
            .finish(ferry::remote::Finish::default())
            .await
            .expect_err("the full disk surfaces"),
    };
    assert_eq!(err.kind, ErrorKind::NoSpace, "{err}");
    assert!(err.to_string().contains(path), "{err}");
}

#[tokio::test]
async fn a_full_disk_is_no_space() {
    let target = Target::in_process(SftpServerConfig {
        no_space_after_bytes: Some(MIB as u64),
        ..Default::default()
    })
    .await;
    filling_the_disk_is_no_space(&target, &target.path("full.bin")).await;
}

/// A 1 MiB tmpfs, unmounted on drop.
struct TinyDisk(std::path::PathBuf);

impl TinyDisk {
    fn mount(dir: std::path::PathBuf) -> Option<TinyDisk> {
        std::fs::create_dir(&dir).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m,mode=0777", "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|status| status.success());
        mounted.then_some(TinyDisk(dir))
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        // Lazily: the server may still hold the file open for a moment.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// OpenSSH reports ENOSPC as a generic failure; the free-space check must name it.
#[tokio::test]
async fn a_full_disk_real() {
    let Some(target) = Target::real(Default::default()).await else {
        return;
    };
    let Some(_disk) = TinyDisk::mount(target.disk("tiny")) else {
        println!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    filling_the_disk_is_no_space(&target, &target.path("tiny/full.bin")).await;
}

async fn missing_paths_are_not_found(target: &Target) {
    let remote = target.connect().await;
    let missing = target.path("no-such-file");
    let errors = [
        remote.stat(&missing).await.err(),
        remote.read_from(&missing, 0).await.err(),
        remote.remove_file(&missing).await.err(),
        remote.read_dir(&missing).await.err(),
        remote.sha256(&missing).await.err(),
    ];
    for err in errors {
        let err = err.expect("a missing path fails");
        assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
        assert!(err.to_string().contains(&missing), "{err}");
    }
}
twins!(missing_paths_are_not_found => not_found_in_process, not_found_real);

async fn forbidden_paths_are_permission_errors(target: &Target) {
    let remote = target.connect().await;
    let dir = target.path("secret");
    let inside = format!("{dir}/f");
    let errors = [
        remote.read_dir(&dir).await.err(),
        remote.write_at(&inside, 0).await.err(),
        remote.stat(&inside).await.err(),
    ];
    for err in errors {
        let err = err.expect("a forbidden path fails");
        assert_eq!(err.kind, ErrorKind::Permission, "{err}");
        assert!(err.to_string().contains(&dir), "{err}");
    }
}

#[tokio::test]
async fn permission_denied_in_process() {
    let target = Target::in_process(SftpServerConfig {
        deny: vec!["/work/secret".into()],
        ..Default::default()
    })
    .await;
    std::fs::create_dir(target.disk("secret")).unwrap();
    forbidden_paths_are_permission_errors(&target).await;
}

#[tokio::test]
async fn permission_denied_real() {
    if let Some(target) = Target::real(Default::default()).await {
        use std::os::unix::fs::PermissionsExt;
        // Made by root with no access for others: the login cannot enter it.
        let dir = target.disk("secret");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        forbidden_paths_are_permission_errors(&target).await;
    }
}

#[tokio::test]
async fn hostile_names_are_refused_by_list() {
    let target = Target::in_process(SftpServerConfig {
        hostile_names: true,
        ..Default::default()
    })
    .await;
    let remote = target.connect().await;
    let (safe, refused) = remote.list(HOSTILE_DIR).await.unwrap();
    let names: Vec<&str> = safe.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["ok.txt"]);
    for hostile in ["a/b", "a\\\\b", "nul\\x00name", "../escape"] {
        assert!(
            refused.iter().any(|r| r == hostile),
            "{hostile} in {refused:?}"
        );
    }
}
