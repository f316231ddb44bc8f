//! Restart inside a transaction (spec §6 "Restart" step 3): from a stored
//! position with `event`/`row`, the transaction is read again from its GTID
//! event, its first `event` events (the GTID event counts) are skipped, then
//! the first `row` rows of the next rows event, then everything is emitted.
//! The positions are written here by hand, in Kafka Connect's format, so the
//! expected output is known exactly: no duplicates, nothing missing.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::common::*;
use crate::support::cdc::{Cdc, CdcConfig};
use crate::support::kafka::{create_topic, shared_kafka, unique_prefix};
use crate::support::mariadb::{MariaDb, MariaDbOptions};

/// Writes transaction T = three INSERT statements of three rows each
/// (ids `first..first+9`), then U = one row (`first+9`). Returns T's GTID,
/// binlog file and the position of T's GTID event, checking that T's events
/// on the replication stream are GTID, (TABLE_MAP, WRITE_ROWS) x 3, XID.
async fn write_t_and_u(db: &MariaDb, conn: &mut Conn, first: i64) -> (String, String, u64) {
    let ins = |a: i64| format!("INSERT INTO t VALUES ({a}, 1, 'x'), ({}, 1, 'x'), ({}, 1, 'x')", a + 1, a + 2);
    for sql in ["BEGIN".to_string(), ins(first), ins(first + 3), ins(first + 6), "COMMIT".into()] {
        conn.query_drop(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let gtid: String = conn.query_first("SELECT @@last_gtid").await.expect("last_gtid").expect("a GTID");
    conn.query_drop(format!("INSERT INTO t VALUES ({}, 1, 'u')", first + 9)).await.expect("U");
    let (file, _) = master_status(db).await;
    let events: Vec<(u64, String, String)> = db
        .query::<mysql_async::Row>(&format!("SHOW BINLOG EVENTS IN '{file}'"))
        .await
        .into_iter()
        .map(|r| (r.get::<u64, _>("Pos").unwrap(), r.get::<String, _>("Event_type").unwrap(), r.get::<String, _>("Info").unwrap_or_default()))
        .collect();
    let start = events
        .iter()
        .position(|(_, ty, info)| ty == "Gtid" && info.starts_with(&format!("BEGIN GTID {gtid}")))
        .unwrap_or_else(|| panic!("no GTID event of {gtid} in {file}: {events:?}"));
    // ANNOTATE_ROWS events are in the file but not sent to a replica that
    // did not ask for them (neither binlog-cdc nor Debezium without include.query).
    let types: Vec<&str> = events[start..]
        .iter()
        .map(|(_, ty, _)| ty.as_str())
        .filter(|ty| *ty != "Annotate_rows")
        .take(8)
        .collect();
    assert_eq!(
        types,
        ["Gtid", "Table_map", "Write_rows_v1", "Table_map", "Write_rows_v1", "Table_map", "Write_rows_v1", "Xid"],
        "layout of T"
    );
    (gtid, file, events[start].0)
}

fn offset_value(file: &str, pos: u64, gtids: Option<&str>, event: u64, row: u64) -> String {
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let mut v = format!(r#"{{"ts_sec":{ts},"file":"{file}","pos":{pos}"#);
    if let Some(g) = gtids {
        v += &format!(r#","gtids":"{g}""#);
    }
    if event != 0 {
        v += &format!(r#","event":{event}"#);
    }
    if row != 0 {
        v += &format!(r#","row":{row}"#);
    }
    v + r#","server_id":1}"#
}

/// A connector of its own whose offsets topic holds `value`, as Kafka
/// Connect would have written it.
async fn connector_at(db: &MariaDb, bootstrap: &str, database: &str, value: &str) -> CdcConfig {
    let cfg = config(db, bootstrap, &unique_prefix("mid_tx"), database, 1);
    let topic = offsets_topic(&cfg);
    create_topic(bootstrap, &topic, 3, &[("cleanup.policy", "compact")]).await;
    let key = offsets_key(&cfg);
    produce_to(bootstrap, &topic, java_partition(&key, 3), &key, Some(value.as_bytes())).await;
    cfg
}

/// Runs the connector until everything up to `target` is stored; returns the
/// ids of the change records (all must be inserts), in topic order.
async fn run(bootstrap: &str, database: &str, cfg: &CdcConfig, target: &str) -> Vec<i64> {
    let cdc = Cdc::start(cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    wait_stored_covers(bootstrap, cfg, target, Duration::from_secs(60)).await;
    let status = cdc.terminate(Duration::from_secs(10)).await;
    assert!(status.is_some_and(|s| s.success()), "exit on SIGTERM: {status:?}\n{}", cdc.log_tail(40));
    let (observed, tombstones) = parse(&read_all(bootstrap, &data_topic(cfg, database)).await);
    assert!(tombstones.is_empty());
    assert!(observed.iter().all(|o| o.change.op == 'c'), "{observed:?}");
    observed.iter().map(|o| o.change.id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_inside_a_transaction_skips_exactly_the_stored_events_and_rows() {
    let db = MariaDb::start(MariaDbOptions::default());
    let bootstrap = shared_kafka().bootstrap();
    let database = db.fresh_database("mid_tx").await;
    db.exec(&format!("USE `{database}`; {DDL}; INSERT INTO t VALUES (0, 1, 'p')")).await;
    let mut conn = db.conn_db(&database).await;
    let (gtid, file, pos) = write_t_and_u(&db, &mut conn, 1).await;
    let target = server_gtid(&db).await;
    let ids = |r: std::ops::RangeInclusive<i64>| r.collect::<Vec<_>>();

    // (event, row, by GTID?) → the ids that must come out, once each.
    // Stream of T: GTID(0) TM(1) WR 1-3(2) TM(3) WR 4-6(4) TM(5) WR 7-9(6) XID(7).
    let cases: [(u64, u64, bool, Vec<i64>); 5] = [
        (4, 1, true, ids(5..=10)),
        (4, 1, false, ids(5..=10)),
        (2, 2, true, ids(3..=10)),
        (6, 0, true, ids(7..=10)),
        (7, 0, true, ids(10..=10)),
    ];
    for (event, row, by_gtid, want) in cases {
        let g = before(&gtid);
        let value = offset_value(&file, pos, by_gtid.then_some(g.as_str()), event, row);
        let cfg = connector_at(&db, bootstrap, &database, &value).await;
        let got = run(bootstrap, &database, &cfg, &target).await;
        assert_eq!(got, want, "restart from {value}");
    }

    // A stored mid-transaction position survives a run that stops before
    // reaching that transaction: here T2 is not even written yet.
    let (file2, pos2) = master_status(&db).await;
    let now = server_gtid(&db).await;
    let value = offset_value(&file2, pos2, Some(&now), 4, 1);
    let cfg = connector_at(&db, bootstrap, &database, &value).await;
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    let status = cdc.terminate(Duration::from_secs(10)).await;
    assert!(status.is_some_and(|s| s.success()), "exit on SIGTERM: {status:?}\n{}", cdc.log_tail(40));
    let stored = last_stored(bootstrap, &cfg).await.flatten().expect("stored position");
    let fields = |v: &serde_json::Value| ["file", "pos", "gtids", "event", "row"].map(|k| v[k].clone());
    let written: serde_json::Value = serde_json::from_str(&value).unwrap();
    assert_eq!(fields(&stored), fields(&written), "stored after a run that never reached the transaction: {stored}");
    let (gtid2, _, _) = write_t_and_u(&db, &mut conn, 11).await;
    assert_eq!(before(&gtid2), now, "T2 directly follows the stored GTID position");
    let target = server_gtid(&db).await;
    let got = run(bootstrap, &database, &cfg, &target).await;
    assert_eq!(got, ids(15..=20), "restart from {value} after an interrupted run");
    let _ = conn.disconnect().await;
}
