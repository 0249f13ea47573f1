//! The sessions a segmented copy's blocks travel on besides its own connection: more channels
//! on it where one connection carries several transfers (SFTP), and more of the profile's
//! connections where its pool has some free (an idle one, a spare logging in, or room for a
//! login while no transfer waits; never waiting for a transfer to end). The profile's
//! `max_connections` is never exceeded:
//! FTP, one transfer per connection, gets its further sessions from the pool only. Nothing
//! waits for them: the blocks start on the copy's own connection, and each session that opens
//! later takes the next block. On a long link a large upload starts those logins as soon as
//! its first one has logged in (`warm_up`), so that they are ready when its blocks are.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::model::Direction;
use super::pool::{Lease, Pool};
use super::segments::{SEGMENT_FROM, extra_sessions};
use crate::remote::Remote;

/// A session that joined a segmented copy.
pub(super) enum Joined {
    /// Another channel on the copy's own connection.
    Channel(Box<dyn Remote>),
    /// Another of the profile's connections, lent by its pool.
    Lease(Lease),
}

impl Joined {
    pub fn remote(&self) -> &dyn Remote {
        match self {
            Joined::Channel(channel) => channel.as_ref(),
            Joined::Lease(lease) => lease.remote().as_ref(),
        }
    }

    /// Closes a channel; lends a connection again when its blocks moved (`healthy`), else
    /// closes it: one cut off mid-stream leaves its session in doubt.
    pub async fn end(self, healthy: bool) {
        match self {
            Joined::Channel(channel) => channel.close().await,
            Joined::Lease(lease) if healthy => lease.release(),
            Joined::Lease(lease) => drop(lease),
        }
    }
}

/// Sources looked at for a large file before the first login (each costs a local stat).
const LOOKED_AT: usize = 8;

/// Asks for the logins a large upload's blocks will borrow to start while its first one gets
/// ready (`Pool::want_spares`, on a long link only): an SFTP upload naming a local file from
/// the segmenting size among its first sources.
pub async fn warm_up(pool: &Arc<Pool>, direction: Direction, sources: &[String]) {
    if direction != Direction::Upload || !pool.multiplexes() {
        return;
    }
    for source in sources.iter().take(LOOKED_AT) {
        let size = match tokio::fs::metadata(source).await {
            Ok(meta) if meta.is_file() => meta.len(),
            _ => continue,
        };
        if size >= SEGMENT_FROM {
            pool.want_spares(extra_sessions(size));
            return;
        }
    }
}

pub(super) type Joining<'a> = Pin<Box<dyn Future<Output = Option<Joined>> + Send + 'a>>;

/// Up to `wanted` sessions opening at once beside `own`: channels on it where one connection
/// carries several transfers (or nothing counts connections: a copy outside the engine), and
/// logins the pool can lend without anyone waiting. Once `drained` (no block left to take),
/// logins still under way are given up; a channel being opened is opened all the way, so
/// that none is left half-open on a connection that goes back to the pool.
pub(super) fn joining<'a>(
    own: &'a dyn Remote,
    pool: Option<&Arc<Pool>>,
    wanted: usize,
    drained: &'a CancellationToken,
) -> Vec<Joining<'a>> {
    let mut joining: Vec<Joining<'a>> = Vec::new();
    if pool.is_none_or(|pool| pool.multiplexes()) {
        for _ in 0..wanted {
            joining.push(Box::pin(async move {
                match own.open_channel().await {
                    Ok(channel) => channel.map(Joined::Channel),
                    Err(err) => {
                        tracing::debug!(%err, "no further channel for a segmented copy");
                        None
                    }
                }
            }));
        }
    }
    let Some(pool) = pool else {
        return joining;
    };
    for _ in 0..wanted {
        let pool = pool.clone();
        joining.push(Box::pin(async move {
            let login = async {
                match pool.try_acquire().await? {
                    Ok(lease) => Some(Joined::Lease(lease)),
                    Err(err) => {
                        tracing::debug!(%err, "no further connection for a segmented copy");
                        None
                    }
                }
            };
            tokio::select! {
                joined = login => joined,
                () = drained.cancelled() => None,
            }
        }));
    }
    joining
}
