//! FTP and FTPS over suppaftp (being written).

use super::{ConnectOptions, Credentials, ErrorKind, RemoteError, Result};
use crate::profile::Profile;

pub use super::local::LocalRemote as FtpRemote;

pub async fn connect(
    profile: &Profile,
    _c: &Credentials,
    _o: &ConnectOptions,
) -> Result<FtpRemote> {
    let endpoint = super::endpoint_of(profile);
    Err(RemoteError::new(
        ErrorKind::Unsupported,
        &endpoint,
        "ftp is being written",
    ))
}
