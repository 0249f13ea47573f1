//! The running tally of a login (what the server offers, what was tried, what worked) and
//! the failure message built from it. No I/O here.

use russh::client::AuthResult;
use russh::{MethodKind, MethodSet};

use crate::remote::{Endpoint, ErrorKind, RemoteError};

/// The running tally of a login: what the server offers, what was tried, what worked.
pub(super) struct Attempt {
    pub offered: MethodSet,
    pub tried: Vec<String>,
    pub notes: Vec<String>,
    /// Methods accepted so far (several when the server asks for more than one).
    pub accepted: Vec<String>,
    /// Whether the profile and environment gave anything to try.
    pub planned: bool,
    /// The last try ended with the connection gone rather than a refusal.
    pub cut_off: bool,
}

impl Attempt {
    /// Folds the server's answer to one try into the tally; true once logged in.
    pub fn record(&mut self, label: String, result: AuthResult) -> bool {
        match result {
            AuthResult::Success => {
                self.accepted.push(label);
                true
            }
            AuthResult::Failure {
                remaining_methods,
                partial_success,
            } => {
                if partial_success {
                    self.accepted.push(label);
                } else {
                    self.tried.push(label);
                }
                // russh reports a connection that died mid-request as a failure with no
                // methods left; a real refusal always names what may still be tried.
                self.cut_off = remaining_methods.is_empty();
                if !remaining_methods.is_empty() {
                    self.offered = remaining_methods;
                }
                false
            }
        }
    }

    pub fn offers(&self, kind: MethodKind) -> bool {
        self.offered.contains(&kind)
    }

    /// `as deploy: server offers publickey,password; tried publickey (/root/.ssh/id_ed25519), password`
    pub fn failure(&self, user: &str, endpoint: &Endpoint) -> RemoteError {
        let offered: Vec<&str> = self
            .offered
            .iter()
            .filter(|kind| **kind != MethodKind::None)
            .map(<&str>::from)
            .collect();
        let offered = match offered.is_empty() {
            true => "no method".to_string(),
            false => offered.join(","),
        };
        let tried = match (self.tried.is_empty(), self.planned) {
            (false, _) => self.tried.join(", "),
            (true, true) if !self.notes.is_empty() => "nothing".to_string(),
            (true, true) => "nothing it accepts".to_string(),
            (true, false) => {
                "nothing (the profile has no password, key file or agent, and no default \
                 key was found)"
                    .to_string()
            }
        };
        let mut detail = format!("as {user}: server offers {offered}; tried {tried}");
        for note in &self.notes {
            detail.push_str("; ");
            detail.push_str(note);
        }
        RemoteError::new(ErrorKind::Auth, endpoint, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        Endpoint {
            profile: "backup".into(),
            address: "10.0.0.5:22".into(),
        }
    }

    #[test]
    fn failure_names_offered_and_tried_methods() {
        let attempt = Attempt {
            offered: MethodSet::from(&[MethodKind::PublicKey, MethodKind::Password][..]),
            tried: vec![
                "publickey (/root/.ssh/id_ed25519)".into(),
                "password".into(),
            ],
            notes: Vec::new(),
            accepted: Vec::new(),
            planned: true,
            cut_off: false,
        };
        let err = attempt.failure("deploy", &endpoint());
        assert_eq!(err.kind, ErrorKind::Auth);
        assert_eq!(
            err.to_string(),
            "backup (10.0.0.5:22): authentication failed (as deploy: server offers \
             publickey,password; tried publickey (/root/.ssh/id_ed25519), password)"
        );
    }
}
