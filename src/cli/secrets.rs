//! Reading secrets from people and scripts: no-echo prompts, the first line of stdin or of a file.
//! Secrets go straight into `SecretString`s and are never echoed or logged.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use anyhow::{Context as _, bail};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Asks once without echo.
pub fn prompt(label: &str) -> anyhow::Result<SecretString> {
    let text =
        Zeroizing::new(rpassword::prompt_password(label).context("reading from the terminal")?);
    Ok(SecretString::from(text.as_str().to_owned()))
}

/// Asks twice without echo and insists both match and are not empty.
pub fn prompt_new(label: &str) -> anyhow::Result<SecretString> {
    if !stdin_is_terminal() {
        bail!(
            "no terminal to ask for the {label}; use the non-interactive option or environment variable instead"
        );
    }
    let first = prompt(&format!("New {label}: "))?;
    if first.expose_secret().is_empty() {
        bail!("the {label} must not be empty");
    }
    let second = prompt(&format!("Repeat the {label}: "))?;
    if first.expose_secret() != second.expose_secret() {
        bail!("the two entries do not match; nothing was changed");
    }
    Ok(first)
}

/// The first line of stdin (for `--password-stdin`), without its line ending.
pub fn first_line_of_stdin() -> anyhow::Result<SecretString> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading stdin")?;
    non_empty(trim_newline(&line), "stdin")
}

/// The first line of a file (for `FERRY_PASSPHRASE_FILE`).
pub fn first_line_of(path: &Path) -> anyhow::Result<SecretString> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
    );
    non_empty(
        trim_newline(text.lines().next().unwrap_or("")),
        &path.display().to_string(),
    )
}

fn trim_newline(text: &str) -> &str {
    text.trim_end_matches(['\n', '\r'])
}

fn non_empty(text: &str, source: &str) -> anyhow::Result<SecretString> {
    if text.is_empty() {
        bail!("the secret read from {source} is empty");
    }
    Ok(SecretString::from(text.to_owned()))
}
