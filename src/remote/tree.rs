//! Operations on whole trees and single entries that every protocol shares: the entry itself
//! without following a final symlink, and removing a directory tree (links are removed, never
//! followed).

use super::{Entry, EntryKind, ErrorKind, Remote, RemoteError, Result, names};

/// The entry itself (a symlink is not followed), found by listing its parent.
pub async fn lstat(remote: &dyn Remote, path: &str) -> Result<Entry> {
    let name = names::base_name(path);
    if let Some(parent) = names::parent(path)
        && let Ok(entries) = remote.read_dir(&parent).await
        && let Some(entry) = entries.into_iter().find(|e| e.name == name)
    {
        return Ok(entry);
    }
    remote.stat(path).await
}

/// Removes a file, a link, or (with `recursive`) a directory tree without following links.
pub async fn remove(remote: &dyn Remote, path: &str, recursive: bool) -> Result<()> {
    let entry = lstat(remote, path).await?;
    match (entry.kind, recursive) {
        (EntryKind::Dir, false) => Err(RemoteError::new(
            ErrorKind::NotEmpty,
            remote.endpoint(),
            "is a directory (remove it with its contents: rm -r)",
        )
        .at(path)),
        (EntryKind::Dir, true) => remove_tree(remote, path).await,
        _ => remote.remove_file(path).await,
    }
}

/// Removes a directory tree without following symlinks (a link is removed, not its target).
async fn remove_tree(remote: &dyn Remote, root: &str) -> Result<()> {
    let mut stack = vec![(root.to_string(), false)];
    while let Some((dir, emptied)) = stack.pop() {
        if emptied {
            remote.remove_dir(&dir).await?;
            continue;
        }
        stack.push((dir.clone(), true));
        let (entries, refused) = remote.list(&dir).await?;
        if !refused.is_empty() {
            return Err(RemoteError::new(
                ErrorKind::HostileName,
                remote.endpoint(),
                format!(
                    "it holds names ferry will not touch ({}); remove them with another tool",
                    refused.join(", ")
                ),
            )
            .at(&dir));
        }
        for entry in entries {
            let path = names::join(&dir, &entry.name);
            match entry.kind {
                EntryKind::Dir => stack.push((path, false)),
                _ => remote.remove_file(&path).await?,
            }
        }
    }
    Ok(())
}
