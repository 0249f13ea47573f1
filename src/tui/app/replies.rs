//! Answers from the engine, routed by what each request was for: vault state, profiles,
//! listings (chunk by chunk), file operations, queued copies, previews, tests. No I/O here.

use super::App;
use super::outbox::{AfterBatch, PaneRef, Pending};
use crate::engine::api::{Failure, Place, Request, Response, VaultState};
use crate::remote::ErrorKind;
use crate::text::shown;
use crate::tui::layers::input::line;
use crate::tui::layers::{Layer, Unlock, VaultSetup, Viewer};

impl App {
    pub(super) fn reply(&mut self, id: u64, response: Response) {
        let Some(pending) = self.out.pending.get(&id).cloned() else {
            return;
        };
        // A listing answers in parts; everything else once.
        if !matches!(response, Response::Entries { .. }) {
            self.out.pending.remove(&id);
        }
        if let Response::Error(failure) = &response
            && !matches!(
                pending,
                Pending::Unlock
                    | Pending::InitVault
                    | Pending::List { .. }
                    | Pending::Open { .. }
                    | Pending::SaveProfile
                    | Pending::Vault
                    | Pending::Quit
            )
        {
            self.warn(shown(&failure.message).into_owned());
            return;
        }
        match pending {
            Pending::Vault => self.vault_state(response),
            Pending::Unlock | Pending::InitVault => self.vault_answer(response),
            Pending::Profiles => {
                if let Response::Profiles { profiles } = response {
                    self.profiles = profiles;
                    let last = self.profiles.len().saturating_sub(1);
                    self.profiles_tab.cursor = self.profiles_tab.cursor.min(last);
                }
            }
            Pending::Settings => {
                if let Response::Settings { settings } = response {
                    self.settings = settings;
                }
            }
            Pending::Open { pane, place } => self.opened(id, pane, place, response),
            Pending::List { pane } => self.listed(id, pane, response),
            Pending::Op { what, refresh } => {
                if !what.is_empty() {
                    self.tell(shown(&what).into_owned());
                }
                self.explorer.refresh(&mut self.out, &refresh);
            }
            Pending::Enqueue { what, then } => {
                if let Response::Enqueued { batch } = response {
                    self.tell(format!("{what}: queued"));
                    self.queue.batches.insert(batch, then);
                    // A small batch may be done before its answer gets here.
                    if let Some(summary) = self.queue.ended_early.remove(&batch) {
                        self.batch_done(batch, &summary);
                    }
                }
            }
            Pending::Peek { title } => {
                if let Response::Peeked { size, bytes } = response {
                    self.layers.push(Layer::Viewer(viewer(title, size, &bytes)));
                }
            }
            Pending::Test { profile } => {
                self.profiles_tab.testing.remove(&profile);
                if let Response::Tested { report } = response {
                    match &report.error {
                        Some(error) => self.warn(shown(&error.message).into_owned()),
                        None => self.tell(format!(
                            "{profile}: connected in {} ms",
                            report.connect_ms.unwrap_or(0)
                        )),
                    }
                    self.profiles_tab.reports.insert(profile, *report);
                }
            }
            Pending::SaveProfile => self.profile_saved(response),
            Pending::DeleteProfile => self.tell("profile deleted"),
            Pending::Import => {
                if let Response::Imported { added, skipped } = response {
                    let mut text = format!("imported {} profile(s)", added.len());
                    if !skipped.is_empty() {
                        text.push_str(&format!("; skipped {}", skipped.join("; ")));
                    }
                    self.tell(text);
                }
            }
            Pending::Certificate { profile, pinning } => {
                self.certificate(profile, pinning, response)
            }
            Pending::Answer => {}
            Pending::QueueWindow => {
                if let Response::QueueWindow {
                    start,
                    total,
                    transfers,
                } = response
                {
                    self.queue.window(start, total, transfers);
                }
            }
            Pending::QueueControl { what } => {
                if !what.is_empty() {
                    self.tell(what);
                }
                self.request_window();
            }
            Pending::SetLimit => {
                self.out.send(Pending::Settings, Request::Settings);
                self.tell("bandwidth limit changed");
            }
            Pending::History => self.history(response),
            Pending::Questions => self.questions(response),
            Pending::Quit => self.out.effect(crate::tui::msg::Effect::Quit),
        }
    }

