//! The Profiles tab: the list on the left, the selected profile's facts on the right (address,
//! authentication, host-key policy, jump hosts, pinned certificate, the last test).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::format::{fit, pad, wrap};
use super::last_test;
use super::theme::Theme;
use crate::engine::api::ProfileSummary;
use crate::profile::Protocol;
use crate::text::shown;
use crate::tui::app::App;

/// A fact of the detail pane: its label and value; a `whole` value (a fingerprint) goes on
/// over the next lines instead of being cut.
pub(super) struct Row {
    pub label: String,
    pub value: String,
    pub whole: bool,
}

impl Row {
    pub fn cut(label: &str, value: impl Into<String>) -> Row {
        Row {
            label: label.to_string(),
            value: value.into(),
            whole: false,
        }
    }

    pub fn whole(label: &str, value: impl Into<String>) -> Row {
        Row {
            whole: true,
            ..Row::cut(label, value)
        }
    }
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let [list, detail] =
        Layout::horizontal([Constraint::Length(30), Constraint::Fill(1)]).areas(area);
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(" profiles ");
    let inner = block.inner(list);
    frame.render_widget(block, list);
    let width = usize::from(inner.width);
    if app.profiles.is_empty() {
        let lines = vec![
            Line::from(Span::styled(" no profiles yet", theme.dim())),
            Line::from(" a  add one"),
            Line::from(" i  import ~/.ssh/config"),
        ];
        frame.render_widget(Paragraph::new(lines), inner);
    } else {
        let height = usize::from(inner.height);
        let top = app
            .profiles_tab
            .cursor
            .saturating_sub(height.saturating_sub(1));
        let lines: Vec<Line> = app
            .profiles
            .iter()
            .enumerate()
            .skip(top)
            .take(height)
            .map(|(n, p)| {
                let text = format!(
                    " {} {:<5} {}@{}",
                    pad(&p.profile.name, 10),
                    p.profile.protocol.to_string(),
                    p.profile.user,
                    p.profile.host
                );
                let style = match n == app.profiles_tab.cursor {
                    true => theme.cursor(true),
                    false => ratatui::style::Style::default(),
                };
                Line::from(Span::styled(pad(&text, width), style))
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), inner);
    }
    let selected = app.profiles.get(app.profiles_tab.cursor);
    let title = selected
        .map(|p| format!(" {} ", p.profile.name))
        .unwrap_or_default();
    let block = Block::bordered()
        .border_style(theme.border(false))
        .title(title);
    let inner = block.inner(detail);
    frame.render_widget(block, detail);
    if let Some(summary) = selected {
        let width = usize::from(inner.width).saturating_sub(14);
        let mut rows = facts(summary);
        rows.extend(last_test::rows(app, &summary.profile.name));
        let lines = rows
            .into_iter()
            .flat_map(|row| row_lines(row, width, theme))
            .collect::<Vec<_>>();
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

/// A row as lines: the label, then the value cut to `width`, or all of it over several lines.
fn row_lines(row: Row, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let values = match row.whole {
        true => wrap(&row.value, width),
        false => vec![fit(&row.value, width)],
    };
    let mut label = Some(row.label);
    values
        .into_iter()
        .map(|value| {
            let label = label.take().unwrap_or_default();
            Line::from(vec![
                Span::styled(format!(" {label:<13}"), theme.title()),
                Span::raw(value),
            ])
        })
        .collect()
}

/// What the profile says of itself (the last test comes after).
fn facts(summary: &ProfileSummary) -> Vec<Row> {
    let p = &summary.profile;
    let mut auth = Vec::new();
    if summary.has_password {
        auth.push("password (stored)".to_string());
    }
    if let Some(key) = &p.key_file {
        auth.push(format!("key {}", key.display()));
    }
    if p.agent {
        auth.push("ssh-agent".into());
    }
    if auth.is_empty() {
        auth.push("none stored".into());
    }
    let mut rows = vec![
        Row::cut("address", p.url()),
        Row::cut("auth", auth.join(", ")),
        Row::cut("connections", p.max_connections.to_string()),
        Row::cut(
            "timeout",
            p.timeout_secs
                .map(|t| format!("{t} s"))
                .unwrap_or_else(|| "the config's connection.timeout".into()),
        ),
    ];
    match p.protocol {
        Protocol::Sftp => {
            rows.push(Row::cut(
                "host key",
                format!("unknown keys: {}", p.host_key_policy),
            ));
            let chain = match p.jump.is_empty() {
                true => "—".to_string(),
                false => shown(&p.jump.join(" → ")).into_owned(),
            };
            rows.push(Row::cut("jump", chain));
        }
        Protocol::Ftp => rows.push(Row::cut(
            "security",
            "none: passwords and files travel in clear",
        )),
        Protocol::Ftps | Protocol::FtpsImplicit => rows.push(Row::cut(
            "certificate",
            match &p.cert_pin {
                Some(pin) => format!("pinned {}", crate::remote::ftp::colon_hex(pin)),
                None => "verified against the system's roots".into(),
            },
        )),
    }
    if let Some(charset) = &p.charset {
        rows.push(Row::cut(
            "names",
            format!("in {charset}, converted both ways"),
        ));
    }
    if p.no_exec {
        rows.push(Row::cut(
            "exec",
            "never (checksums by check-file or read-back)",
        ));
    }
    if let Some(dir) = &p.local_dir {
        rows.push(Row::cut("local dir", dir.display().to_string()));
    }
    rows
}
