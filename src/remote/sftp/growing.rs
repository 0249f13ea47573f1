//! Hashing an upload on the server while it is written, so that verifying a large file costs
//! no extra pass at the end. A shell on the server reads the file in 1 MiB blocks up to the
//! length we announce (only bytes the server has confirmed) and pipes them into the hashing
//! tool; `end` makes it read the rest and print the digest.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use russh::Channel;
use russh::client::Msg;

use super::exec::{TOOLS, digest_of, path_argument, shell_quote, start};
use super::session::Connection;
use crate::remote::GrowingHash;

/// The unit the server reads in.
const BLOCK_SHIFT: u32 = 20;
/// Blocks announced at a time: each announcement starts one `dd` on the server.
const STEP: u64 = 8;

pub(super) struct SftpGrowingHash {
    conn: Arc<Connection>,
    channel: Option<Channel<Msg>>,
    /// Blocks announced so far.
    announced: u64,
}

/// Starts the follower for `path`, or None when the server cannot hash.
pub(super) async fn start_for(conn: &Arc<Connection>, path: &str) -> Option<SftpGrowingHash> {
    let tool = match conn.hash_tool.load(Ordering::Relaxed) {
        // Not tried yet: OpenSSL, else coreutils (OpenSSL, when missing, reads nothing).
        0 => format!("{} 2>/dev/null || {}", TOOLS[0], TOOLS[1]),
        index => TOOLS.get(index)?.to_string(),
    };
    let command = format!(
        "sh -c {} ferry-hash {}",
        shell_quote(&script(&tool)),
        path_argument(path)
    );
    let channel = start(conn, &command).await.ok()??;
    Some(SftpGrowingHash {
        conn: conn.clone(),
        channel: Some(channel),
        announced: 0,
    })
}

/// Reads `$1` block by block as lengths arrive on standard input, into the hashing tool.
fn script(tool: &str) -> String {
    let block = 1u64 << BLOCK_SHIFT;
    format!(
        "f=$1; i=0; while read j; do \
         if [ \"$j\" = end ]; then dd if=\"$f\" bs={block} skip=$i 2>/dev/null; break; fi; \
         dd if=\"$f\" bs={block} skip=$i count=$((j-i)) 2>/dev/null; i=$j; \
         done | {{ {tool}; }}"
    )
}

impl SftpGrowingHash {
    async fn send(&mut self, line: String) {
        let sent = match &self.channel {
            Some(channel) => channel.data(line.as_bytes()).await.is_ok(),
            None => return,
        };
        if !sent {
            self.channel = None;
        }
    }
}

#[async_trait]
impl GrowingHash for SftpGrowingHash {
    async fn advance(&mut self, len: u64) {
        let blocks = len >> BLOCK_SHIFT;
        if blocks >= self.announced + STEP {
            self.announced = blocks;
            self.send(format!("{blocks}\n")).await;
        }
    }

    async fn finish(mut self: Box<Self>) -> Option<String> {
        self.send("end\n".to_string()).await;
        let channel = self.channel.take()?;
        channel.eof().await.ok()?;
        digest_of(&self.conn, channel).await
    }
}

impl Drop for SftpGrowingHash {
    /// An abandoned follower (a failed or cancelled copy) ends its shell: at the end of its
    /// input the loop stops, and closing the channel reaps the rest.
    fn drop(&mut self) {
        if let Some(channel) = self.channel.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = channel.eof().await;
                let _ = channel.close().await;
            });
        }
    }
}
