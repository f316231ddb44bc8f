//! The offsets topic is Kafka Connect's `offset.storage.topic`, byte for
//! byte: key `["<name>",{"server":"<topic.prefix>"}]`, the partition the Java
//! producer picks (murmur2, computed here independently), Debezium's value
//! keys, a compacted topic, and once the connector is idle the stored
//! position is the server's own (`@@gtid_binlog_pos`, `SHOW MASTER STATUS`).

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::common::*;
use crate::support::cdc::{Cdc, CdcConfig};
use crate::support::kafka::{partition_count, shared_kafka, topic_config, unique_prefix};
use crate::support::mariadb::{MariaDb, MariaDbOptions};

const PARTITIONS: usize = 7;

#[test]
fn murmur2_matches_kafka_java_client() {
    // Kafka's own test vectors (clients UtilsTest.testMurmur2).
    let cases: [(&[u8], i32); 6] = [
        (b"21", -973932308),
        (b"foobar", -790332482),
        (b"a-little-bit-long-string", -985981536),
        (b"a-little-bit-longer-string", -1486304829),
        (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        (b"abc", 479470107),
    ];
    for (data, want) in cases {
        assert_eq!(murmur2(data), want, "murmur2({:?})", String::from_utf8_lossy(data));
    }
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs() as i64
}

/// The stored value must be exactly the server's idle position.
fn matches(v: &Value, file: &str, pos: u64, gtids: &str) -> bool {
    v["file"] == file && v["pos"] == pos && v["gtids"] == gtids
}

/// Checks one stored value against the contract; `ts_range` bounds `ts_sec`.
fn check_value(raw: &[u8], server_id: u64, ts_range: (i64, i64)) -> Value {
    let text = std::str::from_utf8(raw).expect("value is UTF-8");
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("value is not JSON ({e}): {text}"));
    assert_eq!(serde_json::to_string(&v).expect("json").len(), text.len(), "value is compact JSON: {text}");
    let keys: BTreeSet<&str> = v.as_object().expect("value is an object").keys().map(String::as_str).collect();
    let want: BTreeSet<&str> = ["file", "pos", "gtids", "ts_sec", "server_id"].into();
    assert_eq!(keys, want, "keys of an idle position (no event/row when zero): {text}");
    assert!(v["file"].as_str().is_some_and(|f| f.starts_with("mysql-bin.")), "file: {text}");
    assert!(v["pos"].as_u64().is_some_and(|p| p >= 4), "pos: {text}");
    let gtids = v["gtids"].as_str().expect("gtids is a string");
    let well_formed = |g: &str| {
        let parts: Vec<&str> = g.split('-').collect();
        parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    assert!(gtids.split(',').all(well_formed), "gtids in MariaDB domain-server-seq form: {text}");
    assert_eq!(v["server_id"].as_u64(), Some(server_id), "server_id: {text}");
    let ts = v["ts_sec"].as_i64().unwrap_or_else(|| panic!("ts_sec: {text}"));
    assert!(ts >= ts_range.0 && ts <= ts_range.1, "ts_sec {ts} not within {ts_range:?} (time of the last transaction): {text}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_topic_is_kafka_connect_format_and_tracks_the_server() {
    let db = MariaDb::start(MariaDbOptions::default());
    let bootstrap = shared_kafka().bootstrap();
    let database = db.fresh_database("offsets_fmt").await;
    db.exec(&format!("USE `{database}`; {DDL}")).await;
    // A name whose key does not land in partition 0, so "always 0" is caught.
    let cfg: CdcConfig = loop {
        let prefix = unique_prefix("offsets_fmt");
        let cfg = config(&db, bootstrap, &prefix, &database, 1)
            .set("offset.storage.partitions", &PARTITIONS.to_string());
        if java_partition(&offsets_key(&cfg), PARTITIONS) != 0 {
            break cfg;
        }
    };
    let key = offsets_key(&cfg);
    let name = cfg.get("name").unwrap().to_string();
    let prefix = cfg.get("topic.prefix").unwrap().to_string();
    assert_eq!(key, format!(r#"["{name}",{{"server":"{prefix}"}}]"#).into_bytes());
    let partition = java_partition(&key, PARTITIONS);
    let server_id: u64 = db.query("SELECT @@server_id").await[0];

    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    let mut w = Writer::new(&db, &database, seed()).await;
    w.insert_rows(20, 6).await;
    let t_last = now_secs();
    for _ in 0..10 {
        w.random_transaction().await;
    }
    let (file, pos) = master_status(&db).await;
    let gtids = server_gtid(&db).await;

    // Idle: the stored position becomes the server's.
    let idle = wait_stored(bootstrap, &cfg, Duration::from_secs(30), |v| matches(v, &file, pos, &gtids).then(|| v.clone())).await;
    assert!(idle.is_some(), "stored position never became {file}:{pos} {gtids}; last: {:?}\n{}", last_stored(bootstrap, &cfg).await, cdc.log_tail(30));

    // A binlog rotation without transactions after it: still the server's position.
    db.exec("FLUSH BINARY LOGS").await;
    // MariaDB writes a second BINLOG_CHECKPOINT into the new file once the
    // old file's transactions are checkpointed, asynchronously: wait for it
    // before taking the server's position as the one to reach.
    let settled = crate::support::wait::wait_until("binlog checkpoint in the new file", Duration::from_secs(30), || async {
        let (f, _) = master_status(&db).await;
        let events: Vec<mysql_async::Row> = db.query(&format!("SHOW BINLOG EVENTS IN '{f}'")).await;
        events.iter().any(|e| {
            e.get::<String, _>(2).as_deref() == Some("Binlog_checkpoint")
                && e.get::<String, _>(5).is_some_and(|info| info.contains(&f))
        })
    })
    .await;
    assert!(settled, "the new binlog file never got its own checkpoint");
    let (file2, pos2) = master_status(&db).await;
    assert_ne!(file2, file);
    let rotated = wait_stored(bootstrap, &cfg, Duration::from_secs(30), |v| matches(v, &file2, pos2, &gtids).then(|| v.clone())).await;
    assert!(rotated.is_some(), "after FLUSH BINARY LOGS the stored position did not become {file2}:{pos2} {gtids}; last: {:?}", last_stored(bootstrap, &cfg).await);

    let status = cdc.terminate(Duration::from_secs(10)).await;
    assert!(status.is_some_and(|s| s.success()), "exit on SIGTERM: {status:?}\n{}", cdc.log_tail(40));

    // Everything in the topic, byte-compared.
    let topic = offsets_topic(&cfg);
    let all = read_all(bootstrap, &topic).await;
    assert!(!all.is_empty(), "nothing stored in {topic}");
    for r in &all {
        assert_eq!(r.key.as_deref(), Some(&key[..]), "offsets key bytes: {:?}", r.key_str());
        assert_eq!(r.partition, partition, "record at offset {} is in partition {}, Kafka Connect uses {partition} (murmur2)", r.offset, r.partition);
        assert!(r.headers.is_empty(), "offsets records carry no headers: {:?}", r.headers);
        let raw = r.value.as_deref().expect("no tombstones written by the connector");
        let v: Value = serde_json::from_slice(raw).expect("JSON");
        for k in ["event", "row"] {
            assert!(v.get(k).is_none_or(|x| x.as_u64().is_some_and(|n| n > 0)), "{k} written only when non-zero: {v}");
        }
    }
    let last = all.last().unwrap();
    let v = check_value(last.value.as_deref().unwrap(), server_id, (t_last - 1, now_secs() + 1));
    assert!(matches(&v, &file2, pos2, &gtids), "final stored value {v} is not the server's position {file2}:{pos2} {gtids}");

    assert_eq!(partition_count(bootstrap, &topic).await, Some(PARTITIONS));
    let tc = topic_config(bootstrap, &topic).await;
    assert_eq!(tc.get("cleanup.policy").map(String::as_str), Some("compact"), "{topic} config: {tc:?}");
    w.close().await;
}
