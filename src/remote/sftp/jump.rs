//! Reaching a server through jump hosts: each hop is an SSH session of its own (its host key
//! checked like any server's, its login as its profile says) carried over the previous hop's
//! `direct-tcpip` channel, and the last hop's channel carries the target's SSH session. The hop
//! sessions live as long as the connection that goes through them.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use russh::client::{Handle, Msg};
use russh::{ChannelStream, Disconnect};

use super::auth::{self, AuthEnv};
use super::connect;
use super::errors::ssh_error;
use super::handshake::{ClientHandler, HandshakeFacts};
use crate::profile::Profile;
use crate::remote::{ConnectOptions, Hop, HopInfo, Result, endpoint_of};

/// The hop sessions of one connection, first to last.
#[derive(Default)]
pub(super) struct Chain {
    sessions: Vec<Handle<ClientHandler>>,
    pub hops: Vec<HopInfo>,
}

impl Chain {
    /// Ends the hop sessions, last first.
    pub async fn close(&self) {
        for session in self.sessions.iter().rev() {
            let _ = session
                .disconnect(Disconnect::ByApplication, "", "en")
                .await;
        }
    }
}

/// Goes through `options.jumps` to `target`: the channel that reaches the target's SSH port,
/// and the chain that carries it. None when there are no jump hosts.
pub(super) async fn through(
    target: &Profile,
    options: &ConnectOptions,
    env: &AuthEnv,
) -> Result<(Option<ChannelStream<Msg>>, Chain)> {
    let mut chain = Chain::default();
    let mut carrier: Option<ChannelStream<Msg>> = None;
    for (index, hop) in options.jumps.iter().enumerate() {
        let next = options
            .jumps
            .get(index + 1)
            .map_or(target, |hop| &hop.profile);
        let started = Instant::now();
        let (session, host_key) = log_in(hop, options, env, carrier.take()).await?;
        let endpoint = endpoint_of(&hop.profile);
        let channel = session
            .channel_open_direct_tcpip(next.host.clone(), u32::from(next.port), "127.0.0.1", 0)
            .await
            .map_err(|err| {
                let mut err = ssh_error(&err, &endpoint);
                err.detail = format!(
                    "the jump host would not connect on to {}: {}",
                    next.address(),
                    err.detail
                );
                err
            })?;
        carrier = Some(channel.into_stream());
        chain.hops.push(HopInfo {
            name: hop.profile.name.clone(),
            address: hop.profile.address(),
            host_key,
            millis: started.elapsed().as_millis() as u64,
        });
        chain.sessions.push(session);
    }
    Ok((carrier, chain))
}

/// One hop: the SSH handshake over `carrier` (or a TCP connection for the first), the host-key
/// check and the login.
async fn log_in(
    hop: &Hop,
    options: &ConnectOptions,
    env: &AuthEnv,
    carrier: Option<ChannelStream<Msg>>,
) -> Result<(Handle<ClientHandler>, Option<(String, String)>)> {
    let profile = &hop.profile;
    let endpoint = endpoint_of(profile);
    let facts = Arc::new(Mutex::new(HandshakeFacts::default()));
    let handler = ClientHandler {
        endpoint: endpoint.clone(),
        host: profile.host.clone(),
        port: profile.port,
        policy: hop.host_key_policy,
        known_hosts: options.known_hosts.clone(),
        prompt: options.prompt.clone(),
        facts: facts.clone(),
    };
    let config = connect::client_config(options, &profile.host, profile.port);
    let mut session = match carrier {
        Some(stream) => connect::handshake(stream, config, handler).await?,
        None => {
            let stream = connect::open_tcp(profile, &endpoint).await?;
            connect::handshake(stream, config, handler).await?
        }
    };
    auth::authenticate(&mut session, profile, &hop.credentials, env, &endpoint).await?;
    let host_key = super::handshake::lock(&facts).host_key.clone();
    Ok((session, host_key))
}