    fn vault_state(&mut self, response: Response) {
        let state = match response {
            Response::Vault { state } => state,
            Response::Error(failure) => {
                self.warn(shown(&failure.message).into_owned());
                return;
            }
            _ => return,
        };
        match &state {
            VaultState::NotSetUp => self.layers.push(Layer::from(VaultSetup::new())),
            VaultState::Locked {
                passphrase: true, ..
            } => match self.passphrase.take() {
                Some(passphrase) => {
                    let request = Request::UnlockVault {
                        passphrase: Some(passphrase),
                    };
                    self.out.send(Pending::Unlock, request);
                }
                None => self.layers.push(Layer::from(Unlock {
                    field: line("", true),
                    error: None,
                    busy: false,
                })),
            },
            // A key-file vault: the engine finds the key file.
            VaultState::Locked { .. } => {
                self.out
                    .send(Pending::Unlock, Request::UnlockVault { passphrase: None });
            }
            VaultState::Unlocked { .. } => {}
        }
        self.vault = Some(state);
    }

    /// The answer to an unlock or a set-up: close the dialog, or say what was wrong there.
    fn vault_answer(&mut self, response: Response) {
        match response {
            Response::Vault { state } => {
                self.layers
                    .retain(|l| !matches!(l, Layer::Unlock(_) | Layer::CreateVault(_)));
                self.tell(match &state {
                    VaultState::Unlocked { by } => format!("unlocked by {by}"),
                    _ => "vault state changed".into(),
                });
                self.vault = Some(state);
            }
            Response::Error(failure) => {
                let message = shown(&failure.message).into_owned();
                match self.layers.iter_mut().rev().find_map(|l| match l {
                    Layer::Unlock(u) => Some((&mut u.error, &mut u.busy)),
                    Layer::CreateVault(v) => Some((&mut v.error, &mut v.busy)),
                    _ => None,
                }) {
                    Some((error, busy)) => {
                        *error = Some(message);
                        *busy = false;
                    }
                    // A passphrase from a file or a key file that did not work: ask.
                    None => {
                        self.layers.push(Layer::from(Unlock {
                            field: line("", true),
                            error: Some(message),
                            busy: false,
                        }));
                    }
                }
            }
            _ => {}
        }
    }

    fn opened(&mut self, id: u64, at: PaneRef, place: Place, response: Response) {
        self.layers
            .retain(|l| !matches!(l, Layer::Connecting { id: c, .. } if *c == id));
        let Some(pane) = self.explorer.pane_mut(at) else {
            return;
        };
        if pane.connecting.as_ref().is_none_or(|c| c.0 != id) {
            return;
        }
        pane.connecting = None;
        match response {
            Response::Opened { start, .. } => {
                pane.place = place;
                pane.home = start.clone();
                self.go(at, &start, None);
            }
            Response::Error(failure) => {
                pane.error = Some(shown(&failure.message).into_owned());
                self.warn(shown(&failure.message).into_owned());
            }
            _ => {}
        }
    }

    fn listed(&mut self, id: u64, at: PaneRef, response: Response) {
        let height = self.pane_height();
        let Some(pane) = self.explorer.pane_mut(at) else {
            return;
        };
        if pane.loading != Some(id) {
            return;
        }
        match response {
            Response::Entries { entries } => {
                let keep = pane.cursor_name();
                pane.listing.extend(entries);
                match pane.select.clone() {
                    Some(name) if pane.select_name(&name, height) => pane.select = None,
                    _ => pane.keep_cursor(keep, height),
                }
            }
            Response::Listed { refused, .. } => {
                pane.loading = None;
                pane.refused = refused;
                pane.select = None;
                pane.scroll(height);
            }
            Response::Error(Failure { kind, message }) => {
                pane.loading = None;
                pane.error = Some(shown(&message).into_owned());
                if kind == ErrorKind::Auth && message.contains("vault locked") {
                    self.warn("the vault is locked: unlock it to use this profile's secrets");
                } else {
                    self.warn(shown(&message).into_owned());
                }
            }
            _ => {}
        }
    }

    fn profile_saved(&mut self, response: Response) {
        match response {
            Response::Error(failure) => {
                if let Some(Layer::Form(form)) = self.layers.last_mut() {
                    form.busy = false;
                    form.error = Some(shown(&failure.message).into_owned());
                } else {
                    self.warn(shown(&failure.message).into_owned());
                }
            }
            _ => {
                if matches!(self.layers.last(), Some(Layer::Form(_))) {
                    self.layers.pop();
                }
                self.tell("profile saved");
            }
        }
    }

