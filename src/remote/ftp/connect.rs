//! Opening an FTP session for a profile, all within the connect timeout: name lookup, TCP, TLS
//! (explicit `AUTH TLS` or implicit), login, binary mode, FEAT, UTF-8 and the login directory.
//! Also `fetch_certificate`, which only looks at a server's certificate.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use suppaftp::types::FileType;
use suppaftp::{FtpError, Status};
use tokio::net::TcpStream;

use super::super::{
    ConnectOptions, Credentials, Endpoint, ErrorKind, RemoteError, Result, SessionInfo, endpoint_of,
};
use super::cert::{self, CertificateInfo};
use super::errors::{self, Reply};
use super::session::{Connection, Features, Ftp, timed};
use super::tls::{Seen, Tls, Trust};
use crate::profile::{Profile, Protocol};
use crate::remote::trust::CertificateQuestion;

/// The shortest wait for a reply once logged in: `options.timeout` is about connecting, and a
/// server may take longer than that to delete a large file or finish writing one.
const MIN_REPLY_LIMIT: Duration = Duration::from_secs(30);
/// The password sent for anonymous logins, e-mail-like as RFC 1635 asks.
const ANONYMOUS_PASSWORD: &str = "ftp@example.com";

/// Everything needed to log in again.
pub(super) struct Dialer {
    pub profile: Profile,
    pub endpoint: Endpoint,
    credentials: Credentials,
    options: ConnectOptions,
    /// The certificate pin in force: the profile's, or one a person accepted meanwhile.
    pin: Mutex<Option<String>>,
    /// What the last refused TLS handshake showed.
    refused: Mutex<Option<Seen>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Plain values: a panic elsewhere cannot leave them half-written.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A new session and what to tell a person about it.
pub(super) struct Dialed {
    pub conn: Connection,
    pub info: SessionInfo,
}

impl Dialer {
    pub fn new(profile: &Profile, credentials: &Credentials, options: &ConnectOptions) -> Dialer {
        Dialer {
            profile: profile.clone(),
            endpoint: endpoint_of(profile),
            credentials: credentials.clone(),
            options: options.clone(),
            pin: Mutex::new(profile.cert_pin.clone()),
            refused: Mutex::new(None),
        }
    }

    /// How often an idle control connection is kept alive.
    pub fn keepalive(&self) -> Duration {
        self.options.keepalive
    }

    fn current_pin(&self) -> Option<String> {
        lock(&self.pin).clone()
    }

    /// Opens the control connection with TLS as the protocol wants, under the pin in force;
    /// a refused certificate is kept for [`Dialer::certificate_question`].
    async fn open_trusted(&self, addrs: &[SocketAddr]) -> Result<(Ftp, Option<Tls>)> {
        let profile = &self.profile;
        let tls = match profile.protocol {
            Protocol::Ftps | Protocol::FtpsImplicit => Some(new_tls(
                self.current_pin().as_deref(),
                Trust::Enforce,
                &self.endpoint,
            )?),
            _ => None,
        };
        match open_control(profile, &self.endpoint, addrs, tls.as_ref()).await {
            Ok(ftp) => Ok((ftp, tls)),
            Err(err) => {
                if let Some(tls) = &tls
                    && err.kind == ErrorKind::HostKey
                {
                    *lock(&self.refused) = Some(tls.seen());
                }
                Err(err)
            }
        }
    }

    /// The question to put about a certificate just refused: only one that neither verifies
    /// nor contradicts a pin (a changed pinned certificate is refused, not asked about).
    fn certificate_question(&self) -> Option<CertificateQuestion> {
        let seen = lock(&self.refused).take()?;
        if self.current_pin().is_some() || !seen.refused() {
            return None;
        }
        Some(CertificateQuestion {
            endpoint: self.endpoint.clone(),
            certificate: CertificateInfo::from_der(seen.leaf.as_deref()?, false),
            problem: seen.problem.unwrap_or_else(|| "it does not verify".into()),
        })
    }

