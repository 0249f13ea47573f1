//! `ferry profile add | list | show | edit | rm | import-ssh-config`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};
use secrecy::SecretString;

use super::{Context, secrets};
use crate::profile::{
    HostKeyPolicy, Profile, ProfileError, ProfileSecret, Protocol, parse_url, validate_name,
};
use crate::remote::charset::Charset;
use crate::remote::keyfile;
use crate::store::{LogLevel, Store};
use crate::vault::loose_permissions_warning;

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Add a profile: URL is sftp://user@host[:port][/dir], ftp://… or ftps://…
    Add {
        name: String,
        url: String,
        /// ftps:// with TLS from the first byte (usually port 990).
        #[arg(long)]
        implicit_tls: bool,
        #[command(flatten)]
        options: ProfileOptions,
    },
    /// List the profiles.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one profile (secrets appear only as "set").
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a profile.
    Edit {
        name: String,
        /// A new address: sftp://user@host[:port][/dir], ftp://… or ftps://…
        #[arg(long)]
        url: Option<String>,
        #[arg(long, requires = "url")]
        implicit_tls: bool,
        /// Give the profile a new name.
        #[arg(long, value_name = "NEW_NAME")]
        rename: Option<String>,
        /// Forget the stored password.
        #[arg(long, conflicts_with_all = ["password_stdin", "ask_password"])]
        clear_password: bool,
        /// Stop using a key file.
        #[arg(long, conflicts_with = "key")]
        no_key: bool,
        /// Stop using the ssh-agent.
        #[arg(long, conflicts_with = "agent")]
        no_agent: bool,
        /// Forget the local start directory.
        #[arg(long, conflicts_with = "local_dir")]
        no_local_dir: bool,
        /// Allow exec requests again (undoes --no-exec).
        #[arg(long, conflicts_with = "no_exec")]
        allow_exec: bool,
        /// Connect directly again, through no jump host.
        #[arg(long, conflicts_with = "jump")]
        no_jump: bool,
        #[command(flatten)]
        options: ProfileOptions,
    },
    /// Remove a profile.
    Rm { name: String },
    /// Show an FTPS server's certificate and pin it (for self-signed certificates).
    TrustCert {
        name: String,
        /// Pin without asking if the certificate's SHA-256 is this (hex, colons allowed).
        #[arg(long, value_name = "SHA256")]
        fingerprint: Option<String>,
    },
    /// Import the concrete hosts of ~/.ssh/config as SFTP profiles.
    ImportSshConfig {
        /// Read this file instead of ~/.ssh/config.
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// Show what would be imported without changing anything.
        #[arg(long)]
        dry_run: bool,
        /// Replace profiles that already have a host's name.
        #[arg(long)]
        replace: bool,
    },
}

/// Options shared by `add` and `edit`.
#[derive(Debug, Args, Default)]
pub struct ProfileOptions {
    /// Read the password from the first line of stdin.
    #[arg(long, conflicts_with = "ask_password")]
    pub password_stdin: bool,
    /// Ask for the password without echo.
    #[arg(long)]
    pub ask_password: bool,
    /// Log in with this SSH private key.
    #[arg(long, value_name = "PATH")]
    pub key: Option<PathBuf>,
    /// Read the key's passphrase from the first line of stdin.
    #[arg(long, requires = "key", conflicts_with = "password_stdin")]
    pub key_passphrase_stdin: bool,
    /// Log in through the ssh-agent at SSH_AUTH_SOCK.
    #[arg(long)]
    pub agent: bool,
    /// Start the local pane in this directory.
    #[arg(long, value_name = "DIR")]
    pub local_dir: Option<PathBuf>,
    /// Most connections ferry opens to this server at once (1-64).
    #[arg(long, value_name = "N")]
    pub max_connections: Option<u32>,
    /// What to do with an unknown SSH host key.
    #[arg(long, value_enum)]
    pub host_key_policy: Option<HostKeyPolicy>,
    /// Seconds allowed to connect and log in (1-3600).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u32>,
    /// The character set the server keeps file names in: latin1, cp1252, shift_jis, … (utf-8
    /// by default); names are converted both ways.
    #[arg(long, value_name = "NAME")]
    pub charset: Option<String>,
    /// SFTP: never send exec requests (no hashing command on the server; checksums then come
    /// from the check-file extension where offered, small files are read back).
    #[arg(long)]
    pub no_exec: bool,
    /// SFTP: go through this jump host: another SFTP profile's name, or user@host[:port] (agent
    /// and default keys). Repeat for a chain, first hop first; replaces the profile's list.
    #[arg(long, value_name = "NAME|USER@HOST[:PORT]")]
    pub jump: Vec<String>,
}

