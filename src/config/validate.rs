//! Flat properties → typed [`Config`].
//!
//! Each property is *taken* out of the map once, by the code that types it,
//! so whatever is left at the end was not understood and is classified by
//! the catalogue (not implemented, renamed, ignored, unknown). Problems are
//! collected, not returned at the first one, so a user fixing a carried-over
//! Debezium config sees all of them in one run.
//!
//! Values are trimmed before typing (Kafka's `ConfigDef` trims numbers and
//! booleans too), except `database.password` and
//! `unavailable.value.placeholder`, which are used as written.
//!
//! Checks for values that parse but are not implemented yet live together in
//! [`Validator::not_implemented_yet`], one removable block each. The
//! mechanics of taking properties are in `reader.rs`.

use std::collections::BTreeMap;

use super::error::ConfigError;
use super::filters::{Filters, NameFilter};
use super::flatten::Properties;
use super::model::*;

const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
const DEFAULT_TOPIC_NAMING_STRATEGY: &str = "io.debezium.schema.DefaultTopicNamingStrategy";
const MYSQL_CONNECTOR: &str = "io.debezium.connector.mysql.MySqlConnector";
const MARIADB_CONNECTOR: &str = "io.debezium.connector.mariadb.MariaDbConnector";

/// Validates flattened, expanded properties.
pub fn validate(props: Properties) -> Result<Config, ConfigError> {
    let mut v = Validator {
        props,
        errors: Vec::new(),
        snapshot_mode_was_defaulted: false,
        include_query: false,
        topic_naming_strategy: None,
    };
    let config = v.config();
    v.leftovers();
    v.not_implemented_yet(&config);
    if v.errors.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError::from_list(v.errors))
    }
}

pub(super) struct Validator {
    /// Properties not taken yet.
    pub(super) props: Properties,
    /// Problems found so far.
    pub(super) errors: Vec<ConfigError>,
    // Read in `config`, judged in `not_implemented_yet`; not part of Config
    // because only one value of each is possible today.
    snapshot_mode_was_defaulted: bool,
    include_query: bool,
    /// `topic.naming.strategy` when set to something other than the default.
    topic_naming_strategy: Option<String>,
}

impl Validator {
    fn config(&mut self) -> Config {
        // Prefix families first, so the typed getters below see plain names.
        let producer = self.producer();
        let transforms = self.take_prefixed(&["transforms", "predicates"]);
        let topic_creation_default_configs = self.topic_creation_configs();
        let ignored = self.ignored();

        let name = self.required(
            "name",
            "it names the connector in offsets, client ids and metrics",
        );
        let flavor = self.flavor();
        self.tasks_max();
        self.converter("key.converter");
        self.converter("value.converter");

        let database = self.database();
        let filters = self.filters();
        self.snapshot_mode_was_defaulted = !self.props.contains_key("snapshot.mode");
        let snapshot_mode = self.choice("snapshot.mode", SnapshotMode::Initial);
        let snapshot = self.snapshot();
        self.include_query = self.boolean("include.query", false);
        self.topic_naming_strategy = self
            .take("topic.naming.strategy")
            .filter(|s| !s.is_empty() && s != DEFAULT_TOPIC_NAMING_STRATEGY);
        let topics = self.topics();
        let records = self.records();
        let errors = self.error_handling();
        let pipeline = self.pipeline();
        let sink = self.sink(producer, topic_creation_default_configs);
        let offsets = self.offsets();
        let metrics_address = self.metrics_address();

        Config {
            name,
            flavor,
            database,
            filters,
            snapshot_mode,
            snapshot,
            topics,
            records,
            errors,
            pipeline,
            sink,
            offsets,
            metrics_address,
            transforms,
            ignored,
        }
    }

