//! Initial snapshots (spec §10) against a real MariaDB and Kafka: every key
//! shape read completely in chunks and in parallel, Debezium's markers and
//! offsets, the hand-over to streaming with concurrent writers (no gap, no
//! duplicate), resume after `kill -9`, the snapshot modes, and
//! `when_needed` after the stored position was purged.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use serde_json::Value;

use crate::support::cdc::{run_cli, Cdc, CdcConfig};
use crate::support::kafka::{consume, consume_all, shared_kafka, unique_prefix, Record};
use crate::support::mariadb::{shared_mariadb, MariaDb, MariaDbOptions};
use crate::support::records::{key_text, marker, op, payload};
use crate::support::wait::{must_wait_until, wait_for};

const LONG: Duration = Duration::from_secs(120);

/// The connector's log without the per-commit debug lines, last `n` lines.
fn excerpt(cdc: &Cdc, n: usize) -> String {
    cdc.log_excerpt(n)
}

/// Waits until the connector streams (the snapshot, if any, is over).
async fn wait_streaming(cdc: &Cdc) {
    let ok = wait_for(LONG, || async {
        (cdc.log().contains("streaming binlog") || cdc.exited().is_some()).then_some(())
    })
    .await;
    assert!(ok.is_some() && cdc.exited().is_none(), "binlog-cdc did not start streaming:\n{}", excerpt(cdc, 60));
}

/// A connector snapshotting `database` (snapshot.mode=initial), small
/// chunks and three readers so that every table spans many chunks/ranges.
fn config(db: &MariaDb, prefix: &str, database: &str) -> CdcConfig {
    CdcConfig::mariadb(db, shared_kafka().bootstrap(), prefix, database)
        .set("snapshot.mode", "initial")
        .set("snapshot.fetch.size", "97")
        .set("snapshot.max.threads", "3")
        .set("max.batch.size", "50")
        .set("max.queue.size", "200")
}

