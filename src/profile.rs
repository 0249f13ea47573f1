//! Server profiles: what a saved server is (protocol, address, login, policies), how its URL is
//! written (`sftp://user@host:port/dir`) and what makes one valid. Secrets stay sealed here.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::vault::{Sealed, SecretSlot};

/// The protocol of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    Sftp,
    Ftp,
    /// FTP with explicit TLS (AUTH TLS on the control connection).
    Ftps,
    /// FTP over TLS from the first byte, usually on port 990.
    FtpsImplicit,
}

impl Protocol {
    pub fn default_port(self) -> u16 {
        match self {
            Protocol::Sftp => 22,
            Protocol::Ftp | Protocol::Ftps => 21,
            Protocol::FtpsImplicit => 990,
        }
    }

    pub fn scheme(self) -> &'static str {
        match self {
            Protocol::Sftp => "sftp",
            Protocol::Ftp => "ftp",
            Protocol::Ftps | Protocol::FtpsImplicit => "ftps",
        }
    }

    pub fn is_ftp(self) -> bool {
        !matches!(self, Protocol::Sftp)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Sftp => "sftp",
            Protocol::Ftp => "ftp",
            Protocol::Ftps => "ftps",
            Protocol::FtpsImplicit => "ftps-implicit",
        })
    }
}

/// What to do with an SSH host key that is not yet known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum HostKeyPolicy {
    /// Show the fingerprint and ask; without a terminal, refuse.
    #[default]
    Ask,
    /// Record a new key and go on; a changed key is still refused.
    AcceptNew,
    /// Only keys already known are accepted.
    Strict,
}

impl fmt::Display for HostKeyPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HostKeyPolicy::Ask => "ask",
            HostKeyPolicy::AcceptNew => "accept-new",
            HostKeyPolicy::Strict => "strict",
        })
    }
}

/// A jump host given as `user@host[:port]` (the user defaults to `default_user`): an SFTP
/// profile named after it that logs in with the agent and the default keys.
pub fn jump_address(entry: &str, default_user: &str) -> Option<Profile> {
    let (user, rest) = match entry.rsplit_once('@') {
        Some((user, rest)) if !user.is_empty() => (user, rest),
        Some(_) => return None,
        None => (default_user, entry),
    };
    let (host, port) = match rest.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed.split_once(']')?;
            match after.strip_prefix(':') {
                Some(port) => (host, port.parse().ok()?),
                None if after.is_empty() => (host, 22),
                None => return None,
            }
        }
        None => match rest.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().ok()?),
            None => (rest, 22),
        },
    };
    let valid = |text: &str| {
        !text.is_empty()
            && !text
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '/')
    };
    if !valid(host) || !valid(user) || port == 0 {
        return None;
    }
    let mut profile = Profile::new(entry, Protocol::Sftp, host, port, user);
    profile.agent = true;
    Some(profile)
}

/// A saved server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub id: u64,
    pub name: String,
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub user: String,
    /// The directory to start in on the server.
    pub remote_dir: Option<String>,
    /// The local directory to start in.
    pub local_dir: Option<PathBuf>,
    /// An SSH private key file.
    pub key_file: Option<PathBuf>,
    /// Use the ssh-agent at `SSH_AUTH_SOCK`.
    #[serde(default)]
    pub agent: bool,
    pub password: Option<Sealed>,
    pub key_passphrase: Option<Sealed>,
    pub max_connections: u32,
    #[serde(default)]
    pub host_key_policy: HostKeyPolicy,
    /// Connect timeout in seconds; the config's `connection.timeout` when absent.
    pub timeout_secs: Option<u32>,
    /// SHA-256 fingerprint (lowercase hex) of a pinned FTPS certificate.
    #[serde(default)]
    pub cert_pin: Option<String>,
    /// The character set the server keeps names in (`latin1`, `cp1252`, …); UTF-8 when absent.
    #[serde(default)]
    pub charset: Option<String>,
    /// SFTP: never send an exec request (some operators forbid them, and they show in audit
    /// logs); hashes then come from the `check-file` extension where offered, or read-backs.
    #[serde(default)]
    pub no_exec: bool,
    /// SFTP: jump hosts to go through, in order: another profile's name, or `user@host[:port]`
    /// (logged in with the agent and the default keys).
    #[serde(default)]
    pub jump: Vec<String>,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
}

/// The two sealed fields of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileSecret {
    Password,
    KeyPassphrase,
}

