//! A remote whose server keeps names in a legacy character set: every path going out is
//! converted to the server's bytes and every name coming back to text (`charset`), so the
//! protocols below deal in exact bytes only.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use super::charset::Charset;
use super::{
    Capabilities, Endpoint, Entry, ErrorKind, Finish, GrowingHash, ReadStream, ReadWhole, Remote,
    RemoteError, Result, SessionInfo, WholeFile, WholeRead, WholeWrite, WriteStream,
};
use crate::text::shown;

/// `inner`, with names converted by `charset`.
pub struct Recoded {
    inner: Arc<dyn Remote>,
    charset: Charset,
}

impl Recoded {
    pub fn new(inner: Arc<dyn Remote>, charset: Charset) -> Recoded {
        Recoded { inner, charset }
    }

    /// `path` in the server's bytes, or why it cannot be written there.
    fn out(&self, path: &str) -> Result<String> {
        match self.charset.to_server(path) {
            Ok(wire) => Ok(wire.into_owned()),
            Err(c) => {
                let detail = format!(
                    "{} cannot be written in the server's character set {}",
                    shown(&c.to_string()),
                    self.charset.name()
                );
                Err(RemoteError::new(ErrorKind::Invalid, self.inner.endpoint(), detail).at(path))
            }
        }
    }

    fn text(&self, wire: &str) -> String {
        self.charset.from_server(wire).into_owned()
    }

    fn entry(&self, entry: Entry) -> Entry {
        Entry {
            name: self.text(&entry.name),
            link_target: entry.link_target.as_deref().map(|t| self.text(t)),
            ..entry
        }
    }

    /// An error from below, about the path as the caller wrote it.
    fn err(&self, err: RemoteError) -> RemoteError {
        let path = err.path.as_deref().map(|p| self.text(p));
        RemoteError { path, ..err }
    }
}

#[async_trait]
impl Remote for Recoded {
    fn endpoint(&self) -> &Endpoint {
        self.inner.endpoint()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn session_info(&self) -> SessionInfo {
        self.inner.session_info()
    }

    fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    async fn home(&self) -> Result<String> {
        let home = self.inner.home().await.map_err(|e| self.err(e))?;
        Ok(self.text(&home))
    }

    async fn read_dir(&self, path: &str) -> Result<Vec<Entry>> {
        let entries = self.inner.read_dir(&self.out(path)?).await;
        let entries = entries.map_err(|e| self.err(e))?;
        Ok(entries.into_iter().map(|e| self.entry(e)).collect())
    }

    async fn stat(&self, path: &str) -> Result<Entry> {
        let entry = self.inner.stat(&self.out(path)?).await;
        Ok(self.entry(entry.map_err(|e| self.err(e))?))
    }

    async fn mkdir(&self, path: &str) -> Result<()> {
        let done = self.inner.mkdir(&self.out(path)?).await;
        done.map_err(|e| self.err(e))
    }

    async fn remove_file(&self, path: &str) -> Result<()> {
        let done = self.inner.remove_file(&self.out(path)?).await;
        done.map_err(|e| self.err(e))
    }

    async fn remove_dir(&self, path: &str) -> Result<()> {
        let done = self.inner.remove_dir(&self.out(path)?).await;
        done.map_err(|e| self.err(e))
    }

    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        let done = self.inner.rename(&self.out(from)?, &self.out(to)?).await;
        done.map_err(|e| self.err(e))
    }

    async fn read_from(&self, path: &str, offset: u64) -> Result<Box<dyn ReadStream>> {
        let stream = self.inner.read_from(&self.out(path)?, offset).await;
        stream.map_err(|e| self.err(e))
    }

    async fn write_at(&self, path: &str, offset: u64) -> Result<Box<dyn WriteStream>> {
        let stream = self.inner.write_at(&self.out(path)?, offset).await;
        stream.map_err(|e| self.err(e))
    }

    async fn write_whole(
        &self,
        path: &str,
        data: Bytes,
        how: Finish,
        read_back: bool,
    ) -> Result<WholeWrite> {
        let wire = self.out(path)?;
        let done = self.inner.write_whole(&wire, data, how, read_back).await;
        done.map_err(|e| self.err(e))
    }

    async fn write_wholes(&self, files: Vec<WholeFile>) -> Vec<Result<WholeWrite>> {
        let mut results: Vec<Option<Result<WholeWrite>>> = Vec::with_capacity(files.len());
        let mut sent = Vec::new();
        for file in files {
            match self.out(&file.path) {
                Ok(path) => {
                    results.push(None);
                    sent.push(WholeFile { path, ..file });
                }
                Err(err) => results.push(Some(Err(err))),
            }
        }
        let mut written = self.inner.write_wholes(sent).await.into_iter();
        results
            .into_iter()
            .map(|slot| match slot {
                Some(failed) => failed,
                None => match written.next() {
                    Some(result) => result.map_err(|e| self.err(e)),
                    None => Err(unanswered(self.inner.endpoint())),
                },
            })
            .collect()
    }

    async fn read_wholes(&self, files: &[WholeRead]) -> Vec<Result<ReadWhole>> {
        let mut sent = Vec::with_capacity(files.len());
        let mut refused = Vec::with_capacity(files.len());
        for file in files {
            match self.out(&file.path) {
                Ok(path) => {
                    refused.push(None);
                    sent.push(WholeRead {
                        path,
                        ..file.clone()
                    });
                }
                Err(err) => refused.push(Some(err)),
            }
        }
        let mut read = self.inner.read_wholes(&sent).await.into_iter();
        refused
            .into_iter()
            .map(|refusal| match refusal {
                Some(err) => Err(err),
                None => match read.next() {
                    Some(Ok(whole)) => Ok(ReadWhole {
                        entry: self.entry(whole.entry),
                        ..whole
                    }),
                    Some(Err(err)) => Err(self.err(err)),
                    None => Err(unanswered(self.inner.endpoint())),
                },
            })
            .collect()
    }

    async fn rename_all(&self, pairs: &[(String, String)]) -> Vec<Result<()>> {
        let mut out = Vec::with_capacity(pairs.len());
        for (from, to) in pairs {
            out.push(self.rename(from, to).await);
        }
        out
    }

    async fn sha256(&self, path: &str) -> Result<Option<String>> {
        let digest = self.inner.sha256(&self.out(path)?).await;
        digest.map_err(|e| self.err(e))
    }

    async fn sha256_while_writing(&self, path: &str) -> Option<Box<dyn GrowingHash>> {
        let wire = self.out(path).ok()?;
        self.inner.sha256_while_writing(&wire).await
    }

    async fn set_mtime(&self, path: &str, mtime: i64) -> Result<()> {
        let done = self.inner.set_mtime(&self.out(path)?, mtime).await;
        done.map_err(|e| self.err(e))
    }

    async fn free_space(&self, path: &str) -> Result<Option<u64>> {
        let free = self.inner.free_space(&self.out(path)?).await;
        free.map_err(|e| self.err(e))
    }

    async fn close(&self) {
        self.inner.close().await
    }
}

/// A request the layer below gave no answer for (it answers one per request).
fn unanswered(endpoint: &Endpoint) -> RemoteError {
    RemoteError::new(ErrorKind::Protocol, endpoint, "a request went unanswered")
}