/// Reads the stored offset value (`offsets show`).
fn stored_offset(cfg: &CdcConfig) -> Value {
    let out = run_cli(cfg, &["offsets", "show"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("offset json")
}

/// Folds a table topic per key: the last `after` of each key, removed by a
/// delete (or tombstone). Also checks the change chain: every `u`/`d`
/// record's `before` is the state the topic held for that key, and a `c`
/// or `r` never lands on a live key — so no change was missed or applied twice.
fn fold(records: &[Record]) -> BTreeMap<String, Value> {
    let mut state: BTreeMap<String, Value> = BTreeMap::new();
    for r in records {
        let k = key_text(r);
        let Some(p) = payload(r) else {
            state.remove(&k);
            continue;
        };
        match p["op"].as_str() {
            Some("r") | Some("c") => {
                let prev = state.insert(k.clone(), p["after"].clone());
                assert!(prev.is_none(), "{} for a key already present: {k}: {prev:?} then {}", p["op"], p["after"]);
            }
            Some("u") => {
                let prev = state.insert(k.clone(), p["after"].clone());
                assert_eq!(prev.as_ref(), Some(&p["before"]), "update of {k} does not follow the topic's state");
            }
            Some("d") => {
                let prev = state.remove(&k);
                assert_eq!(prev.as_ref(), Some(&p["before"]), "delete of {k} does not follow the topic's state");
            }
            other => panic!("unexpected op {other:?}"),
        }
    }
    state
}

async fn row_count(db: &MariaDb, table: &str) -> usize {
    let n: Vec<u64> = db.query(&format!("SELECT COUNT(*) FROM {table}")).await;
    n[0] as usize
}

#[tokio::test]
async fn every_key_shape_is_read_completely_then_streaming_takes_over() {
    let db = shared_mariadb();
    let bootstrap = shared_kafka().bootstrap();
    let database = db.fresh_database("snap_keys").await;
    let n = 1000;
    db.exec(&format!(
        "USE `{database}`;
         CREATE TABLE k_int (id INT PRIMARY KEY, v VARCHAR(20));
         CREATE TABLE k_ubig (id BIGINT UNSIGNED PRIMARY KEY, v VARCHAR(20));
         CREATE TABLE k_comp (a INT NOT NULL, b VARCHAR(10) NOT NULL, v INT, PRIMARY KEY (a, b));
         CREATE TABLE k_str (id VARCHAR(40) CHARACTER SET latin1 COLLATE latin1_swedish_ci PRIMARY KEY, v INT);
         CREATE TABLE k_none (a INT, v VARCHAR(20));
         CREATE TABLE k_empty (id INT PRIMARY KEY);
         CREATE TABLE k_uniq (u INT NOT NULL, v INT, UNIQUE KEY (u));"
    ))
    .await;
    // Values chosen to stress the key order: negative ints, the top of the
    // unsigned range, case-insensitive strings with non-ASCII letters.
    let mut sql = format!("USE `{database}`;");
    for i in 0..n {
        sql += &format!(
            "INSERT INTO k_int VALUES ({}, 'v{i}');
             INSERT INTO k_ubig VALUES ({}, 'v{i}');
             INSERT INTO k_comp VALUES ({}, 'b{}', {i});
             INSERT INTO k_str VALUES ('{}', {i});
             INSERT INTO k_none VALUES ({}, 'v{i}');
             INSERT INTO k_uniq VALUES ({}, {i});",
            i as i64 * 7 - 3000,
            u64::MAX - (i as u64) * 1_000_000_007,
            i / 10,
            i % 10,
            format!("{}{}", ["Å", "a", "B", "z", "é"][i % 5], i),
            i % 13,
            i * 3,
        );
    }
    db.exec(&sql).await;

    let prefix = unique_prefix("snap_keys");
    let cfg = config(db, &prefix, &database);
    let cdc = Cdc::start(&cfg);
    wait_streaming(&cdc).await;
    let tables = ["k_comp", "k_empty", "k_int", "k_none", "k_str", "k_ubig", "k_uniq"];
    let mut all = Vec::new();
    for t in tables {
        let want = if t == "k_empty" { 0 } else { n };
        let topic = format!("{prefix}.{database}.{t}");
        let got = if want == 0 { Vec::new() } else { consume(bootstrap, &topic, want, LONG).await };
        assert_eq!(got.len(), want, "{t}: {}", excerpt(&cdc, 40));
        assert!(got.iter().all(|r| op(r) == "r"), "{t}: only reads");
        if t != "k_none" && want > 0 {
            let keys: BTreeSet<String> = got.iter().map(key_text).collect();
            assert_eq!(keys.len(), n, "{t}: every key once");
        }
        // Every row, with its content.
        let mut from_topic: Vec<String> = got.iter().map(|r| payload(r).unwrap()["after"].to_string()).collect();
        from_topic.sort();
        assert_eq!(from_topic.len(), want);
        if want > 0 {
            let ms = &got.iter().map(marker).collect::<Vec<_>>();
            let count = |m: &str| ms.iter().filter(|x| *x == m).count();
            assert_eq!(count("first_in_data_collection") + count("first"), 1, "{t}: {ms:?}");
            assert_eq!(count("last_in_data_collection") + count("last"), 1, "{t}");
            assert_eq!(count("true"), n - 2, "{t}");
            let s = payload(&got[0]).unwrap()["source"].clone();
            assert_eq!(s["server_id"], 0);
            assert_eq!(s["row"], 0);
            assert!(s["gtid"].is_null(), "{s}");
            assert_eq!(s["table"], t);
            assert!(s["file"].as_str().unwrap().starts_with("mysql-bin."), "{s}");
        }
        all.extend(got.into_iter().map(|r| (t, r)));
    }
    // The snapshot's first record overall is in the first table, its last in the last.
    assert_eq!(all.iter().filter(|(_, r)| marker(r) == "first").count(), 1);
    assert_eq!(all.iter().find(|(_, r)| marker(r) == "first").map(|(t, _)| *t), Some("k_comp"));
    assert_eq!(all.iter().find(|(_, r)| marker(r) == "last").map(|(t, _)| *t), Some("k_uniq"));
    // Exact content of one table against the database.
    let rows: Vec<(i64, String)> = db.query(&format!("SELECT id, v FROM `{database}`.k_int")).await;
    let want: BTreeSet<String> = rows.iter().map(|(id, v)| serde_json::json!({"id": id, "v": v}).to_string()).collect();
    let got: BTreeSet<String> = all
        .iter()
        .filter(|(t, _)| *t == "k_int")
        .map(|(_, r)| payload(r).unwrap()["after"].to_string())
        .collect();
    assert_eq!(got, want);
    let rows: Vec<String> = db.query(&format!("SELECT id FROM `{database}`.k_str")).await;
    let got: BTreeSet<String> = all
        .iter()
        .filter(|(t, _)| *t == "k_str")
        .map(|(_, r)| payload(r).unwrap()["after"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, rows.into_iter().collect::<BTreeSet<_>>(), "latin1 keys read in their charset");

    // Streaming takes over: a change after the snapshot is a `c` record, and
    // the stored offset no longer says snapshot.
    db.exec(&format!("INSERT INTO `{database}`.k_int VALUES (999999, 'after')")).await;
    let got = consume(bootstrap, &format!("{prefix}.{database}.k_int"), n + 1, LONG).await;
    assert_eq!(got.len(), n + 1);
    assert_eq!(op(&got[n]), "c");
    must_wait_until("the completed snapshot's offset is stored", LONG, || async {
        let v = stored_offset(&cfg);
        v.get("snapshot").is_none() && v.get("binlog_cdc_snapshot").is_none() && v["pos"].as_u64().unwrap_or(0) > 0
    })
    .await;
    let status = cdc.terminate(Duration::from_secs(30)).await;
    assert!(status.is_some_and(|s| s.success()), "{}", excerpt(&cdc, 40));
    assert!(cdc.log().contains("snapshot completed"), "{}", excerpt(&cdc, 40));
}

/// Writers update, delete and insert random rows while the snapshot reads;
/// the topic, folded per key, equals the table at the end, and every
/// change follows the topic's previous state (nothing missed or doubled).
#[tokio::test]
async fn concurrent_writes_during_the_snapshot_reconcile() {
    let db = shared_mariadb();
    let bootstrap = shared_kafka().bootstrap();
    let database = db.fresh_database("snap_conc").await;
    db.exec(&format!(
        "USE `{database}`; CREATE TABLE t (id INT PRIMARY KEY, n INT NOT NULL, pad VARCHAR(200));
         CREATE TABLE c (a INT NOT NULL, b INT NOT NULL, n INT, PRIMARY KEY (a, b));"
    ))
    .await;
    let rows = 20_000;
    for start in (0..rows).step_by(2000) {
        let values: Vec<String> = (start..start + 2000).map(|i| format!("({i}, 0, REPEAT('x', 150))")).collect();
        let cvals: Vec<String> = (start..start + 2000).map(|i| format!("({}, {}, 0)", i / 50, i % 50)).collect();
        db.exec(&format!(
            "USE `{database}`; INSERT INTO t VALUES {}; INSERT INTO c VALUES {}",
            values.join(","),
            cvals.join(",")
        ))
        .await;
    }
    let prefix = unique_prefix("snap_conc");
    let cfg = config(db, &prefix, &database).set("snapshot.fetch.size", "500");
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (url, stop, database) = (db.url(&database), stop.clone(), database.clone());
        tokio::spawn(async move {
            let mut conn = mysql_async::Conn::from_url(&url).await.expect("writer connect");
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let id = rand::random::<u32>() % (rows as u32 + 2000);
                let sql = match i % 4 {
                    0 => format!("DELETE FROM t WHERE id = {id}"),
                    1 => format!("INSERT INTO t VALUES ({id}, 1, 'new') ON DUPLICATE KEY UPDATE n = n + 1"),
                    2 => format!("UPDATE c SET n = n + 1 WHERE a = {} AND b = {}", id / 50 % 400, id % 50),
                    _ => format!(
                        "START TRANSACTION; UPDATE t SET n = n + 1 WHERE id = {id}; UPDATE t SET n = n + 10 WHERE id = {}; COMMIT",
                        (id + 7) % rows as u32
                    ),
                };
                conn.query_drop(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                let _ = database.len();
            }
            i
        })
    };
    // Let the writers run before, during and after the consistent point.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cdc = Cdc::start(&cfg);
    wait_streaming(&cdc).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let writes = writer.await.expect("writer");
    assert!(writes > 50, "the writer ran ({writes} statements)");
    // A marker row written last: once it is in the topic, everything before is too.
    db.exec(&format!("INSERT INTO `{database}`.t VALUES (-1, -1, 'end'); INSERT INTO `{database}`.c VALUES (-1, -1, -1)")).await;
    for (table, key_of) in [("t", "id"), ("c", "a")] {
        let topic = format!("{prefix}.{database}.{table}");
        let end = |recs: &[Record]| {
            recs.iter().any(|r| payload(r).is_some_and(|p| p["after"][key_of] == -1))
        };
        let got = wait_for(LONG, || {
            let topic = topic.clone();
            async move {
                let got = consume_all(bootstrap, &topic, Duration::from_secs(30), &Default::default()).await;
                end(&got).then_some(got)
            }
        })
        .await;
        let Some(got) = got else { panic!("{table}: end marker not seen:\n{}", excerpt(&cdc, 40)) };
        let folded = fold(&got);
        let sql = match table {
            "t" => format!("SELECT JSON_OBJECT('id', id, 'n', n, 'pad', pad) FROM `{database}`.t"),
            _ => format!("SELECT JSON_OBJECT('a', a, 'b', b, 'n', n) FROM `{database}`.c"),
        };
        let want: Vec<String> = db.query(&sql).await;
        let want: BTreeSet<String> =
            want.iter().map(|s| serde_json::from_str::<Value>(s).unwrap().to_string()).collect();
        let got_rows: BTreeSet<String> = folded.values().map(|v| v.to_string()).collect();
        assert_eq!(got_rows.len(), want.len(), "{table}: row count");
        assert_eq!(got_rows, want, "{table}: topic folded per key equals the table");
        assert_eq!(row_count(db, &format!("`{database}`.{table}")).await, folded.len());
    }
    cdc.terminate(Duration::from_secs(30)).await;
}

/// `kill -9` in the middle of a snapshot, with a writer updating rows all
/// along: the restart resumes after the last delivered key, so rows up to it
/// are not read again, the rest arrives, and the topic (last record per key)
/// ends equal to the table — the README's rule for a resumed snapshot.
#[tokio::test]
async fn kill_mid_snapshot_resumes_after_the_last_delivered_chunk() {
    let db = shared_mariadb();
    let bootstrap = shared_kafka().bootstrap();
    let database = db.fresh_database("snap_crash").await;
    db.exec(&format!("USE `{database}`; CREATE TABLE a (id INT PRIMARY KEY, pad VARCHAR(100)); CREATE TABLE b (id BIGINT PRIMARY KEY, pad VARCHAR(100))")).await;
    let rows = 40_000;
    for start in (0..rows).step_by(4000) {
        let values: Vec<String> = (start..start + 4000).map(|i| format!("({i}, REPEAT('p', 80))")).collect();
        db.exec(&format!("USE `{database}`; INSERT INTO a VALUES {0}; INSERT INTO b VALUES {0}", values.join(","))).await;
    }
    let prefix = unique_prefix("snap_crash");
    let cfg = config(db, &prefix, &database)
        .set("snapshot.fetch.size", "200")
        .set("snapshot.max.threads", "1")
        .set("max.batch.size", "100");
    let topic_b = format!("{prefix}.{database}.b");
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (url, stop) = (db.url(&database), stop.clone());
        tokio::spawn(async move {
            let mut conn = mysql_async::Conn::from_url(&url).await.expect("writer connect");
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let id = rand::random::<u32>() % rows as u32;
                conn.query_drop(format!("UPDATE b SET pad = 'u{n}' WHERE id = {id}")).await.expect("update");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            n
        })
    };
    let cdc = Cdc::start(&cfg);
    // Wait until table `b` is partly delivered and its progress stored.
    let stored = wait_for(LONG, || async {
        let v = stored_offset(&cfg);
        let partial = v["snapshot"] == "INITIAL"
            && v["binlog_cdc_snapshot"].as_str().is_some_and(|s| s.contains("\"b\"]") && s.contains("after"));
        partial.then_some(v)
    })
    .await
    .unwrap_or_else(|| panic!("no partial snapshot of b stored:\n{}", excerpt(&cdc, 40)));
    cdc.kill9();
    let state: Value = serde_json::from_str(stored["binlog_cdc_snapshot"].as_str().unwrap()).unwrap();
    assert_eq!(state["done"], serde_json::json!([[database, "a"]]), "{state}");
    // Read the latest stored state (it may have moved on before the kill).
    let latest = stored_offset(&cfg);
    let latest_state: Value = serde_json::from_str(latest["binlog_cdc_snapshot"].as_str().unwrap_or("{}")).unwrap();
    let resumed_after = latest_state["current"]["after"][0]["i"].as_i64().expect("resume key");
    assert!(resumed_after > 0 && resumed_after < rows as i64 - 1, "{latest_state}");
    let before_restart = consume_all(bootstrap, &topic_b, Duration::from_secs(30), &Default::default()).await.len();

    let cdc = Cdc::start(&cfg);
    wait_streaming(&cdc).await;
    assert!(cdc.log().contains("resuming the interrupted snapshot"), "{}", excerpt(&cdc, 40));
    stop.store(true, Ordering::Relaxed);
    assert!(writer.await.expect("writer") > 10, "the writer ran");
    db.exec(&format!("INSERT INTO `{database}`.b VALUES (-1, 'end')")).await;
    let per_key_of = |got: &[Record]| {
        let mut per_key: BTreeMap<i64, usize> = BTreeMap::new();
        for r in got.iter().filter(|r| op(r) == "r") {
            let k: Value = serde_json::from_str(&key_text(r)).unwrap();
            *per_key.entry(k["id"].as_i64().unwrap()).or_default() += 1;
        }
        per_key
    };
    let got = wait_for(LONG, || async {
        let got = consume_all(bootstrap, &topic_b, Duration::from_secs(30), &Default::default()).await;
        let end = got.iter().any(|r| payload(r).is_some_and(|p| p["after"]["id"] == -1));
        (end && per_key_of(&got).len() == rows).then_some(got)
    })
    .await
    .unwrap_or_else(|| panic!("not every row of b arrived:\n{}", excerpt(&cdc, 40)));
    let per_key = per_key_of(&got);
    // Nothing up to the stored key was read again; the re-read is limited to
    // what was delivered but not yet stored when the process died.
    for (k, n) in &per_key {
        if *k <= resumed_after {
            assert_eq!(*n, 1, "key {k} (≤ stored {resumed_after}) was read again");
        }
    }
    let reads = got.iter().filter(|r| op(r) == "r").count();
    assert!(reads - rows <= before_restart, "re-read {} rows", reads - rows);
    // The rule for a resumed snapshot: the last record of each key is the row.
    let mut last: BTreeMap<String, Value> = BTreeMap::new();
    for r in &got {
        match payload(r) {
            Some(p) if !p["after"].is_null() => {
                last.insert(key_text(r), p["after"].clone());
            }
            _ => {
                last.remove(&key_text(r));
            }
        }
    }
    let table: Vec<(i64, String)> = db.query(&format!("SELECT id, pad FROM `{database}`.b")).await;
    let want: BTreeMap<String, Value> = table
        .into_iter()
        .map(|(id, pad)| (serde_json::json!({"id": id}).to_string(), serde_json::json!({"id": id, "pad": pad})))
        .collect();
    assert_eq!(last.len(), want.len());
    assert!(last == want, "the topic, last record per key, equals the table");
    // Table a, complete before the crash, was not read again.
    let a = consume_all(bootstrap, &format!("{prefix}.{database}.a"), Duration::from_secs(30), &Default::default()).await;
    assert_eq!(a.len(), rows, "table a read once");
    let lasts: Vec<String> = got.iter().map(marker).filter(|m| m == "last").collect();
    assert_eq!(lasts.len(), 1, "the resumed run ends with `last`");
    cdc.terminate(Duration::from_secs(30)).await;
}

/// `initial_only` stops after the snapshot; `always` snapshots at every
/// start; `no_data` reads no rows; `initial` does not snapshot again.
#[tokio::test]
async fn snapshot_modes() {
    let db = shared_mariadb();
    let bootstrap = shared_kafka().bootstrap();
    let database = db.fresh_database("snap_modes").await;
    db.exec(&format!("USE `{database}`; CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3)")).await;
    let prefix = unique_prefix("snap_modes");
    let topic = format!("{prefix}.{database}.t");
    let count = |recs: &[Record], o: &str| recs.iter().filter(|r| op(r) == o).count();

    // initial_only: reads the rows and exits by itself, successfully.
    let cfg = config(db, &prefix, &database).set("snapshot.mode", "initial_only");
    let cdc = Cdc::start(&cfg);
    let status = wait_for(LONG, || async { cdc.exited() }).await;
    assert!(status.is_some_and(|s| s.success()), "initial_only exits 0: {status:?}\n{}", excerpt(&cdc, 40));
    assert!(!cdc.log().contains("streaming binlog"), "initial_only does not stream");
    let got = consume(bootstrap, &topic, 3, LONG).await;
    assert_eq!(count(&got, "r"), 3);
    let markers: Vec<String> = got.iter().map(marker).collect();
    assert_eq!(markers, ["first", "true", "last"]);
    assert!(stored_offset(&cfg).get("snapshot").is_none(), "completed");
    // initial_only again: nothing more to do.
    let cdc = Cdc::start(&cfg);
    let status = wait_for(LONG, || async { cdc.exited() }).await;
    assert!(status.is_some_and(|s| s.success()));
    assert!(cdc.log().contains("initial_only has nothing more to do"), "{}", excerpt(&cdc, 20));

    // initial with a completed snapshot streams, no second snapshot.
    let cfg_initial = config(db, &prefix, &database);
    let cdc = Cdc::start(&cfg_initial);
    wait_streaming(&cdc).await;
    db.exec(&format!("INSERT INTO `{database}`.t VALUES (4)")).await;
    let got = consume(bootstrap, &topic, 4, LONG).await;
    assert_eq!((count(&got, "r"), count(&got, "c")), (3, 1), "{}", excerpt(&cdc, 20));
    cdc.terminate(Duration::from_secs(30)).await;

    // always: a second snapshot at the next start.
    let cfg_always = config(db, &prefix, &database).set("snapshot.mode", "always");
    let cdc = Cdc::start(&cfg_always);
    wait_streaming(&cdc).await;
    let got = consume(bootstrap, &topic, 8, LONG).await;
    assert_eq!((count(&got, "r"), count(&got, "c")), (7, 1), "{}", excerpt(&cdc, 20));
    cdc.terminate(Duration::from_secs(30)).await;

    // no_data on a new connector: no rows, streams from now.
    let prefix2 = unique_prefix("snap_nodata");
    let cfg = config(db, &prefix2, &database).set("snapshot.mode", "no_data");
    let cdc = Cdc::start(&cfg);
    wait_streaming(&cdc).await;
    db.exec(&format!("INSERT INTO `{database}`.t VALUES (5)")).await;
    let got = consume(bootstrap, &format!("{prefix2}.{database}.t"), 1, LONG).await;
    assert_eq!(got.iter().map(op).collect::<Vec<_>>(), ["c"]);
    cdc.terminate(Duration::from_secs(30)).await;
}

/// `when_needed`: the stored position's binlog was purged (error 1236 when
/// streaming would start), so the connector snapshots again instead of failing.
#[tokio::test]
async fn when_needed_snapshots_again_after_the_binlog_was_purged() {
    // A server of its own: PURGE BINARY LOGS would break other tests.
    let db = MariaDb::start(MariaDbOptions::default());
    let bootstrap = shared_kafka().bootstrap();
    let database = db.fresh_database("snap_purge").await;
    db.exec(&format!("USE `{database}`; CREATE TABLE t (id INT PRIMARY KEY, v INT); INSERT INTO t VALUES (1, 1), (2, 2)")).await;
    let prefix = unique_prefix("snap_purge");
    let cfg = config(&db, &prefix, &database).set("snapshot.mode", "when_needed");
    let topic = format!("{prefix}.{database}.t");
    let cdc = Cdc::start(&cfg);
    wait_streaming(&cdc).await;
    assert_eq!(consume(bootstrap, &topic, 2, LONG).await.len(), 2);
    let status = cdc.terminate(Duration::from_secs(30)).await;
    assert!(status.is_some_and(|s| s.success()));

    // While stopped: changes, then the binlog holding them is purged.
    db.exec(&format!("UPDATE `{database}`.t SET v = 20 WHERE id = 2; INSERT INTO `{database}`.t VALUES (3, 3)")).await;
    db.exec("FLUSH BINARY LOGS").await;
    // MariaDB keeps a file until its binlog checkpoint has passed it:
    // purge until the older files are really gone.
    must_wait_until("the old binlog files are purged", LONG, || async {
        let logs: Vec<(String, u64)> = db.query("SHOW BINARY LOGS").await;
        let newest = logs.last().unwrap().0.clone();
        db.exec(&format!("PURGE BINARY LOGS TO '{newest}'")).await;
        let logs: Vec<(String, u64)> = db.query("SHOW BINARY LOGS").await;
        logs.len() == 1
    })
    .await;

    // `initial` cannot continue: a definite error naming the purge.
    let cdc = Cdc::start(&config(&db, &prefix, &database));
    let status = wait_for(LONG, || async { cdc.exited() }).await;
    assert!(status.is_some_and(|s| !s.success()), "{}", excerpt(&cdc, 20));
    assert!(cdc.log().contains("1236"), "{}", excerpt(&cdc, 20));

    let cdc = Cdc::start(&cfg);
    wait_streaming(&cdc).await;
    assert!(cdc.log().contains("taking a new snapshot"), "{}", excerpt(&cdc, 40));
    let got = consume(bootstrap, &topic, 5, LONG).await;
    let reads: Vec<Value> = got[2..].iter().map(|r| payload(r).unwrap()["after"].clone()).collect();
    assert_eq!(
        reads,
        [serde_json::json!({"id":1,"v":1}), serde_json::json!({"id":2,"v":20}), serde_json::json!({"id":3,"v":3})],
        "the new snapshot has the state after the purged changes"
    );
    db.exec(&format!("DELETE FROM `{database}`.t WHERE id = 1")).await;
    let got = consume(bootstrap, &topic, 7, LONG).await;
    assert_eq!(op(&got[5]), "d", "streaming continues after the new snapshot");
    cdc.terminate(Duration::from_secs(30)).await;
}

/// A user without RELOAD (as on managed clouds): the snapshot locks the
/// captured tables with LOCK TABLES instead of the global read lock.
#[tokio::test]
async fn without_reload_the_captured_tables_are_locked_instead() {
    let db = shared_mariadb();
    let bootstrap = shared_kafka().bootstrap();
    let database = db.fresh_database("snap_norel").await;
    db.exec(&format!("USE `{database}`; CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1), (2)")).await;
    let user = format!("norel_{}", rand::random::<u16>());
    db.exec(&format!(
        "CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'; \
         GRANT SELECT, LOCK TABLES, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '{user}'@'%'"
    ))
    .await;
    let prefix = unique_prefix("snap_norel");
    let cfg = config(db, &prefix, &database).set("database.user", &user).set("database.password", "pw");
    let cdc = Cdc::start(&cfg);
    wait_streaming(&cdc).await;
    let got = consume(bootstrap, &format!("{prefix}.{database}.t"), 2, LONG).await;
    assert_eq!(got.len(), 2, "{}", excerpt(&cdc, 30));
    assert!(cdc.log().contains("locking the captured tables instead"), "{}", excerpt(&cdc, 30));
    cdc.terminate(Duration::from_secs(30)).await;
}
