//! End-to-end tests of the contract: text in, `Config` or error out.
//! Per-step details are tested next to each step (flatten, expand, filters…).

use std::io::Write;

use super::*;

/// The smallest valid config, as YAML lines, for tests to extend.
const MINIMAL: &str = "\
name: inventory-connector
database.hostname: db
database.user: cdc
database.server.id: 184054
topic.prefix: dbserver1
snapshot.mode: no_data
bootstrap.servers: kafka:9092
";

fn env(name: &str) -> Option<String> {
    (name == "DB_PASSWORD").then(|| "s3cret".to_string())
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    from_str_with_env(text, "test.yaml", &env)
}

fn with(extra: &str) -> Result<Config, ConfigError> {
    parse(&format!("{MINIMAL}{extra}\n"))
}

fn error(extra: &str) -> ConfigError {
    match with(extra) {
        Ok(_) => panic!("expected an error for {extra:?}"),
        Err(e) => e,
    }
}

/// The message of the only problem.
fn message(extra: &str) -> String {
    let e = error(extra);
    assert_eq!(e.problems().len(), 1, "expected one problem, got: {e}");
    e.to_string()
}

#[test]
fn minimal_config_gets_every_default() {
    let c = with("").unwrap();
    assert_eq!(c.name, "inventory-connector");
    assert_eq!(c.flavor, Flavor::Mysql);
    assert_eq!(c.database.hostname, "db");
    assert_eq!(c.database.port, 3306);
    assert_eq!(c.database.user, "cdc");
    assert!(c.database.password.is_none());
    assert_eq!(c.database.server_id, 184054);
    assert_eq!(c.database.ssl_mode, SslMode::Disabled);
    assert_eq!(c.database.connect_timeout_ms, 30_000);
    assert!(c.database.connect_keep_alive);
    assert_eq!(c.database.connect_keep_alive_interval_ms, 60_000);
    assert_eq!(c.snapshot_mode, SnapshotMode::NoData);
    assert_eq!(c.topics.prefix, "dbserver1");
    assert_eq!(c.topics.delimiter, ".");
    assert_eq!(c.topics.transaction, "transaction");
    assert_eq!(c.topics.heartbeat_prefix, "__debezium-heartbeat");
    assert_eq!(c.topics.heartbeat_name, None);
    let r = &c.records;
    assert!(r.include_schema_changes && r.tombstones_on_delete && !r.provide_transaction_metadata);
    assert_eq!(r.skipped_operations, SkippedOperations::default());
    assert_eq!(r.decimal_handling_mode, DecimalHandlingMode::Precise);
    assert_eq!(
        r.time_precision_mode,
        TimePrecisionMode::AdaptiveTimeMicroseconds
    );
    assert_eq!(
        r.bigint_unsigned_handling_mode,
        BigintUnsignedHandlingMode::Long
    );
    assert_eq!(r.binary_handling_mode, BinaryHandlingMode::Bytes);
    assert_eq!(r.schema_name_adjustment_mode, NameAdjustmentMode::None);
    assert_eq!(r.field_name_adjustment_mode, NameAdjustmentMode::None);
    assert!(r.enable_time_adjuster && r.extended_headers_enabled);
    assert_eq!(
        r.unavailable_value_placeholder,
        "__debezium_unavailable_value"
    );
    assert!(r.key_schemas_enable && r.value_schemas_enable);
    assert_eq!(
        c.errors.event_processing_failure_handling_mode,
        EventProcessingFailureHandlingMode::Fail
    );
    assert_eq!(
        c.errors.inconsistent_schema_handling_mode,
        InconsistentSchemaHandlingMode::Fail
    );
    assert_eq!(c.errors.max_retries, None);
    let p = &c.pipeline;
    assert_eq!(
        (p.heartbeat_interval_ms, p.max_queue_size, p.max_batch_size),
        (0, 8192, 2048)
    );
    assert_eq!(p.max_queue_size_bytes, DEFAULT_MAX_QUEUE_SIZE_BYTES);
    assert_eq!(p.poll_interval_ms, 500);
    let s = &c.sink;
    assert_eq!(s.sink_type, SinkType::Kafka);
    assert_eq!(s.bootstrap_servers.as_deref(), Some("kafka:9092"));
    assert!(s.producer.is_empty());
    assert_eq!(s.exactly_once_support, ExactlyOnceSupport::Off);
    assert!(s.topic_creation_enable);
    assert_eq!(
        (
            s.topic_creation_default_partitions,
            s.topic_creation_default_replication_factor
        ),
        (1, -1)
    );
    assert!(s.topic_creation_default_configs.is_empty());
    assert_eq!(c.offsets.topic, "binlog-cdc-offsets");
    assert_eq!(
        (c.offsets.partitions, c.offsets.replication_factor),
        (25, -1)
    );
    assert_eq!(c.offsets.flush_interval_ms, 1000);
    assert_eq!(c.metrics_address, None);
    assert!(c.transforms.is_empty());
    assert!(c.ignored.is_empty());
    assert!(c.filters.include_table("inventory", "customers"));
    assert!(!c.filters.include_table("mysql", "user"));
}