    fn database(&mut self) -> DatabaseConfig {
        DatabaseConfig {
            hostname: self.required(
                "database.hostname",
                "the MySQL/MariaDB server to replicate from",
            ),
            port: self.integer("database.port", 3306, 1, 65535) as u16,
            user: self.required(
                "database.user",
                "a user with REPLICATION SLAVE and REPLICATION CLIENT",
            ),
            password: self.take_raw("database.password").map(Secret::new),
            server_id: self.required_integer(
                "database.server.id",
                "a replica id, unique among the server's replicas (MySQL's server_id)",
                1,
                u32::MAX as i64,
            ) as u32,
            // Until TLS lands, an absent mode means disabled for both flavours
            // (Debezium's MySQL default `preferred` also falls back to plain
            // text when the server offers no TLS).
            ssl_mode: self.choice("database.ssl.mode", SslMode::Disabled),
            connect_timeout_ms: self.integer("connect.timeout.ms", 30_000, 1, i64::MAX) as u64,
            connect_keep_alive: self.boolean("connect.keep.alive", true),
            connect_keep_alive_interval_ms: self.integer(
                "connect.keep.alive.interval.ms",
                60_000,
                1,
                i64::MAX,
            ) as u64,
        }
    }

    fn filters(&mut self) -> Filters {
        let mut kind = |include: &'static str, exclude: &'static str| {
            let inc = self.take_list(include);
            let exc = self.take_list(exclude);
            let filter = NameFilter::from_lists(
                inc.as_deref().map(|v| (include, v)),
                exc.as_deref().map(|v| (exclude, v)),
            );
            filter.unwrap_or_else(|errs| {
                self.errors.extend(errs);
                NameFilter::All
            })
        };
        let databases = kind("database.include.list", "database.exclude.list");
        let tables = kind("table.include.list", "table.exclude.list");
        let columns = kind("column.include.list", "column.exclude.list");
        Filters {
            databases,
            tables,
            columns,
            ignore_builtin: self.boolean("table.ignore.builtin", true),
        }
    }

    fn snapshot(&mut self) -> SnapshotConfig {
        let fetch_size = self.props.contains_key("snapshot.fetch.size").then(|| {
            self.integer("snapshot.fetch.size", DEFAULT_SNAPSHOT_FETCH_SIZE as i64, 1, i32::MAX as i64) as u64
        });
        let max_threads = self.props.contains_key("snapshot.max.threads").then(|| {
            self.integer("snapshot.max.threads", DEFAULT_SNAPSHOT_MAX_THREADS as i64, 1, 64) as u32
        });
        SnapshotConfig {
            locking_mode: self.choice("snapshot.locking.mode", SnapshotLockingMode::Minimal),
            lock_timeout_ms: self.integer("snapshot.lock.timeout.ms", 10_000, 1, i64::MAX) as u64,
            fetch_size,
            max_threads,
            signal_table: self.signal_table(),
            incremental_chunk_size: self.integer("incremental.snapshot.chunk.size", 1024, 1, i32::MAX as i64) as u64,
            watermarking: self.choice("incremental.snapshot.watermarking.strategy", WatermarkingStrategy::InsertInsert),
        }
    }

    /// `signal.data.collection` (`<database>.<table>`) and
    /// `signal.enabled.channels` (only the `source` channel exists here).
    fn signal_table(&mut self) -> Option<(String, String)> {
        if let Some(channels) = self.take("signal.enabled.channels") {
            if channels.split(',').map(str::trim).any(|c| !c.is_empty() && c != "source") {
                self.not_implemented(
                    "signal.enabled.channels",
                    &channels,
                    "binlog-cdc reads signals from the signal table only (channel `source`)",
                );
            }
        }
        let text = self.take("signal.data.collection")?;
        let text = text.trim();
        match text.split_once('.') {
            Some((db, table)) if !db.is_empty() && !table.is_empty() && !table.contains('.') => {
                Some((db.to_string(), table.to_string()))
            }
            _ => {
                self.invalid("signal.data.collection", "`<database>.<table>` naming the signal table", text);
                None
            }
        }
    }

