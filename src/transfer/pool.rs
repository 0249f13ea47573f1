//! Connections per profile: reused between transfers, capped at the profile's
//! `max_connections`, closed after a minute idle. A login that fails for good (wrong password,
//! untrusted host key) is remembered so queued transfers fail at once instead of each trying.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::profile::Profile;
use crate::remote::{ConnectOptions, Credentials, ErrorKind, Remote, RemoteError, connect};

const IDLE_LIMIT: Duration = Duration::from_secs(60);

/// The connections of one profile.
pub struct Pool {
    profile: Profile,
    credentials: Credentials,
    options: ConnectOptions,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<(Arc<dyn Remote>, Instant)>>,
    fatal: Mutex<Option<RemoteError>>,
    /// Remote directories known to exist (saves a stat per file when many go to one tree).
    made_dirs: Mutex<HashSet<String>>,
}

/// A connection lent to one transfer. `release` returns it to the pool; dropping it (after a
/// failure or a cancellation mid-stream) closes it, since its state is unknown.
pub struct Lease {
    remote: Arc<dyn Remote>,
    pool: Arc<Pool>,
    _permit: OwnedSemaphorePermit,
}

impl Pool {
    pub fn new(profile: Profile, credentials: Credentials, options: ConnectOptions) -> Arc<Pool> {
        let cap = profile.max_connections.max(1) as usize;
        Arc::new(Pool {
            profile,
            credentials,
            options,
            permits: Arc::new(Semaphore::new(cap)),
            idle: Mutex::new(Vec::new()),
            fatal: Mutex::new(None),
            made_dirs: Mutex::new(HashSet::new()),
        })
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Whether a transfer could get a connection now without waiting.
    pub fn has_room(&self) -> bool {
        self.permits.available_permits() > 0
    }

    /// Forgets a remembered login failure (the user asked to retry).
    pub fn clear_fatal(&self) {
        *lock(&self.fatal) = None;
    }

    /// Waits for room, then lends an idle connection or opens a new one.
    pub async fn acquire(self: &Arc<Self>) -> Result<Lease, RemoteError> {
        if let Some(err) = lock(&self.fatal).clone() {
            return Err(err);
        }
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| {
            RemoteError::new(ErrorKind::Cancelled, &Default::default(), "shutting down")
        })?;
        let reused = lock(&self.idle).pop().map(|(remote, _)| remote);
        let remote = match reused {
            Some(remote) => remote,
            None => match connect(&self.profile, &self.credentials, &self.options).await {
                Ok(remote) => remote,
                Err(err) => {
                    if matches!(err.kind, ErrorKind::Auth | ErrorKind::HostKey) {
                        *lock(&self.fatal) = Some(err.clone());
                    }
                    return Err(err);
                }
            },
        };
        Ok(Lease {
            remote,
            pool: self.clone(),
            _permit: permit,
        })
    }

    /// Closes connections idle for longer than a minute.
    pub async fn reap_idle(&self) {
        let stale: Vec<Arc<dyn Remote>> = {
            let mut idle = lock(&self.idle);
            let (old, fresh): (Vec<_>, Vec<_>) = idle
                .drain(..)
                .partition(|(_, since)| since.elapsed() > IDLE_LIMIT);
            *idle = fresh;
            old.into_iter().map(|(remote, _)| remote).collect()
        };
        for remote in stale {
            remote.close().await;
        }
    }

    /// Closes every idle connection.
    pub async fn close_all(&self) {
        let all: Vec<_> = lock(&self.idle).drain(..).collect();
        for (remote, _) in all {
            remote.close().await;
        }
    }

    pub fn dir_known(&self, dir: &str) -> bool {
        lock(&self.made_dirs).contains(dir)
    }

    pub fn remember_dir(&self, dir: &str) {
        lock(&self.made_dirs).insert(dir.to_string());
    }
}

impl Lease {
    pub fn remote(&self) -> &Arc<dyn Remote> {
        &self.remote
    }

    pub fn pool(&self) -> &Arc<Pool> {
        &self.pool
    }

    /// Returns the connection to the pool for the next transfer.
    pub fn release(self) {
        lock(&self.pool.idle).push((self.remote, Instant::now()));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
