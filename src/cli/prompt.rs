//! Asking the person at the terminal whether to trust an unknown SSH host key, as OpenSSH does.
//! Without a terminal nobody is asked and the key is refused.

use std::io::{BufRead, BufReader, IsTerminal, Write};

use async_trait::async_trait;

use crate::engine::api::{Answer, Question};
use crate::remote::trust::{HostKeyDecision, HostKeyQuestion, TrustPrompt};
use crate::text::shown;
use crate::transfer::conflict::{Conflict, ConflictChoice};
use crate::transfer::model::OverwritePolicy;

/// Asks on /dev/tty.
pub struct TerminalPrompt;

impl TerminalPrompt {
    /// A prompt when stdin or stderr is a terminal that can be opened.
    pub fn available() -> bool {
        (std::io::stdin().is_terminal() || std::io::stderr().is_terminal())
            && std::fs::File::open("/dev/tty").is_ok()
    }
}

#[async_trait]
impl TrustPrompt for TerminalPrompt {
    async fn confirm_host_key(&self, question: &HostKeyQuestion) -> bool {
        let question = question.clone();
        tokio::task::spawn_blocking(move || ask(&question).unwrap_or(false))
            .await
            .unwrap_or(false)
    }
}

fn ask(question: &HostKeyQuestion) -> std::io::Result<bool> {
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let host = if question.port == 22 {
        question.host.clone()
    } else {
        format!("[{}]:{}", question.host, question.port)
    };
    writeln!(
        tty,
        "The authenticity of host '{host}' ({}) can't be established.",
        question.endpoint
    )?;
    writeln!(
        tty,
        "{} key fingerprint is {}.",
        question.key_type, question.fingerprint
    )?;
    if !question.other_types.is_empty() {
        writeln!(
            tty,
            "This host is already known by other key types: {}.",
            question.other_types.join(", ")
        )?;
    }
    let mut reader = BufReader::new(tty.try_clone()?);
    loop {
        write!(
            tty,
            "Are you sure you want to continue connecting (yes/no)? "
        )?;
        tty.flush()?;
        let mut answer = String::new();
        if reader.read_line(&mut answer)? == 0 {
            return Ok(false);
        }
        match answer.trim().to_ascii_lowercase().as_str() {
            "yes" => return Ok(true),
            "no" | "" => return Ok(false),
            _ => writeln!(tty, "Please type 'yes' or 'no'.")?,
        }
    }
}
/// Asks a yes/no question on the terminal (for pinning a certificate); false without one.
pub fn confirm(question: &str) -> bool {
    let run = || -> std::io::Result<bool> {
        let mut tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")?;
        write!(tty, "{question} (yes/no)? ")?;
        tty.flush()?;
        let mut answer = String::new();
        BufReader::new(tty).read_line(&mut answer)?;
        Ok(answer.trim().eq_ignore_ascii_case("yes"))
    };
    TerminalPrompt::available() && run().unwrap_or(false)
}

/// Asks an engine question on the terminal; None without a terminal.
pub fn answer(question: &Question) -> Option<Answer> {
    if !TerminalPrompt::available() {
        return None;
    }
    match question {
        Question::HostKey(question) => Some(Answer::HostKey {
            decision: match ask(question).unwrap_or(false) {
                true => HostKeyDecision::Remember,
                false => HostKeyDecision::Reject,
            },
        }),
        Question::Certificate(question) => {
            let cert = &question.certificate;
            eprintln!(
                "The certificate of {} is not trusted: {}.",
                question.endpoint,
                shown(&question.problem)
            );
            eprintln!("  subject:     {}", shown(&cert.subject));
            eprintln!("  issuer:      {}", shown(&cert.issuer));
            eprintln!("  valid until: {}", cert.not_after);
            eprintln!("  SHA-256:     {}", cert.fingerprint());
            Some(Answer::Certificate {
                trust: confirm("Trust and pin this certificate"),
            })
        }
        Question::Exists(conflict) => ask_conflict(conflict)
            .ok()
            .map(|choice| Answer::Exists { choice }),
    }
}

/// Asks what to do with an existing destination.
fn ask_conflict(conflict: &Conflict) -> std::io::Result<ConflictChoice> {
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    writeln!(
        tty,
        "{} exists ({} bytes; the source has {}).",
        shown(&conflict.destination),
        conflict.existing_size,
        conflict.source_size
    )?;
    let mut reader = BufReader::new(tty.try_clone()?);
    loop {
        write!(
            tty,
            "[o]verwrite, [s]kip, [r]esume, re[n]ame, newer-[u]nly (capital: for the rest too)? "
        )?;
        tty.flush()?;
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let Some(c) = line.trim().chars().next() else {
            continue;
        };
        let policy = match c.to_ascii_lowercase() {
            'o' => OverwritePolicy::Overwrite,
            's' => OverwritePolicy::Skip,
            'r' => OverwritePolicy::Resume,
            'n' => OverwritePolicy::Rename,
            'u' => OverwritePolicy::NewerOnly,
            _ => continue,
        };
        return Ok(ConflictChoice {
            policy,
            apply_to_batch: c.is_ascii_uppercase(),
        });
    }
}
