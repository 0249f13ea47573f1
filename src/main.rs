//! The `ferry` binary: parse the command line, tighten the umask, run, and turn errors into one
//! readable line and a non-zero exit.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Everything ferry creates (store, logs, key files, known_hosts, downloads' part files) is
    // private to the user unless a later chmod widens it on purpose.
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    let cli = ferry::cli::Cli::parse();
    match ferry::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // Server text inside an error was escaped where it was put in; this is the guard.
            eprintln!("ferry: {}", ferry::text::guarded(&format!("{err:#}")));
            ExitCode::FAILURE
        }
    }
}
