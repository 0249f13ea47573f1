//! The explorer's keys and mouse: moving, entering directories, filtering, sorting, marking,
//! sessions and the profile picker. File operations are in `ops`. No I/O here.

use crossterm::event::{KeyCode, KeyEvent, MouseButton, MouseEvent, MouseEventKind};

use super::outbox::{PaneRef, Pending, Side};
use super::{App, Tab};
use crate::engine::api::{Place, Request};
use crate::remote::{EntryKind, names};
use crate::tui::explorer::Row;
use crate::tui::explorer::listing::SortKey;
use crate::tui::keymap::Action;
use crate::tui::layers::input::line;
use crate::tui::layers::{Layer, Picker};

impl App {
    pub(super) fn explorer_action(&mut self, action: Action) {
        let height = self.pane_height();
        let page = height.saturating_sub(1).max(1) as isize;
        let pane = self.explorer.focused_pane_mut();
        match action {
            Action::Up => pane.move_by(-1, height),
            Action::Down => pane.move_by(1, height),
            Action::PageUp => pane.move_by(-page, height),
            Action::PageDown => pane.move_by(page, height),
            Action::Top => pane.move_to(0, height),
            Action::Bottom => pane.move_to(usize::MAX, height),
            Action::Enter => self.enter(),
            Action::Parent => self.parent(),
            Action::Back if pane.back() => {
                let at = self.explorer.focused();
                self.explorer.load(&mut self.out, at);
            }
            Action::Home => {
                let home = pane.home.clone();
                self.go(self.explorer.focused(), &home, None);
            }
            Action::SwitchPane => {
                let session = self.explorer.session_mut();
                session.focus = session.focus.other();
            }
            Action::Filter => pane.filtering = true,
            Action::Mark => {
                if let Some(name) = pane.current_entry().map(|e| e.name.clone()) {
                    pane.listing.toggle_mark(&name);
                }
                pane.move_by(1, height);
            }
            Action::InvertMarks => pane.listing.invert_marks(),
            Action::SortName | Action::SortSize | Action::SortTime => {
                let key = match action {
                    Action::SortSize => SortKey::Size,
                    Action::SortTime => SortKey::Time,
                    _ => SortKey::Name,
                };
                let keep = pane.cursor_name();
                pane.listing.set_sort(key);
                pane.keep_cursor(keep, height);
            }
            Action::ToggleHidden => {
                let keep = pane.cursor_name();
                pane.listing.toggle_hidden();
                pane.keep_cursor(keep, height);
            }
            Action::Refresh => {
                let at = self.explorer.focused();
                self.explorer.load(&mut self.out, at);
            }
            Action::Open => self.open_picker(),
            Action::NextSession | Action::PrevSession => {
                let count = self.explorer.sessions.len();
                let step = if action == Action::NextSession {
                    1
                } else {
                    count - 1
                };
                self.explorer.current = (self.explorer.current + step) % count;
            }
            Action::CloseSession => {
                for id in self.explorer.close_session() {
                    self.out.cancel(id);
                }
            }
            Action::Copy => self.start_copy(false),
            Action::Move => self.start_copy(true),
            Action::Mkdir => self.start_mkdir(),
            Action::Delete => self.start_delete(),
            Action::Rename => self.start_rename(),
            Action::View => self.view_file(),
            Action::Edit => self.edit_file(),
            Action::Info => self.show_info(),
            _ => {}
        }
    }

    /// Enter: into a directory (or a link to one), `..` up, a file is viewed.
    fn enter(&mut self) {
        let at = self.explorer.focused();
        let pane = self.explorer.focused_pane();
        match pane.current() {
            Some(Row::Parent) => self.parent(),
            Some(Row::Entry(entry))
                if matches!(entry.kind, EntryKind::Dir | EntryKind::Symlink) =>
            {
                let path = pane.child(&entry.name);
                self.go(at, &path, None);
            }
            Some(Row::Entry(_)) => self.view_file(),
            None => {}
        }
    }

    fn parent(&mut self) {
        let at = self.explorer.focused();
        let pane = self.explorer.focused_pane();
        if let Some(parent) = names::parent(&pane.path) {
            let came_from = names::base_name(&pane.path).to_string();
            self.go(at, &parent, Some(came_from));
        }
    }

    /// Shows `path` in a pane and lists it.
    pub(super) fn go(&mut self, at: PaneRef, path: &str, select: Option<String>) {
        if let Some(pane) = self.explorer.pane_mut(at) {
            pane.go(path, select);
        }
        self.explorer.load(&mut self.out, at);
    }

