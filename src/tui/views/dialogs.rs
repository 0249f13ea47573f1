//! Dialogs drawn over the screen: vault set-up and unlock, the profile picker, confirmations,
//! questions (host key, certificate, existing destination), a changed key's refusal (no
//! accept), the viewer, info, help (generated from the keymap), quit, and the profile form.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui_textarea::TextArea;

use super::format::{fit, pad};
use super::theme::Theme;
use crate::engine::api::{Question, Refusal};
use crate::text::shown;
use crate::tui::app::App;
use crate::tui::layers::form::{FIELDS, Field, ProfileForm};
use crate::tui::layers::input::text_of;
use crate::tui::layers::{Confirm, Layer, QuestionLayer};
use crate::units::human_bytes;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// A box of `width` × `height` in the middle of `area` (shrunk to fit).
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width.saturating_sub(2));
    let height = height.min(area.height.saturating_sub(2));
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// Clears a box, draws its border and title, and returns the inside.
fn frame_box(frame: &mut Frame, rect: Rect, title: &str, theme: &Theme) -> Rect {
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(Span::styled(format!(" {title} "), theme.title()));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}

/// A text box sized to its lines.
fn text_box(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line<'static>>, theme: &Theme) {
    let width = lines
        .iter()
        .map(|l| l.width() as u16)
        .max()
        .unwrap_or(20)
        .max(title.len() as u16 + 4)
        + 4;
    let rect = centered(area, width.min(76), lines.len() as u16 + 2);
    let inner = frame_box(frame, rect, title, theme);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// A field: the live text area where the cursor is, plain (masked) text elsewhere.
fn field(frame: &mut Frame, rect: Rect, area: &TextArea<'_>, focused: bool, secret: bool) {
    if focused {
        frame.render_widget(area, rect);
        return;
    }
    let text = text_of(area);
    let shown_text = match secret {
        true => "•".repeat(text.chars().count()),
        false => text,
    };
    frame.render_widget(Line::from(shown_text), rect);
}

pub fn render(frame: &mut Frame, area: Rect, layer: &Layer, app: &App, theme: &Theme) {
    match layer {
        Layer::CreateVault(setup) => {
            let rect = centered(area, 68, 13);
            let inner = frame_box(frame, rect, "Set up the vault", theme);
            let mut lines = vec![
                Line::from("Stored passwords are encrypted with a key from a passphrase"),
                Line::from("(Argon2id), or from a key file for unattended use."),
                Line::from(""),
                Line::from("passphrase"),
                Line::from("again"),
                Line::from("or key file"),
                Line::from(""),
            ];
            if let Some(error) = &setup.error {
                lines.push(Line::from(Span::styled(error.clone(), theme.error())));
            } else if setup.busy {
                lines.push(Line::from("setting up…"));
            } else {
                lines.push(Line::from(""));
            }
            lines.push(Line::from(
                "[Enter] set up   [Tab] next field   [Ctrl-C] quit",
            ));
            frame.render_widget(Paragraph::new(lines), inner);
            for (n, area) in setup.fields.iter().enumerate() {
                let row = Rect {
                    x: inner.x + 13,
                    y: inner.y + 3 + n as u16,
                    width: inner.width.saturating_sub(13),
                    height: 1,
                };
                field(frame, row, area, setup.focus == n, n < 2);
            }
        }
        Layer::Unlock(unlock) => {
            let rect = centered(area, 60, 7);
            let inner = frame_box(frame, rect, "Unlock the vault", theme);
            let status = match (&unlock.error, unlock.busy) {
                (Some(error), _) => Line::from(Span::styled(error.clone(), theme.error())),
                (None, true) => Line::from("unlocking…"),
                (None, false) => Line::from(""),
            };
            let lines = vec![
                Line::from("passphrase"),
                status,
                Line::from(""),
                Line::from("[Enter] unlock   [Ctrl-C] quit"),
            ];
            frame.render_widget(Paragraph::new(lines), inner);
            let row = Rect {
                x: inner.x + 12,
                width: inner.width.saturating_sub(12),
                height: 1,
                ..inner
            };
            field(frame, row, &unlock.field, true, true);
        }
        Layer::Picker(picker) => {
            let shown_rows = picker.shown();
            let rect = centered(area, 60, (shown_rows.len() as u16 + 5).clamp(7, 18));
            let inner = frame_box(frame, rect, "Open a profile", theme);
            let filter_row = Rect { height: 1, ..inner };
            frame.render_widget(Line::from("filter"), filter_row);
            let input = Rect {
                x: inner.x + 7,
                width: inner.width.saturating_sub(7),
                ..filter_row
            };
            field(frame, input, &picker.filter, true, false);
            let width = usize::from(inner.width);
            let list_height = usize::from(inner.height.saturating_sub(3));
            let top = picker.cursor.saturating_sub(list_height.saturating_sub(1));
            let mut lines: Vec<Line> = shown_rows
                .iter()
                .enumerate()
                .skip(top)
                .take(list_height)
                .map(|(n, (name, url))| {
                    let text = pad(&format!(" {} {url}", pad(name, 12)), width);
                    match n == picker.cursor {
                        true => Line::from(Span::styled(text, theme.cursor(true))),
                        false => Line::from(text),
                    }
                })
                .collect();
            if lines.is_empty() {
                lines.push(Line::from(Span::styled(" no profile matches", theme.dim())));
            }
            let list = Rect {
                y: inner.y + 1,
                height: inner.height.saturating_sub(2),
                ..inner
            };
            frame.render_widget(Paragraph::new(lines), list);
            let hint = Rect {
                y: inner.y + inner.height.saturating_sub(1),
                height: 1,
                ..inner
            };
            frame.render_widget(Line::from("[Enter] connect   [Esc] close"), hint);
        }
        Layer::Connecting { label, .. } => {
            let spin = SPINNER[app.spinner % SPINNER.len()];
            let lines = vec![
                Line::from(format!("{spin} {label}…")),
                Line::from(""),
                Line::from("[Esc] cancel"),
            ];
            text_box(frame, area, "Connecting", lines, theme);
        }
        Layer::Confirm(confirm) => confirm_box(frame, area, confirm, theme),
        Layer::Question(question) => question_box(frame, area, question, theme),
        Layer::Refusal(refusal) => refusal_box(frame, area, refusal, theme),
        Layer::Viewer(viewer) => {
            let rect = Rect {
                x: area.x + 1,
                y: area.y + 1,
                width: area.width.saturating_sub(2),
                height: area.height.saturating_sub(2),
            };
            frame.render_widget(Clear, rect);
            let block = Block::bordered()
                .border_style(theme.border(true))
                .title(Span::styled(
                    format!(" {} ", fit(&viewer.title, 60)),
                    theme.title(),
                ))
                .title_bottom(Line::from(format!(
                    " {}   ↑↓ PgUp PgDn scroll   [q] close ",
                    viewer.note
                )));
            let inner = block.inner(rect);
            frame.render_widget(block, rect);
            let lines: Vec<Line> = viewer
                .lines
                .iter()
                .skip(viewer.scroll)
                .take(usize::from(inner.height))
                .map(|l| Line::from(fit(l, usize::from(inner.width))))
                .collect();
            frame.render_widget(Paragraph::new(lines), inner);
        }
        Layer::Info { title, rows } => {
            let mut lines: Vec<Line> = rows
                .iter()
                .map(|(label, value)| {
                    Line::from(vec![
                        Span::styled(format!("{label:<10} "), theme.title()),
                        Span::raw(fit(value, 58)),
                    ])
                })
                .collect();
            lines.push(Line::from(""));
            lines.push(Line::from("[Esc] close"));
            text_box(frame, area, title, lines, theme);
        }
        Layer::Help { scroll } => help_box(frame, area, *scroll, app, theme),
        Layer::Quit { running } => {
            let lines = vec![
                Line::from(format!("{running} transfer(s) running or queued.")),
                Line::from(""),
                Line::from("[s] stop them: they resume the next time ferry starts"),
                Line::from("[c] cancel them (their partial files are removed)"),
                Line::from("[Esc] stay"),
            ];
            text_box(frame, area, "Quit ferry?", lines, theme);
        }
        Layer::Form(form) => form_box(frame, area, form, theme),
        Layer::Message { title, text } => {
            let lines = vec![
                Line::from(text.clone()),
                Line::from(""),
                Line::from("[Esc] close"),
            ];
            text_box(frame, area, title, lines, theme);
        }
    }
}

fn confirm_box(frame: &mut Frame, area: Rect, confirm: &Confirm, theme: &Theme) {
    let extra = if confirm.field.is_some() { 1 } else { 0 };
    let height = confirm.lines.len() as u16 + extra + 4;
    let rect = centered(area, 72, height);
    let inner = frame_box(frame, rect, &confirm.title, theme);
    let width = usize::from(inner.width);
    let mut lines: Vec<Line> = confirm
        .lines
        .iter()
        .map(|l| Line::from(fit(l, width)))
        .collect();
    if confirm.field.is_some() {
        lines.push(Line::from(""));
    }
    lines.push(match &confirm.error {
        Some(error) => Line::from(Span::styled(error.clone(), theme.error())),
        None => Line::from(""),
    });
    lines.push(Line::from(match confirm.field {
        Some(_) => "[Enter] go   [Esc] cancel",
        None => "[y] yes   [Esc] no",
    }));
    frame.render_widget(Paragraph::new(lines), inner);
    if let Some((label, area)) = &confirm.field {
        let y = inner.y + confirm.lines.len() as u16;
        let label_width = label.len() as u16 + 1;
        frame.render_widget(
            Line::from(Span::styled(label.clone(), theme.title())),
            Rect {
                y,
                height: 1,
                ..inner
            },
        );
        let row = Rect {
            x: inner.x + label_width,
            y,
            width: inner.width.saturating_sub(label_width),
            height: 1,
        };
        field(frame, row, area, true, false);
    }
}

fn question_box(frame: &mut Frame, area: Rect, layer: &QuestionLayer, theme: &Theme) {
    let (title, lines) = match &layer.question {
        Question::HostKey(q) => (
            "Unknown host key",
            vec![
                Line::from(format!(
                    "{} is not in any known_hosts file.",
                    shown(&q.endpoint.to_string())
                )),
                Line::from(""),
                Line::from(Span::styled(
                    format!("  {}  {}", q.key_type, q.fingerprint),
                    theme.title(),
                )),
                Line::from(""),
                Line::from("Compare it with the fingerprint the server's owner gives you"),
                Line::from("(ssh-keygen -lf /etc/ssh/ssh_host_*.pub)."),
                Line::from(""),
                Line::from("[a] accept and remember   [o] once   [Esc] reject"),
            ],
        ),
        Question::Certificate(q) => (
            "Untrusted certificate",
            vec![
                Line::from(format!(
                    "{}: {}",
                    shown(&q.endpoint.to_string()),
                    shown(&q.problem)
                )),
                Line::from(""),
                Line::from(format!("subject  {}", shown(&q.certificate.subject))),
                Line::from(format!("issuer   {}", shown(&q.certificate.issuer))),
                Line::from(format!("expires  {}", q.certificate.not_after)),
                Line::from(Span::styled(
                    format!("SHA-256  {}", q.certificate.fingerprint()),
                    theme.title(),
                )),
                Line::from(""),
                Line::from("[t] trust and pin it   [Esc] reject"),
            ],
        ),
        Question::Exists(c) => (
            "Destination exists",
            vec![
                Line::from(format!("{} exists.", shown(&c.destination))),
                Line::from(format!(
                    "  there: {:>10}  {}",
                    human_bytes(c.existing_size),
                    time(c.existing_mtime)
                )),
                Line::from(format!(
                    "  new:   {:>10}  {}",
                    human_bytes(c.source_size),
                    time(c.source_mtime)
                )),
                Line::from(""),
                Line::from("[o] overwrite  [s] skip  [r] resume  [n] rename  [u] if newer"),
                Line::from(format!(
                    "[a] [{}] do the same for the rest of this copy",
                    if layer.apply_to_batch { "x" } else { " " }
                )),
            ],
        ),
    };
    text_box(frame, area, title, lines, theme);
}

fn time(t: Option<i64>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

fn refusal_box(frame: &mut Frame, area: Rect, refusal: &Refusal, theme: &Theme) {
    let Refusal::HostKeyChanged(r) = refusal;
    let host = match r.port {
        22 => r.host.clone(),
        port => format!("[{}]:{port}", r.host),
    };
    let lines = vec![
        Line::from(Span::styled(
            "The server's host key is not the one on record.",
            theme.error(),
        )),
        Line::from("Someone may be intercepting the connection; ferry refused it."),
        Line::from(""),
        Line::from(format!("server   {}", shown(&r.endpoint.to_string()))),
        Line::from(format!("offered  {} {}", r.key_type, r.presented)),
        Line::from(format!("recorded {} {}", r.recorded_type, r.recorded)),
        Line::from(format!("in       {}:{}", shown(&r.file), r.line)),
        Line::from(""),
        Line::from("If the server was really re-keyed, remove that line:"),
        Line::from(format!("  ssh-keygen -R '{host}' -f {}", shown(&r.file))),
        Line::from(""),
        Line::from("[Esc] close"),
    ];
    text_box(frame, area, "HOST KEY CHANGED", lines, theme);
}

fn help_box(frame: &mut Frame, area: Rect, scroll: usize, app: &App, theme: &Theme) {
    let mut lines: Vec<Line> = Vec::new();
    // The keys of the tab in view first, then those that work everywhere, then the rest.
    let mut sections = app.keymap.help();
    let here = app.tab_context();
    sections.sort_by_key(|(context, _)| match context {
        c if *c == here => 0,
        crate::tui::keymap::Context::Global => 1,
        _ => 2,
    });
    for (context, rows) in sections {
        lines.push(Line::from(Span::styled(
            context.title().to_string(),
            theme.title(),
        )));
        for (keys, what) in rows {
            lines.push(Line::from(format!("  {} {what}", pad(&keys, 22))));
        }
        lines.push(Line::from(""));
    }
    lines.push(Line::from(
        "Esc then a digit works as that F-key (Esc 5 = F5).",
    ));
    let rect = Rect {
        x: area.x + 2,
        y: area.y + 1,
        width: area.width.saturating_sub(4),
        height: area.height.saturating_sub(2),
    };
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(Span::styled(" Keys ", theme.title()))
        .title_bottom(Line::from(
            " ↑↓ scroll   [Esc] close   keys can be changed under [keys] in config.toml ",
        ));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let height = usize::from(inner.height);
    let scroll = scroll.min(lines.len().saturating_sub(height));
    let visible: Vec<Line> = lines.into_iter().skip(scroll).take(height).collect();
    frame.render_widget(Paragraph::new(visible), inner);
}

fn form_box(frame: &mut Frame, area: Rect, form: &ProfileForm, theme: &Theme) {
    let title = match &form.original {
        Some(p) => format!("Edit profile {}", p.profile.name),
        None => "Add a profile".to_string(),
    };
    let visible: Vec<usize> = (0..FIELDS.len())
        .filter(|&i| form.applies(FIELDS[i]))
        .collect();
    // The status line right under the fields: with every field shown the box fills 80×24.
    let rect = centered(area, 74, visible.len() as u16 + 4);
    let inner = frame_box(frame, rect, &title, theme);
    let label_width = 17u16;
    for (row, &index) in visible.iter().enumerate() {
        let kind = FIELDS[index];
        let y = inner.y + row as u16;
        let focused = form.focus == index;
        let label_style = if focused {
            theme.cursor(true)
        } else {
            theme.title()
        };
        frame.render_widget(
            Line::from(Span::styled(format!("{:>16} ", kind.label()), label_style)),
            Rect {
                x: inner.x,
                y,
                width: label_width,
                height: 1,
            },
        );
        let problem = form.problem(kind);
        let problem_width = problem.as_ref().map_or(0, |p| p.len() as u16 + 1);
        let value = Rect {
            x: inner.x + label_width,
            y,
            width: inner.width.saturating_sub(label_width + problem_width),
            height: 1,
        };
        match kind {
            Field::Protocol => choice(frame, value, &form.protocol().to_string(), focused, theme),
            Field::HostKeyPolicy => {
                choice(frame, value, &form.policy().to_string(), focused, theme)
            }
            Field::Agent => choice(
                frame,
                value,
                if form.agent { "use" } else { "no" },
                focused,
                theme,
            ),
            Field::Exec => choice(
                frame,
                value,
                if form.no_exec { "never" } else { "allowed" },
                focused,
                theme,
            ),
            _ => field(
                frame,
                value,
                &form.texts[index],
                focused,
                matches!(kind, Field::Password | Field::KeyPassphrase),
            ),
        }
        if let Some(problem) = problem {
            frame.render_widget(
                Line::from(Span::styled(problem, theme.error())),
                Rect {
                    x: value.x + value.width + 1,
                    y,
                    width: problem_width,
                    height: 1,
                },
            );
        }
    }
    let y = inner.y + visible.len() as u16;
    let status = match (&form.error, form.busy) {
        (Some(error), _) => Line::from(Span::styled(
            fit(error, usize::from(inner.width)),
            theme.error(),
        )),
        (None, true) => Line::from("saving…"),
        (None, false) => Line::from(""),
    };
    frame.render_widget(
        status,
        Rect {
            y,
            height: 1,
            ..inner
        },
    );
    frame.render_widget(
        Line::from("[Enter] save   [Tab] next   [Space] change choice   [Esc] cancel"),
        Rect {
            y: y + 1,
            height: 1,
            ..inner
        },
    );
}

fn choice(frame: &mut Frame, rect: Rect, value: &str, focused: bool, theme: &Theme) {
    let text = format!("◂ {value} ▸");
    let style = if focused {
        theme.cursor(true)
    } else {
        ratatui::style::Style::default()
    };
    frame.render_widget(Line::from(Span::styled(text, style)), rect);
}