#[test]
fn every_contract_property_is_read() {
    let text = r#"
name: c1
connector.class: io.debezium.connector.mariadb.MariaDbConnector
tasks.max: 1
database:
  hostname: mariadb.internal
  port: 3307
  user: cdc
  password: ${env:DB_PASSWORD}
  server.id: 5400
  ssl.mode: disable
  include.list: inventory
table.include.list: [inventory\.customers, inventory\.orders]
column.exclude.list: inventory\.customers\.email
table.ignore.builtin: false
snapshot.mode: never
include.schema.changes: false
tombstones.on.delete: false
provide.transaction.metadata: false
skipped.operations: none
decimal.handling.mode: string
time.precision.mode: connect
bigint.unsigned.handling.mode: precise
binary.handling.mode: hex
enable.time.adjuster: false
extended.headers.enabled: false
unavailable.value.placeholder: "  __gone "
event.processing.failure.handling.mode: warn
inconsistent.schema.handling.mode: skip
errors.max.retries: 7
heartbeat.interval.ms: 0
max.queue.size: 100
max.batch.size: 10
max.queue.size.in.bytes: 1048576
poll.interval.ms: 50
connect:
  timeout.ms: 5000
  keep.alive: false
  keep.alive.interval.ms: 1000
topic:
  prefix: dbserver1
  delimiter: _
  transaction: tx
  heartbeat.prefix: hb
  heartbeat.name: beats
key.converter: org.apache.kafka.connect.json.JsonConverter
value.converter: org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable: false
value.converter.schemas.enable: false
sink.type: kafka
bootstrap.servers: k1:9092,k2:9092
producer.linger.ms: 5
producer.override.compression.type: zstd
exactly.once.support: off
topic.creation:
  enable: false
  default.partitions: 3
  default.replication.factor: 2
  default.cleanup.policy: compact
offset.storage:
  topic: my-offsets
  partitions: 5
  replication.factor: 3
offset.flush.interval.ms: 250
metrics.address: 0.0.0.0:9102
"#;
    let c = parse(text).unwrap();
    assert_eq!(c.name, "c1");
    assert_eq!(c.flavor, Flavor::Mariadb);
    assert_eq!(c.database.hostname, "mariadb.internal");
    assert_eq!(c.database.port, 3307);
    assert_eq!(
        c.database.password.as_ref().map(Secret::expose),
        Some("s3cret")
    );
    assert_eq!(c.database.server_id, 5400);
    assert_eq!(c.database.ssl_mode, SslMode::Disabled);
    assert_eq!(c.database.connect_timeout_ms, 5000);
    assert!(!c.database.connect_keep_alive);
    assert_eq!(c.database.connect_keep_alive_interval_ms, 1000);
    assert!(c.filters.include_table("inventory", "orders"));
    assert!(!c.filters.include_table("inventory", "products"));
    assert!(!c.filters.include_database("other"));
    assert!(c.filters.include_table("inventory", "customers"));
    assert!(!c.filters.include_column("inventory", "customers", "email"));
    assert!(!c.filters.ignores_builtin());
    assert_eq!(c.snapshot_mode, SnapshotMode::Never);
    let r = &c.records;
    assert!(!r.include_schema_changes && !r.tombstones_on_delete && !r.provide_transaction_metadata);
    assert_eq!(r.skipped_operations, SkippedOperations::NONE);
    assert_eq!(r.decimal_handling_mode, DecimalHandlingMode::String);
    assert_eq!(r.time_precision_mode, TimePrecisionMode::Connect);
    assert_eq!(
        r.bigint_unsigned_handling_mode,
        BigintUnsignedHandlingMode::Precise
    );
    assert_eq!(r.binary_handling_mode, BinaryHandlingMode::Hex);
    assert!(!r.enable_time_adjuster && !r.extended_headers_enabled);
    assert_eq!(
        r.unavailable_value_placeholder, "  __gone ",
        "used as written, not trimmed"
    );
    assert!(!r.key_schemas_enable && !r.value_schemas_enable);
    assert_eq!(
        c.errors.event_processing_failure_handling_mode,
        EventProcessingFailureHandlingMode::Warn
    );
    assert_eq!(
        c.errors.inconsistent_schema_handling_mode,
        InconsistentSchemaHandlingMode::Skip
    );
    assert_eq!(c.errors.max_retries, Some(7));
    let p = &c.pipeline;
    assert_eq!(
        (p.heartbeat_interval_ms, p.max_queue_size, p.max_batch_size),
        (0, 100, 10)
    );
    assert_eq!(
        (p.max_queue_size_bytes, p.poll_interval_ms),
        (1_048_576, 50)
    );
    assert_eq!(c.topics.prefix, "dbserver1");
    assert_eq!(c.topics.delimiter, "_");
    assert_eq!(c.topics.transaction, "tx");
    assert_eq!(c.topics.heartbeat_prefix, "hb");
    assert_eq!(c.topics.heartbeat_name.as_deref(), Some("beats"));
    let s = &c.sink;
    assert_eq!(s.bootstrap_servers.as_deref(), Some("k1:9092,k2:9092"));
    assert_eq!(s.producer.get("linger.ms").map(String::as_str), Some("5"));
    assert_eq!(
        s.producer.get("compression.type").map(String::as_str),
        Some("zstd")
    );
    assert_eq!(s.exactly_once_support, ExactlyOnceSupport::Off);
    assert!(!s.topic_creation_enable);
    assert_eq!(
        (
            s.topic_creation_default_partitions,
            s.topic_creation_default_replication_factor
        ),
        (3, 2)
    );
    assert_eq!(
        s.topic_creation_default_configs
            .get("cleanup.policy")
            .map(String::as_str),
        Some("compact")
    );
    assert_eq!(c.offsets.topic, "my-offsets");
    assert_eq!(
        (
            c.offsets.partitions,
            c.offsets.replication_factor,
            c.offsets.flush_interval_ms
        ),
        (5, 3, 250)
    );
    assert_eq!(
        c.metrics_address,
        Some(HostPort {
            host: "0.0.0.0".into(),
            port: 9102
        })
    );
    assert!(
        !format!("{c:?}").contains("s3cret"),
        "the password must not reach Debug output"
    );
}

