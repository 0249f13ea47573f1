//! `ferry vault init | status | change-passphrase`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use secrecy::SecretString;
use serde::Serialize;

use super::{Context, print_json, secrets};
use crate::store::LogLevel;
use crate::vault::{Unlock, VaultHeader, VaultKey, loose_permissions_warning};

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Set up the vault with a passphrase (asked twice, or FERRY_PASSPHRASE_FILE) or a key file.
    Init {
        /// Use (or create, with 32 random bytes) this key file instead of a passphrase.
        #[arg(long, value_name = "PATH")]
        key_file: Option<PathBuf>,
    },
    /// Show whether the vault is set up, how it is unlocked and how many secrets it seals.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Re-seal every secret under a new passphrase (or key file) in one transaction.
    ChangePassphrase {
        /// Switch to this key file (created if missing) instead of a new passphrase.
        #[arg(long, value_name = "PATH")]
        new_key_file: Option<PathBuf>,
    },
}

pub fn run(ctx: &Context, cmd: VaultCommand) -> anyhow::Result<std::process::ExitCode> {
    match cmd {
        VaultCommand::Init { key_file } => init(ctx, key_file),
        VaultCommand::Status { json } => status(ctx, json),
        VaultCommand::ChangePassphrase { new_key_file } => change(ctx, new_key_file),
    }?;
    Ok(std::process::ExitCode::SUCCESS)
}

fn init(ctx: &Context, key_file: Option<PathBuf>) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    if store.vault_header()?.is_some() {
        bail!("the vault is already set up (to change its secret: ferry vault change-passphrase)");
    }
    let unlock = match key_file {
        Some(path) => Unlock::KeyFile(prepare_key_file(&path)?),
        None => Unlock::Passphrase(new_passphrase("FERRY_PASSPHRASE_FILE")?),
    };
    let (header, _key) = VaultHeader::create(&unlock, ctx.argon2_cost())?;
    store.init_vault(&header)?;
    store.log(
        LogLevel::Info,
        "vault",
        &format!("vault set up: {}", header.describe()),
    )?;
    tracing::info!(kind = %header.describe(), "vault initialised");
    println!("vault set up: {}", header.describe());
    Ok(())
}

#[derive(Serialize)]
struct VaultStatus {
    initialised: bool,
    unlock: Option<String>,
    secrets: usize,
    store: PathBuf,
}

fn status(ctx: &Context, json: bool) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let header = store.vault_header()?;
    let status = VaultStatus {
        initialised: header.is_some(),
        unlock: header.as_ref().map(VaultHeader::describe),
        secrets: store.sealed_count()?,
        store: store.path().to_path_buf(),
    };
    if json {
        return print_json(&status);
    }
    match &status.unlock {
        Some(how) => println!(
            "vault: set up, unlocked by {how}; {} sealed secret(s)",
            status.secrets
        ),
        None => println!("vault: not set up (run `ferry vault init`)"),
    }
    println!("store: {}", status.store.display());
    Ok(())
}

fn change(ctx: &Context, new_key_file: Option<PathBuf>) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let old_key: VaultKey = ctx.unlock(&store)?;
    let unlock = match new_key_file {
        Some(path) => Unlock::KeyFile(prepare_key_file(&path)?),
        None => Unlock::Passphrase(new_passphrase("FERRY_NEW_PASSPHRASE_FILE")?),
    };
    let (header, new_key) = VaultHeader::create(&unlock, ctx.argon2_cost())?;
    let count = store.rekey(&old_key, &header, &new_key)?;
    store.log(
        LogLevel::Info,
        "vault",
        &format!(
            "vault re-keyed ({}); {count} secret(s) re-sealed",
            header.describe()
        ),
    )?;
    println!(
        "vault re-keyed: {}; {count} secret(s) re-sealed",
        header.describe()
    );
    Ok(())
}

/// A new passphrase from the file named by `env_var`, or asked twice on the terminal.
fn new_passphrase(env_var: &str) -> anyhow::Result<SecretString> {
    if let Some(file) = std::env::var_os(env_var) {
        return secrets::first_line_of(Path::new(&file))
            .with_context(|| format!("reading {env_var}"));
    }
    secrets::prompt_new("vault passphrase")
}

/// Uses an existing 32-byte key file or creates one (0600) with fresh random bytes.
fn prepare_key_file(path: &Path) -> anyhow::Result<PathBuf> {
    if path.exists() {
        crate::vault::read_key_file(path)?;
        if let Some(warning) = loose_permissions_warning(path) {
            eprintln!("{warning}");
        }
    } else {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::paths::ensure_private_dir(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        crate::paths::create_private_new(path, VaultKey::generate().expose_bytes())
            .with_context(|| format!("cannot create key file {}", path.display()))?;
        println!(
            "created key file {} (keep a copy somewhere safe)",
            path.display()
        );
    }
    Ok(std::path::absolute(path)?)
}
