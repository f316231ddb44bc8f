//! `make bench` / `make bench-quick`: throughput, CPU, memory and latency of
//! binlog-cdc and its peers, measured in the same run on the same binlog,
//! printed as one markdown table and written as JSON under `target/bench/`.
//! Not a timed test: the case is `#[ignore]`d and run explicitly by the
//! Makefile in release mode, against servers the harness starts.
//!
//! Cases (sizes from the environment, defaults in brackets):
//! 1. backlog drain, BENCH_ROWS [1,000,000] single-row autocommit INSERTs
//!    of ~200-byte rows → Kafka, process start → last record acknowledged;
//! 2. backlog drain, BENCH_ROWS rows in BENCH_TX_ROWS [1000]-row
//!    transactions → Kafka; 2u: the same rows UPDATEd (FULL image: before
//!    and after) in BENCH_TX_ROWS-row transactions;
//! 3. decode only: case 1's backlog into the stdout sink, JSON lines read
//!    and discarded; python-mysql-replication and ZongJi read the same
//!    binlog from the same position and write each row as JSON to /dev/null;
//! 4. steady state: a writer at each rate of BENCH_RATES [1000,10000] rows/s
//!    for BENCH_LATENCY_SECS [30] s (after 2 s of warm-up); latency from
//!    the row's write time (a column) to its arrival at a Kafka consumer;
//! 5. one transaction of BENCH_BIG_ROWS [2,000,000] rows of
//!    BENCH_BIG_ROW_BYTES [500] bytes → Kafka: peak RSS.
//!
//! Debezium (Kafka Connect standalone, JSON with schemas, same Kafka) runs
//! cases 1, 2 and 4. BENCH_CASES (e.g. `1,3`) and BENCH_PEERS (`debezium,
//! python,zongji` or `none`) select what runs.

#[allow(dead_code, unused_imports)]
#[path = "../it/support/mod.rs"]
mod support;

mod ceiling;
mod latency;
mod peers;
mod report;
mod runs;
mod stats;
mod workload;
mod snapshot;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;

use report::{Report, Row, OURS};
use runs::{drain_rows, join_watch, new_watch, set_pid, watch_thread, Segment};
use stats::Threshold;
use support::cdc::{run_cli, server_id, Cdc, CdcConfig};
use support::debezium::{Debezium, DebeziumConfig};
use support::kafka::{shared_kafka, unique_prefix};
use support::mariadb::{MariaDb, MariaDbOptions};
use workload::{BIG, MARKER, ORDERS, ORDERS_TX};

/// BENCH_OURS_PROPS="producer.linger.ms=20,max.queue.size.in.bytes=…":
/// extra connector properties, to try settings without rebuilding.
pub(crate) fn ours_props() -> Vec<(String, String)> {
    std::env::var("BENCH_OURS_PROPS")
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.trim().to_string(), v.trim().to_string())))
        .collect()
}

/// UTC time of day of `t`, as the connector's log prints it.
pub(crate) fn time_of_day(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let s = d.as_secs() % 86_400;
    format!("{:02}:{:02}:{:02}.{:06}", s / 3600, s / 60 % 60, s % 60, d.subsec_micros())
}

pub(crate) fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

fn env_set(name: &str, default: &str) -> BTreeSet<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty() && s != "none")
        .collect()
}

#[derive(Debug)]
struct Sizes {
    rows: u64,
    tx_rows: u64,
    big_rows: u64,
    big_row_bytes: u64,
    latency_secs: f64,
    warmup_secs: f64,
    rates: Vec<u64>,
    cases: BTreeSet<String>,
    peers: BTreeSet<String>,
    partitions: u32,
}

impl Sizes {
    fn from_env() -> Self {
        Sizes {
            rows: env_num("BENCH_ROWS", 1_000_000),
            tx_rows: env_num("BENCH_TX_ROWS", 1000).max(1),
            big_rows: env_num("BENCH_BIG_ROWS", 2_000_000),
            big_row_bytes: env_num("BENCH_BIG_ROW_BYTES", 500),
            latency_secs: env_num("BENCH_LATENCY_SECS", 30) as f64,
            warmup_secs: env_num("BENCH_WARMUP_SECS", 2) as f64,
            rates: env_set("BENCH_RATES", "1000,10000").iter().filter_map(|r| r.parse().ok()).collect(),
            cases: env_set("BENCH_CASES", "1,2,3,4,5"),
            peers: env_set("BENCH_PEERS", "debezium,python,zongji"),
            partitions: env_num("BENCH_PARTITIONS", 4) as u32,
        }
    }
    fn case(&self, c: &str) -> bool {
        self.cases.contains(c)
    }
    fn peer(&self, p: &str) -> bool {
        self.peers.contains(p)
    }
}