    /// Typing a filter: it applies as you type; Enter keeps it, Esc drops it.
    pub(super) fn filter_key(&mut self, key: KeyEvent) {
        let height = self.pane_height();
        let pane = self.explorer.focused_pane_mut();
        let keep = pane.cursor_name();
        let mut filter = pane.listing.filter().to_string();
        match key.code {
            KeyCode::Enter => pane.filtering = false,
            KeyCode::Esc => {
                pane.filtering = false;
                filter.clear();
            }
            KeyCode::Backspace => {
                if filter.pop().is_none() {
                    pane.filtering = false;
                }
            }
            KeyCode::Char(c) => filter.push(c),
            KeyCode::Up | KeyCode::Down => {
                pane.filtering = false;
                let delta = if key.code == KeyCode::Up { -1 } else { 1 };
                pane.move_by(delta, height);
                return;
            }
            _ => return,
        }
        pane.listing.set_filter(&filter);
        pane.keep_cursor(keep, height);
    }

    /// `o`: a profile for the focused pane (a new session when this one shows no server).
    fn open_picker(&mut self) {
        if self.profiles.is_empty() {
            self.warn("no profiles yet: add one in the Profiles tab (5, then a)");
            return;
        }
        let names = self
            .profiles
            .iter()
            .map(|p| (p.profile.name.clone(), p.profile.url()))
            .collect();
        self.layers.push(Layer::from(Picker {
            pane: self.explorer.focused(),
            filter: line("", false),
            names,
            cursor: 0,
        }));
    }

    /// Connects a pane to `profile`: in a new session from a local one (or when `fresh`),
    /// else in place.
    pub(super) fn connect(&mut self, at: PaneRef, profile: &str, fresh: bool) {
        let place = Place::Profile(profile.to_string());
        let local_session = self
            .explorer
            .sessions
            .iter()
            .find(|s| s.id == at.session)
            .is_none_or(|s| !s.is_remote());
        let at = match local_session || fresh {
            true => {
                let at = self.explorer.open_session(place.clone());
                let left = PaneRef {
                    side: Side::Left,
                    ..at
                };
                self.explorer.load(&mut self.out, left);
                at
            }
            false => at,
        };
        let request = Request::Open {
            place: place.clone(),
        };
        let id = self.out.send(
            Pending::Open {
                pane: at,
                place: place.clone(),
            },
            request,
        );
        if let Some(pane) = self.explorer.pane_mut(at) {
            pane.connecting = Some((id, profile.to_string()));
        }
        self.layers.push(Layer::Connecting {
            id,
            label: format!("connecting to {profile}"),
        });
        self.tab = Tab::Explorer;
    }

    /// Click: a tab, a session, a pane row; wheel: scroll the pane under it.
    pub(super) fn mouse_event(&mut self, mouse: MouseEvent) {
        let (col, row) = (mouse.column, mouse.row);
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) if row == 0 => {
                if let Some(tab) = crate::tui::views::tab_at(col) {
                    self.show_tab(tab);
                }
            }
            MouseEventKind::Down(MouseButton::Left) if self.tab == Tab::Explorer => {
                let Some((side, line)) = self.pane_at(col, row) else {
                    return;
                };
                let height = self.pane_height();
                let session = self.explorer.session_mut();
                session.focus = side;
                let pane = session.pane_mut(side);
                let target = pane.top + line;
                pane.move_to(target, height);
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown if self.tab == Tab::Explorer => {
                let Some((side, _)) = self.pane_at(col, row) else {
                    return;
                };
                let height = self.pane_height();
                let delta = if mouse.kind == MouseEventKind::ScrollUp {
                    -3
                } else {
                    3
                };
                self.explorer
                    .session_mut()
                    .pane_mut(side)
                    .move_by(delta, height);
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown if self.tab == Tab::Queue => {
                let up = mouse.kind == MouseEventKind::ScrollUp;
                self.queue_action(if up { Action::Up } else { Action::Down });
            }
            _ => {}
        }
    }

    /// The pane and its row under a screen cell (rows start below the pane's top border).
    fn pane_at(&self, col: u16, row: u16) -> Option<(Side, usize)> {
        let first = 3u16;
        let last = first + self.pane_height() as u16;
        if row < first || row >= last {
            return None;
        }
        let side = match col < self.size.0 / 2 {
            true => Side::Left,
            false => Side::Right,
        };
        Some((side, usize::from(row - first)))
    }
}
