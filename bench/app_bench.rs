//! Measures the app for bench/app.sh. `listing PROFILE`: the app in this process, drawn through
//! crossterm into a sink, opens PROFILE (whose directory holds the big listing) in the right
//! pane; it reports when the first rows were on screen, every frame's time while the listing
//! loads and while scrolling, sorting, filtering and marking, and the process's peak RSS.
//! `history N`: puts N finished transfers in the store. `start BIN RUNS`: the real binary in a
//! pseudo-terminal, start to first frame. `idle BIN PROFILE SECONDS`: the real binary with
//! PROFILE open in a pane, CPU time used and bytes drawn while nobody touches it. Each prints
//! one JSON object.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ferry::cli::Context;
use ferry::engine::api::{Response, Secret, VaultState};
use ferry::engine::{EngineClient, EngineSetup, Subscription};
use ferry::transfer::model::{Direction, ItemKind, OverwritePolicy, Transfer, TransferState};
use ferry::tui::app::{App, Clock, Start};
use ferry::tui::driver::Driver;
use ferry::tui::keymap::Keymap;
use ferry::tui::msg::{Effect, Input};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use serde_json::json;
use tokio::sync::mpsc;

/// The listing bench's terminal: the snapshot tests' larger size.
const SIZE: (u16, u16) = (120, 35);

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |n: usize| args.get(n).map(String::as_str).context("missing argument");
    let report = match arg(0)? {
        "listing" => listing(arg(1)?)?,
        "history" => history(arg(1)?.parse()?)?,
        "start" => start(arg(1)?, arg(2)?.parse()?)?,
        "idle" => idle(arg(1)?, arg(2)?, arg(3)?.parse()?)?,
        other => bail!("unknown measurement {other}"),
    };
    println!("{report}");
    Ok(())
}

/// Times of one kind of action, in milliseconds: wall clock, and the CPU time of the thread
/// that did the work (which a busy shared machine does not inflate by preempting it).
#[derive(Default)]
struct Frames(Vec<(f64, f64)>);

impl Frames {
    fn summary(&self) -> serde_json::Value {
        let stats = |pick: fn(&(f64, f64)) -> f64| {
            let mut sorted: Vec<f64> = self.0.iter().map(pick).collect();
            sorted.sort_by(f64::total_cmp);
            let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
            json!({"median_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0)})
        };
        json!({
            "frames": self.0.len(),
            "wall": stats(|f| f.0),
            "cpu": stats(|f| f.1),
        })
    }
}

/// CPU time of the calling thread, in milliseconds.
fn thread_cpu_ms() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given and nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    now.tv_sec as f64 * 1000.0 + now.tv_nsec as f64 / 1e6
}

/// The app against the engine, each input followed by a frame, as the event loop does.
struct Bench {
    app: App,
    watch: Subscription,
    driver: Driver,
    inputs: mpsc::UnboundedReceiver<Input>,
    term: Terminal<CrosstermBackend<std::io::Sink>>,
}

impl Bench {
    /// Feeds one input and draws; the time both took.
    fn step(&mut self, input: Input) -> anyhow::Result<(f64, f64)> {
        let (began, cpu) = (Instant::now(), thread_cpu_ms());
        let effects = self.app.update(input);
        for effect in effects {
            match effect {
                Effect::Send { id, request } => self.driver.send(id, request),
                Effect::Cancel(id) => self.driver.cancel(id),
                Effect::Edit { .. } | Effect::Suspend | Effect::Quit => {}
            }
        }
        let app = &self.app;
        self.term
            .draw(|frame| ferry::tui::views::render(frame, app))?;
        Ok((
            began.elapsed().as_secs_f64() * 1000.0,
            thread_cpu_ms() - cpu,
        ))
    }

