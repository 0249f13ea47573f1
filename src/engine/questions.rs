//! Questions the engine puts to people: an unknown host key, an FTPS certificate that does not
//! verify, a destination that exists. Each becomes a `Question` event with an id and stays
//! pending until someone answers with `Request::Answer`, so a watcher that attaches later still
//! sees it. Whether anyone can answer depends on who is attached right now (watchers that
//! subscribed as answerers), not on how the engine started: with nobody to ask, or once the
//! last answerer leaves, the configured policy decides. A changed host key is never a
//! question: it is refused and shown as a `Refused` event.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::Shared;
use super::api::{Event, PendingQuestion};
use crate::remote::trust::{
    CertificateQuestion, HostKeyDecision, HostKeyQuestion, HostKeyRefusal, TrustPrompt,
};
use crate::transfer::conflict::{Conflict, ConflictChoice, ConflictPrompt};
use crate::transfer::model::OverwritePolicy;

/// How long a question waits for an answer before the policy decides.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(300);

/// Something only a person can decide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "question", rename_all = "kebab-case")]
pub enum Question {
    /// A server's SSH host key is in no known_hosts file.
    HostKey(HostKeyQuestion),
    /// An FTPS certificate neither verifies nor is pinned.
    Certificate(CertificateQuestion),
    /// A transfer's destination exists and the request said to ask.
    Exists(Conflict),
}

/// The answer to a question, of the question's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "kebab-case")]
pub enum Answer {
    HostKey {
        decision: HostKeyDecision,
    },
    /// Trust and pin the certificate, or not.
    Certificate {
        trust: bool,
    },
    Exists {
        choice: ConflictChoice,
    },
}

/// Something refused for the user's safety, to be shown (there is nothing to decide).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "refusal", rename_all = "kebab-case")]
pub enum Refusal {
    HostKeyChanged(HostKeyRefusal),
}

/// The questions waiting for answers, and who can answer.
pub(crate) struct Questions {
    next: AtomicU64,
    pending: Mutex<BTreeMap<u64, (Question, oneshot::Sender<Answer>)>>,
    /// Answers that apply to the rest of a batch: batch -> policy.
    batch_choices: Mutex<HashMap<u64, OverwritePolicy>>,
    /// One conflict question at a time per batch, so transfers running side by side wait for
    /// the first answer (which may cover them) instead of each asking at once.
    batch_gates: Mutex<HashMap<u64, Arc<tokio::sync::Mutex<()>>>>,
    /// Certificates trusted while this engine runs: (profile, sha256).
    trusted_certificates: Mutex<HashSet<(String, String)>>,
}

impl Default for Questions {
    fn default() -> Questions {
        Questions {
            next: AtomicU64::new(1),
            pending: Mutex::new(BTreeMap::new()),
            batch_choices: Mutex::new(HashMap::new()),
            batch_gates: Mutex::new(HashMap::new()),
            trusted_certificates: Mutex::new(HashSet::new()),
        }
    }
}

impl Questions {
    pub fn pending(&self) -> Vec<PendingQuestion> {
        super::lock(&self.pending)
            .iter()
            .map(|(id, (question, _))| PendingQuestion {
                id: *id,
                question: question.clone(),
            })
            .collect()
    }

    /// Hands an answer to the question's asker; false when no such question waits.
    pub fn answer(&self, id: u64, answer: Answer) -> bool {
        match super::lock(&self.pending).remove(&id) {
            Some((_, tx)) => tx.send(answer).is_ok(),
            None => false,
        }
    }

    pub fn forget_batch(&self, batch: u64) {
        super::lock(&self.batch_choices).remove(&batch);
        super::lock(&self.batch_gates).remove(&batch);
    }

    fn batch_gate(&self, batch: u64) -> Arc<tokio::sync::Mutex<()>> {
        Arc::clone(super::lock(&self.batch_gates).entry(batch).or_default())
    }
}