    /// Connects and logs in. A certificate that does not verify is put to whoever answers
    /// trust questions (outside the connect timeout: a person takes time) and, if trusted,
    /// pinned for this dialer's connections.
    pub async fn dial(&self) -> Result<Dialed> {
        let first = self.dial_timed().await;
        if first.is_ok() {
            return first;
        }
        let Some(question) = self.certificate_question() else {
            return first;
        };
        if !self.options.prompt.trust_certificate(&question).await {
            return first;
        }
        *lock(&self.pin) = Some(question.certificate.sha256_hex);
        self.dial_timed().await
    }

    async fn dial_timed(&self) -> Result<Dialed> {
        let limit = self.options.timeout;
        match tokio::time::timeout(limit, self.dial_within()).await {
            Ok(dialed) => dialed,
            Err(_) => Err(RemoteError::new(
                ErrorKind::Timeout,
                &self.endpoint,
                format!("no session within {} s", limit.as_secs()),
            )),
        }
    }

    async fn dial_within(&self) -> Result<Dialed> {
        let profile = &self.profile;
        let addrs = resolve(profile, &self.endpoint).await?;
        let (mut ftp, tls) = self.open_trusted(&addrs).await?;
        // Names are bytes: sent and read back exactly (the greeting is decoded again too).
        ftp.set_encoding(super::wire::RawNames).await;
        let banner = ftp.get_welcome_msg().map(banner_text);
        let limit = self.options.timeout.max(MIN_REPLY_LIMIT);
        let mut conn = Connection::new(ftp, self.endpoint.clone(), limit);
        let auth_method = self.login(&mut conn).await?;
        prepare(&mut conn).await?;
        let seen = tls.as_ref().map(Tls::seen);
        let certificate = seen.as_ref().and_then(|seen| {
            let info = CertificateInfo::from_der(seen.leaf.as_deref()?, seen.verified);
            Some((info.subject.clone(), info.fingerprint()))
        });
        let security = match &seen {
            Some(seen) => seen.security(),
            None => "unencrypted".to_string(),
        };
        let info = SessionInfo {
            banner,
            host_key: None,
            certificate,
            auth_method,
            security: Some(security),
            hops: Vec::new(),
        };
        Ok(Dialed { conn, info })
    }