    fn key(&mut self, code: KeyCode) -> anyhow::Result<(f64, f64)> {
        self.step(Input::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn chars(&mut self, text: &str, frames: &mut Frames) -> anyhow::Result<()> {
        for c in text.chars() {
            frames.0.push(self.key(KeyCode::Char(c))?);
        }
        Ok(())
    }

    /// Feeds what the engine sends until `done` holds; each input's frame goes to `frames`.
    async fn settle(
        &mut self,
        what: &str,
        frames: &mut Frames,
        done: impl Fn(&App) -> bool,
    ) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !done(&self.app) {
            let input = tokio::select! {
                event = self.watch.events.next() => Input::Engine(event.context("engine gone")?),
                changed = self.watch.progress.changed() => {
                    changed?;
                    Input::Progress(self.watch.progress.borrow_and_update().clone())
                }
                Some(input) = self.inputs.recv() => input,
                () = tokio::time::sleep_until(deadline) => bail!(
                    "timed out waiting for {what}; vault {:?}, {} profile(s), message {:?}",
                    self.app.vault, self.app.profiles.len(), self.app.message
                ),
            };
            if let Input::Reply(_, Response::Error(failure)) = &input {
                bail!("{what}: {}", failure.message);
            }
            frames.0.push(self.step(input)?);
        }
        Ok(())
    }
}

fn listing(profile: &str) -> anyhow::Result<serde_json::Value> {
    let ctx = context()?;
    let store = ctx.open_store()?;
    let passphrase = std::env::var_os("FERRY_PASSPHRASE_FILE")
        .context("FERRY_PASSPHRASE_FILE unlocks the vault")?;
    let passphrase = ferry::cli::passphrase_from_file(std::path::Path::new(&passphrase))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client: EngineClient = ferry::engine::start(EngineSetup {
            store,
            config: ctx.config.clone(),
            paths: ctx.paths.clone(),
            vault_key: None,
            host_key_policy: None,
            run_queue: true,
        })?;
        let (inputs_tx, inputs) = mpsc::unbounded_channel();
        let term = Terminal::with_options(
            CrosstermBackend::new(std::io::sink()),
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, SIZE.0, SIZE.1)),
            },
        )?;
        let dir = std::env::current_dir()?.to_string_lossy().into_owned();
        let mut app = App::new(Start {
            home: dir.clone(),
            dir,
            keymap: Keymap::default(),
            clock: Clock::System,
            size: SIZE,
            passphrase: Some(Secret::from(passphrase)),
            mouse: false,
            edit_dir: std::env::temp_dir().to_string_lossy().into_owned(),
            color: true,
        });
        let initial = app.take_effects();
        let mut bench = Bench {
            app,
            watch: client.subscribe(true),
            driver: Driver::new(client.clone(), inputs_tx),
            inputs,
            term,
        };
        for effect in initial {
            if let Effect::Send { id, request } = effect {
                bench.driver.send(id, request);
            }
        }
        let mut warmup = Frames::default();
        bench
            .settle("the vault and profiles", &mut warmup, |app| {
                matches!(app.vault, Some(VaultState::Unlocked { .. })) && !app.profiles.is_empty()
            })
            .await?;
        // Unlocking ran Argon2 (64 MiB by default): the peak that counts starts here.
        let unlocked_peak = kib("VmHWM:")?;
        std::fs::write("/proc/self/clear_refs", "5")?;
        bench.key(KeyCode::Char('2'))?;
        bench.key(KeyCode::Tab)?;
        bench.key(KeyCode::Char('o'))?;
        bench.chars(profile, &mut warmup)?;
        let opened = Instant::now();
        bench.key(KeyCode::Enter)?;
        let mut loading = Frames::default();
        bench
            .settle("the first rows", &mut loading, |app| {
                app.explorer.focused_pane().listing.total() > 0
            })
            .await?;
        let first_rows = opened.elapsed();
        bench
            .settle("the whole listing", &mut loading, |app| {
                let pane = app.explorer.focused_pane();
                pane.loading.is_none() && pane.connecting.is_none()
            })
            .await?;
        let whole = opened.elapsed();
        let entries = bench.app.explorer.focused_pane().listing.total();

        let mut scroll = Frames::default();
        for _ in 0..300 {
            scroll.0.push(bench.key(KeyCode::Char('j'))?);
        }
        for _ in 0..100 {
            scroll.0.push(bench.key(KeyCode::PageDown)?);
        }
        scroll.0.push(bench.key(KeyCode::Char('G'))?);
        for _ in 0..100 {
            scroll.0.push(bench.key(KeyCode::PageUp)?);
        }
        scroll.0.push(bench.key(KeyCode::Char('g'))?);

        let mut sort = Frames::default();
        bench.chars("sstnn.", &mut sort)?;
        bench.chars(".", &mut sort)?;

        let mut filter = Frames::default();
        bench.chars("/", &mut filter)?;
        bench.chars("f0042", &mut filter)?;
        for _ in 0..5 {
            filter.0.push(bench.key(KeyCode::Backspace)?);
        }
        bench.chars("7", &mut filter)?;
        filter.0.push(bench.key(KeyCode::Esc)?);

        let mut marks = Frames::default();
        bench.chars("*", &mut marks)?;
        for _ in 0..50 {
            marks.0.push(bench.key(KeyCode::PageDown)?);
        }
        bench.chars("ss", &mut marks)?;
        bench.chars("*", &mut marks)?;

        let report = json!({
            "measurement": "listing",
            "terminal": format!("{}x{}", SIZE.0, SIZE.1),
            "entries": entries,
            "first_rows_ms": first_rows.as_secs_f64() * 1000.0,
            "whole_listing_ms": whole.as_secs_f64() * 1000.0,
            "loading": loading.summary(),
            "scroll": scroll.summary(),
            "sort": sort.summary(),
            "filter": filter.summary(),
            "marks": marks.summary(),
            "peak_rss_kib": kib("VmHWM:")?,
            "rss_kib": kib("VmRSS:")?,
            "peak_rss_before_kib": unlocked_peak,
        });
        drop(bench);
        client.shutdown().await;
        Ok(report)
    })
}

