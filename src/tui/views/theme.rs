//! Styles: colours where the terminal is allowed them, and with `NO_COLOR` only reverse, bold
//! and underline, so every screen reads the same without colour.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    color: bool,
}

impl Theme {
    pub fn new(color: bool) -> Theme {
        Theme { color }
    }

    fn pick(&self, colored: Style, plain: Style) -> Style {
        if self.color { colored } else { plain }
    }

    pub fn tab(&self) -> Style {
        Style::default()
    }

    pub fn active_tab(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    /// The cursor row: reversed in the focused pane, underlined in the other.
    pub fn cursor(&self, focused: bool) -> Style {
        match focused {
            true => Style::default().add_modifier(Modifier::REVERSED),
            false => Style::default().add_modifier(Modifier::UNDERLINED),
        }
    }

    pub fn border(&self, focused: bool) -> Style {
        match focused {
            true => self.pick(
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            false => self.pick(Style::default().fg(Color::DarkGray), Style::default()),
        }
    }

    pub fn dir(&self) -> Style {
        self.pick(
            Style::default()
                .fg(Color::Blue)
                .add_modifier(Modifier::BOLD),
            Style::default().add_modifier(Modifier::BOLD),
        )
    }

    pub fn marked(&self) -> Style {
        self.pick(
            Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            Style::default().add_modifier(Modifier::BOLD),
        )
    }

    pub fn error(&self) -> Style {
        self.pick(
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            Style::default().add_modifier(Modifier::BOLD),
        )
    }

    pub fn info(&self) -> Style {
        self.pick(Style::default().fg(Color::Green), Style::default())
    }

    pub fn dim(&self) -> Style {
        self.pick(Style::default().fg(Color::DarkGray), Style::default())
    }

    pub fn status(&self) -> Style {
        self.pick(Style::default().fg(Color::Cyan), Style::default())
    }

    pub fn key(&self) -> Style {
        self.pick(
            Style::default().fg(Color::Yellow),
            Style::default().add_modifier(Modifier::BOLD),
        )
    }

    pub fn title(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    pub fn gauge(&self) -> Style {
        self.pick(Style::default().fg(Color::Green), Style::default())
    }
}
