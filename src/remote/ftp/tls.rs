//! FTPS trust: a rustls client (aws-lc-rs) whose certificate verifier checks the chain and host
//! name against the platform's root certificates, and accepts a certificate that fails only when
//! its SHA-256 fingerprint equals the profile's pin. The verifier records what it saw (the leaf
//! certificate, whether it verified, why not) so a refusal can name the subject and fingerprint,
//! and `fetch_certificate` can show a certificate without trusting it.
//!
//! One `Tls` per FTP connection: its rustls config keeps the TLS session cache that data
//! connections resume (vsftpd's `require_ssl_reuse`).

use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use suppaftp::tokio::{AsyncRustlsStream, AsyncTlsConnector};
use suppaftp::tokio_rustls::TlsConnector;
use suppaftp::tokio_rustls::rustls::client::WebPkiServerVerifier;
use suppaftp::tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use suppaftp::tokio_rustls::rustls::crypto::{
    CryptoProvider, WebPkiSupportedAlgorithms, aws_lc_rs, verify_tls12_signature,
    verify_tls13_signature,
};
use suppaftp::tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use suppaftp::tokio_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, ProtocolVersion, RootCertStore,
    SignatureScheme,
};
use suppaftp::{FtpError, FtpResult};
use tokio::net::TcpStream;

use super::cert::{normalize_pin, sha256_hex};

/// Whether a certificate that does not verify may still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trust {
    /// Verified chain, or the pinned fingerprint; nothing else.
    Enforce,
    /// Anything, to show it to a person (`ferry profile trust-cert`); never for a session.
    Inspect,
}

/// What the handshakes of one connection showed.
#[derive(Debug, Clone, Default)]
pub(super) struct Seen {
    /// The server's leaf certificate (DER).
    pub leaf: Option<Vec<u8>>,
    /// The chain and host name verified against the platform roots.
    pub verified: bool,
    /// Accepted only because its fingerprint matches the pin.
    pub pinned: bool,
    /// Why the chain did not verify.
    pub problem: Option<String>,
    /// `TLS 1.3` and the cipher suite of the control connection.
    pub version: Option<String>,
    pub cipher: Option<String>,
}

impl Seen {
    /// The certificate was presented and refused.
    pub fn refused(&self) -> bool {
        self.leaf.is_some() && !self.verified && !self.pinned
    }

    /// `TLS 1.3 (TLS13_AES_256_GCM_SHA384), certificate verified`.
    pub fn security(&self) -> String {
        let mut out = self.version.clone().unwrap_or_else(|| "TLS".into());
        if let Some(cipher) = &self.cipher {
            out.push_str(&format!(" ({cipher})"));
        }
        if self.verified {
            out.push_str(", certificate verified");
        } else if self.pinned {
            let why = self.problem.as_deref().unwrap_or("not verifiable");
            out.push_str(&format!(", certificate pinned ({why})"));
        }
        out
    }
}

type SeenSlot = Arc<Mutex<Seen>>;

/// The TLS side of one FTP connection.
pub(super) struct Tls {
    config: Arc<ClientConfig>,
    seen: SeenSlot,
}

impl Tls {
    pub fn new(pin: Option<&str>, trust: Trust) -> Result<Tls, String> {
        let seen = SeenSlot::default();
        let verifier = Verifier {
            roots: platform_verifier().clone(),
            pin: pin.map(normalize_pin),
            trust,
            seen: seen.clone(),
            algorithms: provider().signature_verification_algorithms,
        };
        let config = ClientConfig::builder_with_provider(provider().clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Tls {
            config: Arc::new(config),
            seen,
        })
    }

    /// A connector for suppaftp (control and data connections share the session cache).
    pub fn connector(&self) -> Connector {
        Connector {
            inner: TlsConnector::from(self.config.clone()),
            seen: self.seen.clone(),
        }
    }

    pub fn seen(&self) -> Seen {
        lock(&self.seen).clone()
    }
}

fn lock(slot: &SeenSlot) -> std::sync::MutexGuard<'_, Seen> {
    // A panic while holding this lock cannot leave a half-written `Seen` worth refusing.
    slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn provider() -> &'static Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(aws_lc_rs::default_provider()))
}

/// The platform's roots as a verifier, loaded once; the error says why there are none.
fn platform_verifier() -> &'static Result<Arc<WebPkiServerVerifier>, String> {
    static ROOTS: OnceLock<Result<Arc<WebPkiServerVerifier>, String>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = RootCertStore::empty();
        let (added, _ignored) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            let why = found
                .errors
                .first()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            return Err(format!("no trusted root certificates on this system{why}"));
        }
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider().clone())
            .build()
            .map_err(|e| format!("cannot use the system's root certificates: {e}"))
    })
}

#[derive(Debug)]
struct Verifier {
    roots: Result<Arc<WebPkiServerVerifier>, String>,
    pin: Option<String>,
    trust: Trust,
    seen: SeenSlot,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let outcome = match &self.roots {
            Ok(roots) => roots
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                .map_err(|e| describe(&e)),
            Err(why) => Err(why.clone()),
        };
        let mut seen = lock(&self.seen);
        seen.leaf = Some(end_entity.to_vec());
        let problem = match outcome {
            Ok(verified) => {
                seen.verified = true;
                return Ok(verified);
            }
            Err(problem) => problem,
        };
        seen.verified = false;
        seen.problem = Some(problem.clone());
        let pinned = self
            .pin
            .as_deref()
            .is_some_and(|pin| pin == sha256_hex(end_entity));
        seen.pinned = pinned;
        if pinned || self.trust == Trust::Inspect {
            return Ok(ServerCertVerified::assertion());
        }
        Err(rustls::Error::General(format!(
            "certificate not trusted: {problem}"
        )))
    }

    // The handshake signature is still checked against the (pinned) certificate's key: a pin
    // only replaces the chain, never the proof that the server holds the key.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Why a chain failed, in words for a person.
fn describe(err: &rustls::Error) -> String {
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => {
                "it is not issued by an authority this system trusts (self-signed?)".into()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "it is not valid for this host name".into()
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "it has expired".into()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "it is not valid yet".into()
            }
            CertificateError::Revoked => "it has been revoked".into(),
            other => format!("{other:?}"),
        },
        other => other.to_string(),
    }
}

/// suppaftp's TLS hook: a rustls handshake that also records the protocol version and cipher.
pub(super) struct Connector {
    inner: TlsConnector,
    seen: SeenSlot,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connector")
    }
}

#[async_trait]
impl AsyncTlsConnector for Connector {
    type Stream = AsyncRustlsStream;

    async fn connect(&self, domain: &str, stream: TcpStream) -> FtpResult<AsyncRustlsStream> {
        let name = ServerName::try_from(domain.to_string()).map_err(|e| {
            FtpError::SecureError(format!("`{domain}` is not a valid TLS server name: {e}"))
        })?;
        let tls = self
            .inner
            .connect(name, stream)
            .await
            .map_err(|e| FtpError::SecureError(e.to_string()))?;
        let (_, session) = tls.get_ref();
        let mut seen = lock(&self.seen);
        if seen.version.is_none() {
            seen.version = session.protocol_version().map(|v| match v {
                ProtocolVersion::TLSv1_3 => "TLS 1.3".to_string(),
                ProtocolVersion::TLSv1_2 => "TLS 1.2".to_string(),
                other => format!("{other:?}"),
            });
            seen.cipher = session
                .negotiated_cipher_suite()
                .map(|suite| format!("{:?}", suite.suite()));
        }
        drop(seen);
        Ok(AsyncRustlsStream::from(tls))
    }
}
