//! Every Outbox Event Router property (spec §13), one connector with three
//! routers, each applied to its own outbox table by a `TopicNameMatches`
//! predicate: the expected record of each case is spelled out here (the
//! compatibility test proves the same bytes come out of Debezium).

use std::time::Duration;

use serde_json::{json, Value};

use crate::outbox::support::{read_from, Rec};
use crate::support::cdc::{Cdc, CdcConfig};
use crate::support::kafka::{shared_kafka, unique_prefix};
use crate::support::mariadb::shared_mariadb;
use crate::support::wait::wait_for;

const ROUTER: &str = "io.debezium.transforms.outbox.EventRouter";
const MATCHES: &str = "org.apache.kafka.connect.transforms.predicates.TopicNameMatches";

/// Adds transform `name` (an EventRouter with `props`) applied to `table` only.
fn router(
    mut cfg: CdcConfig,
    name: &str,
    table_topic: &str,
    props: &[(&str, String)],
) -> CdcConfig {
    let list = |v: Option<&str>| match v {
        Some(l) if !l.is_empty() => format!("{l},{name}"),
        _ => name.to_string(),
    };
    let (t, p) = (list(cfg.get("transforms")), list(cfg.get("predicates")));
    cfg = cfg
        .set("transforms", &t)
        .set("predicates", &p)
        .set(&format!("transforms.{name}.type"), ROUTER)
        .set(&format!("transforms.{name}.predicate"), name)
        .set(&format!("predicates.{name}.type"), MATCHES)
        .set(
            &format!("predicates.{name}.pattern"),
            &regex::escape(table_topic),
        );
    for (k, v) in props {
        cfg = cfg.set(&format!("transforms.{name}.{k}"), v);
    }
    cfg
}

/// The records in event id order (they may sit in different partitions).
fn by_id(mut r: Vec<Rec>) -> Vec<Rec> {
    r.sort_by_key(|r| r.header("id").map(str::to_string));
    r
}

fn json(r: &Rec) -> (Value, Option<Value>) {
    (r.key_json().expect("key"), r.value_json())
}

