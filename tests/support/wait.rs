//! Waiting for a condition with a deadline, instead of sleeping for a guessed time: as fast as
//! the condition allows, and a clear failure naming what never happened.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How often a condition is looked at again.
const POLL: Duration = Duration::from_millis(10);

/// Waits until `done()` holds; fails the test naming `what` after `limit`.
pub async fn until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until `attempt()` gives a value; fails the test naming `what` after `limit`.
pub async fn until_some<T, F: Future<Output = Option<T>>>(
    what: &str,
    limit: Duration,
    mut attempt: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = attempt().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(POLL).await;
    }
}