#[test]
fn kafka_connect_rest_json_is_accepted() {
    let json = r#"{
  "name": "inventory-connector",
  "config": {
    "connector.class": "io.debezium.connector.mysql.MySqlConnector",
    "tasks.max": "1",
    "database.hostname": "mysql",
    "database.port": "3306",
    "database.user": "debezium",
    "database.password": "dbz",
    "database.server.id": "184054",
    "topic.prefix": "dbserver1",
    "database.include.list": "inventory",
    "schema.history.internal.kafka.bootstrap.servers": "kafka:9092",
    "schema.history.internal.kafka.topic": "schema-changes.inventory",
    "snapshot.mode": "no_data",
    "bootstrap.servers": "kafka:9092"
  }
}"#;
    let c = parse(json).unwrap();
    assert_eq!(c.name, "inventory-connector");
    assert_eq!(
        c.database.password.as_ref().map(Secret::expose),
        Some("dbz")
    );
    let ignored: Vec<&str> = c.ignored.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        ignored,
        [
            "schema.history.internal.kafka.bootstrap.servers",
            "schema.history.internal.kafka.topic"
        ]
    );
    assert!(c.ignored[0].reason.contains("information_schema"));
}

#[test]
fn load_reads_a_file_and_names_it_in_errors() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(MINIMAL.as_bytes()).unwrap();
    assert_eq!(load(f.path()).unwrap().name, "inventory-connector");

    let mut bad = tempfile::NamedTempFile::new().unwrap();
    bad.write_all(b"name: [unclosed\n").unwrap();
    let err = load(bad.path()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{}: invalid YAML at line", bad.path().display())),
        "{err}"
    );

    let err = load(std::path::Path::new("/nonexistent/cdc.yaml")).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(err
        .to_string()
        .starts_with("cannot read config file /nonexistent/cdc.yaml: "));
}

