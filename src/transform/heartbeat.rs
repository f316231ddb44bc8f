//! Heartbeats (spec §9): every `heartbeat.interval.ms`, checked at each
//! binlog event or server heartbeat (the source asks the server for those
//! at 0.8 × the interval, so a quiet server still ticks), one record on the
//! heartbeat topic and, if set, `heartbeat.action.query` run on the source.
//!
//! The record travels in a batch like any other, so the position stored
//! once it is acknowledged is the current one even when no captured table
//! changes: a restart after a quiet week does not start from a purged
//! binlog. A failing action query is logged, not fatal, as in Debezium.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;
use tracing::{debug, warn};

use crate::envelope::heartbeat::HeartbeatTopic;
use crate::envelope::Record;

/// Longest wait for `heartbeat.action.query`; the stream waits meanwhile.
const ACTION_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Heartbeat {
    topic: HeartbeatTopic,
    interval: Duration,
    next: Instant,
    action: Option<(mysql_async::Pool, String)>,
}

impl Heartbeat {
    pub fn new(
        topic: HeartbeatTopic,
        interval: Duration,
        action: Option<(mysql_async::Pool, String)>,
    ) -> Self {
        Heartbeat {
            topic,
            interval,
            next: Instant::now() + interval,
            action,
        }
    }

    pub fn due(&self) -> bool {
        Instant::now() >= self.next
    }

    /// The heartbeat record (after running the action query, if any).
    pub async fn beat(&mut self) -> Record {
        self.next = Instant::now() + self.interval;
        if let Some((pool, query)) = &self.action {
            let run = async {
                let mut conn = pool.get_conn().await?;
                conn.query_drop(query.as_str()).await
            };
            match tokio::time::timeout(ACTION_TIMEOUT, run).await {
                Ok(Ok(())) => debug!(query = %query, "heartbeat action query executed"),
                Ok(Err(e)) => warn!(query = %query, error = %e, "heartbeat.action.query failed"),
                Err(_) => {
                    warn!(query = %query, timeout_ms = ACTION_TIMEOUT.as_millis() as u64, "heartbeat.action.query timed out")
                }
            }
        }
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        self.topic.record(now_ms)
    }
}
