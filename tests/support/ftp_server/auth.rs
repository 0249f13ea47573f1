//! The test server's login check: exactly one user name and password pair is accepted.

use async_trait::async_trait;
use unftp_core::auth::{AuthenticationError, Authenticator, Credentials, Principal};

#[derive(Debug)]
pub(super) struct SingleLogin {
    pub user: String,
    pub password: String,
}

#[async_trait]
impl Authenticator for SingleLogin {
    async fn authenticate(
        &self,
        username: &str,
        creds: &Credentials,
    ) -> Result<Principal, AuthenticationError> {
        if username != self.user {
            return Err(AuthenticationError::BadUser);
        }
        match creds.password.as_deref() {
            Some(password) if password == self.password => Ok(Principal {
                username: username.to_string(),
            }),
            _ => Err(AuthenticationError::BadPassword),
        }
    }
}
