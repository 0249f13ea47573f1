//! The dialog stack: the top layer sees a key first and either keeps it, closes, or hands the
//! app a `Deferred` action to carry out (the layer knows what was asked, the app knows how).
//! No I/O here.

pub mod form;
pub mod input;
pub mod jumps;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui_textarea::TextArea;

use self::form::ProfileForm;
use self::input::{line, text_of};
use crate::engine::api::{Answer, Place, Question, Refusal, Secret};
use crate::remote::trust::HostKeyDecision;
use crate::transfer::conflict::ConflictChoice;
use crate::transfer::model::OverwritePolicy;
use crate::tui::app::outbox::PaneRef;

/// What a layer asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Deferred {
    CreateVault {
        passphrase: Option<Secret>,
        key_file: Option<String>,
    },
    Unlock(Secret),
    Connect {
        pane: PaneRef,
        profile: String,
    },
    CancelRequest(u64),
    Confirmed {
        action: Confirmed,
        text: String,
    },
    Answer {
        id: u64,
        answer: Answer,
    },
    SaveProfile(Box<form::Saved>),
    Quit {
        cancel_transfers: bool,
    },
}

/// What a confirmation (with or without a text field) was about.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirmed {
    /// Copy (or move) `sources` from `from` into the directory typed (or shown).
    Copy {
        pane: PaneRef,
        from: Place,
        sources: Vec<String>,
        to: Place,
        is_move: bool,
    },
    Delete {
        place: Place,
        dir: String,
        paths: Vec<String>,
    },
    Mkdir {
        place: Place,
        dir: String,
    },
    Rename {
        place: Place,
        dir: String,
        old: String,
    },
    Limit,
    DeleteProfile(String),
    Import,
    Cancel(u64),
    /// Trust an FTPS profile's certificate, if the server still shows this one.
    Pin {
        profile: String,
        sha256: String,
    },
}

/// How a layer took a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Stay,
    Close,
    /// Close, then do this.
    Accept(Deferred),
    /// Do this and stay open (the app closes the layer when the answer comes).
    Keep(Deferred),
}

/// A dialog or overlay.
#[derive(Debug)]
pub enum Layer {
    CreateVault(Box<VaultSetup>),
    Unlock(Box<Unlock>),
    Picker(Box<Picker>),
    Connecting {
        id: u64,
        label: String,
    },
    Confirm(Box<Confirm>),
    Question(QuestionLayer),
    Refusal(Refusal),
    Viewer(Viewer),
    Info {
        title: String,
        rows: Vec<(String, String)>,
    },
    Help {
        scroll: usize,
    },
    Quit {
        running: usize,
    },
    Form(Box<ProfileForm>),
    Message {
        title: String,
        text: String,
    },
}

/// Setting up the vault: a passphrase typed twice, or a key file.
#[derive(Debug)]
pub struct VaultSetup {
    pub fields: [TextArea<'static>; 3],
    /// 0, 1: passphrase and again; 2: key file path (used when not empty).
    pub focus: usize,
    pub error: Option<String>,
    pub busy: bool,
}

impl VaultSetup {
    pub fn new() -> VaultSetup {
        VaultSetup {
            fields: [line("", true), line("", true), line("", false)],
            focus: 0,
            error: None,
            busy: false,
        }
    }
}

impl Default for VaultSetup {
    fn default() -> VaultSetup {
        VaultSetup::new()
    }
}

#[derive(Debug)]
pub struct Unlock {
    pub field: TextArea<'static>,
    pub error: Option<String>,
    pub busy: bool,
}

/// Choosing a profile for a pane.
#[derive(Debug)]
pub struct Picker {
    pub pane: PaneRef,
    pub filter: TextArea<'static>,
    pub names: Vec<(String, String)>,
    pub cursor: usize,
}

impl Picker {
    /// The (name, address) rows matching the filter.
    pub fn shown(&self) -> Vec<&(String, String)> {
        let needle = text_of(&self.filter).to_lowercase();
        self.names
            .iter()
            .filter(|(name, url)| {
                needle.is_empty()
                    || name.to_lowercase().contains(&needle)
                    || url.to_lowercase().contains(&needle)
            })
            .collect()
    }
}

#[derive(Debug)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    /// An editable value (a destination, a name).
    pub field: Option<(String, TextArea<'static>)>,
    pub action: Confirmed,
    pub error: Option<String>,
}

#[derive(Debug)]
pub struct QuestionLayer {
    pub id: u64,
    pub question: Question,
    pub apply_to_batch: bool,
}

#[derive(Debug)]
pub struct Viewer {
    pub title: String,
    pub lines: Vec<String>,
    pub scroll: usize,
    pub note: String,
}

impl Layer {
    /// Takes a key; `height` is the screen's height (for paging).
    pub fn key(&mut self, key: KeyEvent, height: usize) -> Outcome {
        match self {
            Layer::CreateVault(setup) => vault_setup_key(setup, key),
            Layer::Unlock(unlock) => unlock_key(unlock, key),
            Layer::Picker(picker) => picker_key(picker, key),
            Layer::Connecting { id, .. } => match key.code {
                KeyCode::Esc => Outcome::Accept(Deferred::CancelRequest(*id)),
                _ => Outcome::Stay,
            },
            Layer::Confirm(confirm) => confirm_key(confirm, key),
            Layer::Question(question) => question_key(question, key),
            Layer::Refusal(_) | Layer::Message { .. } | Layer::Info { .. } => match key.code {
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => Outcome::Close,
                _ => Outcome::Stay,
            },
            Layer::Viewer(viewer) => {
                let page = height.saturating_sub(6).max(1);
                let last = viewer.lines.len().saturating_sub(page);
                scroll_key(&mut viewer.scroll, key, page, last)
            }
            Layer::Help { scroll } => scroll_key(scroll, key, height.saturating_sub(6), usize::MAX),
            Layer::Quit { .. } => match key.code {
                KeyCode::Char('s') | KeyCode::Char('y') | KeyCode::Enter => {
                    Outcome::Accept(Deferred::Quit {
                        cancel_transfers: false,
                    })
                }
                KeyCode::Char('c') => Outcome::Accept(Deferred::Quit {
                    cancel_transfers: true,
                }),
                KeyCode::Esc | KeyCode::Char('n') => Outcome::Close,
                _ => Outcome::Stay,
            },
            Layer::Form(form) => form.key(key),
        }
    }