#[test]
fn secrets_from_files_and_untouched_placeholders() {
    let mut secrets = tempfile::NamedTempFile::new().unwrap();
    writeln!(secrets, "# db\nmysql.password = from-file").unwrap();
    let path = secrets.path().display();
    let c = with(&format!(
        "database.password: ${{file:{path}:mysql.password}}\n\
         transforms.outbox.route.topic.replacement: outbox.${{routedByValue}}\n\
         transforms.outbox.type: io.debezium.transforms.outbox.EventRouter"
    ))
    .unwrap();
    assert_eq!(c.database.password.unwrap().expose(), "from-file");
    assert_eq!(
        c.transforms["transforms.outbox.route.topic.replacement"],
        "outbox.${routedByValue}"
    );
    assert_eq!(
        c.transforms["transforms.outbox.type"],
        "io.debezium.transforms.outbox.EventRouter"
    );

    let msg = message("database.password: ${env:MISSING_PASSWORD}");
    assert_eq!(
        msg,
        "cannot resolve `${env:MISSING_PASSWORD}` in `database.password`: environment variable MISSING_PASSWORD is not set; set it or write the value in place"
    );
}

#[test]
fn transforms_are_validated_by_the_transform_stage() {
    // Listed transforms and predicates are typed (unknown types refused);
    // unlisted ones are kept without effect, as Kafka Connect does.
    let msg = message("transforms: outbox\ntransforms.outbox.type: io.debezium.transforms.outbox.EventRouter\npredicates: p\npredicates.p.type: x");
    assert!(msg.contains("`predicates.p.type: x` is not supported"), "{msg}");
    let c = with("transforms: outbox\ntransforms.outbox.type: io.debezium.transforms.outbox.EventRouter").unwrap();
    assert_eq!(c.transforms.len(), 2);
    let c = with("transforms: ''\npredicates.p.type: x").unwrap();
    assert_eq!(c.transforms.len(), 2);
}

#[test]
fn required_properties() {
    let err = parse("snapshot.mode: no_data\nsink.type: stdout\n").unwrap_err();
    let missing: Vec<String> = err
        .problems()
        .iter()
        .map(|e| match e {
            ConfigError::Missing { property, .. } => property.clone(),
            other => panic!("unexpected {other}"),
        })
        .collect();
    assert_eq!(
        missing,
        [
            "name",
            "database.hostname",
            "database.user",
            "database.server.id",
            "topic.prefix"
        ]
    );
    assert!(err
        .to_string()
        .starts_with("5 problems in the configuration:\n  - required property `name` is missing"));
}

