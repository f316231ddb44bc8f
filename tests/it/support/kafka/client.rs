//! Kafka client helpers for tests: unique topic prefixes, reading topics back
//! with a real consumer, and creating, listing and describing topics.
//! Every helper panics on a broker error except [`consume`] and friends,
//! which return what they read by the deadline so the caller can assert.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::support::wait::wait_for;

/// One record read back from Kafka.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Record {
    /// The key as UTF-8 (panics if it is not).
    pub fn key_str(&self) -> Option<&str> {
        self.key.as_deref().map(|b| std::str::from_utf8(b).expect("key is UTF-8"))
    }
    /// The value as UTF-8 (panics if it is not).
    pub fn value_str(&self) -> Option<&str> {
        self.value.as_deref().map(|b| std::str::from_utf8(b).expect("value is UTF-8"))
    }
    /// The key parsed as JSON (panics if it is not JSON).
    pub fn key_json(&self) -> Option<serde_json::Value> {
        self.key.as_deref().map(|b| serde_json::from_slice(b).expect("key is JSON"))
    }
    /// The value parsed as JSON; `None` for a tombstone.
    pub fn value_json(&self) -> Option<serde_json::Value> {
        self.value.as_deref().map(|b| serde_json::from_slice(b).expect("value is JSON"))
    }
}

/// How [`consume_with`] reads.
#[derive(Clone, Debug)]
pub struct ConsumeOptions {
    /// `isolation.level=read_committed` (librdkafka's default) or `read_uncommitted`.
    pub read_committed: bool,
}

impl Default for ConsumeOptions {
    fn default() -> Self {
        ConsumeOptions { read_committed: true }
    }
}

/// A topic prefix no other test (or run against a shared broker) uses:
/// `it.<name>.<n>.<random>`, with `name` reduced to `[a-z0-9_]`.
pub fn unique_prefix(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .take(60)
        .collect();
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("it_{clean}_{n}_{:06x}", rand::random::<u32>() & 0xff_ffff)
}

/// Reads `topic` from the beginning of every partition until at least
/// `min_records` arrived or `deadline` passed; waits for the topic to exist.
/// Returns what it read, ordered by (partition, offset).
pub async fn consume(bootstrap: &str, topic: &str, min_records: usize, deadline: Duration) -> Vec<Record> {
    consume_with(bootstrap, topic, min_records, deadline, &ConsumeOptions::default()).await
}

/// [`consume`] with options.
pub async fn consume_with(
    bootstrap: &str,
    topic: &str,
    min_records: usize,
    deadline: Duration,
    opts: &ConsumeOptions,
) -> Vec<Record> {
    read(bootstrap, topic, deadline, opts, Stop::AtLeast(min_records)).await
}

/// Everything in `topic` now: reads every partition from the beginning to its
/// end (to the last stable offset under read_committed). Returns what it read
/// by `deadline`, ordered by (partition, offset).
pub async fn consume_all(bootstrap: &str, topic: &str, deadline: Duration, opts: &ConsumeOptions) -> Vec<Record> {
    read(bootstrap, topic, deadline, opts, Stop::AtEnd).await
}

enum Stop {
    AtLeast(usize),
    AtEnd,
}

async fn read(bootstrap: &str, topic: &str, deadline: Duration, opts: &ConsumeOptions, stop: Stop) -> Vec<Record> {
    let end = Instant::now() + deadline;
    let isolation = if opts.read_committed { "read_committed" } else { "read_uncommitted" };
    let consumer: StreamConsumer = client_config(bootstrap)
        .set("group.id", format!("it-reader-{}", rand::random::<u64>()))
        .set("enable.auto.commit", "false")
        .set("isolation.level", isolation)
        .set("enable.partition.eof", if matches!(stop, Stop::AtEnd) { "true" } else { "false" })
        .create()
        .expect("create consumer");
    let Some(partitions) = wait_for(deadline, || partitions(bootstrap.to_string(), topic.to_string())).await else {
        return Vec::new();
    };
    let mut tpl = TopicPartitionList::new();
    for p in &partitions {
        tpl.add_partition_offset(topic, *p, Offset::Beginning).expect("add partition");
    }
    consumer.assign(&tpl).expect("assign partitions");

    let mut records = Vec::new();
    let mut at_eof = BTreeSet::new();
    loop {
        match stop {
            Stop::AtLeast(n) if records.len() >= n => break,
            Stop::AtEnd if at_eof.len() == partitions.len() => break,
            _ => {}
        }
        let left = end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, consumer.recv()).await {
            Err(_) => break, // deadline
            Ok(Ok(m)) => {
                at_eof.remove(&m.partition());
                records.push(Record {
                    topic: m.topic().to_string(),
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key().map(<[u8]>::to_vec),
                    value: m.payload().map(<[u8]>::to_vec),
                    headers: m
                        .headers()
                        .map(|h| h.iter().map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec))).collect())
                        .unwrap_or_default(),
                });
            }
            Ok(Err(KafkaError::PartitionEOF(p))) => {
                at_eof.insert(p);
            }
            Ok(Err(_)) => {} // transient; librdkafka retries by itself
        }
    }
    records.sort_by_key(|r| (r.partition, r.offset));
    records
}

