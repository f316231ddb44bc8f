//! Include/exclude lists: only captured tables reach Kafka, excluded columns
//! leave the value (but never the key), other databases are ignored.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::cdc::{Cdc, CdcConfig};
use crate::support::kafka::{consume, list_topics, shared_kafka, unique_prefix};
use crate::support::mariadb::shared_mariadb;

#[tokio::test]
async fn table_and_column_filters() {
    let (db, bootstrap) = (shared_mariadb(), shared_kafka().bootstrap());
    let database = db.fresh_database("filters").await;
    let other = db.fresh_database("filters_other").await;
    db.exec(&format!(
        "USE `{database}`; CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(50), password_hash VARCHAR(64)); \
         CREATE TABLE audit (id INT PRIMARY KEY); USE `{other}`; CREATE TABLE users (id INT PRIMARY KEY)"
    ))
    .await;
    let prefix = unique_prefix("filters");
    let cfg = CdcConfig::mariadb(db, bootstrap, &prefix, &database)
        .set("table.exclude.list", &format!("{database}\\.audit"))
        .set("column.exclude.list", &format!("{database}\\.users\\.password_hash,{database}\\.users\\.id"));
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    db.exec(&format!(
        "USE `{other}`; INSERT INTO users VALUES (7); USE `{database}`; INSERT INTO audit VALUES (1); \
         INSERT INTO users VALUES (1, 'a@x', 'secret')"
    ))
    .await;
    let got = consume(bootstrap, &format!("{prefix}.{database}.users"), 1, Duration::from_secs(60)).await;
    assert_eq!(got.len(), 1, "{}", cdc.log_tail(40));
    let key: Value = serde_json::from_slice(got[0].key.as_deref().expect("key")).expect("json");
    assert_eq!(key["payload"], json!({"id": 1}), "key columns stay in the key");
    let value: Value = serde_json::from_slice(got[0].value.as_deref().expect("value")).expect("json");
    assert_eq!(value["payload"]["after"], json!({"email": "a@x"}));
    let fields = &value["schema"]["fields"][1]["fields"];
    assert_eq!(fields.as_array().map(Vec::len), Some(1), "{fields}");
    cdc.terminate(Duration::from_secs(20)).await;
    let topics = list_topics(bootstrap).await;
    assert!(!topics.iter().any(|t| t.contains(&other)), "other database captured: {topics:?}");
    assert!(!topics.contains(&format!("{prefix}.{database}.audit")), "excluded table captured: {topics:?}");
}
