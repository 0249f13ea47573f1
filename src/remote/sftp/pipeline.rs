//! Sending an SFTP request the moment it is queued. russh-sftp's request methods are `async`
//! and send their packet only when first polled; a pipeline queues many of them and must not
//! wait for the previous reply before the next packet leaves.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// A request already on the wire; awaiting it yields the reply.
pub(super) type InFlight<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Polls `request` once (which sends its packet) and returns the wait for its reply.
pub(super) fn send_now<T: Send + 'static>(
    request: impl Future<Output = T> + Send + 'static,
) -> InFlight<T> {
    let mut request = Box::pin(request);
    // The no-op waker is fine: whoever awaits the result polls again with a real one.
    let mut context = Context::from_waker(Waker::noop());
    match request.as_mut().poll(&mut context) {
        Poll::Ready(value) => Box::pin(std::future::ready(value)),
        Poll::Pending => request,
    }
}

/// Closes an SFTP handle from a stream dropped before it finished, without blocking the drop.
pub(super) fn close_in_background(
    sftp: &std::sync::Arc<russh_sftp::client::RawSftpSession>,
    handle: String,
) {
    let sftp = sftp.clone();
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            let _ = sftp.close(handle).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[tokio::test]
    async fn the_request_starts_before_it_is_awaited() {
        let started = Arc::new(AtomicBool::new(false));
        let flag = started.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
        let reply = send_now(async move {
            flag.store(true, Ordering::SeqCst);
            rx.await.unwrap_or(0)
        });
        assert!(started.load(Ordering::SeqCst));
        tx.send(7).unwrap();
        assert_eq!(reply.await, 7);
        assert_eq!(send_now(async { 3 }).await, 3);
    }
}
