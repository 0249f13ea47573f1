//! SFTP over russh + russh-sftp: connecting (with the host-key check every connection must
//! pass), logging in, and the `Remote` operations on one multiplexed SFTP session, with
//! pipelined reads and writes for throughput.
//!
//! Module map: `connect` (resolve, TCP, russh config, handshake, timeout), `handshake` (the
//! russh handler: host-key trust and what the server says about itself), `auth` (logging
//! in: the plan), `agent`, `keys` and `prompts` (the methods), `attempt` (its tally and
//! failure message), `session` (the SFTP subsystem, limits, extensions), `ops` (file
//! operations), `attrs` (attributes to entries), `reader` / `writer` (pipelined streams,
//! `pipeline` their shared helpers), `check_file` (hashing through the extension), `exec`
//! (hashing with a command on the server, unless the profile forbids exec), `growing`
//! (hashing an upload while it is written), `whole` (a small file in two round trips),
//! `gather` (many small files read whole at once), `jump` (through jump hosts), `errors`
//! (classification).

mod agent;
mod attempt;
mod attrs;
mod auth;
mod check_file;
mod connect;
mod errors;
mod exec;
mod gather;
mod greeting;
mod growing;
mod handshake;
mod jump;
mod keys;
mod ops;
mod pipeline;
mod prompts;
mod reader;
mod session;
mod version;
mod whole;
mod writer;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;

pub use auth::AuthEnv;

use self::handshake::{ClientHandler, HandshakeFacts};
use self::session::Connection;
use super::{
    Capabilities, ConnectOptions, Credentials, Endpoint, Entry, Finish, GrowingHash, LoginStep,
    ReadStream, ReadWhole, Remote, Result, SessionInfo, WholeFile, WholeRead, WholeWrite,
    WriteStream, read_back_digest,
};
use crate::profile::Profile;

/// A logged-in SFTP session. Cheap to share: every method takes `&self` and requests from
/// several tasks are multiplexed on the one session.
pub struct SftpRemote {
    conn: Arc<Connection>,
    info: SessionInfo,
    /// The jump hosts' sessions this connection goes through.
    chain: Arc<jump::Chain>,
    /// A further session on another's SSH connection: closing it leaves the connection up.
    sibling: bool,
}

impl std::fmt::Debug for SftpRemote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SftpRemote")
            .field("endpoint", &self.conn.endpoint)
            .field("features", &self.conn.features)
            .finish_non_exhaustive()
    }
}

/// Connects and logs in, taking the agent socket and home directory from the environment.
pub async fn connect(
    profile: &Profile,
    credentials: &Credentials,
    options: &ConnectOptions,
) -> Result<SftpRemote> {
    connect_with(profile, credentials, options, &AuthEnv::from_process()).await
}

/// Connects and logs in with an explicit agent socket and home directory.
pub async fn connect_with(
    profile: &Profile,
    credentials: &Credentials,
    options: &ConnectOptions,
    env: &AuthEnv,
) -> Result<SftpRemote> {
    let endpoint = super::endpoint_of(profile);
    let facts = Arc::new(Mutex::new(HandshakeFacts::default()));
    let work = establish(profile, credentials, options, env, &endpoint, &facts);
    connect::within_timeout(options.timeout, &facts, &endpoint, work).await
}