#[test]
fn bootstrap_servers_only_for_the_kafka_sink() {
    let text = MINIMAL.replace("bootstrap.servers: kafka:9092\n", "");
    let err = parse(&text).unwrap_err();
    assert!(
        matches!(&err, ConfigError::Missing { property, .. } if property == "bootstrap.servers"),
        "{err}"
    );
    assert!(err.to_string().contains("sink.type: stdout"));
    let c = parse(&format!("{text}sink.type: stdout\n")).unwrap();
    assert_eq!(c.sink.sink_type, SinkType::Stdout);
    assert_eq!(c.sink.bootstrap_servers, None);
    let msg = parse(&format!(
        "{text}sink.type: stdout\nexactly.once.support: requested\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains("`exactly.once.support: requested` is not supported"),
        "{msg}"
    );
}

#[test]
fn bad_numbers_name_property_expectation_and_value() {
    assert_eq!(
        message("database.port: abc"),
        "`database.port` must be an integer from 1 to 65535; got `abc`"
    );
    assert_eq!(
        message("database.port: 70000"),
        "`database.port` must be an integer from 1 to 65535; got `70000`"
    );
    let text = MINIMAL.replace("database.server.id: 184054", "database.server.id: 0");
    assert_eq!(
        parse(&text).unwrap_err().to_string(),
        "`database.server.id` must be an integer from 1 to 4294967295; got `0`"
    );
    let text = MINIMAL.replace(
        "database.server.id: 184054",
        "database.server.id: 4294967296",
    );
    assert!(parse(&text).is_err());
    assert_eq!(
        message("heartbeat.interval.ms: -5"),
        "`heartbeat.interval.ms` must be a non-negative integer; got `-5`"
    );
    assert_eq!(
        message("connect.timeout.ms: 1.5"),
        "`connect.timeout.ms` must be a positive integer; got `1.5`"
    );
    assert_eq!(
        message("errors.max.retries: -2"),
        "`errors.max.retries` must be an integer from -1 to 4294967295; got `-2`"
    );
    assert_eq!(
        message("offset.storage.replication.factor: 0"),
        "`offset.storage.replication.factor` must be -1 (broker default) or a positive integer; got `0`"
    );
    assert!(message("topic.creation.default.partitions: 0").contains("got `0`"));
    assert_eq!(
        with("database.port: ' 3307 '").unwrap().database.port,
        3307,
        "numbers are trimmed"
    );
}

#[test]
fn queue_bounds() {
    let msg = message("max.queue.size: 100\nmax.batch.size: 100");
    assert_eq!(
        msg,
        "`max.queue.size` must be larger than `max.batch.size` (100), as in Debezium; got `100`"
    );
    assert_eq!(
        with("max.queue.size.in.bytes: 0")
            .unwrap()
            .pipeline
            .max_queue_size_bytes,
        16 * 1024 * 1024
    );
}

#[test]
fn booleans() {
    assert!(
        !with("tombstones.on.delete: FALSE")
            .unwrap()
            .records
            .tombstones_on_delete
    );
    assert_eq!(
        message("tombstones.on.delete: yes"),
        "`tombstones.on.delete` must be true or false; got `yes`"
    );
}

#[test]
fn enum_values_are_checked() {
    assert_eq!(
        message("decimal.handling.mode: exact"),
        "`decimal.handling.mode` must be one of precise, double, string; got `exact`"
    );
    assert_eq!(
        with("decimal.handling.mode: DOUBLE")
            .unwrap()
            .records
            .decimal_handling_mode,
        DecimalHandlingMode::Double
    );
    assert_eq!(
        with("binary.handling.mode: base64-url-safe")
            .unwrap()
            .records
            .binary_handling_mode,
        BinaryHandlingMode::Base64UrlSafe
    );
    assert!(message("binary.handling.mode: base32")
        .contains("one of bytes, base64, base64-url-safe, hex"));
    assert!(message("bigint.unsigned.handling.mode: string").contains("one of long, precise"));
    assert!(message("event.processing.failure.handling.mode: retry")
        .contains("one of fail, warn, skip, ignore"));
    assert_eq!(
        with("event.processing.failure.handling.mode: ignore")
            .unwrap()
            .errors
            .event_processing_failure_handling_mode,
        EventProcessingFailureHandlingMode::Ignore
    );
    assert!(
        message("inconsistent.schema.handling.mode: ignore").contains("one of fail, warn, skip")
    );
    assert!(message("sink.type: file").contains("one of kafka, stdout"));
    assert!(message("exactly.once.support: maybe").contains("one of off, requested, required"));
    // Parsed, then refused until transactional delivery exists.
    assert!(message("exactly.once.support: requested").contains("does not implement yet")
        || message("exactly.once.support: requested").contains("transactional delivery is coming"));
    assert!(message("skipped.operations: c,x")
        .contains("a comma-separated list of c, u, d, t, or `none`"));
    let ops = with("skipped.operations: c,d")
        .unwrap()
        .records
        .skipped_operations;
    assert!(ops.create && ops.delete && !ops.update && !ops.truncate);
}

#[test]
fn snapshot_modes() {
    let text = MINIMAL.replace("snapshot.mode: no_data\n", "");
    assert_eq!(parse(&text).unwrap().snapshot_mode, SnapshotMode::Initial, "Debezium's default");
    for (mode, want) in [
        ("initial", SnapshotMode::Initial),
        ("initial_only", SnapshotMode::InitialOnly),
        ("when_needed", SnapshotMode::WhenNeeded),
        ("always", SnapshotMode::Always),
        ("NEVER", SnapshotMode::Never),
    ] {
        assert_eq!(parse(&format!("{text}snapshot.mode: {mode}\n")).unwrap().snapshot_mode, want);
    }
    for mode in ["recovery", "configuration_based", "custom"] {
        let msg = parse(&format!("{text}snapshot.mode: {mode}\n")).unwrap_err().to_string();
        assert!(msg.starts_with(&format!("`snapshot.mode: {mode}` is not implemented yet; use initial")), "{msg}");
    }
    let msg = parse(&format!("{text}snapshot.mode: schema_only\n")).unwrap_err().to_string();
    assert!(msg.contains("must be one of initial, initial_only, when_needed, no_data, never"), "{msg}");
}

#[test]
fn snapshot_settings() {
    let c = parse(MINIMAL).unwrap();
    assert_eq!(c.snapshot.locking_mode, SnapshotLockingMode::Minimal);
    assert_eq!(c.snapshot.lock_timeout_ms, 10_000);
    assert_eq!((c.snapshot.fetch_size, c.snapshot.max_threads), (None, None));
    let c = parse(&format!(
        "{MINIMAL}snapshot.locking.mode: NONE\nsnapshot.lock.timeout.ms: 500\nsnapshot.fetch.size: 100\nsnapshot.max.threads: 3\n"
    ))
    .unwrap();
    assert_eq!(c.snapshot.locking_mode, SnapshotLockingMode::None);
    assert_eq!(c.snapshot.lock_timeout_ms, 500);
    assert_eq!((c.snapshot.fetch_size, c.snapshot.max_threads), (Some(100), Some(3)));
    let msg = parse(&format!("{MINIMAL}snapshot.locking.mode: custom\n")).unwrap_err().to_string();
    assert!(msg.contains("`snapshot.locking.mode: custom` is not implemented yet"), "{msg}");
    assert!(parse(&format!("{MINIMAL}snapshot.max.threads: 0\n")).is_err());
}

#[test]
fn signal_and_incremental_snapshot_settings() {
    let c = parse(MINIMAL).unwrap();
    assert_eq!(c.snapshot.signal_table, None);
    assert_eq!(c.snapshot.incremental_chunk_size, 1024);
    assert_eq!(c.snapshot.watermarking, WatermarkingStrategy::InsertInsert);
    let c = parse(&format!(
        "{MINIMAL}signal.data.collection: shop.debezium_signal\nsignal.enabled.channels: source\nincremental.snapshot.chunk.size: 50\nincremental.snapshot.watermarking.strategy: insert_delete\n"
    ))
    .unwrap();
    assert_eq!(c.snapshot.signal_table, Some(("shop".into(), "debezium_signal".into())));
    assert_eq!(c.snapshot.incremental_chunk_size, 50);
    assert_eq!(c.snapshot.watermarking, WatermarkingStrategy::InsertDelete);
    let msg = parse(&format!("{MINIMAL}signal.data.collection: nodot\n")).unwrap_err().to_string();
    assert!(msg.contains("signal.data.collection") && msg.contains("<database>.<table>"), "{msg}");
    let msg = parse(&format!("{MINIMAL}signal.enabled.channels: source,kafka\n")).unwrap_err().to_string();
    assert!(msg.contains("`signal.enabled.channels: source,kafka` is not implemented yet"), "{msg}");
    assert!(parse(&format!("{MINIMAL}incremental.snapshot.chunk.size: 0\n")).is_err());
}

#[test]
fn values_not_implemented_yet() {
    assert!(message("database.ssl.mode: required")
        .starts_with("`database.ssl.mode: required` is not implemented yet; TLS"));
    assert!(message("database.ssl.mode: verify-full")
        .starts_with("`database.ssl.mode: verify_identity` is not implemented yet"));
    assert_eq!(
        with("database.ssl.mode: disabled")
            .unwrap()
            .database
            .ssl_mode,
        SslMode::Disabled
    );
    assert!(message("time.precision.mode: nanoseconds")
        .starts_with("`time.precision.mode: nanoseconds` is not implemented yet"));
    assert!(message("time.precision.mode: adaptive").contains("rejects `adaptive` too"));
    assert!(message("schema.name.adjustment.mode: avro")
        .starts_with("`schema.name.adjustment.mode: avro` is not implemented yet"));
    assert!(message("field.name.adjustment.mode: avro_unicode")
        .starts_with("`field.name.adjustment.mode: avro_unicode`"));
    assert!(
        message("include.query: true").starts_with("`include.query: true` is not implemented yet")
    );
    assert!(with("include.query: false").is_ok());
    assert!(
        message("topic.naming.strategy: io.debezium.schema.SchemaTopicNamingStrategy")
            .contains("not implemented yet")
    );
    assert!(with("topic.naming.strategy: io.debezium.schema.DefaultTopicNamingStrategy").is_ok());
}

#[test]
fn connect_properties_that_must_be_what_we_do() {
    assert!(with("tasks.max: 1").is_ok());
    assert!(message("tasks.max: 2")
        .starts_with("`tasks.max: 2` is not supported: a binlog is read by one task"));
    assert!(
        message("key.converter: io.confluent.connect.avro.AvroConverter").contains("JsonConverter")
    );
    assert!(
        message("value.converter: org.apache.kafka.connect.storage.StringConverter")
            .contains("not supported")
    );
    assert_eq!(
        with("connector.class: MariaDbConnector").unwrap().flavor,
        Flavor::Mariadb
    );
    assert_eq!(
        with("connector.class: io.debezium.connector.mysql.MySqlConnector")
            .unwrap()
            .flavor,
        Flavor::Mysql
    );
    assert!(
        message("connector.class: io.debezium.connector.postgresql.PostgresConnector")
            .contains("replaces")
    );
}

#[test]
fn unknown_properties_are_errors_with_a_suggestion() {
    assert_eq!(
        message("database.hostnme: x"),
        "unknown property `database.hostnme`; did you mean `database.hostname`?"
    );
    assert_eq!(
        message("tombstone.on.delete: true"),
        "unknown property `tombstone.on.delete`; did you mean `tombstones.on.delete`?"
    );
    let msg = message("frobnicate: 1");
    assert!(
        msg.starts_with("unknown property `frobnicate`; remove it"),
        "{msg}"
    );
    let msg = message("database.allowPublicKeyRetrieval: true");
    assert!(
        msg.contains(
            "is a Debezium property binlog-cdc does not implement yet; Debezium hands `database.*`"
        ),
        "{msg}"
    );
}

#[test]
fn debezium_properties_not_implemented_yet() {
    assert_eq!(
        message("snapshot.delay.ms: 5"),
        "`snapshot.delay.ms` is a Debezium property binlog-cdc does not implement yet; remove it or set Debezium's default `0`"
    );
    assert!(
        with("snapshot.delay.ms: 0\nbinlog.buffer.size: 0\nread.only: false").is_ok(),
        "defaults are harmless"
    );
    assert!(
        message("binlog.buffer.size: 1000").contains("`binlog.buffer.size` is a Debezium property")
    );
    assert!(message("gtid.source.includes: abc").ends_with("does not implement yet; remove it"));
    assert!(with("message.key.columns: ''").is_ok());
    assert!(
        message("column.mask.with.12.chars: inventory.customers.email")
            .contains("column.mask.with.12.chars")
    );
    assert!(with("snapshot.mode.configuration.based.snapshot.data: false").is_ok());
    assert!(message("offsets.storage.topic: x").contains("set that instead"));
    assert!(message("topic.creation.groups: big")
        .contains("`topic.creation.groups` is a Debezium property"));
    assert!(message("topic.creation.big.include: x")
        .contains("topic creation groups are not implemented"));
}

#[test]
fn renamed_and_ignored_properties() {
    assert_eq!(
        message("database.server.name: x"),
        "`database.server.name` was renamed `topic.prefix` in Debezium 2.0; use `topic.prefix`"
    );
    assert!(message("database.history.kafka.topic: t")
        .contains("use `schema.history.internal.kafka.topic`"));
    let c = with("schema.history.internal: io.debezium.storage.kafka.history.KafkaSchemaHistory\nconfig.action.reload: none").unwrap();
    let names: Vec<&str> = c.ignored.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["config.action.reload", "schema.history.internal"]);
}

