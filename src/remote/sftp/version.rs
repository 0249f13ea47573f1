//! Starting the `sftp` subsystem and exchanging versions in one round trip: the version
//! request goes out right behind the subsystem request instead of after its answer, and both
//! answers are read from the channel (in whatever order they come) before it becomes the
//! SFTP session's stream.

use bytes::{Buf, Bytes, BytesMut};
use russh::ChannelMsg;
use russh::client::Msg;
use russh_sftp::protocol::{Init, Packet, Version};

use super::errors::ssh_error;
use crate::remote::{Endpoint, ErrorKind, RemoteError, Result};

/// Asks for the `sftp` subsystem on `channel` and sends the version request with it; the
/// server's version once the subsystem is confirmed.
pub(super) async fn start(
    channel: &mut russh::Channel<Msg>,
    endpoint: &Endpoint,
) -> Result<Version> {
    channel
        .request_subsystem(true, "sftp")
        .await
        .map_err(|err| ssh_error(&err, endpoint))?;
    let init = Bytes::try_from(Packet::from(Init::default()))
        .map_err(|err| protocol(endpoint, format!("encoding the version request: {err}")))?;
    channel
        .data(&init[..])
        .await
        .map_err(|err| ssh_error(&err, endpoint))?;
    let mut confirmed = false;
    let mut received = BytesMut::new();
    loop {
        if confirmed && let Some(version) = complete_packet(&mut received) {
            return match Packet::try_from(&mut version.clone()) {
                Ok(Packet::Version(version)) => Ok(version),
                Ok(_) => Err(protocol(
                    endpoint,
                    "the server's first SFTP reply was not its version".into(),
                )),
                Err(err) => Err(protocol(
                    endpoint,
                    format!("the server's SFTP version: {err}"),
                )),
            };
        }
        match channel.wait().await {
            Some(ChannelMsg::Success) => confirmed = true,
            Some(ChannelMsg::Failure) => {
                return Err(RemoteError::new(
                    ErrorKind::Unsupported,
                    endpoint,
                    "the server has no sftp subsystem",
                ));
            }
            Some(ChannelMsg::Data { data }) => received.extend_from_slice(&data),
            Some(ChannelMsg::Close | ChannelMsg::Eof) | None => {
                return Err(RemoteError::new(
                    ErrorKind::ConnectionLost,
                    endpoint,
                    "the server closed the sftp channel at once",
                ));
            }
            Some(_) => {}
        }
    }
}

/// The body (type onwards) of the first whole length-prefixed packet in `received`, taken
/// out of it.
fn complete_packet(received: &mut BytesMut) -> Option<Bytes> {
    let len = u32::from_be_bytes(received.get(..4)?.try_into().ok()?) as usize;
    if received.len() < 4 + len {
        return None;
    }
    received.advance(4);
    Some(received.split_to(len).freeze())
}

fn protocol(endpoint: &Endpoint, detail: String) -> RemoteError {
    RemoteError::new(ErrorKind::Protocol, endpoint, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packet_is_taken_once_it_is_whole() {
        let mut received = BytesMut::from(&[0u8, 0, 0, 5, 2, 0, 0][..]);
        assert_eq!(complete_packet(&mut received), None);
        received.extend_from_slice(&[0, 3, 9]);
        assert_eq!(
            complete_packet(&mut received).as_deref(),
            Some(&[2u8, 0, 0, 0, 3][..])
        );
        assert_eq!(&received[..], &[9u8][..], "what follows stays");
    }
}
