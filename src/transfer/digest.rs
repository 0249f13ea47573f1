//! SHA-256 of the bytes a copy streams. Large files are hashed on a blocking thread fed through
//! a short channel, so hashing overlaps reading and writing instead of adding to them; small
//! ones are hashed in place, where a thread would cost more than it saves.

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Chunks waiting for the hashing thread; beyond this the copy waits (bounded memory).
const QUEUE: usize = 3;

pub enum StreamHash {
    Inline(Sha256),
    Thread {
        chunks: mpsc::Sender<Bytes>,
        hashed: JoinHandle<Sha256>,
    },
}

impl StreamHash {
    /// A hasher, on its own thread when `threaded`.
    pub fn new(threaded: bool) -> StreamHash {
        if !threaded {
            return StreamHash::Inline(Sha256::new());
        }
        let (chunks, mut queue) = mpsc::channel::<Bytes>(QUEUE);
        let hashed = tokio::task::spawn_blocking(move || {
            let mut hasher = Sha256::new();
            while let Some(chunk) = queue.blocking_recv() {
                hasher.update(&chunk);
            }
            hasher
        });
        StreamHash::Thread { chunks, hashed }
    }

    pub async fn update(&mut self, chunk: Bytes) {
        match self {
            StreamHash::Inline(hasher) => hasher.update(&chunk),
            // The thread ends only when the sender is dropped, so the send cannot fail.
            StreamHash::Thread { chunks, .. } => {
                let _ = chunks.send(chunk).await;
            }
        }
    }

    /// The digest, lowercase hex; None when the runtime stopped the thread (shutting down).
    pub async fn finish(self) -> Option<String> {
        let hasher = match self {
            StreamHash::Inline(hasher) => hasher,
            StreamHash::Thread { chunks, hashed } => {
                drop(chunks);
                hashed.await.ok()?
            }
        };
        Some(hex::encode(hasher.finalize()))
    }
}
