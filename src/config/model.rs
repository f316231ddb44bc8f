//! The validated configuration: plain typed values, no parsing.
//!
//! Every field here comes from one Debezium or Kafka Connect property (named
//! in its doc comment), already checked, with the default filled in. Stages
//! read the part they own (`database` for the source, `sink` for the
//! producer, `offsets` for the position store…) and never see property
//! strings. Durations and sizes carry their unit in the field name.
//!
//! Enums list every value Debezium knows, even those binlog-cdc rejects for
//! now (validation says which), so that implementing one later is a change
//! in one place and parsing never needs to be revisited.

use std::collections::BTreeMap;
use std::fmt;

use super::filters::Filters;

/// The whole validated configuration. Built by [`super::load`] or
/// [`super::from_str`].
#[derive(Debug, Clone)]
pub struct Config {
    /// `name`: the connector name; part of the offsets key, client ids, metric label.
    pub name: String,
    /// `connector.class`: which Debezium connector this replaces.
    pub flavor: Flavor,
    /// `database.*`: how to reach the source server.
    pub database: DatabaseConfig,
    /// `database.include.list` … `column.exclude.list`, `table.ignore.builtin`.
    pub filters: Filters,
    /// `snapshot.mode`.
    pub snapshot_mode: SnapshotMode,
    /// `snapshot.locking.mode`, `snapshot.lock.timeout.ms`, `snapshot.fetch.size`,
    /// `snapshot.max.threads`: how the snapshot reads.
    pub snapshot: SnapshotConfig,
    /// `topic.*`: how topic names are built.
    pub topics: TopicConfig,
    /// Options that shape the records written (envelope, converters).
    pub records: RecordConfig,
    /// What to do when an event cannot be processed.
    pub errors: ErrorHandling,
    /// Queue sizes and timings between stages.
    pub pipeline: PipelineConfig,
    /// `sink.type`, `bootstrap.servers`, `producer.*`, `topic.creation.*`, `exactly.once.support`.
    pub sink: SinkConfig,
    /// `offset.storage.*`, `offset.flush.interval.ms`: where positions are kept.
    pub offsets: OffsetStorageConfig,
    /// `metrics.address`: where `/metrics` and `/health` listen; `None` = off.
    pub metrics_address: Option<HostPort>,
    /// `transforms`, `transforms.*`, `predicates`, `predicates.*`, as written
    /// (full property names as keys), for the transform stage.
    pub transforms: BTreeMap<String, String>,
    /// Properties that were accepted but have no effect in binlog-cdc, so the
    /// caller can log them once at start.
    pub ignored: Vec<IgnoredProperty>,
}

/// Source connection (`database.*`, `connect.*`).
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `database.hostname`.
    pub hostname: String,
    /// `database.port` (default 3306).
    pub port: u16,
    /// `database.user`.
    pub user: String,
    /// `database.password`; `None` when not set.
    pub password: Option<Secret>,
    /// `database.server.id`: our replica id, unique among the server's replicas.
    pub server_id: u32,
    /// `database.ssl.mode`.
    pub ssl_mode: SslMode,
    /// `connect.timeout.ms` (default 30000).
    pub connect_timeout_ms: u64,
    /// `connect.keep.alive` (default true): reconnect when the stream drops.
    pub connect_keep_alive: bool,
    /// `connect.keep.alive.interval.ms` (default 60000).
    pub connect_keep_alive_interval_ms: u64,
}

/// How a snapshot reads (`snapshot.*`), spec §10.
#[derive(Debug, Clone)]
pub struct SnapshotConfig {
    /// `snapshot.locking.mode` (default `minimal`).
    pub locking_mode: SnapshotLockingMode,
    /// `snapshot.lock.timeout.ms` (default 10000): longest wait for the read lock.
    pub lock_timeout_ms: u64,
    /// `snapshot.fetch.size`: rows per chunk query; `None` = binlog-cdc's
    /// default ([`DEFAULT_SNAPSHOT_FETCH_SIZE`]).
    pub fetch_size: Option<u64>,
    /// `snapshot.max.threads`: reader connections; `None` = binlog-cdc's
    /// default ([`DEFAULT_SNAPSHOT_MAX_THREADS`]; Debezium's is 1).
    pub max_threads: Option<u32>,
    /// `signal.data.collection`: the signal table as (database, table);
    /// `None` = no signals (and so no incremental or blocking snapshots).
    pub signal_table: Option<(String, String)>,
    /// `incremental.snapshot.chunk.size` (default 1024): rows per
    /// incremental-snapshot chunk (one watermark window).
    pub incremental_chunk_size: u64,
    /// `incremental.snapshot.watermarking.strategy` (default `insert_insert`).
    pub watermarking: WatermarkingStrategy,
}

