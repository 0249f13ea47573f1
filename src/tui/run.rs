//! The event loop: one `select!` over terminal input, engine events, progress, replies and (only
//! while something animates) a tick. The screen is redrawn when something changed, at most
//! about 30 times a second; the loop itself never waits on the network or the disk.

use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::app::App;
use super::driver::Driver;
use super::msg::{Effect, Input};
use super::terminal::{self, Term};
use super::views;
use crate::engine::EngineClient;

/// The shortest time between two frames.
const FRAME: Duration = Duration::from_millis(33);
/// How often a spinner moves.
const TICK: Duration = Duration::from_millis(100);

/// Why the loop ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    /// The person quit.
    Quit,
    /// The terminal went away, or a signal asked ferry to stop.
    Hangup,
}

pub async fn run(app: &mut App, client: &EngineClient, term: &mut Term) -> anyhow::Result<Ending> {
    let mut watch = client.subscribe(true);
    let (inputs, mut replies) = mpsc::unbounded_channel::<Input>();
    let mut driver = Driver::new(client.clone(), inputs.clone());
    let mut events = EventStream::new();
    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let initial = app.take_effects();
    if let Some(ending) = carry_out(app, initial, &mut driver, term, &inputs)? {
        return Ok(ending);
    }
    loop {
        if dirty && last_draw.elapsed() >= FRAME {
            term.draw(|frame| views::render(frame, app))?;
            dirty = false;
            last_draw = Instant::now();
        }
        let redraw = async {
            match dirty {
                true => tokio::time::sleep(FRAME.saturating_sub(last_draw.elapsed())).await,
                false => std::future::pending().await,
            }
        };
        let animating = app.animating();
        let tick = async {
            match animating {
                true => tokio::time::sleep(TICK).await,
                false => std::future::pending().await,
            }
        };
        let input = tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => match terminal_input(event) {
                    Some(input) => input,
                    None => continue,
                },
                Some(Err(_)) | None => return Ok(Ending::Hangup),
            },
            event = watch.events.next() => match event {
                Some(event) => Input::Engine(event),
                None => return Ok(Ending::Hangup),
            },
            changed = watch.progress.changed() => match changed {
                Ok(()) => Input::Progress(watch.progress.borrow_and_update().clone()),
                Err(_) => return Ok(Ending::Hangup),
            },
            Some(input) = replies.recv() => input,
            () = tick => Input::Tick,
            () = redraw => continue,
            _ = hangup.recv() => return Ok(Ending::Hangup),
            _ = terminate.recv() => return Ok(Ending::Hangup),
        };
        let effects = app.update(input);
        dirty = true;
        if let Some(ending) = carry_out(app, effects, &mut driver, term, &inputs)? {
            return Ok(ending);
        }
    }
}

fn terminal_input(event: TermEvent) -> Option<Input> {
    match event {
        TermEvent::Key(key) => Some(Input::Key(key)),
        TermEvent::Mouse(mouse) => Some(Input::Mouse(mouse)),
        TermEvent::Paste(text) => Some(Input::Paste(text)),
        TermEvent::Resize(w, h) => Some(Input::Resize(w, h)),
        TermEvent::FocusGained | TermEvent::FocusLost => None,
    }
}

/// Does what the app asked; `Some` when it asked to leave.
fn carry_out(
    app: &mut App,
    effects: Vec<Effect>,
    driver: &mut Driver,
    term: &mut Term,
    inputs: &mpsc::UnboundedSender<Input>,
) -> anyhow::Result<Option<Ending>> {
    for effect in effects {
        match effect {
            Effect::Send { id, request } => driver.send(id, request),
            Effect::Cancel(id) => driver.cancel(id),
            Effect::Suspend => {
                terminal::suspend(term, app.mouse)?;
                let size = term.size()?;
                let more = app.update(Input::Resize(size.width, size.height));
                carry_out(app, more, driver, term, inputs)?;
            }
            Effect::Edit { id, path } => {
                let changed = match terminal::edit(term, app.mouse, &path) {
                    Ok(changed) => changed,
                    Err(err) => {
                        app.warn(format!("could not run the editor: {err}"));
                        false
                    }
                };
                let _ = inputs.send(Input::Edited { id, changed });
            }
            Effect::Quit => return Ok(Some(Ending::Quit)),
        }
    }
    Ok(None)
}
