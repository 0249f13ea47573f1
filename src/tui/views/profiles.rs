//! The Profiles tab: the list on the left, the selected profile's facts on the right (address,
//! authentication, host-key policy, pinned certificate, the last test).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::format::{fit, pad};
use super::theme::Theme;
use crate::engine::api::ProfileSummary;
use crate::profile::Protocol;
use crate::text::shown;
use crate::tui::app::App;
use crate::units::human_bytes;

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
        let width = usize::from(inner.width);
        let lines = facts(summary, app)
            .into_iter()
            .map(|(label, value)| {
                Line::from(vec![
                    Span::styled(format!(" {label:<13}"), theme.title()),
                    Span::raw(fit(&value, width.saturating_sub(14))),
                ])
            })
            .collect::<Vec<_>>();
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

fn facts(summary: &ProfileSummary, app: &App) -> Vec<(&'static str, String)> {
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
        ("address", p.url()),
        ("auth", auth.join(", ")),
        ("connections", p.max_connections.to_string()),
        (
            "timeout",
            p.timeout_secs
                .map(|t| format!("{t} s"))
                .unwrap_or_else(|| "the config's connection.timeout".into()),
        ),
    ];
    match p.protocol {
        Protocol::Sftp => rows.push(("host key", format!("unknown keys: {}", p.host_key_policy))),
        Protocol::Ftp => rows.push((
            "security",
            "none: passwords and files travel in clear".into(),
        )),
        Protocol::Ftps | Protocol::FtpsImplicit => rows.push((
            "certificate",
            match &p.cert_pin {
                Some(pin) => format!("pinned {}", crate::remote::ftp::colon_hex(pin)),
                None => "verified against the system's roots".into(),
            },
        )),
    }
    if let Some(charset) = &p.charset {
        rows.push(("names", format!("in {charset}, converted both ways")));
    }
    if p.no_exec {
        rows.push((
            "exec",
            "never (checksums by check-file or read-back)".into(),
        ));
    }
    if let Some(dir) = &p.local_dir {
        rows.push(("local dir", dir.display().to_string()));
    }
    let test = match (
        app.profiles_tab.testing.contains(&p.name),
        app.profiles_tab.reports.get(&p.name),
    ) {
        (true, _) => Some("testing…".to_string()),
        (false, Some(report)) => Some(match &report.error {
            Some(error) => format!("failed: {}", shown(&error.message)),
            None => format!(
                "{:.2} s, {}{}",
                report.connect_ms.unwrap_or(0) as f64 / 1000.0,
                shown(report.banner.as_deref().unwrap_or("connected")),
                report
                    .free_bytes
                    .map(|b| format!(", {} free", human_bytes(b)))
                    .unwrap_or_default()
            ),
        }),
        (false, None) => None,
    };
    rows.push(("last test", test.unwrap_or_else(|| "— (t to test)".into())));
    if let Some(report) = app.profiles_tab.reports.get(&p.name) {
        if let Some(key) = &report.host_key {
            rows.push(("server key", key.clone()));
        }
        if let Some(auth) = &report.auth_method {
            rows.push(("logged in by", auth.clone()));
        }
        if let Some(home) = &report.home {
            rows.push(("home", shown(home).into_owned()));
        }
    }
    rows
}
