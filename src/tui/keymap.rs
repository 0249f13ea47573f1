//! Keys to actions, per view, in one table: the defaults, the `[keys]` overrides from
//! config.toml (a bad binding is a config error naming it), and the help overlay, which is
//! generated from the live table. Function keys also arrive as Esc or Alt followed by a digit
//! (F-keys do not reach programs through every terminal and tmux). No I/O here.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::{Deserialize, Serialize};

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    /// Everywhere a dialog is not open.
    Global,
    Explorer,
    Queue,
    Profiles,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "everywhere",
            Context::Explorer => "explorer",
            Context::Queue => "queue",
            Context::Profiles => "profiles",
        }
    }
}

/// Everything a key can do outside dialogs. The names are what `[keys]` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    // Global
    Quit,
    Help,
    Tab1,
    Tab2,
    Tab3,
    Tab4,
    Tab5,
    Tab6,
    Tab7,
    NextTab,
    // Moving (explorer, queue, profiles)
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    // Explorer
    Enter,
    Parent,
    Back,
    Home,
    SwitchPane,
    Filter,
    Mark,
    InvertMarks,
    SortName,
    SortSize,
    SortTime,
    ToggleHidden,
    Open,
    Copy,
    Move,
    Mkdir,
    Delete,
    Rename,
    View,
    Edit,
    Info,
    Refresh,
    NextSession,
    PrevSession,
    CloseSession,
    // Queue
    Pause,
    Resume,
    Cancel,
    Retry,
    MoveUp,
    MoveDown,
    ClearFinished,
    Limit,
    // Profiles
    Add,
    EditProfile,
    DeleteProfile,
    Test,
    Import,
    TrustCert,
    OpenProfile,
}

impl Action {
    /// The words the help overlay shows.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "this help",
            Action::Tab1 => "dashboard",
            Action::Tab2 => "explorer",
            Action::Tab3 => "queue",
            Action::Tab4 => "jobs",
            Action::Tab5 => "profiles",
            Action::Tab6 => "logs",
            Action::Tab7 => "settings",
            Action::NextTab => "next tab",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "first row",
            Action::Bottom => "last row",
            Action::Enter => "open directory / view file",
            Action::Parent => "parent directory",
            Action::Back => "back to the directory before",
            Action::Home => "home directory",
            Action::SwitchPane => "other pane",
            Action::Filter => "filter as you type",
            Action::Mark => "mark / unmark",
            Action::InvertMarks => "invert marks",
            Action::SortName => "sort by name",
            Action::SortSize => "sort by size",
            Action::SortTime => "sort by time",
            Action::ToggleHidden => "show / hide dot files",
            Action::Open => "open a profile in this pane",
            Action::Copy => "copy to the other pane",
            Action::Move => "move to the other pane",
            Action::Mkdir => "make a directory",
            Action::Delete => "delete",
            Action::Rename => "rename",
            Action::View => "view the start of a file",
            Action::Edit => "edit in $EDITOR",
            Action::Info => "file information",
            Action::Refresh => "reload the listing",
            Action::NextSession => "next session",
            Action::PrevSession => "previous session",
            Action::CloseSession => "close this session",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Cancel => "cancel",
            Action::Retry => "retry",
            Action::MoveUp => "move earlier",
            Action::MoveDown => "move later",
            Action::ClearFinished => "clear finished rows",
            Action::Limit => "bandwidth limit",
            Action::Add => "add a profile",
            Action::EditProfile => "edit the profile",
            Action::DeleteProfile => "delete the profile",
            Action::Test => "test the connection",
            Action::Import => "import ~/.ssh/config",
            Action::TrustCert => "trust an FTPS certificate",
            Action::OpenProfile => "open in the explorer",
        }
    }
}

