//! One logged-in FTP control connection: what the server offers (FEAT), how data connections are
//! opened (EPSV first, PASV once EPSV proves not to work), time limits on every reply, and whether
//! the connection is still in a state where the next command can be sent.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use suppaftp::tokio::{AsyncRustlsStream, ImplAsyncFtpStream, TransferStream};
use suppaftp::{FtpError, FtpResult, Mode, Status};
use tokio::io::AsyncReadExt;

use super::super::{Endpoint, ErrorKind, RemoteError, Result};
use super::errors::{self, Reply};

pub(super) type Ftp = ImplAsyncFtpStream<AsyncRustlsStream>;
pub(super) type Data = TransferStream<AsyncRustlsStream>;

/// What the server listed in its FEAT reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Features {
    /// MLST and MLSD (RFC 3659 advertises both as `MLST`).
    pub mlst: bool,
    pub rest_stream: bool,
    pub size: bool,
    pub mdtm: bool,
    pub mfmt: bool,
    pub utf8: bool,
    pub epsv: bool,
    pub avbl: bool,
    /// `HASH` offers SHA-256; `Some(true)` when it is already the selected algorithm.
    pub sha256: Option<bool>,
}

impl Features {
    pub fn parse(feat: &HashMap<String, Option<String>>) -> Features {
        let mut features = Features::default();
        for (name, value) in feat {
            let value = value.as_deref().unwrap_or("");
            match name.to_ascii_uppercase().as_str() {
                "MLST" | "MLSD" => features.mlst = true,
                "REST" => features.rest_stream = value.eq_ignore_ascii_case("STREAM"),
                "SIZE" => features.size = true,
                "MDTM" => features.mdtm = true,
                "MFMT" => features.mfmt = true,
                "UTF8" => features.utf8 = true,
                "EPSV" => features.epsv = true,
                "AVBL" => features.avbl = true,
                "HASH" => {
                    features.sha256 = value
                        .split(';')
                        .map(str::trim)
                        .find(|algo| algo.trim_end_matches('*').eq_ignore_ascii_case("SHA-256"))
                        .map(|algo| algo.ends_with('*'))
                }
                _ => {}
            }
        }
        features
    }
}

/// How the next data connection is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Passive {
    /// EPSV; `proven` once a data connection opened that way.
    Extended { proven: bool },
    /// PASV, after EPSV failed.
    Classic,
}

/// A logged-in control connection.
pub(super) struct Connection {
    pub ftp: Ftp,
    pub features: Features,
    /// The login directory (PWD), absolute.
    pub home: String,
    pub endpoint: Endpoint,
    /// The longest wait for one reply or for progress on a data connection.
    pub limit: Duration,
    /// The control connection can no longer be trusted to be in step with the server.
    pub broken: bool,
    pub last_used: Instant,
    passive: Passive,
    /// `LIST -a` was refused, so plain `LIST` is used.
    pub list_without_a: bool,
    /// `OPTS HASH SHA-256` is in force.
    pub hash_selected: bool,
    /// The shortest reply time seen at login: the link's round trip, give or take the server.
    pub round_trip: Option<Duration>,
    /// A `REST` offset was sent and may still be in force on the server (see `open_data`).
    rest_sent: bool,
}

impl Connection {
    pub fn new(mut ftp: Ftp, endpoint: Endpoint, limit: Duration) -> Connection {
        ftp.set_mode(Mode::ExtendedPassive);
        // A server behind NAT announces its private address in PASV; the control connection's
        // peer is the one that works (and the only one a data connection should go to).
        ftp.set_passive_nat_workaround(true);
        let ftp = ftp.passive_stream_builder(move |addr| Box::pin(open_data(addr, limit)));
        Connection {
            ftp,
            features: Features::default(),
            home: "/".into(),
            endpoint,
            limit,
            broken: false,
            last_used: Instant::now(),
            passive: Passive::Extended { proven: false },
            list_without_a: false,
            hash_selected: false,
            round_trip: None,
            rest_sent: false,
        }
    }