/// The partition ids of `topic`, `None` while it does not exist or a
/// partition has no leader yet.
async fn partitions(bootstrap: String, topic: String) -> Option<Vec<i32>> {
    let md = metadata(bootstrap, Some(topic)).await?;
    let t = md.topics.into_iter().next()?;
    (t.error.is_none() && t.complete && !t.partitions.is_empty()).then_some(t.partitions)
}

/// The topics the broker has (internal ones included), sorted.
pub async fn list_topics(bootstrap: &str) -> Vec<String> {
    let md = metadata(bootstrap.to_string(), None).await.expect("fetch metadata");
    let mut names: Vec<String> = md.topics.into_iter().map(|t| t.name).collect();
    names.sort();
    names
}

/// The number of partitions of `topic`, `None` if it does not exist.
pub async fn partition_count(bootstrap: &str, topic: &str) -> Option<usize> {
    partitions(bootstrap.to_string(), topic.to_string()).await.map(|p| p.len())
}

struct TopicMeta {
    name: String,
    error: Option<String>,
    partitions: Vec<i32>,
    complete: bool,
}
struct Meta {
    topics: Vec<TopicMeta>,
}

/// A metadata request, run on the blocking pool (librdkafka's call blocks).
async fn metadata(bootstrap: String, topic: Option<String>) -> Option<Meta> {
    tokio::task::spawn_blocking(move || {
        let c: BaseConsumer = client_config(&bootstrap).create().ok()?;
        let md = c.fetch_metadata(topic.as_deref(), Duration::from_secs(5)).ok()?;
        let topics = md
            .topics()
            .iter()
            .map(|t| TopicMeta {
                name: t.name().to_string(),
                error: t.error().map(|e| format!("{e:?}")),
                partitions: t.partitions().iter().map(|p| p.id()).collect(),
                complete: t.partitions().iter().all(|p| p.leader() >= 0),
            })
            .collect();
        Some(Meta { topics })
    })
    .await
    .expect("metadata task")
}

/// Creates `topic` with replication factor 1 and the given topic configs.
pub async fn create_topic(bootstrap: &str, topic: &str, partitions: i32, config: &[(&str, &str)]) {
    let admin = admin(bootstrap);
    let mut new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    for (k, v) in config {
        new = new.set(k, v);
    }
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let res = admin.create_topics([&new], &opts).await.expect("create_topics");
    for r in res {
        if let Err((t, e)) = r {
            panic!("create topic {t}: {e}");
        }
    }
    // The broker learns of the topic from the controller a moment later.
    let n = partitions as usize;
    let seen = wait_for(Duration::from_secs(30), || async move {
        partition_count(bootstrap, topic).await.filter(|&c| c == n)
    });
    assert!(seen.await.is_some(), "topic {topic} created but not in metadata after 30s");
}

/// The topic's configuration (every entry the broker reports, defaults included).
pub async fn topic_config(bootstrap: &str, topic: &str) -> BTreeMap<String, String> {
    let admin = admin(bootstrap);
    let res = admin
        .describe_configs([&ResourceSpecifier::Topic(topic)], &AdminOptions::new())
        .await
        .expect("describe_configs");
    let cfg = res.into_iter().next().expect("one result").unwrap_or_else(|e| panic!("describe {topic}: {e}"));
    cfg.entries.into_iter().filter_map(|e| Some((e.name, e.value?))).collect()
}

/// Produces one record (acks=all); returns its (partition, offset).
pub async fn produce(
    bootstrap: &str,
    topic: &str,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[(&str, Option<&[u8]>)],
) -> (i32, i64) {
    let producer: FutureProducer = client_config(bootstrap).set("acks", "all").create().expect("create producer");
    let mut hs = OwnedHeaders::new();
    for (k, v) in headers {
        hs = hs.insert(Header { key: k, value: *v });
    }
    let mut rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).headers(hs);
    rec.key = key;
    rec.payload = value;
    match producer.send(rec, Duration::from_secs(30)).await {
        Ok(d) => (d.partition, d.offset),
        Err((e, _)) => panic!("produce to {topic}: {e}"),
    }
}

fn admin(bootstrap: &str) -> AdminClient<DefaultClientContext> {
    client_config(bootstrap).create().expect("create admin client")
}

fn client_config(bootstrap: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap)
        .set("reconnect.backoff.ms", "20")
        .set("reconnect.backoff.max.ms", "500");
    c
}
