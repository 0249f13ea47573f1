//! Profiles through the engine: list them (sealed secrets left out), add or change one with
//! its secrets sealed here, remove, import from an ssh config, and look at (and pin) an FTPS
//! certificate. Every change is logged and announced with `ProfilesChanged`; the profile's
//! connection pool is dropped so later work uses the new settings.

use std::path::PathBuf;
use std::sync::Arc;

use super::api::{Event, Failure, ProfileSummary, Response, SecretChange};
use super::{Shared, lock, store_failure};
use crate::profile::{Profile, ProfileSecret, Protocol, validate_name};
use crate::remote::ErrorKind;
use crate::remote::ftp::{CertificateInfo, fetch_certificate};
use crate::store::LogLevel;
use crate::vault::VaultKey;

pub(crate) async fn list(shared: &Arc<Shared>) -> Result<Response, Failure> {
    let profiles = shared
        .store(|s| s.list_profiles())
        .await
        .map_err(store_failure)?;
    Ok(Response::Profiles {
        profiles: profiles.into_iter().map(summary).collect(),
    })
}

fn summary(mut profile: Profile) -> ProfileSummary {
    let has_password = profile.password.take().is_some();
    let has_key_passphrase = profile.key_passphrase.take().is_some();
    ProfileSummary {
        profile,
        has_password,
        has_key_passphrase,
    }
}

/// Adds (`original` None) or changes a profile; secrets are sealed with the vault's key.
pub(crate) async fn save(
    shared: &Arc<Shared>,
    original: Option<String>,
    mut profile: Profile,
    password: SecretChange,
    key_passphrase: SecretChange,
) -> Result<Response, Failure> {
    check(&profile)?;
    let now = chrono::Utc::now().timestamp();
    let existing = match &original {
        Some(name) => {
            let name = name.clone();
            Some(
                shared
                    .store(move |s| s.profile(&name))
                    .await
                    .map_err(store_failure)?,
            )
        }
        None => None,
    };
    match &existing {
        Some(old) => {
            profile.id = old.id;
            profile.created_at = old.created_at;
            profile.password = old.password.clone();
            profile.key_passphrase = old.key_passphrase.clone();
        }
        None => {
            profile.id = shared
                .store(|s| s.reserve_profile_id())
                .await
                .map_err(store_failure)?;
            profile.created_at = now;
            profile.password = None;
            profile.key_passphrase = None;
        }
    }
    profile.updated_at = now;
    if profile.protocol.is_ftp() {
        profile.key_file = None;
        profile.agent = false;
    }
    apply(shared, &mut profile, ProfileSecret::Password, password)?;
    apply(
        shared,
        &mut profile,
        ProfileSecret::KeyPassphrase,
        key_passphrase,
    )?;
    let name = profile.name.clone();
    let message = match &original {
        Some(old) => format!("profile `{old}` changed"),
        None => format!("profile `{name}` added"),
    };
    shared
        .store(move |s| {
            match &original {
                Some(old) => s.update_profile(old, &profile)?,
                None => s.add_profile(&profile)?,
            }
            s.log(LogLevel::Info, "profile", &message)
        })
        .await
        .map_err(store_failure)?;
    if let Some(old) = existing {
        shared.drop_pool(&old.name).await;
    }
    shared.drop_pool(&name).await;
    shared.emit(Event::ProfilesChanged);
    Ok(Response::Ok)
}

/// The checks a form shows inline, repeated here for every other front end.
fn check(profile: &Profile) -> Result<(), Failure> {
    let invalid = |message: String| Failure {
        kind: ErrorKind::Invalid,
        message,
    };
    validate_name(&profile.name).map_err(|e| invalid(e.to_string()))?;
    if profile.host.trim().is_empty() {
        return Err(invalid("the host is empty".into()));
    }
    if profile.port == 0 {
        return Err(invalid("the port must be between 1 and 65535".into()));
    }
    if !(1..=64).contains(&profile.max_connections) {
        return Err(invalid("max connections must be between 1 and 64".into()));
    }
    if profile
        .timeout_secs
        .is_some_and(|t| !(1..=3600).contains(&t))
    {
        return Err(invalid(
            "the timeout must be between 1 and 3600 seconds".into(),
        ));
    }
    if let Some(label) = &profile.charset
        && crate::remote::charset::Charset::from_label(label).is_none()
    {
        return Err(invalid(format!(
            "unknown character set {}",
            crate::text::shown(label)
        )));
    }
    if profile.protocol != Protocol::Sftp && profile.key_passphrase.is_some() {
        return Err(invalid("key files apply to sftp:// profiles only".into()));
    }
    if profile.protocol != Protocol::Sftp && !profile.jump.is_empty() {
        return Err(invalid("jump hosts apply to sftp:// profiles only".into()));
    }
    if profile.jump.contains(&profile.name) {
        return Err(invalid(format!(
            "{} cannot be its own jump host",
            crate::text::shown(&profile.name)
        )));
    }
    Ok(())
}

