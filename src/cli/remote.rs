//! `ferry test | ls | mkdir | rm | mv`: working with a server's files from the command line.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;
use clap::Args;
use serde::Serialize;

use super::target::require_remote;
use super::{Context, print_json, session};
use crate::profile::HostKeyPolicy;
use crate::remote::{Entry, EntryKind, ErrorKind, Remote, names};
use crate::units::human_bytes;

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The profile to test.
    name: String,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// NAME:PATH (an empty PATH lists the profile's start directory).
    target: String,
    /// Long format: mode, owner, group, size, time.
    #[arg(short = 'l')]
    long: bool,
    /// Show entries starting with a dot.
    #[arg(short = 'a')]
    all: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct PathArgs {
    /// NAME:PATH
    target: String,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Remove directories and their contents.
    #[arg(short = 'r', long)]
    recursive: bool,
    /// NAME:PATH
    target: String,
}

#[derive(Debug, Args)]
pub struct MvArgs {
    /// NAME:FROM
    from: String,
    /// The new path on the same server (TO or NAME:TO); into it if it is a directory.
    to: String,
}

#[derive(Serialize)]
struct TestReport {
    profile: String,
    address: String,
    ok: bool,
    connect_ms: Option<u128>,
    banner: Option<String>,
    host_key: Option<String>,
    certificate: Option<String>,
    auth_method: Option<String>,
    security: Option<String>,
    home: Option<String>,
    free_bytes: Option<u64>,
    error: Option<String>,
}