#[tokio::test]
async fn every_router_property() {
    let (db, bootstrap) = (shared_mariadb(), shared_kafka().bootstrap());
    let database = db.fresh_database("router").await;
    db.exec(&format!(
        "USE `{database}`;
         CREATE TABLE outbox_plain (id VARCHAR(36) NOT NULL PRIMARY KEY, aggregatetype VARCHAR(64) NOT NULL,
           aggregateid VARCHAR(64) NOT NULL, type VARCHAR(64) NOT NULL, payload TEXT);
         CREATE TABLE outbox_custom (event_id INT NOT NULL PRIMARY KEY, kind VARCHAR(64) NOT NULL, agg_key BIGINT NOT NULL,
           type VARCHAR(64) NOT NULL, body VARCHAR(255), created DATETIME(3) NOT NULL, seq INT NOT NULL,
           shard INT NOT NULL, ver INT NOT NULL);
         CREATE TABLE outbox_json (id VARCHAR(36) NOT NULL PRIMARY KEY, aggregatetype VARCHAR(64) NOT NULL,
           aggregateid VARCHAR(64) NOT NULL, type VARCHAR(64) NOT NULL, payload LONGTEXT);"
    ))
    .await;
    let prefix = unique_prefix("router");
    let token = format!("{:08x}", rand::random::<u32>());
    let n = 100_000 + rand::random::<u32>() % 900_000;
    let topic_of = |t: &str| format!("{prefix}.{database}.{t}");
    let mut cfg = CdcConfig::mariadb(db, bootstrap, &prefix, &database)
        .set("topic.creation.default.partitions", "3");
    // Defaults: id, aggregatetype, aggregateid, payload; outbox.event.<aggregatetype>.
    cfg = router(cfg, "plain", &topic_of("outbox_plain"), &[]);
    // Every column renamed, regex routing, envelope/header/partition
    // placements, record timestamp, schema version, tombstone on empty payload.
    cfg = router(
        cfg,
        "custom",
        &topic_of("outbox_custom"),
        &[
            ("table.field.event.id", "event_id".into()),
            ("table.field.event.key", "agg_key".into()),
            ("table.field.event.payload", "body".into()),
            ("table.field.event.timestamp", "created".into()),
            ("table.field.event.schema.version", "ver".into()),
            ("route.by.field", "kind".into()),
            ("route.topic.regex", "(?<kind>[a-z]+)-(?<num>[0-9]+)".into()),
            (
                "route.topic.replacement",
                format!("custom{token}.${{kind}}.v$2"),
            ),
            (
                "table.fields.additional.placement",
                "type:header:eventType,seq:envelope,shard:partition,type:envelope:etype".into(),
            ),
            ("route.tombstone.on.empty.payload", "true".into()),
        ],
    );
    // JSON payloads expanded, nulls kept as optional bytes.
    cfg = router(
        cfg,
        "json",
        &topic_of("outbox_json"),
        &[
            ("table.expand.json.payload", "true".into()),
            ("table.json.payload.null.behavior", "optional_bytes".into()),
        ],
    );
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;

    let (order, plain_kind) = (format!("order{token}"), format!("plain_{token}"));
    // Record timestamps near now: Kafka's retention deletes old ones.
    let base = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 60;
    db.exec(&format!(
        "SET time_zone = '+00:00'; USE `{database}`;
         INSERT INTO outbox_plain VALUES ('e1', '{order}', 'o-1', 'OrderPlaced', '{{\"total\":5}}');
         UPDATE outbox_plain SET type = 'Changed' WHERE id = 'e1';
         DELETE FROM outbox_plain WHERE id = 'e1';
         INSERT INTO outbox_plain VALUES ('e2', '{order}', 'o-2', 'OrderPlaced', NULL);
         INSERT INTO outbox_custom VALUES (1, 'invoice-{n}', 42, 'InvoiceIssued', 'hello', FROM_UNIXTIME({base}.123), 7, 2, 3);
         INSERT INTO outbox_custom VALUES (2, '{plain_kind}', 43, 'Empty', '  ', FROM_UNIXTIME({base} + 1), 8, 0, 3);
         INSERT INTO outbox_custom VALUES (3, 'invoice-{n}', 44, 'Corrected', 'again', FROM_UNIXTIME({base}.500 + 2), 9, 1, 4);
         INSERT INTO outbox_json VALUES ('j1', 'cart{token}', 'c-1', 'CartChanged',
           '{{\"id\":7,\"name\":\"x\",\"tags\":[\"a\"],\"note\":null,\"big\":3000000000,\"price\":9.5,\"nested\":{{\"ok\":true}}}}');
         INSERT INTO outbox_json VALUES ('j2', 'cart{token}', 'c-2', 'CartChanged', 'not json');"
    ))
    .await;

    // Defaults.
    let got = by_id(
        read_from(
            bootstrap,
            &format!("outbox.event.{order}"),
            &prefix,
            2,
            Duration::from_secs(60),
        )
        .await,
    );
    assert_eq!(
        got.len(),
        2,
        "update and delete of outbox rows produce nothing: {got:?}\n{}",
        cdc.log_tail(40)
    );
    assert_eq!(
        json(&got[0]),
        (
            json!({"schema": {"type": "string", "optional": false}, "payload": "o-1"}),
            Some(
                json!({"schema": {"type": "string", "optional": true}, "payload": "{\"total\":5}"})
            )
        )
    );
    assert_eq!(got[0].header("id"), Some("e1"));
    assert_eq!(got[1].header("id"), Some("e2"));
    assert_eq!(
        got[1].value_json(),
        Some(json!({"schema": {"type": "string", "optional": true}, "payload": null}))
    );
    let log = cdc.log();
    assert!(
        log.contains("unexpected change of the outbox table ignored"),
        "table.op.invalid.behavior=warn logs the update"
    );

    // Regex routing with the replacement's groups; placements; timestamp; version.
    let routed = format!("custom{token}.invoice.v{n}");
    let got = by_id(read_from(bootstrap, &routed, &prefix, 2, Duration::from_secs(60)).await);
    assert_eq!(got.len(), 2, "{got:?}");
    let schema = |version: i64| {
        json!({"type": "struct", "fields": [
            {"type": "string", "optional": true, "field": "payload"},
            {"type": "int32", "optional": false, "field": "seq"},
            {"type": "string", "optional": false, "field": "etype"}],
          "optional": false, "name": format!("{prefix}.{database}.outbox_custom.invoice-{n}.Value"), "version": version})
    };
    assert_eq!(
        got[0].key_json(),
        Some(json!({"schema": {"type": "int64", "optional": false}, "payload": 42}))
    );
    assert_eq!(
        got[0].value_json(),
        Some(
            json!({"schema": schema(3), "payload": {"payload": "hello", "seq": 7, "etype": "InvoiceIssued"}})
        )
    );
    assert_eq!(got[0].header("id"), Some("1"));
    assert_eq!(got[0].header("eventType"), Some("InvoiceIssued"));
    assert_eq!(got[0].partition, 2, "the shard column picks the partition");
    let base_ms = base as i64 * 1000;
    assert_eq!(
        got[0].timestamp,
        Some(base_ms + 123),
        "the created column is the record timestamp"
    );
    assert_eq!(got[1].value_json().unwrap()["schema"], schema(4));
    assert_eq!(
        (got[1].partition, got[1].timestamp),
        (1, Some(base_ms + 2_500))
    );
    // A routed value the regex does not match names the topic as it is; a
    // blank payload is a tombstone.
    let got = read_from(bootstrap, &plain_kind, &prefix, 1, Duration::from_secs(60)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].key.as_deref(), got[0].value.as_deref()),
        (
            Some(r#"{"schema":{"type":"int64","optional":false},"payload":43}"#),
            None
        )
    );
    assert_eq!(
        (
            got[0].header("id"),
            got[0].header("eventType"),
            got[0].partition
        ),
        (Some("2"), Some("Empty"), 0)
    );

    // JSON expansion.
    let got = by_id(
        read_from(
            bootstrap,
            &format!("outbox.event.cart{token}"),
            &prefix,
            2,
            Duration::from_secs(60),
        )
        .await,
    );
    assert_eq!(got.len(), 2, "{got:?}");
    let v = got[0].value_json().unwrap();
    assert_eq!(
        v["schema"],
        json!({"type": "struct", "fields": [
            {"type": "int32", "optional": true, "field": "id"},
            {"type": "string", "optional": true, "field": "name"},
            {"type": "array", "items": {"type": "string", "optional": true}, "optional": true, "field": "tags"},
            {"type": "bytes", "optional": true, "field": "note"},
            {"type": "int64", "optional": true, "field": "big"},
            {"type": "double", "optional": true, "field": "price"},
            {"type": "struct", "fields": [{"type": "boolean", "optional": true, "field": "ok"}], "optional": true,
             "name": "payload.nested", "field": "nested"}],
          "optional": true, "name": "payload"})
    );
    assert_eq!(
        got[0]
            .value
            .as_deref()
            .unwrap()
            .split(r#","payload":"#)
            .nth(1),
        Some(
            r#"{"id":7,"name":"x","tags":["a"],"note":null,"big":3000000000,"price":9.5,"nested":{"ok":true}}}"#
        )
    );
    assert_eq!(
        got[1].value_json().unwrap()["payload"],
        "not json",
        "a payload that is not JSON stays a string"
    );
    cdc.terminate(Duration::from_secs(20)).await;
}

