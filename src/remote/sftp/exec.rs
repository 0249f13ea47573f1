//! Hashing a file on the server through an SSH exec channel on the same connection: OpenSSL
//! when the server has it (it uses the CPU's SHA instructions: about three times coreutils'
//! speed), else `sha256sum`. A server with neither (or without exec) gives `None`, not an error;
//! once the server refuses exec (or the profile forbids it) the connection sends no more.

use std::sync::atomic::Ordering;

use russh::ChannelMsg;

use super::errors::ssh_error;
use super::session::Connection;
use crate::remote::{ErrorKind, RemoteError, Result};

/// Exit status a POSIX shell gives a command it cannot find.
const NOT_FOUND_STATUS: u32 = 127;
/// Enough of stderr to classify a failure; a misbehaving server cannot grow it further.
const MAX_OUTPUT: usize = 64 * 1024;

/// What the command printed and how it ended.
#[derive(Default)]
struct Output {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: Option<u32>,
}

/// Hashing commands, fastest first; each prints the hex digest at the start of its line.
pub(super) const TOOLS: [&str; 2] = ["openssl dgst -sha256 -r", "sha256sum --"];

/// What one hashing command gave.
enum Attempt {
    Hashed(String),
    /// The command is not on the server.
    Missing,
    /// The server will not run commands, or answered something else.
    Unavailable,
}

/// The SHA-256 of `path` as the server computes it, or None when it cannot. The first command
/// that works is remembered for the connection.
pub(super) async fn sha256(conn: &Connection, path: &str) -> Result<Option<String>> {
    if !conn.exec_works() {
        return Ok(None);
    }
    let argument = path_argument(path);
    let first = conn.hash_tool.load(Ordering::Relaxed);
    for (index, tool) in TOOLS.iter().enumerate().skip(first) {
        match hash_with(conn, tool, &argument, path).await? {
            Attempt::Hashed(hash) => {
                conn.hash_tool.store(index, Ordering::Relaxed);
                return Ok(Some(hash));
            }
            Attempt::Missing => continue,
            Attempt::Unavailable => {
                conn.exec_refused();
                return Ok(None);
            }
        }
    }
    conn.hash_tool.store(TOOLS.len(), Ordering::Relaxed);
    Ok(None)
}

async fn hash_with(conn: &Connection, tool: &str, argument: &str, path: &str) -> Result<Attempt> {
    let Some(output) = run(conn, &format!("{tool} {argument}")).await? else {
        return Ok(Attempt::Unavailable);
    };
    if let Some(hash) = parse_digest(&output.stdout) {
        return Ok(Attempt::Hashed(hash));
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stderr = stderr.trim();
    if output.status == Some(NOT_FOUND_STATUS) || stderr.contains("not found") {
        return Ok(Attempt::Missing);
    }
    match super::errors::kind_from_message(stderr) {
        Some(kind @ (ErrorKind::NotFound | ErrorKind::Permission)) => {
            Err(RemoteError::new(kind, &conn.endpoint, "hashing on the server").at(path))
        }
        // Exec replaced (a ForceCommand), or an unexpected answer.
        _ => Ok(Attempt::Unavailable),
    }
}

/// Runs `command` and collects its output; None when the server will not run commands.
async fn run(conn: &Connection, command: &str) -> Result<Option<Output>> {
    let Some(channel) = start(conn, command).await? else {
        return Ok(None);
    };
    // Nothing to send: an end of input also stops a forced command that would read it.
    channel
        .eof()
        .await
        .map_err(|err| ssh_error(&err, &conn.endpoint))?;
    collect(conn, channel).await
}

/// Opens a channel and starts `command` in it; None when the server will not open one.
pub(super) async fn start(
    conn: &Connection,
    command: &str,
) -> Result<Option<russh::Channel<russh::client::Msg>>> {
    if !conn.exec_works() {
        return Ok(None);
    }
    let channel = match conn.ssh.channel_open_session().await {
        Ok(channel) => channel,
        Err(russh::Error::ChannelOpenFailure(_)) => {
            conn.exec_refused();
            return Ok(None);
        }
        Err(err) => return Err(ssh_error(&err, &conn.endpoint)),
    };
    channel
        .exec(true, command)
        .await
        .map_err(|err| ssh_error(&err, &conn.endpoint))?;
    Ok(Some(channel))
}

/// Reads a started command's output until it closes; None when the server refused it.
async fn collect(
    conn: &Connection,
    mut channel: russh::Channel<russh::client::Msg>,
) -> Result<Option<Output>> {
    let mut output = Output::default();
    while let Some(message) = channel.wait().await {
        match message {
            ChannelMsg::Failure => {
                conn.exec_refused();
                return Ok(None);
            }
            ChannelMsg::Data { data } => append(&mut output.stdout, &data),
            ChannelMsg::ExtendedData { data, .. } => append(&mut output.stderr, &data),
            ChannelMsg::ExitStatus { exit_status } => output.status = Some(exit_status),
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    if output.status.is_none() && conn.ssh.is_closed() {
        return Err(RemoteError::new(
            ErrorKind::ConnectionLost,
            &conn.endpoint,
            "the connection closed while the server hashed a file",
        ));
    }
    Ok(Some(output))
}

/// The digest a finished command printed, if it printed one.
pub(super) async fn digest_of(
    conn: &Connection,
    channel: russh::Channel<russh::client::Msg>,
) -> Option<String> {
    let output = collect(conn, channel).await.ok()??;
    parse_digest(&output.stdout)
}

fn append(buffer: &mut Vec<u8>, data: &[u8]) {
    let room = MAX_OUTPUT.saturating_sub(buffer.len());
    buffer.extend_from_slice(&data[..data.len().min(room)]);
}

/// The digest at the start of the line (after the `\` sha256sum adds for odd names; OpenSSL's
/// `-r` form is `digest *name`).
fn parse_digest(stdout: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(stdout).ok()?;
    let line = text.lines().next()?;
    let line = line.strip_prefix('\\').unwrap_or(line);
    let digest = line.get(..64)?;
    let well_formed = digest.bytes().all(|b| b.is_ascii_hexdigit())
        && line[64..].chars().next().is_none_or(|c| c == ' ');
    well_formed.then(|| digest.to_ascii_lowercase())
}

/// `path` as one shell word that cannot read as an option.
pub(super) fn path_argument(path: &str) -> String {
    if path.starts_with('-') {
        shell_quote(&format!("./{path}"))
    } else {
        shell_quote(path)
    }
}

/// `'it'\''s'`: one word for a POSIX shell whatever the name holds.
pub(super) fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_for_the_shell() {
        assert_eq!(shell_quote("/srv/a b"), "'/srv/a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }

    #[test]
    fn digests_are_read_from_coreutils_lines() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            parse_digest(format!("{hex}  /srv/empty\n").as_bytes()),
            Some(hex.to_string())
        );
        assert_eq!(
            parse_digest(format!("\\{hex}  /srv/a\\nb\n").as_bytes()),
            Some(hex.to_string())
        );
        assert_eq!(
            parse_digest(b"sha256sum: x: No such file or directory\n"),
            None
        );
        assert_eq!(
            parse_digest(format!("{hex} */srv/a b\n").as_bytes()),
            Some(hex.to_string()),
            "openssl dgst -r"
        );
        assert_eq!(parse_digest(b""), None);
    }
}
