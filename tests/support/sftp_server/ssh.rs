//! The russh server side of one connection: which logins succeed, which channel
//! requests are served (the `sftp` subsystem, a few exec commands, and `direct-tcpip`
//! forwarding to loopback addresses, so the server can be a jump host), nothing else.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use russh::keys::PrivateKey;
use russh::server::{
    Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Response, Session, VerifiedPublicKey,
};
use russh::{Channel, ChannelId, MethodKind, MethodSet, SshId};

use super::fs::FsHandler;
use super::state::{ConnectionState, Shared};
use super::{AuthMethod, SftpServerConfig, exec, wire};

pub(super) fn server_config(
    config: &SftpServerConfig,
    host_key: PrivateKey,
) -> russh::server::Config {
    let kinds: Vec<MethodKind> = config.methods.iter().map(|m| m.kind()).collect();
    russh::server::Config {
        server_id: SshId::Standard(Cow::Owned(format!("SSH-2.0-{}", config.software))),
        methods: MethodSet::from(&kinds[..]),
        // Failed logins answer quickly so tests of wrong credentials stay fast.
        auth_rejection_time: Duration::from_millis(5),
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![host_key],
        inactivity_timeout: Some(Duration::from_secs(300)),
        nodelay: true,
        ..Default::default()
    }
}

pub(super) struct SshConnection {
    shared: Arc<Shared>,
    conn: Arc<ConnectionState>,
    /// Session channels opened but not yet given a subsystem or exec request.
    channels: HashMap<ChannelId, Channel<Msg>>,
}

impl SshConnection {
    pub fn new(shared: Arc<Shared>, conn: Arc<ConnectionState>) -> Self {
        Self {
            shared,
            conn,
            channels: HashMap::new(),
        }
    }

    /// A rejection that keeps offering every configured method (russh would otherwise
    /// drop the failed method from the list, which OpenSSH does not do).
    fn reject(&self) -> Auth {
        let kinds: Vec<MethodKind> = self.shared.methods.iter().map(|m| m.kind()).collect();
        Auth::Reject {
            proceed_with_methods: Some(MethodSet::from(&kinds[..])),
            partial_success: false,
        }
    }

    fn verdict(&self, accepted: bool) -> Auth {
        if accepted {
            Auth::Accept
        } else {
            self.reject()
        }
    }

    fn password_ok(&self, method: AuthMethod, user: &str, password: &[u8]) -> bool {
        self.shared.counters.password_tried();
        self.shared.offers(method)
            && self
                .shared
                .user(user)
                .and_then(|u| u.password.as_deref())
                .is_some_and(|expected| expected.as_bytes() == password)
    }

    fn key_ok(&self, user: &str, key: &russh::keys::PublicKey) -> bool {
        self.shared.offers(AuthMethod::PublicKey)
            && self
                .shared
                .user(user)
                .is_some_and(|u| u.keys.iter().any(|k| k.key_data() == key.key_data()))
    }
}

impl russh::server::Handler for SshConnection {
    type Error = russh::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(self.reject())
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        let ok = self.password_ok(AuthMethod::Password, user, password.as_bytes());
        Ok(self.verdict(ok))
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(self.verdict(self.key_ok(user, offer.public_key)))
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(self.verdict(self.key_ok(user, key.public_key)))
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        response: Option<Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        if !self.shared.offers(AuthMethod::KeyboardInteractive) {
            return Ok(self.reject());
        }
        let Some(mut response) = response else {
            return Ok(Auth::Partial {
                name: Cow::Borrowed(""),
                instructions: Cow::Borrowed(""),
                prompts: Cow::Owned(vec![(Cow::Borrowed("Password: "), false)]),
            });
        };
        let answer = response.next().unwrap_or_default();
        let ok = self.password_ok(AuthMethod::KeyboardInteractive, user, &answer);
        Ok(self.verdict(ok))
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel_id: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.remove(&channel_id);
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel_id: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let channel = self.channels.remove(&channel_id);
        let Some(channel) = channel.filter(|_| name == "sftp" && !self.shared.refuse_sftp) else {
            return session.channel_failure(channel_id);
        };
        session.channel_success(channel_id)?;
        self.shared.counters.session_opened();
        let handler = FsHandler::new(self.shared.clone(), self.conn.clone());
        tokio::spawn(wire::serve(
            channel,
            handler,
            self.shared.clone(),
            self.conn.clone(),
        ));
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel_id: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(channel) = self.channels.remove(&channel_id) else {
            return session.channel_failure(channel_id);
        };
        self.shared.counters.exec_requested();
        if self.shared.refuse_exec {
            return session.channel_failure(channel_id);
        }
        session.channel_success(channel_id)?;
        let command = String::from_utf8_lossy(data).into_owned();
        tokio::spawn(exec::run(channel, command, self.shared.clone()));
        Ok(())
    }

    async fn channel_open_direct_tcpip(
        &mut self,
        channel: Channel<Msg>,
        host_to_connect: &str,
        port_to_connect: u32,
        _originator_address: &str,
        _originator_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let target = (host_to_connect.to_string(), port_to_connect as u16);
        let loopback = matches!(target.0.as_str(), "127.0.0.1" | "localhost" | "::1");
        let connected = match loopback {
            true => tokio::net::TcpStream::connect(target).await.ok(),
            false => None,
        };
        let Some(mut stream) = connected else {
            reply.reject(russh::ChannelOpenFailure::ConnectFailed).await;
            return Ok(());
        };
        reply.accept().await;
        self.shared.counters.forward_opened();
        tokio::spawn(async move {
            let mut forwarded = channel.into_stream();
            let _ = tokio::io::copy_bidirectional(&mut forwarded, &mut stream).await;
        });
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel_id: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel_id)
    }
}
