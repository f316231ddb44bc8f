//! `make bench`, snapshot case: a table of BENCH_SNAPSHOT_ROWS [1,000,000]
//! rows of ~200 bytes exists before the connector starts; measured from
//! process start until Kafka holds every `r` record (acknowledged), with the
//! connector's CPU time and peak RSS, and the CPU Kafka and MariaDB spent
//! meanwhile; then Debezium (Kafka Connect standalone, snapshot.mode=initial,
//! same table, same Kafka) the same way, its rate also given from its first
//! record (JVM start excluded).
//!
//! Before it, binlog-cdc snapshots a table of BENCH_WARMUP_ROWS [300,000]
//! rows of the same shape into its own topic, unmeasured, again until Kafka's
//! JIT compilations per round stop falling by 20 % or more (`jstat
//! -compiler`: 2004, 473, 236, 187, 174, 191 in six rounds; at most
//! BENCH_WARMUP_MAX_ROUNDS [6]): a broker that has not yet run this
//! workload spends the measured run JIT-compiling its produce path (JFR
//! after a 2M-record bare-producer warm-up: ~870 compilations, C2 threads
//! 23 % of the machine's samples; async-profiler after one 300k warm-up
//! snapshot: C2 in 40 % of the broker's samples), which a long-running
//! broker has long done. Before each measured run the servers settle
//! (InnoDB's dirty pages written, `sync`).
//!
//! BENCH_PEERS=none skips Debezium; BENCH_SNAPSHOT_THREADS sets
//! snapshot.max.threads for binlog-cdc; BENCH_OURS_PROPS adds connector
//! properties (as in main.rs); BENCH_TRACE_RSS=1 prints records and RSS as
//! they go; BENCH_SHOW_LOG=1 prints the connector's debug log with the
//! wall-clock times of its start and of the last record.

use std::time::{Duration, Instant};

use crate::stats::{cpu_of, jit_compilations, sample, TopicCounter};
use crate::{env_num, time_of_day};
use crate::support::cdc::{Cdc, CdcConfig};
use crate::support::debezium::{Debezium, DebeziumConfig};
use crate::support::kafka::{shared_kafka, unique_prefix};
use crate::support::mariadb::{MariaDb, MariaDbOptions};

struct Run {
    seconds: f64,
    /// From the first record to the last (excludes process start-up).
    streaming_seconds: f64,
    cpu_s: f64,
    hwm_kib: u64,
    /// CPU seconds Kafka and MariaDB spent during the run.
    servers_cpu_s: (f64, f64),
}

/// Kafka's and MariaDB's process ids.
type Servers = (Option<u32>, Option<u32>);

/// Polls until `topic` holds `n` records; samples `pid` and `servers` meanwhile.
async fn watch(bootstrap: &str, topic: &str, n: i64, pid: impl Fn() -> Option<u32>, servers: Servers, deadline: Duration) -> Result<Run, String> {
    let started = Instant::now();
    let servers0 = (cpu_of(servers.0), cpu_of(servers.1));
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
            let servers_cpu_s = (cpu_of(servers.0) - servers0.0, cpu_of(servers.1) - servers0.1);
            return Ok(Run { seconds, streaming_seconds, cpu_s, hwm_kib, servers_cpu_s });
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
    let servers = (kafka.pid(), db.pid());
    let warm = env_num("BENCH_WARMUP_ROWS", 300_000);
    if warm > 0 {
        let (warm_db, _) = fill(&db, "bench_snap_warm", warm).await;
        let mut previous = None;
        for round in 1..=env_num("BENCH_WARMUP_MAX_ROUNDS", 6) {
            let jit0 = jit_compilations(servers.0);
            let r = run_ours(&bootstrap, &db, &warm_db, warm, threads, servers).await;
            let jit = jit_compilations(servers.0).zip(jit0).map(|(a, b)| a.saturating_sub(b));
            eprintln!("[bench snapshot] warm-up {round}: {warm} rows, {:?}, Kafka JIT compilations {jit:?}", r.map(|r| (r.seconds, r.cpu_s)));
            // Warm once a round compiles less than 20 % fewer than the one before.
            if jit.is_none() || jit.zip(previous).is_some_and(|(j, p): (u64, u64)| j * 5 > p * 4) {
                break;
            }
            previous = jit;
        }
    }
    let (database, table_bytes) = fill(&db, "bench_snap", n).await;
    settle(&db).await;
    let ours = run_ours(&bootstrap, &db, &database, n, threads, servers).await;

    let mut dbz_run = None;
    if peers.contains("debezium") {
        let dprefix = unique_prefix("bench_snap_dbz");
        let dcfg = DebeziumConfig::mariadb(&db, &bootstrap, &dprefix, &database)
            .set("snapshot.mode", "initial")
            .set("include.schema.changes", "false");
        settle(&db).await;
        let dbz = Debezium::start(dcfg).await;
        let r = watch(&bootstrap, &format!("{dprefix}.{database}.orders"), n as i64, || dbz.pid(), servers, Duration::from_secs(3600)).await;
        if r.is_err() {
            eprintln!("{}", dbz.log_tail(30));
        }
        dbz.stop_gracefully(Duration::from_secs(30)).await;
        dbz_run = Some(r);
    }

    println!();
    println!(
        "snapshot of {n} rows (~200 B each, InnoDB data {:.0} MB) → Kafka (1 partition, JSON with schemas)",
        table_bytes as f64 / 1e6
    );
    println!();
    println!("| implementation | seconds (process start → last record acked) | rows/s | rows/s from first record | CPU s | peak RSS MiB | servers' CPU s: Kafka / MariaDB |");
    println!("|---|---|---|---|---|---|---|");
    let line = |name: &str, r: &Result<Run, String>| match r {
        Ok(r) => println!(
            "| {name} | {:.1} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} / {:.1} |",
            r.seconds,
            n as f64 / r.seconds,
            n as f64 / r.streaming_seconds.max(0.001),
            r.cpu_s,
            r.hwm_kib as f64 / 1024.0,
            r.servers_cpu_s.0,
            r.servers_cpu_s.1
        ),
        Err(e) => println!("| {name} | failed: {e} | | | | | |"),
    };
    line(&format!("binlog-cdc (snapshot.max.threads={threads})"), &ours);
    if let Some(r) = &dbz_run {
        line("Debezium 3.x MariaDB connector (Connect standalone, -Xmx512m)", r);
    }
    assert!(ours.is_ok(), "binlog-cdc snapshot did not complete");
}