fn apply(
    shared: &Shared,
    profile: &mut Profile,
    secret: ProfileSecret,
    change: SecretChange,
) -> Result<(), Failure> {
    match change {
        SecretChange::Keep => {}
        SecretChange::Clear => *profile.sealed_mut(secret) = None,
        SecretChange::Set(value) => {
            let key = unlocked_key(shared)?;
            *profile.sealed_mut(secret) =
                Some(key.seal(profile.slot(secret), &value.to_secret_string()));
        }
    }
    Ok(())
}

fn unlocked_key(shared: &Shared) -> Result<Arc<VaultKey>, Failure> {
    lock(&shared.vault_key).clone().ok_or_else(|| Failure {
        kind: ErrorKind::Auth,
        message: "vault locked: unlock it to store secrets".into(),
    })
}

pub(crate) async fn delete(shared: &Arc<Shared>, name: &str) -> Result<Response, Failure> {
    let owned = name.to_string();
    shared
        .store(move |s| {
            s.remove_profile(&owned)?;
            s.log(
                LogLevel::Info,
                "profile",
                &format!("profile `{owned}` removed"),
            )
        })
        .await
        .map_err(store_failure)?;
    shared.drop_pool(name).await;
    shared.emit(Event::ProfilesChanged);
    Ok(Response::Ok)
}

/// Adds a profile for each concrete host of an ssh config; existing names are left alone.
pub(crate) async fn import(
    shared: &Arc<Shared>,
    path: Option<String>,
) -> Result<Response, Failure> {
    let home = std::env::var_os("HOME").map(PathBuf::from).ok_or(Failure {
        kind: ErrorKind::Invalid,
        message: "HOME is not set: name the ssh config file".into(),
    })?;
    let ssh_dir = home.join(".ssh");
    let file = path
        .map(|p| crate::paths::expand_tilde(&p))
        .unwrap_or_else(|| ssh_dir.join("config"));
    let (added, skipped) = shared
        .store(move |store| {
            let config = crate::ssh_config::read(&file, &ssh_dir).map_err(|e| {
                crate::store::StoreError::Db {
                    path: file.clone(),
                    detail: e.to_string(),
                }
            })?;
            let mut added = Vec::new();
            let mut skipped = Vec::new();
            for host in &config.hosts {
                if store.profile(&host.alias).is_ok() {
                    skipped.push(format!("{}: a profile with this name exists", host.alias));
                    continue;
                }
                match crate::ssh_config::to_profile(host) {
                    Ok(mut profile) => {
                        profile.id = store.reserve_profile_id()?;
                        store.add_profile(&profile)?;
                        added.push(profile.name);
                    }
                    Err(reason) => skipped.push(format!("{}: {reason}", host.alias)),
                }
            }
            skipped.extend(
                config
                    .skipped_patterns
                    .iter()
                    .map(|p| format!("{p}: a pattern, not a single host")),
            );
            if !added.is_empty() {
                store.log(
                    LogLevel::Info,
                    "profile",
                    &format!(
                        "{} profile(s) imported from {}",
                        added.len(),
                        file.display()
                    ),
                )?;
            }
            Ok((added, skipped))
        })
        .await
        .map_err(store_failure)?;
    if !added.is_empty() {
        shared.emit(Event::ProfilesChanged);
    }
    Ok(Response::Imported { added, skipped })
}

/// Fetches an FTPS profile's certificate; trusts it from now on when it is the one `pin`
/// names.
pub(crate) async fn certificate(
    shared: &Arc<Shared>,
    name: &str,
    pin: Option<String>,
) -> Result<Response, Failure> {
    let owned = name.to_string();
    let profile = shared
        .store(move |s| s.profile(&owned))
        .await
        .map_err(store_failure)?;
    let options = shared.connect_options(&profile);
    if !matches!(profile.protocol, Protocol::Ftps | Protocol::FtpsImplicit) {
        return Err(Failure {
            kind: ErrorKind::Invalid,
            message: format!(
                "{name} is not an FTPS profile: only ftps:// servers have certificates"
            ),
        });
    }
    let certificate = fetch_certificate(&profile, &options).await?;
    let pinned = !certificate.verified
        && pin.is_some_and(|pin| crate::remote::ftp::normalize_pin(&pin) == certificate.sha256_hex);
    if pinned {
        pin_certificate(shared, name, &certificate).await;
    }
    Ok(Response::Certificate {
        certificate,
        pinned,
    })
}

/// Records `certificate` as the profile's trusted one.
pub(crate) async fn pin_certificate(
    shared: &Arc<Shared>,
    name: &str,
    certificate: &CertificateInfo,
) {
    let owned = name.to_string();
    let sha = certificate.sha256_hex.clone();
    let fingerprint = certificate.fingerprint();
    let saved = shared
        .store(move |s| {
            let mut profile = s.profile(&owned)?;
            profile.cert_pin = Some(sha);
            profile.updated_at = chrono::Utc::now().timestamp();
            s.update_profile(&owned, &profile)?;
            s.log(
                LogLevel::Info,
                "profile",
                &format!("certificate {fingerprint} pinned for `{owned}`"),
            )
        })
        .await;
    match saved {
        Ok(()) => shared.emit(Event::ProfilesChanged),
        Err(err) => tracing::warn!(%err, profile = name, "could not pin the certificate"),
    }
}
