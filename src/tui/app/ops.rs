//! File operations from the explorer: copy and move through the queue (after a confirmation
//! showing the destination), mkdir, rename, delete (naming what goes), view, edit in $EDITOR
//! (a server's file is downloaded, edited, and sent back verified if it changed) and info.
//! Everything goes through the engine; no I/O here.

use super::outbox::{AfterBatch, Pending};
use super::{App, Clock};
use crate::engine::api::{Place, Request};
use crate::remote::{Entry, EntryKind, names};
use crate::text::shown;
use crate::transfer::model::{Direction, OverwritePolicy, TransferRequest};
use crate::tui::layers::input::line;
use crate::tui::layers::{Confirm, Confirmed, Layer};
use crate::units::human_bytes;

/// Bytes a viewer shows of a file.
pub const VIEW_BYTES: u64 = 64 << 10;

/// Where an edited file goes back to.
#[derive(Debug, Clone)]
pub(super) struct EditBack {
    pub local: String,
    pub place: Place,
    pub remote_dir: String,
}

impl App {
    /// The marked entries of the focused pane, or the one under the cursor.
    fn selection(&self) -> Vec<Entry> {
        let pane = self.explorer.focused_pane();
        let marked: Vec<Entry> = pane.listing.marked().into_iter().cloned().collect();
        match marked.is_empty() {
            true => pane.current_entry().cloned().into_iter().collect(),
            false => marked,
        }
    }

    /// F5/F6: a confirmation showing (and letting you change) the destination.
    pub(super) fn start_copy(&mut self, is_move: bool) {
        let selection = self.selection();
        if selection.is_empty() {
            self.warn("nothing to copy: put the cursor on a file or mark some");
            return;
        }
        let session = self.explorer.session();
        let from = session.pane(session.focus);
        let to = session.pane(session.focus.other());
        if from.place == Place::Local && to.place == Place::Local {
            self.warn("both panes are on this machine: open a profile in one of them (o)");
            return;
        }
        let verb = if is_move { "Move" } else { "Copy" };
        let bytes: u64 = selection
            .iter()
            .filter(|e| !e.is_dir())
            .map(|e| e.size)
            .sum();
        let lines = vec![
            format!(
                "{verb} {} ({}) from {}:",
                describe(&selection),
                human_bytes(bytes),
                from.label()
            ),
            format!("  {}", shown(&from.path)),
            format!("to {} directory:", to.label()),
        ];
        let action = Confirmed::Copy {
            pane: self.explorer.focused(),
            from: from.place.clone(),
            sources: selection.iter().map(|e| from.child(&e.name)).collect(),
            to: to.place.clone(),
            is_move,
        };
        self.layers.push(Layer::from(Confirm {
            title: format!("{verb} {}", to.label()),
            lines,
            field: Some(("to".into(), line(&to.path, false))),
            action,
            error: None,
        }));
    }

    /// Queues a confirmed copy or move into `dir`.
    pub(super) fn copy(
        &mut self,
        from: Place,
        sources: Vec<String>,
        to: Place,
        dir: &str,
        is_move: bool,
    ) {
        let dir = names::normalize(dir.trim());
        let (direction, profile, peer) = match (&from, &to) {
            (Place::Local, Place::Profile(p)) => (Direction::Upload, p.clone(), None),
            (Place::Profile(p), Place::Local) => (Direction::Download, p.clone(), None),
            (Place::Profile(a), Place::Profile(b)) => {
                (Direction::Relay, a.clone(), Some(b.clone()))
            }
            (Place::Local, Place::Local) => return,
        };
        let source_dir = sources
            .first()
            .and_then(|s| names::parent(s))
            .unwrap_or_default();
        let count = sources.len();
        let request = TransferRequest {
            direction,
            profile,
            peer,
            sources: sources.clone(),
            target: dir.clone(),
            recursive: true,
            overwrite: OverwritePolicy::Ask,
            limit: 0,
        };
        let refresh = vec![(to, dir), (from.clone(), source_dir)];
        let then = match is_move {
            true => AfterBatch::RemoveSources {
                place: from,
                sources,
                refresh,
            },
            false => AfterBatch::Refresh(refresh),
        };
        let verb = if is_move { "move" } else { "copy" };
        let what = format!("{verb} of {count} item(s)");
        self.out
            .send(Pending::Enqueue { what, then }, Request::Enqueue(request));
        let pane = self.explorer.focused_pane_mut();
        pane.listing.clear_marks();
    }

