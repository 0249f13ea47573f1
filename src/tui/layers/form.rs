//! The profile form: ratatui-textarea fields, secrets masked, choices cycled with Space or
//! ←/→, each field checked as it is typed (the error shows beside it), Enter saves when every
//! field is valid. Fields that do not apply to the protocol (keys, host-key policy and jump
//! hosts for FTP) are skipped. No I/O here.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui_textarea::TextArea;

use super::input::{line, text_of};
use super::jumps::{self, Known};
use super::{Deferred, Outcome};
use crate::engine::api::{ProfileSummary, Secret, SecretChange};
use crate::profile::{HostKeyPolicy, Profile, Protocol, validate_name};
use crate::remote::charset::Charset;

/// A form field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Protocol,
    Host,
    Port,
    User,
    RemoteDir,
    Password,
    KeyFile,
    KeyPassphrase,
    Agent,
    HostKeyPolicy,
    Jump,
    MaxConnections,
    Timeout,
    Charset,
    Exec,
}

pub const FIELDS: [Field; 16] = [
    Field::Name,
    Field::Protocol,
    Field::Host,
    Field::Port,
    Field::User,
    Field::RemoteDir,
    Field::Password,
    Field::KeyFile,
    Field::KeyPassphrase,
    Field::Agent,
    Field::HostKeyPolicy,
    Field::Jump,
    Field::MaxConnections,
    Field::Timeout,
    Field::Charset,
    Field::Exec,
];

impl Field {
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Protocol => "protocol",
            Field::Host => "host",
            Field::Port => "port",
            Field::User => "user",
            Field::RemoteDir => "remote dir",
            Field::Password => "password",
            Field::KeyFile => "key file",
            Field::KeyPassphrase => "key passphrase",
            Field::Agent => "ssh-agent",
            Field::HostKeyPolicy => "unknown host key",
            Field::Jump => "jump hosts",
            Field::MaxConnections => "connections",
            Field::Timeout => "timeout (s)",
            Field::Charset => "name charset",
            Field::Exec => "exec requests",
        }
    }

    fn is_text(self) -> bool {
        !matches!(
            self,
            Field::Protocol | Field::Agent | Field::HostKeyPolicy | Field::Exec
        )
    }

    fn is_secret(self) -> bool {
        matches!(self, Field::Password | Field::KeyPassphrase)
    }

    fn sftp_only(self) -> bool {
        matches!(
            self,
            Field::KeyFile
                | Field::KeyPassphrase
                | Field::Agent
                | Field::HostKeyPolicy
                | Field::Jump
                | Field::Exec
        )
    }
}

const PROTOCOLS: [Protocol; 4] = [
    Protocol::Sftp,
    Protocol::Ftp,
    Protocol::Ftps,
    Protocol::FtpsImplicit,
];
const POLICIES: [HostKeyPolicy; 3] = [
    HostKeyPolicy::Ask,
    HostKeyPolicy::AcceptNew,
    HostKeyPolicy::Strict,
];

/// What the form saves.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    pub original: Option<String>,
    pub profile: Profile,
    pub password: SecretChange,
    pub key_passphrase: SecretChange,
}

#[derive(Debug)]
pub struct ProfileForm {
    /// The profile being edited (None: a new one).
    pub original: Option<ProfileSummary>,
    pub texts: Vec<TextArea<'static>>,
    pub protocol: usize,
    pub policy: usize,
    pub agent: bool,
    /// SFTP: send no exec requests.
    pub no_exec: bool,
    pub focus: usize,
    /// The save failed: the engine's words.
    pub error: Option<String>,
    pub busy: bool,
    /// What the jump hosts are checked against.
    pub known: Known,
}

