//! Transaction metadata (spec §8): BEGIN/END records on `<prefix>.transaction`
//! with the event count per table, the `transaction` block of each data
//! event, and counters that continue after a restart inside a transaction.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use serde_json::{json, Value};

use crate::outbox::support::{read_until, Rec};
use crate::support::cdc::{Cdc, CdcConfig};
use crate::support::kafka::{create_topic, shared_kafka, unique_prefix};
use crate::support::mariadb::{shared_mariadb, MariaDb};

fn config(db: &MariaDb, bootstrap: &str, prefix: &str, database: &str) -> CdcConfig {
    CdcConfig::mariadb(db, bootstrap, prefix, database)
        .set("provide.transaction.metadata", "true")
        .set("key.converter.schemas.enable", "false")
        .set("value.converter.schemas.enable", "false")
        .set("offset.storage.partitions", "1")
}

/// The BEGIN/END records of transaction `id`.
fn of_tx<'a>(records: &'a [Rec], id: &str) -> Vec<&'a Rec> {
    records
        .iter()
        .filter(|r| r.value_json().is_some_and(|v| v["id"] == id))
        .collect()
}

fn tx_block(r: &Rec) -> Value {
    r.value_json().expect("a value")["transaction"].clone()
}

#[tokio::test]
async fn begin_end_and_per_table_counts() {
    let (db, bootstrap) = (shared_mariadb(), shared_kafka().bootstrap());
    let database = db.fresh_database("txmeta").await;
    db.exec(&format!(
        "USE `{database}`; CREATE TABLE a (id INT PRIMARY KEY, v INT); CREATE TABLE b (id INT PRIMARY KEY, v INT)"
    ))
    .await;
    let prefix = unique_prefix("txmeta");
    let cdc = Cdc::start(&config(db, bootstrap, &prefix, &database));
    cdc.wait_streaming(Duration::from_secs(60)).await;

    let mut conn = db.conn_db(&database).await;
    for sql in [
        "BEGIN",
        "INSERT INTO a VALUES (1, 1), (2, 1)",
        "INSERT INTO b VALUES (1, 1)",
        "UPDATE a SET v = 2 WHERE id = 1",
        "DELETE FROM b WHERE id = 1",
        "COMMIT",
    ] {
        conn.query_drop(sql).await.expect(sql);
    }
    let gtid: String = conn
        .query_first("SELECT @@last_gtid")
        .await
        .expect("gtid")
        .expect("a gtid");
    let _ = conn.disconnect().await;

    let tx_topic = format!("{prefix}.transaction");
    let g = gtid.clone();
    let txs = read_until(bootstrap, &tx_topic, Duration::from_secs(60), move |rs| {
        of_tx(rs, &g).len() >= 2
    })
    .await;
    let ours = of_tx(&txs, &gtid);
    assert_eq!(
        ours.len(),
        2,
        "BEGIN and END of {gtid}: {txs:?}\n{}",
        cdc.log_tail(40)
    );
    assert_eq!(
        ours[0].key.as_deref(),
        Some(format!(r#"{{"id":"{gtid}"}}"#).as_str())
    );
    let begin = ours[0].value_json().unwrap();
    assert_eq!(
        (
            begin["status"].clone(),
            begin["event_count"].clone(),
            begin["data_collections"].clone()
        ),
        (json!("BEGIN"), Value::Null, Value::Null)
    );
    let end = ours[1].value_json().unwrap();
    assert_eq!(
        (end["status"].clone(), end["event_count"].clone()),
        (json!("END"), json!(5))
    );
    let mut per_table: Vec<(String, i64)> = end["data_collections"]
        .as_array()
        .expect("data_collections")
        .iter()
        .map(|c| {
            (
                c["data_collection"].as_str().unwrap().to_string(),
                c["event_count"].as_i64().unwrap(),
            )
        })
        .collect();
    per_table.sort();
    assert_eq!(
        per_table,
        [(format!("{database}.a"), 3), (format!("{database}.b"), 2)]
    );
    assert!(
        ours.iter().all(|r| r.headers.is_empty()),
        "transaction records carry no headers"
    );
    assert!(
        begin["ts_ms"].as_i64().unwrap() > 0
            && end["ts_ms"].as_i64().unwrap() >= begin["ts_ms"].as_i64().unwrap()
    );

    // The data events: their position in the transaction and in their table.
    let a = read_until(
        bootstrap,
        &format!("{prefix}.{database}.a"),
        Duration::from_secs(30),
        |r| r.len() >= 3,
    )
    .await;
    let b = read_until(
        bootstrap,
        &format!("{prefix}.{database}.b"),
        Duration::from_secs(30),
        |r| r.len() >= 3,
    )
    .await;
    let block = |total: u64, in_table: u64| json!({"id": gtid, "total_order": total, "data_collection_order": in_table});
    assert_eq!(
        a.iter().map(tx_block).collect::<Vec<_>>(),
        [block(1, 1), block(2, 2), block(4, 3)]
    );
    assert_eq!(tx_block(&b[0]), block(3, 1));
    assert_eq!(tx_block(&b[1]), block(5, 2));
    assert_eq!(
        b[2].value, None,
        "the delete's tombstone has no value, hence no block"
    );
    cdc.terminate(Duration::from_secs(20)).await;
}

/// A stored position inside transaction T (9 rows, 3 per rows event), with
/// T's counters as Debezium stores them: the rows after it continue T's
/// numbering, END counts all 9, and BEGIN is not sent again.
#[tokio::test]
async fn counters_continue_after_a_restart_inside_the_transaction() {
    let (db, bootstrap) = (shared_mariadb(), shared_kafka().bootstrap());
    let database = db.fresh_database("txmeta_restart").await;
    db.exec(&format!(
        "USE `{database}`; CREATE TABLE t (id INT PRIMARY KEY)"
    ))
    .await;
    let mut conn = db.conn_db(&database).await;
    let ins = |a: i32| format!("INSERT INTO t VALUES ({a}), ({}), ({})", a + 1, a + 2);
    for sql in ["BEGIN".to_string(), ins(1), ins(4), ins(7), "COMMIT".into()] {
        conn.query_drop(&sql).await.expect("T");
    }
    let gtid: String = conn
        .query_first("SELECT @@last_gtid")
        .await
        .expect("gtid")
        .expect("a gtid");
    let (file, pos) = gtid_event(&mut conn, &gtid).await;
    let _ = conn.disconnect().await;
    let parts: Vec<u64> = gtid.split('-').map(|p| p.parse().unwrap()).collect();
    let before = format!("{}-{}-{}", parts[0], parts[1], parts[2] - 1);

    // Rows 1-4 delivered: GTID, TABLE_MAP, rows event 1 (3 rows), TABLE_MAP
    // handled (event=4), one row of the next rows event (row=1).
    let prefix = unique_prefix("txmeta_restart");
    let cfg = config(db, bootstrap, &prefix, &database);
    let offsets = cfg.get("offset.storage.topic").unwrap().to_string();
    create_topic(bootstrap, &offsets, 1, &[("cleanup.policy", "compact")]).await;
    let key = format!(
        r#"["{}",{{"server":"{prefix}"}}]"#,
        cfg.get("name").unwrap()
    );
    let value = format!(
        r#"{{"ts_sec":1,"file":"{file}","pos":{pos},"gtids":"{before}","event":4,"row":1,"server_id":1,"transaction_id":"{gtid}","transaction_data_collection_order_{database}.t":4}}"#
    );
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("producer");
    producer
        .send(
            FutureRecord::to(&offsets)
                .partition(0)
                .key(key.as_bytes())
                .payload(value.as_bytes()),
            Duration::from_secs(30),
        )
        .await
        .map_err(|(e, _)| e)
        .expect("store the position");

    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    let rows = read_until(
        bootstrap,
        &format!("{prefix}.{database}.t"),
        Duration::from_secs(60),
        |r| r.len() >= 5,
    )
    .await;
    let got: Vec<(i64, Value)> = rows
        .iter()
        .map(|r| {
            (
                r.value_json().unwrap()["after"]["id"].as_i64().unwrap(),
                tx_block(r),
            )
        })
        .collect();
    let want: Vec<(i64, Value)> = (5..=9)
        .map(|i| {
            (
                i,
                json!({"id": gtid, "total_order": i, "data_collection_order": i}),
            )
        })
        .collect();
    assert_eq!(got, want, "{}", cdc.log_tail(40));
    let g = gtid.clone();
    let txs = read_until(
        bootstrap,
        &format!("{prefix}.transaction"),
        Duration::from_secs(30),
        move |rs| !of_tx(rs, &g).is_empty(),
    )
    .await;
    let ours = of_tx(&txs, &gtid);
    assert_eq!(ours.len(), 1, "only the END of T: {ours:?}");
    let end = ours[0].value_json().unwrap();
    assert_eq!(end["status"], "END");
    assert_eq!(end["event_count"], 9);
    assert_eq!(
        end["data_collections"],
        json!([{"data_collection": format!("{database}.t"), "event_count": 9}])
    );
    cdc.terminate(Duration::from_secs(20)).await;
}

/// File and position of the GTID event that opens transaction `gtid`.
async fn gtid_event(conn: &mut mysql_async::Conn, gtid: &str) -> (String, u64) {
    let logs: Vec<mysql_async::Row> = conn.query("SHOW BINARY LOGS").await.expect("binary logs");
    for row in logs.iter().rev() {
        let file: String = row.get(0).expect("Log_name");
        let events: Vec<mysql_async::Row> = conn
            .query(format!("SHOW BINLOG EVENTS IN '{file}'"))
            .await
            .expect("events");
        for e in events {
            let (pos, ty, info): (u64, String, String) = (
                e.get("Pos").unwrap(),
                e.get("Event_type").unwrap(),
                e.get::<Option<String>, _>("Info")
                    .unwrap()
                    .unwrap_or_default(),
            );
            if ty == "Gtid" && info.starts_with(&format!("BEGIN GTID {gtid}")) {
                return (file, pos);
            }
        }
    }
    panic!("no GTID event for {gtid}");
}
