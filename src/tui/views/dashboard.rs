//! The Dashboard (first version): today's totals, what runs now, and the recent failures.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::format::{bar, fit, pad, percent};
use super::theme::Theme;
use crate::text::shown;
use crate::transfer::model::TransferState;
use crate::tui::app::App;
use crate::units::human_bytes;

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let [totals, running, failures] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Fill(1),
        Constraint::Fill(1),
    ])
    .areas(area);
    let now = app.clock.now();
    let midnight = app
        .clock
        .local(now)
        .map(|t| now - i64::from(chrono::Timelike::num_seconds_from_midnight(&t)))
        .unwrap_or(now);
    let today = app.dashboard.today(midnight);
    let s = &app.snapshot;
    let line = Line::from(vec![
        Span::styled(" today ", theme.title()),
        Span::raw(format!(
            "  {} files  {}  ",
            today.files,
            human_bytes(today.bytes)
        )),
        Span::styled(
            format!("{} failed", today.failed),
            match today.failed {
                0 => ratatui::style::Style::default(),
                _ => theme.error(),
            },
        ),
        Span::styled("      now ", theme.title()),
        Span::raw(format!(
            "  {} running  {} queued  {}/s",
            s.running,
            s.queued,
            human_bytes(s.rate)
        )),
    ]);
    frame.render_widget(Paragraph::new(vec![Line::from(""), line]), totals);

    let block = Block::bordered()
        .border_style(theme.border(false))
        .title(" running ");
    let inner = block.inner(running);
    frame.render_widget(block, running);
    let width = usize::from(inner.width);
    let mut lines: Vec<Line> = s
        .transfers
        .iter()
        .filter(|t| t.state == TransferState::Running)
        .take(usize::from(inner.height))
        .map(|t| {
            let gauge = format!(
                " {} {:>3}% ",
                bar(t.done, t.total, 10),
                percent(t.done, t.total)
            );
            let name = shown(crate::remote::names::base_name(&t.destination)).into_owned();
            let what = format!(" {}: {}", t.profile, name);
            let room = width.saturating_sub(gauge.chars().count());
            Line::from(format!("{}{gauge}", pad(&what, room)))
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(" nothing running", theme.dim())));
    }
    frame.render_widget(Paragraph::new(lines), inner);

    let block = Block::bordered()
        .border_style(theme.border(false))
        .title(" recent failures ");
    let inner = block.inner(failures);
    frame.render_widget(block, failures);
    let width = usize::from(inner.width);
    let mut lines: Vec<Line> = app
        .dashboard
        .failures(usize::from(inner.height))
        .into_iter()
        .map(|t| {
            let when = t
                .finished_us
                .and_then(|us| app.clock.local((us / 1_000_000) as i64))
                .map(|t| t.format("%H:%M").to_string())
                .unwrap_or_default();
            let error = t
                .error
                .as_ref()
                .map(|e| e.kind.describe().to_string())
                .unwrap_or_default();
            let text = format!(
                " {when}  {}  {}  {error}",
                pad(&t.profile, 8),
                pad(&shown(crate::remote::names::base_name(t.source())), 24)
            );
            Line::from(fit(&text, width))
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(" no failures", theme.dim())));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
