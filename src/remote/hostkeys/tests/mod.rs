//! Host-key trust checked against known_hosts text and fingerprints produced by OpenSSH 9.2.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use russh::keys::{Algorithm, EcdsaCurve, HashAlg, PublicKey, parse_public_key_base64};

use super::*;

mod learning;

// Generated once with `ssh-keygen -t <type> -N '' -C ''`.
const ED25519_A: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDQVGvfMbQprz46jNo5E18XwEtxoc1yA4s1PAwsnpR0a";
const ED25519_B: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINVBpxwiTJMr2d7BLGCxPm2gXCc8AKZ8EwvNg5BHzpFO";
const ECDSA_256: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIGwyFS9SHjj0MeAgCa59mkpMrHLO1ak/LC0z8fYVcixMKs+QKy08rnGt+8V4Lt0vHXwAuVqKtzoWpowIYrRJxM=";
const ECDSA_384: &str = "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBOdym85hI7iqMwCUtf3BaycGKO7Vy83ajiLaZqs2zh+MJDwNrDRcdp3Co2F/QNmwxsPpH2tkcPBbWOLjhOHJLD333PpamBkewltwcg6yoE4v6ILoH1LXG7lAQVBuhkpFog==";
const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQClWuC1LRF9ILd1Cb514+pvE8Ap33tNp+Gst5whIYqvMHLXTWZFjWRSSKodB8UoIDRrR01Ks2SQbvwfRosKEF1/jRuhB65ifVa0QAgBNSP+xVs2yxkujGg8ehiwx+yo3Q0eQSfX7CGkdPTw6cXtsHlD78e3L5XqQh6Nwzz/cyHfibI1zjHUybehhCfae0EC8PlDha/BIZ/nCBt7rKrdLtjquhm46Bl8MQHrAVXHYMnaOgZhGoyK5/KU/TBdZDthDvXDi1AQqMD9jYFSKMn6Jr6JW7fYNSZh+fJQYgXhXB5Kp/IQlR746Y11SpMUVHbC8IiSJN1fwiGfSOSiTa1hFZ0h";

// `ssh-keygen -lf` of the keys above.
const ED25519_A_FINGERPRINT: &str = "SHA256:cu1bgig8/nxPkJXnfu4FxCfbC0yGS4KISMUMUi8nDuo";
const ECDSA_256_FINGERPRINT: &str = "SHA256:Nn8p6HSjgd8/vceLMyhU/0qe1aP7i/6MHaqNBoeCG+s";
const RSA_FINGERPRINT: &str = "SHA256:DCjhA+M+DboUumZIdmmMCEzvUAcRlh+sECWeZWSoAoI";

// `ssh-keygen -H` of `hashed.example.org`, `[hashed.example.org]:2222` (ED25519_A) and
// `Mixed.Example.ORG` (RSA); `ssh-keygen -F` finds each of them under its lower-case name.
const HASHED_22: &str = "|1|0Uhi3ZVajqqdCu4xEd33TQLRU68=|9NiYlBRWtfJgGhsCobqQRwq5z8A=";
const HASHED_2222: &str = "|1|2UlinkT4Bz8up2+hWngdmPAgJQw=|JWk/ehss6p9me6Sx+Vxw/d2ISc8=";
const HASHED_MIXED: &str = "|1|ognvjwUL2L1UfPQOW7b4LwIH9Kg=|/3xhc+RBxqmJMYsIpI5AgXKgW1Q=";

fn key(line: &str) -> PublicKey {
    let base64 = line
        .split(' ')
        .nth(1)
        .expect("a key line has a base64 field");
    parse_public_key_base64(base64).expect("test key parses")
}

/// A temporary directory with a user known_hosts file holding `lines`; the own file is not made.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(user_lines: &[String]) -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut text = user_lines.join("\n");
        text.push('\n');
        fs::write(dir.path().join("known_hosts"), text).expect("write user file");
        Setup { dir }
    }

    fn user_file(&self) -> PathBuf {
        self.dir.path().join("known_hosts")
    }

    fn own_file(&self) -> PathBuf {
        self.dir.path().join("ferry").join("known_hosts")
    }

    fn load(&self) -> KnownHosts {
        KnownHosts::load(self.own_file(), vec![self.user_file()]).expect("load known hosts")
    }
}

