//! SSH `exec` requests. Only `sha256sum PATH...` runs (paths through the same mapping as
//! SFTP, output exactly as coreutils prints it); any other command exits with 127.

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;

use russh::Channel;
use russh::keys::ssh_key::sha2::{Digest, Sha256};
use russh::server::Msg;

use super::paths::normalize;
use super::state::Shared;

#[derive(Default)]
struct Outcome {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: u32,
}

impl Outcome {
    fn failure(status: u32, message: String) -> Self {
        Self {
            stderr: message.into_bytes(),
            status,
            ..Self::default()
        }
    }
}

pub(super) async fn run(channel: Channel<Msg>, command: String, shared: Arc<Shared>) {
    let outcome = match shell_words(&command).as_deref() {
        Some([program, args @ ..]) if program == "sha256sum" => sha256sum(args, &shared).await,
        Some([program, ..]) => Outcome::failure(127, format!("sh: 1: {program}: not found\n")),
        Some([]) => Outcome::default(),
        None => Outcome::failure(
            2,
            "sh: 1: Syntax error: Unterminated quoted string\n".into(),
        ),
    };
    let _ = send(&channel, outcome).await;
}

async fn send(channel: &Channel<Msg>, outcome: Outcome) -> Result<(), russh::Error> {
    if !outcome.stdout.is_empty() {
        channel.data_bytes(outcome.stdout).await?;
    }
    if !outcome.stderr.is_empty() {
        channel.extended_data_bytes(1, outcome.stderr).await?;
    }
    channel.exit_status(outcome.status).await?;
    channel.eof().await?;
    channel.close().await
}

async fn sha256sum(args: &[String], shared: &Shared) -> Outcome {
    if args.is_empty() {
        return Outcome::failure(
            1,
            "sha256sum: standard input is not supported here\n".into(),
        );
    }
    let mut outcome = Outcome::default();
    for arg in args {
        let client = normalize(arg);
        let result = if shared.faults.is_denied(&client) {
            Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "Permission denied",
            ))
        } else {
            let host = shared.jail.host_path(&client);
            tokio::task::spawn_blocking(move || hash_file(host))
                .await
                .unwrap_or_else(|e| Err(io::Error::other(e)))
        };
        match result {
            Ok(digest) => outcome
                .stdout
                .extend(checksum_line(&digest, arg).into_bytes()),
            Err(err) => {
                let reason = err.to_string();
                let reason = reason.split(" (os error").next().unwrap_or_default();
                outcome
                    .stderr
                    .extend(format!("sha256sum: {arg}: {reason}\n").into_bytes());
                outcome.status = 1;
            }
        }
    }
    outcome
}

fn hash_file(path: PathBuf) -> io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 20];
    loop {
        match file.read(&mut buf)? {
            0 => break,
            n => hasher.update(&buf[..n]),
        }
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// `<hex>  <name>\n`; names with a backslash or newline are escaped and the line starts
/// with `\`, as coreutils does.
fn checksum_line(digest: &str, name: &str) -> String {
    if name.contains(['\\', '\n']) {
        let escaped = name.replace('\\', "\\\\").replace('\n', "\\n");
        format!("\\{digest}  {escaped}\n")
    } else {
        format!("{digest}  {name}\n")
    }
}

/// Splits a command line like a POSIX shell does for plain words and quotes (no
/// expansions). `None` when a quote is left open.
fn shell_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => words.extend(word.take()),
            '\'' => {
                let current = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => current.push(c),
                    }
                }
            }
            '"' => {
                let current = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => current.push(c),
                            '\n' => {}
                            c => current.extend(['\\', c]),
                        },
                        c => current.push(c),
                    }
                }
            }
            '\\' => {
                if let Some(next) = chars.next().filter(|c| *c != '\n') {
                    word.get_or_insert_with(String::new).push(next);
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Some(words)
}
