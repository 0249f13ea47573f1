//! Single-line text fields (ratatui-textarea) as dialogs and forms use them: one line, no
//! cursor-line underline, secrets masked. No I/O here.

use ratatui::style::Style;
use ratatui_textarea::TextArea;

/// A one-line field holding `text`, masked with `•` when `secret`.
pub fn line(text: &str, secret: bool) -> TextArea<'static> {
    let mut field = TextArea::new(vec![text.to_string()]);
    field.set_cursor_line_style(Style::default());
    field.move_cursor(ratatui_textarea::CursorMove::End);
    if secret {
        field.set_mask_char('•');
    }
    field
}

/// The field's text (its first line).
pub fn text_of(field: &TextArea<'_>) -> String {
    field.lines().first().cloned().unwrap_or_default()
}