fn known(file: &Path, line: usize) -> HostKeyVerdict {
    HostKeyVerdict::Known {
        file: file.to_path_buf(),
        line,
    }
}

fn unknown(types: &[&str]) -> HostKeyVerdict {
    HostKeyVerdict::Unknown {
        other_types: types.iter().map(|t| t.to_string()).collect(),
    }
}

#[test]
fn fingerprints_match_ssh_keygen() {
    assert_eq!(fingerprint(&key(ED25519_A)), ED25519_A_FINGERPRINT);
    assert_eq!(fingerprint(&key(ECDSA_256)), ECDSA_256_FINGERPRINT);
    assert_eq!(fingerprint(&key(RSA)), RSA_FINGERPRINT);
}

#[test]
fn key_types_use_known_hosts_names() {
    assert_eq!(key_type(&key(ED25519_A)), "ssh-ed25519");
    assert_eq!(key_type(&key(ECDSA_384)), "ecdsa-sha2-nistp384");
    assert_eq!(key_type(&key(RSA)), "ssh-rsa");
}

#[test]
fn exact_match_is_known_with_file_and_line() {
    let setup = Setup::new(&[
        "# comment".into(),
        String::new(),
        format!("other.example.org {ED25519_B}"),
        format!("alpha,beta.example.org,10.0.0.5 {ED25519_A} a comment"),
    ]);
    let hosts = setup.load();
    let user = setup.user_file();
    assert_eq!(
        hosts.check("beta.example.org", 22, &key(ED25519_A)),
        known(&user, 4)
    );
    assert_eq!(
        hosts.check("BETA.Example.org", 22, &key(ED25519_A)),
        known(&user, 4)
    );
    assert_eq!(
        hosts.check("10.0.0.5", 22, &key(ED25519_A)),
        known(&user, 4)
    );
    assert_eq!(hosts.check("gamma", 22, &key(ED25519_A)), unknown(&[]));
}

#[test]
fn port_must_match_the_entry() {
    let setup = Setup::new(&[
        format!("[alpha]:2222 {ED25519_A}"),
        format!("beta {ED25519_A}"),
        format!("[gamma]:22 {ED25519_A}"),
    ]);
    let hosts = setup.load();
    let user = setup.user_file();
    assert_eq!(hosts.check("alpha", 2222, &key(ED25519_A)), known(&user, 1));
    assert_eq!(hosts.check("alpha", 22, &key(ED25519_A)), unknown(&[]));
    assert_eq!(hosts.check("alpha", 2223, &key(ED25519_A)), unknown(&[]));
    assert_eq!(hosts.check("beta", 22, &key(ED25519_A)), known(&user, 2));
    assert_eq!(hosts.check("beta", 2222, &key(ED25519_A)), unknown(&[]));
    // OpenSSH never looks up `[host]:22`, so such a line matches nothing.
    assert_eq!(hosts.check("gamma", 22, &key(ED25519_A)), unknown(&[]));
}

#[test]
fn hashed_entries_match_like_openssh() {
    let setup = Setup::new(&[
        format!("{HASHED_22} {ED25519_A}"),
        format!("{HASHED_2222} {ED25519_A}"),
        format!("{HASHED_MIXED} {RSA}"),
    ]);
    let hosts = setup.load();
    let user = setup.user_file();
    let host = "hashed.example.org";
    assert_eq!(hosts.check(host, 22, &key(ED25519_A)), known(&user, 1));
    assert_eq!(hosts.check(host, 2222, &key(ED25519_A)), known(&user, 2));
    assert_eq!(hosts.check(host, 2200, &key(ED25519_A)), unknown(&[]));
    assert_eq!(
        hosts.check("other.example.org", 22, &key(ED25519_A)),
        unknown(&[])
    );
    assert_eq!(
        hosts.check("mixed.example.org", 22, &key(RSA)),
        known(&user, 3)
    );
    assert_eq!(
        hosts.check("MIXED.example.org", 22, &key(RSA)),
        known(&user, 3)
    );
}

