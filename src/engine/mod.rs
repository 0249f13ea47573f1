//! The engine: the single owner of the store, the vault key, the transfer queue and the
//! connection pools. Everything else talks to it through `api::Request`s and reads its
//! `Response`s, `Event`s and progress snapshots; it does all the I/O, in its own tasks.

pub mod api;
mod batch;
mod browse;
mod bundle;
pub mod client;
mod connecting;
mod control;
mod hub;
mod order;
mod profiles;
mod questions;
mod queue;
mod recorder;
mod schedule;
mod vault;
mod worker;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use api::{Event, Failure, Request, Response};
pub use client::{EngineClient, Events, Subscription};
pub use hub::AnswererGuard;

use crate::config::Config;
use crate::paths::Paths;
use crate::profile::HostKeyPolicy;
use crate::remote::ErrorKind;
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
    /// A host-key policy that overrides every profile's (from `--host-key-policy`).
    pub host_key_policy: Option<HostKeyPolicy>,
    /// Start queued transfers; false for an engine that only edits the queue.
    pub run_queue: bool,
}

/// A request with the channel its responses go to (one, or several for a listing).
pub(crate) type Envelope = (Request, mpsc::Sender<Response>);

/// State shared by the engine's tasks.
pub(crate) struct Shared {
    store: Arc<Store>,
    recorder: recorder::Recorder,
    config: Config,
    vault_key: Mutex<Option<Arc<VaultKey>>>,
    queue: Mutex<queue::Queue>,
    batches: Mutex<batch::Batches>,
    pools: tokio::sync::Mutex<HashMap<String, Arc<Pool>>>,
    known_hosts: Arc<Mutex<KnownHosts>>,
    local: LocalRemote,
    global_limit: Arc<RateLimiter>,
    hub: Arc<hub::Hub>,
    questions: questions::Questions,
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
    let released = setup.store.on_release();
    let store = Arc::new(setup.store);
    let hub = Arc::new(hub::Hub::new(released));
    let shared = Arc::new(Shared {
        global_limit: Arc::new(RateLimiter::adjustable(
            setup.config.transfer.bandwidth_limit.0,
        )),
        recorder: recorder::Recorder::start(store.clone()),
        store,
        config: setup.config,
        vault_key: Mutex::new(setup.vault_key.map(Arc::new)),
        queue: Mutex::new(queue::Queue::default()),
        batches: Mutex::new(batch::Batches::default()),
        pools: tokio::sync::Mutex::new(HashMap::new()),
        known_hosts: Arc::new(Mutex::new(known)),
        local: LocalRemote::new(),
        hub: hub.clone(),
        questions: questions::Questions::default(),
        host_key_policy: setup.host_key_policy,
        run_queue: setup.run_queue,
        wake: Notify::new(),
        shutdown: CancellationToken::new(),
        workers: TaskTracker::new(),
    });
    {
        let mut queue = shared.lock_queue();
        for mut record in restored {
            // Running at the last stop means the engine died mid-transfer: continue it (an
            // engine that does not run the queue shows it as interrupted).
            if record.state == TransferState::Running {
                record.state = TransferState::Interrupted;
            }
            if shared.run_queue && record.state == TransferState::Interrupted {
                record.state = TransferState::Queued;
            }
            queue.insert(record);
        }
    }
    let (requests, inbox) = mpsc::channel::<Envelope>(64);
    tokio::spawn(schedule::run(shared.clone()));
    tokio::spawn(schedule::publish(shared.clone()));
    tokio::spawn(dispatch(shared, inbox));
    Ok(EngineClient::new(requests, hub))
}

/// Answers requests until a shutdown. Requests that only touch the engine's memory are
/// answered in order; those that wait on a server, the disk or the vault's key derivation run
/// in tasks of their own, so one slow listing never holds up a pause. A task stops when its
/// asker stops listening.
async fn dispatch(shared: Arc<Shared>, mut inbox: mpsc::Receiver<Envelope>) {
    while let Some((request, reply)) = inbox.recv().await {
        if matches!(request, Request::Shutdown) {
            control::shutdown(&shared).await;
            let _ = reply.send(Response::Ok).await;
            break;
        }
        if !is_slow(&request) {
            let response = shared.handle(request, &reply).await;
            let _ = reply.send(response).await;
            continue;
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            let work = shared.handle(request, &reply);
            tokio::select! {
                () = reply.closed() => {}
                () = shared.shutdown.cancelled() => {
                    let _ = reply.send(Response::error(ErrorKind::Cancelled, "the engine is stopping")).await;
                }
                response = work => {
                    let _ = reply.send(response).await;
                }
            }
        });
    }
}

/// Requests that may wait on a server, the disk or a key derivation.
fn is_slow(request: &Request) -> bool {
    !matches!(
        request,
        Request::Queue
            | Request::QueueWindow { .. }
            | Request::Batch { .. }
            | Request::Pause { .. }
            | Request::Resume { .. }
            | Request::Cancel { .. }
            | Request::CancelAll
            | Request::Retry { .. }
            | Request::Move { .. }
            | Request::SetLimit { .. }
            | Request::Settings
            | Request::Questions
            | Request::Answer { .. }
            | Request::Enqueue(_)
    )
}

