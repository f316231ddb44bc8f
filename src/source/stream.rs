//! The replication loop: open the binlog at the consumer's resume point,
//! feed it every event, and on a transient failure reconnect with capped
//! exponential backoff from wherever the consumer says it got to, so that
//! nothing is skipped or re-ordered.

use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::{FutureExt, StreamExt};
use mysql_common::binlog::events::Event;
use tokio::sync::watch;
use tracing::{info, warn};

use super::{open_binlog, SourceConfig, SourceError, StartAt};
use crate::telemetry;

/// The stage that receives events (the decoder).
pub trait EventConsumer {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Where the stream must (re)start so that nothing is lost.
    fn resume_at(&self) -> StartAt;
    /// Called after each (re)connection, before the first event.
    fn on_connected(&mut self);
    fn handle(&mut self, event: Event) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Called when no event is immediately ready: a good moment to flush.
    fn idle(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum RunError<E: std::error::Error + 'static> {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Consumer(E),
}

/// Exponential backoff between reconnects, capped, reset after a connection
/// that delivered events.
struct Backoff {
    next: Duration,
    max: Duration,
    /// Consecutive failures, for `errors.max.retries`.
    failures: u32,
}

impl Backoff {
    fn new() -> Self {
        Backoff { next: Duration::from_millis(250), max: Duration::from_secs(30), failures: 0 }
    }
    /// Counts a failure: the wait before the next attempt, or the error
    /// that ends the retries.
    fn fail(&mut self, cfg: &SourceConfig, last: &dyn std::fmt::Display) -> Result<Duration, SourceError> {
        self.failures += 1;
        if !cfg.may_retry(self.failures) {
            return Err(SourceError::GaveUp { endpoint: cfg.endpoint(), retries: self.failures - 1, last: last.to_string() });
        }
        Ok(self.take())
    }
    fn take(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }
    fn reset(&mut self) {
        *self = Backoff::new();
    }
}

/// Runs until `shutdown` turns true or a definite error occurs.
pub async fn run<C: EventConsumer + Send>(
    cfg: &SourceConfig,
    consumer: &mut C,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), RunError<C::Error>> {
    let mut backoff = Backoff::new();
    // With server heartbeats requested, silence longer than this means the
    // connection is dead even if TCP has not noticed.
    let silence_limit = Duration::from_millis(cfg.heartbeat_ms.max(1000) * 3);
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let start = consumer.resume_at();
        let opened = tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            r = open_binlog(cfg, &start) => r,
        };
        let mut stream = match opened {
            Ok(s) => s,
            Err(e) if e.is_transient() => {
                telemetry::reconnect();
                let wait = backoff.fail(cfg, &e)?;
                warn!(endpoint = %cfg.endpoint(), start = %start, error = %e, retry_in_ms = wait.as_millis() as u64, "binlog connection failed; retrying");
                tokio::select! {
                    _ = shutdown.changed() => return Ok(()),
                    _ = tokio::time::sleep(wait) => continue,
                }
            }
            Err(e) => return Err(e.into()),
        };
        info!(endpoint = %cfg.endpoint(), start = %start, "streaming binlog");
        telemetry::connected(true);
        consumer.on_connected();
        let mut delivered = false;
        let failure = loop {
            let next = match stream.next().now_or_never() {
                Some(item) => item,
                None => {
                    consumer.idle().await.map_err(RunError::Consumer)?;
                    let started = Instant::now();
                    tokio::select! {
                        _ = shutdown.changed() => {
                            telemetry::connected(false);
                            return Ok(());
                        }
                        item = stream.next() => item,
                        _ = tokio::time::sleep(silence_limit) => {
                            break Some(format!("no event or heartbeat for {} ms", started.elapsed().as_millis()));
                        }
                    }
                }
            };
            match next {
                Some(Ok(event)) => {
                    if !delivered {
                        delivered = true;
                        backoff.reset();
                    }
                    consumer.handle(event).await.map_err(RunError::Consumer)?;
                    if *shutdown.borrow() {
                        telemetry::connected(false);
                        return Ok(());
                    }
                }
                Some(Err(e)) => {
                    let e = super::classify(cfg, Some(&start), e);
                    if !e.is_transient() {
                        telemetry::connected(false);
                        return Err(e.into());
                    }
                    break Some(e.to_string());
                }
                None => break Some("server closed the binlog stream".to_string()),
            }
        };
        telemetry::connected(false);
        telemetry::reconnect();
        let reason = failure.unwrap_or_default();
        let wait = backoff.fail(cfg, &reason)?;
        warn!(endpoint = %cfg.endpoint(), reason, retry_in_ms = wait.as_millis() as u64, "binlog connection lost; reconnecting");
        tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            _ = tokio::time::sleep(wait) => {}
        }
    }
}
