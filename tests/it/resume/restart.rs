//! SIGTERM and start again, with changes written while running, while
//! stopped, and while the connector is busy with big transactions: every
//! change arrives, and (graceful stop) none arrives twice.

use std::time::{Duration, Instant};

use super::common::*;
use crate::support::cdc::Cdc;
use crate::support::kafka::{consume, shared_kafka, unique_prefix};
use crate::support::mariadb::shared_mariadb;
use crate::support::wait::wait_until;

/// Records the writer's changes make: one per change, plus a tombstone per delete.
fn records_for(changes: &[Change]) -> usize {
    changes.len() + changes.iter().filter(|c| c.op == 'd').count()
}

async fn stop(cdc: &Cdc) -> Duration {
    let t = Instant::now();
    let status = cdc.terminate(Duration::from_secs(10)).await;
    assert!(status.is_some_and(|s| s.success()), "exit on SIGTERM within 10s with code 0: {status:?}\n{}", cdc.log_tail(40));
    t.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_restart_resumes_without_loss_or_duplicates() {
    let (db, bootstrap) = (shared_mariadb(), shared_kafka().bootstrap());
    let database = db.fresh_database("resume_term").await;
    db.exec(&format!("USE `{database}`; {DDL}")).await;
    let prefix = unique_prefix("resume_term");
    let cfg = config(db, bootstrap, &prefix, &database, 3);
    let topic = data_topic(&cfg, &database);
    let seed = seed();
    let mut w = Writer::new(db, &database, seed).await;

    // 1. Changes while running.
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    w.insert_rows(40, 7).await;
    for _ in 0..30 {
        w.random_transaction().await;
    }
    let n = records_for(&w.log);
    let got = consume(bootstrap, &topic, n, Duration::from_secs(60)).await;
    assert!(got.len() >= n, "{} of {n} records before the first stop\n{}", got.len(), cdc.log_tail(40));
    let first_stop = stop(&cdc).await;

    // 2. Changes while stopped, then more after the restart.
    for _ in 0..30 {
        w.random_transaction().await;
    }
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    for _ in 0..30 {
        w.random_transaction().await;
    }

    // 3. Stop inside a transaction: one big transaction (thousands of rows
    //    events); once the connector reports a position stored inside it,
    //    freeze it (SIGSTOP), send SIGTERM, let it go on (SIGCONT): it stops
    //    a few events later, still inside the transaction.
    let log_from = cdc.log().len();
    w.big_transaction(12_000).await;
    let seen = wait_until("a position stored inside the big transaction", Duration::from_secs(60), || async {
        stored_inside_transaction(&cdc.log()[log_from..])
    })
    .await;
    assert!(seen, "no position stored inside the big transaction\n{}", cdc.log_tail(30));
    cdc.signal(libc::SIGSTOP);
    cdc.signal(libc::SIGTERM);
    cdc.signal(libc::SIGCONT);
    let busy_stop = stop(&cdc).await;
    let at_stop = last_stored(bootstrap, &cfg).await.flatten().expect("a stored position");
    assert!(at_stop.get("event").is_some(), "the SIGTERM did not land inside the big transaction: {at_stop}");

    // 4. Restart, more changes, stop once everything is stored.
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    for _ in 0..20 {
        w.random_transaction().await;
    }
    let target = server_gtid(db).await;
    wait_stored_covers(bootstrap, &cfg, &target, Duration::from_secs(90)).await;
    let last_stop = stop(&cdc).await;

    let (observed, tombstones) = parse(&read_all(bootstrap, &topic).await);
    let table = table_contents(db, &database).await;
    let s = check_exactly_once(&observed, &tombstones, &w.log, &table).unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "sigterm restart (seed {seed}): {} transactions, {} changes, {} records; stops took {first_stop:?}, {busy_stop:?} (inside a big transaction), {last_stop:?}; position stored then: {at_stop}",
        w.transactions,
        w.log.len(),
        s.records
    );
    w.close().await;
}
