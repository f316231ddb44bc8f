//! Kafka sink: an idempotent, ordered producer (`acks=all`, Java-client
//! murmur2 partitioning so keys land where Debezium put them), delivery
//! reports counted per batch by the tracker, and the acknowledged position
//! written to the offsets topic in Kafka Connect's format.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryResult, Producer as _, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;
use tracing::{debug, info, warn};

use super::native::{Headers, Outgoing, Producer};
use super::topics::{self, TopicError, TopicSpec};
use super::tracker::Tracker;
use crate::channel;
use crate::decode::decoder::Batch;
use crate::offsets::position::Position;
use crate::telemetry;

/// Delivery opaque of records that are not tracked (offsets records).
const UNTRACKED: usize = usize::MAX;

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("cannot create the Kafka producer for {bootstrap}: {source}; check bootstrap.servers and producer.* settings")]
    Producer {
        bootstrap: String,
        #[source]
        source: KafkaError,
    },
    #[error("Kafka did not accept a record for topic `{topic}`: {source}")]
    Send {
        topic: String,
        #[source]
        source: RDKafkaErrorCode,
    },
    #[error("a record of {bytes} bytes for topic `{topic}` is larger than the producer's queue; set producer.queue.buffering.max.kbytes above producer.message.max.bytes")]
    Oversized { topic: String, bytes: usize },
    #[error("delivery to Kafka at {bootstrap} (bootstrap.servers) failed: {message}; the stored position was not advanced past the failed record, so a restart resends it")]
    Delivery { bootstrap: String, message: String },
    #[error(transparent)]
    Topic(#[from] TopicError),
    #[error("records were still unacknowledged by Kafka after {0:?} at shutdown; their position was not stored, a restart resends them")]
    DrainTimeout(Duration),
}

/// Settings of the Kafka sink.
#[derive(Debug, Clone)]
pub struct KafkaSinkConfig {
    pub bootstrap: String,
    pub client_id: String,
    /// Raw librdkafka properties (`producer.*`), applied last.
    pub producer: BTreeMap<String, String>,
    /// `None`: never create data topics.
    pub topic_creation: Option<TopicSpec>,
    /// Where positions go; `None` (tests, stdout-like use) stores nothing.
    pub offsets: Option<OffsetsTarget>,
    /// Headers added to every data record (Debezium's extended headers).
    pub context_headers: Vec<(String, Vec<u8>)>,
    /// Longest time between position commits (`offset.flush.interval.ms`).
    pub commit_interval: Duration,
    pub drain_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct OffsetsTarget {
    pub topic: String,
    pub key: Vec<u8>,
}

pub struct AckContext {
    tracker: Tracker,
}

impl AckContext {
    pub(super) fn new(tracker: Tracker) -> AckContext {
        AckContext { tracker }
    }
}

impl ClientContext for AckContext {}

impl ProducerContext for AckContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, opaque: usize) {
        match result {
            Ok(_) if opaque == UNTRACKED => {}
            Ok(_) => self.tracker.ack(opaque as u64),
            Err((e, _)) => self.tracker.fail(e.to_string()),
        }
    }
}

/// A producer reporting deliveries to `tracker`; `tuning` replaces the
/// defaults of those settings that `producer.*` does not set.
fn create_producer(cfg: &KafkaSinkConfig, tracker: &Tracker, tuning: &[(&str, &str)]) -> Result<Producer, SinkError> {
    let mut c = producer_config(&cfg.bootstrap, &cfg.client_id, &cfg.producer);
    for (k, v) in tuning.iter().filter(|(k, _)| !cfg.producer.contains_key(*k)) {
        c.set(*k, *v);
    }
    let p: ThreadedProducer<AckContext> = c
        .create_with_context(AckContext::new(tracker.clone()))
        .map_err(|source| SinkError::Producer { bootstrap: cfg.bootstrap.clone(), source })?;
    let mut p = Producer::new(p);
    // Positions may go through any producer; data topics are opened as
    // they are first met (`ensure_topic`).
    if let Some(target) = &cfg.offsets {
        p.open(&target.topic).map_err(|source| SinkError::Send { topic: target.topic.clone(), source })?;
    }
    Ok(p)
}

/// The largest record handed to librdkafka unless `producer.message.max.bytes`
/// says otherwise: 5 MB (Kafka Connect's producer refuses records over 1 MiB
/// by default; the broker's own limit is 1 MiB per batch unless raised).
const MESSAGE_MAX_BYTES: u64 = 5_000_000;

