//! What flows into the app's state (`Input`) and what comes out of it (`Effect`): keys,
//! mouse, engine events and replies in; requests to the engine and terminal chores out. The
//! state never does I/O itself; whoever runs it carries out the effects.

use crossterm::event::{KeyEvent, MouseEvent};

use crate::engine::api::{Event, QueueSnapshot, Request, Response};

/// Something that happened.
#[derive(Debug, Clone)]
pub enum Input {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    Resize(u16, u16),
    /// A discrete engine event.
    Engine(Event),
    /// The latest progress snapshot.
    Progress(QueueSnapshot),
    /// A response to the request sent with this id.
    Reply(u64, Response),
    /// An edited file was closed: whether it changed.
    Edited {
        id: u64,
        changed: bool,
    },
    /// Time passed (only while something animates).
    Tick,
}

/// Something the app wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send a request; its responses come back as `Input::Reply(id, …)`.
    Send { id: u64, request: Request },
    /// Stop waiting for request `id` (the engine stops its work).
    Cancel(u64),
    /// Step aside from the terminal and edit a local file in $EDITOR, then report
    /// `Input::Edited { id, changed }`.
    Edit { id: u64, path: String },
    /// Stop the process (Ctrl-Z), then redraw everything.
    Suspend,
    /// Leave the app.
    Quit,
}
