//! Pipelined streams: several MiB round trips in odd chunk sizes, resuming a write at an
//! offset, reading from an offset, and the server-side SHA-256 matching the local one (after
//! writing, and while writing).

use bytes::Bytes;
use ferry::remote::{Remote, WriteStream};

use super::harness::{Target, random_bytes, sha256_hex, twins};

const MIB: usize = 1024 * 1024;

/// Writes `data` in chunks of varied sizes (smaller and larger than one SFTP request).
async fn write_varied(writer: &mut Box<dyn WriteStream>, data: &[u8]) {
    let sizes = [1, 4096, 700_000, 65_536, 1_000_000, 261_120, 13];
    let mut offset = 0;
    for size in sizes.iter().cycle() {
        if offset == data.len() {
            break;
        }
        let end = (offset + size).min(data.len());
        writer
            .write(Bytes::copy_from_slice(&data[offset..end]))
            .await
            .unwrap();
        offset = end;
        assert!(writer.confirmed() <= offset as u64);
    }
}

async fn read_all(remote: &dyn Remote, path: &str, offset: u64) -> Vec<u8> {
    let mut reader = remote.read_from(path, offset).await.unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = reader.next_chunk().await.unwrap() {
        out.extend_from_slice(&chunk);
    }
    out
}

async fn round_trips_several_mib(target: &Target) {
    let remote = target.connect().await;
    let path = target.path("big.bin");
    let data = random_bytes(6 * MIB + 12_345);
    let mut writer = remote.write_at(&path, 0).await.unwrap();
    write_varied(&mut writer, &data).await;
    writer
        .finish(ferry::remote::Finish {
            sync: true,
            mtime: None,
        })
        .await
        .unwrap();

    assert_eq!(remote.stat(&path).await.unwrap().size, data.len() as u64);
    let back = read_all(&remote, &path, 0).await;
    assert_eq!(sha256_hex(&back), sha256_hex(&data));
    let tail = read_all(&remote, &path, 3 * MIB as u64 + 7).await;
    assert_eq!(tail, &data[3 * MIB + 7..]);
    assert!(read_all(&remote, &path, data.len() as u64).await.is_empty());

    let on_disk = std::fs::read(target.disk("big.bin")).unwrap();
    assert_eq!(sha256_hex(&on_disk), sha256_hex(&data));
    assert_eq!(remote.sha256(&path).await.unwrap(), Some(sha256_hex(&data)));
}
twins!(round_trips_several_mib => round_trip_in_process, round_trip_real);

/// The server hashes a resumed upload as it is written: the prefix already there, then each
/// confirmed stretch. sshd runs the shell pipeline; the in-process server only knows
/// `sha256sum FILE`, so there the follower gives up and the caller hashes afterwards.
async fn hashes_a_file_while_it_is_written(target: &Target) {
    let remote = target.connect().await;
    let path = target.path("growing.bin");
    let data = random_bytes(41 * MIB + 4321);
    let cut = 5 * MIB + 3;
    let mut first = remote.write_at(&path, 0).await.unwrap();
    write_varied(&mut first, &data[..cut]).await;
    first
        .finish(ferry::remote::Finish::default())
        .await
        .unwrap();

    let mut growing = remote.sha256_while_writing(&path).await.unwrap();
    let mut writer = remote.write_at(&path, cut as u64).await.unwrap();
    for piece in data[cut..].chunks(MIB + 77) {
        writer.write(Bytes::copy_from_slice(piece)).await.unwrap();
        growing.advance(cut as u64 + writer.confirmed()).await;
    }
    writer
        .finish(ferry::remote::Finish::default())
        .await
        .unwrap();
    let expected = target.real.then(|| sha256_hex(&data));
    assert_eq!(growing.finish().await, expected);
}
twins!(hashes_a_file_while_it_is_written => growing_hash_in_process, growing_hash_real);

async fn resumes_a_write_at_an_offset(target: &Target) {
    let remote = target.connect().await;
    let path = target.path("resumed.part");
    let data = random_bytes(3 * MIB + 999);
    let cut = 2 * MIB + 17;

    // A first attempt that got further than the resume point: the rest is cut away.
    let mut first = remote.write_at(&path, 0).await.unwrap();
    write_varied(&mut first, &data[..cut + 5000]).await;
    first
        .finish(ferry::remote::Finish::default())
        .await
        .unwrap();

    let mut second = remote.write_at(&path, cut as u64).await.unwrap();
    write_varied(&mut second, &data[cut..]).await;
    second
        .finish(ferry::remote::Finish {
            sync: true,
            mtime: None,
        })
        .await
        .unwrap();
    assert_eq!(remote.sha256(&path).await.unwrap(), Some(sha256_hex(&data)));

    // Resuming exactly at the end appends nothing; an empty write creates an empty file.
    let writer = remote.write_at(&path, data.len() as u64).await.unwrap();
    writer
        .finish(ferry::remote::Finish::default())
        .await
        .unwrap();
    assert_eq!(remote.stat(&path).await.unwrap().size, data.len() as u64);
    let empty = target.path("empty");
    remote
        .write_at(&empty, 0)
        .await
        .unwrap()
        .finish(ferry::remote::Finish::default())
        .await
        .unwrap();
    assert!(read_all(&remote, &empty, 0).await.is_empty());
    assert_eq!(remote.sha256(&empty).await.unwrap(), Some(sha256_hex(b"")));
}
twins!(resumes_a_write_at_an_offset => resume_in_process, resume_real);

