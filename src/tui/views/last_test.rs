//! The last connection test of a profile, as rows of the Profiles tab's detail pane: how it
//! went, then each jump host passed (address, time, host key) in path order, then the
//! server's key, login and home, like `ferry test` prints them. Server text is escaped.

use super::profiles::Row;
use crate::engine::api::TestReport;
use crate::remote::HopInfo;
use crate::text::shown;
use crate::tui::app::App;
use crate::units::human_bytes;

/// The rows for `profile`'s last test (or the one under way).
pub(super) fn rows(app: &App, profile: &str) -> Vec<Row> {
    let tab = &app.profiles_tab;
    let report = tab.reports.get(profile);
    let mut rows = vec![match (tab.testing.contains(profile), report) {
        (true, _) => Row::cut("last test", "testing…"),
        (false, Some(report)) => outcome(report),
        (false, None) => Row::cut("last test", "— (t to test)"),
    }];
    if let Some(report) = report {
        for (index, hop) in report.hops.iter().enumerate() {
            rows.extend(hop_rows(index, hop));
        }
        if let Some(key) = &report.host_key {
            rows.push(Row::whole("server key", shown(key)));
        }
        if let Some(auth) = &report.auth_method {
            rows.push(Row::cut("logged in by", shown(auth)));
        }
        if let Some(home) = &report.home {
            rows.push(Row::cut("home", shown(home)));
        }
    }
    rows
}

fn outcome(report: &TestReport) -> Row {
    match &report.error {
        Some(error) => Row::whole("last test", format!("failed: {}", shown(&error.message))),
        None => Row::cut(
            "last test",
            format!(
                "{:.2} s, {}{}",
                report.connect_ms.unwrap_or(0) as f64 / 1000.0,
                shown(report.banner.as_deref().unwrap_or("connected")),
                report
                    .free_bytes
                    .map(|b| format!(", {} free", human_bytes(b)))
                    .unwrap_or_default()
            ),
        ),
    }
}

/// `jump 1  bastion (10.0.0.1:22), 12 ms` and its host key on the line below.
fn hop_rows(index: usize, hop: &HopInfo) -> [Row; 2] {
    let key = match &hop.host_key {
        Some((kind, fingerprint)) => format!("{} {}", shown(kind), shown(fingerprint)),
        None => "host key not shown".into(),
    };
    [
        Row::cut(
            &format!("jump {}", index + 1),
            format!(
                "{} ({}), {} ms",
                shown(&hop.name),
                shown(&hop.address),
                hop.millis
            ),
        ),
        Row::whole("", key),
    ]
}
