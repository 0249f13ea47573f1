//! How a finished copy was checked: the verdict a transfer's record keeps, and which way the
//! server's side was taken (a command, a read-back, the `check-file` extension, or none).

use crate::remote::Remote;

/// How a finished copy was checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum Verification {
    /// Sizes matched and both sides' SHA-256 agreed; the server hashed its side with a command
    /// (an SSH server's OpenSSL or `sha256sum`, FTP `HASH`).
    Sha256(String),
    /// Sizes matched and SHA-256 agreed with the bytes read back from the server.
    ReadBack(String),
    /// Sizes matched and SHA-256 agreed with the server's `check-file` extension.
    CheckFile(String),
    /// Sizes matched; no side could hash.
    SizeOnly,
}

impl Verification {
    /// The SHA-256 both sides agreed on, however the server's side was taken.
    pub fn sha256(&self) -> Option<&str> {
        match self {
            Verification::Sha256(hex)
            | Verification::ReadBack(hex)
            | Verification::CheckFile(hex) => Some(hex),
            Verification::SizeOnly => None,
        }
    }

    /// The same verdict, the server's side having been read back.
    pub(crate) fn read_back(self) -> Verification {
        match self {
            Verification::Sha256(hex) => Verification::ReadBack(hex),
            other => other,
        }
    }

    /// The same verdict, the server's side hashed by `remote` itself.
    pub(crate) fn hashed_by(self, remote: &dyn Remote) -> Verification {
        match self {
            Verification::Sha256(hex) if remote.capabilities().check_file => {
                Verification::CheckFile(hex)
            }
            other => other,
        }
    }
}

impl std::fmt::Display for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verification::Sha256(hex) => write!(f, "sha256 {hex}"),
            Verification::ReadBack(hex) => write!(f, "sha256 {hex} (read back)"),
            Verification::CheckFile(hex) => write!(f, "sha256 {hex} (check-file)"),
            Verification::SizeOnly => f.write_str("size only"),
        }
    }
}
