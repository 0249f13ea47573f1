//! The terminal: raw mode, the alternate screen, bracketed paste and (optionally) the mouse on
//! the way in; all of it undone on the way out, on error, on panic and around Ctrl-Z and the
//! editor. Undoing never fails loudly: the tty may already be gone.

use std::io::{self, Stdout, Write};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Takes the terminal over.
pub fn enter(mouse: bool) -> io::Result<Term> {
    enable_raw_mode()?;
    let mut out = io::stdout();
    // Cleared by hand: ratatui's clear asks the terminal where its cursor is, and not every
    // terminal (or multiplexer) answers.
    execute!(
        out,
        EnterAlternateScreen,
        EnableBracketedPaste,
        Clear(ClearType::All)
    )?;
    if mouse {
        execute!(out, EnableMouseCapture)?;
    }
    let mut term = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    term.hide_cursor()?;
    Ok(term)
}

/// Gives the terminal back as it was; errors are ignored (the tty may be gone).
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = out.flush();
    let _ = disable_raw_mode();
}

/// Restores the terminal before a panic's message is printed, so the message is readable and
/// the shell usable.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// Ctrl-Z: gives the terminal back, stops the process, and takes the terminal again when the
/// shell continues it.
pub fn suspend(term: &mut Term, mouse: bool) -> io::Result<()> {
    restore();
    // SAFETY: raising SIGTSTP on ourselves only stops this process until SIGCONT.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
    resume(term, mouse)
}

/// Takes the terminal again after stepping aside; the next frame is drawn whole.
pub fn resume(term: &mut Term, mouse: bool) -> io::Result<()> {
    *term = enter(mouse)?;
    Ok(())
}

/// Runs `$VISUAL`/`$EDITOR` (or vi) on `path` with the terminal handed over; true when the
/// file changed.
pub fn edit(term: &mut Term, mouse: bool, path: &str) -> io::Result<bool> {
    let before = fingerprint(path);
    restore();
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    let mut words = editor.split_whitespace();
    let program = words.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(words)
        .arg(path)
        .status();
    resume(term, mouse)?;
    status?;
    Ok(fingerprint(path) != before)
}

/// Size, time and SHA-256 of a file (None when it cannot be read).
fn fingerprint(path: &str) -> Option<(u64, std::time::SystemTime, Vec<u8>)> {
    use sha2::{Digest, Sha256};
    let meta = std::fs::metadata(path).ok()?;
    let bytes = std::fs::read(path).ok()?;
    Some((
        meta.len(),
        meta.modified().ok()?,
        Sha256::digest(&bytes).to_vec(),
    ))
}