    /// USER/PASS; `anonymous` and `ftp` without a password log in anonymously.
    async fn login(&self, conn: &mut Connection) -> Result<String> {
        let user = self.profile.user.as_str();
        let anonymous = matches!(user.to_ascii_lowercase().as_str(), "anonymous" | "ftp");
        let (password, method) = match &self.credentials.password {
            Some(secret) => (secret.expose_secret(), "password"),
            None if anonymous => (ANONYMOUS_PASSWORD, "anonymous"),
            None => ("", "password (empty)"),
        };
        let logged_in = timed(conn.limit, conn.ftp.login(user, password)).await;
        let Err(err) = logged_in else {
            return Ok(method.to_string());
        };
        let failure = conn.fail(&err, "", ErrorKind::Auth);
        let detail = format!("user `{user}`: {}", failure.detail);
        Err(RemoteError {
            path: None,
            detail,
            ..failure
        })
    }
}

/// Binary mode, FEAT, UTF-8 names and the login directory, each reply timed for the round trip.
async fn prepare(conn: &mut Connection) -> Result<()> {
    let asked = Instant::now();
    let binary = timed(conn.limit, conn.ftp.transfer_type(FileType::Binary)).await;
    conn.check(binary, "", ErrorKind::Protocol)?;
    conn.timed_reply(asked.elapsed());
    let asked = Instant::now();
    match timed(conn.limit, conn.ftp.feat()).await {
        Ok(feat) => conn.features = Features::parse(&feat),
        // Old servers have no FEAT: nothing is offered beyond RFC 959.
        Err(err) if !errors::breaks_session(&err) => {}
        Err(err) => return Err(conn.fail(&err, "", ErrorKind::Protocol)),
    }
    conn.timed_reply(asked.elapsed());
    if conn.features.utf8 {
        // Servers answer 200 or 202 (always on); either way names are UTF-8.
        let utf8 = conn.command(
            "OPTS UTF8 ON",
            &[Status::CommandOk, Status::CommandNotImplemented],
        );
        if let Err(err) = utf8.await
            && errors::breaks_session(&err)
        {
            return Err(conn.fail(&err, "", ErrorKind::Protocol));
        }
    }
    let asked = Instant::now();
    match timed(conn.limit, conn.ftp.pwd()).await {
        Ok(home) if home.starts_with('/') => conn.home = home,
        Ok(_) => {}
        Err(err) if !errors::breaks_session(&err) => {}
        Err(err) => return Err(conn.fail(&err, "", ErrorKind::Protocol)),
    }
    conn.timed_reply(asked.elapsed());
    Ok(())
}

/// The greeting without its reply codes.
fn banner_text(welcome: &str) -> String {
    welcome
        .lines()
        .map(|line| {
            let line = line.trim_end();
            match line.get(..4) {
                Some(head) if head.starts_with("220") => line[4..].trim_start(),
                _ => line,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn new_tls(pin: Option<&str>, trust: Trust, endpoint: &Endpoint) -> Result<Tls> {
    Tls::new(pin, trust).map_err(|why| RemoteError::new(ErrorKind::Protocol, endpoint, why))
}

async fn resolve(profile: &Profile, endpoint: &Endpoint) -> Result<Vec<SocketAddr>> {
    let found = tokio::net::lookup_host((profile.host.as_str(), profile.port)).await;
    let addrs: Vec<SocketAddr> = match found {
        Ok(addrs) => addrs.collect(),
        Err(e) => return Err(RemoteError::new(ErrorKind::Dns, endpoint, e.to_string())),
    };
    if addrs.is_empty() {
        let detail = format!("`{}` has no address", profile.host);
        return Err(RemoteError::new(ErrorKind::Dns, endpoint, detail));
    }
    Ok(addrs)
}

/// The first address that accepts a TCP connection.
async fn tcp_connect(addrs: &[SocketAddr], endpoint: &Endpoint) -> Result<TcpStream> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    let err = last.unwrap_or_else(|| std::io::Error::from(std::io::ErrorKind::AddrNotAvailable));
    Err(connect_error(&err, endpoint))
}

fn connect_error(err: &std::io::Error, endpoint: &Endpoint) -> RemoteError {
    RemoteError::from_socket(err, endpoint)
}

/// The control connection up to the greeting, with TLS as the profile's protocol wants.
async fn open_control(
    profile: &Profile,
    endpoint: &Endpoint,
    addrs: &[SocketAddr],
    tls: Option<&Tls>,
) -> Result<Ftp> {
    let host = profile.host.as_str();
    let greeting_failed = |err: FtpError| errors::classify(&err, endpoint, ErrorKind::Protocol);
    let ftp = match (profile.protocol, tls) {
        (Protocol::FtpsImplicit, Some(tls)) => implicit(addrs, tls, profile, endpoint).await?,
        (Protocol::Ftps, Some(tls)) => {
            let tcp = tcp_connect(addrs, endpoint).await?;
            let plain = Ftp::connect_with_stream(tcp)
                .await
                .map_err(greeting_failed)?;
            plain
                .into_secure(tls.connector(), host)
                .await
                .map_err(|err| tls_failure(&err, tls, profile, endpoint))?
        }
        _ => {
            let tcp = tcp_connect(addrs, endpoint).await?;
            Ftp::connect_with_stream(tcp)
                .await
                .map_err(greeting_failed)?
        }
    };
    // Commands are one small write each: no reason to let Nagle hold them back.
    let _ = ftp.get_ref().await.set_nodelay(true);
    Ok(ftp)
}

/// TLS from the first byte, then `PBSZ 0` / `PROT P` so data connections are encrypted too.
async fn implicit(
    addrs: &[SocketAddr],
    tls: &Tls,
    profile: &Profile,
    endpoint: &Endpoint,
) -> Result<Ftp> {
    let host = profile.host.as_str();
    let profile_failure = |err: &FtpError| match err {
        FtpError::ConnectionError(io) => connect_error(io, endpoint),
        _ => errors::classify(err, endpoint, ErrorKind::Protocol),
    };
    let mut last = None;
    for addr in addrs {
        match Ftp::connect_secure_implicit(*addr, tls.connector(), host).await {
            Ok(mut ftp) => {
                for line in ["PBSZ 0", "PROT P"] {
                    let set = ftp.custom_command(line, &[Status::CommandOk]).await;
                    set.map_err(|err| errors::classify(&err, endpoint, ErrorKind::Protocol))?;
                }
                return Ok(ftp);
            }
            Err(FtpError::ConnectionError(io))
                if io.kind() == std::io::ErrorKind::ConnectionRefused =>
            {
                last = Some(FtpError::ConnectionError(io));
            }
            Err(err @ FtpError::SecureError(_)) => {
                return Err(tls_failure(&err, tls, profile, endpoint));
            }
            Err(err) => return Err(profile_failure(&err)),
        }
    }
    let err = last.unwrap_or(FtpError::BadResponse);
    Err(profile_failure(&err))
}

/// A failed switch to TLS: an untrusted certificate, a server without TLS, or a broken handshake.
fn tls_failure(err: &FtpError, tls: &Tls, profile: &Profile, endpoint: &Endpoint) -> RemoteError {
    let seen = tls.seen();
    if seen.refused() {
        return cert::untrusted(&seen, profile, endpoint);
    }
    if seen.leaf.is_none() && profile.protocol == Protocol::FtpsImplicit {
        let detail = format!("TLS handshake failed ({err}): is this an implicit FTPS port?");
        return RemoteError::new(ErrorKind::Protocol, endpoint, detail);
    }
    match Reply::of(err) {
        Some(reply) if reply.code >= 500 && reply.code != 530 => RemoteError::new(
            ErrorKind::Unsupported,
            endpoint,
            format!("the server does not offer FTPS (AUTH TLS: {reply})"),
        ),
        _ => errors::classify(err, endpoint, ErrorKind::Protocol),
    }
}

/// Connects, shows the server's certificate without trusting it, and disconnects.
pub async fn fetch_certificate(
    profile: &Profile,
    options: &ConnectOptions,
) -> Result<CertificateInfo> {
    let endpoint = endpoint_of(profile);
    if !matches!(profile.protocol, Protocol::Ftps | Protocol::FtpsImplicit) {
        let detail = format!(
            "`{}` uses {}, which has no certificate",
            profile.name, profile.protocol
        );
        return Err(RemoteError::new(ErrorKind::Unsupported, &endpoint, detail));
    }
    let look = async {
        let addrs = resolve(profile, &endpoint).await?;
        let tls = new_tls(None, Trust::Inspect, &endpoint)?;
        let mut ftp = open_control(profile, &endpoint, &addrs, Some(&tls)).await?;
        let _ = timed(Duration::from_secs(2), ftp.quit()).await;
        let seen = tls.seen();
        match seen.leaf.as_deref() {
            Some(der) => Ok(CertificateInfo::from_der(der, seen.verified)),
            None => Err(RemoteError::new(
                ErrorKind::Protocol,
                &endpoint,
                "the server presented no certificate",
            )),
        }
    };
    match tokio::time::timeout(options.timeout, look).await {
        Ok(result) => result,
        Err(_) => Err(RemoteError::new(
            ErrorKind::Timeout,
            &endpoint,
            format!("no answer within {} s", options.timeout.as_secs()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners_lose_their_reply_codes() {
        assert_eq!(
            banner_text("220 ferry test FTP server"),
            "ferry test FTP server"
        );
        assert_eq!(
            banner_text("220-Welcome\r\n220-to the archive\r\n220 (vsFTPd 3.0.3)"),
            "Welcome\nto the archive\n(vsFTPd 3.0.3)"
        );
    }
}
