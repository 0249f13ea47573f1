//! Host-key questions from the engine: an `Event` with an id goes to every watcher, and the first
//! `AnswerHostKey` naming that id decides. With no one to answer, or no answer in five minutes,
//! the key is refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::oneshot;

use super::Shared;
use super::api::Event;
use crate::remote::trust::{HostKeyQuestion, TrustPrompt};

const ANSWER_TIMEOUT: Duration = Duration::from_secs(300);

static NEXT_QUESTION: AtomicU64 = AtomicU64::new(1);

/// Puts questions to the engine's watchers.
pub(crate) struct EnginePrompt {
    pub shared: std::sync::Weak<Shared>,
}

#[async_trait]
impl TrustPrompt for EnginePrompt {
    async fn confirm_host_key(&self, question: &HostKeyQuestion) -> bool {
        let Some(shared): Option<Arc<Shared>> = self.shared.upgrade() else {
            return false;
        };
        if !shared.interactive {
            return false;
        }
        let id = NEXT_QUESTION.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        super::lock(&shared.questions).insert(id, tx);
        shared.emit(Event::HostKeyQuestion {
            question: id,
            details: question.clone(),
        });
        let answer = tokio::time::timeout(ANSWER_TIMEOUT, rx).await;
        super::lock(&shared.questions).remove(&id);
        matches!(answer, Ok(Ok(true)))
    }
}
