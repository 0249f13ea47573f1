//! A throwaway self-signed certificate for `localhost` and `127.0.0.1`, written as PEM files so
//! servers can load it, with its DER and SHA-256 fingerprint kept for clients that pin it.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::rustls::{
    self, ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
};

/// A generated certificate and its private key, both also on disk as PEM.
#[derive(Debug, Clone)]
pub struct TestCert {
    der: Vec<u8>,
    key_pkcs8: Vec<u8>,
    cert_path: PathBuf,
    key_path: PathBuf,
    sha256: String,
}

impl TestCert {
    /// Generates a certificate valid for `localhost` and `127.0.0.1` and writes `cert.pem` and
    /// `key.pem` into `dir`.
    pub fn generate(dir: &Path) -> TestCert {
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let certified =
            rcgen::generate_simple_self_signed(names).expect("generate test certificate");
        let cert_path = dir.join("cert.pem");
        let key_path = dir.join("key.pem");
        std::fs::write(&cert_path, certified.cert.pem()).expect("write cert.pem");
        std::fs::write(&key_path, certified.signing_key.serialize_pem()).expect("write key.pem");
        let der = certified.cert.der().to_vec();
        TestCert {
            sha256: sha256_hex(&der),
            der,
            key_pkcs8: certified.signing_key.serialize_der(),
            cert_path,
            key_path,
        }
    }

    /// The certificate in DER form.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// SHA-256 of the DER certificate, lowercase hex without separators.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// SHA-256 of the DER certificate as `AA:BB:…` (the form `openssl x509 -fingerprint` prints).
    pub fn sha256_colons(&self) -> String {
        colon_hex(&self.sha256)
    }

    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    /// A rustls server configuration (aws-lc-rs) presenting this certificate.
    pub fn rustls_server_config(&self) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.clone()));
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("rustls protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(self.der.clone())], key)
            .expect("rustls server config");
        Arc::new(config)
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// `"ab01…"` → `"AB:01:…"`.
pub fn colon_hex(hex: &str) -> String {
    hex.as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).to_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}