impl ProfileSecret {
    pub const ALL: [ProfileSecret; 2] = [ProfileSecret::Password, ProfileSecret::KeyPassphrase];

    pub fn field(self) -> &'static str {
        match self {
            ProfileSecret::Password => "password",
            ProfileSecret::KeyPassphrase => "key_passphrase",
        }
    }
}

impl Profile {
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 4;

    /// A profile with the defaults for everything but its address and login; created now,
    /// id 0 until the store gives it one.
    pub fn new(name: &str, protocol: Protocol, host: &str, port: u16, user: &str) -> Profile {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Profile {
            id: 0,
            name: name.to_string(),
            protocol,
            host: host.to_string(),
            port,
            user: user.to_string(),
            remote_dir: None,
            local_dir: None,
            key_file: None,
            agent: false,
            password: None,
            key_passphrase: None,
            max_connections: Profile::DEFAULT_MAX_CONNECTIONS,
            host_key_policy: HostKeyPolicy::default(),
            timeout_secs: None,
            cert_pin: None,
            charset: None,
            no_exec: false,
            jump: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// The vault slot of one of this profile's secrets.
    pub fn slot(&self, secret: ProfileSecret) -> SecretSlot<'static> {
        SecretSlot {
            kind: "profile",
            id: self.id,
            field: secret.field(),
        }
    }

    pub fn sealed(&self, secret: ProfileSecret) -> Option<&Sealed> {
        match secret {
            ProfileSecret::Password => self.password.as_ref(),
            ProfileSecret::KeyPassphrase => self.key_passphrase.as_ref(),
        }
    }

    pub fn sealed_mut(&mut self, secret: ProfileSecret) -> &mut Option<Sealed> {
        match secret {
            ProfileSecret::Password => &mut self.password,
            ProfileSecret::KeyPassphrase => &mut self.key_passphrase,
        }
    }

    /// `host:port`, with IPv6 addresses in brackets.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The profile as a URL (without secrets).
    pub fn url(&self) -> String {
        let dir = self.remote_dir.as_deref().unwrap_or("");
        let sep = if dir.is_empty() || dir.starts_with('/') {
            ""
        } else {
            "/"
        };
        format!(
            "{}://{}@{}{sep}{dir}",
            self.protocol.scheme(),
            self.user,
            self.address()
        )
    }
}

/// The parts of a profile URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileUrl {
    pub protocol: Protocol,
    pub user: Option<String>,
    pub host: String,
    pub port: u16,
    pub dir: Option<String>,
}

/// A profile field that does not pass validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error(
        "profile name `{0}` is not valid: use 1-64 letters, digits, `.`, `_` or `-`, not starting with `-`"
    )]
    BadName(String),
    #[error("unknown scheme `{0}`: use sftp://, ftp:// or ftps://")]
    UnknownScheme(String),
    #[error("`{0}` is not a URL: write it as sftp://user@host[:port][/dir]")]
    NotUrl(String),
    #[error("the host is empty in `{0}`")]
    EmptyHost(String),
    #[error("port `{0}` is outside 1-65535")]
    BadPort(String),
    #[error(
        "do not put a password in the URL (it ends up in shell history): use --password-stdin or --ask-password"
    )]
    PasswordInUrl,
    #[error("--implicit-tls needs an ftps:// URL")]
    ImplicitNeedsFtps,
    #[error("--max-connections must be between 1 and 64")]
    BadMaxConnections,
    #[error("--timeout must be between 1 and 3600 seconds")]
    BadTimeout,
    #[error("{0}")]
    NotForProtocol(String),
}

/// Checks a profile name: it is used as `NAME:PATH` on the command line.
pub fn validate_name(name: &str) -> Result<(), ProfileError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ProfileError::BadName(name.to_string()))
    }
}