pub fn test(
    ctx: &Context,
    args: TestArgs,
    policy: Option<HostKeyPolicy>,
) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store()?;
    let profile = store.profile(&args.name)?;
    let rt = session::runtime()?;
    let mut report = TestReport {
        profile: profile.name.clone(),
        address: profile.address(),
        ok: false,
        connect_ms: None,
        banner: None,
        host_key: None,
        certificate: None,
        auth_method: None,
        security: None,
        home: None,
        free_bytes: None,
        error: None,
    };
    let started = Instant::now();
    let outcome = rt.block_on(async {
        let (_, remote) = session::open(ctx, &store, &args.name, policy).await?;
        let elapsed = started.elapsed();
        let info = remote.session_info();
        let home = remote.home().await?;
        let free = remote.free_space(&home).await.unwrap_or(None);
        remote.close().await;
        anyhow::Ok((elapsed, info, home, free))
    });
    match outcome {
        Ok((elapsed, info, home, free)) => {
            report.ok = true;
            report.connect_ms = Some(elapsed.as_millis());
            report.banner = info.banner;
            report.host_key = info.host_key.map(|(t, f)| format!("{t} {f}"));
            report.certificate = info.certificate.map(|(s, f)| format!("{s} (SHA-256 {f})"));
            report.auth_method = Some(info.auth_method);
            report.security = info.security;
            report.home = Some(home);
            report.free_bytes = free;
        }
        Err(err) => report.error = Some(format!("{err:#}")),
    }
    if args.json {
        print_json(&report)?;
    } else {
        print_test(&report);
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_test(report: &TestReport) {
    if let Some(err) = &report.error {
        eprintln!("ferry: {err}");
        return;
    }
    println!(
        "connected to {} ({}) in {} ms",
        report.profile,
        report.address,
        report.connect_ms.unwrap_or(0)
    );
    let rows = [
        ("server", report.banner.clone()),
        ("host key", report.host_key.clone()),
        ("certificate", report.certificate.clone()),
        ("auth", report.auth_method.clone()),
        ("channel", report.security.clone()),
        ("home", report.home.clone()),
        ("free space", report.free_bytes.map(human_bytes)),
    ];
    for (label, value) in rows {
        if let Some(value) = value {
            println!("{:12} {value}", format!("{label}:"));
        }
    }
}

pub fn ls(ctx: &Context, args: LsArgs, policy: Option<HostKeyPolicy>) -> anyhow::Result<ExitCode> {
    let target = require_remote(&args.target)?;
    let store = ctx.open_store()?;
    let rt = session::runtime()?;
    let (entries, refused) = rt.block_on(async {
        let (profile, remote) = session::open(ctx, &store, &target.profile, policy).await?;
        let path = session::resolve(&profile, remote.as_ref(), &target.path).await?;
        let listed = match remote.stat(&path).await {
            Ok(entry) if !entry.is_dir() => (
                vec![Entry {
                    name: target.path.clone(),
                    ..entry
                }],
                Vec::new(),
            ),
            Ok(_) => remote.list(&path).await?,
            Err(err) => return Err(err.into()),
        };
        remote.close().await;
        anyhow::Ok(listed)
    })?;
    let mut entries: Vec<Entry> = entries
        .into_iter()
        .filter(|e| args.all || !e.name.starts_with('.'))
        .collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    if !refused.is_empty() {
        eprintln!(
            "warning: refused {} unsafe name(s) from the server: {}",
            refused.len(),
            refused.join(", ")
        );
    }
    if args.json {
        print_json(&entries)?;
    } else if args.long {
        for entry in &entries {
            println!("{}", long_line(entry));
        }
    } else {
        for entry in &entries {
            let slash = if entry.is_dir() { "/" } else { "" };
            println!("{}{slash}", entry.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn long_line(entry: &Entry) -> String {
    let time = entry
        .mtime
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| "-".repeat(16));
    let link = entry
        .link_target
        .as_ref()
        .map(|t| format!(" -> {t}"))
        .unwrap_or_default();
    format!(
        "{} {:>8} {:>8} {:>12} {time} {}{link}",
        entry.mode_string(),
        entry.owner.as_deref().unwrap_or("-"),
        entry.group.as_deref().unwrap_or("-"),
        entry.size,
        entry.name
    )
}

pub fn mkdir(
    ctx: &Context,
    args: PathArgs,
    policy: Option<HostKeyPolicy>,
) -> anyhow::Result<ExitCode> {
    let target = require_remote(&args.target)?;
    if target.path.is_empty() {
        bail!("give the directory to create: NAME:PATH");
    }
    let store = ctx.open_store()?;
    session::runtime()?.block_on(async {
        let (profile, remote) = session::open(ctx, &store, &target.profile, policy).await?;
        let path = session::resolve(&profile, remote.as_ref(), &target.path).await?;
        remote.mkdir_all(&path).await?;
        remote.close().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn rm(ctx: &Context, args: RmArgs, policy: Option<HostKeyPolicy>) -> anyhow::Result<ExitCode> {
    let target = require_remote(&args.target)?;
    if target.path.is_empty() || target.path == "/" {
        bail!("refusing to remove a profile's start directory or /: name the path to remove");
    }
    let store = ctx.open_store()?;
    session::runtime()?.block_on(async {
        let (profile, remote) = session::open(ctx, &store, &target.profile, policy).await?;
        let path = session::resolve(&profile, remote.as_ref(), &target.path).await?;
        let entry = lstat(remote.as_ref(), &path).await?;
        match (entry.kind, args.recursive) {
            (EntryKind::Dir, false) => {
                bail!("{}: {path} is a directory (use rm -r)", remote.endpoint())
            }
            (EntryKind::Dir, true) => remove_tree(remote.as_ref(), &path).await?,
            _ => remote.remove_file(&path).await?,
        }
        remote.close().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The entry itself (a symlink is not followed), found by listing its parent.
async fn lstat(remote: &dyn Remote, path: &str) -> anyhow::Result<Entry> {
    let name = names::base_name(path);
    if let Some(parent) = names::parent(path)
        && let Ok(entries) = remote.read_dir(&parent).await
        && let Some(entry) = entries.into_iter().find(|e| e.name == name)
    {
        return Ok(entry);
    }
    Ok(remote.stat(path).await?)
}

/// Removes a directory tree without following symlinks (a link is removed, not its target).
async fn remove_tree(remote: &dyn Remote, root: &str) -> anyhow::Result<()> {
    let mut stack = vec![(root.to_string(), false)];
    while let Some((dir, emptied)) = stack.pop() {
        if emptied {
            remote.remove_dir(&dir).await?;
            continue;
        }
        stack.push((dir.clone(), true));
        let (entries, refused) = remote.list(&dir).await?;
        if !refused.is_empty() {
            bail!(
                "{}: {dir} holds names ferry will not touch ({}); remove them with another tool",
                remote.endpoint(),
                refused.join(", ")
            );
        }
        for entry in entries {
            let path = names::join(&dir, &entry.name);
            match entry.kind {
                EntryKind::Dir => stack.push((path, false)),
                _ => remote.remove_file(&path).await?,
            }
        }
    }
    Ok(())
}

pub fn mv(ctx: &Context, args: MvArgs, policy: Option<HostKeyPolicy>) -> anyhow::Result<ExitCode> {
    let from = require_remote(&args.from)?;
    let to = match super::target::parse_remote(&args.to) {
        Some(to) if to.profile != from.profile => {
            bail!("mv works within one server; copy between servers with get and put")
        }
        Some(to) => to.path,
        None => args.to.clone(),
    };
    let store = ctx.open_store()?;
    session::runtime()?.block_on(async {
        let (profile, remote) = session::open(ctx, &store, &from.profile, policy).await?;
        let source = session::resolve(&profile, remote.as_ref(), &from.path).await?;
        let mut dest = session::resolve(&profile, remote.as_ref(), &to).await?;
        match remote.stat(&dest).await {
            Ok(entry) if entry.is_dir() => dest = names::join(&dest, names::base_name(&source)),
            Ok(_) => {}
            Err(err) if err.kind == ErrorKind::NotFound => {}
            Err(err) => return Err(err.into()),
        }
        remote.rename(&source, &dest).await?;
        remote.close().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
