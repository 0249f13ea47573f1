//! `ferry put` and `ferry get`: plan the files into the engine's queue, run them concurrently,
//! show progress, and exit non-zero naming every file that failed.

use std::process::ExitCode;

use anyhow::bail;
use clap::Args;

use super::Context;
use super::target::{parse_remote, require_remote};
use super::watch::{Output, run_batch};
use crate::profile::HostKeyPolicy;
use crate::text::shown;
use crate::transfer::model::{Direction, OverwritePolicy, TransferRequest};
use crate::units::Rate;

/// Options shared by put and get.
#[derive(Debug, Args)]
pub struct TransferOptions {
    /// Copy directories with everything in them.
    #[arg(short = 'r', long)]
    recursive: bool,
    /// Most bytes per second for this command, e.g. 10MiB/s (the config's limit still applies).
    #[arg(long, value_name = "RATE")]
    limit: Option<Rate>,
    /// What to do with a destination file that exists.
    #[arg(long, value_enum, default_value_t = OverwritePolicy::Overwrite)]
    overwrite: OverwritePolicy,
    /// Print events as JSON lines instead of progress.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct PutArgs {
    /// Local files or directories, then NAME:DIR.
    #[arg(required = true, num_args = 2.., value_parser = super::bytes_arg::ExactText)]
    args: Vec<String>,
    #[command(flatten)]
    options: TransferOptions,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// NAME:PATH arguments (one server), then the local directory.
    #[arg(required = true, num_args = 2.., value_parser = super::bytes_arg::ExactText)]
    args: Vec<String>,
    #[command(flatten)]
    options: TransferOptions,
}

pub fn put(
    ctx: &Context,
    args: PutArgs,
    policy: Option<HostKeyPolicy>,
) -> anyhow::Result<ExitCode> {
    let (sources, dest) = args.args.split_at(args.args.len() - 1);
    let dest = require_remote(&dest[0])?;
    for source in sources {
        if parse_remote(source).is_some() {
            bail!(
                "put copies local files to a server: `{}` is remote (use get)",
                shown(source)
            );
        }
        if !crate::text::local_path(source).exists() {
            bail!("{}: no such file or directory", shown(source));
        }
    }
    let request = TransferRequest {
        direction: Direction::Upload,
        profile: dest.profile,
        peer: None,
        sources: sources.to_vec(),
        target: dest.path,
        recursive: args.options.recursive,
        overwrite: args.options.overwrite,
        limit: args.options.limit.map(|r| r.0).unwrap_or(0),
    };
    run_batch(ctx, request, policy, output(&args.options))
}

pub fn get(
    ctx: &Context,
    args: GetArgs,
    policy: Option<HostKeyPolicy>,
) -> anyhow::Result<ExitCode> {
    let (sources, dest) = args.args.split_at(args.args.len() - 1);
    let dest = &dest[0];
    if !crate::text::local_path(dest).is_dir() {
        bail!("{}: not a directory", shown(dest));
    }
    let sources = sources
        .iter()
        .map(|s| require_remote(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let profile = sources[0].profile.clone();
    if sources.iter().any(|s| s.profile != profile) {
        bail!("get downloads from one server at a time: run one command per profile");
    }
    let request = TransferRequest {
        direction: Direction::Download,
        profile,
        peer: None,
        sources: sources.into_iter().map(|s| s.path).collect(),
        target: dest.clone(),
        recursive: args.options.recursive,
        overwrite: args.options.overwrite,
        limit: args.options.limit.map(|r| r.0).unwrap_or(0),
    };
    run_batch(ctx, request, policy, output(&args.options))
}

fn output(options: &TransferOptions) -> Output {
    if options.json {
        Output::Json
    } else if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        Output::Terminal
    } else {
        Output::Quiet
    }
}
