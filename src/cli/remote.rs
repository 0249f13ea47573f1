//! `ferry test | ls | mkdir | rm | mv`: working with a server's files from the command line,
//! through an engine like every other front end.

use std::process::ExitCode;

use anyhow::bail;
use clap::Args;

use super::call::Line;
use super::target::require_remote;
use super::watch::start_engine;
use super::{Context, print_json, session};
use crate::engine::api::{Failure, Place, Request, Response, TestReport};
use crate::profile::HostKeyPolicy;
use crate::remote::{Entry, ErrorKind, names};
use crate::text::shown;
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
    #[arg(value_parser = super::bytes_arg::ExactText)]
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
    #[arg(value_parser = super::bytes_arg::ExactText)]
    target: String,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Remove directories and their contents.
    #[arg(short = 'r', long)]
    recursive: bool,
    /// NAME:PATH
    #[arg(value_parser = super::bytes_arg::ExactText)]
    target: String,
}

#[derive(Debug, Args)]
pub struct MvArgs {
    /// NAME:FROM
    #[arg(value_parser = super::bytes_arg::ExactText)]
    from: String,
    /// The new path on the same server (TO or NAME:TO); into it if it is a directory.
    #[arg(value_parser = super::bytes_arg::ExactText)]
    to: String,
}

/// An engine for one remote command, and the profile's start directory.
async fn open(
    ctx: &Context,
    profile: &str,
    policy: Option<HostKeyPolicy>,
) -> anyhow::Result<(Line, String)> {
    let client = start_engine(ctx, &[profile], policy, false)?;
    let mut line = Line::new(client);
    let place = Place::Profile(profile.to_string());
    match line.call(Request::Open { place }).await {
        Ok(Response::Opened { start, .. }) => Ok((line, start)),
        Ok(other) => {
            line.shutdown().await;
            bail!("unexpected answer from the engine: {other:?}")
        }
        Err(err) => {
            line.shutdown().await;
            Err(err)
        }
    }
}

/// `path` as given on the command line, resolved against the start directory when relative.
fn resolve(start: &str, path: &str) -> String {
    match (path.starts_with('/'), path.is_empty()) {
        (true, _) => names::normalize(path),
        (false, true) => start.to_string(),
        (false, false) => names::normalize(&names::join(start, path)),
    }
}

/// Runs `work` against the profile's engine, then stops the engine whatever happened.
fn with_profile<T>(
    ctx: &Context,
    profile: &str,
    policy: Option<HostKeyPolicy>,
    work: impl AsyncFnOnce(&mut Line, &str) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    session::runtime()?.block_on(async {
        let (mut line, start) = open(ctx, profile, policy).await?;
        let result = work(&mut line, &start).await;
        line.shutdown().await;
        result
    })
}

pub fn test(
    ctx: &Context,
    args: TestArgs,
    policy: Option<HostKeyPolicy>,
) -> anyhow::Result<ExitCode> {
    let report = session::runtime()?.block_on(async {
        let client = start_engine(ctx, &[args.name.as_str()], policy, false)?;
        let mut line = Line::new(client);
        let report = line
            .call(Request::Test {
                profile: args.name.clone(),
            })
            .await;
        line.shutdown().await;
        match report? {
            Response::Tested { report } => anyhow::Ok(*report),
            other => bail!("unexpected answer from the engine: {other:?}"),
        }
    })?;
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
        eprintln!("ferry: {}", shown(&err.message));
        return;
    }
    for (index, hop) in report.hops.iter().enumerate() {
        let key = hop
            .host_key
            .as_ref()
            .map(|(kind, fingerprint)| format!("{kind} {fingerprint}"))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:12} {} ({}) in {} ms, host key {}",
            format!("jump {}:", index + 1),
            shown(&hop.name),
            shown(&hop.address),
            hop.millis,
            shown(&key)
        );
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
            println!("{:12} {}", format!("{label}:"), shown(&value));
        }
    }
}

pub fn ls(ctx: &Context, args: LsArgs, policy: Option<HostKeyPolicy>) -> anyhow::Result<ExitCode> {
    let target = require_remote(&args.target)?;
    let (entries, refused) = with_profile(ctx, &target.profile, policy, async |line, start| {
        let path = resolve(start, &target.path);
        let place = Place::Profile(target.profile.clone());
        let entry = match line
            .call(Request::Stat {
                place: place.clone(),
                path: path.clone(),
            })
            .await?
        {
            Response::Entry { entry } => entry,
            other => bail!("unexpected answer from the engine: {other:?}"),
        };
        if !entry.is_dir() {
            let name = target.path.clone();
            return Ok((vec![Entry { name, ..entry }], Vec::new()));
        }
        let (entries, _, refused) = line.list(Request::List { place, path }).await?;
        Ok((entries, refused))
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
            println!("{}{slash}", shown(&entry.name));
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
        .map(|t| format!(" -> {}", shown(t)))
        .unwrap_or_default();
    format!(
        "{} {:>8} {:>8} {:>12} {time} {}{link}",
        entry.mode_string(),
        shown(entry.owner.as_deref().unwrap_or("-")),
        shown(entry.group.as_deref().unwrap_or("-")),
        entry.size,
        shown(&entry.name)
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
    with_profile(ctx, &target.profile, policy, async |line, start| {
        let path = resolve(start, &target.path);
        let place = Place::Profile(target.profile.clone());
        line.call(Request::Mkdir { place, path }).await?;
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn rm(ctx: &Context, args: RmArgs, policy: Option<HostKeyPolicy>) -> anyhow::Result<ExitCode> {
    let target = require_remote(&args.target)?;
    if target.path.is_empty() || target.path == "/" {
        bail!("refusing to remove a profile's start directory or /: name the path to remove");
    }
    with_profile(ctx, &target.profile, policy, async |line, start| {
        let path = resolve(start, &target.path);
        let place = Place::Profile(target.profile.clone());
        let request = Request::Remove {
            place,
            path: path.clone(),
            recursive: args.recursive,
        };
        match line.call(request).await {
            Err(err)
                if err
                    .downcast_ref::<Failure>()
                    .is_some_and(|f| f.kind == ErrorKind::NotEmpty && !args.recursive) =>
            {
                bail!(
                    "{}: {} is a directory (use rm -r)",
                    target.profile,
                    shown(&path)
                )
            }
            other => other.map(|_| ()),
        }
    })?;
    Ok(ExitCode::SUCCESS)
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
    with_profile(ctx, &from.profile, policy, async |line, start| {
        let place = Place::Profile(from.profile.clone());
        let source = resolve(start, &from.path);
        let mut dest = resolve(start, &to);
        let stat = Request::Stat {
            place: place.clone(),
            path: dest.clone(),
        };
        match line.call(stat).await {
            Ok(Response::Entry { entry }) if entry.is_dir() => {
                dest = names::join(&dest, names::base_name(&source));
            }
            Ok(_) => {}
            Err(err)
                if err
                    .downcast_ref::<Failure>()
                    .is_some_and(|f| f.kind == ErrorKind::NotFound) => {}
            Err(err) => return Err(err),
        }
        line.call(Request::Rename {
            place,
            from: source,
            to: dest,
        })
        .await?;
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
