//! Ranges of a file for segmented downloads: `REST` + `RETR` stopped at the range's end gives
//! exactly those bytes and leaves the session usable, and a further session (`open_channel`, a
//! connection of its own) reads another range at the same time.

use ferry::remote::{ReadStream, Remote};

use super::{MIB, login, random_bytes};
use crate::support::ftp_server::{FtpServer, FtpServerConfig, TlsMode};

async fn read_all(mut reader: Box<dyn ReadStream>) -> Vec<u8> {
    let mut all = Vec::new();
    while let Some(chunk) = reader.next_chunk().await.expect("read") {
        all.extend_from_slice(&chunk);
    }
    all
}

#[tokio::test(flavor = "multi_thread")]
async fn ranges_read_exactly_their_bytes_at_once_over_two_connections() {
    two_ranges_at_once(FtpServerConfig::default()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ftps_ranges_read_exactly_their_bytes_at_once_over_two_connections() {
    two_ranges_at_once(FtpServerConfig {
        tls: TlsMode::Explicit,
        require_tls: true,
        ..FtpServerConfig::default()
    })
    .await;
}

async fn two_ranges_at_once(config: FtpServerConfig) {
    let server = FtpServer::start(config).await;
    let data = random_bytes(32 * MIB);
    std::fs::write(server.root().join("big.bin"), &data).expect("write");
    let remote = login(&server).await;
    let caps = remote.capabilities();
    assert!(caps.read_ranges && !caps.write_ranges, "{caps:?}");
    assert!(remote.round_trip().is_some(), "timed at login");

    let sessions = server.open_sessions();
    let channel = remote
        .open_channel()
        .await
        .expect("login")
        .expect("a channel");
    assert_eq!(
        server.open_sessions(),
        sessions + 1,
        "a connection of its own"
    );
    let (first, second) = (MIB as u64..3 * MIB as u64, 20 * MIB as u64..32 * MIB as u64);
    let (a, b) = tokio::join!(
        remote.read_range("big.bin", first.start, first.end),
        channel.read_range("big.bin", second.start, second.end),
    );
    let (a, b) = tokio::join!(read_all(a.expect("range")), read_all(b.expect("range")));
    assert!(
        a == data[MIB..3 * MIB],
        "the first range: {} bytes",
        a.len()
    );
    assert!(b == data[20 * MIB..], "the last range: {} bytes", b.len());

    // The range cut short left the control connection in step: the next reply is its own.
    assert_eq!(
        remote.stat("big.bin").await.expect("stat").size,
        data.len() as u64
    );
    let again = read_all(remote.read_range("big.bin", 0, 5).await.expect("range")).await;
    assert_eq!(again, data[..5]);
    channel.close().await;
    remote.close().await;
}