    /// Whether the layer takes pasted text (into its focused field).
    pub fn paste(&mut self, text: &str) {
        let field = match self {
            Layer::CreateVault(setup) => Some(&mut setup.fields[setup.focus]),
            Layer::Unlock(unlock) => Some(&mut unlock.field),
            Layer::Picker(picker) => Some(&mut picker.filter),
            Layer::Confirm(confirm) => confirm.field.as_mut().map(|(_, f)| f),
            Layer::Form(form) => form.focused_field(),
            _ => None,
        };
        if let Some(field) = field {
            field.insert_str(text.lines().next().unwrap_or(""));
        }
    }
}

fn scroll_key(scroll: &mut usize, key: KeyEvent, page: usize, last: usize) -> Outcome {
    match key.code {
        KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter | KeyCode::F(3) | KeyCode::F(1) => {
            return Outcome::Close;
        }
        KeyCode::Char('?') => return Outcome::Close,
        KeyCode::Down | KeyCode::Char('j') => *scroll += 1,
        KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
        KeyCode::PageDown | KeyCode::Char(' ') => *scroll += page,
        KeyCode::PageUp => *scroll = scroll.saturating_sub(page),
        KeyCode::Home | KeyCode::Char('g') => *scroll = 0,
        KeyCode::End | KeyCode::Char('G') => *scroll = last,
        _ => {}
    }
    *scroll = (*scroll).min(last);
    Outcome::Stay
}

fn vault_setup_key(setup: &mut VaultSetup, key: KeyEvent) -> Outcome {
    if setup.busy {
        return Outcome::Stay;
    }
    match key.code {
        KeyCode::Tab | KeyCode::Down => setup.focus = (setup.focus + 1) % 3,
        KeyCode::BackTab | KeyCode::Up => setup.focus = (setup.focus + 2) % 3,
        KeyCode::Enter => {
            let key_file = text_of(&setup.fields[2]);
            let (first, again) = (text_of(&setup.fields[0]), text_of(&setup.fields[1]));
            if !key_file.trim().is_empty() {
                if !first.is_empty() {
                    setup.error = Some("give a passphrase or a key file, not both".into());
                    return Outcome::Stay;
                }
                setup.busy = true;
                return Outcome::Keep(Deferred::CreateVault {
                    passphrase: None,
                    key_file: Some(key_file.trim().to_string()),
                });
            }
            if first.is_empty() {
                setup.error = Some("type a passphrase (twice), or the path of a key file".into());
                return Outcome::Stay;
            }
            if first != again {
                setup.error = Some("the two passphrases differ: type them again".into());
                for field in &mut setup.fields[..2] {
                    *field = line("", true);
                }
                setup.focus = 0;
                return Outcome::Stay;
            }
            setup.busy = true;
            return Outcome::Keep(Deferred::CreateVault {
                passphrase: Some(Secret::new(first)),
                key_file: None,
            });
        }
        _ => {
            setup.error = None;
            setup.fields[setup.focus].input(key);
        }
    }
    Outcome::Stay
}

fn unlock_key(unlock: &mut Unlock, key: KeyEvent) -> Outcome {
    if unlock.busy {
        return Outcome::Stay;
    }
    match key.code {
        KeyCode::Enter => {
            let passphrase = text_of(&unlock.field);
            if passphrase.is_empty() {
                unlock.error = Some("type the vault's passphrase".into());
                return Outcome::Stay;
            }
            unlock.busy = true;
            unlock.field = line("", true);
            Outcome::Keep(Deferred::Unlock(Secret::new(passphrase)))
        }
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => Outcome::Stay,
        _ => {
            unlock.error = None;
            unlock.field.input(key);
            Outcome::Stay
        }
    }
}

fn picker_key(picker: &mut Picker, key: KeyEvent) -> Outcome {
    match key.code {
        KeyCode::Esc => return Outcome::Close,
        KeyCode::Up => picker.cursor = picker.cursor.saturating_sub(1),
        KeyCode::Down => picker.cursor += 1,
        KeyCode::Enter => {
            return match picker.shown().get(picker.cursor) {
                Some((name, _)) => Outcome::Accept(Deferred::Connect {
                    pane: picker.pane,
                    profile: name.clone(),
                }),
                None => Outcome::Stay,
            };
        }
        _ => {
            picker.filter.input(key);
            picker.cursor = 0;
        }
    }
    picker.cursor = picker.cursor.min(picker.shown().len().saturating_sub(1));
    Outcome::Stay
}

fn confirm_key(confirm: &mut Confirm, key: KeyEvent) -> Outcome {
    match key.code {
        KeyCode::Esc => Outcome::Close,
        KeyCode::Enter => {
            let text = confirm
                .field
                .as_ref()
                .map(|(_, f)| text_of(f))
                .unwrap_or_default();
            if confirm.field.is_some() && text.trim().is_empty() {
                confirm.error = Some("this cannot be empty".into());
                return Outcome::Stay;
            }
            Outcome::Accept(Deferred::Confirmed {
                action: confirm.action.clone(),
                text,
            })
        }
        KeyCode::Char('y') if confirm.field.is_none() => Outcome::Accept(Deferred::Confirmed {
            action: confirm.action.clone(),
            text: String::new(),
        }),
        KeyCode::Char('n') if confirm.field.is_none() => Outcome::Close,
        _ => {
            if let Some((_, field)) = &mut confirm.field {
                confirm.error = None;
                field.input(key);
            }
            Outcome::Stay
        }
    }
}

fn question_key(layer: &mut QuestionLayer, key: KeyEvent) -> Outcome {
    let id = layer.id;
    let answer = |answer: Answer| Outcome::Accept(Deferred::Answer { id, answer });
    match (&layer.question, key.code) {
        (Question::HostKey(_), KeyCode::Char('a')) => answer(Answer::HostKey {
            decision: HostKeyDecision::Remember,
        }),
        (Question::HostKey(_), KeyCode::Char('o')) => answer(Answer::HostKey {
            decision: HostKeyDecision::Once,
        }),
        (Question::HostKey(_), KeyCode::Esc | KeyCode::Char('r')) => answer(Answer::HostKey {
            decision: HostKeyDecision::Reject,
        }),
        (Question::Certificate(_), KeyCode::Char('t')) => {
            answer(Answer::Certificate { trust: true })
        }
        (Question::Certificate(_), KeyCode::Esc | KeyCode::Char('r')) => {
            answer(Answer::Certificate { trust: false })
        }
        (Question::Exists(_), KeyCode::Char('a')) => {
            layer.apply_to_batch = !layer.apply_to_batch;
            Outcome::Stay
        }
        (Question::Exists(_), code) => {
            let policy = match code {
                KeyCode::Char('o') => OverwritePolicy::Overwrite,
                KeyCode::Char('s') | KeyCode::Esc => OverwritePolicy::Skip,
                KeyCode::Char('r') => OverwritePolicy::Resume,
                KeyCode::Char('n') => OverwritePolicy::Rename,
                KeyCode::Char('u') => OverwritePolicy::NewerOnly,
                _ => return Outcome::Stay,
            };
            answer(Answer::Exists {
                choice: ConflictChoice {
                    policy,
                    apply_to_batch: layer.apply_to_batch,
                },
            })
        }
        _ => Outcome::Stay,
    }
}

impl From<Confirm> for Layer {
    fn from(confirm: Confirm) -> Layer {
        Layer::Confirm(Box::new(confirm))
    }
}

impl From<Unlock> for Layer {
    fn from(unlock: Unlock) -> Layer {
        Layer::Unlock(Box::new(unlock))
    }
}

impl From<Picker> for Layer {
    fn from(picker: Picker) -> Layer {
        Layer::Picker(Box::new(picker))
    }
}

impl From<VaultSetup> for Layer {
    fn from(setup: VaultSetup) -> Layer {
        Layer::CreateVault(Box::new(setup))
    }
}