impl Shared {
    /// Answers one request; a listing also sends its `Entries` chunks to `reply` on the way.
    async fn handle(
        self: &Arc<Self>,
        request: Request,
        reply: &mpsc::Sender<Response>,
    ) -> Response {
        let result: Result<Response, Failure> = match request {
            Request::Enqueue(request) => batch::enqueue(self, request)
                .await
                .map(|batch| Response::Enqueued { batch }),
            Request::Queue => Ok(Response::Queue {
                snapshot: self.lock_queue().snapshot(self.global_limit.rate()),
            }),
            Request::QueueWindow { start, len } => {
                let (total, transfers) = self.lock_queue().window(start, len);
                Ok(Response::QueueWindow {
                    start,
                    total,
                    transfers,
                })
            }
            Request::History { limit, failed_only } => {
                self.recorder.flush().await;
                self.store(move |s| s.transfer_history(limit, failed_only))
                    .await
                    .map(|transfers| Response::History { transfers })
                    .map_err(store_failure)
            }
            Request::Batch { id } => Ok(batch::status(self, id)),
            Request::Pause { id } => control::pause(self, id).await.map(|()| Response::Ok),
            Request::Resume { id } => control::resume(self, id).await.map(|()| Response::Ok),
            Request::Cancel { id } => control::cancel(self, id).await.map(|()| Response::Ok),
            Request::CancelAll => {
                let ids: Vec<u64> = self.lock_queue().items().map(|i| i.record.id).collect();
                for id in ids {
                    // One may finish meanwhile: that is not a failure of the whole.
                    let _ = control::cancel(self, id).await;
                }
                Ok(Response::Ok)
            }
            Request::Retry { id } => control::retry(self, id).await.map(|()| Response::Ok),
            Request::Move { id, up } => control::move_item(self, id, up)
                .await
                .map(|()| Response::Ok),
            Request::SetLimit { bytes_per_sec } => {
                self.global_limit.set_rate(bytes_per_sec);
                tracing::info!(bytes_per_sec, "bandwidth limit changed");
                Ok(Response::Ok)
            }
            Request::Open { place } => browse::open(self, &place).await,
            Request::List { place, path } => browse::list(self, &place, &path, reply).await,
            Request::Stat { place, path } => browse::stat(self, &place, &path).await,
            Request::Mkdir { place, path } => browse::mkdir(self, &place, &path).await,
            Request::Rename { place, from, to } => browse::rename(self, &place, &from, &to).await,
            Request::Remove {
                place,
                path,
                recursive,
            } => browse::remove(self, &place, &path, recursive).await,
            Request::Peek {
                place,
                path,
                max_bytes,
            } => browse::peek(self, &place, &path, max_bytes).await,
            Request::Test { profile } => Ok(browse::test(self, &profile).await),
            Request::Profiles => profiles::list(self).await,
            Request::SaveProfile {
                original,
                profile,
                password,
                key_passphrase,
            } => profiles::save(self, original, *profile, password, key_passphrase).await,
            Request::DeleteProfile { name } => profiles::delete(self, &name).await,
            Request::ImportSshConfig { path } => profiles::import(self, path).await,
            Request::Certificate { profile, pin } => {
                profiles::certificate(self, &profile, pin).await
            }
            Request::Vault => vault::status(self).await,
            Request::UnlockVault { passphrase } => vault::unlock(self, passphrase).await,
            Request::InitVault {
                passphrase,
                key_file,
            } => vault::init(self, passphrase, key_file).await,
            Request::Settings => Ok(Response::Settings {
                settings: self.settings(),
            }),
            Request::Questions => Ok(Response::Questions {
                pending: self.questions.pending(),
            }),
            Request::Answer { question, answer } => match self.questions.answer(question, answer) {
                true => Ok(Response::Ok),
                false => Err(Failure {
                    kind: ErrorKind::NotFound,
                    message: format!("question {question} is no longer waiting for an answer"),
                }),
            },
            Request::Shutdown => Ok(Response::Ok),
        };
        result.unwrap_or_else(Response::Error)
    }

    fn settings(&self) -> api::Settings {
        let transfer = &self.config.transfer;
        api::Settings {
            bandwidth_limit: self.global_limit.rate(),
            max_concurrent: transfer.max_concurrent,
            verify_checksum: transfer.verify_checksum,
            atomic: transfer.atomic,
            store: self.store.path().display().to_string(),
        }
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

    /// Sends a discrete event to every watcher.
    fn emit(&self, event: Event) {
        self.hub.emit(event);
    }

    fn lock_queue(&self) -> MutexGuard<'_, queue::Queue> {
        lock(&self.queue)
    }
}

/// A store failure as the API reports it.
pub(crate) fn store_failure(err: StoreError) -> Failure {
    let kind = match &err {
        StoreError::NoProfile(_) => ErrorKind::NotFound,
        StoreError::NameTaken(_) | StoreError::VaultExists => ErrorKind::AlreadyExists,
        StoreError::VaultNotInitialised => ErrorKind::Auth,
        StoreError::Vault(_) => ErrorKind::Auth,
        _ => ErrorKind::LocalIo,
    };
    Failure {
        kind,
        message: err.to_string(),
    }
}

/// Locks a mutex, recovering from poisoning (a panicked task must not take the engine down).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