impl ProfileForm {
    /// A form for `original` (None: a new profile); `profiles` are all the saved ones.
    pub fn new(original: Option<ProfileSummary>, profiles: &[ProfileSummary]) -> ProfileForm {
        let base = original
            .as_ref()
            .map(|s| s.profile.clone())
            .unwrap_or_else(|| {
                Profile::new("", Protocol::Sftp, "", 22, &crate::profile::local_user())
            });
        let texts = FIELDS
            .iter()
            .map(|field| {
                let text = match field {
                    Field::Name => base.name.clone(),
                    Field::Host => base.host.clone(),
                    Field::Port => base.port.to_string(),
                    Field::User => base.user.clone(),
                    Field::RemoteDir => base.remote_dir.clone().unwrap_or_default(),
                    Field::KeyFile => base
                        .key_file
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    Field::MaxConnections => base.max_connections.to_string(),
                    Field::Timeout => base.timeout_secs.map(|t| t.to_string()).unwrap_or_default(),
                    Field::Charset => base.charset.clone().unwrap_or_default(),
                    Field::Jump => base.jump.join(", "),
                    _ => String::new(),
                };
                let mut field_text = line(&text, field.is_secret());
                if field.is_secret() && original.is_some() {
                    field_text.set_placeholder_text("(unchanged)");
                }
                if *field == Field::Jump {
                    field_text.set_placeholder_text("profile or user@host[:port], comma-separated");
                }
                field_text
            })
            .collect();
        ProfileForm {
            protocol: PROTOCOLS
                .iter()
                .position(|p| *p == base.protocol)
                .unwrap_or(0),
            policy: POLICIES
                .iter()
                .position(|p| *p == base.host_key_policy)
                .unwrap_or(0),
            agent: base.agent,
            no_exec: base.no_exec,
            known: Known {
                profiles: profiles
                    .iter()
                    .map(|s| &s.profile)
                    .filter(|p| original.as_ref().is_none_or(|o| o.profile.name != p.name))
                    .map(|p| (p.name.clone(), p.protocol))
                    .collect(),
                kept: base.jump.clone(),
            },
            original,
            texts,
            focus: 0,
            error: None,
            busy: false,
        }
    }

    pub fn protocol(&self) -> Protocol {
        PROTOCOLS[self.protocol]
    }

    pub fn policy(&self) -> HostKeyPolicy {
        POLICIES[self.policy]
    }

    /// Whether a field is shown for the chosen protocol.
    pub fn applies(&self, field: Field) -> bool {
        !field.sftp_only() || self.protocol() == Protocol::Sftp
    }

    pub fn text(&self, field: Field) -> String {
        FIELDS
            .iter()
            .position(|f| *f == field)
            .map(|i| text_of(&self.texts[i]))
            .unwrap_or_default()
    }

    pub fn focused_field(&mut self) -> Option<&mut TextArea<'static>> {
        FIELDS[self.focus]
            .is_text()
            .then(|| &mut self.texts[self.focus])
    }

    /// What is wrong with a field as typed, if anything.
    pub fn problem(&self, field: Field) -> Option<String> {
        let text = self.text(field);
        let number = |min: u32, max: u32, what: &str| match text.trim().parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => None,
            _ => Some(format!("{what} between {min} and {max}")),
        };
        match field {
            Field::Name => validate_name(text.trim())
                .err()
                .map(|_| "letters, digits, . _ - (1-64)".into()),
            Field::Host if text.trim().is_empty() => Some("required".into()),
            Field::Port => number(1, 65535, "a port"),
            Field::MaxConnections => number(1, 64, "a number"),
            Field::Timeout if !text.trim().is_empty() => number(1, 3600, "seconds"),
            Field::Charset if !text.trim().is_empty() => Charset::from_label(text.trim())
                .is_none()
                .then(|| "unknown (utf-8, latin1, cp1252, …)".into()),
            Field::User if text.trim().is_empty() => Some("required".into()),
            Field::Jump => {
                let typed = self.text(Field::Name);
                let was = self.original.as_ref().map(|o| o.profile.name.as_str());
                let own: Vec<&str> = [Some(typed.trim()), was].into_iter().flatten().collect();
                jumps::problem(&text, &own, &self.known)
            }
            Field::KeyFile if self.applies(field) && !text.trim().is_empty() => {
                let path = crate::paths::expand_tilde(text.trim());
                (!path.is_file()).then(|| "no such file".into())
            }
            _ => None,
        }
    }

    fn visible(&self) -> Vec<usize> {
        (0..FIELDS.len())
            .filter(|&i| self.applies(FIELDS[i]))
            .collect()
    }

    fn step(&mut self, forward: bool) {
        let visible = self.visible();
        let at = visible.iter().position(|&i| i == self.focus).unwrap_or(0);
        let next = match forward {
            true => (at + 1) % visible.len(),
            false => (at + visible.len() - 1) % visible.len(),
        };
        self.focus = visible[next];
    }

    pub fn key(&mut self, key: KeyEvent) -> Outcome {
        if self.busy {
            return Outcome::Stay;
        }
        let field = FIELDS[self.focus];
        match key.code {
            KeyCode::Esc => return Outcome::Close,
            KeyCode::Tab | KeyCode::Down => self.step(true),
            KeyCode::BackTab | KeyCode::Up => self.step(false),
            KeyCode::Enter => return self.save(),
            KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right if !field.is_text() => {
                let back = key.code == KeyCode::Left;
                match field {
                    Field::Protocol => {
                        self.protocol = cycle(self.protocol, PROTOCOLS.len(), back);
                        let port = self.protocol().default_port().to_string();
                        if let Some(i) = FIELDS.iter().position(|f| *f == Field::Port) {
                            self.texts[i] = line(&port, false);
                        }
                    }
                    Field::HostKeyPolicy => self.policy = cycle(self.policy, POLICIES.len(), back),
                    Field::Agent => self.agent = !self.agent,
                    Field::Exec => self.no_exec = !self.no_exec,
                    _ => {}
                }
            }
            _ if field.is_text() => {
                self.error = None;
                self.texts[self.focus].input(key);
            }
            _ => {}
        }
        Outcome::Stay
    }

    fn save(&mut self) -> Outcome {
        if let Some(bad) = self
            .visible()
            .into_iter()
            .find(|&i| self.problem(FIELDS[i]).is_some())
        {
            self.focus = bad;
            self.error = Some(format!("check the {} field", FIELDS[bad].label()));
            return Outcome::Stay;
        }
        let mut profile = self
            .original
            .as_ref()
            .map(|s| s.profile.clone())
            .unwrap_or_else(|| Profile::new("", Protocol::Sftp, "", 22, ""));
        profile.name = self.text(Field::Name).trim().to_string();
        profile.protocol = self.protocol();
        profile.host = self.text(Field::Host).trim().to_string();
        profile.port = self.text(Field::Port).trim().parse().unwrap_or(22);
        profile.user = self.text(Field::User).trim().to_string();
        let dir = self.text(Field::RemoteDir).trim().to_string();
        profile.remote_dir = (!dir.is_empty()).then_some(dir);
        profile.max_connections = self.text(Field::MaxConnections).trim().parse().unwrap_or(4);
        profile.timeout_secs = self.text(Field::Timeout).trim().parse().ok();
        let sftp = profile.protocol == Protocol::Sftp;
        let key = self.text(Field::KeyFile).trim().to_string();
        profile.key_file = (sftp && !key.is_empty()).then(|| crate::paths::expand_tilde(&key));
        profile.agent = sftp && self.agent;
        profile.host_key_policy = self.policy();
        profile.no_exec = sftp && self.no_exec;
        profile.jump = match sftp {
            true => jumps::parse(&self.text(Field::Jump)),
            false => Vec::new(),
        };
        profile.charset = match Charset::from_label(self.text(Field::Charset).trim()) {
            None | Some(Charset::Utf8) => None,
            Some(charset) => Some(charset.name().to_string()),
        };
        let change = |text: String| match text.is_empty() {
            true => SecretChange::Keep,
            false => SecretChange::Set(Secret::new(text)),
        };
        let key_passphrase = match sftp {
            true => change(self.text(Field::KeyPassphrase)),
            false => SecretChange::Clear,
        };
        self.busy = true;
        Outcome::Keep(Deferred::SaveProfile(Box::new(Saved {
            original: self.original.as_ref().map(|s| s.profile.name.clone()),
            profile,
            password: change(self.text(Field::Password)),
            key_passphrase,
        })))
    }
}

