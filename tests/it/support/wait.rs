//! Waiting for conditions with a deadline: the only way tests synchronise
//! with servers and with the connector (never a bare sleep).

use std::future::Future;
use std::time::{Duration, Instant};

/// How often conditions are re-checked.
pub const POLL: Duration = Duration::from_millis(25);

/// Polls `f` until it yields `Some`, or `deadline` passes (then `None`).
pub async fn wait_for<T, F, Fut>(deadline: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let end = Instant::now() + deadline;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if Instant::now() >= end {
            return None;
        }
        tokio::time::sleep(POLL.min(end.saturating_duration_since(Instant::now()))).await;
    }
}

/// Polls `f` until it is true (then `true`) or `deadline` passes (then
/// `false`). `what` is for the caller's message only; see [`must_wait_until`].
pub async fn wait_until<F, Fut>(what: &str, deadline: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let _ = what;
    wait_for(deadline, || {
        let fut = f();
        async move { fut.await.then_some(()) }
    })
    .await
    .is_some()
}

/// Like [`wait_until`], but panics naming `what` when the deadline passes.
pub async fn must_wait_until<F, Fut>(what: &str, deadline: Duration, f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    if !wait_until(what, deadline, f).await {
        panic!("timed out after {deadline:?} waiting until {what}");
    }
}

/// Blocking form of [`wait_for`], for code that runs outside a runtime
/// (server start-up from `shared_*()`).
pub fn poll_blocking<T>(deadline: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + deadline;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(POLL.min(end.saturating_duration_since(Instant::now())));
    }
}
