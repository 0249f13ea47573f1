//! The command line: clap definitions and one module per command group. A thin layer: it parses,
//! asks for secrets at the terminal, calls the library and prints; errors are `anyhow` here only.

mod bytes_arg;
mod call;
mod context;
mod import;
mod json;
mod log;
mod profile;
mod profile_view;
mod prompt;
mod queue;
mod remote;
mod secrets;
mod session;
mod status;
mod target;
mod transfer;
mod trust_cert;
mod vault;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::profile::HostKeyPolicy;

pub use context::Context;

/// Move files between this machine and SFTP, FTP and FTPS servers.
#[derive(Debug, Parser)]
#[command(name = "ferry", version, about, long_about = None)]
pub struct Cli {
    /// Read this config file instead of $XDG_CONFIG_HOME/ferry/config.toml.
    #[arg(long, global = true, env = "FERRY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Keep the store, known_hosts, logs and socket in DIR.
    #[arg(long, global = true, env = "FERRY_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Override the profile's policy for unknown SSH host keys for this run.
    #[arg(long, global = true, value_enum)]
    pub host_key_policy: Option<HostKeyPolicy>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up, inspect and re-key the vault that encrypts stored secrets.
    #[command(subcommand)]
    Vault(vault::VaultCommand),
    /// Add, list, show, edit and remove server profiles.
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// Connect to a profile and report what the server offers.
    Test(remote::TestArgs),
    /// List a remote directory: ferry ls NAME:PATH [-l] [--json].
    Ls(remote::LsArgs),
    /// Upload files: ferry put LOCAL... NAME:DIR.
    Put(transfer::PutArgs),
    /// Download files: ferry get NAME:PATH... LOCALDIR.
    Get(transfer::GetArgs),
    /// Create a remote directory and its missing parents.
    Mkdir(remote::PathArgs),
    /// Remove a remote file, or a directory tree with -r.
    Rm(remote::RmArgs),
    /// Rename or move a remote file or directory.
    Mv(remote::MvArgs),
    /// Show the transfer queue, or pause, resume, cancel, retry or reorder a transfer.
    Queue(queue::QueueArgs),
    /// Show finished transfers.
    History(queue::HistoryArgs),
    /// Show the system log kept in the store.
    Log(log::LogArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let ctx = Context::new(cli.config, cli.data_dir)?;
    let _log_guard = ctx.start_logging();
    let policy = cli.host_key_policy;
    match cli.command {
        None if crate::tui::available() => crate::tui::run(&ctx),
        None => status::run(&ctx),
        Some(Command::Vault(cmd)) => vault::run(&ctx, cmd),
        Some(Command::Profile(cmd)) => profile::run(&ctx, cmd),
        Some(Command::Test(args)) => remote::test(&ctx, args, policy),
        Some(Command::Ls(args)) => remote::ls(&ctx, args, policy),
        Some(Command::Put(args)) => transfer::put(&ctx, args, policy),
        Some(Command::Get(args)) => transfer::get(&ctx, args, policy),
        Some(Command::Mkdir(args)) => remote::mkdir(&ctx, args, policy),
        Some(Command::Rm(args)) => remote::rm(&ctx, args, policy),
        Some(Command::Mv(args)) => remote::mv(&ctx, args, policy),
        Some(Command::Queue(args)) => queue::queue(&ctx, args, policy),
        Some(Command::History(args)) => queue::history(&ctx, args),
        Some(Command::Log(args)) => log::run(&ctx, args),
    }
}

/// The first line of a passphrase file (`FERRY_PASSPHRASE_FILE`).
pub fn passphrase_from_file(path: &std::path::Path) -> anyhow::Result<secrecy::SecretString> {
    secrets::first_line_of(path)
}

/// Prints `value` as pretty JSON, server text exact and terminal-safe (`json`).
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", json::to_string(value)?);
    Ok(())
}