/// A field of /proc/self/status, in KiB.
fn kib(field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .context("no such field")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("no value")?
        .parse()?)
}

/// The configuration and data directory ferry itself would use (`FERRY_CONFIG`,
/// `FERRY_DATA_DIR`).
fn context() -> anyhow::Result<Context> {
    let var = |name| std::env::var_os(name).map(std::path::PathBuf::from);
    Context::new(var("FERRY_CONFIG"), var("FERRY_DATA_DIR"))
}

fn history(count: u64) -> anyhow::Result<serde_json::Value> {
    let ctx = context()?;
    let store = ctx.open_store()?;
    let first = store.reserve_transfer_ids(count)?;
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_micros() as u64;
    let records: Vec<Transfer> = (0..count)
        .map(|n| {
            let id = first + n;
            let finished = now_us - (count - n) * 60_000_000;
            Transfer {
                id,
                batch: id,
                direction: if n % 2 == 0 {
                    Direction::Upload
                } else {
                    Direction::Download
                },
                kind: ItemKind::File,
                profile: "bench".into(),
                peer: None,
                local_path: format!("/srv/reports/{id}.csv"),
                remote_path: format!("/var/backups/{id}.csv"),
                state: if n % 50 == 0 {
                    TransferState::Failed
                } else {
                    TransferState::Done
                },
                overwrite: OverwritePolicy::Overwrite,
                limit: 0,
                source_size: 4096 + n,
                source_mtime: None,
                offset: 4096 + n,
                bytes_sent: 4096 + n,
                attempts: 1,
                error: None,
                verification: None,
                position: id,
                created_us: finished - 1_000_000,
                started_us: Some(finished - 900_000),
                finished_us: Some(finished),
                duration_ms: 900,
                run_id: None,
                segments: Vec::new(),
            }
        })
        .collect();
    for chunk in records.chunks(1000) {
        store.put_transfers(chunk)?;
    }
    Ok(json!({"measurement": "history", "rows": count}))
}