    pub(super) fn start_mkdir(&mut self) {
        let pane = self.explorer.focused_pane();
        self.layers.push(Layer::from(Confirm {
            title: "Make a directory".into(),
            lines: vec![format!("in {}:{}", pane.label(), shown(&pane.path))],
            field: Some(("name".into(), line("", false))),
            action: Confirmed::Mkdir {
                place: pane.place.clone(),
                dir: pane.path.clone(),
            },
            error: None,
        }));
    }

    pub(super) fn start_rename(&mut self) {
        let pane = self.explorer.focused_pane();
        let Some(entry) = pane.current_entry() else {
            return;
        };
        self.layers.push(Layer::from(Confirm {
            title: "Rename".into(),
            lines: vec![format!(
                "{} in {}:{}",
                shown(&entry.name),
                pane.label(),
                shown(&pane.path)
            )],
            field: Some(("new name".into(), line(&entry.name, false))),
            action: Confirmed::Rename {
                place: pane.place.clone(),
                dir: pane.path.clone(),
                old: entry.name.clone(),
            },
            error: None,
        }));
    }

    /// F8: names what goes (directories with everything in them) and asks.
    pub(super) fn start_delete(&mut self) {
        let selection = self.selection();
        if selection.is_empty() {
            return;
        }
        let pane = self.explorer.focused_pane();
        let mut lines = vec![format!(
            "Delete {} from {}:{}?",
            describe(&selection),
            pane.label(),
            shown(&pane.path)
        )];
        for entry in selection.iter().take(6) {
            let tail = if entry.is_dir() {
                "/  (with everything in it)"
            } else {
                ""
            };
            lines.push(format!("  {}{tail}", shown(&entry.name)));
        }
        if selection.len() > 6 {
            lines.push(format!("  … and {} more", selection.len() - 6));
        }
        lines.push("This cannot be undone.".into());
        self.layers.push(Layer::from(Confirm {
            title: "Delete".into(),
            lines,
            field: None,
            action: Confirmed::Delete {
                place: pane.place.clone(),
                dir: pane.path.clone(),
                paths: selection.iter().map(|e| pane.child(&e.name)).collect(),
            },
            error: None,
        }));
    }

    /// F3: the first part of the file under the cursor.
    pub(super) fn view_file(&mut self) {
        let pane = self.explorer.focused_pane();
        let Some(entry) = pane.current_entry().filter(|e| !e.is_dir()) else {
            return;
        };
        let request = Request::Peek {
            place: pane.place.clone(),
            path: pane.child(&entry.name),
            max_bytes: VIEW_BYTES,
        };
        let title = format!("{}:{}", pane.label(), shown(&pane.child(&entry.name)));
        self.out.send(Pending::Peek { title }, request);
    }

    /// F4: edit in $EDITOR; a server's file is fetched first and sent back if it changed.
    pub(super) fn edit_file(&mut self) {
        let pane = self.explorer.focused_pane();
        let Some(entry) = pane.current_entry().filter(|e| e.kind == EntryKind::File) else {
            return;
        };
        let path = pane.child(&entry.name);
        match &pane.place {
            Place::Local => {
                let id = self.out.next_id();
                self.out.effect(crate::tui::msg::Effect::Edit { id, path });
            }
            Place::Profile(profile) => {
                // The engine makes the directory (private, as ferry's umask is) as it downloads.
                let dir = self.edit_dir.clone();
                let request = TransferRequest {
                    direction: Direction::Download,
                    profile: profile.clone(),
                    peer: None,
                    sources: vec![path.clone()],
                    target: dir.clone(),
                    recursive: false,
                    overwrite: OverwritePolicy::Overwrite,
                    limit: 0,
                };
                let then = AfterBatch::Edit {
                    local: names::join(&dir, &entry.name),
                    place: pane.place.clone(),
                    remote_dir: pane.path.clone(),
                };
                let what = format!("fetching {} to edit", shown(&entry.name));
                self.out
                    .send(Pending::Enqueue { what, then }, Request::Enqueue(request));
            }
        }
    }