/// librdkafka's queue holds records until they are acknowledged. 6 MiB holds
/// the five requests an idempotent producer may have in flight (1 MB
/// batches) plus the batch being filled; more makes its broker thread spin
/// (poll with no timeout) while a full batch waits for a free slot, and
/// costs memory. `make bench`, 16 → 6 MiB: snapshot of 1M rows, the spin
/// 23 % → 1.5 % of the connector's CPU, peak RSS 138 → 120 MiB; backlog
/// case 1 (two A/B rounds) 12.4 → 11.9 and 12.1 → 9.1 CPU s per 1M rows,
/// case 2 8.4 → 7.6 and 7.9 → 5.5, peak RSS 112–130 → 80–93 MiB. It must
/// also hold the largest record: a larger one would never fit.
fn queue_kbytes(message_max_bytes: u64) -> u64 {
    (message_max_bytes / 1024 + 1024).max(6 * 1024)
}

/// The producer settings binlog-cdc needs for its guarantees; `producer.*`
/// may add to them (compression, linger) and override the tunables.
pub fn producer_config(bootstrap: &str, client_id: &str, extra: &BTreeMap<String, String>) -> ClientConfig {
    let mut c = ClientConfig::new();
    let message_max = extra.get("message.max.bytes").and_then(|v| v.parse().ok()).unwrap_or(MESSAGE_MAX_BYTES);
    c.set("bootstrap.servers", bootstrap)
        .set("client.id", client_id)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        .set("batch.size", "1000000")
        .set("compression.type", "lz4")
        .set("queue.buffering.max.kbytes", queue_kbytes(message_max).to_string())
        .set("message.max.bytes", MESSAGE_MAX_BYTES.to_string());
    for (k, v) in extra {
        c.set(k, v);
    }
    c
}

/// The initial snapshot's producer, tuned for throughput (unless `producer.*`
/// sets these). `make bench`, 1M-row snapshot: `linger.ms` 5 costs 12.7 CPU
/// s, 50 ms 8.1 CPU s (fewer, fuller requests); streaming keeps 5 ms, for
/// latency.
const SNAPSHOT_TUNING: &[(&str, &str)] = &[("linger.ms", "50")];

pub struct KafkaSink {
    cfg: KafkaSinkConfig,
    producer: Producer,
    /// The initial snapshot's records go through their own producer, tuned
    /// for throughput, and so does the first batch after them; it is then
    /// flushed and dropped (`snapshot_ends`), so that order across the
    /// hand-over is kept.
    snapshot_producer: Option<Producer>,
    tracker: Tracker,
    known_topics: HashSet<Arc<str>>,
    /// The connector-wide context headers, copied for each record.
    headers: Headers,
}

impl KafkaSink {
    pub fn new(cfg: KafkaSinkConfig) -> Result<Self, SinkError> {
        let tracker = Tracker::new();
        let producer = create_producer(&cfg, &tracker, &[])?;
        let mut headers = Headers::new(cfg.context_headers.len());
        for (k, v) in &cfg.context_headers {
            headers.add(k, Some(v));
        }
        Ok(KafkaSink { cfg, producer, snapshot_producer: None, tracker, known_topics: HashSet::new(), headers })
    }

    /// After the first batch that is not part of the running snapshot (the
    /// snapshot's last records, whose position marks it complete, or the
    /// first streamed ones), which went through the snapshot's producer
    /// too: flushes that producer (every snapshot record is acknowledged
    /// before a record goes through the other one, which keeps the order)
    /// and drops it. Its topics are looked up again through the streaming
    /// producer: a producer that has never seen a topic holds its first
    /// records until its next metadata refresh, up to a second later
    /// (`make bench`: the last snapshot records arrived ~1 s late).
    fn snapshot_ends(&mut self) -> Result<(), SinkError> {
        let Some(p) = self.snapshot_producer.take() else { return Ok(()) };
        let timeout = self.cfg.drain_timeout;
        if let Err(e) = tokio::task::block_in_place(|| p.inner().flush(timeout)) {
            return Err(SinkError::Delivery {
                bootstrap: self.cfg.bootstrap.clone(),
                message: format!("the snapshot's records were not all acknowledged within {timeout:?}: {e}"),
            });
        }
        self.known_topics.clear();
        Ok(())
    }

    fn active(&self) -> &Producer {
        self.snapshot_producer.as_ref().unwrap_or(&self.producer)
    }

    fn active_mut(&mut self) -> &mut Producer {
        self.snapshot_producer.as_mut().unwrap_or(&mut self.producer)
    }

    /// Opens `topic` in the active producer (a handle, no request).
    fn open(&mut self, topic: &str) -> Result<(), SinkError> {
        self.active_mut().open(topic).map_err(|source| SinkError::Send { topic: topic.to_string(), source })
    }

