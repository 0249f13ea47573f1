//! An engine in the test process over a throwaway data directory, with profiles for the
//! in-process servers, and helpers to run a batch and collect what happened.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ferry::config::Config;
use ferry::engine::api::{BatchSummary, Event, Request, Response};
use ferry::engine::{EngineClient, EngineSetup, Subscription};
use ferry::paths::Paths;
use ferry::profile::{HostKeyPolicy, Profile, ProfileSecret, Protocol};
use ferry::store::Store;
use ferry::transfer::model::{Direction, OverwritePolicy, TransferRequest};
use ferry::vault::{Argon2Cost, Unlock, VaultHeader, VaultKey};
use secrecy::SecretString;

use super::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER};

pub struct EngineFixture {
    pub dir: tempfile::TempDir,
    pub config: Config,
    key_file: PathBuf,
}

impl EngineFixture {
    /// A data directory with a key-file vault; `tweak` adjusts the config (fast retries by default).
    pub fn new(tweak: impl FnOnce(&mut Config)) -> EngineFixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let key_file = dir.path().join("vault.key");
        std::fs::write(&key_file, VaultKey::generate().expose_bytes()).expect("key file");
        let mut config = Config::default();
        config.transfer.retry_min_delay.0 = Duration::from_millis(20);
        config.transfer.retry_max_delay.0 = Duration::from_millis(100);
        tweak(&mut config);
        let fixture = EngineFixture {
            dir,
            config,
            key_file,
        };
        let store = fixture.store();
        let (header, _) = VaultHeader::create(
            &Unlock::KeyFile(fixture.key_file.clone()),
            Argon2Cost::default(),
        )
        .expect("vault");
        store.init_vault(&header).expect("init vault");
        fixture
    }

    /// A fixture with profile `srv` for the in-process SFTP server on `port` (its default
    /// user); `tweak` adjusts the config.
    pub fn with_sftp(port: u16, tweak: impl FnOnce(&mut Config)) -> EngineFixture {
        let fx = EngineFixture::new(tweak);
        fx.add_profile("srv", Protocol::Sftp, port, DEFAULT_USER, DEFAULT_PASSWORD);
        fx
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A scratch directory for local files.
    pub fn local(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(&path).expect("mkdir");
        path
    }

    pub fn store(&self) -> Store {
        Store::open(&self.data_dir().join("ferry.redb")).expect("store")
    }

    fn key(&self, store: &Store) -> VaultKey {
        let header = store.vault_header().expect("header").expect("vault");
        header
            .unlock(&Unlock::KeyFile(self.key_file.clone()))
            .expect("unlock")
    }

    /// Adds a password profile; the host key is learned on first use.
    pub fn add_profile(
        &self,
        name: &str,
        protocol: Protocol,
        port: u16,
        user: &str,
        password: &str,
    ) {
        self.add_profile_with(name, protocol, port, user, password, |_| {});
    }

    pub fn add_profile_with(
        &self,
        name: &str,
        protocol: Protocol,
        port: u16,
        user: &str,
        password: &str,
        tweak: impl FnOnce(&mut Profile),
    ) {
        let store = self.store();
        let key = self.key(&store);
        let mut profile = Profile::new(name, protocol, "127.0.0.1", port, user);
        profile.id = store.reserve_profile_id().expect("id");
        profile.max_connections = 5;
        profile.host_key_policy = HostKeyPolicy::AcceptNew;
        profile.timeout_secs = Some(10);
        profile.password = Some(key.seal(
            profile.slot(ProfileSecret::Password),
            &SecretString::from(password.to_string()),
        ));
        tweak(&mut profile);
        store.add_profile(&profile).expect("add profile");
    }

    /// Starts an engine on the current runtime (it takes the store until shut down).
    pub fn start(&self) -> EngineClient {
        self.start_with(true)
    }

    /// Starts an engine that runs the queue or (with `run_queue` false) only keeps it.
    pub fn start_with(&self, run_queue: bool) -> EngineClient {
        let store = self.store();
        let key = self.key(&store);
        ferry::engine::start(EngineSetup {
            store,
            config: self.config.clone(),
            paths: Paths::resolve(None, Some(self.data_dir())).expect("paths"),
            vault_key: Some(key),
            host_key_policy: None,
            run_queue,
        })
        .expect("engine")
    }
}