#[test]
fn producer_properties_pass_through() {
    let c = with("producer:\n  acks: all\n  sasl.password: ${env:DB_PASSWORD}").unwrap();
    assert_eq!(c.sink.producer.get("acks").map(String::as_str), Some("all"));
    assert_eq!(
        c.sink.producer.get("sasl.password").map(String::as_str),
        Some("s3cret")
    );
    let msg = message("producer.linger.ms: 5\nproducer.override.linger.ms: 10");
    assert!(
        msg.contains("`producer.override.linger.ms` is set twice"),
        "{msg}"
    );
}

#[test]
fn filter_properties() {
    assert_eq!(
        message("table.include.list: a\\.b\ntable.exclude.list: a\\.c"),
        "`table.include.list` and `table.exclude.list` cannot both be set (Debezium rejects that too); keep one"
    );
    assert!(
        message("database.include.list: a\ndatabase.exclude.list: b")
            .contains("`database.include.list` and `database.exclude.list`")
    );
    let msg = message("table.include.list: 'inventory\\.(customers'");
    assert!(
        msg.starts_with(
            "`table.include.list`: invalid regular expression `inventory\\.(customers`: "
        ),
        "{msg}"
    );
    let c = with("table.include.list: ''\ntable.exclude.list: ' , '").unwrap();
    assert!(
        c.filters.include_table("any", "table"),
        "empty lists mean unset, as in Debezium"
    );
    let c = with("column.include.list: '.*\\.id'").unwrap();
    assert!(c.filters.include_column("a", "b", "ID"));
    assert!(!c.filters.include_column("a", "b", "name"));
}

