//! The explorer's state: sessions (one per connected profile, each its own sub-tab) of two
//! panes each. Finding panes and starting their listings; keys are handled by the app. No I/O.

pub mod listing;
pub mod pane;

use crate::engine::api::{Place, Request};
use crate::tui::app::outbox::{Outbox, PaneRef, Pending, Side};
pub use pane::{Pane, Row};

/// Two panes and which one has the focus.
#[derive(Debug)]
pub struct Session {
    pub id: u64,
    pub left: Pane,
    pub right: Pane,
    pub focus: Side,
}

impl Session {
    pub fn pane(&self, side: Side) -> &Pane {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }

    pub fn pane_mut(&mut self, side: Side) -> &mut Pane {
        match side {
            Side::Left => &mut self.left,
            Side::Right => &mut self.right,
        }
    }

    /// `web`, `web|backup`, or `local`.
    pub fn label(&self) -> String {
        let mut names: Vec<&str> = [&self.left, &self.right]
            .iter()
            .filter(|p| p.place != Place::Local)
            .map(|p| p.label())
            .collect();
        names.dedup();
        match names.is_empty() {
            true => "local".into(),
            false => names.join("|"),
        }
    }

    /// Whether a pane shows a server.
    pub fn is_remote(&self) -> bool {
        self.left.place != Place::Local || self.right.place != Place::Local
    }
}

#[derive(Debug)]
pub struct Explorer {
    pub sessions: Vec<Session>,
    pub current: usize,
    next_id: u64,
    /// The home directory on this machine.
    pub local_home: String,
}

impl Explorer {
    /// One local session, both panes in `start`.
    pub fn new(start: &str, home: &str) -> Explorer {
        let pane = || Pane::new(Place::Local, start, home);
        Explorer {
            sessions: vec![Session {
                id: 1,
                left: pane(),
                right: pane(),
                focus: Side::Left,
            }],
            current: 0,
            next_id: 2,
            local_home: home.to_string(),
        }
    }

    pub fn session(&self) -> &Session {
        &self.sessions[self.current.min(self.sessions.len() - 1)]
    }

    pub fn session_mut(&mut self) -> &mut Session {
        let at = self.current.min(self.sessions.len() - 1);
        &mut self.sessions[at]
    }

    pub fn focused(&self) -> PaneRef {
        let session = self.session();
        PaneRef {
            session: session.id,
            side: session.focus,
        }
    }

    pub fn focused_pane(&self) -> &Pane {
        let session = self.session();
        session.pane(session.focus)
    }

    pub fn focused_pane_mut(&mut self) -> &mut Pane {
        let session = self.session_mut();
        let side = session.focus;
        session.pane_mut(side)
    }

    pub fn pane(&self, at: PaneRef) -> Option<&Pane> {
        self.sessions
            .iter()
            .find(|s| s.id == at.session)
            .map(|s| s.pane(at.side))
    }

    pub fn pane_mut(&mut self, at: PaneRef) -> Option<&mut Pane> {
        self.sessions
            .iter_mut()
            .find(|s| s.id == at.session)
            .map(|s| s.pane_mut(at.side))
    }

    /// Every pane showing directory `dir` of `place`.
    pub fn showing(&self, place: &Place, dir: &str) -> Vec<PaneRef> {
        let mut found = Vec::new();
        for session in &self.sessions {
            for side in [Side::Left, Side::Right] {
                let pane = session.pane(side);
                if pane.place == *place && pane.path == dir {
                    found.push(PaneRef {
                        session: session.id,
                        side,
                    });
                }
            }
        }
        found
    }

    /// A new session whose left pane shows the focused local directory and whose right pane
    /// will show `place`; returns the right pane.
    pub fn open_session(&mut self, place: Place) -> PaneRef {
        let focused = self.focused_pane();
        let (path, home) = match focused.place {
            Place::Local => (focused.path.clone(), focused.home.clone()),
            _ => (self.local_home.clone(), self.local_home.clone()),
        };
        let hidden = focused.listing.show_hidden;
        let id = self.next_id;
        self.next_id += 1;
        let mut left = Pane::new(Place::Local, &path, &home);
        left.listing.show_hidden = hidden;
        self.sessions.push(Session {
            id,
            left,
            right: Pane::new(place, "/", "/"),
            focus: Side::Right,
        });
        self.current = self.sessions.len() - 1;
        PaneRef {
            session: id,
            side: Side::Right,
        }
    }

    /// Closes the current session (never the last one); returns its panes' requests in flight.
    pub fn close_session(&mut self) -> Vec<u64> {
        if self.sessions.len() < 2 {
            return Vec::new();
        }
        let session = self.sessions.remove(self.current);
        self.current = self.current.min(self.sessions.len() - 1);
        [session.left, session.right]
            .iter()
            .flat_map(|p| {
                p.loading
                    .into_iter()
                    .chain(p.connecting.as_ref().map(|c| c.0))
            })
            .collect()
    }

    /// (Re)loads a pane's directory: the listing in flight for it, if any, is cancelled.
    pub fn load(&mut self, out: &mut Outbox, at: PaneRef) {
        let Some(pane) = self.pane_mut(at) else {
            return;
        };
        if let Some(old) = pane.loading.take() {
            out.cancel(old);
        }
        let keep = pane.cursor_name();
        let path = pane.path.clone();
        pane.select = pane.select.take().or(keep);
        pane.listing.clear();
        pane.error = None;
        pane.refused.clear();
        let request = Request::List {
            place: pane.place.clone(),
            path,
        };
        pane.loading = Some(out.send(Pending::List { pane: at }, request));
    }

    /// Reloads every pane showing one of these directories.
    pub fn refresh(&mut self, out: &mut Outbox, dirs: &[(Place, String)]) {
        for (place, dir) in dirs {
            for at in self.showing(place, dir) {
                self.load(out, at);
            }
        }
    }
}
