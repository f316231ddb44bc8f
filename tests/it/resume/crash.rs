//! `kill -9` at random moments while a writer keeps committing (~20k row
//! changes in transactions of every size): after the restarts, every
//! committed change is in Kafka, per key in commit order (replays only go
//! back, never skip ahead), and the topic folded per key is the table.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;

use super::common::*;
use crate::support::cdc::Cdc;
use crate::support::kafka::{shared_kafka, unique_prefix};
use crate::support::mariadb::{MariaDb, MariaDbOptions};
use crate::support::wait::wait_for;

const ROWS: usize = 20_000;
/// Writer pace (rows/s), so that the kills land while it runs.
const RATE: f64 = 1_600.0;
const KILLS: usize = 5;

/// Runs the writer until `rows` row changes are committed, paced at `rate`
/// rows/s, with a big transaction now and then; `progress` counts rows.
pub async fn paced_writer(mut w: Writer, rows: usize, rate: f64, progress: Arc<AtomicUsize>) -> Writer {
    let start = Instant::now();
    while w.rows_changed() < rows {
        if w.transactions % 150 == 75 {
            w.big_transaction(1200).await;
        } else {
            w.random_transaction().await;
        }
        progress.store(w.rows_changed(), Ordering::Relaxed);
        // Pacing the workload (not synchronisation): stay near `rate`.
        let ahead = w.rows_changed() as f64 / rate - start.elapsed().as_secs_f64();
        if ahead > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(ahead)).await;
        }
    }
    w
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_under_load_loses_nothing_and_keeps_key_order() {
    let t0 = Instant::now();
    let db = MariaDb::start(MariaDbOptions::default());
    let bootstrap = shared_kafka().bootstrap();
    let database = db.fresh_database("resume_kill").await;
    db.exec(&format!("USE `{database}`; {DDL}")).await;
    let prefix = unique_prefix("resume_kill");
    // Small batches: more stored positions, many of them inside transactions.
    let cfg = config(&db, bootstrap, &prefix, &database, 3).set("max.batch.size", "200");
    let topic = data_topic(&cfg, &database);
    let seed = seed();
    let mut w = Writer::new(&db, &database, seed).await;
    w.track_gtids = true;

    let mut cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    let progress = Arc::new(AtomicUsize::new(0));
    let writer = tokio::spawn(paced_writer(w, ROWS, RATE, progress.clone()));

    let mut rng = rand::rng();
    let mut kills = Vec::new();
    let mut logs = Vec::new();
    for k in 0..KILLS {
        // Spread over the run, each at a random row count in its slot.
        let slot = ROWS / (KILLS + 1);
        let at = slot * (k + 1) - slot / 2 + rng.random_range(0..slot);
        let reached = wait_for(Duration::from_secs(60), || {
            let p = progress.load(Ordering::Relaxed);
            async move { (p >= at).then_some(p) }
        })
        .await;
        assert!(reached.is_some(), "the writer did not reach {at} rows");
        assert!(cdc.exited().is_none(), "binlog-cdc exited by itself:\n{}", cdc.log_tail(40));
        cdc.kill9();
        kills.push(progress.load(Ordering::Relaxed));
        logs.push(cdc.log());
        cdc = Cdc::start(&cfg);
        cdc.wait_streaming(Duration::from_secs(60)).await;
    }
    let w = writer.await.expect("writer task");
    let writer_done = t0.elapsed();

    let target = server_gtid(&db).await;
    wait_stored_covers(bootstrap, &cfg, &target, Duration::from_secs(90)).await;
    assert!(cdc.exited().is_none(), "binlog-cdc exited by itself:\n{}", cdc.log_tail(40));
    let caught_up = t0.elapsed();

    let stored = stored_records(bootstrap, &cfg).await;
    let inside_tx = stored.iter().filter(|r| r.value_json().is_some_and(|v| v.get("event").is_some())).count();
    let (observed, _) = parse(&read_all(bootstrap, &topic).await);
    let table = table_contents(&db, &database).await;
    logs.push(cdc.log());
    let s = match check_at_least_once(&observed, &w.log, &table) {
        Ok(s) => s,
        Err(e) => {
            let seen: std::collections::HashSet<Change> = observed.iter().map(|o| o.change).collect();
            let missing = (0..w.log.len()).filter(|i| !seen.contains(&w.log[*i]));
            let txs = transactions_of(&w, missing);
            let runs: Vec<String> = logs
                .iter()
                .map(|l| l.lines().filter(|l| l.contains("resuming from") || l.contains("streaming binlog")).collect::<Vec<_>>().join("\n"))
                .collect();
            let positions: Vec<String> = stored.iter().filter_map(|r| r.value_str().map(str::to_string)).collect();
            panic!(
                "{e}\nseed {seed}, killed at {kills:?} rows\ntransactions with missing changes (gtid, first change, changes): {txs:?}\nruns:\n{}\nstored positions:\n{}",
                runs.join("\n--\n"),
                positions.join("\n")
            );
        }
    };
    eprintln!(
        "kill -9 (seed {seed}): {} transactions, {} changes, killed at {kills:?} rows; {} records ({} distinct), {} duplicates; {} positions stored ({inside_tx} inside a transaction); writer done {writer_done:?}, caught up {caught_up:?}, checked {:?}",
        w.transactions,
        w.log.len(),
        s.records,
        s.distinct,
        s.duplicates,
        stored.len(),
        t0.elapsed()
    );
    let _ = cdc.terminate(Duration::from_secs(10)).await;
    w.close().await;
}