async fn establish(
    profile: &Profile,
    credentials: &Credentials,
    options: &ConnectOptions,
    env: &AuthEnv,
    endpoint: &Endpoint,
    facts: &handshake::SharedFacts,
) -> Result<SftpRemote> {
    let (carrier, chain) = jump::through(profile, options, env).await?;
    let handler = ClientHandler {
        endpoint: endpoint.clone(),
        host: profile.host.clone(),
        port: profile.port,
        policy: options.host_key_policy,
        known_hosts: options.known_hosts.clone(),
        prompt: options.prompt.clone(),
        facts: facts.clone(),
    };
    let config = connect::client_config(options, &profile.host, profile.port);
    let mut ssh = match carrier {
        Some(channel) => connect::handshake(channel, config, handler).await?,
        None => {
            let stream = connect::open_tcp(profile, endpoint).await?;
            let stream = greeting::Greeting::new(stream, options.on_login.clone());
            connect::handshake(stream, config, handler).await?
        }
    };
    if let Some(gate) = &options.auth_gate
        && gate.clone().wait_for(|open| *open).await.is_err()
    {
        let detail = "the first login did not get in: this spare one gives up before its own";
        return Err(super::RemoteError::new(
            super::ErrorKind::Cancelled,
            endpoint,
            detail,
        ));
    }
    let auth_method = auth::authenticate(&mut ssh, profile, credentials, env, endpoint).await?;
    if let Some(watch) = &options.on_login {
        watch(LoginStep::Authenticated);
    }
    let conn = Connection::open(
        Arc::new(ssh),
        endpoint.clone(),
        options.timeout,
        options.in_flight_bytes,
    )
    .await?;
    if profile.no_exec {
        conn.exec_refused();
    }
    let info = {
        let facts = handshake::lock(facts);
        SessionInfo {
            banner: facts
                .server_id
                .clone()
                .or_else(|| facts.auth_banner.clone()),
            host_key: facts.host_key.clone(),
            certificate: None,
            auth_method,
            security: facts.security.clone(),
            hops: chain.hops.clone(),
        }
    };
    tracing::info!(%endpoint, auth = %info.auth_method, "sftp connected");
    Ok(SftpRemote {
        conn: Arc::new(conn),
        info,
        chain: Arc::new(chain),
        sibling: false,
    })
}

