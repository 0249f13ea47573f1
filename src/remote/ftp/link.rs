//! The one control connection behind an `FtpRemote`, behind a tokio mutex: operations take turns
//! on it, and a transfer stream holds it (an owned guard) until the transfer ends. A connection
//! the server dropped, or one left out of step, is replaced by a fresh login on next use.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use super::super::{ErrorKind, RemoteError, Result};
use super::connect::Dialer;
use super::session::Connection;

pub(super) struct Link {
    pub conn: Option<Connection>,
    dialer: Arc<Dialer>,
    closed: bool,
}

impl Link {
    pub fn new(conn: Connection, dialer: Arc<Dialer>) -> Link {
        Link {
            conn: Some(conn),
            dialer,
            closed: false,
        }
    }

    /// The connection, after a new login when the last one was lost; true when it is new.
    async fn ready(&mut self) -> Result<(&mut Connection, bool)> {
        if self.closed {
            let detail = "the session was closed";
            return Err(RemoteError::new(
                ErrorKind::ConnectionLost,
                &self.dialer.endpoint,
                detail,
            ));
        }
        let fresh = self.conn.is_none();
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => self.dialer.dial().await?.conn,
        };
        Ok((self.conn.insert(conn), fresh))
    }

    /// Drops the connection if an error left it unusable (the next use logs in again).
    pub fn forget_if_broken(&mut self) {
        if self.conn.as_ref().is_some_and(|c| c.broken) {
            self.conn = None;
        }
    }

    /// Ends the session; later operations fail instead of logging in again.
    pub async fn close(&mut self) {
        self.closed = true;
        if let Some(mut conn) = self.conn.take() {
            conn.quit().await;
        }
    }
}

/// Runs `op` on the connection. A reused connection found dead (the server timed it out while
/// idle) is replaced and `op` is tried once more on a fresh login.
pub(super) async fn run<T, F>(link: &mut Link, mut op: F) -> Result<T>
where
    F: for<'c> FnMut(&'c mut Connection) -> BoxFuture<'c, Result<T>>,
{
    loop {
        let (conn, fresh) = link.ready().await?;
        let result = op(conn).await;
        conn.last_used = Instant::now();
        let lost = conn.broken;
        link.forget_if_broken();
        match result {
            Err(err) if lost && !fresh && err.kind == ErrorKind::ConnectionLost => {
                tracing::debug!("{err}; logging in again");
            }
            other => return other,
        }
    }
}

/// Sends NOOP when the connection has been idle for `every`, so servers and NAT boxes keep it.
/// Stops when the remote is dropped; a busy link (a transfer running) is left alone.
pub(super) fn keep_alive(link: &Arc<Mutex<Link>>, every: Duration) -> Option<JoinHandle<()>> {
    if every.is_zero() {
        return None;
    }
    let weak = Arc::downgrade(link);
    Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(link) = weak.upgrade() else { break };
            let Ok(mut link) = link.try_lock() else {
                continue;
            };
            if let Some(conn) = link.conn.as_mut()
                && conn.last_used.elapsed() >= every
            {
                conn.noop().await;
            }
            link.forget_if_broken();
        }
    }))
}