/// The default bindings: context, action, keys (the first is shown in hints).
const DEFAULTS: &[(Context, Action, &[&str])] = &[
    (Context::Global, Action::Quit, &["q", "F10"]),
    (Context::Global, Action::Help, &["?", "F1"]),
    (Context::Global, Action::Tab1, &["1"]),
    (Context::Global, Action::Tab2, &["2"]),
    (Context::Global, Action::Tab3, &["3"]),
    (Context::Global, Action::Tab4, &["4"]),
    (Context::Global, Action::Tab5, &["5"]),
    (Context::Global, Action::Tab6, &["6"]),
    (Context::Global, Action::Tab7, &["7"]),
    (Context::Global, Action::NextTab, &["backtab"]),
    (Context::Global, Action::Up, &["up", "k"]),
    (Context::Global, Action::Down, &["down", "j"]),
    (Context::Global, Action::PageUp, &["pgup", "ctrl-u"]),
    (Context::Global, Action::PageDown, &["pgdn", "ctrl-d"]),
    (Context::Global, Action::Top, &["g", "home"]),
    (Context::Global, Action::Bottom, &["G", "end"]),
    (Context::Explorer, Action::Enter, &["enter", "l", "right"]),
    (
        Context::Explorer,
        Action::Parent,
        &["backspace", "h", "left"],
    ),
    (Context::Explorer, Action::Back, &["-"]),
    (Context::Explorer, Action::Home, &["~"]),
    (Context::Explorer, Action::SwitchPane, &["tab"]),
    (Context::Explorer, Action::Filter, &["/"]),
    (
        Context::Explorer,
        Action::Mark,
        &["space", "insert", "ctrl-t"],
    ),
    (Context::Explorer, Action::InvertMarks, &["*"]),
    (Context::Explorer, Action::SortName, &["n"]),
    (Context::Explorer, Action::SortSize, &["s"]),
    (Context::Explorer, Action::SortTime, &["t"]),
    (Context::Explorer, Action::ToggleHidden, &["."]),
    (Context::Explorer, Action::Open, &["o"]),
    (Context::Explorer, Action::Copy, &["F5", "c"]),
    (Context::Explorer, Action::Move, &["F6", "m"]),
    (Context::Explorer, Action::Mkdir, &["F7", "M"]),
    (Context::Explorer, Action::Delete, &["F8", "d", "delete"]),
    (Context::Explorer, Action::Rename, &["F2", "r"]),
    (Context::Explorer, Action::View, &["F3", "v"]),
    (Context::Explorer, Action::Edit, &["F4", "e"]),
    (Context::Explorer, Action::Info, &["i"]),
    (Context::Explorer, Action::Refresh, &["R", "ctrl-r"]),
    (Context::Explorer, Action::NextSession, &["]"]),
    (Context::Explorer, Action::PrevSession, &["["]),
    (Context::Explorer, Action::CloseSession, &["W"]),
    (Context::Queue, Action::Pause, &["p"]),
    (Context::Queue, Action::Resume, &["r"]),
    (Context::Queue, Action::Cancel, &["c", "delete"]),
    (Context::Queue, Action::Retry, &["R"]),
    (Context::Queue, Action::MoveUp, &["K"]),
    (Context::Queue, Action::MoveDown, &["J"]),
    (Context::Queue, Action::ClearFinished, &["x"]),
    (Context::Queue, Action::Limit, &["L"]),
    (Context::Profiles, Action::Add, &["a"]),
    (Context::Profiles, Action::EditProfile, &["e"]),
    (Context::Profiles, Action::DeleteProfile, &["d", "delete"]),
    (Context::Profiles, Action::Test, &["t"]),
    (Context::Profiles, Action::Import, &["i"]),
    (Context::Profiles, Action::TrustCert, &["c"]),
    (Context::Profiles, Action::OpenProfile, &["enter", "o"]),
];

/// One key as ferry matches it: a code and the modifiers that matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyName,
    pub ctrl: bool,
    pub alt: bool,
}

/// A key's code in a form that orders and hashes (crossterm's `KeyCode` does not order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyName {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Insert,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
}

