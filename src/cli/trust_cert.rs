//! `ferry profile trust-cert NAME`: fetch an FTPS server's certificate through the engine, show
//! it, and pin its SHA-256 in the profile after the person confirms (or `--fingerprint` matches).

use std::process::ExitCode;

use anyhow::bail;

use super::call::Line;
use super::watch::start_engine;
use super::{Context, prompt, session};
use crate::engine::api::{Request, Response};
use crate::remote::ftp::{CertificateInfo, normalize_pin};
use crate::text::shown;

pub fn run(ctx: &Context, name: &str, expected: Option<&str>) -> anyhow::Result<ExitCode> {
    session::runtime()?.block_on(async {
        let mut line = Line::new(start_engine(ctx, &[], None, false)?);
        let result = trust(&mut line, name, expected).await;
        line.shutdown().await;
        result
    })
}

async fn trust(line: &mut Line, name: &str, expected: Option<&str>) -> anyhow::Result<ExitCode> {
    let cert = fetch(line, name, None).await?.0;
    println!("certificate of {name}:");
    println!("  subject:     {}", shown(&cert.subject));
    println!("  issuer:      {}", shown(&cert.issuer));
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
    let (_, pinned) = fetch(line, name, Some(cert.sha256_hex.clone())).await?;
    if !pinned {
        bail!("the server presented another certificate meanwhile; nothing was pinned");
    }
    println!("pinned: ferry now trusts this certificate for {name}");
    Ok(ExitCode::SUCCESS)
}

async fn fetch(
    line: &mut Line,
    name: &str,
    pin: Option<String>,
) -> anyhow::Result<(CertificateInfo, bool)> {
    let request = Request::Certificate {
        profile: name.to_string(),
        pin,
    };
    match line.call(request).await? {
        Response::Certificate {
            certificate,
            pinned,
        } => Ok((certificate, pinned)),
        other => bail!("unexpected answer from the engine: {other:?}"),
    }
}
