//! Many transfers at once: five uploads with five downloads in two batches, and a recursive
//! upload of a thousand small files in nested directories that arrives as the same tree.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ferry::profile::Protocol;
use ferry::transfer::model::Direction;

use crate::support::engine::{
    EngineFixture, enqueue, random_file, request, sha256_file, wait_batches,
};
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_uploads_with_five_downloads() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let fx = EngineFixture::new(|c| c.transfer.max_concurrent = 10);
    fx.add_profile_with(
        "srv",
        Protocol::Sftp,
        server.port(),
        DEFAULT_USER,
        DEFAULT_PASSWORD,
        |p| p.max_connections = 10,
    );
    let up = fx.local("up");
    let down = fx.local("down");
    let mut uploads = Vec::new();
    for i in 0..5 {
        let file = up.join(format!("up{i}.bin"));
        random_file(&file, 6 << 20, i);
        uploads.push(file.to_string_lossy().into_owned());
        random_file(
            &server.root().join(format!("down{i}.bin")),
            6 << 20,
            100 + i,
        );
    }
    let client = fx.start();
    let mut watch = client.subscribe(false);
    let mut peak = 0;
    let sources: Vec<&str> = uploads.iter().map(String::as_str).collect();
    let remote: Vec<String> = (0..5).map(|i| format!("/down{i}.bin")).collect();
    let remote: Vec<&str> = remote.iter().map(String::as_str).collect();
    let mut up_request = request(Direction::Upload, "srv", &sources, "/incoming", false);
    let mut down_request = request(
        Direction::Download,
        "srv",
        &remote,
        down.to_str().expect("utf8"),
        false,
    );
    // Slow enough that the ten overlap whatever the machine's speed.
    up_request.limit = 20 << 20;
    down_request.limit = 20 << 20;
    let a = enqueue(&client, up_request).await;
    let b = enqueue(&client, down_request).await;
    let batches = [a, b];
    let waiter = wait_batches(&mut watch, &batches, Duration::from_secs(300));
    tokio::pin!(waiter);
    let mut progress = client.subscribe(false).progress;
    let (summaries, _) = loop {
        tokio::select! {
            done = &mut waiter => break done,
            _ = progress.changed() => peak = peak.max(progress.borrow_and_update().running),
        }
    };
    assert_eq!(summaries[0].done, 5, "{:?}", summaries[0]);
    assert_eq!(summaries[1].done, 5, "{:?}", summaries[1]);
    assert!(
        peak >= 6,
        "uploads and downloads overlapped: peak {peak} running"
    );
    for i in 0..5 {
        assert_eq!(
            sha256_file(&server.root().join(format!("incoming/up{i}.bin"))),
            sha256_file(&up.join(format!("up{i}.bin")))
        );
        assert_eq!(
            sha256_file(&down.join(format!("down{i}.bin"))),
            sha256_file(&server.root().join(format!("down{i}.bin")))
        );
    }
    client.request(ferry::engine::api::Request::Shutdown).await;
}

/// 10 x 10 directories with 10 files each, of varied small sizes.
pub(crate) fn make_tree(root: &Path) {
    for a in 0..10 {
        for b in 0..10 {
            let dir = root.join(format!("d{a}/e{b}"));
            std::fs::create_dir_all(&dir).expect("mkdir");
            for c in 0..10 {
                let seed = (a * 100 + b * 10 + c) as u64;
                random_file(
                    &dir.join(format!("f{c}.dat")),
                    100 + (seed as usize * 37) % 5000,
                    seed,
                );
            }
        }
    }
    std::fs::create_dir_all(root.join("empty/dir")).expect("mkdir");
}

pub(crate) fn tree(root: &Path) -> Vec<(PathBuf, Option<String>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            let rel = path.strip_prefix(root).expect("prefix").to_path_buf();
            if path.is_dir() {
                stack.push(path);
                out.push((rel, None));
            } else {
                out.push((rel, Some(sha256_file(&path))));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn recursive_upload_of_a_thousand_files_arrives_as_the_same_tree() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let fx = EngineFixture::with_sftp(server.port(), |_| {});
    let local = fx.local("src");
    let tree_root = local.join("site");
    make_tree(&tree_root);
    let client = fx.start();
    let mut watch = client.subscribe(false);
    let batch = enqueue(
        &client,
        request(
            Direction::Upload,
            "srv",
            &[tree_root.to_str().expect("utf8")],
            "/backup",
            true,
        ),
    )
    .await;
    let (summaries, events) = wait_batches(&mut watch, &[batch], Duration::from_secs(300)).await;
    assert_eq!(summaries[0].failed, 0, "{summaries:?}");
    assert_eq!(summaries[0].done, 1000 + 113, "files and directories");
    assert!(events.iter().any(|e| matches!(
        e,
        ferry::engine::api::Event::Planning {
            finished: true,
            files: 1000,
            ..
        }
    )));
    assert_eq!(tree(&server.root().join("backup/site")), tree(&tree_root));

    // And back down again, recursively.
    let down = fx.local("restore");
    let batch = enqueue(
        &client,
        request(
            Direction::Download,
            "srv",
            &["/backup/site"],
            down.to_str().expect("utf8"),
            true,
        ),
    )
    .await;
    let (summaries, _) = wait_batches(&mut watch, &[batch], Duration::from_secs(300)).await;
    assert_eq!(summaries[0].failed, 0, "{summaries:?}");
    assert_eq!(tree(&down.join("site")), tree(&tree_root));
    client.request(ferry::engine::api::Request::Shutdown).await;
}
