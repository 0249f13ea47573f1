//! What a person is shown about a server certificate: subject, issuer, expiry and SHA-256
//! fingerprint (`AA:BB:…` for reading, lowercase hex for the profile's pin), and the refusal
//! message that tells how to pin it. No I/O here.

use sha2::{Digest, Sha256};

use super::super::{Endpoint, ErrorKind, RemoteError};
use super::tls::Seen;
use crate::profile::Profile;

/// A server certificate as `ferry profile trust-cert` shows it before pinning.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CertificateInfo {
    pub subject: String,
    pub issuer: String,
    /// SHA-256 of the DER certificate, lowercase hex without colons: the value to pin.
    pub sha256_hex: String,
    /// The end of the validity period, `YYYY-MM-DD HH:MM:SS UTC`.
    pub not_after: String,
    /// The chain is valid for the host against the platform's roots (no pin needed).
    pub verified: bool,
}

impl CertificateInfo {
    pub fn from_der(der: &[u8], verified: bool) -> CertificateInfo {
        let (subject, issuer, not_after) = match x509_parser::parse_x509_certificate(der) {
            Ok((_, cert)) => (
                name_or_empty(cert.subject().to_string()),
                name_or_empty(cert.issuer().to_string()),
                chrono::DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                    .unwrap_or_else(|| "unknown".into()),
            ),
            Err(_) => (
                "(unreadable)".into(),
                "(unreadable)".into(),
                "unknown".into(),
            ),
        };
        CertificateInfo {
            subject,
            issuer,
            sha256_hex: sha256_hex(der),
            not_after,
            verified,
        }
    }

    /// `AA:BB:…`.
    pub fn fingerprint(&self) -> String {
        colon_hex(&self.sha256_hex)
    }
}

fn name_or_empty(name: String) -> String {
    if name.is_empty() {
        "(empty subject)".into()
    } else {
        name
    }
}

/// Lowercase hex SHA-256 of `der`.
pub fn sha256_hex(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// `"ab01…"` → `"AB:01:…"`.
pub fn colon_hex(hex: &str) -> String {
    hex.as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}

/// A pin as stored or typed (`AA:BB:…` or hex) in the stored form: lowercase hex.
pub fn normalize_pin(pin: &str) -> String {
    pin.chars()
        .filter(|c| c.is_ascii_hexdigit())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The refusal of a certificate that neither verifies nor matches the pin.
pub(super) fn untrusted(seen: &Seen, profile: &Profile, endpoint: &Endpoint) -> RemoteError {
    let info = CertificateInfo::from_der(seen.leaf.as_deref().unwrap_or_default(), false);
    let problem = seen.problem.as_deref().unwrap_or("it does not verify");
    let changed = match profile.cert_pin.as_deref().map(normalize_pin) {
        Some(pin) if !pin.is_empty() => format!(
            " It does not match the pinned certificate {}: the server's certificate has changed.",
            colon_hex(&pin)
        ),
        _ => String::new(),
    };
    let detail = format!(
        "the server's certificate is not trusted: {problem}. Subject: {}; SHA-256 fingerprint: {}.{changed} \
         If you trust this certificate, run `ferry profile trust-cert {}` to pin it.",
        info.subject,
        info.fingerprint(),
        profile.name
    );
    RemoteError::new(ErrorKind::HostKey, endpoint, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_and_pins() {
        assert_eq!(colon_hex("ab01ff"), "AB:01:FF");
        assert_eq!(normalize_pin("AB:01:FF"), "ab01ff");
        assert_eq!(normalize_pin(" ab01ff\n"), "ab01ff");
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn unreadable_certificates_still_have_a_fingerprint() {
        let info = CertificateInfo::from_der(b"not a certificate", false);
        assert_eq!(info.subject, "(unreadable)");
        assert_eq!(info.sha256_hex, sha256_hex(b"not a certificate"));
        assert_eq!(info.fingerprint().len(), 64 + 31);
    }
}
