//! Running a bundle: small uploads or downloads of one request, claimed together, take one slot
//! and one connection and share a few exchanges with the server (`transfer::bundle`,
//! `transfer::gather`). Each member keeps its own record, events and stop reason, as a transfer
//! running alone would; a member that must be retried is retried alone.

use std::sync::Arc;
use std::time::Instant;

use super::Shared;
use super::api::Event;
use super::schedule::start_what_fits;
use super::worker::{
    Claim, announce_retry, copy_options, finish, keep_queue_fields, leaves_connection_usable,
    persist, stopped,
};
use crate::remote::{ErrorKind, RemoteError};
use crate::transfer::bundle::{Member, all_cancelled, execute_bundle};
use crate::transfer::copy::CopyOptions;
use crate::transfer::execute::ItemOutcome;
use crate::transfer::model::{Transfer, TransferState};
use crate::transfer::retry::RetryPolicy;

/// Starts the worker of a claimed bundle; when it ends, it starts what fits, as a transfer's
/// worker does.
pub(crate) fn launch(shared: &Arc<Shared>, claims: Vec<Claim>) {
    let shared = shared.clone();
    let tracker = shared.workers.clone();
    tracker.spawn(async move {
        for claim in &claims {
            persist(&shared, &claim.record);
            shared.emit(Event::Started {
                id: claim.record.id,
            });
        }
        run(&shared, claims).await;
        start_what_fits(&shared).await;
    });
}

/// One try at every member. Members that fail for a reason worth retrying go back to the
/// queue after the backoff, to run alone from then on: a connection that keeps dropping
/// lets single files through where a whole bundle would start over each time.
async fn run(shared: &Arc<Shared>, claims: Vec<Claim>) {
    let mut members = members_of(shared, claims);
    let Some(first) = members.first() else {
        return;
    };
    let options = copy_options(shared, &first.record);
    let profile = first.record.profile.clone();
    let retry = RetryPolicy::from_config(&shared.config.transfer);
    for member in &mut members {
        member.record.attempts += 1;
    }
    let started = Instant::now();
    let outcomes = attempt(shared, &profile, &mut members, &options).await;
    let elapsed = started.elapsed().as_millis() as u64;
    let mut failed = Vec::new();
    for (mut member, outcome) in members.into_iter().zip(outcomes) {
        member.record.duration_ms += elapsed;
        match outcome {
            Ok(outcome) => finish(shared, member.record, Ok(outcome)).await,
            Err(_) if member.cancel.is_cancelled() => stopped(shared, member.record).await,
            Err(error) => match retry.delay_before(member.record.attempts + 1, &error) {
                None => finish(shared, member.record, Err(error)).await,
                Some(delay) => failed.push((member, error, delay)),
            },
        }
    }
    let Some(delay) = failed.iter().map(|(_, _, delay)| *delay).max() else {
        return;
    };
    let mut waiting = Vec::with_capacity(failed.len());
    for (mut member, error, _) in failed {
        announce_retry(shared, &mut member.record, error, delay);
        waiting.push(member);
    }
    let tokens: Vec<_> = waiting.iter().map(|m| m.cancel.clone()).collect();
    tokio::select! {
        () = all_cancelled(&tokens) => {}
        () = tokio::time::sleep(delay) => {}
    }
    for member in waiting {
        match member.cancel.is_cancelled() {
            true => stopped(shared, member.record).await,
            false => requeue_alone(shared, member.record),
        }
    }
    shared.wake.notify_one();
}

/// Puts a member whose attempt failed back in the queue, to run by itself.
fn requeue_alone(shared: &Arc<Shared>, mut record: Transfer) {
    {
        let mut queue = shared.lock_queue();
        let Some(item) = queue.get_mut(record.id) else {
            return;
        };
        keep_queue_fields(&mut record, &item.record);
        record.state = TransferState::Queued;
        item.record = record.clone();
        item.cancel = None;
        item.alone = true;
    }
    persist(shared, &record);
}

/// The claimed transfers with their live counters from the queue.
fn members_of(shared: &Shared, claims: Vec<Claim>) -> Vec<Member> {
    let mut queue = shared.lock_queue();
    claims
        .into_iter()
        .filter_map(|claim| {
            let item = queue.get_mut(claim.record.id)?;
            let fresh = std::mem::take(&mut item.fresh);
            Some(Member {
                progress: item.progress.clone(),
                may_resume: !fresh || claim.record.attempts > 0,
                record: claim.record,
                cancel: claim.cancel,
            })
        })
        .collect()
}

/// One try at every member on one leased connection. Stops early only when every member is
/// cancelled; a member stopped alone ends when the bundle's exchange does.
async fn attempt(
    shared: &Arc<Shared>,
    profile: &str,
    members: &mut [Member],
    options: &CopyOptions,
) -> Vec<Result<ItemOutcome, RemoteError>> {
    let count = members.len();
    let tokens: Vec<_> = members.iter().map(|m| m.cancel.clone()).collect();
    let work = async {
        let pool = shared.pool(profile).await?;
        let lease = pool.acquire(0).await?;
        let outcomes = execute_bundle(members, &lease, &shared.local, options).await;
        match outcomes.iter().all(leaves_connection_usable) {
            true => lease.release(),
            false => drop(lease),
        }
        Ok::<_, RemoteError>(outcomes)
    };
    let result = tokio::select! {
        biased;
        () = all_cancelled(&tokens) => Err(RemoteError::new(ErrorKind::Cancelled, &Default::default(), "")),
        result = work => result,
    };
    match result {
        Ok(outcomes) => outcomes,
        Err(error) => vec![Err(error); count],
    }
}
