//! The full-screen app. `app` holds the state and turns inputs into effects (no I/O), `views`
//! draw it, `run` is the event loop, `driver` carries requests to the engine, `terminal` takes
//! the terminal over and gives it back. The app talks to the engine only through
//! `Request`/`Response`/`Event`, so it runs the same against an engine in this process or, later,
//! a daemon.

pub mod app;
pub mod dashboard;
pub mod driver;
pub mod explorer;
pub mod keymap;
pub mod layers;
pub mod msg;
pub mod profiles_tab;
pub mod queue_tab;
pub mod run;
pub mod terminal;
pub mod views;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context as _;

use self::app::{App, Clock, Start};
use self::keymap::Keymap;
use crate::cli::Context;
use crate::engine::EngineSetup;
use crate::engine::api::Secret;

/// Whether the app can run here: both ends of the terminal are a terminal.
pub fn available() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// Opens the app; returns when the person quits (transfers left resume next time).
pub fn run(ctx: &Context) -> anyhow::Result<ExitCode> {
    let keymap = Keymap::new(&ctx.config.key_overrides())
        .map_err(|(key, message)| anyhow::anyhow!("config: `{key}`: {message}"))?;
    let passphrase = match std::env::var_os("FERRY_PASSPHRASE_FILE") {
        Some(file) => {
            let secret = crate::cli::passphrase_from_file(std::path::Path::new(&file))
                .context("reading FERRY_PASSPHRASE_FILE")?;
            Some(secret)
        }
        None => None,
    };
    let store = ctx.open_store()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let client = runtime.block_on(async {
        crate::engine::start(EngineSetup {
            store,
            config: ctx.config.clone(),
            paths: ctx.paths.clone(),
            vault_key: None,
            host_key_policy: None,
            run_queue: true,
        })
    })?;
    let dir = std::env::current_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "/".into());
    let home = std::env::var("HOME").unwrap_or_else(|_| dir.clone());
    let runtime_dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let edit_dir = runtime_dir
        .join(format!("ferry-edit-{}", std::process::id()))
        .to_string_lossy()
        .into_owned();
    let mouse = ctx.config.ui.mouse;
    terminal::install_panic_hook();
    let mut term = terminal::enter(mouse).context("cannot take over the terminal")?;
    let size = term.size().map(|s| (s.width, s.height)).unwrap_or((80, 24));
    let mut app = App::new(Start {
        dir,
        home,
        keymap,
        clock: Clock::System,
        size,
        passphrase: passphrase.map(Secret::from),
        mouse,
        edit_dir,
        color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    });
    let ended = runtime.block_on(run::run(&mut app, &client, &mut term));
    terminal::restore();
    let busy = app.snapshot.running + app.snapshot.queued;
    if busy > 0 {
        // The terminal may be gone (a hang-up): a failed write must not stop the shutdown.
        let _ = writeln!(
            std::io::stderr(),
            "ferry: stopping; {busy} transfer(s) resume the next time ferry starts"
        );
    }
    runtime.block_on(client.shutdown());
    ended?;
    Ok(ExitCode::SUCCESS)
}