/// Rows per snapshot chunk query when `snapshot.fetch.size` is not set.
pub const DEFAULT_SNAPSHOT_FETCH_SIZE: u64 = 10_000;
/// Snapshot reader connections when `snapshot.max.threads` is not set.
pub const DEFAULT_SNAPSHOT_MAX_THREADS: u32 = 4;

/// Topic naming (`topic.*`), spec §4.
#[derive(Debug, Clone)]
pub struct TopicConfig {
    /// `topic.prefix`: first part of every topic name; only `[A-Za-z0-9._-]`.
    pub prefix: String,
    /// `topic.delimiter` (default `.`).
    pub delimiter: String,
    /// `topic.transaction` (default `transaction`).
    pub transaction: String,
    /// `topic.heartbeat.prefix` (default `__debezium-heartbeat`).
    pub heartbeat_prefix: String,
    /// `topic.heartbeat.name`: overrides `<heartbeat prefix>.<prefix>` when set.
    pub heartbeat_name: Option<String>,
}

/// Options that decide what the records look like.
#[derive(Debug, Clone)]
pub struct RecordConfig {
    /// `include.schema.changes` (default true).
    pub include_schema_changes: bool,
    /// `tombstones.on.delete` (default true).
    pub tombstones_on_delete: bool,
    /// `provide.transaction.metadata` (default false).
    pub provide_transaction_metadata: bool,
    /// `skipped.operations` (default `t`).
    pub skipped_operations: SkippedOperations,
    /// `decimal.handling.mode` (default `precise`).
    pub decimal_handling_mode: DecimalHandlingMode,
    /// `time.precision.mode` (default `adaptive_time_microseconds`).
    pub time_precision_mode: TimePrecisionMode,
    /// `bigint.unsigned.handling.mode` (default `long`).
    pub bigint_unsigned_handling_mode: BigintUnsignedHandlingMode,
    /// `binary.handling.mode` (default `bytes`).
    pub binary_handling_mode: BinaryHandlingMode,
    /// `schema.name.adjustment.mode` (default `none`).
    pub schema_name_adjustment_mode: NameAdjustmentMode,
    /// `field.name.adjustment.mode` (default `none`).
    pub field_name_adjustment_mode: NameAdjustmentMode,
    /// `enable.time.adjuster` (default true): two-digit years become 19xx/20xx.
    pub enable_time_adjuster: bool,
    /// `extended.headers.enabled` (default true): `__debezium.context.*` headers.
    pub extended_headers_enabled: bool,
    /// `unavailable.value.placeholder` (default `__debezium_unavailable_value`).
    pub unavailable_value_placeholder: String,
    /// `key.converter.schemas.enable` (default true): embed the Connect schema in keys.
    pub key_schemas_enable: bool,
    /// `value.converter.schemas.enable` (default true): embed the Connect schema in values.
    pub value_schemas_enable: bool,
}

/// Failure handling.
#[derive(Debug, Clone)]
pub struct ErrorHandling {
    /// `event.processing.failure.handling.mode` (default `fail`).
    pub event_processing_failure_handling_mode: EventProcessingFailureHandlingMode,
    /// `inconsistent.schema.handling.mode` (default `fail`).
    pub inconsistent_schema_handling_mode: InconsistentSchemaHandlingMode,
    /// `errors.max.retries` (default -1): retries of a transient error before
    /// stopping; `None` = retry forever (the property's -1).
    pub max_retries: Option<u32>,
}

/// Sizes and timings of the pipeline between stages.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// `heartbeat.interval.ms` (default 0 = no heartbeats).
    pub heartbeat_interval_ms: u64,
    /// `heartbeat.action.query`: SQL run on the source at each heartbeat.
    pub heartbeat_action_query: Option<String>,
    /// `max.queue.size` (default 8192): events buffered between source and sink.
    pub max_queue_size: usize,
    /// `max.batch.size` (default 2048): events handed on at once.
    pub max_batch_size: usize,
    /// `max.queue.size.in.bytes`. Debezium's default 0 means "no byte bound";
    /// binlog-cdc always bounds memory, so 0 becomes [`DEFAULT_MAX_QUEUE_SIZE_BYTES`].
    pub max_queue_size_bytes: u64,
    /// `poll.interval.ms` (default 500): longest wait for a batch to fill.
    pub poll_interval_ms: u64,
}

