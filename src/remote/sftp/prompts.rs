//! Keyboard-interactive login: every hidden password prompt is answered with the password,
//! anything else with an empty answer the server can refuse.

use russh::MethodSet;
use russh::client::{AuthResult, Handle, KeyboardInteractiveAuthResponse};
use secrecy::{ExposeSecret, SecretString};

use super::handshake::ClientHandler;

/// Keyboard-interactive rounds before giving up on a server that keeps asking.
const MAX_PROMPT_ROUNDS: usize = 8;

/// Answers every hidden password prompt with the password.
pub(super) async fn keyboard_interactive(
    handle: &mut Handle<ClientHandler>,
    user: &str,
    password: &SecretString,
) -> std::result::Result<AuthResult, russh::Error> {
    let mut reply = handle
        .authenticate_keyboard_interactive_start(user, None)
        .await?;
    for _ in 0..MAX_PROMPT_ROUNDS {
        match reply {
            KeyboardInteractiveAuthResponse::Success => return Ok(AuthResult::Success),
            KeyboardInteractiveAuthResponse::Failure {
                remaining_methods,
                partial_success,
            } => {
                return Ok(AuthResult::Failure {
                    remaining_methods,
                    partial_success,
                });
            }
            KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                let answers = prompts
                    .iter()
                    .map(
                        |prompt| match !prompt.echo && is_password_prompt(&prompt.prompt) {
                            true => password.expose_secret().to_string(),
                            // Not a question the password answers (a one-time code, a user
                            // name): an empty answer lets the server refuse cleanly.
                            false => String::new(),
                        },
                    )
                    .collect();
                reply = handle
                    .authenticate_keyboard_interactive_respond(answers)
                    .await?;
            }
        }
    }
    Ok(AuthResult::Failure {
        remaining_methods: MethodSet::empty(),
        partial_success: false,
    })
}

/// `Password:`, `user@host's password:`, `Passwort:`, `Mot de passe :`…
fn is_password_prompt(prompt: &str) -> bool {
    let lower = prompt.to_lowercase();
    lower.contains("pass") || lower.contains("contraseña") || lower.contains("senha")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_prompts_are_recognised() {
        for prompt in [
            "Password: ",
            "deploy@host's password:",
            "Passwort:",
            "Mot de passe :",
        ] {
            assert!(is_password_prompt(prompt), "{prompt}");
        }
        assert!(!is_password_prompt("Verification code: "));
    }
}
