//! Logging in: which methods to try for a profile, in OpenSSH's order (agent, key file,
//! password, keyboard-interactive), only those the server offers, and a failure message that
//! says what the server offers and what was tried. Secrets are handed to russh and nowhere
//! else: never formatted, never logged.

use std::path::PathBuf;

use russh::client::{AuthResult, Handle};
use russh::{MethodKind, MethodSet};
use secrecy::{ExposeSecret, SecretString};

use super::agent;
use super::attempt::Attempt;
use super::handshake::ClientHandler;
use super::keys::try_key_file;
use super::prompts::keyboard_interactive;
use crate::profile::Profile;
use crate::remote::{Credentials, Endpoint, ErrorKind, RemoteError, Result};

/// Keys OpenSSH tries when nothing is configured, in its order.
const DEFAULT_KEYS: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

/// What authentication may use from the environment: the agent socket and the home
/// directory holding `~/.ssh`. Read from the process by [`AuthEnv::from_process`];
/// tests pass their own so they never touch process-wide variables.
#[derive(Debug, Clone, Default)]
pub struct AuthEnv {
    /// `SSH_AUTH_SOCK`.
    pub agent_socket: Option<PathBuf>,
    /// `HOME`, for the default keys in `~/.ssh`.
    pub home: Option<PathBuf>,
}

impl AuthEnv {
    pub fn from_process() -> AuthEnv {
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
        };
        AuthEnv {
            agent_socket: path("SSH_AUTH_SOCK"),
            home: path("HOME"),
        }
    }
}

/// One way of logging in.
enum Method {
    Agent(PathBuf),
    KeyFile { path: PathBuf, default_key: bool },
    Password(SecretString),
    KeyboardInteractive(SecretString),
}

impl Method {
    fn kind(&self) -> MethodKind {
        match self {
            Method::Agent(_) | Method::KeyFile { .. } => MethodKind::PublicKey,
            Method::Password(_) => MethodKind::Password,
            Method::KeyboardInteractive(_) => MethodKind::KeyboardInteractive,
        }
    }
}

/// The methods to try for this profile, in order.
fn plan(profile: &Profile, credentials: &Credentials, env: &AuthEnv) -> Vec<Method> {
    let mut methods = Vec::new();
    let names_none = !profile.agent && profile.key_file.is_none() && credentials.password.is_none();
    if (profile.agent || names_none)
        && let Some(socket) = &env.agent_socket
    {
        methods.push(Method::Agent(socket.clone()));
    }
    if let Some(path) = &profile.key_file {
        methods.push(Method::KeyFile {
            path: path.clone(),
            default_key: false,
        });
    }
    if names_none && let Some(home) = &env.home {
        for name in DEFAULT_KEYS {
            let path = home.join(".ssh").join(name);
            if path.is_file() {
                methods.push(Method::KeyFile {
                    path,
                    default_key: true,
                });
            }
        }
    }
    if let Some(password) = &credentials.password {
        methods.push(Method::Password(password.clone()));
        methods.push(Method::KeyboardInteractive(password.clone()));
    }
    methods
}

