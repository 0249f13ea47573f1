//! The sessions a segmented copy's ranges travel on: the copy's own connection, more of the
//! profile's connections where its pool has some free now (an idle one, or room for a login
//! while no transfer waits; never waiting for one), and more channels on those connections
//! where one connection carries several transfers (SFTP). The profile's `max_connections` is
//! never exceeded: FTP, one transfer per connection, gets its further sessions from the pool
//! only.

use std::sync::Arc;

use super::pool::{Lease, Pool};
use crate::remote::Remote;

/// The sessions of one segmented copy, held until its ranges have moved.
pub(super) struct Lanes<'a> {
    own: &'a dyn Remote,
    leases: Vec<Lease>,
    channels: Vec<Box<dyn Remote>>,
}

impl<'a> Lanes<'a> {
    /// Up to `wanted` sessions, `own` first; fewer where no more are free or the server
    /// refuses more channels (the ranges then share).
    pub async fn open(own: &'a dyn Remote, pool: Option<&Arc<Pool>>, wanted: usize) -> Lanes<'a> {
        let extra = wanted.saturating_sub(1);
        let leases = match pool {
            Some(pool) => free_connections(pool, extra).await,
            None => Vec::new(),
        };
        let mut lanes = Lanes {
            own,
            leases,
            channels: Vec::new(),
        };
        // Without a pool (a copy outside the engine) nothing counts connections, so a further
        // "channel" may be a whole connection (FTP); a pool that lends one connection per
        // transfer has already said how many there may be.
        if pool.is_none_or(|pool| pool.multiplexes()) {
            let missing = wanted.saturating_sub(lanes.len());
            lanes.channels = open_channels(&lanes.connections(), missing).await;
        }
        lanes
    }

    /// The connections: our own, then the leased ones.
    fn connections(&self) -> Vec<&dyn Remote> {
        std::iter::once(self.own)
            .chain(self.leases.iter().map(|lease| lease.remote().as_ref()))
            .collect()
    }

    /// Every session, our own connection first.
    pub fn all(&self) -> Vec<&dyn Remote> {
        let mut all = self.connections();
        all.extend(self.channels.iter().map(|channel| channel.as_ref()));
        all
    }

    pub fn len(&self) -> usize {
        1 + self.leases.len() + self.channels.len()
    }

    /// Closes the channels and gives the connections back: to be lent again when the ranges
    /// moved, closed otherwise (a range cut off mid-stream leaves its session in doubt).
    pub async fn end(self, moved: bool) {
        for channel in &self.channels {
            channel.close().await;
        }
        for lease in self.leases {
            match moved {
                true => lease.release(),
                false => drop(lease),
            }
        }
    }
}

/// Up to `wanted` connections the pool can lend at once without anyone waiting.
async fn free_connections(pool: &Arc<Pool>, wanted: usize) -> Vec<Lease> {
    let asking = (0..wanted).map(|_| pool.try_acquire());
    let mut leases = Vec::new();
    for lent in futures::future::join_all(asking).await {
        match lent {
            Some(Ok(lease)) => leases.push(lease),
            Some(Err(err)) => tracing::debug!(%err, "no further connection for a segmented copy"),
            None => {}
        }
    }
    leases
}

/// Up to `wanted` more channels, spread over `connections` and opened at once (each costs a
/// few round trips).
async fn open_channels(connections: &[&dyn Remote], wanted: usize) -> Vec<Box<dyn Remote>> {
    let opening = (0..wanted).map(|i| connections[i % connections.len()].open_channel());
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
