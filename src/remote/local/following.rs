//! Hashing a local file while it is written in blocks (a segmented download): each `advance`
//! reads the newly complete prefix into the digest, so the copy is hashed when its last block
//! lands instead of in one more pass over the whole file.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::streams::READ_BLOCK;
use crate::remote::GrowingHash;

/// The digest so far and how far it reached; None once reading failed (the caller then hashes
/// the file whole).
struct Followed {
    file: File,
    hasher: Sha256,
    read: u64,
}

pub(super) struct LocalGrowingHash {
    state: Option<Followed>,
}

impl LocalGrowingHash {
    pub fn open(path: PathBuf) -> std::io::Result<LocalGrowingHash> {
        Ok(LocalGrowingHash {
            state: Some(Followed {
                file: File::open(path)?,
                hasher: Sha256::new(),
                read: 0,
            }),
        })
    }

    /// Reads on blocking threads up to `len`, or to the end when `len` is None.
    async fn read_to(&mut self, len: Option<u64>) {
        let Some(mut state) = self.state.take() else {
            return;
        };
        if len.is_some_and(|len| len <= state.read) {
            self.state = Some(state);
            return;
        }
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; READ_BLOCK];
            loop {
                let want = match len {
                    Some(len) if state.read >= len => return Some(state),
                    Some(len) => buf.len().min((len - state.read) as usize),
                    None => buf.len(),
                };
                match state.file.read(&mut buf[..want]) {
                    Ok(0) if len.is_none() => return Some(state),
                    // Shorter than announced: the digest cannot be trusted.
                    Ok(0) | Err(_) => return None,
                    Ok(n) => {
                        state.hasher.update(&buf[..n]);
                        state.read += n as u64;
                    }
                }
            }
        })
        .await;
        self.state = read.ok().flatten();
    }
}

#[async_trait]
impl GrowingHash for LocalGrowingHash {
    async fn advance(&mut self, len: u64) {
        self.read_to(Some(len)).await;
    }

    async fn finish(mut self: Box<Self>) -> Option<String> {
        self.read_to(None).await;
        let state = self.state.take()?;
        Some(hex::encode(state.hasher.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[tokio::test]
    async fn a_file_followed_while_it_grows_has_the_digest_of_the_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("part");
        let data: Vec<u8> = (0..3 * READ_BLOCK + 17)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut file = File::create(&path).expect("create");
        let mut hash = Box::new(LocalGrowingHash::open(path.clone()).expect("open"));
        for piece in data.chunks(READ_BLOCK / 2 + 3) {
            file.write_all(piece).expect("write");
            let written = file.metadata().expect("stat").len();
            hash.advance(written).await;
        }
        let expected = hex::encode(Sha256::digest(&data));
        assert_eq!(hash.finish().await, Some(expected));
    }

    #[tokio::test]
    async fn a_file_shorter_than_announced_gives_no_digest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("part");
        std::fs::write(&path, b"only this").expect("write");
        let mut hash = Box::new(LocalGrowingHash::open(path).expect("open"));
        hash.advance(1 << 20).await;
        assert_eq!(hash.finish().await, None);
    }
}
