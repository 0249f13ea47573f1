//! Connections per profile: reused between transfers, at most the profile's `max_connections`,
//! closed after a minute idle. An SFTP connection carries several small transfers at once (its
//! requests multiplex, and one server process serves them without the cost of more logins);
//! a large file gets a connection of its own while the cap allows. FTP does one transfer per
//! connection. A segmented copy may borrow more for its ranges, but only what is free
//! (`try_acquire`): it waits for a spare login under way (`open_spares`, started for a large
//! upload on a long link), never for a transfer to end, and never takes what a waiting
//! transfer is owed. A login that fails for good (wrong password, untrusted host key) is
//! remembered so queued transfers fail at once instead of each trying.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};

mod spares;

use crate::profile::{HostKeyPolicy, Profile};
use crate::remote::trust::NoPrompt;
use crate::remote::{ConnectOptions, Credentials, ErrorKind, Remote, RemoteError, connect};

const IDLE_LIMIT: Duration = Duration::from_secs(60);
/// A server greeting slower than this tells of a long link: OpenSSH on loopback greets in
/// about 10 ms (it starts a process for the session first), over a LAN hardly later.
const FAR_GREETING: Duration = Duration::from_millis(30);
/// Transfers one SFTP connection carries at once.
const SFTP_SHARE: usize = 8;
/// From this size a file wants a connection to itself (its throughput needs the server's
/// process for itself; small files gain more from sharing).
const OWN_CONNECTION_FROM: u64 = 16 << 20;

/// One open connection and the transfers using it.
struct Slot {
    remote: Arc<dyn Remote>,
    leases: usize,
    idle_since: Instant,
}

#[derive(Default)]
struct Slots {
    open: Vec<Slot>,
    /// Logins under way.
    opening: usize,
    /// Transfers waiting in `acquire` for a connection.
    waiting: usize,
    /// Of the logins under way, those started ahead of need (`open_spares`), owed to no one.
    spares: usize,
}

/// The connections of one profile.
pub struct Pool {
    profile: Profile,
    credentials: Credentials,
    options: ConnectOptions,
    /// Transfers per connection.
    share: usize,
    slots: Mutex<Slots>,
    /// Woken when a lease ends, a login finishes or a spare login ends.
    changed: Notify,
    fatal: Mutex<Option<RemoteError>>,
    /// Remote directories known to exist (saves a stat per file when many go to one tree).
    made_dirs: Mutex<HashSet<String>>,
    /// Spares a large copy about to start could use, for the next login to start once it
    /// shows a long link (0: none wanted).
    spares_wanted: AtomicUsize,
}

/// A connection lent to one transfer. `release` returns it to the pool; dropping it (after a
/// failure or a cancellation mid-stream) closes it, since its state is unknown.
pub struct Lease {
    remote: Arc<dyn Remote>,
    pool: Arc<Pool>,
    released: bool,
}

/// Who a new connection is for.
#[derive(PartialEq, Eq)]
enum Wanted {
    /// A transfer that cannot run without it.
    ByTransfer,
    /// One more range of a segmented copy, which can do without.
    ForRange,
    /// A spare for a copy about to start (`open_spares`).
    Spare,
}

/// What `acquire` does next.
enum Step {
    Use(Arc<dyn Remote>),
    Open,
    Wait,
}