    fn certificate(&mut self, profile: String, pinning: bool, response: Response) {
        let Response::Certificate {
            certificate,
            pinned,
        } = response
        else {
            return;
        };
        if pinning {
            match pinned {
                true => self.tell(format!("certificate pinned for {profile}")),
                false => self.warn("the server showed another certificate: nothing was pinned"),
            }
            return;
        }
        if certificate.verified {
            self.tell(format!(
                "{profile}: the certificate verifies; nothing to pin"
            ));
            return;
        }
        self.layers.push(Layer::from(crate::tui::layers::Confirm {
            title: "Trust this certificate?".into(),
            lines: vec![
                format!("{profile} shows a certificate no trusted authority signed:"),
                format!("subject  {}", shown(&certificate.subject)),
                format!("issuer   {}", shown(&certificate.issuer)),
                format!("expires  {}", certificate.not_after),
                format!("SHA-256  {}", certificate.fingerprint()),
                "Compare the fingerprint with the one the server's owner gives you.".into(),
                "[y] pin it   [Esc] leave it".into(),
            ],
            field: None,
            action: crate::tui::layers::Confirmed::Pin {
                profile,
                sha256: certificate.sha256_hex,
            },
            error: None,
        }));
    }

    /// A queued batch ended: do what was waiting on it.
    pub(super) fn batch_done(&mut self, batch: u64, summary: &crate::engine::api::BatchSummary) {
        let Some(then) = self.queue.batches.remove(&batch) else {
            self.queue.ended_early(batch, summary.clone());
            return;
        };
        let clean = summary.failed == 0 && summary.cancelled == 0;
        match then {
            AfterBatch::Refresh(dirs) => {
                self.explorer.refresh(&mut self.out, &dirs);
                self.tell(format!(
                    "copy done: {} done, {} skipped, {} failed",
                    summary.done, summary.skipped, summary.failed
                ));
            }
            AfterBatch::RemoveSources {
                place,
                sources,
                refresh,
            } => {
                if clean && summary.skipped == 0 {
                    let dir = refresh.get(1).map(|(_, d)| d.clone()).unwrap_or_default();
                    self.remove(place, dir, sources);
                    self.explorer.refresh(&mut self.out, &refresh[..1]);
                    self.tell(format!("moved {} file(s)", summary.done));
                } else {
                    self.explorer.refresh(&mut self.out, &refresh);
                    self.warn("move incomplete: the sources were kept (see the Queue tab)");
                }
            }
            AfterBatch::Edit {
                local,
                place,
                remote_dir,
            } => match clean && summary.done == 1 {
                true => self.edit_downloaded(local, place, remote_dir),
                false => self.warn("could not fetch the file to edit (see the Queue tab)"),
            },
            AfterBatch::Saved { name } => match clean {
                true => self.tell(format!("{} saved on the server (verified)", shown(&name))),
                false => self.warn(format!("{} was not saved: see the Queue tab", shown(&name))),
            },
        }
    }
}

/// A viewer of a file's first bytes: text as lines (escaped), anything else as a hex dump.
fn viewer(title: String, size: u64, bytes: &[u8]) -> Viewer {
    let text = std::str::from_utf8(bytes)
        .ok()
        .filter(|t| !t.contains('\0'))
        .or_else(|| {
            // A multi-byte character cut at the end is still text.
            let cut = bytes.len().saturating_sub(3);
            std::str::from_utf8(&bytes[..cut])
                .ok()
                .filter(|t| !t.contains('\0'))
        });
    let lines = match text {
        Some(text) => text
            .lines()
            .map(|l| shown(&l.replace('\t', "    ")).into_owned())
            .collect(),
        None => bytes
            .chunks(16)
            .enumerate()
            .map(|(n, row)| {
                let hex: Vec<String> = row.iter().map(|b| format!("{b:02x}")).collect();
                let ascii: String = row
                    .iter()
                    .map(|&b| {
                        if b.is_ascii_graphic() || b == b' ' {
                            b as char
                        } else {
                            '.'
                        }
                    })
                    .collect();
                format!("{:08x}  {:<48} {ascii}", n * 16, hex.join(" "))
            })
            .collect(),
    };
    let note = match (bytes.len() as u64) < size {
        true => format!(
            "first {} of {}",
            crate::units::human_bytes(bytes.len() as u64),
            crate::units::human_bytes(size)
        ),
        false => crate::units::human_bytes(size),
    };
    Viewer {
        title,
        lines,
        scroll: 0,
        note,
    }
}
