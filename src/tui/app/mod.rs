//! `App`: the whole state of the front end and `update`, which turns an `Input` into state
//! changes and `Effect`s (requests to the engine, terminal chores). Views render it; nothing
//! here does I/O, so key sequences can be tested without a terminal or a network.

mod deferred;
mod events;
mod explorer_keys;
mod ops;
pub mod outbox;
mod profile_keys;
mod queue_keys;
mod replies;

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent};

use self::outbox::{Outbox, Pending};
use super::dashboard::Dashboard;
use super::explorer::Explorer;
use super::keymap::{Action, Context, Key, Keymap};
use super::layers::{Layer, Outcome};
use super::msg::{Effect, Input};
use super::profiles_tab::ProfilesTab;
use super::queue_tab::QueueTab;
use crate::engine::api::{
    Place, ProfileSummary, QueueSnapshot, Request, Secret, Settings, VaultState,
};

/// The tabs, in the order of their digits (Jobs, Logs and Settings arrive with their issues).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Dashboard,
    Explorer,
    Queue,
    Profiles,
}

impl Tab {
    /// The tabs there are, with their digits.
    pub const ALL: [(u8, Tab); 4] = [
        (1, Tab::Dashboard),
        (2, Tab::Explorer),
        (3, Tab::Queue),
        (5, Tab::Profiles),
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Dashboard => "Dashboard",
            Tab::Explorer => "Explorer",
            Tab::Queue => "Queue",
            Tab::Profiles => "Profiles",
        }
    }

    pub fn context(self) -> Context {
        match self {
            Tab::Dashboard => Context::Global,
            Tab::Explorer => Context::Explorer,
            Tab::Queue => Context::Queue,
            Tab::Profiles => Context::Profiles,
        }
    }
}

/// How loud a status message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// The time the views show: the system's, or a fixed one (tests and snapshots).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    System,
    /// Unix seconds, shown in UTC.
    Fixed(i64),
}

impl Clock {
    pub fn now(self) -> i64 {
        match self {
            Clock::System => chrono::Utc::now().timestamp(),
            Clock::Fixed(t) => t,
        }
    }

    /// A Unix time as the views show it (local time, or UTC for a fixed clock).
    pub fn local(self, t: i64) -> Option<chrono::NaiveDateTime> {
        let utc = chrono::DateTime::from_timestamp(t, 0)?;
        Some(match self {
            Clock::System => utc.with_timezone(&chrono::Local).naive_local(),
            Clock::Fixed(_) => utc.naive_utc(),
        })
    }
}

/// How the app starts.
#[derive(Debug, Clone)]
pub struct Start {
    /// The directory ferry was started in.
    pub dir: String,
    pub home: String,
    pub keymap: Keymap,
    pub clock: Clock,
    pub size: (u16, u16),
    /// A passphrase given without asking (`FERRY_PASSPHRASE_FILE`).
    pub passphrase: Option<Secret>,
    /// Use the mouse.
    pub mouse: bool,
    /// Where files from servers are kept while being edited.
    pub edit_dir: String,
    /// Colours (off with NO_COLOR: reverse and bold only).
    pub color: bool,
}

#[derive(Debug)]
pub struct App {
    pub tab: Tab,
    pub keymap: Keymap,
    pub explorer: Explorer,
    pub queue: QueueTab,
    pub profiles_tab: ProfilesTab,
    pub dashboard: Dashboard,
    pub layers: Vec<Layer>,
    /// The last thing worth telling.
    pub message: Option<(String, Level)>,
    pub snapshot: QueueSnapshot,
    pub vault: Option<VaultState>,
    pub settings: Settings,
    pub profiles: Vec<ProfileSummary>,
    pub out: Outbox,
    pub size: (u16, u16),
    pub clock: Clock,
    pub mouse: bool,
    pub color: bool,
    /// Frames of the spinner shown while something loads.
    pub spinner: usize,
    /// Esc was pressed: a digit next means that F-key.
    esc: bool,
    passphrase: Option<Secret>,
    edit_dir: String,
    /// Edits in progress: the edit id and where the file goes back to.
    edits: HashMap<u64, ops::EditBack>,
}