    /// Notes that a one-reply command took `took`: the round trip is the shortest such time
    /// (one reply delayed by a busy server or machine must not make the link look long).
    pub fn timed_reply(&mut self, took: Duration) {
        self.round_trip = Some(shortest(self.round_trip, took));
    }

    /// Turns a failure into a classified error about `path`, noting a broken session.
    pub fn fail(&mut self, err: &FtpError, path: &str, ambiguous: ErrorKind) -> RemoteError {
        if errors::breaks_session(err) {
            self.broken = true;
        }
        errors::classify(err, &self.endpoint, ambiguous).at(path)
    }

    pub fn check<T>(
        &mut self,
        result: FtpResult<T>,
        path: &str,
        ambiguous: ErrorKind,
    ) -> Result<T> {
        result.map_err(|err| self.fail(&err, path, ambiguous))
    }

    /// A command on the control connection that expects one of `codes`.
    pub async fn command(&mut self, line: &str, codes: &[Status]) -> FtpResult<Reply> {
        let response = timed(self.limit, self.ftp.custom_command(line, codes)).await?;
        Ok(Reply::parse(&response.body).unwrap_or(Reply {
            code: response.status.code(),
            text: String::new(),
        }))
    }

    /// Opens a data connection for `command` (after `REST offset` when `offset > 0`).
    pub async fn open_data(&mut self, command: &str, offset: u64) -> FtpResult<Data> {
        let moves_file = command.starts_with("RETR ") || command.starts_with("STOR ");
        if offset == 0 && self.rest_sent && moves_file {
            // Some servers (libunftp) keep the offset of a transfer that was cut short for the
            // next one, against RFC 3659: a transfer from the start says so.
            match self.command("REST 0", &[Status::RequestFilePending]).await {
                Ok(_) => self.rest_sent = false,
                Err(err) if errors::breaks_session(&err) => return Err(err),
                Err(_) => {}
            }
        }
        self.rest_sent |= offset > 0;
        loop {
            let offset = usize::try_from(offset).map_err(|_| FtpError::BadResponse)?;
            self.ftp.resume_transfer(offset).await?;
            let opening = self
                .ftp
                .custom_data_command(command, &[Status::AboutToSend, Status::AlreadyOpen]);
            let attempt = timed(self.limit, opening).await;
            if self.retry_with_pasv(&attempt) {
                continue;
            }
            return attempt.map(|(_, data)| data);
        }
    }

    /// Runs a listing command and returns its lines (CR LF removed, empty lines skipped).
    pub async fn lines(&mut self, command: &str) -> FtpResult<Vec<String>> {
        let mut data = self.open_data(command, 0).await?;
        let mut raw = Vec::new();
        let mut block = vec![0u8; 64 * 1024];
        loop {
            // The limit is on progress, not on the whole listing: 100k entries take a while.
            let n = match timed(self.limit, async {
                let read = data.read(&mut block).await;
                read.map_err(|e| errors::data_channel(e, "the listing broke off".into()))
            })
            .await
            {
                Ok(n) => n,
                Err(err) => {
                    // The reply says why the listing broke off, when the server sent one.
                    let reply = timed(self.limit, data.finish()).await;
                    return Err(reply.err().unwrap_or(err));
                }
            };
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&block[..n]);
        }
        timed(self.limit, data.finish()).await?;
        Ok(split_lines(&raw))
    }

    /// EPSV is tried until it works once; a refusal or an unreachable EPSV port switches this
    /// connection to PASV for good. Returns true when the command should be tried again.
    fn retry_with_pasv<T>(&mut self, attempt: &FtpResult<T>) -> bool {
        if self.passive != (Passive::Extended { proven: false }) {
            return false;
        }
        match attempt {
            Ok(_) => {
                self.passive = Passive::Extended { proven: true };
                false
            }
            Err(err) if epsv_refused(err) => {
                tracing::debug!(endpoint = %self.endpoint, "EPSV failed ({err}); using PASV");
                self.passive = Passive::Classic;
                self.ftp.set_mode(Mode::Passive);
                true
            }
            Err(_) => false,
        }
    }

    /// NOOP, to keep an idle control connection (and the NAT entries on its way) alive.
    pub async fn noop(&mut self) {
        let result = timed(self.limit, self.ftp.noop()).await;
        if let Err(err) = result {
            let _ = self.fail(&err, "", ErrorKind::ConnectionLost);
        }
        self.last_used = Instant::now();
    }

    /// QUIT, without waiting long for a goodbye.
    pub async fn quit(&mut self) {
        let _ = timed(Duration::from_secs(2), self.ftp.quit()).await;
    }
}