impl Pool {
    pub fn new(profile: Profile, credentials: Credentials, options: ConnectOptions) -> Arc<Pool> {
        let share = if profile.protocol.is_ftp() {
            1
        } else {
            SFTP_SHARE
        };
        Arc::new(Pool {
            profile,
            credentials,
            options,
            share,
            slots: Mutex::new(Slots::default()),
            changed: Notify::new(),
            fatal: Mutex::new(None),
            made_dirs: Mutex::new(HashSet::new()),
            spares_wanted: AtomicUsize::new(0),
        })
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    fn max_connections(&self) -> usize {
        self.profile.max_connections.max(1) as usize
    }

    /// How many transfers of this profile can run at once.
    pub fn capacity(&self) -> usize {
        self.max_connections() * self.share
    }

    /// Whether one connection carries several transfers at once (SFTP), so small uploads can
    /// travel in bundles.
    pub fn multiplexes(&self) -> bool {
        self.share > 1
    }

    /// Forgets a remembered login failure (the user asked to retry).
    pub fn clear_fatal(&self) {
        *lock(&self.fatal) = None;
    }

    /// Lends a connection for a transfer of about `size` bytes: an idle one, a shared one, or
    /// a new one, waiting while every connection is full.
    pub async fn acquire(self: &Arc<Self>, size: u64) -> Result<Lease, RemoteError> {
        loop {
            if let Some(err) = lock(&self.fatal).clone() {
                return Err(err);
            }
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.next_step(size >= OWN_CONNECTION_FROM) {
                Step::Use(remote) => return Ok(self.lease(remote)),
                Step::Open => return self.open(Wanted::ByTransfer).await,
                Step::Wait => {
                    let _waiting = Waiting::count(self);
                    notified.await;
                }
            }
        }
    }

    /// One more connection for the ranges of a segmented copy, only if one is free: an idle
    /// one, a spare still logging in, or a new login where the cap leaves room and no transfer
    /// is waiting for a connection. None rather than waiting for a transfer to end; a failed
    /// login is an error (nothing else).
    pub async fn try_acquire(self: &Arc<Self>) -> Option<Result<Lease, RemoteError>> {
        loop {
            if lock(&self.fatal).is_some() {
                return None;
            }
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (step, spare_coming) = {
                let mut slots = lock(&self.slots);
                let room = self.room(&mut slots);
                match slots.waiting > 0 {
                    true => (Step::Wait, false),
                    false => {
                        let idle = slots.open.iter().position(|s| s.leases == 0);
                        (claim(&mut slots, idle, room), slots.spares > 0)
                    }
                }
            };
            match step {
                Step::Wait if spare_coming => notified.await,
                step => return self.take(step).await,
            }
        }
    }

    async fn take(self: &Arc<Self>, step: Step) -> Option<Result<Lease, RemoteError>> {
        match step {
            Step::Use(remote) => Some(Ok(self.lease(remote))),
            // A refused extra login is no verdict on the profile: servers that cap sessions per
            // user refuse the one too many with 530, like a wrong password.
            Step::Open => Some(self.open(Wanted::ForRange).await),
            Step::Wait => None,
        }
    }

    fn next_step(&self, wants_own: bool) -> Step {
        let mut slots = lock(&self.slots);
        let room = self.room(&mut slots);
        let share = self.share;
        let pick = |slot: &Slot| slot.leases < share;
        let chosen = if let Some(i) = slots.open.iter().position(|s| s.leases == 0) {
            Some(i)
        } else if wants_own && room {
            None
        } else {
            // Pack small transfers onto the busiest connection that has room, keeping others
            // free for large ones.
            slots
                .open
                .iter()
                .enumerate()
                .filter(|(_, s)| pick(s))
                .max_by_key(|(_, s)| s.leases)
                .map(|(i, _)| i)
        };
        claim(&mut slots, chosen, room)
    }

    /// Whether the cap leaves room for another login. A connection the server closed is
    /// dropped here; its users find out on their own.
    fn room(&self, slots: &mut Slots) -> bool {
        slots.open.retain(|slot| !slot.remote.is_closed());
        slots.open.len() + slots.opening < self.max_connections()
    }

    /// Logs in. A transfer's login refused for good fails the profile's later transfers at once.
    async fn open(self: &Arc<Self>, wanted: Wanted) -> Result<Lease, RemoteError> {
        self.login(wanted, None).await
    }

    /// Logs in, authenticating only once `gate` opens where there is one.
    async fn login(
        self: &Arc<Self>,
        wanted: Wanted,
        gate: Option<watch::Receiver<bool>>,
    ) -> Result<Lease, RemoteError> {
        let mut login = Login {
            pool: self,
            ended: false,
        };
        let mut options = self.options.clone();
        match self.spares_wanted.swap(0, Ordering::SeqCst) {
            0 => {}
            most => options.on_login = Some(self.spares_after_login(most)),
        }
        if wanted == Wanted::Spare {
            options.host_key_policy = HostKeyPolicy::Strict;
            options.prompt = Arc::new(NoPrompt);
            options.auth_gate = gate;
        }
        let connected = connect(&self.profile, &self.credentials, &options).await;
        let mut slots = lock(&self.slots);
        slots.opening -= 1;
        login.ended = true;
        let result = match connected {
            Ok(remote) => {
                slots.open.push(Slot {
                    remote: remote.clone(),
                    leases: 1,
                    idle_since: Instant::now(),
                });
                Ok(self.lease(remote))
            }
            Err(err) => {
                if wanted == Wanted::ByTransfer
                    && matches!(err.kind, ErrorKind::Auth | ErrorKind::HostKey)
                {
                    *lock(&self.fatal) = Some(err.clone());
                }
                Err(err)
            }
        };
        drop(slots);
        self.changed.notify_waiters();
        result
    }

    fn lease(self: &Arc<Self>, remote: Arc<dyn Remote>) -> Lease {
        Lease {
            remote,
            pool: self.clone(),
            released: false,
        }
    }

    /// Ends one lease: the connection stays (`keep`) or goes.
    fn end_lease(&self, remote: &Arc<dyn Remote>, keep: bool) {
        {
            let mut slots = lock(&self.slots);
            if let Some(i) = slots
                .open
                .iter()
                .position(|s| Arc::ptr_eq(&s.remote, remote))
            {
                if keep {
                    let slot = &mut slots.open[i];
                    slot.leases = slot.leases.saturating_sub(1);
                    slot.idle_since = Instant::now();
                } else {
                    // Its other users find out from their own next request.
                    slots.open.remove(i);
                }
            }
        }
        self.changed.notify_waiters();
    }

    /// Closes connections idle for longer than a minute.
    pub async fn reap_idle(&self) {
        let stale: Vec<Arc<dyn Remote>> = {
            let mut slots = lock(&self.slots);
            let (old, fresh): (Vec<_>, Vec<_>) = slots
                .open
                .drain(..)
                .partition(|s| s.leases == 0 && s.idle_since.elapsed() > IDLE_LIMIT);
            slots.open = fresh;
            old.into_iter().map(|s| s.remote).collect()
        };
        for remote in stale {
            remote.close().await;
        }
    }

    /// Closes every connection no transfer is using.
    pub async fn close_all(&self) {
        let idle: Vec<Arc<dyn Remote>> = {
            let mut slots = lock(&self.slots);
            let (idle, busy): (Vec<_>, Vec<_>) = slots.open.drain(..).partition(|s| s.leases == 0);
            slots.open = busy;
            idle.into_iter().map(|s| s.remote).collect()
        };
        for remote in idle {
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

/// A login under way, counted in `Slots::opening` until it ends, also when it is given up
/// midway (a cancelled transfer): the room it took is free again.
struct Login<'a> {
    pool: &'a Pool,
    ended: bool,
}

impl Drop for Login<'_> {
    fn drop(&mut self) {
        if !self.ended {
            lock(&self.pool.slots).opening -= 1;
            self.pool.changed.notify_waiters();
        }
    }
}

/// Counts a transfer waiting in `acquire` for as long as it waits (even when given up).
struct Waiting<'a>(&'a Pool);

impl Waiting<'_> {
    fn count(pool: &Pool) -> Waiting<'_> {
        lock(&pool.slots).waiting += 1;
        Waiting(pool)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut slots = lock(&self.0.slots);
        slots.waiting = slots.waiting.saturating_sub(1);
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
    pub fn release(mut self) {
        self.released = true;
        self.pool.end_lease(&self.remote, true);
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.released {
            self.pool.end_lease(&self.remote, false);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Leases connection `chosen`, else starts a login where there is `room`, else waits.
fn claim(slots: &mut Slots, chosen: Option<usize>, room: bool) -> Step {
    match chosen {
        Some(i) => {
            slots.open[i].leases += 1;
            Step::Use(slots.open[i].remote.clone())
        }
        None if room => {
            slots.opening += 1;
            Step::Open
        }
        None => Step::Wait,
    }
}
