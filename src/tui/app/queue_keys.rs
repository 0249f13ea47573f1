//! The Queue tab's keys: move, pause, resume, cancel (asked first), retry, reorder, clear the
//! finished rows, and change the bandwidth limit while transfers run. No I/O here.

use super::App;
use super::outbox::Pending;
use crate::engine::api::Request;
use crate::transfer::model::TransferState;
use crate::tui::keymap::Action;
use crate::tui::layers::input::line;
use crate::tui::layers::{Confirm, Confirmed, Layer};
use crate::tui::queue_tab::QueueRow;
use crate::units::human_bytes;

impl App {
    pub(super) fn queue_action(&mut self, action: Action) {
        let height = self.queue_height();
        let cursor = self.queue.cursor;
        let moved = match action {
            Action::Up => self.queue.move_to(cursor.saturating_sub(1), height),
            Action::Down => self.queue.move_to(cursor + 1, height),
            Action::PageUp => self.queue.move_to(cursor.saturating_sub(height), height),
            Action::PageDown => self.queue.move_to(cursor + height, height),
            Action::Top => self.queue.move_to(0, height),
            Action::Bottom => self.queue.move_to(usize::MAX, height),
            Action::ClearFinished => {
                self.queue.clear_finished();
                false
            }
            Action::Limit => {
                let now = match self.settings.bandwidth_limit {
                    0 => "0".to_string(),
                    rate => format!("{}/s", human_bytes(rate).replace(' ', "")),
                };
                self.layers.push(Layer::from(Confirm {
                    title: "Bandwidth limit".into(),
                    lines: vec![
                        "Overall limit for every transfer, e.g. 10MiB/s or 500KB/s; 0 for none."
                            .into(),
                        "It applies at once to transfers already running.".into(),
                    ],
                    field: Some(("limit".into(), line(&now, false))),
                    action: Confirmed::Limit,
                    error: None,
                }));
                false
            }
            _ => {
                self.transfer_action(action);
                false
            }
        };
        if moved {
            self.request_window();
        }
    }

    /// Pause, resume, cancel, retry or reorder the transfer under the cursor.
    fn transfer_action(&mut self, action: Action) {
        let Some(id) = self.queue.current_id() else {
            return;
        };
        let state = match self.queue.row(self.queue.cursor) {
            Some(QueueRow::Live(view)) => view.state,
            Some(QueueRow::Finished(transfer)) => transfer.state,
            _ => return,
        };
        let (request, what) = match action {
            Action::Pause => (Request::Pause { id }, format!("transfer {id} paused")),
            Action::Resume => (Request::Resume { id }, format!("transfer {id} resumed")),
            Action::Retry if state.is_final() => {
                (Request::Retry { id }, format!("transfer {id} queued again"))
            }
            Action::Retry => return self.tell("only finished transfers are retried"),
            Action::MoveUp => (Request::Move { id, up: true }, String::new()),
            Action::MoveDown => (Request::Move { id, up: false }, String::new()),
            Action::Cancel if !state.is_final() => {
                self.layers.push(Layer::from(Confirm {
                    title: "Cancel".into(),
                    lines: vec![
                        format!("Cancel transfer {id}? Its partial file is removed."),
                        "[y] cancel it   [Esc] keep it".into(),
                    ],
                    field: None,
                    action: Confirmed::Cancel(id),
                    error: None,
                }));
                return;
            }
            _ => return,
        };
        if state == TransferState::Done && action != Action::Retry {
            return;
        }
        self.out.send(Pending::QueueControl { what }, request);
    }
}
