//! Browsing through the engine: open a place, list (streamed in chunks), stat, mkdir, rename,
//! remove, peek at a file's first bytes, and test a profile's connection. Servers are reached
//! through the profile's connection pool, the local disk directly; every answer keeps the
//! error's kind.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use super::Shared;
use super::api::{Failure, Place, Response, TestReport};
use crate::remote::{Remote, RemoteError, names, tree};
use crate::transfer::pool::Lease;

/// A place ready for one operation: the local disk, or a connection lent by a pool.
enum Side<'a> {
    Local(&'a Shared),
    Remote(Lease),
}

impl Side<'_> {
    fn remote(&self) -> &dyn Remote {
        match self {
            Side::Local(shared) => &shared.local,
            Side::Remote(lease) => lease.remote().as_ref(),
        }
    }

    /// Gives the connection back after `result`, or closes it when its state is unknown.
    fn done<T>(self, result: &Result<T, RemoteError>) {
        if let Side::Remote(lease) = self {
            match super::worker::leaves_connection_usable(result) {
                true => lease.release(),
                false => drop(lease),
            }
        }
    }
}

async fn side<'a>(shared: &'a Arc<Shared>, place: &Place) -> Result<Side<'a>, RemoteError> {
    match place {
        Place::Local => Ok(Side::Local(shared)),
        Place::Profile(name) => {
            let pool = shared.pool(name).await?;
            Ok(Side::Remote(pool.acquire(0).await?))
        }
    }
}

/// Hands the connection back after `result` and turns it into the API's answer.
fn conclude<T>(side: Side<'_>, result: Result<T, RemoteError>) -> Result<T, Failure> {
    side.done(&result);
    Ok(result?)
}

/// Where a pane on `place` starts, and what the session is.
pub(crate) async fn open(shared: &Arc<Shared>, place: &Place) -> Result<Response, Failure> {
    let profile = match place {
        Place::Profile(name) => Some(shared.pool(name).await?.profile().clone()),
        Place::Local => None,
    };
    let side = side(shared, place).await?;
    let remote = side.remote();
    let start = match profile.as_ref().and_then(|p| p.remote_dir.clone()) {
        Some(dir) => Ok(dir),
        None => remote.home().await,
    };
    let info = remote.session_info();
    let start = conclude(side, start)?;
    Ok(Response::Opened {
        place: place.clone(),
        start,
        info,
    })
}

/// Sends the entries of `path` as `Entries` chunks to `reply`, then answers `Listed`.
pub(crate) async fn list(
    shared: &Arc<Shared>,
    place: &Place,
    path: &str,
    reply: &mpsc::Sender<Response>,
) -> Result<Response, Failure> {
    let path = names::normalize(path);
    let (tx, mut rx) = mpsc::channel::<Vec<crate::remote::Entry>>(2);
    let forward = async {
        let mut count = 0;
        while let Some(entries) = rx.recv().await {
            count += entries.len();
            if reply.send(Response::Entries { entries }).await.is_err() {
                break;
            }
        }
        count
    };
    let side = side(shared, place).await?;
    let listing = async {
        let refused = side.remote().list_chunked(&path, &tx).await;
        drop(tx);
        refused
    };
    let (refused, count) = tokio::join!(listing, forward);
    let refused = conclude(side, refused)?;
    Ok(Response::Listed {
        path,
        count,
        refused,
    })
}

pub(crate) async fn stat(
    shared: &Arc<Shared>,
    place: &Place,
    path: &str,
) -> Result<Response, Failure> {
    let side = side(shared, place).await?;
    let entry = side.remote().stat(path).await;
    Ok(Response::Entry {
        entry: conclude(side, entry)?,
    })
}

pub(crate) async fn mkdir(
    shared: &Arc<Shared>,
    place: &Place,
    path: &str,
) -> Result<Response, Failure> {
    let side = side(shared, place).await?;
    let made = side.remote().mkdir_all(path).await;
    conclude(side, made).map(|()| Response::Ok)
}

pub(crate) async fn rename(
    shared: &Arc<Shared>,
    place: &Place,
    from: &str,
    to: &str,
) -> Result<Response, Failure> {
    let side = side(shared, place).await?;
    let renamed = side.remote().rename(from, to).await;
    conclude(side, renamed).map(|()| Response::Ok)
}

pub(crate) async fn remove(
    shared: &Arc<Shared>,
    place: &Place,
    path: &str,
    recursive: bool,
) -> Result<Response, Failure> {
    if matches!(names::normalize(path).as_str(), "/" | ".") {
        return Err(Failure {
            kind: crate::remote::ErrorKind::Permission,
            message: format!("{}: refusing to remove `{path}`", place.label()),
        });
    }
    let side = side(shared, place).await?;
    let removed = tree::remove(side.remote(), path, recursive).await;
    conclude(side, removed).map(|()| Response::Ok)
}

/// Up to `max_bytes` from the start of a file, and its size.
pub(crate) async fn peek(
    shared: &Arc<Shared>,
    place: &Place,
    path: &str,
    max_bytes: u64,
) -> Result<Response, Failure> {
    let side = side(shared, place).await?;
    let peeked = head(side.remote(), path, max_bytes).await;
    let (size, bytes) = conclude(side, peeked)?;
    Ok(Response::Peeked { size, bytes })
}

/// A file's size and up to `max_bytes` of its start.
async fn head(
    remote: &dyn Remote,
    path: &str,
    max_bytes: u64,
) -> Result<(u64, Vec<u8>), RemoteError> {
    let size = remote.stat(path).await?.size;
    let mut reader = remote.read_from(path, 0).await?;
    let mut bytes = Vec::new();
    while (bytes.len() as u64) < max_bytes {
        match reader.next_chunk().await? {
            Some(chunk) => bytes.extend_from_slice(&chunk),
            None => break,
        }
    }
    bytes.truncate(max_bytes as usize);
    Ok((size, bytes))
}

/// Connects afresh (not through the pool) and reports what `ferry test` shows.
pub(crate) async fn test(shared: &Arc<Shared>, name: &str) -> Response {
    let mut report = TestReport {
        profile: name.to_string(),
        ..TestReport::default()
    };
    let started = Instant::now();
    let outcome = async {
        let (profile, credentials, options) = shared.connect_parts(name).await?;
        report.address = profile.address();
        let remote = crate::remote::connect(&profile, &credentials, &options).await?;
        let elapsed = started.elapsed();
        let info = remote.session_info();
        let home = remote.home().await;
        let free = match &home {
            Ok(home) => remote.free_space(home).await.unwrap_or(None),
            Err(_) => None,
        };
        remote.close().await;
        Ok::<_, RemoteError>((elapsed, info, home?, free))
    }
    .await;
    match outcome {
        Ok((elapsed, info, home, free)) => {
            report.ok = true;
            report.connect_ms = Some(elapsed.as_millis() as u64);
            report.banner = info.banner;
            report.host_key = info.host_key.map(|(t, f)| format!("{t} {f}"));
            report.certificate = info.certificate.map(|(s, f)| format!("{s} (SHA-256 {f})"));
            report.auth_method = Some(info.auth_method);
            report.security = info.security;
            report.hops = info.hops;
            report.home = Some(home);
            report.free_bytes = free;
        }
        Err(err) => report.error = Some(err.into()),
    }
    Response::Tested {
        report: Box::new(report),
    }
}
