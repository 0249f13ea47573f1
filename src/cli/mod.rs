//! The command line: clap definitions and one module per command group. A thin layer: it parses,
//! asks for secrets at the terminal, calls the library and prints; errors are `anyhow` here only.

mod context;
mod import;
mod log;
mod profile;
mod secrets;
mod status;
mod vault;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    /// Show the system log kept in the store.
    Log(log::LogArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let ctx = Context::new(cli.config, cli.data_dir)?;
    let _log_guard = ctx.start_logging();
    match cli.command {
        None => status::run(&ctx),
        Some(Command::Vault(cmd)) => vault::run(&ctx, cmd),
        Some(Command::Profile(cmd)) => profile::run(&ctx, cmd),
        Some(Command::Log(args)) => log::run(&ctx, args),
    }
}

/// Prints `value` as pretty JSON.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