/// binlog-cdc's queue byte bound when `max.queue.size.in.bytes` is 0 or unset:
/// 16 MiB, several batches ahead of the sink (more only adds memory: `make
/// bench` drains as fast with 16 as with 64 MiB).
pub const DEFAULT_MAX_QUEUE_SIZE_BYTES: u64 = 16 * 1024 * 1024;

/// Where records go.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// `sink.type` (default `kafka`).
    pub sink_type: SinkType,
    /// `bootstrap.servers`; always `Some` when `sink_type` is Kafka.
    pub bootstrap_servers: Option<String>,
    /// `producer.<name>` and `producer.override.<name>`: librdkafka properties
    /// keyed by `<name>`, passed to the producer as is.
    pub producer: BTreeMap<String, String>,
    /// `exactly.once.support` (default off).
    pub exactly_once_support: ExactlyOnceSupport,
    /// `topic.creation.enable` (Connect worker property, default true):
    /// create missing data topics.
    pub topic_creation_enable: bool,
    /// `topic.creation.default.partitions` (default 1; -1 = broker default).
    pub topic_creation_default_partitions: i32,
    /// `topic.creation.default.replication.factor` (default -1 = broker default).
    pub topic_creation_default_replication_factor: i16,
    /// `topic.creation.default.<topic config>` (e.g. `cleanup.policy`), keyed
    /// by the topic config name, for the CreateTopics request.
    pub topic_creation_default_configs: BTreeMap<String, String>,
}

/// The offsets topic (Kafka Connect worker properties).
#[derive(Debug, Clone)]
pub struct OffsetStorageConfig {
    /// `offset.storage.topic` (default `binlog-cdc-offsets`).
    pub topic: String,
    /// `offset.storage.partitions` (default 25, like Connect).
    pub partitions: i32,
    /// `offset.storage.replication.factor` (default -1 = broker default).
    pub replication_factor: i16,
    /// `offset.flush.interval.ms`: the longest time between two position
    /// commits. Connect's default is 60000; binlog-cdc commits from delivery
    /// reports, which is cheap, so its default is 1000.
    pub flush_interval_ms: u64,
}

/// A property accepted without effect, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredProperty {
    pub name: String,
    pub reason: &'static str,
}

/// `host:port`, as in `metrics.address`. The host may be a name, an IPv4
/// address or a bracketed IPv6 address (kept without brackets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A value that must not reach logs: `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `skipped.operations`: which change kinds are not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedOperations {
    pub create: bool,
    pub update: bool,
    pub delete: bool,
    pub truncate: bool,
}

impl SkippedOperations {
    /// Nothing skipped (`none`).
    pub const NONE: SkippedOperations = SkippedOperations {
        create: false,
        update: false,
        delete: false,
        truncate: false,
    };

    /// Whether the Debezium `op` code (`c`, `u`, `d`, `t`) is skipped. `r`
    /// (snapshot read) never is.
    pub fn skips(&self, op: &str) -> bool {
        match op {
            "c" => self.create,
            "u" => self.update,
            "d" => self.delete,
            "t" => self.truncate,
            _ => false,
        }
    }

    /// Parses Debezium's comma-separated list (`c,u,d,t` or `none`).
    /// Returns the offending item on error.
    pub fn parse(text: &str) -> Result<SkippedOperations, String> {
        let mut ops = SkippedOperations::NONE;
        let items: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        for item in &items {
            match item.to_ascii_lowercase().as_str() {
                "c" => ops.create = true,
                "u" => ops.update = true,
                "d" => ops.delete = true,
                "t" => ops.truncate = true,
                "none" if items.len() == 1 => {}
                _ => return Err((*item).to_string()),
            }
        }
        Ok(ops)
    }
}

impl Default for SkippedOperations {
    /// Debezium's default: skip truncates.
    fn default() -> Self {
        SkippedOperations {
            truncate: true,
            ..SkippedOperations::NONE
        }
    }
}