/// A database holding `orders` with `n` rows; its name and InnoDB data size.
async fn fill(db: &MariaDb, prefix: &str, n: u64) -> (String, u64) {
    let database = db.fresh_database(prefix).await;
    let started = Instant::now();
    db.exec(&format!(
        "USE `{database}`; CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(64), \
         amount DECIMAL(12,2), status VARCHAR(16), note VARCHAR(120), created DATETIME(3)); \
         SET SESSION sql_log_bin = 0; \
         INSERT INTO orders SELECT seq, CONCAT('customer-', LPAD(seq % 50000, 6, '0')), (seq % 1000000) / 100, 'NEW', \
         'a note of about eighty characters to make the row roughly two hundred bytes long', \
         TIMESTAMP('2024-01-01') + INTERVAL seq SECOND FROM seq_1_to_{n}"
    ))
    .await;
    eprintln!("[bench snapshot] {n} rows written in {:?}", started.elapsed());
    db.exec(&format!("ANALYZE TABLE `{database}`.orders")).await;
    let size: Vec<(u64,)> = db
        .query(&format!("SELECT DATA_LENGTH FROM information_schema.TABLES WHERE TABLE_SCHEMA='{database}' AND TABLE_NAME='orders'"))
        .await;
    (database, size.first().map_or(0, |r| r.0))
}

/// Waits until MariaDB has written the table just filled out of its buffer
/// pool and the kernel has written back dirty files (Kafka's logs too), so
/// that neither runs during a measured snapshot: the ~250 MB the fill left
/// dirty were flushed while binlog-cdc ran (right after the fill) and not
/// while Debezium ran (later).
async fn settle(db: &MariaDb) {
    let started = Instant::now();
    db.exec("SET GLOBAL innodb_max_dirty_pages_pct_lwm = 0.001, GLOBAL innodb_max_dirty_pages_pct = 0.001").await;
    let clean = crate::support::wait::wait_until("InnoDB has no dirty pages", Duration::from_secs(120), || async {
        let dirty: Vec<(String, u64)> = db.query("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'").await;
        dirty.first().is_some_and(|d| d.1 < 16)
    })
    .await;
    db.exec("SET GLOBAL innodb_max_dirty_pages_pct_lwm = DEFAULT, GLOBAL innodb_max_dirty_pages_pct = DEFAULT").await;
    // SAFETY: sync(2) has no preconditions.
    tokio::task::block_in_place(|| unsafe { libc::sync() });
    eprintln!("[bench snapshot] settled in {:?} (InnoDB clean: {clean})", started.elapsed());
}

/// binlog-cdc's snapshot of `database` (`n` rows), from process start until
/// Kafka holds every record.
async fn run_ours(bootstrap: &str, db: &MariaDb, database: &str, n: u64, threads: u64, servers: Servers) -> Result<Run, String> {
    let prefix = unique_prefix("bench_snap");
    let mut cfg = CdcConfig::mariadb(db, bootstrap, &prefix, database)
        .set("snapshot.mode", "initial")
        .set("snapshot.max.threads", &threads.to_string())
        .set("offset.flush.interval.ms", "1000");
    for (k, v) in crate::ours_props() {
        cfg = cfg.set(&k, &v);
    }
    let show_log = std::env::var_os("BENCH_SHOW_LOG").is_some();
    let env = [("BINLOG_CDC_LOG", if show_log { "debug" } else { "info" })];
    if show_log {
        eprintln!("[bench snapshot] binlog-cdc starts at {}", time_of_day(std::time::SystemTime::now()));
    }
    let cdc = Cdc::start_with_env(&cfg, &env);
    let topic = format!("{prefix}.{database}.orders");
    let ours = watch(bootstrap, &topic, n as i64, || cdc.pid(), servers, Duration::from_secs(1200)).await;
    if ours.is_err() || show_log {
        eprintln!("[bench snapshot] last record counted at {}", time_of_day(std::time::SystemTime::now()));
        eprintln!("{}", cdc.log_excerpt(200));
    }
    cdc.terminate(Duration::from_secs(60)).await;
    ours
}