    fn topics(&mut self) -> TopicConfig {
        let prefix = self.required(
            "topic.prefix",
            "it starts every topic name; Debezium 1.x called it `database.server.name`",
        );
        if !prefix.is_empty()
            && !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            self.invalid(
                "topic.prefix",
                "made of letters, digits, `.`, `_` and `-` only",
                &prefix,
            );
        }
        TopicConfig {
            prefix,
            delimiter: self.non_empty("topic.delimiter", "."),
            transaction: self.non_empty("topic.transaction", "transaction"),
            heartbeat_prefix: self.non_empty("topic.heartbeat.prefix", "__debezium-heartbeat"),
            heartbeat_name: self.take("topic.heartbeat.name").filter(|s| !s.is_empty()),
        }
    }

    fn records(&mut self) -> RecordConfig {
        let skipped_operations = match self.take("skipped.operations") {
            None => SkippedOperations::default(),
            Some(text) => SkippedOperations::parse(&text).unwrap_or_else(|_| {
                self.invalid(
                    "skipped.operations",
                    "a comma-separated list of c, u, d, t, or `none`",
                    &text,
                );
                SkippedOperations::default()
            }),
        };
        RecordConfig {
            include_schema_changes: self.boolean("include.schema.changes", true),
            tombstones_on_delete: self.boolean("tombstones.on.delete", true),
            provide_transaction_metadata: self.boolean("provide.transaction.metadata", false),
            skipped_operations,
            decimal_handling_mode: self
                .choice("decimal.handling.mode", DecimalHandlingMode::Precise),
            time_precision_mode: self.time_precision_mode(),
            bigint_unsigned_handling_mode: self.choice(
                "bigint.unsigned.handling.mode",
                BigintUnsignedHandlingMode::Long,
            ),
            binary_handling_mode: self.choice("binary.handling.mode", BinaryHandlingMode::Bytes),
            schema_name_adjustment_mode: self
                .choice("schema.name.adjustment.mode", NameAdjustmentMode::None),
            field_name_adjustment_mode: self
                .choice("field.name.adjustment.mode", NameAdjustmentMode::None),
            enable_time_adjuster: self.boolean("enable.time.adjuster", true),
            extended_headers_enabled: self.boolean("extended.headers.enabled", true),
            unavailable_value_placeholder: self
                .take_raw("unavailable.value.placeholder")
                .unwrap_or_else(|| "__debezium_unavailable_value".to_string()),
            key_schemas_enable: self.boolean("key.converter.schemas.enable", true),
            value_schemas_enable: self.boolean("value.converter.schemas.enable", true),
        }
    }

    fn time_precision_mode(&mut self) -> TimePrecisionMode {
        if self
            .props
            .get("time.precision.mode")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("adaptive"))
        {
            let value = self.take("time.precision.mode").unwrap_or_default();
            self.errors.push(ConfigError::Unsupported {
                property: "time.precision.mode".into(),
                value,
                reason: "Debezium's MySQL connector rejects `adaptive` too; use adaptive_time_microseconds".into(),
            });
            return TimePrecisionMode::AdaptiveTimeMicroseconds;
        }
        self.choice(
            "time.precision.mode",
            TimePrecisionMode::AdaptiveTimeMicroseconds,
        )
    }

    fn error_handling(&mut self) -> ErrorHandling {
        let retries = self.integer("errors.max.retries", -1, -1, u32::MAX as i64);
        ErrorHandling {
            event_processing_failure_handling_mode: self.choice(
                "event.processing.failure.handling.mode",
                EventProcessingFailureHandlingMode::Fail,
            ),
            inconsistent_schema_handling_mode: self.choice(
                "inconsistent.schema.handling.mode",
                InconsistentSchemaHandlingMode::Fail,
            ),
            max_retries: u32::try_from(retries).ok(),
        }
    }

    fn pipeline(&mut self) -> PipelineConfig {
        let max_queue_size = self.integer("max.queue.size", 8192, 1, i32::MAX as i64) as usize;
        let max_batch_size = self.integer("max.batch.size", 2048, 1, i32::MAX as i64) as usize;
        if max_queue_size <= max_batch_size {
            self.errors.push(ConfigError::Invalid {
                property: "max.queue.size".into(),
                expected: format!(
                    "larger than `max.batch.size` ({max_batch_size}), as in Debezium"
                ),
                actual: max_queue_size.to_string(),
            });
        }
        let bytes = self.integer("max.queue.size.in.bytes", 0, 0, i64::MAX) as u64;
        PipelineConfig {
            heartbeat_interval_ms: self.integer("heartbeat.interval.ms", 0, 0, i64::MAX) as u64,
            heartbeat_action_query: self.take_raw("heartbeat.action.query").filter(|q| !q.trim().is_empty()),
            max_queue_size,
            max_batch_size,
            max_queue_size_bytes: if bytes == 0 {
                DEFAULT_MAX_QUEUE_SIZE_BYTES
            } else {
                bytes
            },
            poll_interval_ms: self.integer("poll.interval.ms", 500, 1, i64::MAX) as u64,
        }
    }

    fn sink(
        &mut self,
        producer: BTreeMap<String, String>,
        topic_creation_default_configs: BTreeMap<String, String>,
    ) -> SinkConfig {
        let sink_type = self.choice("sink.type", SinkType::Kafka);
        let bootstrap_servers = self.take("bootstrap.servers").filter(|s| !s.is_empty());
        if sink_type == SinkType::Kafka && bootstrap_servers.is_none() {
            self.errors.push(ConfigError::Missing {
                property: "bootstrap.servers".into(),
                hint: "the Kafka sink needs the brokers (host:port,…); or set `sink.type: stdout`",
            });
        }
        let exactly_once_support = self.choice("exactly.once.support", ExactlyOnceSupport::Off);
        if sink_type == SinkType::Stdout && exactly_once_support != ExactlyOnceSupport::Off {
            self.errors.push(ConfigError::Unsupported {
                property: "exactly.once.support".into(),
                value: exactly_once_support.to_string(),
                reason: "exactly-once delivery needs Kafka transactions; use `sink.type: kafka` or remove it".into(),
            });
        }
        let broker_default_or_positive = |n: i64| n == -1 || n >= 1;
        SinkConfig {
            sink_type,
            bootstrap_servers,
            producer,
            exactly_once_support,
            topic_creation_enable: self.boolean("topic.creation.enable", true),
            topic_creation_default_partitions: self.integer_if(
                "topic.creation.default.partitions",
                1,
                broker_default_or_positive,
                "-1 (broker default) or a positive integer",
                i32::MAX as i64,
            ) as i32,
            topic_creation_default_replication_factor: self.integer_if(
                "topic.creation.default.replication.factor",
                -1,
                broker_default_or_positive,
                "-1 (broker default) or a positive integer",
                i16::MAX as i64,
            ) as i16,
            topic_creation_default_configs,
        }
    }

    fn offsets(&mut self) -> OffsetStorageConfig {
        OffsetStorageConfig {
            topic: self.non_empty("offset.storage.topic", "binlog-cdc-offsets"),
            partitions: self.integer("offset.storage.partitions", 25, 1, i32::MAX as i64) as i32,
            replication_factor: self.integer_if(
                "offset.storage.replication.factor",
                -1,
                |n| n == -1 || n >= 1,
                "-1 (broker default) or a positive integer",
                i16::MAX as i64,
            ) as i16,
            flush_interval_ms: self.integer("offset.flush.interval.ms", 1000, 0, i64::MAX) as u64,
        }
    }

    fn metrics_address(&mut self) -> Option<HostPort> {
        let text = self.take("metrics.address").filter(|s| !s.is_empty())?;
        let parsed = parse_host_port(&text);
        if parsed.is_none() {
            self.invalid(
                "metrics.address",
                "host:port, for example 0.0.0.0:9090 or [::1]:9090",
                &text,
            );
        }
        parsed
    }

    fn flavor(&mut self) -> Flavor {
        let Some(class) = self.take("connector.class") else {
            return Flavor::Mysql;
        };
        // Connect also accepts a plugin's simple class name, and its alias
        // without the `Connector` suffix.
        let is = |full: &str, simple: &str, alias: &str| {
            class == full || class.eq_ignore_ascii_case(simple) || class.eq_ignore_ascii_case(alias)
        };
        if is(MYSQL_CONNECTOR, "MySqlConnector", "MySql") {
            Flavor::Mysql
        } else if is(MARIADB_CONNECTOR, "MariaDbConnector", "MariaDb") {
            Flavor::Mariadb
        } else {
            self.errors.push(ConfigError::Unsupported {
                property: "connector.class".into(),
                value: class,
                reason: format!(
                    "binlog-cdc replaces {MYSQL_CONNECTOR} and {MARIADB_CONNECTOR} only"
                ),
            });
            Flavor::Mysql
        }
    }

    fn tasks_max(&mut self) {
        let Some(text) = self.take("tasks.max") else {
            return;
        };
        if text.parse::<i64>() != Ok(1) {
            self.errors.push(ConfigError::Unsupported {
                property: "tasks.max".into(),
                value: text,
                reason: "a binlog is read by one task (Debezium's MySQL connector never starts more); set it to 1 or remove it".into(),
            });
        }
    }

    fn converter(&mut self, property: &'static str) {
        let Some(class) = self.take(property) else {
            return;
        };
        if class != JSON_CONVERTER {
            self.errors.push(ConfigError::Unsupported {
                property: property.into(),
                value: class,
                reason: format!(
                    "binlog-cdc writes the JSON of {JSON_CONVERTER}; set that or remove it"
                ),
            });
        }
    }

    /// Values that parse but that binlog-cdc cannot honour yet. Each block is
    /// independent: delete it when the feature lands.
    fn not_implemented_yet(&mut self, config: &Config) {
        // Snapshots: every mode but the ones that rebuild Debezium's schema
        // history or plug in Java classes.
        let _ = self.snapshot_mode_was_defaulted;
        match config.snapshot_mode {
            SnapshotMode::Recovery | SnapshotMode::ConfigurationBased | SnapshotMode::Custom => {
                self.errors.push(ConfigError::NotImplementedValue {
                    property: "snapshot.mode".into(),
                    value: config.snapshot_mode.to_string(),
                    hint: "use initial, initial_only, when_needed, no_data, never or always".into(),
                })
            }
            _ => {}
        }
        if config.snapshot.locking_mode == SnapshotLockingMode::Custom {
            self.not_implemented("snapshot.locking.mode", "custom", "use minimal, extended or none");
        }
        if config.database.ssl_mode != SslMode::Disabled {
            self.not_implemented(
                "database.ssl.mode",
                config.database.ssl_mode.as_str(),
                "TLS to the database is coming; set `disabled`",
            );
        }
        if !matches!(
            config.records.time_precision_mode,
            TimePrecisionMode::AdaptiveTimeMicroseconds | TimePrecisionMode::Connect
        ) {
            let mode = config.records.time_precision_mode.as_str();
            self.not_implemented(
                "time.precision.mode",
                mode,
                "use adaptive_time_microseconds or connect",
            );
        }
        for (property, mode) in [
            (
                "schema.name.adjustment.mode",
                config.records.schema_name_adjustment_mode,
            ),
            (
                "field.name.adjustment.mode",
                config.records.field_name_adjustment_mode,
            ),
        ] {
            if mode != NameAdjustmentMode::None {
                self.not_implemented(property, mode.as_str(), "use none");
            }
        }
        if config.sink.exactly_once_support != ExactlyOnceSupport::Off {
            self.not_implemented(
                "exactly.once.support",
                config.sink.exactly_once_support.as_str(),
                "transactional delivery is coming; remove it (delivery is at least once)",
            );
        }
        if self.include_query {
            self.not_implemented("include.query", "true", "set it to false");
        }
        if let Some(strategy) = self.topic_naming_strategy.clone() {
            self.not_implemented(
                "topic.naming.strategy",
                &strategy,
                &format!("use {DEFAULT_TOPIC_NAMING_STRATEGY}"),
            );
        }
        // The SMT chain is typed by the transform stage, which owns the
        // transforms' property names.
        if let Err(problems) = crate::transform::config::parse(&config.transforms) {
            self.errors.extend(problems);
        }
    }

    fn not_implemented(&mut self, property: &str, value: &str, hint: &str) {
        self.errors.push(ConfigError::NotImplementedValue {
            property: property.into(),
            value: value.into(),
            hint: hint.into(),
        });
    }
}

/// `host:port` or `[v6]:port`.
pub fn parse_host_port(text: &str) -> Option<HostPort> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':')?)
    } else {
        let (host, port) = text.rsplit_once(':')?;
        if host.contains(':') {
            return None; // an unbracketed IPv6 address is ambiguous
        }
        (host, port)
    };
    if host.is_empty() {
        return None;
    }
    let port = port.parse::<u16>().ok()?;
    Some(HostPort {
        host: host.to_string(),
        port,
    })
}
