//! `make bench`, snapshot case: a table of BENCH_SNAPSHOT_ROWS [1,000,000]
//! rows of ~200 bytes exists before the connector starts; measured from
//! process start until Kafka holds every `r` record (acknowledged), with the
//! connector's CPU time and peak RSS; then Debezium (Kafka Connect
//! standalone, snapshot.mode=initial, same table, same Kafka) the same way,
//! its rate also given from its first record (JVM start excluded).
//! BENCH_PEERS=none skips Debezium; BENCH_SNAPSHOT_THREADS sets
//! snapshot.max.threads for binlog-cdc; BENCH_OURS_PROPS adds connector
//! properties (as in main.rs); BENCH_TRACE_RSS=1 prints records
//! and RSS as they go; BENCH_MALLOC_ARENA_MAX overrides glibc's arena count
//! (main.rs sets 2; without it RSS grew with every record: 1.8 GiB at 1M).
//! Last run (2 cores, load average ~6 from other runs): binlog-cdc 65k
//! rows/s, 13 CPU s, 204 MiB peak RSS; Debezium 5.2k rows/s, 481 MiB.

use std::time::{Duration, Instant};

use crate::stats::{sample, TopicCounter};
use crate::support::cdc::{Cdc, CdcConfig};
use crate::support::debezium::{Debezium, DebeziumConfig};
use crate::support::kafka::{shared_kafka, unique_prefix};
use crate::support::mariadb::{MariaDb, MariaDbOptions};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

struct Run {
    seconds: f64,
    /// From the first record to the last (excludes process start-up).
    streaming_seconds: f64,
    cpu_s: f64,
    hwm_kib: u64,
}

