//! Reading `~/.ssh/config` to import hosts as SFTP profiles: `Host` blocks with OpenSSH's
//! first-value-wins rule, wildcard and negated patterns, `Include` (with globs, relative to
//! `~/.ssh`), and the `HostName`, `User`, `Port`, `IdentityFile` and `ProxyJump` keywords (a
//! `ProxyCommand` cannot be mapped and is reported).

use crate::profile::{Profile, Protocol, local_user, parse_port, validate_name};
use std::path::{Path, PathBuf};

/// One concrete host alias with its effective settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshHost {
    pub alias: String,
    pub hostname: String,
    pub user: Option<String>,
    pub port: Option<String>,
    pub identity_file: Option<PathBuf>,
    /// `ProxyJump`: jump hosts, comma-separated (`none`: none).
    pub proxy_jump: Option<String>,
    /// `ProxyCommand`, which ferry cannot run.
    pub proxy_command: Option<String>,
}

/// What reading the config found.
#[derive(Debug, Default)]
pub struct SshConfig {
    pub hosts: Vec<SshHost>,
    /// Patterns that are not a single host (`*.example.com`, `!bad`), reported as skipped.
    pub skipped_patterns: Vec<String>,
    /// Problems that did not stop the import (an Include that matched nothing, a `Match` block).
    pub notes: Vec<String>,
}

#[derive(Debug)]
struct Block {
    patterns: Vec<String>,
    /// `Match` blocks are not evaluated: their settings apply to nothing.
    never: bool,
    settings: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot read ssh config {}: {source}", path.display())]
pub struct SshConfigError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

const MAX_INCLUDE_DEPTH: usize = 16;

/// Reads the config at `path` (following `Include`) and resolves every concrete host.
pub fn read(path: &Path, ssh_dir: &Path) -> Result<SshConfig, SshConfigError> {
    let mut blocks = vec![Block {
        patterns: vec!["*".into()],
        never: false,
        settings: Vec::new(),
    }];
    let mut notes = Vec::new();
    parse_file(path, ssh_dir, 0, &mut blocks, &mut notes)?;
    let mut config = SshConfig {
        notes,
        ..SshConfig::default()
    };
    for block in &blocks {
        for pattern in &block.patterns {
            if is_concrete(pattern) {
                if !config.hosts.iter().any(|h| &h.alias == pattern) {
                    let host = resolve(pattern, &blocks);
                    if let (Some(command), None) = (&host.proxy_command, &host.proxy_jump) {
                        config.notes.push(format!(
                            "{pattern}: `ProxyCommand {command}` cannot be mapped; imported \
                             as a direct connection (give it --jump if it needs one)"
                        ));
                    }
                    config.hosts.push(host);
                }
            } else if pattern != "*" && !config.skipped_patterns.contains(pattern) {
                config.skipped_patterns.push(pattern.clone());
            }
        }
    }
    Ok(config)
}

fn parse_file(
    path: &Path,
    ssh_dir: &Path,
    depth: usize,
    blocks: &mut Vec<Block>,
    notes: &mut Vec<String>,
) -> Result<(), SshConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| SshConfigError {
        path: path.to_path_buf(),
        source,
    })?;
    for line in text.lines() {
        let Some((keyword, value)) = split_line(line) else {
            continue;
        };
        match keyword.as_str() {
            "host" => blocks.push(Block {
                patterns: value.split_whitespace().map(str::to_string).collect(),
                never: false,
                settings: Vec::new(),
            }),
            "match" => {
                notes.push(format!(
                    "`Match {value}` in {} is not evaluated",
                    path.display()
                ));
                blocks.push(Block {
                    patterns: Vec::new(),
                    never: true,
                    settings: Vec::new(),
                });
            }
            "include" if depth >= MAX_INCLUDE_DEPTH => {
                notes.push(format!("Include nested too deeply in {}", path.display()));
            }
            "include" => {
                for pattern in value.split_whitespace() {
                    let files = expand_include(pattern, ssh_dir);
                    if files.is_empty() {
                        notes.push(format!("Include {pattern} matched no file"));
                    }
                    for file in files {
                        parse_file(&file, ssh_dir, depth + 1, blocks, notes)?;
                    }
                }
            }
            _ => {
                if let Some(block) = blocks.last_mut() {
                    block.settings.push((keyword, value));
                }
            }
        }
    }
    Ok(())
}

/// Splits `Keyword value`, `Keyword=value` or `Keyword = "value"`; None for blanks and comments.
fn split_line(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let split = line.find(|c: char| c.is_whitespace() || c == '=')?;
    let keyword = line[..split].to_ascii_lowercase();
    let value = line[split..]
        .trim_start_matches(|c: char| c.is_whitespace() || c == '=')
        .trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    Some((keyword, value.to_string()))
}

fn is_concrete(pattern: &str) -> bool {
    !pattern.contains(['*', '?', '!'])
}

