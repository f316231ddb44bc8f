//! Smoke test of the test harness itself: the shared MariaDB has the binlog
//! settings the connector needs, and the shared Kafka broker round-trips a
//! record through a real producer and consumer.

use std::collections::HashMap;
use std::time::Duration;

use crate::support::kafka::{self, shared_kafka, unique_prefix};
use crate::support::mariadb::{shared_mariadb, MariaDb, MariaDbOptions};

#[tokio::test]
async fn mariadb_has_row_binlog() {
    let db = shared_mariadb();
    let vars: HashMap<String, String> = db
        .query::<(String, String)>("SHOW GLOBAL VARIABLES WHERE Variable_name IN \
            ('log_bin', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata', 'server_id')")
        .await
        .into_iter()
        .collect();
    assert_eq!(vars["log_bin"], "ON");
    assert_eq!(vars["binlog_format"], "ROW");
    assert_eq!(vars["binlog_row_image"], "FULL");
    assert_eq!(vars["binlog_row_metadata"], "FULL");
    assert_eq!(vars["server_id"], "1");

    let name = db.fresh_database("harness").await;
    db.exec(&format!("CREATE TABLE `{name}`.t (id INT PRIMARY KEY, v VARCHAR(10)); \
                      INSERT INTO `{name}`.t VALUES (1, 'a'), (2, 'b')")).await;
    let rows: Vec<(i32, String)> = db.query(&format!("SELECT id, v FROM `{name}`.t ORDER BY id")).await;
    assert_eq!(rows, vec![(1, "a".to_string()), (2, "b".to_string())]);
    let events: Vec<mysql_async::Row> = db.query("SHOW BINLOG EVENTS").await;
    assert!(!events.is_empty(), "binlog has events");
}

#[tokio::test]
async fn mariadb_variants_start_and_clean_up() {
    let db = MariaDb::start(MariaDbOptions {
        binlog_format: Some("STATEMENT".into()),
        binlog_row_image: Some("MINIMAL".into()),
        server_id: 7,
        ..Default::default()
    });
    let vars: Vec<(String, String)> = db.query("SELECT @@binlog_format, @@binlog_row_image").await;
    assert_eq!(vars, vec![("STATEMENT".into(), "MINIMAL".into())]);
    let dir = db.data_dir().expect("own server has a directory");
    drop(db);
    assert!(!dir.exists(), "{} removed on drop", dir.display());

    let db = MariaDb::start(MariaDbOptions { log_bin: false, ..Default::default() });
    let on: Vec<String> = db.query("SELECT IF(@@log_bin, 'ON', 'OFF')").await;
    assert_eq!(on, vec!["OFF".to_string()]);
}

#[tokio::test]
async fn kafka_round_trips_a_record() {
    let bootstrap = shared_kafka().bootstrap();
    let topic = format!("{}.smoke", unique_prefix("harness"));
    kafka::create_topic(bootstrap, &topic, 2, &[("cleanup.policy", "compact")]).await;
    assert!(kafka::list_topics(bootstrap).await.contains(&topic));
    assert_eq!(kafka::partition_count(bootstrap, &topic).await, Some(2));
    assert_eq!(kafka::topic_config(bootstrap, &topic).await["cleanup.policy"], "compact");

    let (partition, offset) =
        kafka::produce(bootstrap, &topic, Some(b"k"), Some(b"{\"v\":1}"), &[("h", Some(b"x"))]).await;
    let got = kafka::consume(bootstrap, &topic, 1, Duration::from_secs(30)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let r = &got[0];
    assert_eq!((r.partition, r.offset), (partition, offset));
    assert_eq!(r.key_str(), Some("k"));
    assert_eq!(r.value_json(), Some(serde_json::json!({"v": 1})));
    assert_eq!(r.headers, vec![("h".to_string(), Some(b"x".to_vec()))]);

    kafka::produce(bootstrap, &topic, Some(b"k"), None, &[]).await;
    let all = kafka::consume_all(bootstrap, &topic, Duration::from_secs(30), &Default::default()).await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all.iter().any(|r| r.value.is_none()), "tombstone read back");
}

#[tokio::test]
async fn kafka_does_not_auto_create_topics() {
    let bootstrap = shared_kafka().bootstrap();
    let topic = format!("{}.missing", unique_prefix("harness"));
    let got = kafka::consume(bootstrap, &topic, 1, Duration::from_millis(500)).await;
    assert!(got.is_empty());
    assert!(!kafka::list_topics(bootstrap).await.contains(&topic));
}

#[tokio::test]
async fn consume_all_of_an_empty_topic_returns_at_once() {
    let bootstrap = shared_kafka().bootstrap();
    let topic = format!("{}.empty", unique_prefix("harness"));
    kafka::create_topic(bootstrap, &topic, 3, &[]).await;
    let start = std::time::Instant::now();
    let got = kafka::consume_all(bootstrap, &topic, Duration::from_secs(20), &Default::default()).await;
    assert!(got.is_empty());
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
}
