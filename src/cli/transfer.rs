//! `ferry put` and `ferry get`: copy files to and from a server, each one through a part file,
//! verified, then renamed into place.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::bail;
use clap::Args;
use tokio_util::sync::CancellationToken;

use super::target::{parse_remote, require_remote};
use super::{Context, session};
use crate::profile::HostKeyPolicy;
use crate::remote::local::LocalRemote;
use crate::remote::{Remote, names};
use crate::transfer::copy::{CopyOptions, Progress, copy_file};
use crate::transfer::limit::RateLimiter;
use crate::units::{Rate, human_bytes};

#[derive(Debug, Args)]
pub struct PutArgs {
    /// Local files, then NAME:DIR.
    #[arg(required = true, num_args = 2..)]
    args: Vec<String>,
    /// Most bytes per second for this command (e.g. 10MiB/s).
    #[arg(long)]
    limit: Option<Rate>,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// NAME:PATH arguments, then the local directory.
    #[arg(required = true, num_args = 2..)]
    args: Vec<String>,
    /// Most bytes per second for this command (e.g. 10MiB/s).
    #[arg(long)]
    limit: Option<Rate>,
}

fn copy_options(limit: Option<Rate>) -> CopyOptions {
    CopyOptions {
        atomic: true,
        resume: true,
        verify_hash: true,
        preserve_mtime: true,
        limits: limit
            .and_then(|r| RateLimiter::new(r.0))
            .map(Arc::new)
            .into_iter()
            .collect(),
    }
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
            bail!("put copies local files to a server: `{source}` is remote (use get)");
        }
        if !Path::new(source).is_file() {
            bail!("{source}: not a readable file");
        }
    }
    let store = ctx.open_store()?;
    let options = copy_options(args.limit);
    session::runtime()?.block_on(async {
        let (profile, remote) = session::open(ctx, &store, &dest.profile, policy).await?;
        let dir = session::resolve(&profile, remote.as_ref(), &dest.path).await?;
        let local = LocalRemote::new();
        for source in sources {
            let name = Path::new(source)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let target = names::join(&dir, &name);
            let source = std::path::absolute(source)?.to_string_lossy().into_owned();
            copy_one(&local, &source, remote.as_ref(), &target, &options).await?;
        }
        remote.close().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn get(
    ctx: &Context,
    args: GetArgs,
    policy: Option<HostKeyPolicy>,
) -> anyhow::Result<ExitCode> {
    let (sources, dest) = args.args.split_at(args.args.len() - 1);
    let dest = PathBuf::from(&dest[0]);
    if !dest.is_dir() {
        bail!("{}: not a directory", dest.display());
    }
    let sources = sources
        .iter()
        .map(|s| require_remote(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let store = ctx.open_store()?;
    let options = copy_options(args.limit);
    session::runtime()?.block_on(async {
        let local = LocalRemote::new();
        for source in &sources {
            let (profile, remote) = session::open(ctx, &store, &source.profile, policy).await?;
            let path = session::resolve(&profile, remote.as_ref(), &source.path).await?;
            let target = names::local_child(&std::path::absolute(&dest)?, names::base_name(&path))?;
            let target = target.to_string_lossy().into_owned();
            copy_one(remote.as_ref(), &path, &local, &target, &options).await?;
            remote.close().await;
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn copy_one(
    src: &dyn Remote,
    src_path: &str,
    dst: &dyn Remote,
    dst_path: &str,
    options: &CopyOptions,
) -> anyhow::Result<()> {
    let progress = Progress::default();
    let started = std::time::Instant::now();
    let outcome = copy_file(
        src,
        src_path,
        dst,
        dst_path,
        options,
        &progress,
        &CancellationToken::new(),
    )
    .await?;
    let secs = started.elapsed().as_secs_f64().max(0.001);
    let moved = outcome.size - outcome.resumed_from;
    eprintln!(
        "{dst_path}: {} in {secs:.1}s ({}/s){}, {}",
        human_bytes(outcome.size),
        human_bytes((moved as f64 / secs) as u64),
        if outcome.resumed_from > 0 {
            format!(", resumed at {}", human_bytes(outcome.resumed_from))
        } else {
            String::new()
        },
        outcome.verification
    );
    Ok(())
}
