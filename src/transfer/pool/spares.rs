//! Spare logins: a large upload about to start logs in the connections its blocks will
//! borrow while its first connection gets ready, on a long link only, never asking about a
//! key and never trying a password before the first login got in.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::{FAR_GREETING, Pool, Wanted, lock};
use crate::remote::{LoginStep, LoginWatch};
use crate::transfer::segments::LONG_LINK;

impl Pool {
    /// A large copy is about to start and its blocks could use up to `most` more connections:
    /// spare logins start at once where an open connection measured a long link; else the
    /// next login watches its own steps, and once it has logged in after a slow greeting (a
    /// long link), the spares follow. None on a short link, where one stream keeps up.
    pub fn want_spares(self: &Arc<Self>, most: usize) {
        let measured = lock(&self.slots)
            .open
            .iter()
            .filter_map(|slot| slot.remote.round_trip())
            .min();
        match measured {
            Some(round_trip) if round_trip >= LONG_LINK => self.open_spares(most),
            Some(_) => {}
            None => self.spares_wanted.store(most, Ordering::SeqCst),
        }
    }

    /// For the login that answers `want_spares`: after a slow greeting (a long link) the
    /// spares start and go as far as the host key (refusing one that differs, without a
    /// question). Where the profile has a password, they try it only once this login is in,
    /// and give up if it fails: no password is ever guessed more than once at a time. Keys
    /// and the agent only offer public keys, as every SSH client does, so those spares go on.
    pub(super) fn spares_after_login(self: &Arc<Self>, most: usize) -> LoginWatch {
        let gated = self.credentials.password.is_some();
        let pool = Arc::downgrade(self);
        let gate = Mutex::new(None::<watch::Sender<bool>>);
        Arc::new(move |step| match step {
            LoginStep::Greeted(took) if took >= FAR_GREETING => {
                if let Some(pool) = pool.upgrade() {
                    let (open, waiting) = watch::channel(false);
                    *lock(&gate) = Some(open);
                    pool.start_spares(most, gated.then_some(waiting));
                }
            }
            LoginStep::Greeted(_) => {}
            LoginStep::Authenticated => {
                if let Some(open) = lock(&gate).as_ref() {
                    open.send_replace(true);
                }
            }
        })
    }

    /// Starts up to `most` logins ahead of need, within the cap and only while no transfer
    /// waits: a large copy about to start borrows them for its ranges, and logging in while its
    /// first connection gets ready costs no time of its own. Each one joins the idle
    /// connections (the copy's own transfer takes an idle one like any other); one that fails
    /// is forgotten (the copy does without it). Only where every host key on the way is known,
    /// and spares never ask: a key that differs now is refused without a question.
    pub fn open_spares(self: &Arc<Self>, most: usize) {
        self.start_spares(most, None);
    }

    /// As `open_spares`; with a `gate`, each spare waits for it before it authenticates
    /// (`ConnectOptions::auth_gate`).
    fn start_spares(self: &Arc<Self>, most: usize, gate: Option<watch::Receiver<bool>>) {
        if !self.keys_known() {
            return;
        }
        for _ in 0..most {
            {
                let mut slots = lock(&self.slots);
                if slots.waiting > 0 || !self.room(&mut slots) {
                    return;
                }
                slots.opening += 1;
                slots.spares += 1;
            }
            let spare = Spare(self.clone());
            let gate = gate.clone();
            tokio::spawn(async move {
                match spare.0.login(Wanted::Spare, gate).await {
                    Ok(lease) => lease.release(),
                    Err(err) => tracing::debug!(%err, "a spare login failed"),
                }
                drop(spare);
            });
        }
    }

    /// Whether known_hosts holds a key for the server and for every jump host on the way.
    fn keys_known(&self) -> bool {
        let known = lock(&self.options.known_hosts);
        let hops = self.options.jumps.iter().map(|hop| &hop.profile);
        std::iter::once(&self.profile).chain(hops).all(|profile| {
            !known
                .known_algorithms(&profile.host, profile.port)
                .is_empty()
        })
    }
}

/// A spare login under way, counted in `Slots::spares` from before its task starts until it
/// ended and, when it succeeded, its connection joined the idle ones.
struct Spare(Arc<Pool>);

impl Drop for Spare {
    fn drop(&mut self) {
        let mut slots = lock(&self.0.slots);
        slots.spares = slots.spares.saturating_sub(1);
        drop(slots);
        self.0.changed.notify_waiters();
    }
}