#[test]
fn wildcards_and_negation_follow_openssh() {
    let setup = Setup::new(&[
        format!("*.example.com,!bad.example.com {ED25519_A}"),
        format!("web?.example.org {ED25519_A}"),
        format!("[*.example.net]:2222 {ED25519_A}"),
    ]);
    let hosts = setup.load();
    let user = setup.user_file();
    let ed = key(ED25519_A);
    assert_eq!(hosts.check("a.example.com", 22, &ed), known(&user, 1));
    assert_eq!(hosts.check("a.b.example.com", 22, &ed), known(&user, 1));
    assert_eq!(hosts.check("bad.example.com", 22, &ed), unknown(&[]));
    assert_eq!(hosts.check("example.com", 22, &ed), unknown(&[]));
    assert_eq!(hosts.check("web1.example.org", 22, &ed), known(&user, 2));
    assert_eq!(hosts.check("web10.example.org", 22, &ed), unknown(&[]));
    assert_eq!(hosts.check("x.example.net", 2222, &ed), known(&user, 3));
    assert_eq!(hosts.check("x.example.net", 22, &ed), unknown(&[]));
}

#[test]
fn a_star_matches_non_standard_ports_too() {
    let setup = Setup::new(&[format!("* {ED25519_A}")]);
    let hosts = setup.load();
    assert_eq!(
        hosts.check("anything", 2222, &key(ED25519_A)),
        known(&setup.user_file(), 1)
    );
}

#[test]
fn revoked_key_beats_an_exact_match() {
    let setup = Setup::new(&[
        format!("alpha {ED25519_A}"),
        format!("@revoked * {ED25519_A}"),
        format!("@revoked\tbeta {ED25519_B}"),
    ]);
    let hosts = setup.load();
    let user = setup.user_file();
    let revoked = HostKeyVerdict::Revoked {
        file: user.clone(),
        line: 2,
    };
    assert_eq!(hosts.check("alpha", 22, &key(ED25519_A)), revoked);
    assert_eq!(hosts.check("zeta", 2222, &key(ED25519_A)), revoked);
    // A revocation applies only to the hosts its line names.
    assert_eq!(
        hosts.check("alpha", 22, &key(ED25519_B)),
        changed_from_a_to_b(&user, 1)
    );
    assert!(matches!(
        hosts.check("beta", 22, &key(ED25519_B)),
        HostKeyVerdict::Revoked { line: 3, .. }
    ));
    // Revoked keys are never offered as algorithms to prefer.
    assert!(hosts.known_algorithms("beta", 22).is_empty());
}

fn changed_from_a_to_b(file: &Path, line: usize) -> HostKeyVerdict {
    HostKeyVerdict::Changed {
        recorded: Recorded {
            file: file.to_path_buf(),
            line,
            key_type: "ssh-ed25519".into(),
            fingerprint: ED25519_A_FINGERPRINT.into(),
        },
        presented_fingerprint: fingerprint(&key(ED25519_B)),
    }
}

#[test]
fn cert_authority_lines_are_ignored() {
    let setup = Setup::new(&[
        format!("@cert-authority *.example.com {ED25519_A}"),
        format!("@unknown-marker alpha.example.com {ED25519_A}"),
    ]);
    let hosts = setup.load();
    assert_eq!(
        hosts.check("alpha.example.com", 22, &key(ED25519_A)),
        unknown(&[])
    );
    assert_eq!(
        hosts.check("alpha.example.com", 22, &key(ED25519_B)),
        unknown(&[])
    );
    let skipped: Vec<usize> = hosts.skipped_lines().map(|s| s.line).collect();
    assert_eq!(skipped, [1, 2]);
}

