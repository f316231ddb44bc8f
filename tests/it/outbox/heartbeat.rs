//! Heartbeats (spec §9) on a server whose captured tables stay idle: the
//! records on `__debezium-heartbeat.<prefix>`, `heartbeat.action.query` run
//! on the source, and the stored position moving forward with the binlog
//! (here only the action query writes to it), so a restart after a quiet
//! period resumes from a recent position.

use std::time::Duration;

use crate::outbox::support::read_until;
use crate::support::cdc::{Cdc, CdcConfig};
use crate::support::kafka::{consume_all, shared_kafka, unique_prefix, ConsumeOptions};
use crate::support::mariadb::{MariaDb, MariaDbOptions};
use crate::support::wait::wait_for;

/// `0-1-42` → 42.
fn seq(gtids: &str) -> u64 {
    gtids
        .split(',')
        .find_map(|g| g.trim().strip_prefix("0-")?.split('-').nth(1)?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_advance_the_stored_position_of_an_idle_table() {
    // A server of its own: the action query is the only writer.
    let db = MariaDb::start(MariaDbOptions::default());
    let bootstrap = shared_kafka().bootstrap();
    db.exec(
        "CREATE DATABASE quiet; CREATE TABLE quiet.t (id INT PRIMARY KEY);
             CREATE DATABASE hb; CREATE TABLE hb.beat (id INT PRIMARY KEY, n INT NOT NULL)",
    )
    .await;
    let prefix = unique_prefix("heartbeat");
    let cfg = CdcConfig::mariadb(&db, bootstrap, &prefix, "quiet")
        .set("heartbeat.interval.ms", "300")
        .set(
            "heartbeat.action.query",
            "INSERT INTO hb.beat VALUES (1, 1) ON DUPLICATE KEY UPDATE n = n + 1",
        )
        .set("key.converter.schemas.enable", "false")
        .set("value.converter.schemas.enable", "false");
    let offsets = cfg.get("offset.storage.topic").unwrap().to_string();
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    let stored = || async {
        consume_all(
            bootstrap,
            &offsets,
            Duration::from_secs(10),
            &ConsumeOptions::default(),
        )
        .await
        .into_iter()
        .filter_map(|r| r.value_json())
        .next_back()
    };
    let first = wait_for(Duration::from_secs(30), stored)
        .await
        .expect("a position is stored at start");

    let topic = format!("__debezium-heartbeat.{prefix}");
    let beats = read_until(bootstrap, &topic, Duration::from_secs(60), |r| r.len() >= 5).await;
    assert!(
        beats.len() >= 5,
        "heartbeat records: {beats:?}\n{}",
        cdc.log_tail(40)
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for b in &beats {
        assert_eq!(
            b.key.as_deref(),
            Some(format!(r#"{{"serverName":"{prefix}"}}"#).as_str())
        );
        let ts = b.value_json().unwrap()["ts_ms"].as_i64().expect("ts_ms");
        assert!(
            (now - 120_000..=now + 1_000).contains(&ts),
            "ts_ms is the connector clock: {ts}"
        );
        assert_eq!(b.partition, 0);
        assert!(
            b.headers.is_empty(),
            "no headers on heartbeats: {:?}",
            b.headers
        );
    }

    // The action query ran, once per heartbeat or so...
    let n: Vec<i64> = db.query("SELECT n FROM hb.beat").await;
    assert!(
        n.first().is_some_and(|n| *n >= 3),
        "heartbeat.action.query ran: {n:?}"
    );
    // ...and its transactions moved the stored position, though no captured
    // table changed.
    let first_seq = seq(first["gtids"].as_str().unwrap_or(""));
    let advanced = wait_for(Duration::from_secs(30), || async {
        let v = stored().await?;
        (seq(v["gtids"].as_str()?) >= first_seq + 3).then_some(v)
    })
    .await;
    assert!(
        advanced.is_some(),
        "stored position advanced from {first}; log:\n{}",
        cdc.log_tail(30)
    );
    let data: Vec<String> = crate::support::kafka::list_topics(bootstrap).await;
    assert!(
        !data.contains(&format!("{prefix}.quiet.t")),
        "the captured table stayed idle"
    );
    assert!(
        !data.iter().any(|t| t.starts_with(&format!("{prefix}.hb"))),
        "the heartbeat table is not captured"
    );
    let status = cdc.terminate(Duration::from_secs(20)).await;
    assert!(status.is_some_and(|s| s.success()), "{}", cdc.log_tail(20));
}