    /// Makes sure a data topic exists before the first record goes to it.
    async fn ensure_topic(&mut self, topic: &Arc<str>) -> Result<(), SinkError> {
        if self.known_topics.contains(topic) {
            return Ok(());
        }
        let timeout = Duration::from_secs(10);
        let exists = tokio::task::block_in_place(|| {
            topics::partitions(self.active().inner().client(), topic, &self.cfg.bootstrap, timeout)
        })?;
        if exists.is_none() {
            let Some(spec) = &self.cfg.topic_creation else {
                return Err(TopicError::Missing { topic: topic.to_string() }.into());
            };
            let mut client = ClientConfig::new();
            client.set("bootstrap.servers", &self.cfg.bootstrap);
            for (k, v) in &self.cfg.producer {
                if k.starts_with("security.") || k.starts_with("sasl.") || k.starts_with("ssl.") {
                    client.set(k, v);
                }
            }
            let admin = topics::admin(&client, &self.cfg.bootstrap)?;
            topics::create(&admin, topic, spec).await?;
            info!(topic = %topic, partitions = spec.partitions, "created topic");
            self.await_leaders(topic).await;
        }
        self.open(topic)?;
        self.known_topics.insert(topic.clone());
        Ok(())
    }

    /// A new topic has no partition leaders for a moment, and the producer
    /// would hold its records until its next metadata refresh (up to a
    /// second later): ask, through the producer's own client (which keeps
    /// the answer), until every partition has a leader, for at most 10 s.
    async fn await_leaders(&self, topic: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let md = tokio::task::block_in_place(|| self.active().inner().client().fetch_metadata(Some(topic), Duration::from_secs(2)));
            let ready = md.ok().is_some_and(|md| {
                md.topics().iter().any(|t| {
                    t.name() == topic
                        && t.error().is_none()
                        && !t.partitions().is_empty()
                        && t.partitions().iter().all(|p| p.error().is_none() && p.leader() >= 0)
                })
            });
            if ready {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Hands one record to librdkafka; waits while its queue is full.
    fn produce(&self, topic: &str, mut rec: Outgoing<'_>) -> Result<(), SinkError> {
        loop {
            match self.active().send(topic, &mut rec) {
                Ok(()) => return Ok(()),
                Err(RDKafkaErrorCode::QueueFull) => {
                    // librdkafka's queue is full (bounded by bytes): wait for
                    // deliveries, letting the runtime run other tasks meanwhile.
                    // With nothing queued the record alone exceeds the queue
                    // and would wait forever.
                    if self.active().inner().in_flight_count() == 0 {
                        let bytes = rec.value.as_ref().map_or(0, Vec::len) + rec.key.map_or(0, <[u8]>::len);
                        return Err(SinkError::Oversized { topic: topic.to_string(), bytes });
                    }
                    let wait = || std::thread::sleep(Duration::from_millis(1));
                    match tokio::runtime::Handle::try_current() {
                        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(wait),
                        _ => wait(),
                    }
                }
                Err(source) => return Err(SinkError::Send { topic: topic.to_string(), source }),
            }
        }
    }

    async fn send_batch(&mut self, batch: Batch) -> Result<(), SinkError> {
        let snapshot = batch.position.in_initial_snapshot();
        if snapshot && self.snapshot_producer.is_none() {
            self.snapshot_producer = Some(create_producer(&self.cfg, &self.tracker, SNAPSHOT_TUNING)?);
        }
        // Records of a batch mostly share their topic: look each up once.
        let mut checked: Option<&Arc<str>> = None;
        for r in &batch.records {
            if checked.is_some_and(|t| Arc::ptr_eq(t, &r.topic) || **t == *r.topic) {
                continue;
            }
            self.ensure_topic(&r.topic).await?;
            checked = Some(&r.topic);
        }
        let seq = self.tracker.register(batch.records.len(), batch.position) as usize;
        // Handing a record to librdkafka does not block (only a full queue
        // makes `produce` wait, in blocking mode): no thread hand-over here.
        self.produce_all(batch.records, seq)?;
        if !snapshot {
            self.snapshot_ends()?;
        }
        Ok(())
    }

    fn produce_all(&self, records: Vec<crate::envelope::Record>, seq: usize) -> Result<(), SinkError> {
        for mut r in records {
            // Record headers (`__debezium.newkey`/`oldkey`) come before the
            // context headers, as Debezium adds them; headers added by
            // transforms after them. Heartbeats and transaction metadata
            // have no context headers.
            let context = r.delivery.as_ref().is_none_or(|d| d.context_headers);
            let trailing = r.delivery.as_ref().map_or(&[][..], |d| d.trailing_headers.as_slice());
            let headers = if r.headers.is_empty() && trailing.is_empty() {
                context.then(|| self.headers.copy())
            } else {
                let mut headers = Headers::new(r.headers.len() + self.cfg.context_headers.len() + trailing.len());
                for (k, v) in &r.headers {
                    headers.add(k, Some(v));
                }
                if context {
                    for (k, v) in &self.cfg.context_headers {
                        headers.add(k, Some(v));
                    }
                }
                for (k, v) in trailing {
                    headers.add(k, v.as_deref());
                }
                Some(headers)
            };
            let mut headers = headers.filter(|h| !h.is_empty());
            let delivery = r.delivery.as_deref();
            let rec = Outgoing {
                key: r.key.as_deref(),
                value: &mut r.value,
                partition: delivery.and_then(|d| d.partition),
                timestamp_ms: delivery.and_then(|d| d.timestamp_ms),
                headers: &mut headers,
                opaque: seq,
            };
            self.produce(&r.topic, rec)?;
        }
        Ok(())
    }

    fn store_position(&self, position: &Position) -> Result<(), SinkError> {
        let Some(target) = &self.cfg.offsets else { return Ok(()) };
        let rec = Outgoing {
            key: Some(&target.key),
            value: &mut Some(position.encode_value()),
            partition: None,
            timestamp_ms: None,
            headers: &mut None,
            opaque: UNTRACKED,
        };
        self.produce(&target.topic, rec)?;
        telemetry::offsets_committed();
        debug!(file = %position.file, pos = position.pos, event = position.event, row = position.row, "position stored");
        Ok(())
    }

    /// Delivers batches until the channel closes, then drains: waits for
    /// every acknowledgement, stores the final position, flushes.
    pub async fn run(mut self, mut rx: channel::Receiver<Batch>) -> Result<(), SinkError> {
        let mut last_commit = Instant::now();
        let mut latest: Option<Position> = None;
        let interval = self.cfg.commit_interval;
        loop {
            let tracker = self.tracker.clone();
            tokio::select! {
                item = rx.recv() => match item {
                    Some((batch, permit)) => {
                        self.send_batch(batch).await?;
                        drop(permit);
                    }
                    None => break,
                },
                _ = tracker.changed() => {}
                _ = tokio::time::sleep(interval) => {}
            }
            if let Some(f) = self.tracker.failure() {
                return Err(SinkError::Delivery { bootstrap: self.cfg.bootstrap.clone(), message: f });
            }
            telemetry::acknowledged(self.tracker.take_acked_count());
            if let Some(p) = self.tracker.take_ready() {
                latest = Some(p);
            }
            if last_commit.elapsed() >= interval {
                if let Some(p) = latest.take() {
                    self.store_position(&p)?;
                }
                last_commit = Instant::now();
            }
        }
        // Drain: everything handed to us must be acknowledged before the
        // final position is stored.
        let deadline = Instant::now() + self.cfg.drain_timeout;
        while self.tracker.in_flight() > 0 {
            if let Some(f) = self.tracker.failure() {
                return Err(SinkError::Delivery { bootstrap: self.cfg.bootstrap.clone(), message: f });
            }
            if Instant::now() >= deadline {
                if let Some(p) = self.tracker.take_ready().or(latest.take()) {
                    self.store_position(&p)?;
                }
                let _ = self.active().inner().flush(Duration::from_secs(5));
                return Err(SinkError::DrainTimeout(self.cfg.drain_timeout));
            }
            let tracker = self.tracker.clone();
            let _ = tokio::time::timeout(Duration::from_millis(100), tracker.changed()).await;
        }
        telemetry::acknowledged(self.tracker.take_acked_count());
        if let Some(p) = self.tracker.take_ready().or(latest) {
            self.store_position(&p)?;
        }
        if let Err(e) = self.active().inner().flush(self.cfg.drain_timeout) {
            warn!(error = %e, "flushing the producer at shutdown failed");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(c: &ClientConfig, key: &str) -> Option<String> {
        c.get(key).map(str::to_string)
    }

    #[test]
    fn the_queue_holds_the_in_flight_window_and_the_largest_record() {
        let c = producer_config("b:9092", "id", &BTreeMap::new());
        assert_eq!(setting(&c, "message.max.bytes").as_deref(), Some("5000000"));
        assert_eq!(setting(&c, "queue.buffering.max.kbytes").as_deref(), Some("6144"));
        // A larger record limit grows the queue with it ...
        let big = BTreeMap::from([("message.max.bytes".to_string(), "20000000".to_string())]);
        let kbytes: u64 = setting(&producer_config("b:9092", "id", &big), "queue.buffering.max.kbytes").and_then(|v| v.parse().ok()).unwrap_or(0);
        assert!(kbytes * 1024 > 20_000_000, "{kbytes}");
        // ... and an explicit queue size wins.
        let queue = BTreeMap::from([("queue.buffering.max.kbytes".to_string(), "64".to_string())]);
        assert_eq!(setting(&producer_config("b:9092", "id", &queue), "queue.buffering.max.kbytes").as_deref(), Some("64"));
    }
}