/// 1000000 → "1M", 20000 → "20k".
fn human(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 100_000 == 0 => format!("{}M", n as f64 / 1e6),
        n if n >= 1000 && n % 1000 == 0 => format!("{}k", n / 1000),
        n => n.to_string(),
    }
}

fn git_head() -> String {
    std::process::Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "describe", "--always", "--dirty"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Case 4 for one implementation (already streaming): one row per rate.
#[allow(clippy::too_many_arguments)]
async fn latency_rows(s: &Sizes, db: &MariaDb, database: &str, bootstrap: &str, impl_name: &str, who: &str, prefix: &str, pid: Option<u32>) -> Vec<Row> {
    let mut rows = Vec::new();
    for rate in &s.rates {
        let case = format!("4. steady {} rows/s → Kafka, write→consume latency", human(*rate));
        let table = workload::latency_table(who, *rate);
        let t = format!("{prefix}.{database}.{table}");
        let cpu0 = pid.and_then(stats::sample).map(|p| p.cpu_s);
        let res = latency::run(db, database, &table, bootstrap, &t, *rate, s.warmup_secs, s.latency_secs).await;
        let after = pid.and_then(stats::sample);
        let row = match res {
            Ok(l) => {
                let mut row = Row {
                    rows: l.written,
                    seconds: l.write_seconds,
                    cpu_s: cpu0.zip(after).map(|(a, b)| b.cpu_s - a),
                    peak_rss_kib: after.map(|a| a.hwm_kib),
                    latency_ms: Some((l.p50_ms, l.p99_ms, l.max_ms)),
                    offered_rate: Some(*rate),
                    ..Row::new(&case, impl_name)
                };
                row.notes.push(format!("{} rows measured after {} s warm-up; peak RSS since process start", l.rows, s.warmup_secs));
                if l.missing > 0 {
                    row.notes.push(format!("{} rows did not arrive within 30 s", l.missing));
                }
                row
            }
            Err(e) => Row::failed(&case, impl_name, e),
        };
        rows.push(row);
    }
    rows
}

const DEBEZIUM: &str = "Debezium 3.5.0.Final (Connect standalone)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench() {
    let s = Sizes::from_env();
    let load_start = stats::loadavg();
    eprintln!("[bench] sizes {s:?}; load average {load_start:?}");
    let bench_started = Instant::now();

    let db = MariaDb::start(MariaDbOptions::default());
    let kafka = shared_kafka();
    let bootstrap = kafka.bootstrap().to_string();
    let watch = new_watch(&bootstrap, kafka.pid(), db.pid());
    let database = db.fresh_database("bench").await;
    workload::create_tables(&db, &database, &s.rates).await;
    workload::fresh_binlog(&db).await;
    let p0 = workload::master_status(&db).await;
    let b0 = workload::binlog_total(&db).await;

    let mut report = Report::new(json!({}));

    // The broker's JIT warms up on records like the cases' before anything
    // is measured.
    let warm = env_num("BENCH_WARMUP_RECORDS", s.rows.min(200_000));
    if warm > 0 {
        let t = unique_prefix("bench_warmup");
        let row = ceiling::bare_produce(&bootstrap, &t, s.partitions as i32, &ceiling::synthetic(), warm, kafka.pid()).await;
        eprintln!("[bench] broker warm-up: {} records in {:.1} s", warm, row.seconds);
    }
    let parts = s.partitions.to_string();
    let extra = ours_props();
    let ours_cfg = |prefix: &str| {
        let mut cfg = CdcConfig::mariadb(&db, &bootstrap, prefix, &database)
            .set("topic.creation.default.partitions", &parts)
            .set("offset.flush.interval.ms", "1000");
        for (k, v) in &extra {
            cfg = cfg.set(k, v);
        }
        cfg
    };
    let log_level = std::env::var("BENCH_CDC_LOG").unwrap_or_else(|_| "info".into());
    let ours_env = [("BINLOG_CDC_LOG", log_level.as_str())];
    let topic = |prefix: &str, table: &str| format!("{prefix}.{database}.{table}");

    // Debezium starts once before any backlog, so that its stored offset
    // (Kafka Connect's offsets file) is the position before them: a marker
    // row gives it a record to commit an offset for; it then stops and,
    // restarted later, drains the backlogs written meanwhile.
    let use_debezium = s.peer("debezium") && (s.case("1") || s.case("2") || s.case("4"));
    let dbz_prefix = unique_prefix("bench_dbz");
    let mut dbz = None;
    if use_debezium {
        let cfg = DebeziumConfig::mariadb(&db, &bootstrap, &dbz_prefix, &database)
            .set("topic.creation.default.partitions", &parts)
            .set("include.schema.changes", "false");
        let d = Debezium::start(cfg).await;
        d.wait_streaming(Duration::from_secs(180)).await;
        db.exec(&format!("INSERT INTO `{database}`.{MARKER} VALUES (1)")).await;
        let marker = topic(&dbz_prefix, MARKER);
        let mut counter = stats::TopicCounter::new(&bootstrap);
        let got = support::wait::wait_until("marker", Duration::from_secs(120), || {
            let n = counter.count(&marker);
            async move { n >= 1 }
        })
        .await;
        assert!(got, "Debezium did not deliver the marker:\n{}", d.log_tail(40));
        d.stop_gracefully(Duration::from_secs(60)).await;
        dbz = Some(d);
    } else {
        db.exec(&format!("INSERT INTO `{database}`.{MARKER} VALUES (1)")).await;
    }

    // Case 1's backlog (also case 3's).
    let n = s.rows;
    let mut segments: Vec<Segment> = Vec::new();
    let mut b1 = b0;
    let c1 = format!("1. backlog {} single-row tx → Kafka", human(n));
    if s.case("1") || s.case("3") {
        workload::single_row_backlog(&db, &database, ORDERS, n as usize).await;
        b1 = workload::binlog_total(&db).await;
        if s.case("1") {
            segments.push(Segment {
                case: c1.clone(),
                rows: n,
                binlog_bytes: b1 - b0,
                threshold: Threshold { topic: ORDERS.into(), count: n as i64 },
            });
        }
    }

    // Case 3: decode only, on case 1's backlog.
    if s.case("3") {
        let c3 = format!("3. decode only {} single-row tx → JSON → /dev/null", human(n));
        let mut cfg = ours_cfg(&unique_prefix("bench_stdout"))
            .set("sink.type", "stdout")
            .set("snapshot.mode", "never")
            .set("table.include.list", &format!("{database}.{ORDERS}"));
        cfg.props.retain(|(k, _)| !(k == "bootstrap.servers" || k.starts_with("offset.") || k.starts_with("topic.creation")));
        report.push(runs::ours_stdout(&c3, &cfg, n, b1 - b0).await);
        for (key, make) in [("python", peers::python as fn() -> Result<peers::Peer, String>), ("zongji", peers::zongji)] {
            if !s.peer(key) {
                continue;
            }
            let row = match make() {
                Ok(peer) => {
                    let mut row = peer.run(&c3, &db, &p0.0, p0.1, ORDERS, n, server_id()).await;
                    row.binlog_bytes = Some(b1 - b0);
                    row
                }
                Err(e) => Row::failed(&c3, key, e),
            };
            report.push(row);
        }
    }

    // Case 2's backlogs.
    if s.case("2") {
        workload::tx_backlog(&db, &database, ORDERS_TX, n as usize, s.tx_rows as usize).await;
        let b2 = workload::binlog_total(&db).await;
        workload::update_backlog(&db, &database, ORDERS_TX, n as usize, s.tx_rows as usize).await;
        let b3 = workload::binlog_total(&db).await;
        segments.push(Segment {
            case: format!("2. backlog {} rows in {}-row tx → Kafka", human(n), human(s.tx_rows)),
            rows: n,
            binlog_bytes: b2 - b1,
            threshold: Threshold { topic: ORDERS_TX.into(), count: n as i64 },
        });
        segments.push(Segment {
            case: format!("2u. backlog {} updates (before+after) in {}-row tx → Kafka", human(n), human(s.tx_rows)),
            rows: n,
            binlog_bytes: b3 - b2,
            threshold: Threshold { topic: ORDERS_TX.into(), count: 2 * n as i64 },
        });
    }

    // Cases 1 and 2: the drains, ours then Debezium's.
    if !segments.is_empty() {
        let prefix = unique_prefix("bench_ours");
        let cfg = ours_cfg(&prefix);
        let out = run_cli(&cfg, &["offsets", "set", "--file", &p0.0, "--pos", &p0.1.to_string()]);
        assert!(out.status.success(), "offsets set: {}", String::from_utf8_lossy(&out.stderr));
        let ours_segments: Vec<Segment> = segments
            .iter()
            .map(|seg| Segment { threshold: Threshold { topic: topic(&prefix, &seg.threshold.topic), ..seg.threshold.clone() }, ..seg.clone() })
            .collect();
        let started = Instant::now();
        let spawned_at = std::time::SystemTime::now();
        let cdc = Cdc::start_with_env(&cfg, &ours_env);
        set_pid(&watch.pid, cdc.pid());
        let profiler = runs::Profiler::attach(cdc.pid(), "kafka-drain");
        if std::env::var("BENCH_SMAPS").is_ok_and(|v| v == "1") {
            let pid = cdc.pid().unwrap_or(0);
            std::thread::spawn(move || {
                for _ in 0..6 {
                    std::thread::sleep(Duration::from_secs(2));
                    stats::dump_smaps(pid);
                }
            });
        }
        let watched = join_watch(watch_thread(&watch, &ours_segments, started)).await;
        profiler.stop();
        // Idle after the drain: what the process keeps.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let idle = cdc.pid().and_then(stats::sample).map(|p| p.rss_kib);
        set_pid(&watch.pid, None);
        if let Some(why) = &watched.failed {
            eprintln!("[bench] binlog-cdc drain: {why}\n{}", cdc.log_tail(30));
        }
        if std::env::var("BENCH_VERBOSE").is_ok_and(|v| v == "1") {
            eprintln!("[bench] binlog-cdc spawned at {}", time_of_day(spawned_at));
            let first = watched.first_record.unwrap_or_default();
            eprintln!("[bench] first record acknowledged {:.3} s after spawn", first.as_secs_f64());
            eprintln!("[bench] binlog-cdc log:\n{}", cdc.log().lines().take(60).collect::<Vec<_>>().join("\n"));
        }
        cdc.terminate(Duration::from_secs(60)).await;
        let notes = idle.map(|k| vec![format!("RSS idle after the drain {:.1} MiB", k as f64 / 1024.0)]).unwrap_or_default();
        for row in drain_rows(OURS, &watched, &ours_segments, notes) {
            report.push(row);
        }
        // The Kafka ceiling: case 1's records from a bare producer.
        if s.case("1") {
            let got = support::kafka::consume(&bootstrap, &topic(&prefix, ORDERS), 1, Duration::from_secs(30)).await;
            if let Some(template) = got.first() {
                let t = unique_prefix("bench_ceiling");
                report.push(ceiling::bare_produce(&bootstrap, &t, s.partitions as i32, template, n, kafka.pid()).await);
            }
        }

        if let Some(d) = dbz.as_mut() {
            let dbz_segments: Vec<Segment> = segments
                .iter()
                .map(|seg| Segment {
                    threshold: Threshold { topic: topic(&dbz_prefix, &seg.threshold.topic), ..seg.threshold.clone() },
                    ..seg.clone()
                })
                .collect();
            let started = Instant::now();
            let handle = watch_thread(&watch, &dbz_segments, started);
            d.restart().await;
            set_pid(&watch.pid, d.pid());
            let watched = join_watch(handle).await;
            set_pid(&watch.pid, None);
            if let Some(why) = &watched.failed {
                eprintln!("[bench] Debezium drain: {why}\n{}", d.log_tail(30));
            }
            let notes = vec![format!("JVM -Xmx512m; peak RSS sampled from REST-up; VmHWM {:.0} MiB", watched.hwm_kib as f64 / 1024.0)];
            for row in drain_rows(DEBEZIUM, &watched, &dbz_segments, notes) {
                report.push(row);
            }
        }
    }

    // Case 4: steady-state latency, Debezium first (already running after
    // the drain), then ours.
    if s.case("4") {
        if let Some(d) = dbz.as_mut() {
            if segments.is_empty() {
                d.restart().await;
            }
            d.wait_streaming(Duration::from_secs(300)).await;
            let rows = latency_rows(&s, &db, &database, &bootstrap, &format!("{DEBEZIUM}, defaults"), "dbz", &dbz_prefix, d.pid()).await;
            for row in rows {
                report.push(row);
            }
            d.stop_gracefully(Duration::from_secs(60)).await;
        }
        let prefix = unique_prefix("bench_lat");
        let cdc = Cdc::start_with_env(&ours_cfg(&prefix), &ours_env);
        cdc.wait_streaming(Duration::from_secs(60)).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let idle = cdc.pid().and_then(stats::sample).map(|p| p.rss_kib);
        let rows = latency_rows(&s, &db, &database, &bootstrap, OURS, "ours", &prefix, cdc.pid()).await;
        cdc.terminate(Duration::from_secs(60)).await;
        for mut row in rows {
            if let Some(k) = idle {
                row.notes.push(format!("RSS idle before the writer {:.1} MiB", k as f64 / 1024.0));
            }
            report.push(row);
        }
    }
    drop(dbz);

    // Case 5: one big transaction.
    if s.case("5") {
        let big = s.big_rows;
        let p4 = workload::master_status(&db).await;
        let b4 = workload::binlog_total(&db).await;
        workload::big_transaction(&db, &database, big as usize, s.big_row_bytes as usize).await;
        let b5 = workload::binlog_total(&db).await;
        let case = format!("5. one transaction of {} rows ({:.0} MB of binlog) → Kafka", human(big), (b5 - b4) as f64 / 1e6);
        let prefix = unique_prefix("bench_big");
        let cfg = ours_cfg(&prefix);
        let out = run_cli(&cfg, &["offsets", "set", "--file", &p4.0, "--pos", &p4.1.to_string()]);
        assert!(out.status.success(), "offsets set: {}", String::from_utf8_lossy(&out.stderr));
        let seg = vec![Segment {
            case: case.clone(),
            rows: big,
            binlog_bytes: b5 - b4,
            threshold: Threshold { topic: topic(&prefix, BIG), count: big as i64 },
        }];
        let started = Instant::now();
        let cdc = Cdc::start_with_env(&cfg, &ours_env);
        set_pid(&watch.pid, cdc.pid());
        let watched = join_watch(watch_thread(&watch, &seg, started)).await;
        set_pid(&watch.pid, None);
        if let Some(why) = &watched.failed {
            eprintln!("[bench] big transaction: {why}\n{}", cdc.log_tail(30));
        }
        cdc.terminate(Duration::from_secs(60)).await;
        let notes = vec![format!("VmHWM {:.1} MiB", watched.hwm_kib as f64 / 1024.0)];
        for row in drain_rows(OURS, &watched, &seg, notes) {
            report.push(row);
        }
    }

    let load_end = stats::loadavg();
    report.context = json!({
        "git": git_head(),
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "load_average_start": load_start,
        "load_average_end": load_end,
        "total_seconds": bench_started.elapsed().as_secs_f64(),
        "sizes": {
            "rows": s.rows, "tx_rows": s.tx_rows, "big_rows": s.big_rows, "big_row_bytes": s.big_row_bytes,
            "latency_secs": s.latency_secs, "warmup_secs": s.warmup_secs, "rates": s.rates, "partitions": s.partitions,
        },
        "cases": s.cases, "peers": s.peers,
    });
    let dir = report.write();
    println!();
    println!(
        "binlog-cdc {} on {} cores; load average {:.1} at start, {:.1} at end; {:.0} s in all",
        git_head(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_start[0],
        load_end[0],
        bench_started.elapsed().as_secs_f64()
    );
    println!();
    print!("{}", report.markdown());
    println!();
    println!("(JSON: {}/latest.json)", dir.display());
}