pub fn run(ctx: &Context, cmd: ProfileCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ProfileCommand::Add {
            name,
            url,
            implicit_tls,
            options,
        } => add(ctx, &name, &url, implicit_tls, options)?,
        ProfileCommand::List { json } => super::profile_view::list(ctx, json)?,
        ProfileCommand::Show { name, json } => super::profile_view::show(ctx, &name, json)?,
        ProfileCommand::Edit {
            name,
            url,
            implicit_tls,
            rename,
            clear_password,
            no_key,
            no_agent,
            no_local_dir,
            allow_exec,
            no_jump,
            options,
        } => {
            let edits = Edits {
                url,
                implicit_tls,
                rename,
                clear_password,
                no_key,
                no_agent,
                no_local_dir,
                allow_exec,
                no_jump,
            };
            edit(ctx, &name, edits, options)?
        }
        ProfileCommand::Rm { name } => remove(ctx, &name)?,
        ProfileCommand::TrustCert { name, fingerprint } => {
            return super::trust_cert::run(ctx, &name, fingerprint.as_deref());
        }
        ProfileCommand::ImportSshConfig {
            file,
            dry_run,
            replace,
        } => super::import::run(ctx, file, dry_run, replace)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn add(
    ctx: &Context,
    name: &str,
    url: &str,
    implicit_tls: bool,
    options: ProfileOptions,
) -> anyhow::Result<()> {
    validate_name(name)?;
    let url = parse_url(url, implicit_tls)?;
    let store = ctx.open_store()?;
    if store.profile(name).is_ok() {
        bail!("a profile named `{name}` already exists (change it with `ferry profile edit`)");
    }
    let user = url
        .user
        .clone()
        .unwrap_or_else(|| default_user(url.protocol));
    let mut profile = Profile::new(name, url.protocol, &url.host, url.port, &user);
    profile.remote_dir = url.dir;
    let secrets = apply_options(&mut profile, &options)?;
    profile.id = store.reserve_profile_id()?;
    seal_secrets(ctx, &store, &mut profile, secrets)?;
    store.add_profile(&profile)?;
    store.log(
        LogLevel::Info,
        "profile",
        &format!("profile `{name}` added ({})", profile.url()),
    )?;
    tracing::info!(profile = name, url = %profile.url(), "profile added");
    println!("added profile {name}: {}", profile.url());
    if profile.protocol == Protocol::Ftp {
        eprintln!(
            "warning: plain FTP sends the password and files unencrypted; prefer ftps:// or sftp://"
        );
    }
    Ok(())
}

/// Secrets collected for a profile, sealed once the profile has its id.
#[derive(Default)]
struct NewSecrets {
    password: Option<SecretString>,
    key_passphrase: Option<SecretString>,
}

/// Applies the shared options to `profile`, validating each; returns secrets to seal.
fn apply_options(profile: &mut Profile, options: &ProfileOptions) -> anyhow::Result<NewSecrets> {
    let mut secrets = NewSecrets::default();
    if let Some(n) = options.max_connections {
        if !(1..=64).contains(&n) {
            return Err(ProfileError::BadMaxConnections.into());
        }
        profile.max_connections = n;
    }
    if let Some(secs) = options.timeout {
        if !(1..=3600).contains(&secs) {
            return Err(ProfileError::BadTimeout.into());
        }
        profile.timeout_secs = Some(secs);
    }
    if let Some(label) = &options.charset {
        profile.charset = match Charset::from_label(label) {
            Some(Charset::Utf8) => None,
            Some(charset) => Some(charset.name().to_string()),
            None => bail!(
                "--charset {label}: unknown character set (use utf-8, latin1, cp1252, shift_jis, …)"
            ),
        };
    }
    if let Some(policy) = options.host_key_policy {
        profile.host_key_policy = policy;
    }
    if let Some(dir) = &options.local_dir {
        if !dir.is_dir() {
            bail!("--local-dir {}: not a directory", dir.display());
        }
        profile.local_dir = Some(std::path::absolute(dir)?);
    }
    if options.agent {
        require_sftp(profile, "--agent")?;
        profile.agent = true;
    }
    if options.no_exec {
        require_sftp(profile, "--no-exec")?;
        profile.no_exec = true;
    }
    if !options.jump.is_empty() {
        require_sftp(profile, "--jump")?;
        if let Some(own) = options.jump.iter().find(|hop| **hop == profile.name) {
            bail!("--jump {own}: a profile cannot be its own jump host");
        }
        profile.jump = options.jump.clone();
    }
    if let Some(key) = &options.key {
        require_sftp(profile, "--key")?;
        let key = std::path::absolute(key)?;
        let encrypted = keyfile::needs_passphrase(&key)?;
        if let Some(warning) = loose_permissions_warning(&key) {
            eprintln!("{warning}");
        }
        if encrypted {
            let passphrase = if options.key_passphrase_stdin {
                secrets::first_line_of_stdin()?
            } else if secrets::stdin_is_terminal() {
                secrets::prompt(&format!("Passphrase for {}: ", key.display()))?
            } else {
                bail!(
                    "key file {} is encrypted: pass its passphrase with --key-passphrase-stdin",
                    key.display()
                );
            };
            keyfile::load(&key, Some(&passphrase))?;
            secrets.key_passphrase = Some(passphrase);
        } else {
            profile.key_passphrase = None;
        }
        profile.key_file = Some(key);
    }
    if options.password_stdin {
        secrets.password = Some(secrets::first_line_of_stdin()?);
    } else if options.ask_password {
        if !secrets::stdin_is_terminal() {
            bail!("--ask-password needs a terminal; use --password-stdin in scripts");
        }
        secrets.password = Some(secrets::prompt(&format!(
            "Password for {}@{}: ",
            profile.user,
            profile.address()
        ))?);
    }
    Ok(secrets)
}

fn require_sftp(profile: &Profile, option: &str) -> Result<(), ProfileError> {
    if profile.protocol == Protocol::Sftp {
        Ok(())
    } else {
        Err(ProfileError::NotForProtocol(format!(
            "{option} applies to sftp:// profiles only"
        )))
    }
}

/// Seals new secrets into `profile` (which has its final id); unlocks the vault only if needed.
fn seal_secrets(
    ctx: &Context,
    store: &Store,
    profile: &mut Profile,
    secrets: NewSecrets,
) -> anyhow::Result<()> {
    if secrets.password.is_none() && secrets.key_passphrase.is_none() {
        return Ok(());
    }
    let key = ctx.unlock(store)?;
    if let Some(password) = secrets.password {
        profile.password = Some(key.seal(profile.slot(ProfileSecret::Password), &password));
    }
    if let Some(passphrase) = secrets.key_passphrase {
        profile.key_passphrase =
            Some(key.seal(profile.slot(ProfileSecret::KeyPassphrase), &passphrase));
    }
    Ok(())
}

struct Edits {
    url: Option<String>,
    implicit_tls: bool,
    rename: Option<String>,
    clear_password: bool,
    no_key: bool,
    no_agent: bool,
    no_local_dir: bool,
    allow_exec: bool,
    no_jump: bool,
}

fn edit(ctx: &Context, name: &str, edits: Edits, options: ProfileOptions) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let mut profile = store.profile(name)?;
    if let Some(url) = &edits.url {
        let url = parse_url(url, edits.implicit_tls)?;
        if url.protocol != Protocol::Sftp {
            profile.key_file = None;
            profile.key_passphrase = None;
            profile.agent = false;
        }
        profile.protocol = url.protocol;
        profile.host = url.host;
        profile.port = url.port;
        profile.user = url.user.unwrap_or_else(|| default_user(url.protocol));
        profile.remote_dir = url.dir;
    }
    if let Some(new_name) = &edits.rename {
        validate_name(new_name)?;
        profile.name = new_name.clone();
    }
    if edits.clear_password {
        profile.password = None;
    }
    if edits.no_key {
        profile.key_file = None;
        profile.key_passphrase = None;
    }
    if edits.no_agent {
        profile.agent = false;
    }
    if edits.no_local_dir {
        profile.local_dir = None;
    }
    if edits.allow_exec {
        profile.no_exec = false;
    }
    if edits.no_jump {
        profile.jump.clear();
    }
    let secrets = apply_options(&mut profile, &options)?;
    seal_secrets(ctx, &store, &mut profile, secrets)?;
    profile.updated_at = now();
    store.update_profile(name, &profile)?;
    store.log(
        LogLevel::Info,
        "profile",
        &format!("profile `{name}` changed"),
    )?;
    tracing::info!(profile = name, "profile changed");
    println!("updated profile {}: {}", profile.name, profile.url());
    Ok(())
}

fn remove(ctx: &Context, name: &str) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    store.remove_profile(name)?;
    store.log(
        LogLevel::Info,
        "profile",
        &format!("profile `{name}` removed"),
    )?;
    tracing::info!(profile = name, "profile removed");
    println!("removed profile {name}");
    Ok(())
}

fn default_user(protocol: Protocol) -> String {
    if protocol.is_ftp() {
        "anonymous".to_string()
    } else {
        crate::profile::local_user()
    }
}

pub(super) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