impl Key {
    /// The key of a terminal event; None for keys ferry never binds.
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        let code = match event.code {
            KeyCode::Char(c) => KeyName::Char(c),
            KeyCode::F(n) => KeyName::F(n),
            KeyCode::Enter => KeyName::Enter,
            KeyCode::Esc => KeyName::Esc,
            KeyCode::Tab => KeyName::Tab,
            KeyCode::BackTab => KeyName::BackTab,
            KeyCode::Backspace => KeyName::Backspace,
            KeyCode::Delete => KeyName::Delete,
            KeyCode::Insert => KeyName::Insert,
            KeyCode::Up => KeyName::Up,
            KeyCode::Down => KeyName::Down,
            KeyCode::Left => KeyName::Left,
            KeyCode::Right => KeyName::Right,
            KeyCode::PageUp => KeyName::PageUp,
            KeyCode::PageDown => KeyName::PageDown,
            KeyCode::Home => KeyName::Home,
            KeyCode::End => KeyName::End,
            _ => return None,
        };
        Some(Key {
            code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        })
    }

    /// Parses `F5`, `c`, `C`, `ctrl-r`, `alt-x`, `enter`, `space`, `pgdn`…
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            if lower.starts_with("ctrl-") && rest.len() > 5 {
                ctrl = true;
                rest = &rest[5..];
            } else if lower.starts_with("alt-") && rest.len() > 4 {
                alt = true;
                rest = &rest[4..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyName::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyName::Enter,
                "esc" | "escape" => KeyName::Esc,
                "tab" => KeyName::Tab,
                "backtab" | "shift-tab" => KeyName::BackTab,
                "backspace" => KeyName::Backspace,
                "delete" | "del" => KeyName::Delete,
                "insert" | "ins" => KeyName::Insert,
                "space" => KeyName::Char(' '),
                "up" => KeyName::Up,
                "down" => KeyName::Down,
                "left" => KeyName::Left,
                "right" => KeyName::Right,
                "pgup" | "pageup" => KeyName::PageUp,
                "pgdn" | "pagedown" => KeyName::PageDown,
                "home" => KeyName::Home,
                "end" => KeyName::End,
                f if f.starts_with('f') => match f[1..].parse::<u8>() {
                    Ok(n @ 1..=12) => KeyName::F(n),
                    _ => return Err(format!("unknown key `{text}`")),
                },
                _ => return Err(format!("unknown key `{text}`")),
            },
        };
        if let KeyName::Char(c) = code
            && ctrl
            && !c.is_ascii_alphabetic()
        {
            return Err(format!("`{text}`: ctrl works with letters only"));
        }
        let code = match code {
            KeyName::Char(c) if ctrl => KeyName::Char(c.to_ascii_lowercase()),
            other => other,
        };
        Ok(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyName::Char(' ') => f.write_str("Space"),
            KeyName::Char(c) => write!(f, "{c}"),
            KeyName::F(n) => write!(f, "F{n}"),
            KeyName::Enter => f.write_str("Enter"),
            KeyName::Esc => f.write_str("Esc"),
            KeyName::Tab => f.write_str("Tab"),
            KeyName::BackTab => f.write_str("Shift-Tab"),
            KeyName::Backspace => f.write_str("Backspace"),
            KeyName::Delete => f.write_str("Del"),
            KeyName::Insert => f.write_str("Ins"),
            KeyName::Up => f.write_str("↑"),
            KeyName::Down => f.write_str("↓"),
            KeyName::Left => f.write_str("←"),
            KeyName::Right => f.write_str("→"),
            KeyName::PageUp => f.write_str("PgUp"),
            KeyName::PageDown => f.write_str("PgDn"),
            KeyName::Home => f.write_str("Home"),
            KeyName::End => f.write_str("End"),
        }
    }
}

/// `[keys]` in config.toml: an action's name and its keys (they replace the defaults).
pub type KeyOverrides = BTreeMap<String, Vec<String>>;

/// The live table.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<(Context, Action, Vec<Key>)>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        Keymap::new(&KeyOverrides::new()).unwrap_or_else(|_| Keymap {
            bindings: Vec::new(),
        })
    }
}

