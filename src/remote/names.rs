//! Names from a server are data, not paths: a name with `/`, `\`, NUL, or equal to `.` or `..`
//! is refused before it can touch the local disk, and local targets are joined only from safe
//! names so a download never writes outside its target directory. Also `/`-path helpers.

use super::{Entry, ErrorKind, RemoteError};
use crate::text::shown;

/// Whether `name` is a single, harmless path component.
pub fn is_safe_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// Splits entries into safe ones and the escaped names of unsafe ones (`.`/`..` are dropped).
pub fn partition_safe(entries: Vec<Entry>) -> (Vec<Entry>, Vec<String>) {
    let mut safe = Vec::with_capacity(entries.len());
    let mut refused = Vec::new();
    for entry in entries {
        if entry.name == "." || entry.name == ".." {
            continue;
        }
        if is_safe_name(&entry.name) {
            safe.push(entry);
        } else {
            refused.push(shown(&entry.name).into_owned());
        }
    }
    (safe, refused)
}

/// `dir/name` on the local disk (as ferry carries paths, see `text`), refusing a name that
/// could leave `dir`.
pub fn local_child(dir: &str, name: &str) -> Result<String, RemoteError> {
    if !is_safe_name(name) {
        return Err(RemoteError::new(
            ErrorKind::HostileName,
            &Default::default(),
            format!("refusing to use {} as a local file name", shown(name)),
        ));
    }
    Ok(join(dir, name))
}

/// Joins a remote directory and a name with `/`.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir == "." {
        name.to_string()
    } else if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Removes duplicate and trailing slashes and `.` components (not `..`: servers resolve those).
pub fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// The parent of a normalized path; None at the root or for a single relative name.
pub fn parent(path: &str) -> Option<String> {
    if path == "/" || path == "." {
        return None;
    }
    match path.rfind('/') {
        Some(0) => Some("/".to_string()),
        Some(i) => Some(path[..i].to_string()),
        None => None,
    }
}

/// The last component of a path.
pub fn base_name(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::EntryKind;

    #[test]
    fn hostile_names_are_refused() {
        for bad in ["", ".", "..", "a/b", "a\\b", "nul\0x", "../escape"] {
            assert!(!is_safe_name(bad), "{bad:?}");
        }
        assert!(is_safe_name("report..final.txt"));
        assert!(is_safe_name(".hidden"));
        let entries = ["ok", "..", "a/b", "."]
            .into_iter()
            .map(|n| Entry::new(n, EntryKind::File))
            .collect();
        let (safe, refused) = partition_safe(entries);
        assert_eq!(safe.len(), 1);
        assert_eq!(refused, vec!["a/b".to_string()]);
        assert!(local_child("/tmp/x", "../etc").is_err());
        assert_eq!(local_child("/tmp/x", "a").unwrap(), "/tmp/x/a");
    }

    #[test]
    fn path_helpers() {
        assert_eq!(normalize("//srv///www/./x/"), "/srv/www/x");
        assert_eq!(normalize(""), ".");
        assert_eq!(parent("/srv/www"), Some("/srv".into()));
        assert_eq!(parent("/srv"), Some("/".into()));
        assert_eq!(parent("/"), None);
        assert_eq!(parent("rel"), None);
        assert_eq!(join("/srv", "a"), "/srv/a");
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(base_name("/srv/www/"), "www");
    }
}
