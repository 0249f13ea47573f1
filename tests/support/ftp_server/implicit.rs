//! Implicit FTPS, which libunftp 0.24 does not offer: a TLS-terminating forwarder in front of a
//! plain libunftp listener. The client speaks TLS from the first byte on the control connection;
//! the forwarder answers PBSZ/PROT/AUTH itself, advertises PBSZ and PROT in FEAT, and rewrites
//! PASV/EPSV replies to data ports of its own that terminate TLS (when PROT P is in force) and
//! relay to libunftp's data ports. Everything else passes through unchanged.

use super::passive::PassivePorts;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const DATA_ACCEPT_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_LINE: u64 = 8 * 1024;

pub(super) struct Forwarder {
    pub acceptor: TlsAcceptor,
    /// The plain libunftp listener behind the forwarder.
    pub upstream: SocketAddr,
    pub passive: PassivePorts,
}

/// Accepts implicit-TLS control connections until the task is aborted; aborting it ends every
/// session and data relay it started.
pub(super) async fn serve(listener: TcpListener, forwarder: Arc<Forwarder>) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((client, _)) = accepted {
                    let forwarder = forwarder.clone();
                    sessions.spawn(async move {
                        let _ = session(client, forwarder).await;
                    });
                }
            }
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

/// Per control connection: whether data connections use TLS, and whether a FEAT reply is due.
#[derive(Default)]
struct SessionState {
    data_tls: AtomicBool,
    feat_pending: AtomicBool,
}

type Shared<W> = Arc<Mutex<W>>;

async fn session(client: TcpStream, forwarder: Arc<Forwarder>) -> io::Result<()> {
    let tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, forwarder.acceptor.accept(client))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
    let upstream = TcpStream::connect(forwarder.upstream).await?;
    let (client_read, client_write) = tokio::io::split(tls);
    let client_write = Arc::new(Mutex::new(client_write));
    let (upstream_read, upstream_write) = upstream.into_split();
    let state = Arc::new(SessionState::default());
    let mut relays = JoinSet::new();
    tokio::select! {
        _ = commands(client_read, upstream_write, client_write.clone(), state.clone()) => {}
        _ = replies(upstream_read, client_write.clone(), state, &forwarder, &mut relays) => {}
    }
    let _ = client_write.lock().await.shutdown().await;
    // As with libunftp's own data connections, a transfer under way outlives its control
    // connection (a cut session must still deliver exactly the bytes sent before the cut).
    let drain = async { while relays.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(DATA_ACCEPT_TIMEOUT, drain).await;
    Ok(())
}

/// Client → server: answers the TLS commands itself and forwards the rest.
async fn commands<R, W, C>(
    client: R,
    mut upstream: W,
    client_write: Shared<C>,
    state: Arc<SessionState>,
) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
    C: AsyncWrite + Unpin,
{
    let mut client = BufReader::new(client);
    let mut line = Vec::new();
    loop {
        line.clear();
        if (&mut client)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .await?
            == 0
        {
            return upstream.shutdown().await;
        }
        let text = String::from_utf8_lossy(&line);
        let mut words = text.split_whitespace();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        let arg = words.next().unwrap_or("").to_ascii_uppercase();
        let local_reply = match verb.as_str() {
            "PBSZ" => Some("200 PBSZ=0\r\n"),
            "PROT" if arg == "P" => {
                state.data_tls.store(true, Ordering::SeqCst);
                Some("200 Protection level set to Private\r\n")
            }
            "PROT" if arg == "C" => {
                state.data_tls.store(false, Ordering::SeqCst);
                Some("200 Protection level set to Clear\r\n")
            }
            "PROT" => Some("504 Protection level not supported\r\n"),
            "AUTH" => Some("534 Already using TLS (implicit FTPS)\r\n"),
            "CCC" => Some("534 CCC not supported\r\n"),
            _ => None,
        };
        match local_reply {
            Some(reply) => {
                client_write
                    .lock()
                    .await
                    .write_all(reply.as_bytes())
                    .await?
            }
            None => {
                if verb == "FEAT" {
                    state.feat_pending.store(true, Ordering::SeqCst);
                }
                upstream.write_all(&line).await?;
            }
        }
    }
}

