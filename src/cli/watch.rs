//! Running an engine for the length of a command and watching it: one progress line per active
//! transfer on a terminal, nothing on a pipe, JSON lines with `--json`; host-key questions asked
//! on the terminal; SIGINT/SIGTERM stop the engine so running transfers resume next time.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::bail;
use tokio::signal::unix::{SignalKind, signal};

use super::Context;
use super::prompt::TerminalPrompt;
use crate::engine::api::{BatchSummary, Event, QueueSnapshot, Request, Response};
use crate::engine::{EngineClient, EngineSetup, Subscription};
use crate::profile::HostKeyPolicy;
use crate::text::shown;
use crate::transfer::model::{TransferRequest, TransferState};
use crate::units::human_bytes;

/// How a command shows what happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Terminal,
    Quiet,
    Json,
}

/// Starts an engine in this process (unlocking the vault first if `profiles` need it).
pub fn start_engine(
    ctx: &Context,
    profiles: &[&str],
    policy: Option<HostKeyPolicy>,
    run_queue: bool,
) -> anyhow::Result<EngineClient> {
    let store = ctx.open_store()?;
    let mut needs_key = false;
    for name in profiles {
        let profile = store.profile(name)?;
        needs_key |= profile.password.is_some() || profile.key_passphrase.is_some();
        if profile.protocol == crate::profile::Protocol::Ftp {
            eprintln!("warning: {name} uses plain FTP: the password and files travel unencrypted");
        }
    }
    if run_queue && !needs_key {
        // Restored transfers may belong to other profiles with secrets.
        let queued = store.queued_transfers()?;
        for transfer in queued {
            if let Ok(profile) = store.profile(&transfer.profile) {
                needs_key |= profile.password.is_some() || profile.key_passphrase.is_some();
            }
        }
    }
    let vault_key = if needs_key {
        Some(ctx.unlock(&store)?)
    } else {
        None
    };
    Ok(crate::engine::start(EngineSetup {
        store,
        config: ctx.config.clone(),
        paths: ctx.paths.clone(),
        vault_key,
        host_key_policy: policy,
        run_queue,
    })?)
}

/// Queues `request` and watches it to the end; the exit code says whether every file made it.
pub fn run_batch(
    ctx: &Context,
    request: TransferRequest,
    policy: Option<HostKeyPolicy>,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let runtime = super::session::runtime()?;
    runtime.block_on(async {
        let client = start_engine(ctx, &[&request.profile], policy, true)?;
        let mut watch = client.subscribe(TerminalPrompt::available());
        let batch = match client.request(Request::Enqueue(request)).await {
            Response::Enqueued { batch } => batch,
            Response::Error(failure) => bail!(failure),
            other => bail!("unexpected answer from the engine: {other:?}"),
        };
        let end = follow(
            &client,
            &mut watch,
            output,
            Some(batch),
            |event| match event {
                Event::BatchDone {
                    batch: b,
                    summary,
                    error,
                } if *b == batch => Some((summary.clone(), error.clone())),
                _ => None,
            },
        )
        .await?;
        client.shutdown().await;
        report(end, output)
    })
}

/// How watching ended.
pub enum End {
    Finished(BatchSummary, Option<String>, Vec<String>),
    Interrupted,
}

/// Follows events until `done` picks one, or a signal arrives (which shuts the engine down).
/// Should the events fall behind, `batch` is looked up so its end is not missed.
pub async fn follow(
    client: &EngineClient,
    watch: &mut Subscription,
    output: Output,
    batch: Option<u64>,
    done: impl Fn(&Event) -> Option<(BatchSummary, Option<String>)>,
) -> anyhow::Result<End> {
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut lines = ProgressLines::default();
    let mut failures = Vec::new();
    let mut last_json_progress = Instant::now() - Duration::from_secs(1);
    loop {
        tokio::select! {
            _ = sigint.recv() => return interrupted(client, &mut lines).await,
            _ = sigterm.recv() => return interrupted(client, &mut lines).await,
            changed = watch.progress.changed() => {
                if changed.is_err() {
                    bail!("the engine stopped unexpectedly");
                }
                let snapshot = watch.progress.borrow_and_update().clone();
                match output {
                    Output::Terminal => lines.draw(&snapshot),
                    Output::Json if last_json_progress.elapsed() >= Duration::from_millis(500) => {
                        last_json_progress = Instant::now();
                        print_json_line(&Event::Progress { snapshot });
                    }
                    _ => {}
                }
            }
            event = watch.events.next() => {
                let Some(event) = event else { bail!("the engine stopped unexpectedly") };
                if output == Output::Json {
                    print_json_line(&event);
                }
                match &event {
                    Event::Question { id, question } => {
                        lines.clear();
                        let question = question.clone();
                        let answer = tokio::task::spawn_blocking(move || super::prompt::answer(&question))
                            .await
                            .ok()
                            .flatten();
                        if let Some(answer) = answer {
                            client.request(Request::Answer { question: *id, answer }).await;
                        }
                    }
                    Event::Finished { transfer } if transfer.state == TransferState::Failed => {
                        let error = transfer.error.as_ref().map(|e| shown(&e.to_string()).into_owned()).unwrap_or_default();
                        failures.push(format!("{} -> {}: {error}", shown(transfer.source()), shown(transfer.destination())));
                    }
                    Event::Lagged { missed } => {
                        failures.push(format!("{missed} event(s) were missed: see `ferry history --failed`"));
                        if let Some(batch) = batch
                            && let Response::Batch { finished: true, summary } = client.request(Request::Batch { id: batch }).await
                        {
                            lines.clear();
                            return Ok(End::Finished(summary, None, failures));
                        }
                    }
                    _ => {}
                }
                if let Some((summary, error)) = done(&event) {
                    lines.clear();
                    return Ok(End::Finished(summary, error, failures));
                }
            }
        }
    }
}

