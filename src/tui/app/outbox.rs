//! Requests on their way to the engine and what each answer is for: every request gets an id,
//! and the reply with that id is routed by its `Pending` entry. No I/O here.

use std::collections::HashMap;

use crate::engine::api::{Place, Request};
use crate::tui::msg::Effect;

/// A pane: the session it belongs to and its side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PaneRef {
    pub session: u64,
    pub side: Side,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Left,
    Right,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Left => Side::Right,
            Side::Right => Side::Left,
        }
    }
}

/// What an answer is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    Vault,
    Unlock,
    InitVault,
    Profiles,
    Settings,
    /// Connecting a pane to a place.
    Open {
        pane: PaneRef,
        place: Place,
    },
    List {
        pane: PaneRef,
    },
    /// A file operation; the panes showing `refresh` (place, directory) reload after it.
    Op {
        what: String,
        refresh: Vec<(Place, String)>,
    },
    /// A copy or move was queued.
    Enqueue {
        what: String,
        then: AfterBatch,
    },
    Peek {
        title: String,
    },
    Test {
        profile: String,
    },
    SaveProfile,
    DeleteProfile,
    Import,
    Certificate {
        profile: String,
        pinning: bool,
    },
    Answer,
    QueueWindow,
    QueueControl {
        what: String,
    },
    SetLimit,
    History,
    Questions,
    /// Leave when answered.
    Quit,
}

/// What to do when a queued batch is done.
#[derive(Debug, Clone, PartialEq)]
pub enum AfterBatch {
    /// Reload the panes showing these directories.
    Refresh(Vec<(Place, String)>),
    /// A move: remove the sources if every file arrived, then refresh.
    RemoveSources {
        place: Place,
        sources: Vec<String>,
        refresh: Vec<(Place, String)>,
    },
    /// An edit's download: open the local copy in the editor, then upload it back.
    Edit {
        local: String,
        place: Place,
        remote_dir: String,
    },
    /// An edited file went back.
    Saved { name: String },
}

/// Requests made and not answered yet.
#[derive(Debug, Default)]
pub struct Outbox {
    next_id: u64,
    pub effects: Vec<Effect>,
    pub pending: HashMap<u64, Pending>,
}

impl Outbox {
    /// Queues `request`; its answer will be routed as `pending` says.
    pub fn send(&mut self, pending: Pending, request: Request) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.pending.insert(id, pending);
        self.effects.push(Effect::Send { id, request });
        id
    }

    /// Stops waiting for `id`.
    pub fn cancel(&mut self, id: u64) {
        if self.pending.remove(&id).is_some() {
            self.effects.push(Effect::Cancel(id));
        }
    }

    pub fn effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    /// A fresh id for something that is not a request (an edit session).
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }
}
