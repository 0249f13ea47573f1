//! `EngineClient`: how the CLI and the app talk to an engine in the same process, over tokio
//! channels. The control socket (for `ferry daemon`) carries the same `Request`/`Response`/`Event`
//! values. The client holds no part of the engine's state, so stopping the engine releases the
//! store even while clients are still around.

use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, watch};

use super::Envelope;
use super::api::{Event, Failure, QueueSnapshot, Request, Response};
use super::hub::AnswererGuard;
use super::hub::Hub;
use crate::remote::ErrorKind;

/// How long `shutdown` waits for the store to be released.
const RELEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Responses waiting to be read by one asker before a listing waits for it.
const REPLY_BUFFER: usize = 8;

/// A handle on a running engine; cheap to clone.
#[derive(Clone)]
pub struct EngineClient {
    requests: mpsc::Sender<Envelope>,
    hub: Arc<Hub>,
}

/// What one watcher receives: discrete events in order (with a `Lagged` notice where it fell
/// too far behind), and the latest progress snapshot.
pub struct Subscription {
    pub events: Events,
    pub progress: watch::Receiver<QueueSnapshot>,
    _answerer: Option<AnswererGuard>,
}

/// A watcher's discrete events.
pub struct Events(broadcast::Receiver<Event>);

impl Subscription {
    /// The next event; None once the engine has stopped.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.next().await
    }
}

impl Events {
    /// The next event; None once the engine has stopped.
    pub async fn next(&mut self) -> Option<Event> {
        match self.0.recv().await {
            Ok(event) => Some(event),
            Err(broadcast::error::RecvError::Lagged(missed)) => Some(Event::Lagged { missed }),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// The next event if one is waiting.
    pub fn try_next(&mut self) -> Option<Event> {
        match self.0.try_recv() {
            Ok(event) => Some(event),
            Err(broadcast::error::TryRecvError::Lagged(missed)) => Some(Event::Lagged { missed }),
            Err(_) => None,
        }
    }
}

impl EngineClient {
    pub(super) fn new(requests: mpsc::Sender<Envelope>, hub: Arc<Hub>) -> EngineClient {
        EngineClient { requests, hub }
    }

    /// Sends a request and waits for its (first) response.
    pub async fn request(&self, request: Request) -> Response {
        let mut replies = self.stream(request).await;
        replies.recv().await.unwrap_or_else(stopped)
    }

    /// Sends a request and waits for its response; an `Error` response becomes `Err`.
    pub async fn ask(&self, request: Request) -> Result<Response, Failure> {
        match self.request(request).await {
            Response::Error(failure) => Err(failure),
            other => Ok(other),
        }
    }

    /// Sends a request whose responses come in parts (a listing): read them until the last.
    /// Dropping the receiver cancels the request.
    pub async fn stream(&self, request: Request) -> mpsc::Receiver<Response> {
        let (tx, rx) = mpsc::channel(REPLY_BUFFER);
        if let Err(mpsc::error::SendError((_, tx))) = self.requests.send((request, tx)).await {
            let _ = tx.try_send(stopped());
        }
        rx
    }

    /// Starts watching; events from now on are delivered in order. An answerer's
    /// subscription counts as someone who can answer questions while it lives.
    pub fn subscribe(&self, answers: bool) -> Subscription {
        Subscription {
            events: Events(self.hub.subscribe_events()),
            progress: self.hub.progress.subscribe(),
            _answerer: answers.then(|| self.hub.attach_answerer()),
        }
    }

    /// Asks the engine to stop and waits until its store is released (a transfer that will
    /// not stop holds it; after a minute this gives up waiting and says so in the log).
    pub async fn shutdown(&self) {
        let released = self.hub.released();
        self.request(Request::Shutdown).await;
        if tokio::time::timeout(RELEASE_WAIT, released).await.is_err() {
            tracing::warn!("the engine's store was not released within a minute of stopping");
        }
    }
}

fn stopped() -> Response {
    Response::error(ErrorKind::Cancelled, "the engine has stopped")
}