#[test]
fn topic_prefix_characters() {
    let text = MINIMAL.replace("topic.prefix: dbserver1", "topic.prefix: 'db server/1'");
    assert_eq!(
        parse(&text).unwrap_err().to_string(),
        "`topic.prefix` must be made of letters, digits, `.`, `_` and `-` only; got `db server/1`"
    );
    let text = MINIMAL.replace("topic.prefix: dbserver1", "topic.prefix: My-db_1.x");
    assert_eq!(parse(&text).unwrap().topics.prefix, "My-db_1.x");
}

#[test]
fn metrics_address() {
    assert_eq!(
        with("metrics.address: '[::1]:9090'")
            .unwrap()
            .metrics_address
            .unwrap()
            .to_string(),
        "[::1]:9090"
    );
    assert_eq!(
        with("metrics.address: localhost:80")
            .unwrap()
            .metrics_address
            .unwrap()
            .host,
        "localhost"
    );
    for bad in ["9090", ":9090", "host:", "host:99999", "::1:9090"] {
        let msg = message(&format!("metrics.address: '{bad}'"));
        assert!(
            msg.starts_with("`metrics.address` must be host:port"),
            "{bad}: {msg}"
        );
    }
}

#[test]
fn all_problems_are_reported_together() {
    let err = error("database.port: x\nfrobnicate: 1\ntasks.max: 3\ndecimal.handling.mode: nope");
    assert_eq!(err.problems().len(), 4, "{err}");
    let text = err.to_string();
    for needle in [
        "database.port",
        "frobnicate",
        "tasks.max",
        "decimal.handling.mode",
    ] {
        assert!(text.contains(needle), "{needle} missing from {text}");
    }
}

#[test]
fn duplicates_across_styles_are_reported() {
    let msg = message("database:\n  port: 3306\ndatabase.port: 3307");
    assert_eq!(
        msg,
        "`database.port` is set twice (once in a nested map, once as a dotted name); keep one"
    );
}