/// The shorter of a known time and a new one.
fn shortest(known: Option<Duration>, took: Duration) -> Duration {
    known.map_or(took, |known| known.min(took))
}

/// Whether an attempt failed because of EPSV itself: the command was refused, or the port it
/// named could not be reached.
fn epsv_refused(err: &FtpError) -> bool {
    match err {
        FtpError::ConnectionError(io) => errors::is_data_channel_error(io),
        _ => Reply::of(err).is_some_and(|r| matches!(r.code, 500 | 501 | 502 | 504)),
    }
}

/// Connects a data connection within `limit`; failures are marked as data-connection failures.
async fn open_data(
    addr: std::net::SocketAddr,
    limit: Duration,
) -> FtpResult<tokio::net::TcpStream> {
    let what = format!("cannot open the data connection to {addr}");
    match tokio::time::timeout(limit, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(errors::data_channel(e, what)),
        Err(_) => {
            let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out");
            Err(errors::data_channel(e, what))
        }
    }
}

/// Waits at most `limit` for `work`; running out is a timeout that leaves the session unusable.
pub(super) async fn timed<T>(
    limit: Duration,
    work: impl Future<Output = FtpResult<T>>,
) -> FtpResult<T> {
    match tokio::time::timeout(limit, work).await {
        Ok(result) => result,
        Err(_) => Err(errors::elapsed(limit)),
    }
}

/// Listing lines: CR LF or LF ends a line; names may be any bytes, kept exactly (`text`).
fn split_lines(raw: &[u8]) -> Vec<String> {
    raw.split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.is_empty())
        .map(super::wire::decode)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feat_lines_become_features() {
        let feat: HashMap<String, Option<String>> = [
            ("MLST", Some("type*;size*;modify*;")),
            ("REST", Some("STREAM")),
            ("SIZE", None),
            ("UTF8", None),
            ("EPSV", None),
            ("HASH", Some("SHA-1;SHA-256*;MD5")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
        .collect();
        let features = Features::parse(&feat);
        assert!(features.mlst && features.rest_stream && features.size && features.utf8);
        assert!(!features.mfmt && !features.mdtm && !features.avbl);
        assert_eq!(features.sha256, Some(true));
        let md5_only: HashMap<String, Option<String>> =
            [("HASH".to_string(), Some("MD5*".to_string()))].into();
        assert_eq!(Features::parse(&md5_only).sha256, None);
    }

    #[test]
    fn one_slow_reply_does_not_make_the_link_look_long() {
        let ms = Duration::from_millis;
        let seen = [ms(21), ms(350), ms(20)]
            .into_iter()
            .fold(None, |known, took| Some(shortest(known, took)));
        assert_eq!(seen, Some(ms(20)));
    }

    #[test]
    fn listing_lines_keep_names_intact() {
        let raw = b"type=file; a b \r\n\r\ntype=dir; \xffx\nlast";
        assert_eq!(
            split_lines(raw),
            vec!["type=file; a b ", "type=dir; \u{10ffff}x", "last"]
        );
    }
}