/// An upload or download request with the usual options.
pub fn request(
    direction: Direction,
    profile: &str,
    sources: &[&str],
    target: &str,
    recursive: bool,
) -> TransferRequest {
    TransferRequest {
        direction,
        profile: profile.into(),
        peer: None,
        sources: sources.iter().map(|s| s.to_string()).collect(),
        target: target.into(),
        recursive,
        overwrite: OverwritePolicy::Overwrite,
        limit: 0,
    }
}

/// Queues a request and returns its batch id.
pub async fn enqueue(client: &EngineClient, request: TransferRequest) -> u64 {
    match client.request(Request::Enqueue(request)).await {
        Response::Enqueued { batch } => batch,
        other => panic!("enqueue failed: {other:?}"),
    }
}

/// The history, newest first: at most `limit` records, only failed ones if `failed_only`.
pub async fn history(
    client: &EngineClient,
    limit: usize,
    failed_only: bool,
) -> Vec<ferry::transfer::model::Transfer> {
    match client
        .request(Request::History { limit, failed_only })
        .await
    {
        Response::History { transfers } => transfers,
        other => panic!("history: {other:?}"),
    }
}

/// Collects events until every batch in `batches` is done (or the timeout passes).
pub async fn wait_batches(
    watch: &mut Subscription,
    batches: &[u64],
    timeout: Duration,
) -> (Vec<BatchSummary>, Vec<Event>) {
    let mut summaries = vec![None; batches.len()];
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while summaries.iter().any(Option::is_none) {
        let event = tokio::time::timeout_at(deadline, watch.events.next())
            .await
            .expect("batches did not finish in time")
            .expect("engine stopped");
        if let Event::BatchDone {
            batch,
            summary,
            error,
        } = &event
        {
            assert!(error.is_none(), "batch {batch} failed to plan: {error:?}");
            if let Some(i) = batches.iter().position(|b| *b == *batch) {
                summaries[i] = Some(summary.clone());
            }
        }
        events.push(event);
    }
    (
        summaries.into_iter().map(|s| s.expect("summary")).collect(),
        events,
    )
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut hasher = Sha256::new();
    let mut file = std::fs::File::open(path).expect("open");
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    hex::encode(hasher.finalize())
}

/// Writes `size` pseudo-random bytes (fast, deterministic per seed).
pub fn random_file(path: &Path, size: usize, seed: u64) {
    use std::io::Write;
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut block = vec![0u8; 1 << 16];
    let mut left = size;
    while left > 0 {
        for chunk in block.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let bytes = state.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        let n = left.min(block.len());
        file.write_all(&block[..n]).expect("write");
        left -= n;
    }
    file.flush().expect("flush");
}

/// Sends a request and returns its answer, panicking on an error response.
pub async fn call(client: &EngineClient, request: Request) -> Response {
    let shown = format!("{request:?}");
    match client.request(request).await {
        Response::Error(failure) => panic!("{shown} failed: {failure:?}"),
        other => other,
    }
}

/// A listing gathered from its chunks: the entries (sorted by name) and the number of chunks.
pub async fn list(
    client: &EngineClient,
    place: ferry::engine::api::Place,
    path: &str,
) -> Result<(Vec<ferry::remote::Entry>, usize), ferry::engine::api::Failure> {
    let mut replies = client
        .stream(Request::List {
            place,
            path: path.to_string(),
        })
        .await;
    let mut entries = Vec::new();
    let mut chunks = 0;
    loop {
        match replies
            .recv()
            .await
            .expect("the listing ended without an answer")
        {
            Response::Entries { entries: chunk } => {
                chunks += 1;
                entries.extend(chunk);
            }
            Response::Listed { count, .. } => {
                assert_eq!(count, entries.len(), "Listed counts every entry sent");
                entries.sort_by(|a, b| a.name.cmp(&b.name));
                return Ok((entries, chunks));
            }
            Response::Error(failure) => return Err(failure),
            other => panic!("unexpected answer to a listing: {other:?}"),
        }
    }
}
