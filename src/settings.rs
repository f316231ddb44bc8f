//! Translates the validated configuration into each stage's own settings,
//! so stages depend on small structs of their own, not on the whole
//! configuration contract.

use std::time::Duration;

use crate::config::{self, Config, SnapshotMode};
use crate::decode::decoder::{DecoderConfig, InconsistentSchema};
use crate::envelope::{self, EnvelopeConfig, Modes};
use crate::offsets::position::{self, Position};
use crate::offsets::store::OffsetStore;
use crate::sink::kafka::{KafkaSinkConfig, OffsetsTarget};
use crate::sink::topics::TopicSpec;
use crate::source::{preflight, SourceConfig};

/// Server heartbeats keep a quiet connection verifiably alive.
const SERVER_HEARTBEAT_MS: u64 = 5_000;

pub fn flavor(cfg: &Config) -> envelope::Flavor {
    match cfg.flavor {
        config::Flavor::Mysql => envelope::Flavor::Mysql,
        config::Flavor::Mariadb => envelope::Flavor::Mariadb,
    }
}

pub fn source(cfg: &Config) -> SourceConfig {
    let heartbeat_ms = match cfg.pipeline.heartbeat_interval_ms {
        0 => SERVER_HEARTBEAT_MS,
        ms => (ms * 8 / 10).clamp(100, SERVER_HEARTBEAT_MS),
    };
    SourceConfig {
        host: cfg.database.hostname.clone(),
        port: cfg.database.port,
        user: cfg.database.user.clone(),
        password: cfg.database.password.as_ref().map(|s| s.expose().to_string()).unwrap_or_default(),
        server_id: cfg.database.server_id,
        heartbeat_ms,
        connect_timeout_ms: cfg.database.connect_timeout_ms,
        max_retries: cfg.errors.max_retries,
    }
}

pub fn envelope(cfg: &Config) -> EnvelopeConfig {
    let r = &cfg.records;
    EnvelopeConfig {
        topic_prefix: cfg.topics.prefix.clone(),
        flavor: flavor(cfg),
        modes: Modes {
            decimal: match r.decimal_handling_mode {
                config::DecimalHandlingMode::Precise => envelope::DecimalMode::Precise,
                config::DecimalHandlingMode::Double => envelope::DecimalMode::Double,
                config::DecimalHandlingMode::String => envelope::DecimalMode::String,
            },
            time: match r.time_precision_mode {
                config::TimePrecisionMode::Connect => envelope::TimePrecisionMode::Connect,
                _ => envelope::TimePrecisionMode::AdaptiveTimeMicroseconds,
            },
            bigint_unsigned: match r.bigint_unsigned_handling_mode {
                config::BigintUnsignedHandlingMode::Long => envelope::BigintUnsignedMode::Long,
                config::BigintUnsignedHandlingMode::Precise => envelope::BigintUnsignedMode::Precise,
            },
            binary: match r.binary_handling_mode {
                config::BinaryHandlingMode::Bytes => envelope::BinaryMode::Bytes,
                config::BinaryHandlingMode::Base64 => envelope::BinaryMode::Base64,
                config::BinaryHandlingMode::Base64UrlSafe => envelope::BinaryMode::Base64UrlSafe,
                config::BinaryHandlingMode::Hex => envelope::BinaryMode::Hex,
            },
        },
        key_schemas: r.key_schemas_enable,
        value_schemas: r.value_schemas_enable,
        tombstones_on_delete: r.tombstones_on_delete,
    }
}

pub fn decoder(cfg: &Config) -> DecoderConfig {
    DecoderConfig {
        flavor: flavor(cfg),
        inconsistent_schema: match cfg.errors.inconsistent_schema_handling_mode {
            config::InconsistentSchemaHandlingMode::Fail => InconsistentSchema::Fail,
            config::InconsistentSchemaHandlingMode::Warn => InconsistentSchema::Warn,
            config::InconsistentSchemaHandlingMode::Skip => InconsistentSchema::Skip,
        },
        batch_records: cfg.pipeline.max_batch_size.max(1),
        batch_bytes: (queue_bytes(cfg) / 8).max(64 * 1024),
        schema_changes: cfg.records.include_schema_changes,
    }
}

pub fn queue_bytes(cfg: &Config) -> usize {
    match cfg.pipeline.max_queue_size_bytes {
        0 => config::DEFAULT_MAX_QUEUE_SIZE_BYTES as usize,
        n => n as usize,
    }
}

fn position_flavor(cfg: &Config) -> position::Flavor {
    match cfg.flavor {
        config::Flavor::Mysql => position::Flavor::Mysql,
        config::Flavor::Mariadb => position::Flavor::Mariadb,
    }
}

/// The offsets store, when the sink is Kafka.
pub fn offset_store(cfg: &Config) -> Option<OffsetStore> {
    let bootstrap = cfg.sink.bootstrap_servers.clone()?;
    if cfg.sink.sink_type != config::SinkType::Kafka {
        return None;
    }
    Some(OffsetStore {
        bootstrap,
        topic: cfg.offsets.topic.clone(),
        name: cfg.name.clone(),
        topic_prefix: cfg.topics.prefix.clone(),
        flavor: position_flavor(cfg),
        client: cfg.sink.producer.clone(),
        partitions: cfg.offsets.partitions,
        replication_factor: cfg.offsets.replication_factor,
    })
}

