//! Short forms the views share: sizes that fit a column, times relative to now, durations,
//! progress bars that never pass full, and truncation by display width.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::tui::app::Clock;

/// `48K`, `1.2M`, `3.4G`: a size in at most five columns.
pub fn short_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["", "K", "M", "G", "T", "P"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes}"),
        _ if value < 10.0 => format!("{value:.1}{}", UNITS[unit]),
        _ => format!("{value:.0}{}", UNITS[unit]),
    }
}

/// `11-29 14:02` within this year, `2024-11-29` before.
pub fn short_time(clock: Clock, t: Option<i64>) -> String {
    let (Some(t), Some(now)) = (t.and_then(|t| clock.local(t)), clock.local(clock.now())) else {
        return String::new();
    };
    match t.format("%Y").to_string() == now.format("%Y").to_string() {
        true => t.format("%m-%d %H:%M").to_string(),
        false => t.format("%Y-%m-%d").to_string(),
    }
}

/// `11-29` within this year, ` 2024` before: a date in five columns.
pub fn short_date(clock: Clock, t: Option<i64>) -> String {
    let (Some(t), Some(now)) = (t.and_then(|t| clock.local(t)), clock.local(clock.now())) else {
        return String::new();
    };
    match t.format("%Y").to_string() == now.format("%Y").to_string() {
        true => t.format("%m-%d").to_string(),
        false => t.format(" %Y").to_string(),
    }
}

/// `0:23`, `1:02:03`.
pub fn duration(secs: u64) -> String {
    match secs {
        s if s >= 3600 => format!("{}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60),
        s => format!("{}:{:02}", s / 60, s % 60),
    }
}

/// `done` of `total` as whole percent, never above 100.
pub fn percent(done: u64, total: u64) -> u64 {
    match total {
        0 => 100,
        t => (done.min(t) as u128 * 100 / t as u128) as u64,
    }
}

/// A bar of `width` cells: `█` done, `░` to do.
pub fn bar(done: u64, total: u64, width: usize) -> String {
    let filled = (percent(done, total) as usize * width) / 100;
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

/// `text` cut to `width` columns, with `…` when it was longer.
pub fn fit(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `text` padded or cut to exactly `width` columns.
pub fn pad(text: &str, width: usize) -> String {
    let text = fit(text, width);
    let w = text.width();
    format!("{text}{}", " ".repeat(width.saturating_sub(w)))
}

/// The start of `text` cut so its end fits in `width` columns (`…/www/uploads`).
pub fn fit_end(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out: Vec<char> = Vec::new();
    let mut used = 1;
    for c in text.chars().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out.into_iter().rev().collect()
}

/// `text` broken into lines of at most `width` columns, none of it left out (a fingerprint
/// must be read whole).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width.max(1) && used > 0 {
            lines.push(String::new());
            used = 0;
        }
        if let Some(last) = lines.last_mut() {
            last.push(c);
        }
        used += w;
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms() {
        assert_eq!(short_size(999), "999");
        assert_eq!(short_size(48 * 1024), "48K");
        assert_eq!(short_size(1_288_490_188), "1.2G");
        assert_eq!(duration(23), "0:23");
        assert_eq!(duration(3723), "1:02:03");
        assert_eq!(percent(150, 100), 100, "never past full");
        assert_eq!(bar(5, 10, 4), "██░░");
        assert_eq!(fit("daily-1202.csv", 8), "daily-1…");
        assert_eq!(fit_end("/srv/www/uploads", 10), "…w/uploads");
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(wrap("SHA256:abcdef", 7), ["SHA256:", "abcdef"]);
        assert_eq!(wrap("", 7), [""]);
    }
}
