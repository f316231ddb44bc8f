//! Schema change records (include.schema.changes=true, Debezium's default)
//! compared with what Debezium's MariaDB connector writes for the same DDL.

use std::time::Duration;

use serde_json::Value;

use crate::support::cdc::{Cdc, CdcConfig};
use crate::support::debezium::{Debezium, DebeziumConfig};
use crate::support::kafka::{consume_all, shared_kafka, unique_prefix, ConsumeOptions, Record};
use crate::support::mariadb::shared_mariadb;

/// Streaming schema change records as JSON, with clock fields blanked and
/// run-specific names replaced.
fn normalise(records: &[Record], prefix: &str) -> Vec<(Value, Value)> {
    records
        .iter()
        .filter_map(|r| {
            let key: Value = serde_json::from_slice(r.key.as_deref()?).ok()?;
            let mut value: Value = serde_json::from_slice(r.value.as_deref()?).ok()?;
            let p = &mut value["payload"];
            if p["source"]["snapshot"] != "false" {
                return None; // Debezium's no_data snapshot records
            }
            // Debezium also writes DDL of databases it does not capture
            // (other tests' on the shared server); only ours are compared.
            if !p["databaseName"].as_str().is_some_and(|d| d.starts_with("schema_changes_")) {
                return None;
            }
            p["ts_ms"] = Value::Null;
            for f in ["ts_ms", "ts_us", "ts_ns", "version"] {
                p["source"][f] = Value::Null;
            }
            p["source"]["name"] = Value::String(p["source"]["name"].as_str()?.replace(prefix, "P"));
            Some((key, value))
        })
        .collect()
}

#[tokio::test]
async fn schema_change_records_match_debezium() {
    let (db, bootstrap) = (shared_mariadb(), shared_kafka().bootstrap());
    let database = db.fresh_database("schema_changes").await;
    let (ours, theirs) = (unique_prefix("sc_ours"), unique_prefix("sc_dbz"));
    let dbz = Debezium::start(DebeziumConfig::mariadb(db, bootstrap, &theirs, &database)).await;
    let cdc = Cdc::start(&CdcConfig::mariadb(db, bootstrap, &ours, &database).set("include.schema.changes", "true"));
    dbz.wait_streaming(Duration::from_secs(120)).await;
    cdc.wait_streaming(Duration::from_secs(60)).await;
    // One statement at a time, each once ours has caught up: the table
    // structures in a record are read when the DDL is processed.
    let statements = [
        "CREATE TABLE t (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
         name VARCHAR(255) CHARACTER SET latin1 DEFAULT 'x' COMMENT 'the name', price DECIMAL(10,2) NOT NULL, \
         kind ENUM('a','bb'), tags SET('x','y','z'), ts TIMESTAMP(3) NULL DEFAULT CURRENT_TIMESTAMP(3), doc JSON) COMMENT 'tbl'",
        "ALTER TABLE t ADD COLUMN extra BIGINT UNSIGNED",
        "CREATE TABLE u (a INT NOT NULL, b VARCHAR(10) NOT NULL, PRIMARY KEY (a, b))",
        "DROP TABLE t, u",
    ];
    let mut expected = 0;
    for sql in statements {
        db.exec(&format!("USE `{database}`; {sql}")).await;
        expected += if sql.starts_with("DROP") { 2 } else { 1 };
        // Both connectors also write the no_data snapshot's schema records
        // first; only streamed ones count.
        let caught_up = crate::support::wait::wait_until("our schema change records", Duration::from_secs(30), || async {
            let got = consume_all(bootstrap, &ours, Duration::from_secs(10), &ConsumeOptions::default()).await;
            normalise(&got, &ours).len() >= expected
        })
        .await;
        assert!(caught_up, "after {sql}:\n{}", cdc.log_tail(30));
    }
    // CREATE t, ALTER t, CREATE u, DROP t, DROP u (+ Debezium's snapshot records).
    let ours_records = consume_all(bootstrap, &ours, Duration::from_secs(30), &ConsumeOptions::default()).await;
    let dbz_records = crate::support::wait::wait_for(Duration::from_secs(60), || async {
        let got = consume_all(bootstrap, &theirs, Duration::from_secs(10), &ConsumeOptions::default()).await;
        (normalise(&got, &theirs).len() >= 5).then_some(got)
    })
    .await;
    let dbz_done = dbz_records.is_some();
    let dbz_records = dbz_records.unwrap_or_default();
    assert!(dbz_done, "Debezium wrote {} records:\n{}", dbz_records.len(), dbz.log_tail(30));
    let (a, b) = (normalise(&ours_records, &ours), normalise(&dbz_records, &theirs));
    assert_eq!(a.len(), 5, "ours: {a:#?}\n{}", cdc.log_tail(30));
    assert_eq!(b.len(), 5, "debezium: {b:#?}");
    for (i, ((ka, va), (kb, vb))) in a.iter().zip(&b).enumerate() {
        assert_eq!(ka, kb, "key of schema change {i}");
        assert_eq!(va["schema"], vb["schema"], "value schema of schema change {i}");
        assert_eq!(
            serde_json::to_string_pretty(&va["payload"]).unwrap_or_default(),
            serde_json::to_string_pretty(&vb["payload"]).unwrap_or_default(),
            "payload of schema change {i}"
        );
    }
    assert!(ours_records.iter().all(|r| r.partition == 0));
    // Not compared: the no_data snapshot's own schema records. Debezium
    // writes DDL for every table on the server (its history stores all of
    // them); binlog-cdc for the captured ones only.
    cdc.terminate(Duration::from_secs(20)).await;
}