pub fn kafka_sink(cfg: &Config, store: Option<&OffsetStore>) -> KafkaSinkConfig {
    let mut context_headers = Vec::new();
    if cfg.records.extended_headers_enabled {
        let run_id = uuid::Uuid::new_v4().to_string();
        context_headers = vec![
            ("__debezium.context.connectorLogicalName".to_string(), cfg.topics.prefix.clone().into_bytes()),
            ("__debezium.context.taskId".to_string(), b"0".to_vec()),
            ("__debezium.context.connectorName".to_string(), flavor(cfg).connector().as_bytes().to_vec()),
            ("__debezium.context.runId".to_string(), run_id.into_bytes()),
        ];
    }
    KafkaSinkConfig {
        bootstrap: cfg.sink.bootstrap_servers.clone().unwrap_or_default(),
        client_id: format!("binlog-cdc-{}", cfg.name),
        producer: cfg.sink.producer.clone(),
        topic_creation: cfg.sink.topic_creation_enable.then(|| TopicSpec {
            partitions: cfg.sink.topic_creation_default_partitions,
            replication_factor: cfg.sink.topic_creation_default_replication_factor,
            configs: cfg.sink.topic_creation_default_configs.clone(),
        }),
        offsets: store.map(|s| OffsetsTarget { topic: s.topic.clone(), key: s.key() }),
        context_headers,
        commit_interval: Duration::from_millis(cfg.offsets.flush_interval_ms.max(10)),
        drain_timeout: Duration::from_secs(30),
    }
}

/// Where to start without a stored position.
pub async fn initial_position(conn: &mut mysql_async::Conn, cfg: &Config) -> Result<Position, mysql_async::Error> {
    let from_oldest = cfg.snapshot_mode == SnapshotMode::Never;
    preflight::initial_position(conn, from_oldest, cfg.flavor == config::Flavor::Mariadb).await
}

/// The snapshot stage's settings (`snapshot.*`).
/// Incremental snapshots and signals: on when `signal.data.collection` is set.
pub fn incremental(cfg: &Config) -> Option<crate::snapshot::incremental::Settings> {
    let signal_table = cfg.snapshot.signal_table.clone()?;
    Some(crate::snapshot::incremental::Settings {
        signal_table,
        chunk_size: cfg.snapshot.incremental_chunk_size.max(1),
        insert_delete: cfg.snapshot.watermarking == config::WatermarkingStrategy::InsertDelete,
    })
}

pub fn snapshot(cfg: &Config) -> crate::snapshot::SnapshotSettings {
    use crate::snapshot::{Locking, Mode, SnapshotSettings};
    SnapshotSettings {
        mode: match cfg.snapshot_mode {
            SnapshotMode::InitialOnly => Mode::InitialOnly,
            SnapshotMode::WhenNeeded => Mode::WhenNeeded,
            SnapshotMode::NoData => Mode::NoData,
            SnapshotMode::Never => Mode::Never,
            SnapshotMode::Always => Mode::Always,
            // Validation refuses the rest.
            _ => Mode::Initial,
        },
        locking: match cfg.snapshot.locking_mode {
            config::SnapshotLockingMode::Extended => Locking::Extended,
            config::SnapshotLockingMode::None => Locking::None,
            _ => Locking::Minimal,
        },
        lock_timeout: Duration::from_millis(cfg.snapshot.lock_timeout_ms),
        fetch_size: cfg.snapshot.fetch_size.unwrap_or(config::DEFAULT_SNAPSHOT_FETCH_SIZE),
        threads: cfg.snapshot.max_threads.unwrap_or(config::DEFAULT_SNAPSHOT_MAX_THREADS) as usize,
        mariadb: cfg.flavor == config::Flavor::Mariadb,
        page_rows: cfg.pipeline.max_batch_size.clamp(1, 4096),
        page_bytes: (queue_bytes(cfg) / 64).clamp(64 * 1024, 1024 * 1024),
        schema_changes: cfg.records.include_schema_changes,
        transforms: transforms(cfg),
    }
}

/// The transform stage's settings: `skipped.operations`, the SMT chain,
/// transaction metadata and heartbeats.
pub fn transforms(cfg: &Config) -> crate::transform::Settings {
    use crate::envelope::heartbeat::HeartbeatTopic;
    use crate::envelope::transaction::TransactionTopic;
    use crate::transform::{HeartbeatSettings, Settings, Skipped};
    let ops = &cfg.records.skipped_operations;
    let t = &cfg.topics;
    let (key_schemas, value_schemas) = (cfg.records.key_schemas_enable, cfg.records.value_schemas_enable);
    Settings {
        skipped: Skipped { create: ops.create, update: ops.update, delete: ops.delete, truncate: ops.truncate },
        // Validated with the rest of the configuration.
        chain: crate::transform::config::parse(&cfg.transforms).unwrap_or_default(),
        transaction: cfg.records.provide_transaction_metadata.then(|| TransactionTopic {
            topic: std::sync::Arc::from(format!("{}{}{}", t.prefix, t.delimiter, t.transaction)),
            key_schemas,
            value_schemas,
        }),
        heartbeat: (cfg.pipeline.heartbeat_interval_ms > 0).then(|| HeartbeatSettings {
            topic: HeartbeatTopic {
                topic: std::sync::Arc::from(
                    t.heartbeat_name.clone().unwrap_or_else(|| format!("{}{}{}", t.heartbeat_prefix, t.delimiter, t.prefix)),
                ),
                server_name: t.prefix.clone(),
                key_schemas,
                value_schemas,
            },
            interval: Duration::from_millis(cfg.pipeline.heartbeat_interval_ms),
            action_query: cfg.pipeline.heartbeat_action_query.clone(),
        }),
        context_headers: cfg.records.extended_headers_enabled,
    }
}