/// Logs in as the profile's user. Returns how it succeeded, for `SessionInfo.auth_method`.
pub(super) async fn authenticate(
    handle: &mut Handle<ClientHandler>,
    profile: &Profile,
    credentials: &Credentials,
    env: &AuthEnv,
    endpoint: &Endpoint,
) -> Result<String> {
    let user = profile.user.as_str();
    let methods = plan(profile, credentials, env);
    let mut attempt = Attempt {
        offered: MethodSet::from(
            &[
                MethodKind::PublicKey,
                MethodKind::Password,
                MethodKind::KeyboardInteractive,
            ][..],
        ),
        tried: Vec::new(),
        notes: Vec::new(),
        accepted: Vec::new(),
        planned: !methods.is_empty(),
        cut_off: false,
    };
    // OpenSSH asks with "none" first to learn what the server offers; that costs a round
    // trip, and a refused first method names the same. Only with nothing to try is it asked.
    let asked_first = methods.is_empty();
    if asked_first && ask_none(handle, user, &mut attempt, endpoint).await? {
        return Ok("none".into());
    }
    let mut password_rejected = false;
    for method in methods {
        if !attempt.offers(method.kind()) {
            continue;
        }
        let done = match &method {
            Method::Agent(socket) => agent::try_agent(handle, user, socket, &mut attempt).await,
            Method::KeyFile { path, default_key } => {
                try_key_file(handle, user, path, *default_key, credentials, &mut attempt).await
            }
            Method::Password(password) => {
                let result = handle
                    .authenticate_password(user, password.expose_secret())
                    .await
                    .map_err(|err| lost_during_login(&err.to_string(), endpoint))?;
                let done = attempt.record("password".into(), result);
                // Refused while still offered: the secret is wrong. A server that does not
                // take passwords at all may still take it as keyboard-interactive.
                password_rejected = !done && attempt.offers(MethodKind::Password);
                done
            }
            // The same secret the password method just refused would be refused again.
            Method::KeyboardInteractive(_) if password_rejected => false,
            Method::KeyboardInteractive(password) => {
                let result = keyboard_interactive(handle, user, password)
                    .await
                    .map_err(|err| lost_during_login(&err.to_string(), endpoint))?;
                attempt.record("keyboard-interactive".into(), result)
            }
        };
        if done {
            return Ok(attempt.accepted.join(" + "));
        }
    }
    // A server that takes "none" never lists it, so it is the last thing to ask.
    if !asked_first
        && !attempt.cut_off
        && !handle.is_closed()
        && ask_none(handle, user, &mut attempt, endpoint).await?
    {
        return Ok("none".into());
    }
    if handle.is_closed() {
        // Closing after refused tries is sshd's MaxAuthTries: an auth failure, not a network one.
        // A try cut off without an answer is the network's doing.
        if attempt.tried.is_empty() || attempt.cut_off {
            return Err(lost_during_login(
                "the server closed the connection",
                endpoint,
            ));
        }
        attempt
            .notes
            .push("the server then closed the connection (too many tries?)".into());
    }
    Err(attempt.failure(user, endpoint))
}

/// Asks to log in with no credentials; true when the server lets us in, else notes what it
/// offers instead.
async fn ask_none(
    handle: &mut Handle<ClientHandler>,
    user: &str,
    attempt: &mut Attempt,
    endpoint: &Endpoint,
) -> Result<bool> {
    let answer = handle
        .authenticate_none(user)
        .await
        .map_err(|err| lost_during_login(&err.to_string(), endpoint))?;
    match answer {
        AuthResult::Success => Ok(true),
        AuthResult::Failure {
            remaining_methods, ..
        } => {
            attempt.offered = remaining_methods;
            Ok(false)
        }
    }
}

fn lost_during_login(detail: &str, endpoint: &Endpoint) -> RemoteError {
    RemoteError::new(
        ErrorKind::ConnectionLost,
        endpoint,
        format!("during login: {detail}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_without_methods_falls_back_to_agent_and_default_keys() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".ssh")).unwrap();
        std::fs::write(home.path().join(".ssh/id_rsa"), "x").unwrap();
        let env = AuthEnv {
            agent_socket: Some("/tmp/agent.sock".into()),
            home: Some(home.path().to_path_buf()),
        };
        let profile: Profile = serde_json::from_value(serde_json::json!({
            "id": 1, "name": "p", "protocol": "sftp", "host": "h", "port": 22, "user": "u",
            "remote_dir": null, "local_dir": null, "key_file": null, "password": null,
            "key_passphrase": null, "max_connections": 4, "timeout_secs": null,
            "created_at": 0, "updated_at": 0
        }))
        .unwrap();
        let methods = plan(&profile, &Credentials::default(), &env);
        assert!(matches!(methods[0], Method::Agent(_)));
        assert!(
            matches!(&methods[1], Method::KeyFile { path, default_key: true } if path.ends_with("id_rsa"))
        );
        assert_eq!(methods.len(), 2);
    }
}
