//! The file-system commands on one connection: listings (MLSD, else `LIST -a`/`LIST`), stat
//! (MLST, else SIZE/MDTM, a CWD test and the parent's listing), MKD, DELE, RMD, RNFR/RNTO, HASH,
//! MFMT and AVBL. Where a server's `550` does not say what went wrong (vsftpd: "Delete
//! operation failed."), the path is looked at afterwards to tell a missing file from a denied one.

use std::time::Duration;

use chrono::Utc;
use suppaftp::{FtpError, Status};

use super::super::{Entry, EntryKind, ErrorKind, RemoteError, Result, names};
use super::errors::{self, Reply};
use super::listing::{parse_list_line, parse_mlsx};
use super::session::{Connection, timed};

/// A server hashing a large file takes a while before it answers.
const HASH_LIMIT: Duration = Duration::from_secs(30 * 60);

/// `VERB` for the login directory, `VERB path` otherwise.
fn with_arg(verb: &str, path: &str) -> String {
    if path.is_empty() || path == "." {
        verb.to_string()
    } else {
        format!("{verb} {path}")
    }
}

/// The name a stat result carries: the last component (the path itself for `/`).
fn display_name(path: &str) -> &str {
    match names::base_name(path) {
        "" => path,
        name => name,
    }
}

/// A reply whose text does not say what a 550/553 means.
fn unclear(err: &FtpError) -> bool {
    Reply::of(err).is_some_and(|r| errors::text_kind(&r.text).is_none())
}

impl Connection {
    /// Refuses a path FTP cannot carry: a line break would end the command early.
    pub fn usable(&self, path: &str) -> Result<()> {
        if path.contains(['\r', '\n']) {
            let detail = "FTP cannot send a name that contains a line break";
            return Err(RemoteError::new(ErrorKind::Unsupported, &self.endpoint, detail).at(path));
        }
        Ok(())
    }

    pub async fn read_dir(&mut self, path: &str) -> Result<Vec<Entry>> {
        self.usable(path)?;
        if self.features.mlst {
            let lines = self.lines(&with_arg("MLSD", path)).await;
            let lines = self.check(lines, path, ErrorKind::NotFound)?;
            let entries = lines
                .iter()
                .filter_map(|line| parse_mlsx(line))
                .filter(|line| !line.self_or_parent)
                .map(|line| line.entry);
            return Ok(entries.collect());
        }
        let lines = self.list_lines(path).await?;
        let now = Utc::now();
        let entries: Vec<Entry> = lines
            .iter()
            .filter_map(|line| parse_list_line(line, now))
            .collect();
        // vsftpd lists a missing directory as an empty one.
        if entries.is_empty() && !self.is_dir(path).await? {
            let detail = "no such directory";
            return Err(RemoteError::new(ErrorKind::NotFound, &self.endpoint, detail).at(path));
        }
        Ok(entries)
    }

    /// `LIST -a` shows dot files on Unix servers; a server that takes `-a` for a name gets
    /// plain `LIST` from then on.
    async fn list_lines(&mut self, path: &str) -> Result<Vec<String>> {
        if !self.list_without_a {
            match self.lines(&with_arg("LIST -a", path)).await {
                Ok(lines) => return Ok(lines),
                Err(err) if errors::breaks_session(&err) => {
                    return Err(self.fail(&err, path, ErrorKind::NotFound));
                }
                Err(_) => {}
            }
            let plain = self.lines(&with_arg("LIST", path)).await;
            let lines = self.check(plain, path, ErrorKind::NotFound)?;
            self.list_without_a = true;
            return Ok(lines);
        }
        let plain = self.lines(&with_arg("LIST", path)).await;
        self.check(plain, path, ErrorKind::NotFound)
    }

    /// Whether `path` is a directory one can enter (CWD there and back).
    pub async fn is_dir(&mut self, path: &str) -> Result<bool> {
        match timed(self.limit, self.ftp.cwd(path)).await {
            Ok(()) => {
                self.return_home().await?;
                Ok(true)
            }
            Err(err) if errors::breaks_session(&err) => {
                Err(self.fail(&err, path, ErrorKind::NotFound))
            }
            Err(_) => Ok(false),
        }
    }

    /// Relative paths are relative to the login directory, so every CWD test goes back there.
    async fn return_home(&mut self) -> Result<()> {
        let home = self.home.clone();
        let back = timed(self.limit, self.ftp.cwd(&home)).await;
        back.map_err(|err| {
            // Where later relative paths would land is unknown: start a fresh session.
            self.broken = true;
            self.fail(&err, &home, ErrorKind::ConnectionLost)
        })
    }

    pub async fn stat(&mut self, path: &str) -> Result<Entry> {
        self.usable(path)?;
        let name = display_name(path).to_string();
        let entry = if self.features.mlst {
            let entry = self.mlst(path).await?;
            match entry.kind {
                EntryKind::Symlink => self.follow(path, entry).await?,
                _ => entry,
            }
        } else {
            self.probe(path).await?
        };
        Ok(Entry { name, ..entry })
    }

