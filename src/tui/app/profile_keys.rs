//! The Profiles tab's keys: add and edit in the form, delete (asked first), test the
//! connection, open in the explorer, import ~/.ssh/config, trust an FTPS certificate. No I/O.

use super::App;
use super::outbox::Pending;
use crate::engine::api::Request;
use crate::profile::Protocol;
use crate::tui::keymap::Action;
use crate::tui::layers::form::ProfileForm;
use crate::tui::layers::input::line;
use crate::tui::layers::{Confirm, Confirmed, Layer};

impl App {
    pub(super) fn profiles_action(&mut self, action: Action) {
        let count = self.profiles.len();
        let cursor = &mut self.profiles_tab.cursor;
        match action {
            Action::Up => *cursor = cursor.saturating_sub(1),
            Action::Down => *cursor = (*cursor + 1).min(count.saturating_sub(1)),
            Action::Top => *cursor = 0,
            Action::Bottom => *cursor = count.saturating_sub(1),
            Action::Add => self.layers.push(Layer::Form(Box::new(ProfileForm::new(
                None,
                &self.profiles,
            )))),
            Action::Import => self.layers.push(Layer::from(Confirm {
                title: "Import from ssh config".into(),
                lines: vec![
                    "Each concrete Host becomes an SFTP profile (its IdentityFile, or the agent)."
                        .into(),
                    "Existing names are left alone.".into(),
                ],
                field: Some(("file".into(), line("~/.ssh/config", false))),
                action: Confirmed::Import,
                error: None,
            })),
            _ => self.profile_action(action),
        }
    }

    /// An action on the profile under the cursor.
    fn profile_action(&mut self, action: Action) {
        let Some(summary) = self.profiles.get(self.profiles_tab.cursor).cloned() else {
            return;
        };
        let name = summary.profile.name.clone();
        match action {
            Action::EditProfile => self.layers.push(Layer::Form(Box::new(ProfileForm::new(
                Some(summary),
                &self.profiles,
            )))),
            Action::DeleteProfile => self.layers.push(Layer::from(Confirm {
                title: "Delete profile".into(),
                lines: vec![
                    format!("Delete the profile {name} ({})?", summary.profile.url()),
                    "Its stored secrets go with it; files on the server stay.".into(),
                    "[y] delete   [Esc] keep".into(),
                ],
                field: None,
                action: Confirmed::DeleteProfile(name),
                error: None,
            })),
            Action::Test if self.profiles_tab.testing.insert(name.clone()) => {
                let request = Request::Test {
                    profile: name.clone(),
                };
                self.out.send(Pending::Test { profile: name }, request);
            }
            Action::OpenProfile => {
                let at = self.explorer.focused();
                self.connect(at, &name, true);
            }
            Action::TrustCert => {
                if !matches!(
                    summary.profile.protocol,
                    Protocol::Ftps | Protocol::FtpsImplicit
                ) {
                    self.warn(format!("{name} is not an FTPS profile: nothing to trust"));
                    return;
                }
                let request = Request::Certificate {
                    profile: name.clone(),
                    pin: None,
                };
                let pending = Pending::Certificate {
                    profile: name,
                    pinning: false,
                };
                self.out.send(pending, request);
            }
            _ => {}
        }
    }
}
