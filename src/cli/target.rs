//! `NAME:PATH` arguments: a remote location is a profile name, a colon and a path, as with scp.

use crate::profile::validate_name;

/// A `NAME:PATH` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteArg {
    pub profile: String,
    /// Empty means the profile's start directory.
    pub path: String,
}

/// Parses `NAME:PATH`; None when the argument is a local path.
pub fn parse_remote(arg: &str) -> Option<RemoteArg> {
    let (name, path) = arg.split_once(':')?;
    validate_name(name).ok()?;
    Some(RemoteArg {
        profile: name.to_string(),
        path: path.to_string(),
    })
}

/// Parses an argument that must be `NAME:PATH`.
pub fn require_remote(arg: &str) -> anyhow::Result<RemoteArg> {
    parse_remote(arg)
        .ok_or_else(|| anyhow::anyhow!("`{arg}` is not a remote location: write it as NAME:PATH"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_remote_arguments() {
        assert_eq!(
            parse_remote("web:/srv/x"),
            Some(RemoteArg {
                profile: "web".into(),
                path: "/srv/x".into()
            })
        );
        assert_eq!(parse_remote("web:").map(|r| r.path), Some(String::new()));
        assert_eq!(parse_remote("./local:file"), None);
        assert_eq!(parse_remote("/abs/path"), None);
        assert!(require_remote("plain").is_err());
    }
}
