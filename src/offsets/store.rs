//! The compacted offsets topic, read and written exactly as Kafka
//! Connect's `offset.storage.topic` (DESIGN.md, "Offsets contract"):
//! key `["<name>",{"server":"<topic.prefix>"}]`, value Debezium's offset map,
//! partition by Java murmur2 of the key; on load, every partition is read to
//! its end and the last value for our key wins; a null value means "no
//! position".

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

use super::position::{self, Flavor, OffsetError, Position};
use crate::sink::topics::{self, TopicError, TopicSpec};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot reach Kafka at {bootstrap} to {action} the offsets topic `{topic}`: {source}")]
    Kafka {
        bootstrap: String,
        topic: String,
        action: &'static str,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error(transparent)]
    Topic(#[from] TopicError),
    #[error("the stored position in `{topic}` (partition {partition}, offset {offset}) is unreadable: {source}. Fix it with `binlog-cdc offsets set` or remove it with `offsets reset`")]
    Decode {
        topic: String,
        partition: i32,
        offset: i64,
        #[source]
        source: OffsetError,
    },
    #[error("reading the offsets topic `{topic}` did not reach its end within {timeout:?}")]
    Timeout { topic: String, timeout: Duration },
}

/// Where positions live and under which key.
#[derive(Debug, Clone)]
pub struct OffsetStore {
    pub bootstrap: String,
    pub topic: String,
    pub name: String,
    pub topic_prefix: String,
    pub flavor: Flavor,
    /// Client properties shared with the producer (security settings).
    pub client: BTreeMap<String, String>,
    pub partitions: i32,
    pub replication_factor: i16,
}

impl OffsetStore {
    pub fn key(&self) -> Vec<u8> {
        position::encode_key(&self.name, &self.topic_prefix)
    }

    fn config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap);
        for (k, v) in &self.client {
            if k.starts_with("security.") || k.starts_with("sasl.") || k.starts_with("ssl.") {
                c.set(k, v);
            }
        }
        c
    }

    fn kafka_err(&self, action: &'static str) -> impl Fn(rdkafka::error::KafkaError) -> StoreError + '_ {
        move |source| StoreError::Kafka { bootstrap: self.bootstrap.clone(), topic: self.topic.clone(), action, source }
    }

    /// A client to check that the cluster answers, with the store's
    /// security settings.
    pub fn probe(&self) -> Result<topics::Probe, StoreError> {
        Ok(topics::Probe::new(&self.config(), &self.bootstrap)?)
    }

    /// Creates the topic (compacted) when it is missing; `true` when it was
    /// missing (so it holds no position yet).
    pub async fn ensure_topic(&self) -> Result<bool, StoreError> {
        let admin = topics::admin(&self.config(), &self.bootstrap)?;
        let mut configs = BTreeMap::new();
        configs.insert("cleanup.policy".to_string(), "compact".to_string());
        let spec = TopicSpec { partitions: self.partitions, replication_factor: self.replication_factor, configs };
        Ok(topics::create(&admin, &self.topic, &spec).await?)
    }

    /// Reads every partition to its end; the last value for our key wins.
    /// Blocking: call from `spawn_blocking`.
    pub fn load(&self, timeout: Duration) -> Result<Option<Position>, StoreError> {
        let consumer: BaseConsumer = self
            .config()
            .set("group.id", "binlog-cdc-offsets-reader")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .create()
            .map_err(self.kafka_err("read"))?;
        // A freshly created topic has no leaders for a moment: retry the
        // metadata and watermark reads until the deadline.
        let deadline = Instant::now() + timeout;
        let (assignment, ends) = loop {
            match self.partitions_to_read(&consumer) {
                Ok(Some(found)) => break found,
                Ok(None) => return Ok(None),
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        };
        if ends.is_empty() {
            return Ok(None);
        }
        consumer.assign(&assignment).map_err(self.kafka_err("read"))?;
        let key = self.key();
        let mut found: Option<(i32, i64, Option<Vec<u8>>)> = None;
        let mut done: BTreeMap<i32, bool> = ends.keys().map(|p| (*p, false)).collect();
        while done.values().any(|d| !d) {
            if Instant::now() >= deadline {
                return Err(StoreError::Timeout { topic: self.topic.clone(), timeout });
            }
            let Some(msg) = consumer.poll(Duration::from_millis(200)) else { continue };
            let msg = msg.map_err(self.kafka_err("read"))?;
            let (partition, offset) = (msg.partition(), msg.offset());
            if msg.key().is_some_and(|k| k == key.as_slice() || position::key_matches(k, &self.name, &self.topic_prefix)) {
                found = Some((partition, offset, msg.payload().map(<[u8]>::to_vec)));
            }
            if ends.get(&partition).is_some_and(|end| offset + 1 >= *end) {
                done.insert(partition, true);
            }
        }
        match found {
            None => Ok(None),
            Some((partition, offset, value)) => Position::decode_value(value.as_deref(), Some(self.flavor))
                .map_err(|source| StoreError::Decode { topic: self.topic.clone(), partition, offset, source }),
        }
    }

    /// The partitions holding records and their end offsets; `None` when the
    /// topic does not exist.
    #[allow(clippy::type_complexity)]
    fn partitions_to_read(&self, consumer: &BaseConsumer) -> Result<Option<(TopicPartitionList, BTreeMap<i32, i64>)>, StoreError> {
        let step = Duration::from_secs(5);
        let md = consumer.fetch_metadata(Some(&self.topic), step).map_err(self.kafka_err("read"))?;
        let Some(t) = md.topics().iter().find(|t| t.name() == self.topic) else { return Ok(None) };
        if let Some(e) = t.error() {
            let code = rdkafka::error::RDKafkaErrorCode::from(e);
            if code == rdkafka::error::RDKafkaErrorCode::UnknownTopicOrPartition {
                return Ok(None);
            }
            return Err(self.kafka_err("read")(rdkafka::error::KafkaError::MetadataFetch(code)));
        }
        let mut assignment = TopicPartitionList::new();
        let mut ends: BTreeMap<i32, i64> = BTreeMap::new();
        for p in t.partitions() {
            let (low, high) = consumer.fetch_watermarks(&self.topic, p.id(), step).map_err(self.kafka_err("read"))?;
            if high > low {
                assignment.add_partition_offset(&self.topic, p.id(), Offset::Beginning).map_err(self.kafka_err("read"))?;
                ends.insert(p.id(), high);
            }
        }
        Ok(Some((assignment, ends)))
    }

    /// Writes a position (or a tombstone for `None`) and waits for it.
    /// Blocking: call from `spawn_blocking`.
    pub fn write(&self, position: Option<&Position>, timeout: Duration) -> Result<(), StoreError> {
        let producer: BaseProducer = self
            .config()
            .set("partitioner", "murmur2_random")
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .create()
            .map_err(self.kafka_err("write"))?;
        let key = self.key();
        let value = position.map(Position::encode_value);
        let mut rec: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(&self.topic).key(key.as_slice());
        if let Some(v) = &value {
            rec = rec.payload(v.as_slice());
        }
        producer.send(rec).map_err(|(e, _)| self.kafka_err("write")(e))?;
        producer.flush(timeout).map_err(self.kafka_err("write"))?;
        Ok(())
    }
}
