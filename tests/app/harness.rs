//! Driving the app without a terminal: keys in, effects and screens out. `Staged` answers the
//! app's requests by hand (no engine: key-sequence tests and snapshots); `Live` runs it against
//! a real engine and the in-process servers, pumping engine events and replies like the real
//! event loop does.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ferry::engine::api::{Request, Response};
use ferry::engine::{EngineClient, Subscription};
use ferry::tui::app::{App, Clock, Start};
use ferry::tui::driver::Driver;
use ferry::tui::keymap::Keymap;
use ferry::tui::msg::{Effect, Input};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

/// 2026-12-03 09:30:00 UTC.
pub const NOW: i64 = 1_796_290_200;

pub fn start(dir: &str, size: (u16, u16)) -> Start {
    Start {
        dir: dir.to_string(),
        home: "/home/ops".into(),
        keymap: Keymap::default(),
        clock: Clock::Fixed(NOW),
        size,
        passphrase: None,
        mouse: true,
        edit_dir: "/run/user/1000/ferry-edit".into(),
        color: false,
    }
}

/// A key from a short name: `F5`, `enter`, `esc`, `tab`, `space`, `up`, `ctrl-c`, or one char.
pub fn key(name: &str) -> KeyEvent {
    let (code, modifiers) = match name {
        "enter" => (KeyCode::Enter, KeyModifiers::NONE),
        "esc" => (KeyCode::Esc, KeyModifiers::NONE),
        "tab" => (KeyCode::Tab, KeyModifiers::NONE),
        "backtab" => (KeyCode::BackTab, KeyModifiers::SHIFT),
        "space" => (KeyCode::Char(' '), KeyModifiers::NONE),
        "up" => (KeyCode::Up, KeyModifiers::NONE),
        "down" => (KeyCode::Down, KeyModifiers::NONE),
        "left" => (KeyCode::Left, KeyModifiers::NONE),
        "right" => (KeyCode::Right, KeyModifiers::NONE),
        "backspace" => (KeyCode::Backspace, KeyModifiers::NONE),
        "ctrl-c" => (KeyCode::Char('c'), KeyModifiers::CONTROL),
        "ctrl-z" => (KeyCode::Char('z'), KeyModifiers::CONTROL),
        f if f.starts_with('F') && f.len() > 1 => (
            KeyCode::F(f[1..].parse().expect("F-key number")),
            KeyModifiers::NONE,
        ),
        c if c.chars().count() == 1 => (
            KeyCode::Char(c.chars().next().expect("one char")),
            KeyModifiers::NONE,
        ),
        other => panic!("no key called {other}"),
    };
    KeyEvent::new(code, modifiers)
}

/// The screen as text, one line per row, trailing spaces removed.
pub fn screen_text(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let mut line = String::new();
        for x in 0..buffer.area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Renders `app` on a test terminal of its size.
pub fn render(app: &App) -> String {
    let mut terminal =
        Terminal::new(TestBackend::new(app.size.0, app.size.1)).expect("test terminal");
    terminal
        .draw(|frame| ferry::tui::views::render(frame, app))
        .expect("draw");
    screen_text(&terminal)
}

/// The app with its requests answered by hand.
pub struct Staged {
    pub app: App,
    /// Requests sent and not answered yet.
    pub sent: Vec<(u64, Request)>,
    /// Every effect other than a request, in order.
    pub other: Vec<Effect>,
}

impl Staged {
    pub fn new(start: Start) -> Staged {
        let mut app = App::new(start);
        let effects = app.take_effects();
        let mut staged = Staged {
            app,
            sent: Vec::new(),
            other: Vec::new(),
        };
        staged.absorb(effects);
        staged
    }

    fn absorb(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Send { id, request } => self.sent.push((id, request)),
                Effect::Cancel(id) => self.sent.retain(|(i, _)| *i != id),
                other => self.other.push(other),
            }
        }
    }

    pub fn input(&mut self, input: Input) {
        let effects = self.app.update(input);
        self.absorb(effects);
    }

    /// Presses keys by name, in order.
    pub fn keys(&mut self, names: &[&str]) {
        for name in names {
            self.input(Input::Key(key(name)));
        }
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.input(Input::Key(KeyEvent::new(
                KeyCode::Char(c),
                KeyModifiers::NONE,
            )));
        }
    }

    /// Takes the oldest unanswered request `pick` accepts.
    pub fn take(&mut self, pick: impl Fn(&Request) -> bool) -> Option<(u64, Request)> {
        let at = self.sent.iter().position(|(_, r)| pick(r))?;
        Some(self.sent.remove(at))
    }

    /// Answers every unanswered request `pick` accepts with `respond(request)` (a listing
    /// may answer with several responses); returns how many were answered.
    pub fn answer(
        &mut self,
        pick: impl Fn(&Request) -> bool,
        respond: impl Fn(&Request) -> Vec<Response>,
    ) -> usize {
        let mut count = 0;
        while let Some((id, request)) = self.take(&pick) {
            for response in respond(&request) {
                self.input(Input::Reply(id, response));
            }
            count += 1;
        }
        count
    }

    pub fn screen(&self) -> String {
        render(&self.app)
    }
}

/// The app against a real engine: effects carried out by the real driver.
pub struct Live {
    pub app: App,
    watch: Subscription,
    driver: Driver,
    inputs: mpsc::UnboundedReceiver<Input>,
    inputs_tx: mpsc::UnboundedSender<Input>,
    /// What the fake editor does with a file it is given.
    pub editor: Box<dyn FnMut(&str) -> bool + Send>,
    pub quit: bool,
}

impl Live {
    pub fn new(client: EngineClient, start: Start) -> Live {
        let (inputs_tx, inputs) = mpsc::unbounded_channel();
        let mut live = Live {
            app: App::new(start),
            watch: client.subscribe(true),
            driver: Driver::new(client, inputs_tx.clone()),
            inputs,
            inputs_tx,
            editor: Box::new(|_| false),
            quit: false,
        };
        let effects = live.app.take_effects();
        live.carry_out(effects);
        live
    }

    fn carry_out(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Send { id, request } => self.driver.send(id, request),
                Effect::Cancel(id) => self.driver.cancel(id),
                Effect::Edit { id, path } => {
                    let changed = (self.editor)(&path);
                    let _ = self.inputs_tx.send(Input::Edited { id, changed });
                }
                Effect::Suspend => {}
                Effect::Quit => self.quit = true,
            }
        }
    }

    pub fn input(&mut self, input: Input) {
        let effects = self.app.update(input);
        self.carry_out(effects);
    }

    pub fn keys(&mut self, names: &[&str]) {
        for name in names {
            self.input(Input::Key(key(name)));
        }
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.input(Input::Key(KeyEvent::new(
                KeyCode::Char(c),
                KeyModifiers::NONE,
            )));
        }
    }

    /// Feeds engine events, progress and replies to the app until `done` holds.
    pub async fn settle(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !done(&self.app) {
            let input = tokio::select! {
                event = self.watch.events.next() => Input::Engine(event.expect("engine alive")),
                changed = self.watch.progress.changed() => {
                    changed.expect("engine alive");
                    Input::Progress(self.watch.progress.borrow_and_update().clone())
                }
                Some(input) = self.inputs.recv() => input,
                () = tokio::time::sleep_until(deadline) => {
                    panic!("timed out waiting for {what}; screen:\n{}", self.screen())
                }
            };
            self.input(input);
        }
    }

    pub fn screen(&self) -> String {
        render(&self.app)
    }
}