#[tokio::test]
async fn fatal_invalid_operation_stops_the_connector() {
    let (db, bootstrap) = (shared_mariadb(), shared_kafka().bootstrap());
    let database = db.fresh_database("router_fatal").await;
    db.exec(&format!(
        "USE `{database}`; CREATE TABLE outbox (id VARCHAR(36) NOT NULL PRIMARY KEY, aggregatetype VARCHAR(64) NOT NULL,
           aggregateid VARCHAR(64) NOT NULL, type VARCHAR(64) NOT NULL, payload TEXT)"
    ))
    .await;
    let prefix = unique_prefix("router_fatal");
    let cfg = router(
        CdcConfig::mariadb(db, bootstrap, &prefix, &database),
        "outbox",
        &format!("{prefix}.{database}.outbox"),
        &[("table.op.invalid.behavior", "fatal".into())],
    );
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    db.exec(&format!(
        "USE `{database}`; INSERT INTO outbox VALUES ('e1', 'x', '1', 't', 'p'); UPDATE outbox SET payload = 'q'"
    ))
    .await;
    let exited = wait_for(Duration::from_secs(30), || async { cdc.exited() }).await;
    assert!(
        exited.is_some_and(|s| !s.success()),
        "the connector stops on the update: {exited:?}\n{}",
        cdc.log_tail(20)
    );
    let log = cdc.log();
    assert!(
        log.contains("table.op.invalid.behavior=fatal")
            && log.contains(&format!("{database}.outbox")),
        "{}",
        cdc.log_tail(20)
    );
}

