//! `ferry profile import-ssh-config`: each concrete `Host` of `~/.ssh/config` becomes an SFTP
//! profile using its IdentityFile or the agent. Wildcard patterns are skipped and reported.

use std::path::PathBuf;

use anyhow::Context as _;

use super::Context;
use crate::profile::Profile;
use crate::ssh_config::{self, to_profile};
use crate::store::LogLevel;

/// What happens to one host.
enum Plan {
    Add(Profile),
    Replace(Profile),
    Skip(String),
}

pub fn run(
    ctx: &Context,
    file: Option<PathBuf>,
    dry_run: bool,
    replace: bool,
) -> anyhow::Result<()> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .context("HOME is not set: pass --file")?;
    let ssh_dir = home.join(".ssh");
    let file = file.unwrap_or_else(|| ssh_dir.join("config"));
    let config = ssh_config::read(&file, &ssh_dir)?;
    let store = ctx.open_store()?;
    let mut added = 0;
    for host in &config.hosts {
        let exists = store.profile(&host.alias).is_ok();
        let plan = match to_profile(host) {
            Err(reason) => Plan::Skip(reason),
            Ok(_) if exists && !replace => {
                Plan::Skip("a profile with this name exists (use --replace)".into())
            }
            Ok(profile) if exists => Plan::Replace(profile),
            Ok(profile) => Plan::Add(profile),
        };
        let verb = if dry_run { "would " } else { "" };
        match plan {
            Plan::Skip(reason) => println!("skipped {}: {reason}", host.alias),
            Plan::Add(mut profile) | Plan::Replace(mut profile) if !dry_run => {
                profile.id = store.reserve_profile_id()?;
                store.replace_profile(&profile)?;
                added += 1;
                println!(
                    "{}imported {}: {} ({})",
                    verb,
                    profile.name,
                    profile.url(),
                    auth(&profile)
                );
            }
            Plan::Add(profile) | Plan::Replace(profile) => {
                println!(
                    "{verb}import {}: {} ({})",
                    profile.name,
                    profile.url(),
                    auth(&profile)
                );
            }
        }
    }
    for pattern in &config.skipped_patterns {
        println!("skipped pattern {pattern}: not a single host");
    }
    for note in &config.notes {
        println!("note: {note}");
    }
    if !dry_run && added > 0 {
        store.log(
            LogLevel::Info,
            "profile",
            &format!("{added} profile(s) imported from {}", file.display()),
        )?;
    }
    Ok(())
}

fn auth(profile: &Profile) -> String {
    match &profile.key_file {
        Some(key) => format!("key {}", key.display()),
        None => "ssh-agent".to_string(),
    }
}