#[tokio::test]
async fn a_file_name_with_quotes_is_hashed() {
    let target = Target::in_process(Default::default()).await;
    let remote = target.connect().await;
    let path = target.path("it's a \"name\" $(x)");
    let mut writer = remote.write_at(&path, 0).await.unwrap();
    writer.write(Bytes::from_static(b"quoted")).await.unwrap();
    writer
        .finish(ferry::remote::Finish::default())
        .await
        .unwrap();
    assert_eq!(
        remote.sha256(&path).await.unwrap(),
        Some(sha256_hex(b"quoted"))
    );
}

/// Small files in one exchange: the read-back reports exactly what landed (empty, one byte,
/// one request exactly, one past it, several requests), the time is set on the way, and an
/// existing longer file is cut to the new length.
async fn writes_small_files_whole(target: &Target) {
    let remote = target.connect().await;
    let how = ferry::remote::Finish {
        sync: false,
        mtime: Some(1_600_000_000),
    };
    for (i, size) in [0, 1, 4096, 261_120, 261_121, 700_000]
        .into_iter()
        .enumerate()
    {
        let name = format!("whole-{i}.bin");
        let data = random_bytes(size);
        let written = remote
            .write_whole(&target.path(&name), Bytes::from(data.clone()), how, true)
            .await
            .unwrap();
        assert_eq!(
            written.read_back,
            Some((size as u64, sha256_hex(&data))),
            "{size}"
        );
        assert!(written.dated);
        let disk = target.disk(&name);
        assert_eq!(std::fs::read(&disk).unwrap(), data);
        let mtime = std::fs::metadata(&disk).unwrap().modified().unwrap();
        assert_eq!(
            mtime
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            1_600_000_000
        );
    }
    let shorter = remote
        .write_whole(
            &target.path("whole-5.bin"),
            Bytes::from_static(b"ten bytes!"),
            how,
            false,
        )
        .await
        .unwrap();
    assert_eq!(shorter.read_back, None);
    assert_eq!(
        std::fs::read(target.disk("whole-5.bin")).unwrap(),
        b"ten bytes!"
    );
}
twins!(writes_small_files_whole => whole_in_process, whole_real);

/// Many small files at once on one connection: several exchanges of 64 files each run
/// together (more files open than OpenSSH's handle numbers russh-sftp can hold, were they all
/// open at once), every file lands whole, and a batch of renames puts them in place.
async fn writes_many_small_files_at_once(target: &Target) {
    let remote = target.connect().await;
    let how = ferry::remote::Finish::default();
    let mut expected = Vec::new();
    let exchanges = (0..6).map(|group| {
        let files: Vec<ferry::remote::WholeFile> = (0..64)
            .map(|i| ferry::remote::WholeFile {
                path: target.path(&format!("many-{group}-{i}.part")),
                data: Bytes::from(random_bytes(100 + i * 7)),
                how,
                read_back: true,
            })
            .collect();
        expected.extend(files.iter().map(|f| (f.path.clone(), f.data.clone())));
        remote.write_wholes(files)
    });
    let results: Vec<_> = futures::future::join_all(exchanges.collect::<Vec<_>>())
        .await
        .into_iter()
        .flatten()
        .collect();
    for ((_, data), result) in expected.iter().zip(&results) {
        let written = result.as_ref().expect("written");
        assert_eq!(
            written.read_back,
            Some((data.len() as u64, sha256_hex(data)))
        );
    }
    let pairs: Vec<(String, String)> = expected
        .iter()
        .map(|(path, _)| (path.clone(), path.trim_end_matches(".part").to_string()))
        .collect();
    for renamed in remote.rename_all(&pairs).await {
        renamed.expect("renamed");
    }
    for ((_, data), (_, to)) in expected.iter().zip(&pairs) {
        let name = to.rsplit('/').next().expect("name");
        assert_eq!(std::fs::read(target.disk(name)).unwrap(), data.as_ref());
    }
}
twins!(writes_many_small_files_at_once => many_wholes_in_process, many_wholes_real);
