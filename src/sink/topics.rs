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
    #[error("cannot reach Kafka at {bootstrap} (bootstrap.servers) after trying for {}s: {message}. Check bootstrap.servers, that the brokers are up and reachable from here, and the producer.security.*/sasl.*/ssl.* settings", waited.as_secs())]
    Unreachable {
        bootstrap: String,
        waited: Duration,
        message: String,
    },
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

/// Remembers librdkafka's last error, which names the failing broker and
/// the reason ("Connection refused", an SSL handshake failure…).
#[derive(Default)]
struct LastError(std::sync::Mutex<Option<String>>);

impl LastError {
    fn keep(&self, reason: &str) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason.to_string());
    }
}

impl rdkafka::ClientContext for LastError {
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        tracing::debug!(error = %error, reason, "Kafka client error");
        self.keep(reason);
    }

    // Connection failures arrive as `FAIL` log lines (from librdkafka's own
    // threads); the caller reports them, so they are only debug here.
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        use rdkafka::config::RDKafkaLogLevel::*;
        tracing::debug!(target: "librdkafka", facility = fac, detail = message, "librdkafka log");
        if fac == "FAIL" || matches!(level, Emerg | Alert | Critical | Error) {
            // "[thrd:host:port/bootstrap]: host:port/bootstrap: Connect to … failed: …"
            let message = match message.strip_prefix("[thrd:") {
                Some(rest) => rest.split_once("]: ").map_or(message, |(_, m)| m),
                None => message,
            };
            self.keep(message);
        }
    }
}

impl rdkafka::producer::ProducerContext for LastError {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &rdkafka::producer::DeliveryResult<'_>, _: ()) {}
}

/// A client that asks the cluster for its broker list: proof that
/// `bootstrap.servers` answers (with the client's security settings). One
/// client serves every attempt, so a slow connection or handshake started
/// by one attempt can complete during the next.
pub struct Probe {
    client: rdkafka::producer::BaseProducer<LastError>,
    bootstrap: String,
}

impl Probe {
    pub fn new(client: &ClientConfig, bootstrap: &str) -> Result<Probe, TopicError> {
        let client = client
            .create_with_context(LastError::default())
            .map_err(|source| TopicError::Client { bootstrap: bootstrap.to_string(), source })?;
        Ok(Probe { client, bootstrap: bootstrap.to_string() })
    }

    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// One metadata request (blocking). The error is the last reason
    /// librdkafka gave, else the request's own.
    pub fn attempt(&self, timeout: Duration) -> Result<(), String> {
        use rdkafka::producer::Producer;
        match self.client.client().fetch_metadata(None, timeout) {
            Ok(md) if !md.brokers().is_empty() => Ok(()),
            Ok(_) => Err("the cluster lists no broker".to_string()),
            Err(e) => {
                // Serves the error callbacks queued meanwhile.
                self.client.poll(Duration::ZERO);
                let last = self.client.context().0.lock().unwrap_or_else(|e| e.into_inner()).take();
                Err(last.unwrap_or_else(|| e.to_string()))
            }
        }
    }
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

/// Creates `topic` unless it exists (an "already exists" answer is
/// success); `true` when this call created it.
pub async fn create(admin: &AdminClient<DefaultClientContext>, topic: &str, spec: &TopicSpec) -> Result<bool, TopicError> {
    let mut new = NewTopic::new(topic, spec.partitions, TopicReplication::Fixed(i32::from(spec.replication_factor)));
    for (k, v) in &spec.configs {
        new = new.set(k, v);
    }
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics([&new], &opts)
        .await
        .map_err(|e| TopicError::Create { topic: topic.to_string(), message: e.to_string() })?;
    let mut created = false;
    for r in results {
        match r {
            Ok(_) => created = true,
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(TopicError::Create { topic: topic.to_string(), message: code.to_string() }),
        }
    }
    Ok(created)
}
