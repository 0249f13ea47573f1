//! `ferry` with no arguments (until the terminal front end lands): help, then vault and profile
//! status.

use std::process::ExitCode;

use clap::CommandFactory;

use super::{Cli, Context};

pub fn run(ctx: &Context) -> anyhow::Result<ExitCode> {
    Cli::command().print_help()?;
    println!();
    let store = ctx.open_store()?;
    match store.vault_header()? {
        Some(header) => println!("vault:    set up, unlocked by {}", header.describe()),
        None => println!("vault:    not set up (ferry vault init)"),
    }
    let profiles = store.list_profiles()?;
    let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    match names.len() {
        0 => println!("profiles: none (ferry profile add NAME URL)"),
        n => println!("profiles: {n} ({})", names.join(", ")),
    }
    println!("store:    {}", store.path().display());
    println!("config:   {}", ctx.paths.config_file.display());
    Ok(ExitCode::SUCCESS)
}
