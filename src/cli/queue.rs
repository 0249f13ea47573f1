//! `ferry queue` and `ferry history`: the transfer queue and its finished records.

use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};

use super::watch::{End, Output, follow, start_engine};
use super::{Context, print_json};
use crate::engine::api::{BatchSummary, Event, Request, Response, TransferView};
use crate::profile::HostKeyPolicy;
use crate::text::shown;
use crate::transfer::model::{Direction, Transfer, TransferState};
use crate::units::human_bytes;

#[derive(Debug, Args)]
pub struct QueueArgs {
    #[command(subcommand)]
    action: Option<QueueAction>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum QueueAction {
    /// Hold a queued or running transfer (its part file is kept).
    Pause { id: u64 },
    /// Continue a paused transfer, and run it now.
    Resume { id: u64 },
    /// Drop a transfer and its part file.
    Cancel { id: u64 },
    /// Queue a failed, cancelled or interrupted transfer again, and run it now.
    Retry { id: u64 },
    /// Move a queued transfer one place earlier.
    Up { id: u64 },
    /// Move a queued transfer one place later.
    Down { id: u64 },
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Only failed transfers.
    #[arg(long)]
    failed: bool,
    #[arg(long)]
    json: bool,
}

pub fn queue(
    ctx: &Context,
    args: QueueArgs,
    policy: Option<HostKeyPolicy>,
) -> anyhow::Result<ExitCode> {
    let Some(action) = args.action else {
        let queue = super::session::runtime()?.block_on(async {
            let client = start_engine(ctx, &[], policy, false)?;
            let window = client
                .ask(Request::QueueWindow {
                    start: 0,
                    len: usize::MAX,
                })
                .await;
            client.shutdown().await;
            match window? {
                Response::QueueWindow { transfers, .. } => anyhow::Ok(transfers),
                other => bail!("unexpected answer from the engine: {other:?}"),
            }
        })?;
        if args.json {
            print_json(&queue)?;
        } else if queue.is_empty() {
            println!("the queue is empty");
        } else {
            print_views(&queue);
        }
        return Ok(ExitCode::SUCCESS);
    };
    let (request, id, run) = match action {
        QueueAction::Pause { id } => (Request::Pause { id }, id, false),
        QueueAction::Cancel { id } => (Request::Cancel { id }, id, false),
        QueueAction::Up { id } => (Request::Move { id, up: true }, id, false),
        QueueAction::Down { id } => (Request::Move { id, up: false }, id, false),
        QueueAction::Resume { id } => (Request::Resume { id }, id, true),
        QueueAction::Retry { id } => (Request::Retry { id }, id, true),
    };
    let profile = ctx.open_store()?.transfer(id)?.map(|t| t.profile);
    let Some(profile) = profile else {
        bail!("no transfer {id} (see `ferry queue` and `ferry history`)");
    };
    let runtime = super::session::runtime()?;
    runtime.block_on(async {
        let profiles: Vec<&str> = if run {
            vec![profile.as_str()]
        } else {
            Vec::new()
        };
        let client = start_engine(ctx, &profiles, policy, run)?;
        let mut watch = client.subscribe(super::prompt::TerminalPrompt::available());
        if let Response::Error(failure) = client.request(request).await {
            client.shutdown().await;
            bail!(failure);
        }
        if !run {
            client.shutdown().await;
            return Ok(ExitCode::SUCCESS);
        }
        let output = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            Output::Terminal
        } else {
            Output::Quiet
        };
        let end = follow(&client, &mut watch, output, None, |event| match event {
            Event::Finished { transfer } if transfer.id == id && transfer.state.is_final() => {
                Some((summary_of(transfer), None))
            }
            _ => None,
        })
        .await?;
        client.shutdown().await;
        Ok(match end {
            End::Finished(summary, _, failures) => {
                for failure in failures {
                    eprintln!("failed: {failure}");
                }
                if summary.done + summary.skipped == 1 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            End::Interrupted => ExitCode::from(130),
        })
    })
}

fn summary_of(transfer: &Transfer) -> BatchSummary {
    let mut summary = BatchSummary::default();
    match transfer.state {
        TransferState::Done => summary.done = 1,
        TransferState::Skipped => summary.skipped = 1,
        TransferState::Cancelled => summary.cancelled = 1,
        _ => summary.failed = 1,
    }
    summary
}

pub fn history(ctx: &Context, args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let records = ctx
        .open_store()?
        .transfer_history(args.limit, args.failed)?;
    if args.json {
        print_json(&records)?;
    } else if records.is_empty() {
        println!("no finished transfers yet");
    } else {
        print_table(&records);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_views(views: &[TransferView]) {
    println!(
        "{:>6}  {:11}  {:>21}  {:>3}  {:10}  TRANSFER",
        "ID", "STATE", "DONE", "TRY", "PROFILE"
    );
    for v in views {
        println!(
            "{:>6}  {:11}  {:>21}  {:>3}  {:10}  {} {} {}",
            v.id,
            format!("{:?}", v.state).to_lowercase(),
            format!("{}/{}", human_bytes(v.done), human_bytes(v.total)),
            v.attempts,
            v.profile,
            shown(&v.source),
            arrow(v.direction),
            shown(&v.destination)
        );
        if let Some(error) = &v.error {
            println!("        {}", shown(error));
        }
    }
}

fn arrow(direction: Direction) -> &'static str {
    match direction {
        Direction::Upload | Direction::Relay => "->",
        Direction::Download => "<-",
    }
}

fn print_table(records: &[Transfer]) {
    println!(
        "{:>6}  {:11}  {:>10}  {:>7}  {:>3}  {:10}  TRANSFER",
        "ID", "STATE", "SIZE", "TIME", "TRY", "PROFILE"
    );
    for t in records {
        let arrow = arrow(t.direction);
        let size = if t.state.is_final() {
            human_bytes(t.source_size)
        } else {
            format!("{}/{}", human_bytes(t.offset), human_bytes(t.source_size))
        };
        println!(
            "{:>6}  {:11}  {:>10}  {:>6.1}s  {:>3}  {:10}  {} {arrow} {}",
            t.id,
            format!("{:?}", t.state).to_lowercase(),
            size,
            t.duration_ms as f64 / 1000.0,
            t.attempts,
            t.profile,
            shown(t.source()),
            shown(t.destination())
        );
        if let Some(error) = &t.error {
            println!("        {}", shown(&error.to_string()));
        } else if let Some(verification) = &t.verification {
            println!("        verified: {verification}");
        }
    }
}