/// Polls until `topic` holds `n` records; samples `pid` meanwhile.
async fn watch(bootstrap: &str, topic: &str, n: i64, pid: impl Fn() -> Option<u32>, deadline: Duration) -> Result<Run, String> {
    let started = Instant::now();
    let mut counter = TopicCounter::new(bootstrap);
    let (mut first, mut cpu_s, mut hwm_kib) = (None, 0.0, 0);
    loop {
        if let Some(s) = pid().and_then(sample) {
            cpu_s = s.cpu_s;
            hwm_kib = hwm_kib.max(s.hwm_kib);
        }
        let count = tokio::task::block_in_place(|| counter.count(topic));
        if std::env::var_os("BENCH_TRACE_RSS").is_some() {
            if let Some(s) = pid().and_then(sample) {
                eprintln!("[bench snapshot] {:.1}s {count} records, RSS {} MiB", started.elapsed().as_secs_f64(), s.rss_kib / 1024);
            }
        }
        if count > 0 && first.is_none() {
            first = Some(started.elapsed());
        }
        if count >= n {
            let seconds = started.elapsed().as_secs_f64();
            let streaming_seconds = seconds - first.unwrap_or_default().as_secs_f64();
            return Ok(Run { seconds, streaming_seconds, cpu_s, hwm_kib });
        }
        if started.elapsed() > deadline {
            return Err(format!("{count} of {n} records after {deadline:?}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_snapshot() {
    let n = env_num("BENCH_SNAPSHOT_ROWS", 1_000_000);
    let threads = env_num("BENCH_SNAPSHOT_THREADS", 4);
    let peers = std::env::var("BENCH_PEERS").unwrap_or_else(|_| "debezium".into());
    let db = MariaDb::start(MariaDbOptions {
        extra_args: vec!["--innodb-buffer-pool-size=512M".into()],
        ..MariaDbOptions::default()
    });
    let kafka = shared_kafka();
    let bootstrap = kafka.bootstrap().to_string();
    // A cold broker (JIT, page cache) halves the first run's rate: warm it
    // as main.rs does, so that a snapshot-only run measures what a full one does.
    let warm = env_num("BENCH_WARMUP_RECORDS", 200_000);
    if warm > 0 {
        let t = unique_prefix("bench_snap_warmup");
        let row = crate::ceiling::bare_produce(&bootstrap, &t, 1, &crate::ceiling::synthetic(), warm, kafka.pid()).await;
        eprintln!("[bench snapshot] broker warm-up: {warm} records in {:.1} s", row.seconds);
    }
    let database = db.fresh_database("bench_snap").await;
    let fill = Instant::now();
    db.exec(&format!(
        "USE `{database}`; CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(64), \
         amount DECIMAL(12,2), status VARCHAR(16), note VARCHAR(120), created DATETIME(3)); \
         SET SESSION sql_log_bin = 0; \
         INSERT INTO orders SELECT seq, CONCAT('customer-', LPAD(seq % 50000, 6, '0')), (seq % 1000000) / 100, 'NEW', \
         'a note of about eighty characters to make the row roughly two hundred bytes long', \
         TIMESTAMP('2024-01-01') + INTERVAL seq SECOND FROM seq_1_to_{n}"
    ))
    .await;
    eprintln!("[bench snapshot] {n} rows written in {:?}", fill.elapsed());
    db.exec(&format!("ANALYZE TABLE `{database}`.orders")).await;
    let table_mb: Vec<(u64,)> = db
        .query(&format!("SELECT DATA_LENGTH FROM information_schema.TABLES WHERE TABLE_SCHEMA='{database}' AND TABLE_NAME='orders'"))
        .await;

    let prefix = unique_prefix("bench_snap");
    let mut cfg = CdcConfig::mariadb(&db, &bootstrap, &prefix, &database)
        .set("snapshot.mode", "initial")
        .set("snapshot.max.threads", &threads.to_string())
        .set("offset.flush.interval.ms", "1000");
    for (k, v) in crate::ours_props() {
        cfg = cfg.set(&k, &v);
    }
    let arena = std::env::var("BENCH_MALLOC_ARENA_MAX").unwrap_or_default();
    let mut env = vec![("BINLOG_CDC_LOG", "info")];
    if !arena.is_empty() {
        env.push(("MALLOC_ARENA_MAX", arena.as_str()));
    }
    let cdc = Cdc::start_with_env(&cfg, &env);
    let ours = watch(&bootstrap, &format!("{prefix}.{database}.orders"), n as i64, || cdc.pid(), Duration::from_secs(1200)).await;
    if ours.is_err() {
        eprintln!("{}", cdc.log_tail(30));
    }
    cdc.terminate(Duration::from_secs(60)).await;

    let mut dbz_run = None;
    if peers.contains("debezium") {
        let dprefix = unique_prefix("bench_snap_dbz");
        let dcfg = DebeziumConfig::mariadb(&db, &bootstrap, &dprefix, &database)
            .set("snapshot.mode", "initial")
            .set("include.schema.changes", "false");
        let dbz = Debezium::start(dcfg).await;
        let r = watch(&bootstrap, &format!("{dprefix}.{database}.orders"), n as i64, || dbz.pid(), Duration::from_secs(3600)).await;
        if r.is_err() {
            eprintln!("{}", dbz.log_tail(30));
        }
        dbz.stop_gracefully(Duration::from_secs(30)).await;
        dbz_run = Some(r);
    }

    println!();
    println!(
        "snapshot of {n} rows (~200 B each, InnoDB data {:.0} MB) → Kafka (1 partition, JSON with schemas)",
        table_mb.first().map_or(0.0, |r| r.0 as f64 / 1e6)
    );
    println!();
    println!("| implementation | seconds (process start → last record acked) | rows/s | rows/s from first record | CPU s | peak RSS MiB |");
    println!("|---|---|---|---|---|---|");
    let line = |name: &str, r: &Result<Run, String>| match r {
        Ok(r) => println!(
            "| {name} | {:.1} | {:.0} | {:.0} | {:.1} | {:.1} |",
            r.seconds,
            n as f64 / r.seconds,
            n as f64 / r.streaming_seconds.max(0.001),
            r.cpu_s,
            r.hwm_kib as f64 / 1024.0
        ),
        Err(e) => println!("| {name} | failed: {e} | | | | |"),
    };
    line(&format!("binlog-cdc (snapshot.max.threads={threads})"), &ours);
    if let Some(r) = &dbz_run {
        line("Debezium 3.x MariaDB connector (Connect standalone, -Xmx512m)", r);
    }
    assert!(ours.is_ok(), "binlog-cdc snapshot did not complete");
}