    async fn mlst(&mut self, path: &str) -> Result<Entry> {
        let asked = self
            .ftp
            .custom_command(with_arg("MLST", path), &[Status::RequestedFileActionOk]);
        let reply = timed(self.limit, asked).await;
        let reply = self.check(reply, path, ErrorKind::NotFound)?;
        let text = super::wire::decode(&reply.body);
        // The facts are on the line that starts with one space (RFC 3659 §7.2).
        text.lines()
            .skip(1)
            .find_map(|line| parse_mlsx(line.strip_prefix(' ')?))
            .map(|line| line.entry)
            .ok_or_else(|| {
                let detail = format!("unexpected MLST reply: {}", text.trim());
                RemoteError::new(ErrorKind::Protocol, &self.endpoint, detail).at(path)
            })
    }

    /// A symlink's target, as far as probing tells.
    async fn follow(&mut self, path: &str, link: Entry) -> Result<Entry> {
        if self.is_dir(path).await? {
            return Ok(Entry::new(&link.name, EntryKind::Dir));
        }
        match timed(self.limit, self.ftp.size(path)).await {
            Ok(size) => Ok(Entry {
                kind: EntryKind::File,
                size: size as u64,
                link_target: None,
                ..link
            }),
            // A dangling link stays a link.
            Err(err) if !errors::breaks_session(&err) => Ok(link),
            Err(err) => Err(self.fail(&err, path, ErrorKind::NotFound)),
        }
    }

    /// Without MLST: SIZE answers for files, CWD for directories, the parent's listing for the
    /// rest (a file SIZE refuses, an entry that cannot be entered).
    async fn probe(&mut self, path: &str) -> Result<Entry> {
        let size_err = match timed(self.limit, self.ftp.size(path)).await {
            Ok(size) => {
                let mtime = self.mdtm(path).await?;
                return Ok(Entry {
                    size: size as u64,
                    mtime,
                    ..Entry::new(path, EntryKind::File)
                });
            }
            Err(err) if errors::breaks_session(&err) => {
                return Err(self.fail(&err, path, ErrorKind::NotFound));
            }
            Err(err) => err,
        };
        if self.is_dir(path).await? {
            return Ok(Entry::new(path, EntryKind::Dir));
        }
        let parent = names::parent(&names::normalize(path)).unwrap_or_else(|| ".".into());
        let wanted = display_name(path);
        if let Ok(siblings) = self.read_dir(&parent).await
            && let Some(entry) = siblings.into_iter().find(|e| e.name == wanted)
        {
            return Ok(entry);
        }
        Err(self.fail(&size_err, path, ErrorKind::NotFound))
    }

    async fn mdtm(&mut self, path: &str) -> Result<Option<i64>> {
        if !self.features.mdtm {
            return Ok(None);
        }
        match timed(self.limit, self.ftp.mdtm(path)).await {
            Ok(time) => Ok(Some(time.and_utc().timestamp())),
            Err(err) if errors::breaks_session(&err) => {
                Err(self.fail(&err, path, ErrorKind::NotFound))
            }
            Err(_) => Ok(None),
        }
    }

    pub async fn mkdir(&mut self, path: &str) -> Result<()> {
        self.usable(path)?;
        let made = timed(self.limit, self.ftp.mkdir(path)).await;
        let Err(err) = made else { return Ok(()) };
        let failure = self.fail(&err, path, ErrorKind::Permission);
        if self.broken {
            return Err(failure);
        }
        // Few servers say "exists" plainly; mkdir_all needs to know.
        if self.stat(path).await.is_ok() {
            let detail = failure.detail;
            return Err(
                RemoteError::new(ErrorKind::AlreadyExists, &self.endpoint, detail).at(path),
            );
        }
        Err(failure)
    }

    pub async fn remove_file(&mut self, path: &str) -> Result<()> {
        self.usable(path)?;
        let removed = timed(self.limit, self.ftp.rm(path)).await;
        let Err(err) = removed else { return Ok(()) };
        self.settle(&err, path, false).await
    }

    pub async fn remove_dir(&mut self, path: &str) -> Result<()> {
        self.usable(path)?;
        let removed = timed(self.limit, self.ftp.rmdir(path)).await;
        let Err(err) = removed else { return Ok(()) };
        self.settle(&err, path, true).await
    }

    /// Decides an unclear refusal to remove `path` by looking at it: missing, a directory with
    /// entries, or there and denied.
    async fn settle(&mut self, err: &FtpError, path: &str, dir: bool) -> Result<()> {
        let failure = self.fail(err, path, ErrorKind::Permission);
        if self.broken || !unclear(err) {
            return Err(failure);
        }
        let kind = match self.stat(path).await {
            Err(seen) if seen.kind == ErrorKind::NotFound => ErrorKind::NotFound,
            Ok(entry) if dir && entry.is_dir() => match self.read_dir(path).await {
                Ok(entries) if entries.iter().any(|e| e.name != "." && e.name != "..") => {
                    ErrorKind::NotEmpty
                }
                _ => ErrorKind::Permission,
            },
            _ => ErrorKind::Permission,
        };
        Err(RemoteError { kind, ..failure })
    }

