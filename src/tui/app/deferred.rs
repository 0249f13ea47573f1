//! Carrying out what a dialog decided: unlock or set up the vault, connect a pane, answer a
//! question, copy, delete, rename, save a profile, quit. No I/O here: each becomes requests.

use super::App;
use super::outbox::Pending;
use crate::engine::api::{Place, Request};
use crate::remote::names;
use crate::tui::layers::{Confirmed, Deferred, Layer};
use crate::tui::msg::Effect;
use crate::units::Rate;

impl App {
    pub(super) fn run_deferred(&mut self, deferred: Deferred) {
        match deferred {
            Deferred::CreateVault {
                passphrase,
                key_file,
            } => {
                let request = Request::InitVault {
                    passphrase,
                    key_file,
                };
                self.out.send(Pending::InitVault, request);
            }
            Deferred::Unlock(passphrase) => {
                let request = Request::UnlockVault {
                    passphrase: Some(passphrase),
                };
                self.out.send(Pending::Unlock, request);
            }
            Deferred::Connect { pane, profile } => self.connect(pane, &profile, false),
            Deferred::CancelRequest(id) => {
                self.out.cancel(id);
                for session in &mut self.explorer.sessions {
                    for pane in [&mut session.left, &mut session.right] {
                        if pane.connecting.as_ref().is_some_and(|c| c.0 == id) {
                            pane.connecting = None;
                            pane.error = Some("connection cancelled".into());
                        }
                    }
                }
                self.tell("connecting cancelled");
            }
            Deferred::Answer { id, answer } => {
                let request = Request::Answer {
                    question: id,
                    answer,
                };
                self.out.send(Pending::Answer, request);
            }
            Deferred::Confirmed { action, text } => self.confirmed(action, text),
            Deferred::SaveProfile(saved) => {
                let request = Request::SaveProfile {
                    original: saved.original,
                    profile: Box::new(saved.profile),
                    password: saved.password,
                    key_passphrase: saved.key_passphrase,
                };
                self.out.send(Pending::SaveProfile, request);
            }
            Deferred::Quit { cancel_transfers } => {
                match cancel_transfers {
                    // Leave once the engine has cancelled them.
                    true => {
                        self.out.send(Pending::Quit, Request::CancelAll);
                    }
                    false => self.out.effect(Effect::Quit),
                }
            }
        }
    }

    fn confirmed(&mut self, action: Confirmed, text: String) {
        match action {
            Confirmed::Copy {
                pane: _,
                from,
                sources,
                to,
                is_move,
            } => self.copy(from, sources, to, &text, is_move),
            Confirmed::Mkdir { place, dir } => {
                let name = text.trim();
                if let Some(problem) = bad_name(name) {
                    self.warn(problem);
                    return;
                }
                let path = names::join(&dir, name);
                let what = format!("made {name}");
                let request = Request::Mkdir {
                    place: place.clone(),
                    path,
                };
                self.out.send(
                    Pending::Op {
                        what,
                        refresh: vec![(place, dir)],
                    },
                    request,
                );
            }
            Confirmed::Rename { place, dir, old } => {
                let name = text.trim();
                if name == old {
                    return;
                }
                if let Some(problem) = bad_name(name) {
                    self.warn(problem);
                    return;
                }
                let request = Request::Rename {
                    place: place.clone(),
                    from: names::join(&dir, &old),
                    to: names::join(&dir, name),
                };
                let what = format!("renamed to {name}");
                self.out.send(
                    Pending::Op {
                        what,
                        refresh: vec![(place, dir)],
                    },
                    request,
                );
            }
            Confirmed::Delete { place, dir, paths } => self.remove(place, dir, paths),
            Confirmed::Limit => match text.trim().parse::<Rate>() {
                Ok(rate) => {
                    let request = Request::SetLimit {
                        bytes_per_sec: rate.0,
                    };
                    self.out.send(Pending::SetLimit, request);
                }
                Err(err) => self.warn(format!("bandwidth limit: {err}")),
            },
            Confirmed::DeleteProfile(name) => {
                self.out
                    .send(Pending::DeleteProfile, Request::DeleteProfile { name });
            }
            Confirmed::Import => {
                let path = Some(text.trim().to_string()).filter(|p| !p.is_empty());
                self.out
                    .send(Pending::Import, Request::ImportSshConfig { path });
            }
            Confirmed::Pin { profile, sha256 } => {
                let request = Request::Certificate {
                    profile: profile.clone(),
                    pin: Some(sha256),
                };
                let pending = Pending::Certificate {
                    profile,
                    pinning: true,
                };
                self.out.send(pending, request);
            }
            Confirmed::Cancel(id) => {
                let what = format!("transfer {id} cancelled");
                self.out
                    .send(Pending::QueueControl { what }, Request::Cancel { id });
            }
        }
    }

    /// Removes `paths` (trees too) and reloads the panes showing `dir`.
    pub(super) fn remove(&mut self, place: Place, dir: String, paths: Vec<String>) {
        let count = paths.len();
        for (n, path) in paths.into_iter().enumerate() {
            let what = match n + 1 == count {
                true => format!("deleted {count} item(s)"),
                false => String::new(),
            };
            let request = Request::Remove {
                place: place.clone(),
                path,
                recursive: true,
            };
            self.out.send(
                Pending::Op {
                    what,
                    refresh: vec![(place.clone(), dir.clone())],
                },
                request,
            );
        }
        self.explorer.focused_pane_mut().listing.clear_marks();
    }

    /// Opens the dialog a question needs, on top of everything.
    pub(super) fn ask(&mut self, id: u64, question: crate::engine::api::Question) {
        let open = self
            .layers
            .iter()
            .any(|l| matches!(l, Layer::Question(q) if q.id == id));
        if !open {
            self.layers
                .push(Layer::Question(crate::tui::layers::QuestionLayer {
                    id,
                    question,
                    apply_to_batch: false,
                }));
        }
    }
}

/// Why a typed name cannot be a file name, if it cannot.
fn bad_name(name: &str) -> Option<&'static str> {
    match name {
        "" => Some("give a name"),
        "." | ".." => Some("`.` and `..` are not names"),
        n if n.contains('/') => Some("a name cannot hold `/`"),
        _ => None,
    }
}
