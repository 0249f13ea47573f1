//! Overwrite policies, in-place writes (`transfer.atomic = false`) and the global bandwidth
//! limit, through the engine against the in-process SFTP server.

use std::time::{Duration, Instant};

use ferry::engine::EngineClient;
use ferry::engine::api::{BatchSummary, Request};
use ferry::transfer::model::{Direction, OverwritePolicy};

use crate::support::engine::{
    EngineFixture, enqueue, random_file, request, sha256_file, wait_batches,
};
use crate::support::sftp_server::{SftpServer, SftpServerConfig};

async fn upload(
    client: &EngineClient,
    file: &std::path::Path,
    policy: OverwritePolicy,
) -> BatchSummary {
    let mut watch = client.subscribe(false);
    let mut req = request(
        Direction::Upload,
        "srv",
        &[file.to_str().expect("utf8")],
        "/",
        false,
    );
    req.overwrite = policy;
    let batch = enqueue(client, req).await;
    let (summaries, _) = wait_batches(&mut watch, &[batch], Duration::from_secs(60)).await;
    summaries[0].clone()
}

fn set_mtime(path: &std::path::Path, secs: u64) {
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open");
    file.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(secs))
        .expect("mtime");
}

#[tokio::test(flavor = "multi_thread")]
async fn overwrite_policies_do_what_they_say() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let fx = EngineFixture::with_sftp(server.port(), |_| {});
    let file = fx.local("src").join("doc.txt");
    let remote = server.root().join("doc.txt");
    std::fs::write(&file, "new content, longer than the old").expect("write");
    set_mtime(&file, 2_000_000_000);
    std::fs::write(&remote, "old").expect("write");
    set_mtime(&remote, 1_000_000_000);
    let client = fx.start();

    assert_eq!(
        upload(&client, &file, OverwritePolicy::Skip).await.skipped,
        1
    );
    assert_eq!(std::fs::read_to_string(&remote).expect("read"), "old");

    assert_eq!(
        upload(&client, &file, OverwritePolicy::Rename).await.done,
        1
    );
    assert_eq!(std::fs::read_to_string(&remote).expect("read"), "old");
    assert_eq!(
        std::fs::read_to_string(server.root().join("doc (1).txt")).expect("renamed copy"),
        "new content, longer than the old"
    );

    assert_eq!(
        upload(&client, &file, OverwritePolicy::NewerOnly)
            .await
            .done,
        1,
        "the source is newer"
    );
    assert_eq!(sha256_file(&remote), sha256_file(&file));
    assert_eq!(
        std::fs::metadata(&remote)
            .expect("stat")
            .modified()
            .expect("mtime"),
        std::time::UNIX_EPOCH + Duration::from_secs(2_000_000_000),
        "the copy keeps the source's time"
    );
    assert_eq!(
        upload(&client, &file, OverwritePolicy::NewerOnly)
            .await
            .skipped,
        1,
        "now as new"
    );

    // Resume: a shorter destination holding the start of the file is continued.
    std::fs::write(&remote, "new content").expect("write");
    assert_eq!(
        upload(&client, &file, OverwritePolicy::Resume).await.done,
        1
    );
    assert_eq!(sha256_file(&remote), sha256_file(&file));
    assert_eq!(
        upload(&client, &file, OverwritePolicy::Resume)
            .await
            .skipped,
        1,
        "complete already"
    );
    client.request(Request::Shutdown).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn in_place_writes_when_atomic_is_off() {
    use std::os::unix::fs::MetadataExt;
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let fx = EngineFixture::with_sftp(server.port(), |c| c.transfer.atomic = false);
    let file = fx.local("src").join("direct.bin");
    random_file(&file, 3 << 20, 4);
    // The file being replaced, seen through a second name: writing in place changes what that
    // name shows, while a part file renamed over the target would leave it as it was.
    let target = server.root().join("direct.bin");
    std::fs::write(&target, b"the old content").expect("old file");
    let witness = server.root().join("witness");
    std::fs::hard_link(&target, &witness).expect("hard link");
    let inode = std::fs::metadata(&target).expect("stat").ino();
    let client = fx.start();
    assert_eq!(
        upload(&client, &file, OverwritePolicy::Overwrite)
            .await
            .done,
        1
    );
    client.request(Request::Shutdown).await;
    assert_eq!(sha256_file(&target), sha256_file(&file));
    assert_eq!(
        std::fs::metadata(&target).expect("stat").ino(),
        inode,
        "the same file was written, not a new one renamed into place"
    );
    assert_eq!(sha256_file(&witness), sha256_file(&file));
}

#[tokio::test(flavor = "multi_thread")]
async fn global_bandwidth_limit_holds_the_rate_down() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let fx = EngineFixture::with_sftp(server.port(), |c| c.transfer.bandwidth_limit.0 = 2 << 20);
    let file = fx.local("src").join("limited.bin");
    random_file(&file, 3 << 20, 5);
    let client = fx.start();
    let started = Instant::now();
    assert_eq!(
        upload(&client, &file, OverwritePolicy::Overwrite)
            .await
            .done,
        1
    );
    client.request(Request::Shutdown).await;
    // 3 MiB at 2 MiB/s with half a MiB of burst cannot take less than 1.25 s (a lower bound:
    // a slow machine only makes it longer).
    assert!(
        started.elapsed() >= Duration::from_millis(1200),
        "{:?}",
        started.elapsed()
    );
}
