//! Talking to the engine from a command: a request and its answer, with the engine's
//! questions (host keys, certificates, existing destinations) answered on the terminal
//! meanwhile, and listings gathered from their chunks.

use anyhow::bail;

use super::prompt;
use crate::engine::api::{Event, Question, Request, Response};
use crate::engine::{EngineClient, Subscription};
use crate::remote::Entry;

/// A command's line to the engine: the client and a subscription that answers questions.
pub struct Line {
    pub client: EngineClient,
    pub watch: Subscription,
}

impl Line {
    pub fn new(client: EngineClient) -> Line {
        let watch = client.subscribe(prompt::TerminalPrompt::available());
        Line { client, watch }
    }

    /// Sends `request` and returns its (first) response; an `Error` becomes an error.
    pub async fn call(&mut self, request: Request) -> anyhow::Result<Response> {
        let mut replies = self.client.stream(request).await;
        loop {
            tokio::select! {
                reply = replies.recv() => return ok(reply),
                event = self.watch.next_event() => {
                    if let Some(Event::Question { id, question }) = event {
                        self.answer(id, question).await;
                    }
                }
            }
        }
    }

    /// A listing, gathered: its entries, the resolved path and the refused names.
    pub async fn list(
        &mut self,
        request: Request,
    ) -> anyhow::Result<(Vec<Entry>, String, Vec<String>)> {
        let mut replies = self.client.stream(request).await;
        let mut entries = Vec::new();
        loop {
            tokio::select! {
                reply = replies.recv() => match ok(reply)? {
                    Response::Entries { entries: chunk } => entries.extend(chunk),
                    Response::Listed { path, refused, .. } => return Ok((entries, path, refused)),
                    other => bail!("unexpected answer from the engine: {other:?}"),
                },
                event = self.watch.next_event() => {
                    if let Some(Event::Question { id, question }) = event {
                        self.answer(id, question).await;
                    }
                }
            }
        }
    }

    async fn answer(&self, id: u64, question: Question) {
        let answer = tokio::task::spawn_blocking(move || prompt::answer(&question))
            .await
            .ok()
            .flatten();
        if let Some(answer) = answer {
            let _ = self
                .client
                .request(Request::Answer {
                    question: id,
                    answer,
                })
                .await;
        }
    }

    pub async fn shutdown(self) {
        self.client.shutdown().await;
    }
}

fn ok(reply: Option<Response>) -> anyhow::Result<Response> {
    match reply {
        Some(Response::Error(failure)) => Err(failure.into()),
        Some(response) => Ok(response),
        None => bail!("the engine stopped before answering"),
    }
}