async fn interrupted(client: &EngineClient, lines: &mut ProgressLines) -> anyhow::Result<End> {
    lines.clear();
    eprintln!("ferry: stopping; running transfers are recorded and resume on the next run");
    client.shutdown().await;
    Ok(End::Interrupted)
}

fn report(end: End, output: Output) -> anyhow::Result<ExitCode> {
    let (summary, error, failures) = match end {
        End::Interrupted => return Ok(ExitCode::from(130)),
        End::Finished(summary, error, failures) => (summary, error, failures),
    };
    if let Some(error) = &error {
        eprintln!("ferry: {}", shown(error));
    }
    for failure in &failures {
        eprintln!("failed: {failure}");
    }
    if output != Output::Json {
        eprintln!(
            "{} done ({}), {} skipped, {} failed{}",
            summary.done,
            human_bytes(summary.bytes),
            summary.skipped,
            summary.failed,
            if summary.cancelled > 0 {
                format!(", {} cancelled", summary.cancelled)
            } else {
                String::new()
            }
        );
    }
    let ok =
        error.is_none() && summary.failed == 0 && summary.cancelled == 0 && failures.is_empty();
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_json_line(event: &Event) {
    if let Ok(line) = super::json::to_line(event) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }
}

/// The block of progress lines at the bottom of the terminal, redrawn in place.
#[derive(Default)]
struct ProgressLines {
    drawn: usize,
}

impl ProgressLines {
    fn draw(&mut self, snapshot: &QueueSnapshot) {
        let (width, height) = terminal_size();
        let mut text = String::new();
        self.erase(&mut text);
        let mut running: Vec<_> = snapshot
            .transfers
            .iter()
            .filter(|t| t.state == TransferState::Running)
            .collect();
        // The block must fit on the screen to be redrawn in place: the transfers with the
        // most left to do get a line, the rest a count.
        let room = height.saturating_sub(3).max(1);
        let hidden = running.len().saturating_sub(room);
        running.sort_by_key(|view| std::cmp::Reverse(view.total.saturating_sub(view.done)));
        running.truncate(room);
        for view in &running {
            let percent = (view.done * 100).checked_div(view.total).unwrap_or(100);
            let eta = view
                .eta_secs
                .map(|s| format!(" eta {}:{:02}", s / 60, s % 60))
                .unwrap_or_default();
            let name = shown(crate::remote::names::base_name(&view.destination));
            let line = format!(
                "{percent:>3}% {:>10} / {:<10} {:>10}/s{eta}  {name}",
                human_bytes(view.done),
                human_bytes(view.total),
                human_bytes(view.rate)
            );
            text.push_str(&truncate(&line, width));
            text.push('\n');
        }
        let more = match hidden {
            0 => String::new(),
            n => format!(" ({n} not shown)"),
        };
        let total = format!(
            "{} running{more}, {} queued  {}/s",
            snapshot.running,
            snapshot.queued,
            human_bytes(snapshot.rate)
        );
        text.push_str(&truncate(&total, width));
        text.push('\n');
        self.drawn = running.len() + 1;
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
    }

    fn erase(&mut self, text: &mut String) {
        for _ in 0..self.drawn {
            text.push_str("\x1b[1A\x1b[2K");
        }
        self.drawn = 0;
    }

    fn clear(&mut self) {
        if self.drawn == 0 {
            return;
        }
        let mut text = String::new();
        self.erase(&mut text);
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
}

fn truncate(line: &str, width: usize) -> String {
    line.chars().take(width.saturating_sub(1)).collect()
}

/// Columns and rows of the terminal on stderr (80 x 24 when it does not say).
fn terminal_size() -> (usize, usize) {
    // SAFETY: TIOCGWINSZ fills a winsize struct for a terminal fd; we pass a valid pointer.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    let or = |value: u16, default: usize| match ok && value > 0 {
        true => usize::from(value),
        false => default,
    };
    (or(size.ws_col, 80), or(size.ws_row, 24))
}