#[async_trait]
impl Remote for SftpRemote {
    fn endpoint(&self) -> &Endpoint {
        &self.conn.endpoint
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            atomic_rename: self.conn.features.posix_rename,
            resume: true,
            // Known for sure only by trying: `sha256` answers None where the server cannot.
            sha256: self.conn.check_file_works() || self.conn.exec_works(),
            check_file: self.conn.check_file_works(),
            set_mtime: true,
            read_ranges: true,
            write_ranges: true,
        }
    }

    fn session_info(&self) -> SessionInfo {
        self.info.clone()
    }

    fn is_closed(&self) -> bool {
        self.conn.ssh.is_closed()
    }

    async fn home(&self) -> Result<String> {
        self.conn.guard(ops::home(&self.conn)).await
    }

    async fn read_dir(&self, path: &str) -> Result<Vec<Entry>> {
        self.conn.guard(ops::read_dir(&self.conn, path)).await
    }

    async fn list_chunked(
        &self,
        path: &str,
        chunks: &tokio::sync::mpsc::Sender<Vec<Entry>>,
    ) -> Result<Vec<String>> {
        self.conn
            .guard(ops::list_chunked(&self.conn, path, chunks))
            .await
    }

    async fn stat(&self, path: &str) -> Result<Entry> {
        self.conn.guard(ops::stat(&self.conn, path)).await
    }

    async fn mkdir(&self, path: &str) -> Result<()> {
        self.conn.guard(ops::mkdir(&self.conn, path)).await
    }

    async fn remove_file(&self, path: &str) -> Result<()> {
        self.conn.guard(ops::remove_file(&self.conn, path)).await
    }

    async fn remove_dir(&self, path: &str) -> Result<()> {
        self.conn.guard(ops::remove_dir(&self.conn, path)).await
    }

    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.conn.guard(ops::rename(&self.conn, from, to)).await
    }

    async fn read_from(&self, path: &str, offset: u64) -> Result<Box<dyn ReadStream>> {
        let reader = self
            .conn
            .guard(ops::read_from(&self.conn, path, offset))
            .await?;
        Ok(Box::new(reader))
    }

    fn round_trip(&self) -> Option<std::time::Duration> {
        Some(self.conn.round_trip())
    }

    async fn open_channel(&self) -> Result<Option<Box<dyn Remote>>> {
        let sibling = self.conn.sibling().await?;
        Ok(Some(Box::new(SftpRemote {
            conn: Arc::new(sibling),
            info: self.info.clone(),
            chain: self.chain.clone(),
            sibling: true,
        })))
    }

    async fn read_range(&self, path: &str, offset: u64, end: u64) -> Result<Box<dyn ReadStream>> {
        let reader = self
            .conn
            .guard(ops::read_range(&self.conn, path, offset, end))
            .await?;
        Ok(Box::new(reader))
    }

    async fn write_range(&self, path: &str, offset: u64) -> Result<Box<dyn WriteStream>> {
        let writer = self
            .conn
            .guard(ops::write_range(&self.conn, path, offset))
            .await?;
        Ok(Box::new(writer))
    }

    async fn write_at(&self, path: &str, offset: u64) -> Result<Box<dyn WriteStream>> {
        let writer = self
            .conn
            .guard(ops::write_at(&self.conn, path, offset))
            .await?;
        Ok(Box::new(writer))
    }

    async fn sha256(&self, path: &str) -> Result<Option<String>> {
        let hashed = async {
            match check_file::sha256(&self.conn, path).await? {
                Some(hash) => Ok(Some(hash)),
                None => exec::sha256(&self.conn, path).await,
            }
        };
        self.conn.guard(hashed).await
    }

    async fn write_whole(
        &self,
        path: &str,
        data: Bytes,
        how: Finish,
        read_back: bool,
    ) -> Result<WholeWrite> {
        let file = WholeFile {
            path: path.to_string(),
            data,
            how,
            read_back,
        };
        let mut results = self.write_wholes(vec![file]).await;
        results.pop().unwrap_or_else(|| {
            Err(super::RemoteError::new(
                super::ErrorKind::Protocol,
                &self.conn.endpoint,
                "no answer for the file",
            )
            .at(path))
        })
    }

    async fn write_wholes(&self, files: Vec<WholeFile>) -> Vec<Result<WholeWrite>> {
        let written = self
            .conn
            .guard(async { Ok(whole::write_wholes(&self.conn, &files).await) });
        let mut results = match written.await {
            Ok(results) => results,
            Err(lost) => files.iter().map(|_| Err(lost.clone())).collect(),
        };
        // A read that came back short leaves the rest to a plain read.
        for (file, result) in files.iter().zip(results.iter_mut()) {
            if let Ok(written) = result
                && file.read_back
                && written.read_back.is_none()
            {
                match read_back_digest(self, &file.path).await {
                    Ok(digest) => written.read_back = Some(digest),
                    Err(err) => *result = Err(err),
                }
            }
        }
        results
    }

    async fn read_wholes(&self, files: &[WholeRead]) -> Vec<Result<ReadWhole>> {
        let read = self
            .conn
            .guard(async { Ok(gather::read_wholes(&self.conn, files).await) });
        let mut results = match read.await {
            Ok(results) => results,
            Err(lost) => files.iter().map(|_| Err(lost.clone())).collect(),
        };
        // A check that came back short leaves the rest to a plain read.
        for (file, result) in files.iter().zip(results.iter_mut()) {
            if let Ok(read) = result
                && file.check
                && read.data.is_some()
                && read.check.is_none()
            {
                match read_back_digest(self, &file.path).await {
                    Ok(digest) => read.check = Some(digest),
                    Err(err) => *result = Err(err),
                }
            }
        }
        results
    }

    async fn sha256_while_writing(&self, path: &str) -> Option<Box<dyn GrowingHash>> {
        let follower = growing::start_for(&self.conn, path).await?;
        Some(Box::new(follower))
    }

    async fn set_mtime(&self, path: &str, mtime: i64) -> Result<()> {
        self.conn
            .guard(ops::set_mtime(&self.conn, path, mtime))
            .await
    }

    async fn free_space(&self, path: &str) -> Result<Option<u64>> {
        self.conn.guard(self.conn.free_bytes(path)).await
    }

    async fn close(&self) {
        let _ = self.conn.sftp.close_session();
        if self.sibling {
            return;
        }
        let _ = self
            .conn
            .ssh
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
        self.chain.close().await;
    }
}
