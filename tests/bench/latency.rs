//! Steady-state latency: a writer inserts rows at a fixed rate, each
//! carrying its wall-clock time (`wts`, µs) taken just before the INSERT is
//! sent; a consumer compares it with its own clock when the record arrives
//! from Kafka. Latency = write + commit + binlog + connector + Kafka ack +
//! consumer fetch (the last one is a long-poll answered on arrival).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::support::mariadb::MariaDb;

fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}

/// Writer tick: rows due are sent every TICK in one multi-row INSERT.
const TICK: Duration = Duration::from_millis(5);

pub struct Latency {
    /// Rows measured (after the warm-up).
    pub rows: u64,
    /// Rows the writer sent / the seconds it took.
    pub written: u64,
    pub write_seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub missing: u64,
}

/// `"key":<integer>` in `value`, searched from `from`.
fn int_after(value: &[u8], from: usize, key: &[u8]) -> Option<(i64, usize)> {
    let at = from + value[from..].windows(key.len()).position(|w| w == key)? + key.len();
    let end = at + value[at..].iter().position(|b| !(b.is_ascii_digit() || *b == b'-'))?;
    Some((std::str::from_utf8(&value[at..end]).ok()?.parse().ok()?, end))
}

/// (id, wts) of a Debezium JSON record (with or without schema).
fn id_and_wts(value: &[u8]) -> Option<(i64, i64)> {
    let after = value.windows(9).position(|w| w == b"\"after\":{")?;
    let (id, end) = int_after(value, after, b"\"id\":")?;
    let (wts, _) = int_after(value, end, b"\"wts\":")?;
    Some((id, wts))
}

fn consume(bootstrap: &str, topic: &str, expect: i64, stop: &AtomicBool) -> HashMap<i64, i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("bench-latency-{}", rand::random::<u32>()))
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .set("fetch.min.bytes", "1")
        .set("isolation.level", "read_uncommitted")
        .create()
        .expect("latency consumer");
    let mut lat = HashMap::new();
    let mut assigned = false;
    while lat.len() < expect as usize && !stop.load(Ordering::Relaxed) {
        if !assigned {
            let parts: Vec<i32> = consumer
                .fetch_metadata(Some(topic), Duration::from_secs(2))
                .ok()
                .map(|md| {
                    md.topics().iter().filter(|t| t.error().is_none()).flat_map(|t| t.partitions().iter().map(|p| p.id())).collect()
                })
                .unwrap_or_default();
            if parts.is_empty() {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            let mut tpl = TopicPartitionList::new();
            for p in parts {
                tpl.add_partition_offset(topic, p, Offset::Beginning).expect("partition");
            }
            consumer.assign(&tpl).expect("assign");
            assigned = true;
        }
        match consumer.poll(Duration::from_millis(50)) {
            Some(Ok(m)) => {
                let arrived = now_us();
                if let Some((id, wts)) = m.payload().and_then(id_and_wts) {
                    lat.insert(id, arrived - wts);
                }
            }
            Some(Err(_)) | None => {}
        }
    }
    lat
}

/// Writes `rate` rows/s into `table` for `warmup + secs` seconds while
/// consuming `topic`; statistics over the rows after the warm-up.
pub async fn run(db: &MariaDb, database: &str, table: &str, bootstrap: &str, topic: &str, rate: u64, warmup: f64, secs: f64) -> Result<Latency, String> {
    let total = (rate as f64 * (warmup + secs)).round() as i64;
    let warm_rows = (rate as f64 * warmup).round() as i64;
    let stop = Arc::new(AtomicBool::new(false));
    let consumer = {
        let (b, t, s) = (bootstrap.to_string(), topic.to_string(), stop.clone());
        std::thread::spawn(move || consume(&b, &t, total, &s))
    };
    let mut conn = db.conn_db(database).await;
    let started = Instant::now();
    let mut sent: i64 = 0;
    let mut tick = 0u32;
    let note = "x".repeat(150);
    while sent < total {
        tick += 1;
        let due = ((started.elapsed().as_secs_f64() * rate as f64) as i64 + 1).min(total);
        if due > sent {
            let wts = now_us();
            let values: Vec<String> = (sent..due).map(|i| format!("({i},{wts},'{note}')")).collect();
            conn.query_drop(format!("INSERT INTO {table} VALUES {}", values.join(",")))
                .await
                .map_err(|e| format!("latency writer: {e}"))?;
            sent = due;
        }
        tokio::time::sleep_until((started + TICK * tick).into()).await;
    }
    let write_seconds = started.elapsed().as_secs_f64();
    drop(conn);
    // The rest may take a moment; give up after 30 s.
    let waited = Instant::now();
    while !consumer.is_finished() && waited.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let lat = tokio::task::spawn_blocking(move || consumer.join().expect("consumer")).await.expect("join");
    let mut measured: Vec<i64> = lat.iter().filter(|(id, _)| **id >= warm_rows).map(|(_, l)| *l).collect();
    let expected = (total - warm_rows) as u64;
    if measured.is_empty() {
        return Err(format!("no record of {topic} arrived"));
    }
    measured.sort_unstable();
    let pct = |p: f64| measured[((measured.len() as f64 * p).ceil() as usize).clamp(1, measured.len()) - 1] as f64 / 1000.0;
    Ok(Latency {
        rows: measured.len() as u64,
        written: total as u64,
        write_seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: *measured.last().unwrap() as f64 / 1000.0,
        missing: expected.saturating_sub(measured.len() as u64),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_id_and_wts_in_the_after_image() {
        let v = br#"{"schema":{"fields":[{"field":"id"},{"field":"wts"}]},"payload":{"before":null,"after":{"id":42,"wts":1700000000123456,"note":"x"},"source":{}}}"#;
        assert_eq!(super::id_and_wts(v), Some((42, 1_700_000_000_123_456)));
    }
}
