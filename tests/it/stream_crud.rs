//! Insert, update and delete on a captured table reach Kafka as exactly the
//! records Debezium's MariaDB connector writes (golden file recorded from
//! Debezium itself), with schemas on and off.

use std::time::Duration;

use regex::Regex;

use crate::support::cdc::{Cdc, CdcConfig};
use crate::support::kafka::{consume, shared_kafka, unique_prefix, Record};
use crate::support::mariadb::shared_mariadb;

const GOLDEN: &str = include_str!("golden/debezium_mariadb_crud.txt");

/// Clock- and run-dependent values: envelope/source timestamps, version,
/// binlog coordinates and GTIDs.
fn mask(s: &str) -> String {
    let re = Regex::new(
        r#""(ts_ms|ts_us|ts_ns|pos)":\d+|"version":"[^"]*"|"gtid":"[^"]*"|"file":"[^"]*""#,
    )
    .expect("regex");
    re.replace_all(s, |c: &regex::Captures| {
        let key = c.get(0).map_or("", |m| m.as_str()).split(':').next().unwrap_or("").to_string();
        format!("{key}:<masked>")
    })
    .into_owned()
}

fn golden(line: &str) -> String {
    GOLDEN
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{line}: ")))
        .unwrap_or_else(|| panic!("golden line {line}"))
        .to_string()
}

fn text(b: &Option<Vec<u8>>) -> String {
    b.as_deref().map_or("<null>".into(), |b| String::from_utf8_lossy(b).into_owned())
}

async fn run_crud(schemas: bool) -> (Vec<Record>, String, String) {
    let (db, bootstrap) = (shared_mariadb(), shared_kafka().bootstrap());
    let database = db.fresh_database("crud").await;
    db.exec(&format!("USE `{database}`; CREATE TABLE customers (id INT NOT NULL PRIMARY KEY, name VARCHAR(255))"))
        .await;
    let prefix = unique_prefix("crud");
    let mut cfg = CdcConfig::mariadb(db, bootstrap, &prefix, &database);
    if !schemas {
        cfg = cfg.set("key.converter.schemas.enable", "false").set("value.converter.schemas.enable", "false");
    }
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    for sql in [
        "INSERT INTO customers VALUES (1001, 'Anne')",
        "UPDATE customers SET name = 'Anne Marie' WHERE id = 1001",
        "DELETE FROM customers WHERE id = 1001",
    ] {
        db.exec(&format!("USE `{database}`; {sql}")).await;
    }
    let topic = format!("{prefix}.{database}.customers");
    let got = consume(bootstrap, &topic, 4, Duration::from_secs(60)).await;
    assert_eq!(got.len(), 4, "records on {topic}: {got:?}\n{}", cdc.log_tail(60));
    let status = cdc.terminate(Duration::from_secs(20)).await;
    assert!(status.is_some_and(|s| s.success()), "clean exit on SIGTERM: {status:?}\n{}", cdc.log_tail(40));
    (got, prefix, database)
}

#[tokio::test]
async fn crud_matches_debezium_golden_records() {
    let (got, prefix, database) = run_crud(true).await;
    let rename = |s: String| s.replace(&prefix, "dbz").replace(&database, "shop");
    for (name, r) in ["insert", "update", "delete", "tombstone"].iter().zip(&got) {
        assert_eq!(mask(&rename(text(&r.key))), mask(&golden(&format!("{name}.key"))), "{name} key");
        assert_eq!(mask(&rename(text(&r.value))), mask(&golden(&format!("{name}.value"))), "{name} value");
        let headers: Vec<String> = r
            .headers
            .iter()
            .filter(|(k, _)| k != "__debezium.context.runId")
            .map(|(k, v)| format!("{k}={}", rename(text(v))))
            .collect();
        assert_eq!(
            headers,
            ["__debezium.context.connectorLogicalName=dbz", "__debezium.context.taskId=0", "__debezium.context.connectorName=mariadb"],
            "{name} headers"
        );
    }
    // All four records share the key, hence the partition.
    assert!(got.iter().all(|r| r.partition == got[0].partition));
}

#[tokio::test]
async fn crud_without_schemas_is_payload_only() {
    let (got, prefix, database) = run_crud(false).await;
    let rename = |s: String| s.replace(&prefix, "dbz").replace(&database, "shop");
    assert_eq!(text(&got[0].key), r#"{"id":1001}"#);
    let insert = mask(&rename(text(&got[0].value)));
    assert!(insert.starts_with(r#"{"before":null,"after":{"id":1001,"name":"Anne"},"source":{"#), "{insert}");
    let golden_payload = golden("insert.value");
    let payload = golden_payload.split(r#","payload":"#).nth(1).expect("payload");
    assert_eq!(insert, mask(&payload[..payload.len() - 1]));
    assert_eq!(text(&got[3].value), "<null>");
}