/// An enum whose values are property strings.
pub trait PropertyEnum: Sized + Copy + 'static {
    /// Every variant with its canonical spelling (the first is the one printed).
    const VALUES: &'static [(&'static str, Self)];

    /// Case-insensitive, like Debezium's `parse` methods.
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::VALUES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(text))
            .map(|(_, v)| *v)
    }

    /// The canonical spellings, for error messages: `a, b, c`.
    fn expected() -> String {
        let mut seen: Vec<&str> = Vec::new();
        for (name, _) in Self::VALUES {
            if !seen.contains(name) {
                seen.push(name);
            }
        }
        seen.join(", ")
    }
}

/// Declares a `PropertyEnum` with `as_str` and `Display`. Aliases are extra
/// `"spelling" => Variant` pairs after the canonical one.
macro_rules! property_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal $(| $alias:literal)*,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl PropertyEnum for $name {
            const VALUES: &'static [(&'static str, Self)] = &[
                $(($text, $name::$variant), $(($alias, $name::$variant),)*)+
            ];
        }

        impl $name {
            /// The canonical property spelling.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

property_enum! {
    /// Which server family the connector talks to, from `connector.class`.
    Flavor {
        /// `io.debezium.connector.mysql.MySqlConnector` (the default).
        Mysql = "mysql",
        /// `io.debezium.connector.mariadb.MariaDbConnector`.
        Mariadb = "mariadb",
    }
}

property_enum! {
    /// `snapshot.mode`, spec §10.
    SnapshotMode {
        Initial = "initial",
        InitialOnly = "initial_only",
        WhenNeeded = "when_needed",
        NoData = "no_data",
        Never = "never",
        Always = "always",
        Recovery = "recovery",
        ConfigurationBased = "configuration_based",
        Custom = "custom",
    }
}

property_enum! {
    /// `snapshot.locking.mode` (MariaDB's values; MySQL's Percona modes are not offered).
    SnapshotLockingMode {
        /// Global read lock only while the readers open their consistent views.
        Minimal = "minimal",
        /// Global read lock for the whole snapshot.
        Extended = "extended",
        /// No lock (safe only when nothing writes during the snapshot's start).
        None = "none",
        Custom = "custom",
    }
}

property_enum! {
    /// `incremental.snapshot.watermarking.strategy`: how a chunk's window
    /// is closed in the signal table.
    WatermarkingStrategy {
        /// Insert a `-close` row after the `-open` row.
        InsertInsert = "insert_insert",
        /// Delete the `-open` row (the signal table stays small).
        InsertDelete = "insert_delete",
    }
}

property_enum! {
    /// `decimal.handling.mode`.
    DecimalHandlingMode {
        Precise = "precise",
        Double = "double",
        String = "string",
    }
}

property_enum! {
    /// `time.precision.mode`.
    TimePrecisionMode {
        AdaptiveTimeMicroseconds = "adaptive_time_microseconds",
        Connect = "connect",
        Isostring = "isostring",
        Microseconds = "microseconds",
        Nanoseconds = "nanoseconds",
        Structured = "structured",
    }
}

property_enum! {
    /// `bigint.unsigned.handling.mode`.
    BigintUnsignedHandlingMode {
        Long = "long",
        Precise = "precise",
    }
}

property_enum! {
    /// `binary.handling.mode`.
    BinaryHandlingMode {
        Bytes = "bytes",
        Base64 = "base64",
        Base64UrlSafe = "base64-url-safe",
        Hex = "hex",
    }
}

property_enum! {
    /// `schema.name.adjustment.mode` and `field.name.adjustment.mode`.
    NameAdjustmentMode {
        None = "none",
        Avro = "avro",
        AvroUnicode = "avro_unicode",
    }
}

property_enum! {
    /// `event.processing.failure.handling.mode`.
    EventProcessingFailureHandlingMode {
        /// Stop with an error naming the event's position.
        Fail = "fail",
        /// Log the event's position and continue.
        Warn = "warn",
        /// Continue silently.
        Skip = "skip",
        /// Like skip (Debezium treats it the same way).
        Ignore = "ignore",
    }
}

property_enum! {
    /// `inconsistent.schema.handling.mode`: rows of a table whose schema is unknown.
    InconsistentSchemaHandlingMode {
        Fail = "fail",
        Warn = "warn",
        Skip = "skip",
    }
}

property_enum! {
    /// `database.ssl.mode`. Both MySQL's spellings and MariaDB's are accepted
    /// (MariaDB's `trust` encrypts without checking the certificate, like
    /// MySQL's `required`).
    SslMode {
        Disabled = "disabled" | "disable",
        Preferred = "preferred",
        Required = "required" | "trust",
        VerifyCa = "verify_ca" | "verify-ca",
        VerifyIdentity = "verify_identity" | "verify-full",
    }
}

property_enum! {
    /// `sink.type`.
    SinkType {
        /// Kafka, via librdkafka.
        Kafka = "kafka",
        /// JSON lines on stdout: topic, key, value. For debugging and benchmarks.
        Stdout = "stdout",
    }
}

property_enum! {
    /// `exactly.once.support`. Absent = off: at-least-once delivery.
    ExactlyOnceSupport {
        Off = "off",
        /// Transactional writes of records and positions together.
        Requested = "requested",
        /// Like `Requested`, and refuse to start if transactions are unavailable.
        Required = "required",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_case_insensitively_and_print_canonically() {
        assert_eq!(SnapshotMode::parse(" NO_DATA "), Some(SnapshotMode::NoData));
        assert_eq!(SnapshotMode::parse("schema_only"), None);
        assert_eq!(
            BinaryHandlingMode::parse("base64-url-safe"),
            Some(BinaryHandlingMode::Base64UrlSafe)
        );
        assert_eq!(SslMode::parse("disable"), Some(SslMode::Disabled));
        assert_eq!(SslMode::parse("verify-full"), Some(SslMode::VerifyIdentity));
        assert_eq!(SslMode::VerifyIdentity.to_string(), "verify_identity");
        assert_eq!(
            TimePrecisionMode::parse("Connect"),
            Some(TimePrecisionMode::Connect)
        );
        assert_eq!(TimePrecisionMode::parse("adaptive"), None);
    }

    #[test]
    fn every_value_of_every_enum_round_trips() {
        fn check<E: PropertyEnum + PartialEq + fmt::Debug>(as_str: fn(&E) -> &'static str) {
            for (text, value) in E::VALUES {
                assert_eq!(E::parse(text), Some(*value), "{text}");
                assert_eq!(E::parse(as_str(value)), Some(*value));
            }
        }
        check::<Flavor>(Flavor::as_str);
        check::<SnapshotMode>(SnapshotMode::as_str);
        check::<SnapshotLockingMode>(SnapshotLockingMode::as_str);
        check::<WatermarkingStrategy>(WatermarkingStrategy::as_str);
        check::<DecimalHandlingMode>(DecimalHandlingMode::as_str);
        check::<TimePrecisionMode>(TimePrecisionMode::as_str);
        check::<BigintUnsignedHandlingMode>(BigintUnsignedHandlingMode::as_str);
        check::<BinaryHandlingMode>(BinaryHandlingMode::as_str);
        check::<NameAdjustmentMode>(NameAdjustmentMode::as_str);
        check::<EventProcessingFailureHandlingMode>(EventProcessingFailureHandlingMode::as_str);
        check::<InconsistentSchemaHandlingMode>(InconsistentSchemaHandlingMode::as_str);
        check::<SslMode>(SslMode::as_str);
        check::<SinkType>(SinkType::as_str);
        check::<ExactlyOnceSupport>(ExactlyOnceSupport::as_str);
    }

    #[test]
    fn expected_lists_canonical_spellings_once() {
        assert_eq!(DecimalHandlingMode::expected(), "precise, double, string");
        assert!(SslMode::expected().starts_with("disabled, disable, preferred"));
    }

    #[test]
    fn skipped_operations() {
        assert_eq!(
            SkippedOperations::parse("t"),
            Ok(SkippedOperations::default())
        );
        assert_eq!(
            SkippedOperations::parse("none"),
            Ok(SkippedOperations::NONE)
        );
        assert_eq!(SkippedOperations::parse(""), Ok(SkippedOperations::NONE));
        let ops = SkippedOperations::parse("c, U,d").unwrap();
        assert!(ops.skips("c") && ops.skips("u") && ops.skips("d"));
        assert!(!ops.skips("t") && !ops.skips("r"));
        assert_eq!(SkippedOperations::parse("c,x"), Err("x".to_string()));
        assert_eq!(SkippedOperations::parse("none,c"), Err("none".to_string()));
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn host_port_display() {
        let v6 = HostPort {
            host: "::1".into(),
            port: 9090,
        };
        assert_eq!(v6.to_string(), "[::1]:9090");
        let name = HostPort {
            host: "localhost".into(),
            port: 1,
        };
        assert_eq!(name.to_string(), "localhost:1");
    }
}
