//! How profiles are shown: `ferry profile list` and `show`, as text or JSON, with secrets
//! only ever as "set".

use std::path::PathBuf;

use serde::Serialize;

use super::{Context, print_json};
use crate::profile::{HostKeyPolicy, Profile, Protocol};

/// A profile as shown to people and scripts: secrets only as "set".
#[derive(Debug, Serialize)]
pub struct ProfileView {
    pub name: String,
    pub url: String,
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub remote_dir: Option<String>,
    pub local_dir: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub agent: bool,
    pub password: Option<&'static str>,
    pub key_passphrase: Option<&'static str>,
    pub max_connections: u32,
    pub host_key_policy: HostKeyPolicy,
    pub timeout_secs: Option<u32>,
    pub cert_pin: Option<String>,
    pub charset: Option<String>,
    pub no_exec: bool,
    pub jump: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&Profile> for ProfileView {
    fn from(p: &Profile) -> Self {
        let set = |present: bool| present.then_some("set");
        ProfileView {
            name: p.name.clone(),
            url: p.url(),
            protocol: p.protocol,
            host: p.host.clone(),
            port: p.port,
            user: p.user.clone(),
            remote_dir: p.remote_dir.clone(),
            local_dir: p.local_dir.clone(),
            key_file: p.key_file.clone(),
            agent: p.agent,
            password: set(p.password.is_some()),
            key_passphrase: set(p.key_passphrase.is_some()),
            max_connections: p.max_connections,
            host_key_policy: p.host_key_policy,
            timeout_secs: p.timeout_secs,
            cert_pin: p.cert_pin.clone(),
            charset: p.charset.clone(),
            no_exec: p.no_exec,
            jump: p.jump.clone(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

pub(super) fn list(ctx: &Context, json: bool) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let profiles = store.list_profiles()?;
    if json {
        let views: Vec<ProfileView> = profiles.iter().map(ProfileView::from).collect();
        return print_json(&views);
    }
    if profiles.is_empty() {
        println!("no profiles yet (add one with `ferry profile add NAME URL`)");
        return Ok(());
    }
    let width = profiles
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!(
        "{:width$}  {:13}  {:30}  AUTH",
        "NAME", "PROTOCOL", "ADDRESS"
    );
    for p in &profiles {
        let address = format!("{}@{}", p.user, p.address());
        println!(
            "{:width$}  {:13}  {:30}  {}",
            p.name,
            p.protocol.to_string(),
            address,
            auth_summary(p)
        );
    }
    Ok(())
}

fn auth_summary(p: &Profile) -> String {
    let mut parts = Vec::new();
    if p.agent {
        parts.push("agent".to_string());
    }
    if let Some(key) = &p.key_file {
        parts.push(format!("key {}", key.display()));
    }
    if p.password.is_some() {
        parts.push("password".to_string());
    }
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(", ")
    }
}

pub(super) fn show(ctx: &Context, name: &str, json: bool) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let profile = store.profile(name)?;
    let view = ProfileView::from(&profile);
    if json {
        return print_json(&view);
    }
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".to_string());
    let set = |v: Option<&str>| v.unwrap_or("not set").to_string();
    let default_timeout = ctx.config.connection.timeout.to_string();
    let rows = [
        ("name", view.name.clone()),
        ("url", view.url.clone()),
        ("protocol", view.protocol.to_string()),
        ("address", profile.address()),
        ("user", view.user.clone()),
        ("remote dir", or_dash(view.remote_dir.clone())),
        (
            "local dir",
            or_dash(view.local_dir.as_ref().map(|d| d.display().to_string())),
        ),
        (
            "key file",
            or_dash(view.key_file.as_ref().map(|k| k.display().to_string())),
        ),
        ("key passphrase", set(view.key_passphrase)),
        (
            "ssh-agent",
            if view.agent { "yes" } else { "no" }.to_string(),
        ),
        ("password", set(view.password)),
        ("host key policy", view.host_key_policy.to_string()),
        ("max connections", view.max_connections.to_string()),
        (
            "timeout",
            view.timeout_secs
                .map(|s| format!("{s}s"))
                .unwrap_or_else(|| format!("{default_timeout} (default)")),
        ),
        ("pinned cert", or_dash(view.cert_pin.clone())),
        (
            "charset",
            view.charset.clone().unwrap_or_else(|| "utf-8".into()),
        ),
        (
            "exec requests",
            if view.no_exec { "never" } else { "allowed" }.to_string(),
        ),
        (
            "jump hosts",
            or_dash((!view.jump.is_empty()).then(|| view.jump.join(" -> "))),
        ),
    ];
    for (label, value) in rows {
        println!("{:16} {value}", format!("{label}:"));
    }
    Ok(())
}