/// Server → client: rewrites passive-mode replies and completes FEAT, passes the rest.
async fn replies<R, C>(
    upstream: R,
    client_write: Shared<C>,
    state: Arc<SessionState>,
    forwarder: &Forwarder,
    relays: &mut JoinSet<()>,
) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    C: AsyncWrite + Unpin,
{
    let mut upstream = BufReader::new(upstream);
    let mut line = Vec::new();
    let mut in_feat = false;
    loop {
        line.clear();
        if (&mut upstream)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .await?
            == 0
        {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line).into_owned();
        let mut out = text.clone();
        if text.starts_with("211-") && state.feat_pending.swap(false, Ordering::SeqCst) {
            in_feat = true;
        } else if in_feat && text.starts_with("211 ") {
            in_feat = false;
            out = format!(" PBSZ\r\n PROT\r\n{text}");
        } else if let Some(port) = passive_port(&text) {
            let (public_port, relay) = open_relay(port, state.clone(), forwarder).await?;
            relays.spawn(relay);
            out = if text.starts_with("227") {
                let (hi, lo) = (public_port >> 8, public_port & 0xff);
                format!("227 Entering Passive Mode (127,0,0,1,{hi},{lo})\r\n")
            } else {
                format!("229 Entering Extended Passive Mode (|||{public_port}|)\r\n")
            };
        }
        client_write.lock().await.write_all(out.as_bytes()).await?;
    }
}

/// The data port in a `227 …(h1,h2,h3,h4,p1,p2)` or `229 …(|||port|)` reply.
fn passive_port(reply: &str) -> Option<u16> {
    let inner = reply.get(reply.find('(')? + 1..reply.rfind(')')?)?;
    if reply.starts_with("227 ") {
        let numbers: Vec<u16> = inner
            .split(',')
            .map(|n| n.trim().parse().ok())
            .collect::<Option<_>>()?;
        let [.., hi, lo] = numbers.as_slice() else {
            return None;
        };
        Some(hi * 256 + lo)
    } else if reply.starts_with("229 ") {
        inner.trim_matches('|').parse().ok()
    } else {
        None
    }
}

/// Listens on a public data port; the first client connection is (per PROT) TLS-terminated and
/// spliced to libunftp's data port.
async fn open_relay(
    upstream_port: u16,
    state: Arc<SessionState>,
    forwarder: &Forwarder,
) -> io::Result<(u16, impl Future<Output = ()> + Send + 'static)> {
    let listener = forwarder.passive.bind_listener().await?;
    let public_port = listener.local_addr()?.port();
    let upstream = SocketAddr::new(forwarder.upstream.ip(), upstream_port);
    let acceptor = forwarder.acceptor.clone();
    let relay = async move {
        let Ok(Ok((client, _))) =
            tokio::time::timeout(DATA_ACCEPT_TIMEOUT, listener.accept()).await
        else {
            return;
        };
        drop(listener);
        let Ok(server) = TcpStream::connect(upstream).await else {
            return;
        };
        if state.data_tls.load(Ordering::SeqCst) {
            if let Ok(Ok(tls)) =
                tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(client)).await
            {
                splice(tls, server).await;
            }
        } else {
            splice(client, server).await;
        }
    };
    Ok((public_port, relay))
}

/// Copies both ways until both sides are done; a read error counts as the end of that side.
async fn splice<A, B>(a: A, b: B)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let (mut a_read, mut a_write) = tokio::io::split(a);
    let (mut b_read, mut b_write) = tokio::io::split(b);
    let forward = async {
        let _ = tokio::io::copy(&mut a_read, &mut b_write).await;
        let _ = b_write.shutdown().await;
    };
    let backward = async {
        let _ = tokio::io::copy(&mut b_read, &mut a_write).await;
        let _ = a_write.shutdown().await;
    };
    tokio::join!(forward, backward);
}