impl App {
    /// The app as it starts, and the requests it starts with.
    pub fn new(start: Start) -> App {
        let mut app = App {
            tab: Tab::Explorer,
            keymap: start.keymap,
            explorer: Explorer::new(&start.dir, &start.home),
            queue: QueueTab::default(),
            profiles_tab: ProfilesTab::default(),
            dashboard: Dashboard::default(),
            layers: Vec::new(),
            message: None,
            snapshot: QueueSnapshot::default(),
            vault: None,
            settings: Settings::default(),
            profiles: Vec::new(),
            out: Outbox::default(),
            size: start.size,
            clock: start.clock,
            mouse: start.mouse,
            color: start.color,
            spinner: 0,
            esc: false,
            passphrase: start.passphrase,
            edit_dir: start.edit_dir,
            edits: HashMap::new(),
        };
        app.out.send(Pending::Vault, Request::Vault);
        app.out.send(Pending::Profiles, Request::Profiles);
        app.out.send(Pending::Settings, Request::Settings);
        app.out.send(Pending::Questions, Request::Questions);
        for session in 0..app.explorer.sessions.len() {
            let id = app.explorer.sessions[session].id;
            for side in [outbox::Side::Left, outbox::Side::Right] {
                app.explorer
                    .load(&mut app.out, outbox::PaneRef { session: id, side });
            }
        }
        app
    }

