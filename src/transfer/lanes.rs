//! The sessions a segmented copy's blocks travel on: the copy's own connection and more
//! channels on it at once where one connection carries several transfers (SFTP), then more of
//! the profile's connections as their logins finish, where its pool has some free (an idle one,
//! or room for a login while no transfer waits; never waiting for one). The profile's
//! `max_connections` is never exceeded: FTP, one transfer per connection, gets its further
//! sessions from the pool only. Nothing waits for a login: the blocks start on what is open,
//! and a connection that logs in later takes the next block.

use std::future::Future;
use std::sync::Arc;

use super::pool::{Lease, Pool};
use crate::remote::Remote;

/// The sessions of one segmented copy that are there from its start.
pub(super) struct Lanes<'a> {
    own: &'a dyn Remote,
    channels: Vec<Box<dyn Remote>>,
}

impl<'a> Lanes<'a> {
    /// `own` and, where one connection carries several transfers (or nothing counts
    /// connections: a copy outside the engine), up to `wanted - 1` more channels on it; fewer
    /// where the server refuses more.
    pub async fn open(own: &'a dyn Remote, pool: Option<&Arc<Pool>>, wanted: usize) -> Lanes<'a> {
        let channels = match pool.is_none_or(|pool| pool.multiplexes()) {
            true => open_channels(own, wanted.saturating_sub(1)).await,
            false => Vec::new(),
        };
        Lanes { own, channels }
    }

    /// Every session, our own connection first.
    pub fn all(&self) -> Vec<&dyn Remote> {
        std::iter::once(self.own)
            .chain(self.channels.iter().map(|channel| channel.as_ref()))
            .collect()
    }

    /// Closes the channels.
    pub async fn end(self) {
        futures::future::join_all(self.channels.iter().map(|channel| channel.close())).await;
    }
}

/// Logins of up to `wanted` further connections the pool can lend without anyone waiting,
/// each giving its lease once logged in (None: no room, or the login failed).
pub(super) fn joiners(
    pool: Option<&Arc<Pool>>,
    wanted: usize,
) -> Vec<impl Future<Output = Option<Lease>> + use<>> {
    let Some(pool) = pool else {
        return Vec::new();
    };
    (0..wanted)
        .map(|_| {
            let pool = pool.clone();
            async move {
                match pool.try_acquire().await? {
                    Ok(lease) => Some(lease),
                    Err(err) => {
                        tracing::debug!(%err, "no further connection for a segmented copy");
                        None
                    }
                }
            }
        })
        .collect()
}

/// Up to `wanted` more channels on `own`, opened at once (each costs a few round trips).
async fn open_channels(own: &dyn Remote, wanted: usize) -> Vec<Box<dyn Remote>> {
    let opening = (0..wanted).map(|_| own.open_channel());
    let mut channels = Vec::new();
    for opened in futures::future::join_all(opening).await {
        match opened {
            Ok(Some(channel)) => channels.push(channel),
            Ok(None) => {}
            Err(err) => tracing::debug!(%err, "no further channel for a segmented copy"),
        }
    }
    channels
}
