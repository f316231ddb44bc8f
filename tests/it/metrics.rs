//! `metrics.address`: Prometheus text on `GET /metrics` with the series an
//! operator alerts on (records by table and op, lag, connection state, queue
//! depth, committed offsets, reconnects), and `GET /health` answering 200
//! while the binlog is streaming.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::cdc::{Cdc, CdcConfig};
use crate::support::kafka::{shared_kafka, unique_prefix};
use crate::support::mariadb::shared_mariadb;
use crate::support::process::free_port;
use crate::support::wait::wait_for;

/// `GET path` → (status code, body); `None` when nothing answers.
async fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes()).await.ok()?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await.ok()?.ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

/// The value of the sample `name{labels}` (labels in any order), if present.
fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metrics.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, rest) = match series.split_once('{') {
            Some((m, r)) => (m, r.trim_end_matches('}')),
            None => (series, ""),
        };
        if metric != name {
            return None;
        }
        let have: Vec<&str> = rest.split(',').filter(|s| !s.is_empty()).collect();
        let matches = labels.len() == have.len()
            && labels.iter().all(|(k, v)| have.contains(&format!("{k}=\"{v}\"").as_str()));
        matches.then(|| value.parse().ok()).flatten()
    })
}

#[tokio::test]
async fn metrics_and_health_while_streaming() {
    let db = shared_mariadb();
    let database = db.fresh_database("metrics").await;
    db.exec(&format!("CREATE TABLE `{database}`.t (id INT PRIMARY KEY, v VARCHAR(20))")).await;
    let port = free_port();
    let cfg = CdcConfig::mariadb(db, shared_kafka().bootstrap(), &unique_prefix("metrics"), &database)
        .set("metrics.address", &format!("127.0.0.1:{port}"));
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;

    let health = wait_for(Duration::from_secs(10), || async { get(port, "/health").await.filter(|(s, _)| *s == 200) }).await;
    assert!(health.is_some(), "GET /health is not 200 while streaming: {:?}\n{}", get(port, "/health").await, cdc.log_tail(30));

    // Every series with a meaningful value before the first event exists
    // from the start (the lag has none until a row is read).
    let (status, first) = get(port, "/metrics").await.expect("GET /metrics");
    assert_eq!(status, 200);
    for name in [
        "binlog_cdc_connected",
        "binlog_cdc_reconnects_total",
        "binlog_cdc_offsets_committed_total",
        "binlog_cdc_queue_batches",
        "binlog_cdc_queue_bytes",
    ] {
        assert!(sample(&first, name, &[]).is_some(), "{name} missing before any change:\n{first}");
        assert!(first.contains(&format!("# TYPE {name} ")), "{name} has no TYPE line:\n{first}");
    }
    assert_eq!(sample(&first, "binlog_cdc_connected", &[]), Some(1.0), "{first}");
    assert_eq!(sample(&first, "binlog_cdc_reconnects_total", &[]), Some(0.0), "{first}");

    for i in 0..3 {
        db.exec(&format!("INSERT INTO `{database}`.t VALUES ({i}, 'v{i}')")).await;
    }
    db.exec(&format!("UPDATE `{database}`.t SET v = 'w' WHERE id = 0")).await;
    db.exec(&format!("DELETE FROM `{database}`.t WHERE id = 1")).await;
    let table = format!("{database}.t");
    let counted = wait_for(Duration::from_secs(30), || async {
        let (_, m) = get(port, "/metrics").await?;
        let done = sample(&m, "binlog_cdc_records_total", &[("op", "d"), ("table", &table)]) == Some(1.0)
            && sample(&m, "binlog_cdc_offsets_committed_total", &[]).is_some_and(|n| n >= 1.0);
        done.then_some(m)
    })
    .await;
    let m = counted.unwrap_or_else(|| {
        panic!("records not counted: {:?}\n{}", futures_now(port), cdc.log_tail(30))
    });
    assert_eq!(sample(&m, "binlog_cdc_records_total", &[("op", "c"), ("table", &table)]), Some(3.0), "{m}");
    assert_eq!(sample(&m, "binlog_cdc_records_total", &[("op", "u"), ("table", &table)]), Some(1.0), "{m}");
    // The exact text form, labels in alphabetical order.
    assert!(m.contains(&format!("binlog_cdc_records_total{{op=\"c\",table=\"{table}\"}} 3")), "{m}");
    let lag = sample(&m, "binlog_cdc_milliseconds_behind_source", &[]).expect("lag");
    assert!((0.0..600_000.0).contains(&lag), "lag {lag} ms:\n{m}");
    assert!(sample(&m, "binlog_cdc_queue_batches", &[]).is_some_and(|n| n >= 0.0), "{m}");

    let (status, _) = get(port, "/nope").await.expect("GET /nope");
    assert_eq!(status, 404);
    let status = cdc.terminate(Duration::from_secs(20)).await;
    assert!(status.is_some_and(|s| s.success()), "{status:?}\n{}", cdc.log_tail(30));
}

/// For failure messages: what /metrics says right now (blocking).
fn futures_now(port: u16) -> String {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(get(port, "/metrics")).map(|(_, b)| b).unwrap_or_default()
    })
    .join()
    .unwrap_or_default()
}

/// `/health` is 503 while the source cannot be reached, and the metrics
/// endpoint is up before the first connection.
#[tokio::test]
async fn health_is_down_while_the_database_is_unreachable() {
    let port = free_port();
    let cfg = CdcConfig::mariadb(shared_mariadb(), shared_kafka().bootstrap(), &unique_prefix("metrics_down"), "metrics_down")
        .set("database.port", &free_port().to_string())
        .set("metrics.address", &format!("127.0.0.1:{port}"));
    let cdc = Cdc::start(&cfg);
    let health = wait_for(Duration::from_secs(20), || async { get(port, "/health").await }).await;
    assert_eq!(health.map(|(s, _)| s), Some(503), "{}", cdc.log_tail(30));
    let (_, m) = get(port, "/metrics").await.expect("GET /metrics");
    assert_eq!(sample(&m, "binlog_cdc_connected", &[]), Some(0.0), "{m}");
    let status = cdc.terminate(Duration::from_secs(10)).await;
    assert!(status.is_some_and(|s| s.success()), "{status:?}\n{}", cdc.log_tail(30));
}
