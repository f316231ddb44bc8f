//! Topic administration: production clusters do not auto-create topics, so
//! the connector creates its data topics and the offsets topic (compacted)
//! when they are missing, the way Kafka Connect's topic creation does.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::RDKafkaErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    #[error("cannot create Kafka admin client for {bootstrap}: {source}")]
    Client {
        bootstrap: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("cannot create topic `{topic}`: {message}. Create it yourself, or grant CREATE on the cluster, or set topic.creation.enable=true")]
    Create { topic: String, message: String },
    #[error("topic `{topic}` does not exist and topic.creation.enable=false; create it first")]
    Missing { topic: String },
    #[error("cannot read Kafka metadata for `{topic}` from {bootstrap}: {source}. Is bootstrap.servers reachable?")]
    Metadata {
        topic: String,
        bootstrap: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
}

/// How to create a topic that is missing.
#[derive(Debug, Clone)]
pub struct TopicSpec {
    pub partitions: i32,
    pub replication_factor: i16,
    pub configs: BTreeMap<String, String>,
}

pub fn admin(client: &ClientConfig, bootstrap: &str) -> Result<AdminClient<DefaultClientContext>, TopicError> {
    client.create().map_err(|source| TopicError::Client { bootstrap: bootstrap.to_string(), source })
}

/// Number of partitions of `topic`, or `None` when it does not exist.
pub fn partitions<C: rdkafka::ClientContext>(
    client: &rdkafka::client::Client<C>,
    topic: &str,
    bootstrap: &str,
    timeout: Duration,
) -> Result<Option<usize>, TopicError> {
    let md = client
        .fetch_metadata(Some(topic), timeout)
        .map_err(|source| TopicError::Metadata { topic: topic.to_string(), bootstrap: bootstrap.to_string(), source })?;
    Ok(md.topics().iter().find(|t| t.name() == topic).and_then(|t| match t.error() {
        None if !t.partitions().is_empty() => Some(t.partitions().len()),
        _ => None,
    }))
}

/// Creates `topic` unless it exists (an "already exists" answer is success).
pub async fn create(admin: &AdminClient<DefaultClientContext>, topic: &str, spec: &TopicSpec) -> Result<(), TopicError> {
    let mut new = NewTopic::new(topic, spec.partitions, TopicReplication::Fixed(i32::from(spec.replication_factor)));
    for (k, v) in &spec.configs {
        new = new.set(k, v);
    }
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics([&new], &opts)
        .await
        .map_err(|e| TopicError::Create { topic: topic.to_string(), message: e.to_string() })?;
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(TopicError::Create { topic: topic.to_string(), message: code.to_string() }),
        }
    }
    Ok(())
}
