//! Backlog drain: N single-row transactions (~200-byte rows) are already in
//! the binlog when the connector starts; measure until Kafka has
//! acknowledged the last record, with the connector's CPU time and peak RSS.

use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::support::cdc::{run_cli, Cdc, CdcConfig};
use crate::support::kafka::{shared_kafka, unique_prefix};
use crate::support::mariadb::{MariaDb, MariaDbOptions};

fn rows() -> usize {
    std::env::var("BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

/// Records currently in `topic` (sum of high watermarks).
fn topic_count(bootstrap: &str, topic: &str) -> i64 {
    let c: BaseConsumer = match ClientConfig::new().set("bootstrap.servers", bootstrap).create() {
        Ok(c) => c,
        Err(_) => return 0,
    };
    let Ok(md) = c.fetch_metadata(Some(topic), Duration::from_secs(5)) else { return 0 };
    md.topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(move |p| (t.name().to_string(), p.id())))
        .filter_map(|(t, p)| c.fetch_watermarks(&t, p, Duration::from_secs(5)).ok())
        .map(|(lo, hi)| hi - lo)
        .sum()
}

/// (user+system CPU seconds, peak RSS in KiB) of a live process.
fn proc_stats(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (ticks / 100.0, hwm)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn backlog_drain_single_row_transactions() {
    let n = rows();
    let db = MariaDb::start(MariaDbOptions::default());
    let bootstrap = shared_kafka().bootstrap();
    let database = db.fresh_database("bench").await;
    db.exec(&format!(
        "USE `{database}`; CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(64), \
         amount DECIMAL(12,2), status VARCHAR(16), note VARCHAR(120), created DATETIME(3))"
    ))
    .await;
    let prefix = unique_prefix("bench");
    let cfg = CdcConfig::mariadb(&db, bootstrap, &prefix, &database)
        .set("topic.creation.default.partitions", "4")
        .set("offset.flush.interval.ms", "1000");
    // Store the current position, then build the backlog behind it.
    let (file, pos): (String, u64) = {
        let row: Vec<(String, u64, String, String)> = db.query("SHOW MASTER STATUS").await;
        (row[0].0.clone(), row[0].1)
    };
    let out = run_cli(&cfg, &["offsets", "set", "--file", &file, "--pos", &pos.to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fill = Instant::now();
    let batch = 1000;
    for start in (0..n).step_by(batch) {
        let sql: String = (start..(start + batch).min(n))
            .map(|i| {
                format!(
                    "INSERT INTO orders VALUES ({i}, 'customer-{:06}', {}.{:02}, 'NEW', \
                     'a note of about eighty characters to make the row roughly two hundred bytes long', NOW(3));",
                    i % 50_000,
                    i % 10_000,
                    i % 100
                )
            })
            .collect();
        db.exec(&format!("USE `{database}`; {sql}")).await;
    }
    eprintln!("backlog of {n} rows written in {:?}", fill.elapsed());

    let topic = format!("{prefix}.{database}.orders");
    let started = Instant::now();
    let cdc = Cdc::start(&cfg);
    let pid = cdc.pid().expect("pid");
    let mut peak_rss = 0;
    let mut cpu = 0.0;
    loop {
        let (c, rss) = proc_stats(pid);
        if rss > 0 {
            peak_rss = rss;
            cpu = c;
        }
        if topic_count(bootstrap, &topic) >= n as i64 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "backlog not drained:\n{}", cdc.log_tail(30));
        assert!(cdc.exited().is_none(), "connector exited:\n{}", cdc.log_tail(30));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (c, rss) = proc_stats(pid);
    if rss > 0 {
        peak_rss = rss;
        cpu = c;
    }
    cdc.terminate(Duration::from_secs(30)).await;
    let binlog_mb: f64 = {
        let logs: Vec<(String, u64)> = db.query("SHOW BINARY LOGS").await;
        logs.iter().map(|(_, s)| *s as f64).sum::<f64>() / 1e6
    };
    println!();
    println!("| case | rows | seconds | rows/s | binlog MB/s | CPU s per 1M rows | peak RSS MiB |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| backlog drain, single-row transactions → Kafka | {n} | {elapsed:.2} | {:.0} | {:.1} | {:.1} | {:.1} |",
        n as f64 / elapsed,
        binlog_mb / elapsed,
        cpu * 1e6 / n as f64,
        peak_rss as f64 / 1024.0
    );
}
