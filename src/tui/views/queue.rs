//! The Queue tab: overall progress and ETA (never past 100 %), the throughput sparkline and
//! the limit, then one row per transfer: state, direction, where, a gauge, rate and ETA, the
//! error of a failed one and the check of a finished one.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline};

use super::format::{bar, duration, fit, pad, percent, short_size};
use super::theme::Theme;
use crate::engine::api::TransferView;
use crate::text::shown;
use crate::transfer::copy::Verification;
use crate::transfer::model::{Direction, Transfer, TransferState};
use crate::tui::app::App;
use crate::tui::queue_tab::QueueRow;
use crate::units::human_bytes;

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let [overall, rate, table] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(area);
    overall_line(frame, overall, app, theme);
    rate_line(frame, rate, app, theme);
    rows(frame, table, app, theme);
}

fn overall_line(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let s = &app.snapshot;
    if s.total == 0 {
        frame.render_widget(Line::from(" overall  nothing queued or running"), area);
        return;
    }
    let (done, total) = (s.done_bytes, s.total_bytes);
    let eta = match s.rate {
        0 => String::new(),
        rate => format!("  ETA {}", duration(total.saturating_sub(done) / rate)),
    };
    let line = Line::from(vec![
        Span::raw(" overall "),
        Span::styled(bar(done, total, 24), theme.gauge()),
        Span::raw(format!(
            " {:>3}%  {} of {}  {}/s{eta}",
            percent(done, total),
            human_bytes(done),
            human_bytes(total),
            human_bytes(s.rate)
        )),
    ]);
    frame.render_widget(line, area);
}

fn rate_line(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let limit = match app.snapshot.limit {
        0 => "limit: none".to_string(),
        rate => format!("limit: {}/s", human_bytes(rate)),
    };
    let key = app
        .keymap
        .first_key(crate::tui::keymap::Action::Limit)
        .map(|k| format!(" ({k} to set)"))
        .unwrap_or_default();
    let label = format!("{limit}{key} ");
    let [name, spark, right] = Layout::horizontal([
        Constraint::Length(7),
        Constraint::Fill(1),
        Constraint::Length(label.len() as u16 + 1),
    ])
    .areas(area);
    frame.render_widget(Line::from(" rate"), name);
    let samples: Vec<u64> = app.queue.rates.iter().copied().collect();
    let width = usize::from(spark.width);
    let shown_samples = &samples[samples.len().saturating_sub(width)..];
    frame.render_widget(
        Sparkline::default()
            .data(shown_samples)
            .style(theme.gauge()),
        spark,
    );
    frame.render_widget(Line::from(label), right);
}

fn rows(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let s = &app.snapshot;
    let finished = app.queue.finished.len();
    let failed = app
        .queue
        .finished
        .iter()
        .filter(|t| t.state == TransferState::Failed)
        .count();
    let counts = format!(
        " {} running · {} queued · {} paused · {} failed · {} done ",
        s.running,
        s.queued,
        s.paused,
        failed,
        finished - failed
    );
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(Line::from(" state    transfer"))
        .title_bottom(Line::from(counts));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let height = usize::from(inner.height);
    if app.queue.is_empty() {
        let empty = Line::from(Span::styled(
            " nothing queued: copy files with F5 in the Explorer (2)",
            theme.dim(),
        ));
        frame.render_widget(empty, inner);
        return;
    }
    let lines: Vec<Line> = (app.queue.top..app.queue.len().min(app.queue.top + height))
        .filter_map(|index| {
            let text = match app.queue.row(index)? {
                QueueRow::Live(view) => live_row(view, width),
                QueueRow::Finished(transfer) => finished_row(transfer, width),
                QueueRow::Loading => " …".to_string(),
            };
            let style = match index == app.queue.cursor {
                true => theme.cursor(true),
                false => ratatui::style::Style::default(),
            };
            Some(Line::from(Span::styled(pad(&text, width), style)))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn arrow(direction: Direction) -> &'static str {
    match direction {
        Direction::Upload => "↑",
        Direction::Download => "↓",
        Direction::Relay => "⇄",
    }
}

/// `web:/srv/x.bin` for the server side of a transfer (a relay names both).
fn place(
    direction: Direction,
    profile: &str,
    peer: Option<&str>,
    source: &str,
    dest: &str,
) -> String {
    match direction {
        Direction::Upload => format!("{profile}:{}", shown(dest)),
        Direction::Download => format!("{profile}:{}", shown(source)),
        Direction::Relay => format!(
            "{profile}:{} → {}:{}",
            shown(source),
            peer.unwrap_or("?"),
            shown(dest)
        ),
    }
}

fn state_word(state: TransferState, attempts: u32) -> &'static str {
    match state {
        TransferState::Running => "run",
        TransferState::Queued if attempts > 0 => "retry",
        TransferState::Queued => "wait",
        TransferState::Paused => "paused",
        TransferState::Interrupted => "stopped",
        TransferState::Done => "done",
        TransferState::Skipped => "skip",
        TransferState::Failed => "fail",
        TransferState::Cancelled => "cancel",
    }
}

fn live_row(view: &TransferView, width: usize) -> String {
    let head = format!(
        " {:<6} {} ",
        state_word(view.state, view.attempts),
        arrow(view.direction)
    );
    let tail = match (&view.error, view.state) {
        (Some(error), TransferState::Queued) => format!(" {}", shown(error)),
        _ => {
            let rate = match view.rate {
                0 => String::new(),
                r => format!("{}/s", short_size(r)),
            };
            let eta = view.eta_secs.map(duration).unwrap_or_default();
            format!(
                " {} {:>3}% {:>5} {:>7} {:>6}",
                bar(view.done, view.total, 11),
                percent(view.done, view.total),
                short_size(view.total),
                rate,
                eta
            )
        }
    };
    let room = width.saturating_sub(head.chars().count() + tail.chars().count());
    let what = place(
        view.direction,
        &view.profile,
        view.peer.as_deref(),
        &view.source,
        &view.destination,
    );
    format!("{head}{}{tail}", pad(&what, room))
}

fn finished_row(transfer: &Transfer, width: usize) -> String {
    let head = format!(
        " {:<6} {} ",
        state_word(transfer.state, transfer.attempts),
        arrow(transfer.direction)
    );
    let tail = match (&transfer.error, &transfer.verification) {
        (Some(error), _) => format!(" {}", shown(&error.to_string())),
        (None, Some(Verification::SizeOnly)) => " size ✓".to_string(),
        (None, Some(_)) => " sha256 ✓".to_string(),
        (None, None) => String::new(),
    };
    let what = place(
        transfer.direction,
        &transfer.profile,
        transfer.peer.as_deref(),
        transfer.source(),
        transfer.destination(),
    );
    let room = width.saturating_sub(head.chars().count());
    let tail_room = room.saturating_sub(what.chars().count().min(room / 2) + 1);
    let tail = fit(&tail, tail_room);
    let what_room = room.saturating_sub(tail.chars().count());
    format!("{head}{}{tail}", pad(&what, what_room))
}