/// Puts `question` to the attached answerers and waits; None when nobody is attached, the
/// last one leaves, nobody answers in time, or the engine stops (the caller's policy decides).
pub(crate) async fn ask(shared: &Shared, question: Question) -> Option<Answer> {
    let questions = &shared.questions;
    let mut answerers = shared.hub.answerers.subscribe();
    if *answerers.borrow_and_update() == 0 {
        return None;
    }
    let id = questions.next.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = oneshot::channel();
    super::lock(&questions.pending).insert(id, (question.clone(), tx));
    shared.emit(Event::Question { id, question });
    let nobody_left = async {
        while answerers.changed().await.is_ok() {
            if *answerers.borrow_and_update() == 0 {
                return;
            }
        }
    };
    let answer = tokio::select! {
        answer = rx => answer.ok(),
        () = nobody_left => None,
        () = tokio::time::sleep(ANSWER_TIMEOUT) => None,
        () = shared.shutdown.cancelled() => None,
    };
    super::lock(&questions.pending).remove(&id);
    shared.emit(Event::QuestionClosed { id });
    answer
}

/// The engine's side of trust questions and destination conflicts.
pub(crate) struct EnginePrompt {
    pub shared: Weak<Shared>,
    /// The profile connections are made for.
    pub profile: String,
}

#[async_trait]
impl TrustPrompt for EnginePrompt {
    async fn confirm_host_key(&self, question: &HostKeyQuestion) -> bool {
        self.host_key_decision(question).await == HostKeyDecision::Remember
    }

    async fn host_key_decision(&self, question: &HostKeyQuestion) -> HostKeyDecision {
        let Some(shared) = self.shared.upgrade() else {
            return HostKeyDecision::Reject;
        };
        match ask(&shared, Question::HostKey(question.clone())).await {
            Some(Answer::HostKey { decision }) => decision,
            _ => HostKeyDecision::Reject,
        }
    }

    async fn host_key_refused(&self, refusal: &HostKeyRefusal) {
        if let Some(shared) = self.shared.upgrade() {
            shared.emit(Event::Refused {
                refusal: Refusal::HostKeyChanged(refusal.clone()),
            });
        }
    }

    async fn trust_certificate(&self, question: &CertificateQuestion) -> bool {
        let Some(shared) = self.shared.upgrade() else {
            return false;
        };
        let key = (
            self.profile.clone(),
            question.certificate.sha256_hex.clone(),
        );
        if super::lock(&shared.questions.trusted_certificates).contains(&key) {
            return true;
        }
        let trusted = matches!(
            ask(&shared, Question::Certificate(question.clone())).await,
            Some(Answer::Certificate { trust: true })
        );
        if trusted {
            super::lock(&shared.questions.trusted_certificates).insert(key);
            super::profiles::pin_certificate(&shared, &self.profile, &question.certificate).await;
        }
        trusted
    }
}

/// Destination conflicts of one transfer, asked through the engine.
pub(crate) struct EngineConflicts {
    pub shared: Weak<Shared>,
}

#[async_trait]
impl ConflictPrompt for EngineConflicts {
    async fn decide(&self, conflict: &Conflict) -> Option<OverwritePolicy> {
        let shared = self.shared.upgrade()?;
        let gate = shared.questions.batch_gate(conflict.batch);
        let _one_at_a_time = gate.lock().await;
        if let Some(policy) = super::lock(&shared.questions.batch_choices).get(&conflict.batch) {
            return Some(*policy);
        }
        let choice = match ask(&shared, Question::Exists(conflict.clone())).await {
            Some(Answer::Exists { choice }) => choice,
            _ => return None,
        };
        if choice.apply_to_batch {
            super::lock(&shared.questions.batch_choices).insert(conflict.batch, choice.policy);
        }
        Some(choice.policy)
    }
}

/// Shares the questions of an engine with its prompts.
pub(crate) fn prompt_for(shared: &Arc<Shared>, profile: &str) -> Arc<EnginePrompt> {
    Arc::new(EnginePrompt {
        shared: Arc::downgrade(shared),
        profile: profile.to_string(),
    })
}