    /// The effects of starting, before any input.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        self.out.take_effects()
    }

    /// Applies one input; returns what must be done.
    pub fn update(&mut self, input: Input) -> Vec<Effect> {
        match input {
            Input::Key(key) if key.kind != KeyEventKind::Release => self.key(key),
            Input::Key(_) => {}
            Input::Mouse(mouse) => self.mouse(mouse),
            Input::Paste(text) => self.paste(&text),
            Input::Resize(w, h) => {
                self.size = (w, h);
                self.rescroll();
            }
            Input::Engine(event) => self.event(event),
            Input::Progress(snapshot) => self.progress(snapshot),
            Input::Reply(id, response) => self.reply(id, response),
            Input::Edited { id, changed } => self.edited(id, changed),
            Input::Tick => self.spinner = self.spinner.wrapping_add(1),
        }
        self.out.take_effects()
    }

    /// Whether something animates (a spinner): the loop ticks only then.
    pub fn animating(&self) -> bool {
        let loading = self.explorer.sessions.iter().any(|s| {
            [&s.left, &s.right]
                .iter()
                .any(|p| p.loading.is_some() || p.connecting.is_some())
        });
        loading
            || self
                .layers
                .iter()
                .any(|l| matches!(l, Layer::Connecting { .. }))
            || !self.profiles_tab.testing.is_empty()
    }

    /// The keymap context of the tab in view.
    pub fn tab_context(&self) -> Context {
        self.tab.context()
    }

    /// Rows a pane shows at the current size.
    pub fn pane_height(&self) -> usize {
        usize::from(self.size.1).saturating_sub(6).max(1)
    }

    /// Rows of the queue's table.
    pub fn queue_height(&self) -> usize {
        usize::from(self.size.1).saturating_sub(8).max(1)
    }

    /// Shows `text` in the status bar (guarded: server text in it was escaped by its maker).
    pub fn tell(&mut self, text: impl Into<String>) {
        self.message = Some((guarded_text(text.into()), Level::Info));
    }

    /// Shows `text` as an error in the status bar.
    pub fn warn(&mut self, text: impl Into<String>) {
        self.message = Some((guarded_text(text.into()), Level::Error));
    }

    fn rescroll(&mut self) {
        let height = self.pane_height();
        for session in &mut self.explorer.sessions {
            session.left.scroll(height);
            session.right.scroll(height);
        }
    }

    fn key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('z') {
            self.out.effect(Effect::Suspend);
            return;
        }
        if ctrl && key.code == KeyCode::Char('c') {
            self.layers.clear();
            self.act(Action::Quit);
            return;
        }
        if let Some(layer) = self.layers.last_mut() {
            let height = usize::from(self.size.1);
            match layer.key(key, height) {
                Outcome::Stay => {}
                Outcome::Close => {
                    self.layers.pop();
                }
                Outcome::Accept(deferred) => {
                    self.layers.pop();
                    self.run_deferred(deferred);
                }
                Outcome::Keep(deferred) => self.run_deferred(deferred),
            }
            return;
        }
        let key = self.function_key(key);
        if self.tab == Tab::Explorer && self.explorer.focused_pane().filtering {
            self.filter_key(key);
            return;
        }
        let Some(bound) = Key::from_event(&key) else {
            return;
        };
        if bound.code == super::keymap::KeyName::Esc {
            self.escape();
            return;
        }
        if let Some(action) = self.keymap.action(self.tab.context(), bound) {
            self.act(action);
        }
    }

    /// Esc or Alt followed by a digit is that function key (0 is F10).
    fn function_key(&mut self, key: KeyEvent) -> KeyEvent {
        let after_esc = std::mem::take(&mut self.esc);
        let digit = match key.code {
            KeyCode::Char(c @ '0'..='9') => c.to_digit(10),
            _ => None,
        };
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match digit {
            Some(d) if after_esc || alt => {
                let n = if d == 0 { 10 } else { d as u8 };
                KeyEvent::new(KeyCode::F(n), KeyModifiers::NONE)
            }
            _ => {
                if key.code == KeyCode::Esc {
                    self.esc = true;
                }
                key
            }
        }
    }

    /// Esc outside dialogs: leaves a filter, then forgets marks.
    fn escape(&mut self) {
        if self.tab != Tab::Explorer {
            return;
        }
        let height = self.pane_height();
        let pane = self.explorer.focused_pane_mut();
        if !pane.listing.filter().is_empty() {
            let keep = pane.cursor_name();
            pane.listing.set_filter("");
            pane.keep_cursor(keep, height);
        }
    }

    /// What every view shares: tabs, help, quit, moving.
    fn act(&mut self, action: Action) {
        let tab = match action {
            Action::Tab1 => Some(Tab::Dashboard),
            Action::Tab2 => Some(Tab::Explorer),
            Action::Tab3 => Some(Tab::Queue),
            Action::Tab5 => Some(Tab::Profiles),
            Action::NextTab => {
                let at = Tab::ALL
                    .iter()
                    .position(|(_, t)| *t == self.tab)
                    .unwrap_or(0);
                Some(Tab::ALL[(at + 1) % Tab::ALL.len()].1)
            }
            _ => None,
        };
        if let Some(tab) = tab {
            self.show_tab(tab);
            return;
        }
        match action {
            Action::Quit => self.quit(),
            Action::Help => self.layers.push(Layer::Help { scroll: 0 }),
            _ => match self.tab {
                Tab::Explorer => self.explorer_action(action),
                Tab::Queue => self.queue_action(action),
                Tab::Profiles => self.profiles_action(action),
                Tab::Dashboard => {}
            },
        }
    }

    pub fn show_tab(&mut self, tab: Tab) {
        self.tab = tab;
        match tab {
            Tab::Queue => self.request_window(),
            Tab::Dashboard => self.load_dashboard(),
            _ => {}
        }
    }

    /// `q`: straight out when idle; with transfers running, ask how.
    fn quit(&mut self) {
        let running = self.snapshot.running + self.snapshot.queued;
        if running == 0 {
            self.out.effect(Effect::Quit);
        } else {
            self.layers.push(Layer::Quit { running });
        }
    }

    fn paste(&mut self, text: &str) {
        if let Some(layer) = self.layers.last_mut() {
            layer.paste(text);
        } else if self.tab == Tab::Explorer && self.explorer.focused_pane().filtering {
            for c in text.chars().filter(|c| !c.is_control()) {
                self.filter_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
            }
        }
    }

    fn mouse(&mut self, mouse: MouseEvent) {
        if self.mouse && self.layers.is_empty() {
            self.mouse_event(mouse);
        }
    }

    /// The place of a profile name (`local` is this machine).
    pub fn place_of(name: &str) -> Place {
        Place::Profile(name.to_string())
    }
}

/// A status message with nothing a terminal would act on.
fn guarded_text(text: String) -> String {
    match crate::text::guarded(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(safe) => safe,
    }
}
