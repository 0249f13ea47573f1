//! The SFTP packet loop of one channel. It stands in for `russh_sftp::server::run`, which
//! has no way to hold replies back (reply delay), to drop them (connection cut), or to
//! stop on an oversized packet (it keeps reading mid-packet). Requests are handled one
//! at a time in arrival order by the russh-sftp `Handler`, like OpenSSH's sftp-server;
//! replies go out from a separate task, each no earlier than its request's arrival plus
//! the reply delay, so pipelined requests see latency, not a slower server.

use std::sync::Arc;

use bytes::Bytes;
use russh::server::Msg;
use russh::{Channel, ChannelWriteHalf};
use russh_sftp::protocol::{Packet, Status, StatusCode};
use russh_sftp::server::{Handler, StatusReply};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::state::{ConnectionState, Shared};

/// Largest SFTP packet accepted, as in OpenSSH's sftp-server (`SFTP_MAX_MSG_LENGTH`).
pub(super) const MAX_PACKET_LEN: u32 = 256 * 1024;
/// Replies waiting for their send time; beyond this the request loop waits too.
const REPLY_QUEUE: usize = 256;

struct Reply {
    due: Option<Instant>,
    bytes: Bytes,
}

/// Serves SFTP on `channel` until the client closes it or the connection is cut.
pub(super) async fn serve<H>(
    channel: Channel<Msg>,
    mut handler: H,
    shared: Arc<Shared>,
    conn: Arc<ConnectionState>,
) where
    H: Handler + Send,
{
    let (mut read_half, write_half) = channel.split();
    let (replies, queue) = mpsc::channel(REPLY_QUEUE);
    let writer = tokio::spawn(send_replies(write_half, queue));
    let mut reader = read_half.make_reader();
    while let Some(mut request) = read_packet(&mut reader).await {
        let arrived = Instant::now();
        let response = match Packet::try_from(&mut request) {
            Ok(packet) => dispatch(&mut handler, packet).await,
            Err(_) => Packet::error(0, StatusCode::BadMessage),
        };
        if conn.is_killed() {
            break;
        }
        let Ok(bytes) = Bytes::try_from(response) else {
            break;
        };
        let due = shared.faults.reply_delay().map(|delay| arrived + delay);
        if replies.send(Reply { due, bytes }).await.is_err() {
            break;
        }
    }
    drop(replies);
    let _ = writer.await;
}

/// One packet body (type byte onwards); `None` at end of stream or on a bad length.
async fn read_packet(reader: &mut (impl AsyncRead + Unpin)) -> Option<Bytes> {
    let len = reader.read_u32().await.ok()?;
    if len == 0 || len > MAX_PACKET_LEN {
        return None;
    }
    let mut body = vec![0; len as usize];
    reader.read_exact(&mut body).await.ok()?;
    Some(Bytes::from(body))
}

async fn send_replies(channel: ChannelWriteHalf<Msg>, mut queue: mpsc::Receiver<Reply>) {
    while let Some(reply) = queue.recv().await {
        if let Some(due) = reply.due {
            tokio::time::sleep_until(due).await;
        }
        if channel.data_bytes(reply.bytes).await.is_err() {
            return;
        }
    }
    let _ = channel.eof().await;
    let _ = channel.close().await;
}

/// Calls the handler method for `packet`, turning its error into a status reply (what
/// russh-sftp's own loop does).
async fn dispatch<H: Handler + Send>(handler: &mut H, packet: Packet) -> Packet {
    let id = packet.get_request_id();
    let result: Result<Packet, H::Error> = match packet {
        Packet::Init(p) => handler.init(p.version, p.extensions).await.map(Into::into),
        Packet::Open(p) => {
            (handler.open(p.id, p.filename, p.pflags, p.attrs).await).map(Into::into)
        }
        Packet::Close(p) => handler.close(p.id, p.handle).await.map(Into::into),
        Packet::Read(p) => (handler.read(p.id, p.handle, p.offset, p.len).await).map(Into::into),
        Packet::Write(p) => (handler.write(p.id, p.handle, p.offset, p.data).await).map(Into::into),
        Packet::Lstat(p) => handler.lstat(p.id, p.path).await.map(Into::into),
        Packet::Fstat(p) => handler.fstat(p.id, p.handle).await.map(Into::into),
        Packet::SetStat(p) => handler.setstat(p.id, p.path, p.attrs).await.map(Into::into),
        Packet::FSetStat(p) => (handler.fsetstat(p.id, p.handle, p.attrs).await).map(Into::into),
        Packet::OpenDir(p) => handler.opendir(p.id, p.path).await.map(Into::into),
        Packet::ReadDir(p) => handler.readdir(p.id, p.handle).await.map(Into::into),
        Packet::Remove(p) => handler.remove(p.id, p.filename).await.map(Into::into),
        Packet::MkDir(p) => handler.mkdir(p.id, p.path, p.attrs).await.map(Into::into),
        Packet::RmDir(p) => handler.rmdir(p.id, p.path).await.map(Into::into),
        Packet::RealPath(p) => handler.realpath(p.id, p.path).await.map(Into::into),
        Packet::Stat(p) => handler.stat(p.id, p.path).await.map(Into::into),
        Packet::Rename(p) => (handler.rename(p.id, p.oldpath, p.newpath).await).map(Into::into),
        Packet::ReadLink(p) => handler.readlink(p.id, p.path).await.map(Into::into),
        Packet::Symlink(p) => {
            (handler.symlink(p.id, p.linkpath, p.targetpath).await).map(Into::into)
        }
        Packet::Extended(p) => handler.extended(p.id, p.request, p.data).await,
        _ => return Packet::error(id, StatusCode::BadMessage),
    };
    result.unwrap_or_else(|err| {
        let StatusReply {
            status_code,
            error_message,
            language_tag,
        } = err.into();
        Packet::Status(Status {
            id,
            status_code,
            error_message: error_message.unwrap_or_else(|| status_code.to_string()),
            language_tag: language_tag.unwrap_or_else(|| "en-US".to_owned()),
        })
    })
}
