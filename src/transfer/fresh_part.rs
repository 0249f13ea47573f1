//! A server that refuses to open an existing part file again (a drop box with create but no
//! overwrite or append permission): resuming or rewriting `<name>.ferry-part` fails the same
//! way on every attempt, so the copy starts over under a fresh part name, and the stale part
//! is removed where the server lets us.

use super::copy::{CopyOutcome, FileCopy, PART_SUFFIX};
use crate::remote::{ErrorKind, RemoteError, Result};

/// After `refused` from writing `part`: starts over under a fresh name when `part` exists
/// (otherwise the refusal stands, whatever its reason; a lost connection is that error). Fresh parts of earlier attempts cannot
/// be continued either (the server would refuse them the same way), so they are removed.
pub(super) async fn start_over(
    copy: &FileCopy<'_>,
    part: &str,
    refused: RemoteError,
) -> Result<CopyOutcome> {
    match copy.dst.stat(part).await {
        Ok(_) => {}
        Err(err) if err.kind == ErrorKind::NotFound => return Err(refused),
        // The connection went too (a cut as the blocks wound down): the next attempt asks again.
        Err(err) => return Err(err),
    }
    remove_earlier(copy).await;
    let fresh = fresh_name(copy.dst_path);
    tracing::warn!(
        part,
        fresh,
        "the server refuses to open the existing part file again (no overwrite or append \
         permission): starting over under a fresh part name"
    );
    remembered(copy).push(fresh.clone());
    // In one stream: blocks would each open the part again, which this server refuses.
    copy.progress
        .segments
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clear();
    let outcome = match copy.copy_streamed(&fresh, false).await {
        Ok(outcome) => outcome,
        Err(err) => {
            remove_earlier(copy).await;
            let detail = format!(
                "the server refuses to open the existing part file {part} again (no overwrite \
                 or append permission), and a fresh part file failed too: {err}"
            );
            return Err(RemoteError::new(err.kind, copy.dst.endpoint(), detail));
        }
    };
    remembered(copy).clear();
    if let Err(err) = copy.dst.remove_file(part).await
        && err.kind != ErrorKind::NotFound
    {
        tracing::debug!(%err, "could not remove the part file the server would not reopen");
    }
    Ok(outcome)
}

fn remembered<'a>(copy: &'a FileCopy<'_>) -> std::sync::MutexGuard<'a, Vec<String>> {
    copy.progress
        .fresh_parts
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes the fresh parts of earlier attempts, forgetting those that are gone.
async fn remove_earlier(copy: &FileCopy<'_>) {
    let earlier = std::mem::take(&mut *remembered(copy));
    let mut left = Vec::new();
    for fresh in earlier {
        match copy.dst.remove_file(&fresh).await {
            Ok(()) => {}
            Err(err) if err.kind == ErrorKind::NotFound => {}
            Err(err) => {
                tracing::debug!(%err, fresh, "could not remove an earlier fresh part file");
                left.push(fresh);
            }
        }
    }
    remembered(copy).extend(left);
}

/// `<name>.<8 hex digits>.ferry-part`: a name no earlier attempt used.
fn fresh_name(path: &str) -> String {
    format!("{path}.{:08x}{PART_SUFFIX}", rand::random::<u32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_names_are_part_files_of_their_own() {
        let name = fresh_name("/in/a.bin");
        assert!(name.starts_with("/in/a.bin."), "{name}");
        assert!(name.ends_with(PART_SUFFIX), "{name}");
        assert_eq!(name.len(), "/in/a.bin.".len() + 8 + PART_SUFFIX.len());
        assert_ne!(fresh_name("/in/a.bin"), fresh_name("/in/a.bin"));
    }
}
