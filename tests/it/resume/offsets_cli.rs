//! `binlog-cdc offsets show | set | reset` steer the next start: `show`
//! prints the stored value, `set --gtid` and `set --file/--pos` to an earlier
//! point make the next run replay the changes after it, `reset` stores a
//! tombstone and the next run starts at the server's current position.

use std::collections::HashMap;
use std::process::Output;
use std::time::Duration;

use super::common::*;
use crate::support::cdc::{run_cli, Cdc, CdcConfig};
use crate::support::kafka::{shared_kafka, unique_prefix};
use crate::support::mariadb::shared_mariadb;

fn ok(out: &Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{what} failed ({}):\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    stdout
}

async fn run_until_stored(cfg: &CdcConfig, bootstrap: &str, target: &str) {
    let cdc = Cdc::start(cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    wait_stored_covers(bootstrap, cfg, target, Duration::from_secs(60)).await;
    let status = cdc.terminate(Duration::from_secs(10)).await;
    assert!(status.is_some_and(|s| s.success()), "exit on SIGTERM: {status:?}\n{}", cdc.log_tail(40));
}

/// How often each change is in the topic; a repeated change must repeat
/// its source coordinates (it is a replay of the same binlog row).
async fn counts(bootstrap: &str, topic: &str) -> HashMap<Change, usize> {
    let (observed, _) = parse(&read_all(bootstrap, topic).await);
    let mut coords: HashMap<Change, &(String, u64, u64, String)> = HashMap::new();
    let mut n: HashMap<Change, usize> = HashMap::new();
    for o in &observed {
        let first = coords.entry(o.change).or_insert(&o.coord);
        assert_eq!(*first, &o.coord, "{:?} replayed with other source coordinates", o.change);
        *n.entry(o.change).or_default() += 1;
    }
    n
}

fn assert_counts(n: &HashMap<Change, usize>, changes: &[Change], want: usize, what: &str) {
    let wrong: Vec<_> = changes.iter().filter(|c| n.get(c).copied().unwrap_or(0) != want).map(|c| (c, n.get(c))).collect();
    assert!(wrong.is_empty(), "{what}: expected each change {want} time(s); wrong for {} of {}, e.g. {:?}", wrong.len(), changes.len(), &wrong[..wrong.len().min(5)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_show_set_and_reset_steer_the_next_start() {
    let (db, bootstrap) = (shared_mariadb(), shared_kafka().bootstrap());
    let database = db.fresh_database("offsets_cli").await;
    db.exec(&format!("USE `{database}`; {DDL}")).await;
    let prefix = unique_prefix("offsets_cli");
    let cfg = config(db, bootstrap, &prefix, &database, 2);
    let topic = data_topic(&cfg, &database);
    let mut w = Writer::new(db, &database, seed()).await;

    // A, then the point to come back to, then B.
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    w.insert_rows(12, 4).await;
    let gtid_after_a = w.last_gtid().await;
    let (file_after_a, pos_after_a) = master_status(db).await;
    let a = w.log.len();
    w.insert_rows(10, 3).await;
    for _ in 0..10 {
        w.random_transaction().await;
    }
    let b = w.log.len();
    let target = server_gtid(db).await;
    wait_stored_covers(bootstrap, &cfg, &target, Duration::from_secs(60)).await;
    let status = cdc.terminate(Duration::from_secs(10)).await;
    assert!(status.is_some_and(|s| s.success()), "exit on SIGTERM: {status:?}\n{}", cdc.log_tail(40));
    let n = counts(bootstrap, &topic).await;
    assert_counts(&n, &w.log[..b], 1, "first run");

    // show: the stored value, as stored.
    let stored = stored_records(bootstrap, &cfg).await;
    let raw = stored.last().and_then(|r| r.value_str()).expect("a stored position").to_string();
    let shown = ok(&run_cli(&cfg, &["offsets", "show"]), "offsets show");
    assert_eq!(shown.trim(), raw, "offsets show prints the stored value");

    // set --gtid: back to just after A; the next run replays B.
    let set = ok(&run_cli(&cfg, &["offsets", "set", "--gtid", &gtid_after_a]), "offsets set --gtid");
    let stored = last_stored(bootstrap, &cfg).await.flatten().expect("a stored position after set");
    assert_eq!(stored["gtids"], gtid_after_a.as_str(), "stored after set: {stored}");
    assert!(stored.get("event").is_none() && stored.get("row").is_none(), "{stored}");
    let raw = stored_records(bootstrap, &cfg).await.pop().and_then(|r| r.value_str().map(str::to_string));
    assert_eq!(Some(set.trim().to_string()), raw, "offsets set prints what it stored");
    let shown = ok(&run_cli(&cfg, &["offsets", "show"]), "offsets show");
    assert_eq!(serde_json::from_str::<serde_json::Value>(shown.trim()).ok(), Some(stored.clone()), "show after set");
    run_until_stored(&cfg, bootstrap, &target).await;
    let n = counts(bootstrap, &topic).await;
    assert_counts(&n, &w.log[..a], 1, "after set --gtid, A");
    assert_counts(&n, &w.log[a..b], 2, "after set --gtid, B (replayed)");

    // set --file --pos: the same point by coordinates.
    ok(&run_cli(&cfg, &["offsets", "set", "--file", &file_after_a, "--pos", &pos_after_a.to_string()]), "offsets set --file --pos");
    let stored = last_stored(bootstrap, &cfg).await.flatten().expect("a stored position after set");
    assert_eq!((stored["file"].as_str(), stored["pos"].as_u64()), (Some(file_after_a.as_str()), Some(pos_after_a)), "{stored}");
    run_until_stored(&cfg, bootstrap, &target).await;
    let n = counts(bootstrap, &topic).await;
    assert_counts(&n, &w.log[..a], 1, "after set --file/--pos, A");
    assert_counts(&n, &w.log[a..b], 3, "after set --file/--pos, B (replayed again)");

    // reset: a tombstone; the next start begins at the current position, so
    // C (written while stopped) is never read, D (after the start) is.
    let out = ok(&run_cli(&cfg, &["offsets", "reset"]), "offsets reset");
    let last = stored_records(bootstrap, &cfg).await.pop().expect("records");
    assert!(last.value.is_none(), "reset writes a tombstone (null value), got {:?} ({out})", last.value_str());
    let shown = ok(&run_cli(&cfg, &["offsets", "show"]), "offsets show");
    assert_eq!(shown.trim(), "null", "show after reset");
    w.insert_rows(6, 2).await;
    let c = w.log.len();
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    w.insert_rows(6, 2).await;
    let target = server_gtid(db).await;
    wait_stored_covers(bootstrap, &cfg, &target, Duration::from_secs(60)).await;
    let status = cdc.terminate(Duration::from_secs(10)).await;
    assert!(status.is_some_and(|s| s.success()), "exit on SIGTERM: {status:?}\n{}", cdc.log_tail(40));
    let n = counts(bootstrap, &topic).await;
    assert_counts(&n, &w.log[b..c], 0, "C, written before the start after reset");
    assert_counts(&n, &w.log[c..], 1, "D, written after the start after reset");
    assert_counts(&n, &w.log[a..b], 3, "B, untouched by reset");
    w.close().await;
}
