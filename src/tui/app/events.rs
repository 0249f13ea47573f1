//! What the engine tells every watcher: progress, finished transfers and batches, questions
//! and refusals, changed profiles and vault. No I/O here.

use super::outbox::Pending;
use super::{App, Tab};
use crate::engine::api::{Event, QueueSnapshot, Request, Response};
use crate::text::shown;
use crate::tui::layers::Layer;

/// Finished transfers the dashboard looks at.
const HISTORY_ROWS: usize = 2000;

impl App {
    pub(super) fn event(&mut self, event: Event) {
        match event {
            Event::Progress { snapshot } => self.progress(snapshot),
            Event::Question { id, question } => self.ask(id, question),
            Event::QuestionClosed { id } => self
                .layers
                .retain(|l| !matches!(l, Layer::Question(q) if q.id == id)),
            Event::Refused { refusal } => self.layers.push(Layer::Refusal(refusal)),
            Event::Finished { transfer } if transfer.state.is_final() => {
                self.queue.finished(transfer);
            }
            Event::BatchDone {
                batch,
                summary,
                error,
            } => {
                if let Some(error) = error {
                    self.warn(shown(&error).into_owned());
                }
                self.batch_done(batch, &summary);
                if self.tab == Tab::Dashboard {
                    self.load_dashboard();
                }
            }
            // Worth telling only for a tree that takes a while to walk.
            Event::Planning {
                files,
                bytes,
                finished: false,
                ..
            } if files >= 1000 => self.tell(format!(
                "planning: {files} file(s), {} so far",
                crate::units::human_bytes(bytes)
            )),
            Event::ProfilesChanged => {
                self.out.send(Pending::Profiles, Request::Profiles);
            }
            Event::VaultChanged { state } => {
                // Unlocked elsewhere (another window, a key file): no dialog needs to ask.
                if matches!(state, crate::engine::api::VaultState::Unlocked { .. }) {
                    self.layers
                        .retain(|l| !matches!(l, Layer::Unlock(_) | Layer::CreateVault(_)));
                }
                self.vault = Some(state);
            }
            Event::Lagged { .. } => {
                self.out.send(Pending::Profiles, Request::Profiles);
                self.out.send(Pending::Questions, Request::Questions);
                self.request_window();
            }
            _ => {}
        }
    }

    pub(super) fn progress(&mut self, snapshot: QueueSnapshot) {
        self.queue.sample(snapshot.rate, self.clock.now());
        self.snapshot = snapshot;
        if self.tab == Tab::Queue {
            self.request_window();
        }
    }

    /// Asks for the queue rows on screen (one request at a time).
    pub(super) fn request_window(&mut self) {
        if self
            .queue
            .window_pending
            .is_some_and(|id| self.out.pending.contains_key(&id))
        {
            return;
        }
        let len = self.queue_height().max(1);
        let start = self.queue.top.min(self.snapshot.total);
        let request = Request::QueueWindow { start, len };
        self.queue.window_pending = Some(self.out.send(Pending::QueueWindow, request));
    }

    pub(super) fn load_dashboard(&mut self) {
        let request = Request::History {
            limit: HISTORY_ROWS,
            failed_only: false,
        };
        self.out.send(Pending::History, request);
    }

    pub(super) fn history(&mut self, response: Response) {
        if let Response::History { transfers } = response {
            self.dashboard.history = transfers;
        }
    }

    pub(super) fn questions(&mut self, response: Response) {
        if let Response::Questions { pending } = response {
            for question in pending {
                self.ask(question.id, question.question);
            }
        }
    }
}
