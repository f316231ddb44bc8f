//! Schema changes mid-stream: rows after `ALTER TABLE` decode with the new
//! columns, and rows written before it decode with the old ones even when
//! the connector reads them after the change (it lagged or was stopped).

use std::time::Duration;

use serde_json::Value;

use crate::support::cdc::{Cdc, CdcConfig};
use crate::support::kafka::{consume, shared_kafka, unique_prefix, Record};
use crate::support::mariadb::shared_mariadb;

fn after(r: &Record) -> Value {
    let v: Value = serde_json::from_slice(r.value.as_deref().expect("value")).expect("json");
    v["payload"]["after"].clone()
}

fn field_names(r: &Record) -> Vec<String> {
    let v: Value = serde_json::from_slice(r.value.as_deref().expect("value")).expect("json");
    v["schema"]["fields"][1]["fields"]
        .as_array()
        .expect("after fields")
        .iter()
        .map(|f| f["field"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn alter_table_mid_stream_adds_the_column() {
    let (db, bootstrap) = (shared_mariadb(), shared_kafka().bootstrap());
    let database = db.fresh_database("ddl_live").await;
    db.exec(&format!("USE `{database}`; CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20))")).await;
    let prefix = unique_prefix("ddl_live");
    let cdc = Cdc::start(&CdcConfig::mariadb(db, bootstrap, &prefix, &database));
    cdc.wait_streaming(Duration::from_secs(60)).await;
    db.exec(&format!(
        "USE `{database}`; INSERT INTO t VALUES (1, 'a'); \
         ALTER TABLE t ADD COLUMN email VARCHAR(50) NOT NULL DEFAULT 'none'; \
         INSERT INTO t VALUES (2, 'b', 'b@x'); UPDATE t SET name = 'a2' WHERE id = 1"
    ))
    .await;
    let got = consume(bootstrap, &format!("{prefix}.{database}.t"), 3, Duration::from_secs(60)).await;
    assert_eq!(got.len(), 3, "{}", cdc.log_tail(40));
    assert_eq!(field_names(&got[0]), ["id", "name"]);
    assert_eq!(after(&got[0]), serde_json::json!({"id": 1, "name": "a"}));
    assert_eq!(field_names(&got[1]), ["id", "name", "email"]);
    assert_eq!(after(&got[1]), serde_json::json!({"id": 2, "name": "b", "email": "b@x"}));
    assert_eq!(after(&got[2]), serde_json::json!({"id": 1, "name": "a2", "email": "none"}));
    let v: Value = serde_json::from_slice(got[1].value.as_deref().unwrap_or_default()).expect("json");
    assert_eq!(v["schema"]["fields"][1]["fields"][2]["default"], "none", "DDL default in the schema");
    cdc.terminate(Duration::from_secs(20)).await;
}

#[tokio::test]
async fn rows_from_before_a_change_decode_with_the_old_columns() {
    let (db, bootstrap) = (shared_mariadb(), shared_kafka().bootstrap());
    let database = db.fresh_database("ddl_lag").await;
    db.exec(&format!("USE `{database}`; CREATE TABLE t (id INT PRIMARY KEY, old_col INT, name VARCHAR(20))")).await;
    let prefix = unique_prefix("ddl_lag");
    let cfg = CdcConfig::mariadb(db, bootstrap, &prefix, &database);
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    db.exec(&format!("USE `{database}`; INSERT INTO t VALUES (1, 10, 'a')")).await;
    let topic = format!("{prefix}.{database}.t");
    assert_eq!(consume(bootstrap, &topic, 1, Duration::from_secs(60)).await.len(), 1);
    let status = cdc.terminate(Duration::from_secs(20)).await;
    assert!(status.is_some_and(|s| s.success()), "{}", cdc.log_tail(40));

    // While stopped: rows with the old shape, then the shape changes twice.
    db.exec(&format!(
        "USE `{database}`; INSERT INTO t VALUES (2, 20, 'b'); \
         ALTER TABLE t DROP COLUMN old_col; INSERT INTO t VALUES (3, 'c'); \
         ALTER TABLE t ADD COLUMN score BIGINT UNSIGNED; INSERT INTO t VALUES (4, 'd', 18446744073709551615)"
    ))
    .await;
    let cdc = Cdc::start(&cfg);
    let got = consume(bootstrap, &topic, 4, Duration::from_secs(60)).await;
    assert_eq!(got.len(), 4, "{}", cdc.log_tail(60));
    assert_eq!(after(&got[1]), serde_json::json!({"id": 2, "old_col": 20, "name": "b"}));
    assert_eq!(after(&got[2]), serde_json::json!({"id": 3, "name": "c"}));
    // BIGINT UNSIGNED in the default `long` mode wraps, as in Debezium.
    assert_eq!(after(&got[3]), serde_json::json!({"id": 4, "name": "d", "score": -1}));
    cdc.terminate(Duration::from_secs(20)).await;
}