/// Parses `scheme://[user@]host[:port][/dir]`.
pub fn parse_url(text: &str, implicit_tls: bool) -> Result<ProfileUrl, ProfileError> {
    let (scheme, rest) = text
        .split_once("://")
        .ok_or_else(|| ProfileError::NotUrl(text.to_string()))?;
    let protocol = match (scheme.to_ascii_lowercase().as_str(), implicit_tls) {
        ("sftp" | "ssh", false) => Protocol::Sftp,
        ("ftp", false) => Protocol::Ftp,
        ("ftps", false) => Protocol::Ftps,
        ("ftps", true) => Protocol::FtpsImplicit,
        ("sftp" | "ssh" | "ftp", true) => return Err(ProfileError::ImplicitNeedsFtps),
        _ => return Err(ProfileError::UnknownScheme(scheme.to_string())),
    };
    let (authority, dir) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let (user, hostport) = match authority.rsplit_once('@') {
        Some((user, hostport)) => {
            if user.contains(':') {
                return Err(ProfileError::PasswordInUrl);
            }
            (Some(percent_decode(user)), hostport)
        }
        None => (None, authority),
    };
    let (host, port) = split_host_port(hostport)?;
    if host.is_empty() {
        return Err(ProfileError::EmptyHost(text.to_string()));
    }
    let port = match port {
        None => protocol.default_port(),
        Some(p) => parse_port(p)?,
    };
    let dir = dir
        .map(percent_decode)
        .filter(|d| !d.is_empty() && d != "/");
    Ok(ProfileUrl {
        protocol,
        user: user.filter(|u| !u.is_empty()),
        host: host.to_string(),
        port,
        dir,
    })
}

/// Parses a port number in 1-65535.
pub fn parse_port(text: &str) -> Result<u16, ProfileError> {
    match text.parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(p as u16),
        _ => Err(ProfileError::BadPort(text.to_string())),
    }
}

fn split_host_port(hostport: &str) -> Result<(&str, Option<&str>), ProfileError> {
    if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| ProfileError::NotUrl(hostport.to_string()))?;
        return Ok((host, after.strip_prefix(':')));
    }
    Ok(match hostport.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (hostport, None),
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The user name of whoever runs ferry, the default SSH login.
pub fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jump_addresses_read_like_ssh() {
        let hop = jump_address("ops@gw.example.net:2222", "me").expect("parsed");
        assert_eq!(
            (hop.user.as_str(), hop.host.as_str(), hop.port),
            ("ops", "gw.example.net", 2222)
        );
        assert!(hop.agent);
        let hop = jump_address("gw", "me").expect("parsed");
        assert_eq!(
            (hop.user.as_str(), hop.host.as_str(), hop.port),
            ("me", "gw", 22)
        );
        let hop = jump_address("root@[::1]:22", "me").expect("parsed");
        assert_eq!(hop.host, "::1");
        for bad in [
            "", "@gw", "ops@", "ops@gw:x", "ops@gw:0", "a b@gw", "ops@[::1",
        ] {
            assert!(jump_address(bad, "me").is_none(), "{bad}");
        }
    }

    #[test]
    fn parses_full_url() {
        let url = parse_url("sftp://deploy@10.0.0.5:2222/srv/www", false).unwrap();
        assert_eq!(url.protocol, Protocol::Sftp);
        assert_eq!(url.user.as_deref(), Some("deploy"));
        assert_eq!(url.host, "10.0.0.5");
        assert_eq!(url.port, 2222);
        assert_eq!(url.dir.as_deref(), Some("/srv/www"));
    }

    #[test]
    fn default_ports_and_ipv6() {
        assert_eq!(parse_url("ftp://h", false).unwrap().port, 21);
        assert_eq!(parse_url("ftps://h", true).unwrap().port, 990);
        let url = parse_url("sftp://[::1]:22", false).unwrap();
        assert_eq!(url.host, "::1");
    }

    #[test]
    fn rejects_bad_urls() {
        assert_eq!(
            parse_url("gopher://h", false),
            Err(ProfileError::UnknownScheme("gopher".into()))
        );
        assert!(matches!(
            parse_url("sftp://u@:22", false),
            Err(ProfileError::EmptyHost(_))
        ));
        assert!(matches!(
            parse_url("sftp://h:0", false),
            Err(ProfileError::BadPort(_))
        ));
        assert!(matches!(
            parse_url("sftp://h:70000", false),
            Err(ProfileError::BadPort(_))
        ));
        assert_eq!(
            parse_url("ftp://u:pw@h", false),
            Err(ProfileError::PasswordInUrl)
        );
        assert_eq!(
            parse_url("sftp://h", true),
            Err(ProfileError::ImplicitNeedsFtps)
        );
        assert!(matches!(
            parse_url("just-a-host", false),
            Err(ProfileError::NotUrl(_))
        ));
    }

    #[test]
    fn names() {
        assert!(validate_name("web-1.prod").is_ok());
        for bad in ["", "-x", "a:b", "a b", "a/b"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