    /// The editor closed: a changed file goes back to its server.
    pub(super) fn edited(&mut self, id: u64, changed: bool) {
        let Some(back) = self.edits.remove(&id) else {
            return;
        };
        let name = names::base_name(&back.local).to_string();
        if !changed {
            self.tell(format!("{} unchanged: nothing sent back", shown(&name)));
            return;
        }
        let Place::Profile(profile) = &back.place else {
            return;
        };
        let request = TransferRequest {
            direction: Direction::Upload,
            profile: profile.clone(),
            peer: None,
            sources: vec![back.local.clone()],
            target: back.remote_dir.clone(),
            recursive: false,
            overwrite: OverwritePolicy::Overwrite,
            limit: 0,
        };
        let what = format!("sending {} back", shown(&name));
        let then = AfterBatch::Saved { name };
        self.out
            .send(Pending::Enqueue { what, then }, Request::Enqueue(request));
    }

    /// Opens a downloaded copy in the editor, remembering where it goes back.
    pub(super) fn edit_downloaded(&mut self, local: String, place: Place, remote_dir: String) {
        let id = self.out.next_id();
        self.edits.insert(
            id,
            EditBack {
                local: local.clone(),
                place,
                remote_dir,
            },
        );
        self.out
            .effect(crate::tui::msg::Effect::Edit { id, path: local });
    }

    /// `i`: what the listing knows about the entry under the cursor.
    pub(super) fn show_info(&mut self) {
        let pane = self.explorer.focused_pane();
        let Some(entry) = pane.current_entry() else {
            return;
        };
        let clock = self.clock;
        let mut rows = vec![
            ("name".to_string(), shown(&entry.name).into_owned()),
            (
                "where".into(),
                format!("{}:{}", pane.label(), shown(&pane.path)),
            ),
            ("kind".into(), format!("{:?}", entry.kind).to_lowercase()),
            (
                "size".into(),
                format!("{} ({} bytes)", human_bytes(entry.size), entry.size),
            ),
            ("modified".into(), full_time(clock, entry.mtime)),
            ("mode".into(), entry.mode_string()),
            (
                "owner".into(),
                shown(entry.owner.as_deref().unwrap_or("-")).into_owned(),
            ),
            (
                "group".into(),
                shown(entry.group.as_deref().unwrap_or("-")).into_owned(),
            ),
        ];
        if let Some(target) = &entry.link_target {
            rows.push(("points to".into(), shown(target).into_owned()));
        }
        self.layers.push(Layer::Info {
            title: "Info".into(),
            rows,
        });
    }
}

/// `2 files and 1 directory`.
fn describe(entries: &[Entry]) -> String {
    let dirs = entries.iter().filter(|e| e.is_dir()).count();
    let files = entries.len() - dirs;
    let plural = |n: usize, one: &str, many: &str| match n {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    };
    match (files, dirs) {
        (f, 0) => plural(f, "file", "files"),
        (0, d) => plural(d, "directory", "directories"),
        (f, d) => format!(
            "{} and {}",
            plural(f, "file", "files"),
            plural(d, "directory", "directories")
        ),
    }
}

/// `2026-12-03 09:12:44`, or `-`.
pub(crate) fn full_time(clock: Clock, t: Option<i64>) -> String {
    t.and_then(|t| clock.local(t))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}
