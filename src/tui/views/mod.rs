//! Views: pure functions of the app's state onto a frame. The tab bar, the tab, the status
//! bar, the key hints and the dialog stack on top; a "too small" notice below 80×24. Only
//! what is on screen is drawn (a 100,000-entry listing draws its visible rows).

mod dashboard;
mod dialogs;
mod explorer;
pub mod format;
mod last_test;
mod profiles;
mod queue;
pub mod theme;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use self::theme::Theme;
use super::app::{App, Level, Tab};
use super::keymap::Action;
use crate::engine::api::VaultState;
use crate::units::human_bytes;

/// The smallest terminal the app draws itself in.
pub const MIN_SIZE: (u16, u16) = (80, 24);

/// Draws the whole screen.
pub fn render(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let theme = Theme::new(app.color);
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        too_small(frame, area, &theme);
        return;
    }
    let [tabs, body, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    tab_bar(frame, tabs, app, &theme);
    match app.tab {
        Tab::Explorer => explorer::render(frame, body, app, &theme),
        Tab::Queue => queue::render(frame, body, app, &theme),
        Tab::Profiles => profiles::render(frame, body, app, &theme),
        Tab::Dashboard => dashboard::render(frame, body, app, &theme),
    }
    status_bar(frame, status, app, &theme);
    hint_bar(frame, hints, app, &theme);
    for layer in &app.layers {
        dialogs::render(frame, area, layer, app, &theme);
    }
}

fn too_small(frame: &mut Frame, area: Rect, theme: &Theme) {
    let text = vec![
        Line::from(Span::styled("terminal too small", theme.error())),
        Line::from(format!(
            "{}×{}: ferry needs at least {}×{}",
            area.width, area.height, MIN_SIZE.0, MIN_SIZE.1
        )),
        Line::from("make the window larger, or press q to quit"),
    ];
    let top = area.height.saturating_sub(3) / 2;
    let rect = Rect {
        y: area.y + top,
        height: area.height.saturating_sub(top).min(3),
        ..area
    };
    frame.render_widget(Paragraph::new(text).alignment(Alignment::Center), rect);
}

/// Where each tab's title sits on the tab bar: (first column, width, tab).
fn tab_spans() -> Vec<(u16, u16, u8, Tab)> {
    let mut col = 1;
    Tab::ALL
        .iter()
        .map(|(digit, tab)| {
            let width = tab.title().len() as u16 + 2;
            let at = (col, width, *digit, *tab);
            col += width + 2;
            at
        })
        .collect()
}

/// The tab under a column of the tab bar (for a mouse click).
pub fn tab_at(col: u16) -> Option<Tab> {
    tab_spans()
        .into_iter()
        .find(|(start, width, _, _)| (*start..start + width).contains(&col))
        .map(|(_, _, _, tab)| tab)
}

fn tab_bar(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut spans = vec![Span::raw(" ")];
    for (_, _, digit, tab) in tab_spans() {
        let style = match tab == app.tab {
            true => theme.active_tab(),
            false => theme.tab(),
        };
        spans.push(Span::styled(format!("{digit} {}", tab.title()), style));
        spans.push(Span::raw("  "));
    }
    frame.render_widget(Line::from(spans), area);
    frame.render_widget(
        Line::from(Span::styled("ferry ", theme.dim())).alignment(Alignment::Right),
        area,
    );
}

fn status_bar(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let snapshot = &app.snapshot;
    let activity = match (snapshot.running, snapshot.queued) {
        (0, 0) => "idle".to_string(),
        (running, queued) => format!(
            "⇅ {running} running, {queued} queued {}/s",
            human_bytes(snapshot.rate)
        ),
    };
    let vault = match &app.vault {
        Some(VaultState::Unlocked { .. }) => "vault unlocked",
        Some(VaultState::Locked { .. }) => "vault locked",
        Some(VaultState::NotSetUp) => "no vault",
        None => "vault …",
    };
    let mut spans = vec![
        Span::raw(" "),
        Span::styled(activity, theme.status()),
        Span::raw(" · "),
        Span::raw(vault),
    ];
    if let Some((text, level)) = &app.message {
        spans.push(Span::raw(" · "));
        let style = match level {
            Level::Error => theme.error(),
            Level::Info => theme.info(),
        };
        spans.push(Span::styled(text.clone(), style));
    }
    frame.render_widget(Line::from(spans), area);
}

fn hint_bar(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let actions: &[(Action, &str)] = match app.tab {
        Tab::Explorer => &[
            (Action::Rename, "ren"),
            (Action::View, "view"),
            (Action::Edit, "edit"),
            (Action::Copy, "copy"),
            (Action::Move, "move"),
            (Action::Mkdir, "mkdir"),
            (Action::Delete, "del"),
            (Action::Open, "open"),
            (Action::Filter, "filter"),
            (Action::Help, "help"),
        ],
        Tab::Queue => &[
            (Action::Pause, "pause"),
            (Action::Resume, "resume"),
            (Action::Cancel, "cancel"),
            (Action::Retry, "retry"),
            (Action::MoveUp, "up"),
            (Action::MoveDown, "down"),
            (Action::ClearFinished, "clear"),
            (Action::Limit, "limit"),
            (Action::Help, "help"),
        ],
        Tab::Profiles => &[
            (Action::Add, "add"),
            (Action::EditProfile, "edit"),
            (Action::DeleteProfile, "del"),
            (Action::Test, "test"),
            (Action::OpenProfile, "open"),
            (Action::Import, "import"),
            (Action::TrustCert, "cert"),
            (Action::Help, "help"),
        ],
        Tab::Dashboard => &[
            (Action::Tab2, "explorer"),
            (Action::Tab3, "queue"),
            (Action::Tab5, "profiles"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
    };
    let mut spans = vec![Span::raw(" ")];
    for (action, label) in actions {
        if let Some(key) = app.keymap.first_key(*action) {
            spans.push(Span::styled(key.to_string(), theme.key()));
            spans.push(Span::raw(format!(" {label}  ")));
        }
    }
    frame.render_widget(Line::from(spans), area);
}
