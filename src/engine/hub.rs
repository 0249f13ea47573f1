//! Where watchers attach: discrete events on a bounded broadcast ring (a watcher that falls
//! behind loses the oldest and is told how many, so memory never grows with a stalled watcher),
//! the latest progress snapshot on a watch channel, and the moment the store is released.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use futures::FutureExt;
use futures::future::Shared;
use tokio::sync::{broadcast, watch};

use super::api::{Event, QueueSnapshot};

/// Events kept for watchers that have not read them yet.
pub const EVENT_BACKLOG: usize = 4096;

type Released = Shared<Pin<Box<dyn Future<Output = ()> + Send>>>;

pub(crate) struct Hub {
    events: broadcast::Sender<Event>,
    pub progress: watch::Sender<QueueSnapshot>,
    /// Watchers attached that answer questions.
    pub answerers: watch::Sender<usize>,
    released: Mutex<Released>,
}

/// Counts one attached answerer while it lives.
pub struct AnswererGuard {
    answerers: watch::Sender<usize>,
}

impl Drop for AnswererGuard {
    fn drop(&mut self) {
        self.answerers.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Hub {
    pub fn new(released: impl Future<Output = ()> + Send + 'static) -> Hub {
        let released: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(released);
        Hub {
            events: broadcast::channel(EVENT_BACKLOG).0,
            progress: watch::channel(QueueSnapshot::default()).0,
            answerers: watch::channel(0).0,
            released: Mutex::new(released.shared()),
        }
    }

    pub fn emit(&self, event: Event) {
        // No watcher attached is fine: nobody needed to hear it.
        let _ = self.events.send(event);
    }

    /// Registers an answerer for as long as the guard lives.
    pub fn attach_answerer(&self) -> AnswererGuard {
        self.answerers.send_modify(|n| *n += 1);
        AnswererGuard {
            answerers: self.answerers.clone(),
        }
    }

    pub fn subscribe_events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Completes when the engine's store is closed and its lock released.
    pub fn released(&self) -> impl Future<Output = ()> + Send + 'static {
        super::lock(&self.released).clone()
    }
}