fn expand_include(pattern: &str, ssh_dir: &Path) -> Vec<PathBuf> {
    let expanded = crate::paths::expand_tilde(pattern);
    let full = if expanded.is_absolute() {
        expanded
    } else {
        ssh_dir.join(expanded)
    };
    let Some(name) = full.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    if is_concrete(&name) {
        return if full.is_file() {
            vec![full]
        } else {
            Vec::new()
        };
    }
    let dir = full.parent().unwrap_or(Path::new("/"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| wildcard_match(&name, &e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// OpenSSH's rule: for each keyword, the first value from a matching block wins.
fn resolve(alias: &str, blocks: &[Block]) -> SshHost {
    let mut host = SshHost {
        alias: alias.to_string(),
        hostname: alias.to_string(),
        user: None,
        port: None,
        identity_file: None,
        proxy_jump: None,
        proxy_command: None,
    };
    let mut hostname = None;
    for block in blocks
        .iter()
        .filter(|b| !b.never && host_matches(alias, &b.patterns))
    {
        for (keyword, value) in &block.settings {
            match keyword.as_str() {
                "hostname" if hostname.is_none() => hostname = Some(value.clone()),
                "user" if host.user.is_none() => host.user = Some(value.clone()),
                "port" if host.port.is_none() => host.port = Some(value.clone()),
                "identityfile" if host.identity_file.is_none() => {
                    host.identity_file = Some(PathBuf::from(value));
                }
                "proxyjump" if host.proxy_jump.is_none() && host.proxy_command.is_none() => {
                    host.proxy_jump = Some(value.clone());
                }
                "proxycommand" if host.proxy_jump.is_none() && host.proxy_command.is_none() => {
                    host.proxy_command = Some(value.clone());
                }
                _ => {}
            }
        }
    }
    if let Some(name) = hostname {
        host.hostname = expand_tokens(&name, alias, alias, host.user.as_deref());
    }
    host.identity_file = host.identity_file.map(|file| {
        let text = expand_tokens(
            &file.to_string_lossy(),
            &host.hostname,
            alias,
            host.user.as_deref(),
        );
        crate::paths::expand_tilde(&text)
    });
    host
}

fn host_matches(alias: &str, patterns: &[String]) -> bool {
    let mut matched = false;
    for pattern in patterns {
        if let Some(negated) = pattern.strip_prefix('!') {
            if wildcard_match(negated, alias) {
                return false;
            }
        } else if wildcard_match(pattern, alias) {
            matched = true;
        }
    }
    matched
}

/// `*` and `?` glob matching, case-insensitive as OpenSSH does for host names.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Expands `%h` (host name), `%n` (alias), `%r` (remote user), `%u` (local user), `%d` (home), `%%`.
fn expand_tokens(text: &str, hostname: &str, alias: &str, user: Option<&str>) -> String {
    let local = crate::profile::local_user();
    let home = std::env::var("HOME").unwrap_or_default();
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('h') => out.push_str(hostname),
            Some('n') => out.push_str(alias),
            Some('r') => out.push_str(user.unwrap_or(&local)),
            Some('u') => out.push_str(&local),
            Some('d') => out.push_str(&home),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// The SFTP profile for one concrete host: its IdentityFile, or the agent without one.
pub fn to_profile(host: &SshHost) -> Result<Profile, String> {
    validate_name(&host.alias).map_err(|e| e.to_string())?;
    let port = match &host.port {
        Some(port) => parse_port(port).map_err(|e| e.to_string())?,
        None => 22,
    };
    if let Some(key) = &host.identity_file
        && let Err(err) = std::fs::File::open(key)
    {
        return Err(format!("IdentityFile {}: {err}", key.display()));
    }
    let user = host.user.clone().unwrap_or_else(local_user);
    let mut profile = Profile::new(&host.alias, Protocol::Sftp, &host.hostname, port, &user);
    profile.agent = host.identity_file.is_none();
    profile.key_file = host.identity_file.clone();
    profile.jump = jumps(host.proxy_jump.as_deref());
    Ok(profile)
}

/// `ProxyJump`'s hops as ferry names them: another imported host's alias stays a profile name,
/// `[user@]host[:port]` stays an address (an `ssh://` prefix dropped).
fn jumps(proxy_jump: Option<&str>) -> Vec<String> {
    match proxy_jump {
        None => Vec::new(),
        Some(value) if value.eq_ignore_ascii_case("none") => Vec::new(),
        Some(value) => value
            .split(',')
            .map(|hop| hop.trim().trim_start_matches("ssh://").to_string())
            .filter(|hop| !hop.is_empty())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*.example.com", "web.example.com"));
        assert!(wildcard_match("web?", "web1"));
        assert!(!wildcard_match("web?", "web12"));
        assert!(wildcard_match("*", "anything"));
    }

    #[test]
    fn first_value_wins_across_blocks_and_negation_excludes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        std::fs::write(
            &file,
            "Host web\n  HostName 10.0.0.5\n  Port 2222\n\
             Host * !db\n  User deploy\n  Port 22\n\
             Host db\n  HostName=db.internal\n",
        )
        .unwrap();
        let config = read(&file, dir.path()).unwrap();
        let web = &config.hosts[0];
        assert_eq!(
            (web.hostname.as_str(), web.port.as_deref()),
            ("10.0.0.5", Some("2222"))
        );
        assert_eq!(web.user.as_deref(), Some("deploy"));
        let db = &config.hosts[1];
        assert_eq!(db.hostname, "db.internal");
        assert_eq!(db.user, None);
        assert_eq!(config.skipped_patterns, vec!["!db".to_string()]);
    }

    #[test]
    fn proxy_jump_becomes_jump_hosts_and_proxy_command_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        std::fs::write(
            &file,
            "Host bastion\n  HostName 203.0.113.1\n\
             Host inner\n  ProxyJump bastion,ssh://ops@10.1.0.1:2222\n\
             Host odd\n  ProxyCommand nc -X 5 -x proxy:1080 %h %p\n\
             Host plain\n  ProxyJump none\n",
        )
        .unwrap();
        let config = read(&file, dir.path()).unwrap();
        let profile = |alias: &str| {
            let host = config.hosts.iter().find(|h| h.alias == alias).unwrap();
            to_profile(host).unwrap()
        };
        assert_eq!(profile("inner").jump, ["bastion", "ops@10.1.0.1:2222"]);
        assert!(profile("plain").jump.is_empty());
        assert!(profile("odd").jump.is_empty());
        assert!(
            config
                .notes
                .iter()
                .any(|n| n.contains("odd") && n.contains("ProxyCommand")),
            "{:?}",
            config.notes
        );
    }
}
