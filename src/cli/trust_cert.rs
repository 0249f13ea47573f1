//! `ferry profile trust-cert NAME`: fetch an FTPS server's certificate, show it, and pin its
//! SHA-256 in the profile after the person confirms (or `--fingerprint` matches).

use std::process::ExitCode;

use anyhow::bail;

use super::{Context, prompt, session};
use crate::profile::Protocol;
use crate::remote::ftp::{fetch_certificate, normalize_pin};
use crate::store::LogLevel;

pub fn run(ctx: &Context, name: &str, expected: Option<&str>) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store()?;
    let mut profile = store.profile(name)?;
    if !matches!(profile.protocol, Protocol::Ftps | Protocol::FtpsImplicit) {
        bail!("{name} is not an FTPS profile: only ftps:// servers have certificates to pin");
    }
    let options = session::options(ctx, &profile, None)?;
    let cert = session::runtime()?.block_on(fetch_certificate(&profile, &options))?;
    println!("certificate of {name} ({}):", profile.address());
    println!("  subject:     {}", cert.subject);
    println!("  issuer:      {}", cert.issuer);
    println!("  valid until: {}", cert.not_after);
    println!("  SHA-256:     {}", cert.fingerprint());
    if cert.verified {
        println!(
            "the certificate is valid for this host under the system's trusted roots: nothing to pin"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let accepted = match expected {
        Some(expected) if normalize_pin(expected) == cert.sha256_hex => true,
        Some(_) => bail!(
            "the server's certificate does not have the fingerprint you gave; nothing was pinned"
        ),
        None if prompt::TerminalPrompt::available() => {
            prompt::confirm("It is not signed by a trusted authority. Pin this certificate")
        }
        None => {
            bail!("no terminal to confirm: compare the fingerprint and pass it with --fingerprint")
        }
    };
    if !accepted {
        println!("not pinned");
        return Ok(ExitCode::FAILURE);
    }
    profile.cert_pin = Some(cert.sha256_hex.clone());
    profile.updated_at = super::profile::now();
    store.update_profile(name, &profile)?;
    store.log(
        LogLevel::Info,
        "profile",
        &format!("certificate {} pinned for `{name}`", cert.fingerprint()),
    )?;
    println!("pinned: ferry now trusts this certificate for {name}");
    Ok(ExitCode::SUCCESS)
}
