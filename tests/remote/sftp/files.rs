//! Listing and metadata: entries with links and permissions, stat, directories, removal,
//! rename over an existing file, modification times and free space.

use std::os::unix::fs::PermissionsExt;

use bytes::Bytes;
use ferry::remote::{EntryKind, ErrorKind, Remote};

use super::harness::{Target, twins};

async fn put(remote: &dyn Remote, path: &str, content: &[u8]) {
    let mut writer = remote.write_at(path, 0).await.unwrap();
    writer.write(Bytes::copy_from_slice(content)).await.unwrap();
    writer
        .finish(ferry::remote::Finish::default())
        .await
        .unwrap();
}

async fn get(remote: &dyn Remote, path: &str) -> Vec<u8> {
    let mut reader = remote.read_from(path, 0).await.unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = reader.next_chunk().await.unwrap() {
        out.extend_from_slice(&chunk);
    }
    out
}

async fn lists_files_dirs_and_links(target: &Target) {
    let remote = target.connect().await;
    let dir = target.path("list");
    remote.mkdir(&dir).await.unwrap();
    put(&remote, &format!("{dir}/a.txt"), b"hello").await;
    remote.mkdir(&format!("{dir}/sub")).await.unwrap();
    std::fs::set_permissions(
        target.disk("list/a.txt"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    std::os::unix::fs::symlink("a.txt", target.disk("list/link")).unwrap();

    let (mut entries, refused) = remote.list(&dir).await.unwrap();
    assert!(refused.is_empty());
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["a.txt", "link", "sub"]);
    let (file, link, sub) = (&entries[0], &entries[1], &entries[2]);
    assert_eq!(file.kind, EntryKind::File);
    assert_eq!(file.size, 5);
    assert_eq!(file.permissions, Some(0o640));
    assert!(file.mtime.is_some());
    assert!(file.owner.is_some() && file.group.is_some());
    assert_eq!(link.kind, EntryKind::Symlink);
    assert_eq!(link.link_target.as_deref(), Some("a.txt"));
    assert_eq!(sub.kind, EntryKind::Dir);
    if target.real {
        // OpenSSH names the owner in its long names.
        assert_eq!(file.owner.as_deref(), Some(target.user.as_str()));
    }

    // stat follows the link.
    let through = remote.stat(&format!("{dir}/link")).await.unwrap();
    assert_eq!((through.kind, through.size), (EntryKind::File, 5));
    assert_eq!(through.name, "link");
}
twins!(lists_files_dirs_and_links => list_in_process, list_real);

async fn directories_are_made_and_removed(target: &Target) {
    let remote = target.connect().await;
    let deep = target.path("a/b/c");
    remote.mkdir_all(&deep).await.unwrap();
    assert!(remote.stat(&deep).await.unwrap().is_dir());
    remote.mkdir_all(&deep).await.unwrap();
    let again = remote.mkdir(&deep).await.unwrap_err();
    assert_eq!(again.kind, ErrorKind::AlreadyExists, "{again}");

    let parent = target.path("a/b");
    let busy = remote.remove_dir(&parent).await.unwrap_err();
    assert_eq!(busy.kind, ErrorKind::NotEmpty, "{busy}");
    assert!(busy.to_string().contains(&parent), "{busy}");
    remote.remove_dir(&deep).await.unwrap();
    remote.remove_dir(&parent).await.unwrap();
    let gone = remote.stat(&parent).await.unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);

    let file = target.path("a/f");
    put(&remote, &file, b"x").await;
    remote.remove_file(&file).await.unwrap();
    assert_eq!(
        remote.stat(&file).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
}
twins!(directories_are_made_and_removed => dirs_in_process, dirs_real);

async fn rename_replaces_an_existing_target(target: &Target) {
    let remote = target.connect().await;
    assert!(remote.capabilities().atomic_rename);
    let (from, to) = (target.path("new.part"), target.path("report"));
    put(&remote, &to, b"old content").await;
    put(&remote, &from, b"new").await;
    remote.rename(&from, &to).await.unwrap();
    assert_eq!(get(&remote, &to).await, b"new");
    assert_eq!(
        remote.stat(&from).await.unwrap_err().kind,
        ErrorKind::NotFound
    );

    let missing = target.path("missing");
    let err = remote.rename(&missing, &to).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(err.to_string().contains(&missing), "{err}");
}
twins!(rename_replaces_an_existing_target => rename_in_process, rename_real);

async fn times_and_free_space(target: &Target) {
    let remote = target.connect().await;
    let path = target.path("dated");
    put(&remote, &path, b"x").await;
    remote.set_mtime(&path, 1_000_000_000).await.unwrap();
    assert_eq!(remote.stat(&path).await.unwrap().mtime, Some(1_000_000_000));
    let free = remote.free_space(&target.base).await.unwrap();
    match target.real {
        // OpenSSH offers statvfs@openssh.com; the in-process server does not.
        true => assert!(free.is_some_and(|bytes| bytes > 0)),
        false => assert_eq!(free, None),
    }
}
twins!(times_and_free_space => times_in_process, times_real);