fn cycle(at: usize, len: usize, back: bool) -> usize {
    match back {
        true => (at + len - 1) % len,
        false => (at + 1) % len,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn press(form: &mut ProfileForm, code: KeyCode) -> Outcome {
        form.key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn type_text(form: &mut ProfileForm, text: &str) {
        for c in text.chars() {
            press(form, KeyCode::Char(c));
        }
    }

    #[test]
    fn a_new_profile_is_checked_field_by_field_and_saved_with_its_secret() {
        let mut form = ProfileForm::new(None, &[]);
        assert!(form.problem(Field::Name).is_some());
        assert!(matches!(press(&mut form, KeyCode::Enter), Outcome::Stay));
        assert_eq!(FIELDS[form.focus], Field::Name);
        type_text(&mut form, "web");
        press(&mut form, KeyCode::Tab);
        press(&mut form, KeyCode::Tab);
        type_text(&mut form, "10.0.0.5");
        press(&mut form, KeyCode::Tab);
        press(&mut form, KeyCode::Backspace);
        press(&mut form, KeyCode::Backspace);
        type_text(&mut form, "99999");
        assert!(form.problem(Field::Port).is_some());
        for _ in 0..5 {
            press(&mut form, KeyCode::Backspace);
        }
        type_text(&mut form, "2222");
        press(&mut form, KeyCode::Tab);
        press(&mut form, KeyCode::Tab);
        press(&mut form, KeyCode::Tab);
        assert_eq!(FIELDS[form.focus], Field::Password);
        type_text(&mut form, "hunter2");
        let Outcome::Keep(Deferred::SaveProfile(saved)) = press(&mut form, KeyCode::Enter) else {
            panic!("saved")
        };
        assert_eq!(saved.profile.name, "web");
        assert_eq!(saved.profile.port, 2222);
        assert_eq!(saved.password, SecretChange::Set(Secret::new("hunter2")));
        assert!(
            !format!("{saved:?}").contains("hunter2"),
            "secrets never in Debug"
        );
    }

    #[test]
    fn ftp_skips_the_ssh_fields_and_sets_its_port() {
        let mut form = ProfileForm::new(None, &[]);
        form.focus = 1;
        press(&mut form, KeyCode::Char(' '));
        assert_eq!(form.protocol(), Protocol::Ftp);
        assert_eq!(form.text(Field::Port), "21");
        assert!(!form.applies(Field::KeyFile));
        form.focus = 6;
        press(&mut form, KeyCode::Tab);
        assert_eq!(FIELDS[form.focus], Field::MaxConnections);
    }

    #[test]
    fn the_name_charset_is_checked_and_exec_requests_can_be_turned_off() {
        let mut form = ProfileForm::new(None, &[]);
        type_text(&mut form, "legacy");
        form.focus = 2;
        type_text(&mut form, "ftp.example.net");
        form.focus = FIELDS
            .iter()
            .position(|f| *f == Field::Charset)
            .expect("field");
        type_text(&mut form, "klingon");
        assert!(form.problem(Field::Charset).is_some());
        for _ in 0.."klingon".len() {
            press(&mut form, KeyCode::Backspace);
        }
        type_text(&mut form, "Latin-1");
        assert_eq!(form.problem(Field::Charset), None);
        press(&mut form, KeyCode::Tab);
        assert_eq!(FIELDS[form.focus], Field::Exec);
        press(&mut form, KeyCode::Char(' '));
        let Outcome::Keep(Deferred::SaveProfile(saved)) = press(&mut form, KeyCode::Enter) else {
            panic!("saved")
        };
        assert_eq!(saved.profile.charset.as_deref(), Some("latin1"));
        assert!(saved.profile.no_exec);
        let mut again = ProfileForm::new(
            Some(ProfileSummary {
                profile: saved.profile,
                has_password: false,
                has_key_passphrase: false,
            }),
            &[],
        );
        assert_eq!(again.text(Field::Charset), "latin1");
        again.focus = FIELDS
            .iter()
            .position(|f| *f == Field::Exec)
            .expect("field");
        press(&mut again, KeyCode::Char(' '));
        let Outcome::Keep(Deferred::SaveProfile(saved)) = press(&mut again, KeyCode::Enter) else {
            panic!("saved")
        };
        assert!(!saved.profile.no_exec, "turned back on");
    }

    #[test]
    fn jump_hosts_are_an_sftp_chain_checked_against_the_other_profiles() {
        let summary = |name: &str, protocol: Protocol| ProfileSummary {
            profile: Profile::new(name, protocol, "h", protocol.default_port(), "u"),
            has_password: false,
            has_key_passphrase: false,
        };
        let profiles = [
            summary("bastion", Protocol::Sftp),
            summary("files", Protocol::Ftp),
        ];
        let mut form = ProfileForm::new(None, &profiles);
        type_text(&mut form, "db");
        form.focus = 2;
        type_text(&mut form, "db.lan");
        form.focus = FIELDS
            .iter()
            .position(|f| *f == Field::Jump)
            .expect("field");
        type_text(&mut form, "files");
        assert_eq!(
            form.problem(Field::Jump).as_deref(),
            Some("hop 1: not an SFTP profile")
        );
        assert!(matches!(press(&mut form, KeyCode::Enter), Outcome::Stay));
        assert_eq!(form.error.as_deref(), Some("check the jump hosts field"));
        for _ in 0.."files".len() {
            press(&mut form, KeyCode::Backspace);
        }
        type_text(&mut form, "bastion, ops@gw:2222");
        assert_eq!(form.problem(Field::Jump), None);
        let Outcome::Keep(Deferred::SaveProfile(saved)) = press(&mut form, KeyCode::Enter) else {
            panic!("saved")
        };
        assert_eq!(saved.profile.jump, ["bastion", "ops@gw:2222"]);

        let mut ftp = ProfileForm::new(
            Some(ProfileSummary {
                profile: saved.profile,
                has_password: false,
                has_key_passphrase: false,
            }),
            &profiles,
        );
        assert_eq!(ftp.text(Field::Jump), "bastion, ops@gw:2222");
        ftp.focus = 1;
        press(&mut ftp, KeyCode::Char(' '));
        assert!(!ftp.applies(Field::Jump));
        let Outcome::Keep(Deferred::SaveProfile(saved)) = press(&mut ftp, KeyCode::Enter) else {
            panic!("saved")
        };
        assert!(saved.profile.jump.is_empty(), "FTP goes direct");
    }
}
