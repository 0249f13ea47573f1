//! SFTP over russh + russh-sftp (being written).

use super::{ConnectOptions, Credentials, ErrorKind, RemoteError, Result};
use crate::profile::Profile;

pub use super::local::LocalRemote as SftpRemote;

pub async fn connect(
    profile: &Profile,
    _c: &Credentials,
    _o: &ConnectOptions,
) -> Result<SftpRemote> {
    let endpoint = super::endpoint_of(profile);
    Err(RemoteError::new(
        ErrorKind::Unsupported,
        &endpoint,
        "sftp is being written",
    ))
}