/// Rows read by the initial snapshot (`op: r`) go through the same
/// transforms as streamed changes, as in Kafka Connect: an outbox row that
/// exists when the connector starts is routed, an unwrapped table's rows
/// arrive unwrapped.
#[tokio::test]
async fn snapshot_rows_go_through_the_transforms() {
    let (db, bootstrap) = (shared_mariadb(), shared_kafka().bootstrap());
    let database = db.fresh_database("router_snapshot").await;
    let token = format!("{:08x}", rand::random::<u32>());
    db.exec(&format!(
        "USE `{database}`;
         CREATE TABLE outbox (id VARCHAR(36) NOT NULL PRIMARY KEY, aggregatetype VARCHAR(64) NOT NULL,
           aggregateid VARCHAR(64) NOT NULL, type VARCHAR(64) NOT NULL, payload TEXT);
         CREATE TABLE customers (id INT NOT NULL PRIMARY KEY, name VARCHAR(64));
         INSERT INTO outbox VALUES ('e0', 'snap{token}', 'k', 'Old', 'before the connector');
         INSERT INTO customers VALUES (1, 'a');"
    ))
    .await;
    let prefix = unique_prefix("router_snapshot");
    let mut cfg = CdcConfig::mariadb(db, bootstrap, &prefix, &database)
        .set("snapshot.mode", "initial")
        .set("key.converter.schemas.enable", "false")
        .set("value.converter.schemas.enable", "false");
    cfg = router(cfg, "outbox", &format!("{prefix}.{database}.outbox"), &[]);
    cfg = cfg
        .set("transforms", "outbox,unwrap")
        .set(
            "transforms.unwrap.type",
            "io.debezium.transforms.ExtractNewRecordState",
        )
        .set("transforms.unwrap.add.fields", "op");
    let cdc = Cdc::start(&cfg);
    let got = read_from(
        bootstrap,
        &format!("outbox.event.snap{token}"),
        &prefix,
        1,
        Duration::from_secs(90),
    )
    .await;
    assert_eq!(got.len(), 1, "{}", cdc.log_tail(40));
    assert_eq!(
        (got[0].key.as_deref(), got[0].value.as_deref()),
        (Some(r#""k""#), Some(r#""before the connector""#))
    );
    assert_eq!(got[0].header("id"), Some("e0"));
    let rows = crate::outbox::support::read_until(
        bootstrap,
        &format!("{prefix}.{database}.customers"),
        Duration::from_secs(60),
        |r| !r.is_empty(),
    )
    .await;
    assert_eq!(
        rows.first().and_then(|r| r.value.as_deref()),
        Some(r#"{"id":1,"name":"a","__op":"r"}"#)
    );
    cdc.terminate(Duration::from_secs(20)).await;
}
