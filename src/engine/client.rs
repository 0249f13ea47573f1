//! `EngineClient`: how the CLI and the TUI talk to an engine in the same process, over tokio
//! channels. The control socket (for `ferry daemon`) carries the same `Request`/`Response`/`Event`
//! values.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};

use super::Shared;
use super::api::{Event, QueueSnapshot, Request, Response};

/// A handle on a running engine; cheap to clone.
#[derive(Clone)]
pub struct EngineClient {
    requests: mpsc::Sender<(Request, oneshot::Sender<Response>)>,
    shared: Arc<Shared>,
}

/// What one watcher receives: every discrete event, and the latest progress snapshot.
pub struct Subscription {
    pub events: mpsc::UnboundedReceiver<Event>,
    pub progress: watch::Receiver<QueueSnapshot>,
}

impl EngineClient {
    pub(super) fn new(
        requests: mpsc::Sender<(Request, oneshot::Sender<Response>)>,
        shared: Arc<Shared>,
    ) -> EngineClient {
        EngineClient { requests, shared }
    }

    /// Sends a request and waits for its response.
    pub async fn request(&self, request: Request) -> Response {
        let (tx, rx) = oneshot::channel();
        if self.requests.send((request, tx)).await.is_err() {
            return Response::Error {
                message: "the engine has stopped".into(),
            };
        }
        rx.await.unwrap_or(Response::Error {
            message: "the engine has stopped".into(),
        })
    }

    /// Starts watching; events from now on are delivered in order.
    pub fn subscribe(&self) -> Subscription {
        let (tx, rx) = mpsc::unbounded_channel();
        super::lock(&self.shared.subscribers).push(tx);
        Subscription {
            events: rx,
            progress: self.shared.progress.subscribe(),
        }
    }
}
