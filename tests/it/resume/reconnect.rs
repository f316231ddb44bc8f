//! Lost binlog connections: the server drops it (`KILL` of the connector's
//! `Binlog Dump` thread) while a writer runs, or it ends in the middle of a
//! big transaction; the connector reconnects by itself, and every change
//! arrives exactly once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;

use super::common::*;
use super::crash::paced_writer;
use super::proxy::Proxy;
use crate::support::cdc::Cdc;
use crate::support::kafka::{shared_kafka, unique_prefix};
use crate::support::mariadb::{MariaDb, MariaDbOptions};
use crate::support::wait::wait_for;

const ROWS: usize = 8_000;
const RATE: f64 = 1_200.0;
const KILLS: usize = 4;

/// Ids of the server's `Binlog Dump` threads (on this private server: ours).
async fn dump_threads(db: &MariaDb) -> Vec<u64> {
    db.query("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND = 'Binlog Dump' ORDER BY ID").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_binlog_connection_reconnects_without_loss_or_duplicates() {
    let t0 = Instant::now();
    let db = MariaDb::start(MariaDbOptions::default());
    let bootstrap = shared_kafka().bootstrap();
    let database = db.fresh_database("resume_reconnect").await;
    db.exec(&format!("USE `{database}`; {DDL}")).await;
    let prefix = unique_prefix("resume_reconnect");
    let cfg = config(&db, bootstrap, &prefix, &database, 3).set("max.batch.size", "200");
    let topic = data_topic(&cfg, &database);
    let seed = seed();
    let w = Writer::new(&db, &database, seed).await;

    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    let progress = Arc::new(AtomicUsize::new(0));
    let writer = tokio::spawn(paced_writer(w, ROWS, RATE, progress.clone()));

    let mut rng = rand::rng();
    let mut killed = Vec::new();
    for k in 0..KILLS {
        let slot = ROWS / (KILLS + 1);
        let at = slot * (k + 1) - slot / 2 + rng.random_range(0..slot);
        let ok = wait_for(Duration::from_secs(60), || {
            let p = progress.load(Ordering::Relaxed);
            async move { (p >= at).then_some(()) }
        })
        .await;
        assert!(ok.is_some(), "the writer did not reach {at} rows");
        // The connector's dump thread (a reconnect registers a new one).
        let id = wait_for(Duration::from_secs(30), || async {
            dump_threads(&db).await.into_iter().find(|id| !killed.contains(id))
        })
        .await
        .unwrap_or_else(|| panic!("no Binlog Dump thread of binlog-cdc on the server\n{}", cdc.log_tail(40)));
        db.exec(&format!("KILL {id}")).await;
        killed.push(id);
    }
    // It came back after the last kill too.
    let back = wait_for(Duration::from_secs(30), || async {
        dump_threads(&db).await.into_iter().find(|id| !killed.contains(id))
    })
    .await;
    assert!(back.is_some(), "binlog-cdc did not reconnect after the last KILL\n{}", cdc.log_tail(40));
    let w = writer.await.expect("writer task");

    let target = server_gtid(&db).await;
    wait_stored_covers(bootstrap, &cfg, &target, Duration::from_secs(90)).await;
    let status = cdc.terminate(Duration::from_secs(10)).await;
    assert!(status.is_some_and(|s| s.success()), "exit on SIGTERM: {status:?}\n{}", cdc.log_tail(40));
    let reconnects = cdc.log().matches("binlog connection lost; reconnecting").count();
    assert!(reconnects >= KILLS, "{reconnects} reconnects logged for {KILLS} kills\n{}", cdc.log_tail(60));

    let (observed, tombstones) = parse(&read_all(bootstrap, &topic).await);
    let table = table_contents(&db, &database).await;
    let s = check_exactly_once(&observed, &tombstones, &w.log, &table)
        .unwrap_or_else(|e| panic!("{e}\nlog:\n{}", cdc.log_tail(80)));
    eprintln!(
        "reconnect (seed {seed}): {} transactions, {} changes, dump threads killed {killed:?}, {reconnects} reconnects, {} records; {:?}",
        w.transactions,
        w.log.len(),
        s.records,
        t0.elapsed()
    );
    w.close().await;
}

/// A connection lost in the middle of a big transaction (cut by a proxy at
/// an exact byte count, so the connector has read part of the transaction):
/// the connector reconnects at the transaction's start (the GTID position
/// before it), skips the events it already handled, and every change
/// arrives exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_lost_inside_a_transaction_resumes_without_duplicates() {
    let db = MariaDb::start(MariaDbOptions::default());
    let bootstrap = shared_kafka().bootstrap();
    let database = db.fresh_database("resume_cut").await;
    db.exec(&format!("USE `{database}`; {DDL}")).await;
    let proxy = Proxy::start(format!("{}:{}", db.host(), db.port())).await;
    let prefix = unique_prefix("resume_cut");
    let cfg = config(&db, bootstrap, &prefix, &database, 3).set("database.port", &proxy.port.to_string());
    let topic = data_topic(&cfg, &database);
    let mut w = Writer::new(&db, &database, seed()).await;

    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    w.insert_rows(200, 20).await;
    wait_stored_covers(bootstrap, &cfg, &server_gtid(&db).await, Duration::from_secs(60)).await;

    // Idle now: the next 300 kB the server sends are the start of the big
    // transaction (~3 MB, hundreds of rows events); then the connection ends.
    proxy.cut_after(300_000);
    w.big_transaction(20_000).await;
    let big = w.last_gtid().await;
    let replay = format!("start=GTID position {}", before(&big));
    let resumed = wait_for(Duration::from_secs(60), || async { plain(&cdc.log()).contains(&replay).then_some(()) }).await;
    assert!(resumed.is_some(), "no reconnect at the start of {big} ({replay}); cuts: {}\n{}", proxy.cuts(), plain(&cdc.log_tail(20)));
    assert_eq!(proxy.cuts(), 1);
    w.insert_rows(10, 5).await;

    wait_stored_covers(bootstrap, &cfg, &server_gtid(&db).await, Duration::from_secs(90)).await;
    let status = cdc.terminate(Duration::from_secs(10)).await;
    assert!(status.is_some_and(|s| s.success()), "exit on SIGTERM: {status:?}\n{}", cdc.log_tail(40));
    let (observed, tombstones) = parse(&read_all(bootstrap, &topic).await);
    let table = table_contents(&db, &database).await;
    check_exactly_once(&observed, &tombstones, &w.log, &table)
        .unwrap_or_else(|e| panic!("{e}\nlog:\n{}", plain(&cdc.log_tail(40))));
    w.close().await;
}
