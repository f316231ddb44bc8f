//! Reading records back with what these tests compare besides key, value
//! and headers: the Kafka record timestamp, and which connector wrote a
//! record to a topic two connectors share (routed outbox topics are named
//! by the data, not by `topic.prefix`).

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// The header naming the connector (its `topic.prefix`).
pub const LOGICAL_NAME: &str = "__debezium.context.connectorLogicalName";

/// One record, as text.
#[derive(Clone, Debug, PartialEq)]
pub struct Rec {
    pub topic: String,
    pub partition: i32,
    pub key: Option<String>,
    pub value: Option<String>,
    pub headers: Vec<(String, Option<String>)>,
    /// CreateTime, ms.
    pub timestamp: Option<i64>,
}

impl Rec {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref())
    }
    pub fn value_json(&self) -> Option<serde_json::Value> {
        self.value.as_deref().map(|v| {
            serde_json::from_str(v).unwrap_or_else(|e| panic!("value is not JSON ({e}): {v}"))
        })
    }
    pub fn key_json(&self) -> Option<serde_json::Value> {
        self.key.as_deref().map(|v| {
            serde_json::from_str(v).unwrap_or_else(|e| panic!("key is not JSON ({e}): {v}"))
        })
    }
}

/// Reads `topic` from the beginning until `enough` says so, the end of the
/// topic is reached after `deadline`, or `deadline` passes; the records in
/// (partition, offset) order.
pub async fn read_until(
    bootstrap: &str,
    topic: &str,
    deadline: Duration,
    enough: impl Fn(&[Rec]) -> bool + Send + 'static,
) -> Vec<Rec> {
    let (bootstrap, topic) = (bootstrap.to_string(), topic.to_string());
    tokio::task::spawn_blocking(move || {
        let end = Instant::now() + deadline;
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("group.id", format!("it-outbox-{}", rand::random::<u64>()))
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        // Wait for the topic.
        let partitions = loop {
            let found = consumer
                .fetch_metadata(Some(&topic), Duration::from_secs(5))
                .ok()
                .and_then(|md| {
                    md.topics().first().map(|t| {
                        (
                            t.error().is_none(),
                            t.partitions().iter().map(|p| p.id()).collect::<Vec<_>>(),
                        )
                    })
                })
                .filter(|(ok, parts)| *ok && !parts.is_empty())
                .map(|(_, p)| p);
            if let Some(p) = found {
                break p;
            }
            if Instant::now() > end {
                return Vec::new();
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let mut tpl = TopicPartitionList::new();
        for p in &partitions {
            tpl.add_partition_offset(&topic, *p, Offset::Beginning)
                .expect("partition");
        }
        consumer.assign(&tpl).expect("assign");
        let mut out: Vec<Rec> = Vec::new();
        let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
        while Instant::now() < end && !enough(&out) {
            let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) else {
                continue;
            };
            out.push(Rec {
                topic: m.topic().to_string(),
                partition: m.partition(),
                key: text(m.key()),
                value: text(m.payload()),
                headers: m
                    .headers()
                    .map(|h| {
                        h.iter()
                            .map(|h| (h.key.to_string(), text(h.value)))
                            .collect()
                    })
                    .unwrap_or_default(),
                timestamp: m.timestamp().to_millis(),
            });
        }
        out
    })
    .await
    .expect("reader task")
}

/// The records of `topic` written by the connector whose `topic.prefix`
/// is `prefix`, once there are at least `n` (or after `deadline`).
pub async fn read_from(
    bootstrap: &str,
    topic: &str,
    prefix: &str,
    n: usize,
    deadline: Duration,
) -> Vec<Rec> {
    let p = prefix.to_string();
    let mine = move |r: &Rec| r.header(LOGICAL_NAME) == Some(p.as_str());
    let m = mine.clone();
    let got = read_until(bootstrap, topic, deadline, move |rs| {
        rs.iter().filter(|r| m(r)).count() >= n
    })
    .await;
    got.into_iter().filter(|r| mine(r)).collect()
}

/// Every record of `topic` within `deadline`, without a count to wait for
/// (stops `settle` after the last record arrived).
pub async fn read_settled(bootstrap: &str, topic: &str, deadline: Duration) -> Vec<Rec> {
    let started = Instant::now();
    let mut last = Vec::new();
    loop {
        let got = read_until(bootstrap, topic, Duration::from_secs(3), |_| false).await;
        if !got.is_empty() && got.len() == last.len() {
            return got;
        }
        last = got;
        if started.elapsed() > deadline {
            return last;
        }
    }
}