impl Keymap {
    /// The defaults with `overrides` applied; an unknown action or key is an error naming it.
    pub fn new(overrides: &KeyOverrides) -> Result<Keymap, (String, String)> {
        let mut bindings: Vec<(Context, Action, Vec<Key>)> = DEFAULTS
            .iter()
            .map(|(context, action, keys)| {
                let keys = keys.iter().filter_map(|k| Key::parse(k).ok()).collect();
                (*context, *action, keys)
            })
            .collect();
        for (name, keys) in overrides {
            let field = format!("keys.{name}");
            let action: Action = serde_json::from_value(serde_json::Value::String(name.clone()))
                .map_err(|_| {
                    (
                        field.clone(),
                        format!("unknown action `{name}` (see the help overlay, `?`)"),
                    )
                })?;
            let parsed = keys
                .iter()
                .map(|k| Key::parse(k))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| (field.clone(), e))?;
            if parsed.is_empty() {
                return Err((field, "give at least one key".into()));
            }
            for binding in bindings.iter_mut().filter(|b| b.1 == action) {
                binding.2 = parsed.clone();
            }
        }
        let keymap = Keymap { bindings };
        keymap.check_clashes()?;
        Ok(keymap)
    }

    /// Two actions that share a key where both apply cannot both work.
    fn check_clashes(&self) -> Result<(), (String, String)> {
        for (i, (ctx_a, act_a, keys_a)) in self.bindings.iter().enumerate() {
            for (ctx_b, act_b, keys_b) in &self.bindings[i + 1..] {
                let overlap =
                    ctx_a == ctx_b || *ctx_a == Context::Global || *ctx_b == Context::Global;
                if !overlap {
                    continue;
                }
                if let Some(key) = keys_a.iter().find(|k| keys_b.contains(k)) {
                    let name = serde_json::to_value(act_b)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default();
                    return Err((
                        format!("keys.{name}"),
                        format!("`{key}` is already bound to {}", act_a.describe()),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The action of `key` in `context` (its own bindings first, then the global ones).
    pub fn action(&self, context: Context, key: Key) -> Option<Action> {
        let find = |ctx: Context| {
            self.bindings
                .iter()
                .find(|(c, _, keys)| *c == ctx && keys.contains(&key))
                .map(|(_, action, _)| *action)
        };
        find(context).or_else(|| find(Context::Global))
    }

    /// The first key of an action, for hints ("F5 copy").
    pub fn first_key(&self, action: Action) -> Option<Key> {
        self.bindings
            .iter()
            .find(|(_, a, _)| *a == action)
            .and_then(|(_, _, keys)| keys.first().copied())
    }

    /// The help overlay's rows: per context, each action with all its keys.
    pub fn help(&self) -> Vec<(Context, Vec<(String, &'static str)>)> {
        let mut out: Vec<(Context, Vec<(String, &'static str)>)> = Vec::new();
        for (context, action, keys) in &self.bindings {
            let keys = keys
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ");
            match out.iter_mut().find(|(c, _)| c == context) {
                Some((_, rows)) => rows.push((keys, action.describe())),
                None => out.push((*context, vec![(keys, action.describe())])),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> Key {
        Key::parse(text).expect(text)
    }

    #[test]
    fn parses_the_key_names_people_write() {
        assert_eq!(key("F5").code, KeyName::F(5));
        assert_eq!(key("C").code, KeyName::Char('C'));
        let ctrl_r = key("ctrl-R");
        assert!(ctrl_r.ctrl && ctrl_r.code == KeyName::Char('r'));
        assert_eq!(key("space").code, KeyName::Char(' '));
        assert_eq!(key("pgdn").code, KeyName::PageDown);
        assert!(Key::parse("F13").is_err());
        assert!(Key::parse("hyper-x").is_err());
        assert!(Key::parse("ctrl-5").is_err());
    }

    #[test]
    fn overrides_replace_defaults_and_bad_ones_name_the_key() {
        let mut overrides = KeyOverrides::new();
        overrides.insert("copy".into(), vec!["F5".into(), "y".into()]);
        let keymap = Keymap::new(&overrides).expect("keymap");
        assert_eq!(
            keymap.action(Context::Explorer, key("y")),
            Some(Action::Copy)
        );
        assert_eq!(keymap.action(Context::Explorer, key("c")), None);
        assert_eq!(
            keymap.action(Context::Explorer, key("q")),
            Some(Action::Quit)
        );

        let mut bad = KeyOverrides::new();
        bad.insert("copy".into(), vec!["F99".into()]);
        let (field, message) = Keymap::new(&bad).expect_err("bad key");
        assert_eq!(field, "keys.copy");
        assert!(message.contains("F99"), "{message}");
        let mut unknown = KeyOverrides::new();
        unknown.insert("teleport".into(), vec!["t".into()]);
        assert_eq!(
            Keymap::new(&unknown).expect_err("unknown").0,
            "keys.teleport"
        );
        let mut clash = KeyOverrides::new();
        clash.insert("copy".into(), vec!["q".into()]);
        assert!(Keymap::new(&clash).expect_err("clash").1.contains("quit"));
    }

    #[test]
    fn the_defaults_do_not_clash_and_help_lists_every_action() {
        let keymap = Keymap::new(&KeyOverrides::new()).expect("defaults");
        let rows: usize = keymap.help().iter().map(|(_, rows)| rows.len()).sum();
        assert_eq!(rows, DEFAULTS.len());
    }
}
