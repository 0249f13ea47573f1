//! The profile form's jump-host field: one line holding the chain in order, comma-separated
//! (`bastion, ops@gw:2222`), each hop another SFTP profile's name or `user@host[:port]`,
//! checked as it is typed. No I/O here.

use crate::profile::{Protocol, jump_address};

/// The hops typed, first to last (a blank field: none).
pub fn parse(text: &str) -> Vec<String> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    text.split(',').map(|hop| hop.trim().to_string()).collect()
}

/// What a chain is checked against.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// The other profiles, by name.
    pub profiles: Vec<(String, Protocol)>,
    /// The hops the profile had when the form opened: one without `@` that names no profile
    /// is kept as the address it was (an import from ~/.ssh/config writes them so).
    pub kept: Vec<String>,
}

/// What is wrong with the chain `text` of the profile called `own` (as typed, and as it was
/// when the form opened), if anything: the first bad hop, by its place in the chain.
pub fn problem(text: &str, own: &[&str], known: &Known) -> Option<String> {
    parse(text).iter().enumerate().find_map(|(at, hop)| {
        hop_problem(hop, own, known).map(|why| format!("hop {}: {why}", at + 1))
    })
}

fn hop_problem(hop: &str, own: &[&str], known: &Known) -> Option<&'static str> {
    if hop.is_empty() {
        return Some("empty");
    }
    if own.contains(&hop) {
        return Some("this profile itself");
    }
    match known.profiles.iter().find(|(name, _)| name == hop) {
        Some((_, Protocol::Sftp)) => None,
        Some(_) => Some("not an SFTP profile"),
        None if hop.contains('@') || known.kept.iter().any(|k| k == hop) => jump_address(hop, "-")
            .is_none()
            .then_some("not user@host[:port]"),
        None => Some("no such profile"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Known {
        Known {
            profiles: vec![
                ("bastion".into(), Protocol::Sftp),
                ("files".into(), Protocol::Ftps),
            ],
            kept: vec!["gw.example.net:2222".into()],
        }
    }

    #[test]
    fn a_chain_reads_in_order_and_blank_means_direct() {
        assert_eq!(parse(" bastion ,ops@gw:2222"), ["bastion", "ops@gw:2222"]);
        assert!(parse("  ").is_empty());
        assert_eq!(problem("", &["web"], &known()), None);
        assert_eq!(problem("bastion, ops@gw:2222", &["web"], &known()), None);
        assert_eq!(problem("gw.example.net:2222", &["web"], &known()), None);
    }

    #[test]
    fn each_bad_hop_is_named_by_its_place() {
        let bad = |text: &str| problem(text, &["web", "old-web"], &known());
        assert_eq!(bad("bastion,").as_deref(), Some("hop 2: empty"));
        assert_eq!(
            bad("old-web").as_deref(),
            Some("hop 1: this profile itself")
        );
        assert_eq!(bad("files").as_deref(), Some("hop 1: not an SFTP profile"));
        assert_eq!(bad("bastoin").as_deref(), Some("hop 1: no such profile"));
        assert_eq!(
            bad("bastion, ops@gw:x").as_deref(),
            Some("hop 2: not user@host[:port]")
        );
        assert_eq!(bad("@gw").as_deref(), Some("hop 1: not user@host[:port]"));
    }
}