    /// RNFR/RNTO; a server that will not replace an existing file gets it removed first.
    pub async fn rename(&mut self, from: &str, to: &str) -> Result<()> {
        self.usable(from)?;
        self.usable(to)?;
        let renamed = timed(self.limit, self.ftp.rename(from, to)).await;
        let Err(err) = renamed else { return Ok(()) };
        let failure = self.fail(&err, from, ErrorKind::NotFound);
        if self.broken {
            return Err(failure);
        }
        let target_is_file = matches!(self.stat(to).await, Ok(e) if !e.is_dir());
        if !target_is_file || self.stat(from).await.is_err() {
            return Err(failure);
        }
        self.remove_file(to).await?;
        let again = timed(self.limit, self.ftp.rename(from, to)).await;
        self.check(again, from, ErrorKind::Permission)
    }

    /// The server's SHA-256 of a file through `HASH`, where FEAT offers it.
    pub async fn sha256(&mut self, path: &str) -> Result<Option<String>> {
        self.usable(path)?;
        let Some(selected) = self.features.sha256 else {
            return Ok(None);
        };
        if !selected && !self.hash_selected {
            match self
                .command("OPTS HASH SHA-256", &[Status::CommandOk])
                .await
            {
                Ok(_) => self.hash_selected = true,
                Err(err) if !errors::breaks_session(&err) => return Ok(None),
                Err(err) => return Err(self.fail(&err, path, ErrorKind::Protocol)),
            }
        }
        let asked = self
            .ftp
            .custom_command(format!("HASH {path}"), &[Status::File]);
        let reply = timed(HASH_LIMIT, asked).await;
        let reply = self.check(reply, path, ErrorKind::NotFound)?;
        let text = super::wire::decode(&reply.body);
        match parse_hash(&text) {
            Some(hex) => Ok(Some(hex)),
            None => {
                let detail = format!("unexpected HASH reply: {}", text.trim());
                Err(RemoteError::new(ErrorKind::Protocol, &self.endpoint, detail).at(path))
            }
        }
    }

    pub async fn set_mtime(&mut self, path: &str, mtime: i64) -> Result<()> {
        self.usable(path)?;
        let refuse = |kind, detail: &str| RemoteError::new(kind, &self.endpoint, detail).at(path);
        if !self.features.mfmt {
            return Err(refuse(
                ErrorKind::Unsupported,
                "the server does not offer MFMT",
            ));
        }
        let Some(stamp) = chrono::DateTime::from_timestamp(mtime, 0) else {
            return Err(refuse(
                ErrorKind::Unsupported,
                "modification time out of range",
            ));
        };
        let line = format!("MFMT {} {path}", stamp.format("%Y%m%d%H%M%S"));
        let set = self.command(&line, &[Status::File]).await;
        self.check(set, path, ErrorKind::NotFound).map(|_| ())
    }

    /// Free bytes through the draft `AVBL` command, where FEAT offers it.
    pub async fn free_space(&mut self, path: &str) -> Result<Option<u64>> {
        self.usable(path)?;
        if !self.features.avbl {
            return Ok(None);
        }
        let asked = self.command(&with_arg("AVBL", path), &[Status::File]).await;
        let reply = self.check(asked, path, ErrorKind::NotFound)?;
        Ok(reply
            .text
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok()))
    }
}

/// `213 SHA-256 0-1234 <hex> name` → the lowercase hex.
fn parse_hash(reply: &str) -> Option<String> {
    let mut words = reply.split_whitespace().skip(1);
    let algorithm = words.next()?;
    let _range = words.next()?;
    let hex = words.next()?;
    let ok = algorithm.eq_ignore_ascii_case("SHA-256")
        && hex.len() == 64
        && hex.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| hex.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_replies() {
        let hex = "B94D27B9934D3E08A52E52D7DA7DABFAC484EFE37A5380EE9088F7ACE2EFCDE9";
        assert_eq!(
            parse_hash(&format!("213 SHA-256 0-11 {hex} dir/hello world.txt\r\n")),
            Some(hex.to_ascii_lowercase())
        );
        assert_eq!(parse_hash(&format!("213 MD5 0-11 {hex} x")), None);
        assert_eq!(parse_hash("213 SHA-256 0-11 abc x"), None);
    }

    #[test]
    fn arguments_and_names() {
        assert_eq!(with_arg("MLSD", ""), "MLSD");
        assert_eq!(with_arg("MLSD", "."), "MLSD");
        assert_eq!(with_arg("MLSD", "/a b"), "MLSD /a b");
        assert_eq!(display_name("/srv/x.txt"), "x.txt");
        assert_eq!(display_name("/"), "/");
    }
}
