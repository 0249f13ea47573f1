//! Logging in with the keys held by an ssh-agent: each plain-key identity in the agent's
//! order, signed by the agent (the private keys never enter ferry). Certificates held by
//! the agent are passed over.

use std::path::Path;

use russh::client::Handle;
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;

use super::attempt::Attempt;
use super::handshake::ClientHandler;
use super::keys::{key_label, rsa_hash};

/// Tries every agent key; true once logged in. Agent trouble is noted, not fatal.
pub(super) async fn try_agent(
    handle: &mut Handle<ClientHandler>,
    user: &str,
    socket: &Path,
    attempt: &mut Attempt,
) -> bool {
    let mut agent = match AgentClient::connect_uds(socket).await {
        Ok(agent) => agent,
        Err(err) => {
            attempt.notes.push(format!(
                "cannot reach the ssh-agent at {}: {err}",
                socket.display()
            ));
            return false;
        }
    };
    // OpenSSH agents expose destination-constrained keys only to a bound session; older
    // agents do not know the extension, which is fine.
    if let Some(binding) = handle.agent_session_binding().cloned()
        && let Err(err) = agent.bind_session(&binding, false).await
    {
        tracing::debug!(%err, "ssh-agent does not bind sessions");
    }
    let identities = match agent.request_identities().await {
        Ok(identities) => identities,
        Err(err) => {
            attempt
                .notes
                .push(format!("the ssh-agent did not list its keys: {err}"));
            return false;
        }
    };
    let keys: Vec<_> = identities
        .into_iter()
        .filter_map(|identity| match identity {
            AgentIdentity::PublicKey { mut key, comment } => {
                key.set_comment(comment);
                Some(key)
            }
            AgentIdentity::Certificate { .. } => None,
        })
        .collect();
    if keys.is_empty() {
        attempt.notes.push("the ssh-agent holds no keys".into());
        return false;
    }
    for key in keys {
        let hash = match key.algorithm().is_rsa() {
            true => rsa_hash(handle).await,
            false => None,
        };
        let label = format!("agent ({})", key_label(&key));
        match handle
            .authenticate_publickey_with(user, key, hash, &mut agent)
            .await
        {
            Ok(result) => {
                if attempt.record(label, result) {
                    return true;
                }
            }
            Err(err) => {
                attempt.notes.push(format!("{label}: {err}"));
            }
        }
        if !attempt.offered.contains(&russh::MethodKind::PublicKey) {
            break;
        }
    }
    false
}
