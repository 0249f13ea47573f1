//! The engine: the single owner of the store, the vault key, the transfer queue and the
//! connection pools. Everything else talks to it through `api::Request`s and reads its
//! `Response`s, `Event`s and progress snapshots; it does all the I/O, in its own tasks.

pub mod api;
mod batch;
mod bundle;
pub mod client;
mod control;
mod order;
mod prompt;
mod queue;
mod recorder;
mod schedule;
mod worker;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use api::{Event, QueueSnapshot, Request, Response};
pub use client::{EngineClient, Subscription};

use crate::config::Config;
use crate::paths::Paths;
use crate::profile::HostKeyPolicy;
use crate::remote::hostkeys::{KnownHosts, default_user_files};
use crate::remote::local::LocalRemote;
use crate::store::{Store, StoreError};
use crate::transfer::limit::RateLimiter;
use crate::transfer::model::TransferState;
use crate::transfer::pool::Pool;
use crate::vault::VaultKey;

/// What an engine starts with.
pub struct EngineSetup {
    pub store: Store,
    pub config: Config,
    pub paths: Paths,
    /// The unlocked vault key, when the caller had it.
    pub vault_key: Option<VaultKey>,
    /// Whether a client will answer host-key questions; otherwise unknown keys follow the
    /// profile's policy with nobody to ask (`ask` refuses).
    pub interactive: bool,
    /// A host-key policy that overrides every profile's (from `--host-key-policy`).
    pub host_key_policy: Option<HostKeyPolicy>,
    /// Start queued transfers; false for an engine that only edits the queue.
    pub run_queue: bool,
}

/// State shared by the engine's tasks.
pub(crate) struct Shared {
    store: Arc<Store>,
    recorder: recorder::Recorder,
    config: Config,
    vault_key: Mutex<Option<Arc<VaultKey>>>,
    queue: Mutex<queue::Queue>,
    batches: Mutex<HashMap<u64, batch::Batch>>,
    pools: tokio::sync::Mutex<HashMap<String, Arc<Pool>>>,
    known_hosts: Arc<Mutex<KnownHosts>>,
    local: LocalRemote,
    global_limit: Option<Arc<RateLimiter>>,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<Event>>>,
    progress: watch::Sender<QueueSnapshot>,
    questions: Mutex<HashMap<u64, oneshot::Sender<bool>>>,
    interactive: bool,
    host_key_policy: Option<HostKeyPolicy>,
    run_queue: bool,
    wake: Notify,
    shutdown: CancellationToken,
    workers: TaskTracker,
}

/// Why an engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    HostKeys(#[from] crate::remote::hostkeys::HostKeyError),
}

/// Starts an engine on the current tokio runtime and returns an in-process client.
pub fn start(setup: EngineSetup) -> Result<EngineClient, EngineError> {
    let known = KnownHosts::load(setup.paths.known_hosts_file(), default_user_files())?;
    let restored = setup.store.queued_transfers()?;
    let (progress, _) = watch::channel(QueueSnapshot::default());
    let store = Arc::new(setup.store);
    let shared = Arc::new(Shared {
        global_limit: RateLimiter::new(setup.config.transfer.bandwidth_limit.0).map(Arc::new),
        recorder: recorder::Recorder::start(store.clone()),
        store,
        config: setup.config,
        vault_key: Mutex::new(setup.vault_key.map(Arc::new)),
        queue: Mutex::new(queue::Queue::default()),
        batches: Mutex::new(HashMap::new()),
        pools: tokio::sync::Mutex::new(HashMap::new()),
        known_hosts: Arc::new(Mutex::new(known)),
        local: LocalRemote::new(),
        subscribers: Mutex::new(Vec::new()),
        progress,
        questions: Mutex::new(HashMap::new()),
        interactive: setup.interactive,
        host_key_policy: setup.host_key_policy,
        run_queue: setup.run_queue,
        wake: Notify::new(),
        shutdown: CancellationToken::new(),
        workers: TaskTracker::new(),
    });
    {
        let mut queue = shared.lock_queue();
        for mut record in restored {
            // Running at the last stop means the engine died mid-transfer: continue it.
            if matches!(
                record.state,
                TransferState::Running | TransferState::Interrupted
            ) {
                record.state = TransferState::Queued;
            }
            queue.insert(record);
        }
    }
    let (requests, mut inbox) = mpsc::channel::<(Request, oneshot::Sender<Response>)>(64);
    tokio::spawn(schedule::run(shared.clone()));
    tokio::spawn(schedule::publish(shared.clone()));
    let dispatcher = shared.clone();
    tokio::spawn(async move {
        while let Some((request, reply)) = inbox.recv().await {
            let shutting_down = matches!(request, Request::Shutdown);
            let response = dispatcher.handle(request).await;
            let _ = reply.send(response);
            if shutting_down {
                break;
            }
        }
    });
    Ok(EngineClient::new(requests, shared))
}

impl Shared {
    async fn handle(self: &Arc<Self>, request: Request) -> Response {
        let result = match request {
            Request::Enqueue(request) => batch::enqueue(self, request)
                .await
                .map(|batch| Response::Enqueued { batch }),
            Request::Queue => Ok(Response::Queue {
                snapshot: self.lock_queue().snapshot(),
            }),
            Request::History { limit, failed_only } => {
                self.recorder.flush().await;
                self.store(move |s| s.transfer_history(limit, failed_only))
                    .await
                    .map(|transfers| Response::History { transfers })
                    .map_err(|e| e.to_string())
            }
            Request::Pause { id } => control::pause(self, id).await.map(|()| Response::Ok),
            Request::Resume { id } => control::resume(self, id).await.map(|()| Response::Ok),
            Request::Cancel { id } => control::cancel(self, id).await.map(|()| Response::Ok),
            Request::Retry { id } => control::retry(self, id).await.map(|()| Response::Ok),
            Request::Move { id, up } => control::move_item(self, id, up)
                .await
                .map(|()| Response::Ok),
            Request::AnswerHostKey { question, accept } => {
                if let Some(answer) = lock(&self.questions).remove(&question) {
                    let _ = answer.send(accept);
                }
                Ok(Response::Ok)
            }
            Request::Shutdown => {
                control::shutdown(self).await;
                Ok(Response::Ok)
            }
        };
        result.unwrap_or_else(|message| Response::Error { message })
    }

    /// Runs a store operation on a blocking thread.
    async fn store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(result) => result,
            Err(join) => Err(StoreError::Db {
                path: self.store.path().to_path_buf(),
                detail: format!("store task failed: {join}"),
            }),
        }
    }

    /// Sends a discrete event to every watcher (never dropped for a live one).
    fn emit(&self, event: Event) {
        lock(&self.subscribers).retain(|tx| tx.send(event.clone()).is_ok());
    }

    fn lock_queue(&self) -> MutexGuard<'_, queue::Queue> {
        lock(&self.queue)
    }
}

/// Locks a mutex, recovering from poisoning (a panicked task must not take the engine down).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
