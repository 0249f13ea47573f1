//! The explorer: the session bar, then two panes side by side, each with its path, its rows
//! (only those on screen), a spinner while it loads and a footer with marks or the entry.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::format::{fit, fit_end, pad, short_date, short_size, short_time};
use super::theme::Theme;
use crate::engine::api::Place;
use crate::remote::EntryKind;
use crate::text::shown;
use crate::tui::app::App;
use crate::tui::app::outbox::Side;
use crate::tui::explorer::{Pane, Row};

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let [sessions, panes] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    session_bar(frame, sessions, app, theme);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(panes);
    let session = app.explorer.session();
    for (side, rect) in [(Side::Left, left), (Side::Right, right)] {
        pane(
            frame,
            rect,
            app,
            session.pane(side),
            session.focus == side,
            theme,
        );
    }
}

fn session_bar(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut spans = vec![Span::raw(" ")];
    for (n, session) in app.explorer.sessions.iter().enumerate() {
        let style = match n == app.explorer.current {
            true => theme.active_tab(),
            false => theme.tab(),
        };
        spans.push(Span::styled(format!("[{}]", session.label()), style));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Line::from(spans), area);
    if app.explorer.sessions.len() > 1 {
        frame.render_widget(
            Line::from(Span::styled("[ ] sessions ", theme.dim())).alignment(Alignment::Right),
            area,
        );
    }
}

/// The path a pane's title shows: `~/reports` here, `web:/srv/www` on a server.
fn title(pane: &Pane, home: &str, width: usize) -> String {
    let path = match &pane.place {
        Place::Local if pane.path == home => "~".to_string(),
        Place::Local if pane.path.starts_with(&format!("{home}/")) => {
            format!("~{}", &pane.path[home.len()..])
        }
        Place::Local => pane.path.clone(),
        Place::Profile(name) => format!("{name}:{}", pane.path),
    };
    fit_end(&shown(&path), width)
}

fn pane(frame: &mut Frame, area: Rect, app: &App, pane: &Pane, focused: bool, theme: &Theme) {
    let inner_width = usize::from(area.width.saturating_sub(2));
    let (shown_rows, total) = (pane.listing.len(), pane.listing.total());
    let count = match shown_rows == total {
        true => format!(" {total} "),
        false => format!(" {shown_rows} of {total} "),
    };
    let heading = title(
        pane,
        &app.explorer.local_home,
        inner_width.saturating_sub(count.len() + 4),
    );
    let block = Block::bordered()
        .border_style(theme.border(focused))
        .title(Line::from(format!(" {heading} ")))
        .title_top(Line::from(count).alignment(Alignment::Right))
        .title_bottom(footer(pane, app, inner_width.saturating_sub(2)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = usize::from(inner.height);
    let columns = Columns::for_width(usize::from(inner.width));
    let mut lines: Vec<Line> = (pane.top..pane.rows().min(pane.top + height))
        .filter_map(|row| {
            let cells = pane.row(row)?;
            let cursor = row == pane.cursor;
            Some(row_line(pane, cells, cursor, focused, &columns, app, theme))
        })
        .collect();
    let spin = SPINNER[app.spinner % SPINNER.len()];
    if let Some((_, profile)) = &pane.connecting {
        lines.push(Line::from(format!(
            " {spin} connecting to {profile}… (Esc cancels)"
        )));
    } else if pane.loading.is_some() {
        lines.push(Line::from(format!(
            " {spin} listing… {} so far",
            pane.listing.total()
        )));
    } else if let Some(error) = &pane.error {
        lines.push(Line::from(Span::styled(
            format!(" {}", fit(error, inner_width.saturating_sub(1))),
            theme.error(),
        )));
    } else if !pane.refused.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(" {} unsafe name(s) not shown", pane.refused.len()),
            theme.dim(),
        )));
    }
    lines.truncate(height);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Which columns fit: name always; size; the date (with the time on wider panes);
/// permissions on wide panes.
struct Columns {
    name: usize,
    /// Columns of the modified time: 0, 5 (`11-29`) or 11 (`11-29 14:02`).
    time: usize,
    mode: bool,
}

impl Columns {
    fn for_width(width: usize) -> Columns {
        let time = match width {
            w if w >= 50 => 11,
            w if w >= 30 => 5,
            _ => 0,
        };
        let mode = width >= 64;
        let fixed = 2 + 6 + if time > 0 { time + 1 } else { 0 } + if mode { 10 } else { 0 };
        Columns {
            name: width.saturating_sub(fixed).max(4),
            time,
            mode,
        }
    }
}

fn row_line<'a>(
    pane: &Pane,
    row: Row<'_>,
    cursor: bool,
    focused: bool,
    columns: &Columns,
    app: &App,
    theme: &Theme,
) -> Line<'a> {
    let (mark, name, size, time, mode, style) = match row {
        Row::Parent => (
            " ",
            "..".to_string(),
            String::new(),
            String::new(),
            String::new(),
            theme.dir(),
        ),
        Row::Entry(entry) => {
            let marked = pane.listing.is_marked(&entry.name);
            let (suffix, style, size) = match entry.kind {
                EntryKind::Dir => ("/", theme.dir(), "dir".to_string()),
                EntryKind::Symlink => ("@", Style::default(), short_size(entry.size)),
                _ => ("", Style::default(), short_size(entry.size)),
            };
            let style = if marked { theme.marked() } else { style };
            let mode = entry.mode_string();
            (
                if marked { "*" } else { " " },
                format!("{}{suffix}", shown(&entry.name)),
                size,
                match columns.time {
                    5 => short_date(app.clock, entry.mtime),
                    _ => short_time(app.clock, entry.mtime),
                },
                mode.get(1..).unwrap_or("").to_string(),
                style,
            )
        }
    };
    let mut text = format!("{mark}{} {:>5}", pad(&name, columns.name), size);
    if columns.time > 0 {
        text.push_str(&format!(" {:>width$}", time, width = columns.time));
    }
    if columns.mode {
        text.push_str(&format!(" {:>9}", mode));
    }
    let style = match cursor {
        true => style.patch(theme.cursor(focused)),
        false => style,
    };
    Line::from(Span::styled(text, style))
}

/// Marks and their size, the filter being typed, or the entry under the cursor.
fn footer(pane: &Pane, app: &App, width: usize) -> Line<'static> {
    let (marked, bytes) = pane.listing.marked_summary();
    let text = if pane.filtering {
        format!(" /{}▏ ", pane.listing.filter())
    } else if marked > 0 {
        format!(" {marked} marked, {} ", crate::units::human_bytes(bytes))
    } else if !pane.listing.filter().is_empty() {
        format!(" filter: {} (Esc clears) ", pane.listing.filter())
    } else {
        match pane.current_entry() {
            Some(entry) => format!(
                " {} {} {} ",
                entry.mode_string(),
                shown(entry.owner.as_deref().unwrap_or("-")),
                short_time(app.clock, entry.mtime)
            ),
            None => String::new(),
        }
    };
    Line::from(fit(&text, width))
}