#[test]
fn changed_key_reports_the_first_recorded_line() {
    let setup = Setup::new(&[
        format!("beta {ECDSA_256}"),
        format!("alpha {ED25519_A}"),
        format!("alpha,alpha2 {ED25519_A}"),
    ]);
    let hosts = setup.load();
    assert_eq!(
        hosts.check("alpha", 22, &key(ED25519_B)),
        changed_from_a_to_b(&setup.user_file(), 2)
    );
}

#[test]
fn an_exact_match_anywhere_beats_a_changed_key() {
    let setup = Setup::new(&[format!("alpha {ED25519_A}")]);
    let own = setup.own_file();
    fs::create_dir_all(own.parent().expect("own dir")).expect("mkdir");
    fs::write(&own, format!("alpha {ED25519_B}\n")).expect("write own file");
    let hosts = setup.load();
    assert_eq!(hosts.check("alpha", 22, &key(ED25519_B)), known(&own, 1));
    assert_eq!(
        hosts.check("alpha", 22, &key(ED25519_A)),
        known(&setup.user_file(), 1)
    );
}

#[test]
fn other_key_types_only_leave_the_host_unknown() {
    let setup = Setup::new(&[
        format!("alpha {ECDSA_256}"),
        format!("alpha {RSA}"),
        format!("alpha,beta {ECDSA_256}"),
    ]);
    let hosts = setup.load();
    assert_eq!(
        hosts.check("alpha", 22, &key(ED25519_A)),
        unknown(&["ecdsa-sha2-nistp256", "ssh-rsa"])
    );
    // Another ECDSA curve is another key type, not a changed key.
    assert_eq!(
        hosts.check("beta", 22, &key(ECDSA_384)),
        unknown(&["ecdsa-sha2-nistp256"])
    );
}

#[test]
fn corrupt_lines_are_skipped_and_remembered() {
    let setup = Setup::new(&[
        "alpha ssh-ed25519 AAAAnot-base64!!".into(),
        "alpha ssh-ed25519".into(),
        format!("alpha {}", ED25519_A.replace("ssh-ed25519", "ssh-rsa")),
        "alpha 2048 65537 1234567".into(),
        format!("  alpha {ED25519_A}  "),
    ]);
    let hosts = setup.load();
    assert_eq!(
        hosts.check("alpha", 22, &key(ED25519_A)),
        known(&setup.user_file(), 5)
    );
    let skipped: Vec<(PathBuf, usize)> = hosts
        .skipped_lines()
        .map(|s| (s.file.clone(), s.line))
        .collect();
    let user = setup.user_file();
    assert_eq!(
        skipped,
        [
            (user.clone(), 1),
            (user.clone(), 2),
            (user.clone(), 3),
            (user, 4)
        ]
    );
}

#[test]
fn known_algorithms_are_in_file_order_without_repeats() {
    let setup = Setup::new(&[
        format!("alpha {ECDSA_256}"),
        format!("*.example.com {ED25519_A}"),
        format!("alpha {RSA}"),
        format!("alpha {ECDSA_256}"),
        format!("alpha {ED25519_B}"),
        format!("[alpha]:2222 {ECDSA_384}"),
    ]);
    let hosts = setup.load();
    assert_eq!(
        hosts.known_algorithms("alpha", 22),
        [
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256
            },
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha512)
            },
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha256)
            },
            Algorithm::Ed25519,
        ]
    );
    assert_eq!(
        hosts.known_algorithms("alpha", 2222),
        [Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP384
        }]
    );
    assert!(hosts.known_algorithms("beta", 22).is_empty());
}

#[test]
fn missing_files_are_empty_and_unreadable_ones_name_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nope");
    let hosts = KnownHosts::load(missing.clone(), vec![missing.join("deeper")]).expect("load");
    assert_eq!(hosts.check("alpha", 22, &key(ED25519_A)), unknown(&[]));

    let err = KnownHosts::load(missing, vec![dir.path().to_path_buf()]).expect_err("a directory");
    assert_eq!(
        err.to_string(),
        format!(
            "cannot read known_hosts file {}: is a directory",
            dir.path().display()
        )
    );
}