/// The real binary in a pseudo-terminal at 80×24, read back through vt100.
struct Pty {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn std::io::Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    bytes: Arc<AtomicUsize>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Pty {
    fn spawn(bin: &str) -> anyhow::Result<Pty> {
        let pty = native_pty_system().openpty(PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        })?;
        let mut cmd = CommandBuilder::new(bin);
        cmd.cwd(std::env::current_dir()?);
        for (key, value) in std::env::vars_os() {
            cmd.env(key, value);
        }
        cmd.env("TERM", "xterm-256color");
        let child = pty.slave.spawn_command(cmd)?;
        drop(pty.slave);
        let size = |n| std::num::NonZero::new(n).context("size");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(size(24)?, size(80)?, 0)));
        let bytes = Arc::new(AtomicUsize::new(0));
        let mut reader = pty.master.try_clone_reader()?;
        let (feed, count) = (parser.clone(), bytes.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                count.fetch_add(n, Ordering::Relaxed);
                if let Ok(mut parser) = feed.lock() {
                    parser.process(&buf[..n]);
                }
            }
        });
        let writer = pty.master.take_writer()?;
        Ok(Pty {
            child,
            writer,
            parser,
            bytes,
            _master: pty.master,
        })
    }

    fn screen(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    fn wait_for(&self, text: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.screen().contains(text) {
            if Instant::now() > deadline {
                bail!("timed out waiting for {text:?}; screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        Ok(())
    }

    fn send(&mut self, keys: &str) -> anyhow::Result<()> {
        self.writer.write_all(keys.as_bytes())?;
        Ok(self.writer.flush()?)
    }

    fn quit(mut self) -> anyhow::Result<()> {
        self.send("q")?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                self.child.kill()?;
                bail!("ferry did not quit; screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }
}

fn start(bin: &str, runs: usize) -> anyhow::Result<serde_json::Value> {
    let mut times = Frames::default();
    for _ in 0..runs {
        let began = Instant::now();
        let pty = Pty::spawn(bin)?;
        pty.wait_for("Dashboard")?;
        times.0.push((began.elapsed().as_secs_f64() * 1000.0, 0.0));
        pty.wait_for("unlocked")?;
        pty.quit()?;
    }
    Ok(
        json!({"measurement": "start", "runs": times.summary()["frames"], "wall": times.summary()["wall"]}),
    )
}

/// CPU time (user + system) of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').context("stat format")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11).context("utime")?.parse()?;
    let stime: u64 = fields.get(12).context("stime")?.parse()?;
    Ok(utime + stime)
}

fn idle(bin: &str, profile: &str, seconds: u64) -> anyhow::Result<serde_json::Value> {
    let mut pty = Pty::spawn(bin)?;
    pty.wait_for("unlocked")?;
    pty.send("2\to")?;
    pty.wait_for("Open a profile")?;
    pty.send(profile)?;
    pty.send("\r")?;
    pty.wait_for("hello.txt")?;
    std::thread::sleep(Duration::from_secs(2));
    let pid = pty.child.process_id().context("ferry's pid")?;
    let (ticks, bytes) = (cpu_ticks(pid)?, pty.bytes.load(Ordering::Relaxed));
    std::thread::sleep(Duration::from_secs(seconds));
    let used = cpu_ticks(pid)? - ticks;
    let drawn = pty.bytes.load(Ordering::Relaxed) - bytes;
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let cpu_seconds = used as f64 / per_second;
    pty.quit()?;
    Ok(json!({
        "measurement": "idle",
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "cpu_percent": cpu_seconds / seconds as f64 * 100.0,
        "bytes_drawn": drawn,
    }))
}
