//! Ad-hoc snapshots triggered through the signal table (spec §10) against a
//! real MariaDB and Kafka: incremental snapshots (DBLog watermarks, chunks in
//! key order, `op:"r"` with `source.snapshot:"incremental"` while streaming
//! goes on) under concurrent writes, with additional conditions, paused,
//! resumed, stopped, and resumed after a restart; and a blocking snapshot.
//!
//! Every connector here starts with `snapshot.mode: no_data`, so rows reach
//! the topics only through the signalled snapshot or as changes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use serde_json::{json, Value};

use crate::support::cdc::{Cdc, CdcConfig};
use crate::support::kafka::{consume, consume_all, shared_kafka, unique_prefix, Record};
use crate::support::mariadb::{shared_mariadb, MariaDb};
use crate::support::records::{key_text, marker, op, payload};
use crate::support::wait::wait_for;

const LONG: Duration = Duration::from_secs(120);
/// Deadline of one full read of a topic.
const READ: Duration = Duration::from_secs(30);
const SIGNAL_TABLE: &str = "debezium_signal";

// ---------------------------------------------------------------------------
// Set-up helpers

/// Creates the signal table of spec §10 in `database`.
async fn create_signal_table(db: &MariaDb, database: &str) {
    db.exec(&format!(
        "CREATE TABLE `{database}`.{SIGNAL_TABLE} \
         (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)"
    ))
    .await;
}

/// A streaming-only connector on `database` (`snapshot.mode: no_data`: no
/// rows are read at start) that takes signals from `<database>.debezium_signal`
/// and reads incremental snapshots in chunks of `chunk` rows.
fn config(db: &MariaDb, prefix: &str, database: &str, chunk: usize) -> CdcConfig {
    CdcConfig::mariadb(db, shared_kafka().bootstrap(), prefix, database)
        .set("snapshot.mode", "no_data")
        .set("signal.data.collection", &format!("{database}.{SIGNAL_TABLE}"))
        .set("incremental.snapshot.chunk.size", &chunk.to_string())
        .set("max.batch.size", "100")
        .set("max.queue.size", "400")
}

/// Inserts a signal row; `data: None` writes SQL NULL.
async fn signal(db: &MariaDb, database: &str, id: &str, kind: &str, data: Option<&str>) {
    let data = data.map(|d| format!("'{}'", d.replace('\'', "''"))).unwrap_or_else(|| "NULL".into());
    db.exec(&format!("INSERT INTO `{database}`.{SIGNAL_TABLE} (id, type, data) VALUES ('{id}', '{kind}', {data})")).await;
}

/// Waits until the snapshot closed `n` chunk windows (`insert_insert`
/// watermark rows in the signal table): some chunks were read. Polling the
/// database reacts much faster than reading Kafka back, so the caller's
/// next signal (pause, SIGTERM) lands early in the snapshot.
async fn wait_closed_windows(db: &MariaDb, database: &str, n: u64, cdc: &Cdc) {
    let ok = wait_for(LONG, || async move { (closed_windows(db, database).await >= n).then_some(()) }).await;
    assert!(ok.is_some(), "the incremental snapshot closed fewer than {n} windows:\n{}", cdc.log_excerpt(60));
}

/// Number of `snapshot-window-close` rows in the signal table.
async fn closed_windows(db: &MariaDb, database: &str) -> u64 {
    let sql = format!("SELECT COUNT(*) FROM `{database}`.{SIGNAL_TABLE} WHERE type = 'snapshot-window-close'");
    db.query::<u64>(&sql).await[0]
}

/// Inserts `rows` (SQL value tuples) into `database.table`, 2000 at a time.
async fn fill(db: &MariaDb, database: &str, table: &str, rows: impl IntoIterator<Item = String>) {
    let rows: Vec<String> = rows.into_iter().collect();
    for batch in rows.chunks(2000) {
        db.exec(&format!("INSERT INTO `{database}`.{table} VALUES {}", batch.join(","))).await;
    }
}

/// The rows of `database.table` (columns `id`, `v`, `n`) as the JSON objects
/// the topic's `after` holds, by id. `filter` is an optional WHERE clause.
async fn table_rows(db: &MariaDb, database: &str, table: &str, filter: Option<&str>) -> BTreeMap<i64, Value> {
    let filter = filter.map(|f| format!(" WHERE {f}")).unwrap_or_default();
    let rows: Vec<(i64, String)> =
        db.query(&format!("SELECT id, JSON_OBJECT('id', id, 'v', v, 'n', n) FROM `{database}`.{table}{filter}")).await;
    rows.into_iter().map(|(id, j)| (id, serde_json::from_str(&j).expect("JSON_OBJECT"))).collect()
}

// ---------------------------------------------------------------------------
// Reading the topics back

/// The `id` column of an `{"id": …}` key.
fn key_id(r: &Record) -> i64 {
    let k: Value = serde_json::from_str(&key_text(r)).expect("key json");
    k["id"].as_i64().unwrap_or_else(|| panic!("key without an integer id: {k}"))
}

/// Number of `op:"r"` records per id.
fn reads_per_id(records: &[Record]) -> BTreeMap<i64, usize> {
    let mut per_id = BTreeMap::new();
    for r in records.iter().filter(|r| op(r) == "r") {
        *per_id.entry(key_id(r)).or_default() += 1;
    }
    per_id
}

/// Everything in `topic` now.
async fn read_all(topic: &str) -> Vec<Record> {
    consume_all(shared_kafka().bootstrap(), topic, READ, &Default::default()).await
}

/// Number of `op:"r"` records in `topic` now.
async fn count_reads(topic: &str) -> usize {
    read_all(topic).await.iter().filter(|r| op(r) == "r").count()
}

/// Every `op:"r"` record in `records` is an incremental-snapshot read.
fn assert_incremental_markers(records: &[Record], what: &str) {
    for r in records.iter().filter(|r| op(r) == "r") {
        assert_eq!(marker(r), "incremental", "{what}: r record not marked incremental: {:?}", payload(r));
    }
}

/// What the topic says about one key while folding it.
#[derive(Debug)]
enum KeyState {
    Live(Value),
    Deleted,
}

/// Folds a table topic per key into the rows it describes (last record
/// wins, a delete removes), checking the rules of an incremental snapshot
/// on the way. Unlike an initial snapshot, a key may first appear through a
/// `u`/`d` (a row the snapshot had not reached yet), so a change for a key
/// the topic has not seen is taken as is. Everything else is checked:
///
/// - `u`/`d` of a known live key carries that state as `before`;
/// - an `r` of a live key equals its state: the chunk was read after every
///   change before its window and changes inside the window drop the key
///   from the chunk, so a read can never carry a stale value;
/// - no `r` (nor `u`/`d`) for a deleted key: a read after the delete would
///   resurrect a row that is gone (a later re-insert shows up as a `c` first);
/// - no `c` for a live key; a tombstone only after a delete.
fn fold_incremental(records: &[Record]) -> BTreeMap<i64, Value> {
    use KeyState::{Deleted, Live};
    let mut state: BTreeMap<i64, KeyState> = BTreeMap::new();
    for r in records {
        let k = key_id(r);
        let Some(p) = payload(r) else {
            assert!(matches!(state.get(&k), Some(Deleted)), "tombstone of {k} without a delete before it");
            continue;
        };
        let o = p["op"].as_str().unwrap_or("").to_string();
        let after = p["after"].clone();
        match (o.as_str(), state.get(&k)) {
            ("r", Some(Live(v))) => assert_eq!(v, &after, "incremental read of {k} disagrees with the topic's state"),
            ("r", Some(Deleted)) => panic!("incremental read of {k} after its delete: {after}"),
            ("r", None) | ("c", None | Some(Deleted)) => {
                state.insert(k, Live(after));
            }
            ("c", Some(Live(v))) => panic!("insert of {k} while the topic holds it: {v} then {after}"),
            ("u", Some(Live(v))) => {
                assert_eq!(v, &p["before"], "update of {k} does not follow the topic's state");
                state.insert(k, Live(after));
            }
            ("u", None) => {
                state.insert(k, Live(after));
            }
            ("d", Some(Live(v))) => {
                assert_eq!(v, &p["before"], "delete of {k} does not follow the topic's state");
                state.insert(k, Deleted);
            }
            ("d", None) => {
                state.insert(k, Deleted);
            }
            (o, s) => panic!("{o} of {k} in state {s:?}"),
        }
    }
    state
        .into_iter()
        .filter_map(|(k, s)| match s {
            Live(v) => Some((k, v)),
            Deleted => None,
        })
        .collect()
}

/// A short description of how `got` differs from `want`, for failures.
fn diff(got: &BTreeMap<i64, Value>, want: &BTreeMap<i64, Value>) -> String {
    let missing: Vec<&i64> = want.keys().filter(|k| !got.contains_key(k)).take(10).collect();
    let extra: Vec<&i64> = got.keys().filter(|k| !want.contains_key(k)).take(10).collect();
    let differ: Vec<String> = want
        .iter()
        .filter_map(|(k, v)| got.get(k).filter(|g| *g != v).map(|g| format!("{k}: topic {g} table {v}")))
        .take(10)
        .collect();
    format!(
        "topic {} rows, table {} rows; missing (first 10) {missing:?}; extra {extra:?}; differing {differ:?}",
        got.len(),
        want.len()
    )
}

/// Proves the connector's position moved on: inserts a row into a captured
/// probe table and waits until its record is in the probe topic.
struct Probe<'a> {
    db: &'a MariaDb,
    table: String,
    topic: String,
    sent: AtomicI64,
}

impl<'a> Probe<'a> {
    /// A probe table `probe (id INT PRIMARY KEY)` in `database`; create it
    /// before starting the connector.
    async fn create(db: &'a MariaDb, database: &str, prefix: &str) -> Probe<'a> {
        db.exec(&format!("CREATE TABLE `{database}`.probe (id INT PRIMARY KEY)")).await;
        Probe {
            db,
            table: format!("`{database}`.probe"),
            topic: format!("{prefix}.{database}.probe"),
            sent: AtomicI64::new(0),
        }
    }

    async fn round_trip(&self) {
        let n = self.sent.fetch_add(1, Ordering::SeqCst) + 1;
        self.db.exec(&format!("INSERT INTO {} VALUES ({n})", self.table)).await;
        let got = consume(shared_kafka().bootstrap(), &self.topic, n as usize, LONG).await;
        assert!(got.len() >= n as usize, "probe row {n} did not arrive in {}", self.topic);
    }

    /// The number of `r` records in `topic` once it stopped changing: equal
    /// before, between and after two probe round trips (the connector went
    /// on streaming and read no more rows meanwhile).
    async fn settled_reads(&self, topic: &str, cdc: &Cdc) -> usize {
        wait_for(LONG, || async {
            let a = count_reads(topic).await;
            self.round_trip().await;
            let b = count_reads(topic).await;
            self.round_trip().await;
            let c = count_reads(topic).await;
            (a == b && b == c).then_some(c)
        })
        .await
        .unwrap_or_else(|| panic!("the r records of {topic} never settled:\n{}", cdc.log_excerpt(60)))
    }
}

// ---------------------------------------------------------------------------
// Tests

/// A writer updates, deletes and inserts rows while the incremental snapshot
/// reads `t` in chunks of 50: folded per key, the topic ends equal to the
/// table; a read never carries a stale value or brings back a deleted row;
/// every row the writer left alone is read exactly once. Also checks that
/// `no_data` read nothing before the signal and that the `insert_insert`
/// watermarks went into the signal table.
#[tokio::test]
async fn incremental_snapshot_under_concurrent_writes() {
    const ROWS: i64 = 3000;
    const CHUNK: usize = 50;
    // Rows have even ids 0, 2, …, so the writer's inserts of odd ids land
    // inside chunks. The writer stays below `WRITER_SPAN`: the top ten rows,
    // in the last chunk, are only ever read by the snapshot, so once they
    // are in the topic the snapshot has read the whole table. It also spares
    // the multiples of 6, so that a third of the rows surely stay untouched
    // however long it runs.
    const WRITER_SPAN: i64 = 2 * ROWS - 20;
    fn spare(id: i64) -> i64 {
        if id % 6 == 0 { id + 1 } else { id }
    }

    let db = shared_mariadb();
    let bootstrap = shared_kafka().bootstrap();
    let database = db.fresh_database("inc_conc").await;
    create_signal_table(db, &database).await;
    db.exec(&format!("CREATE TABLE `{database}`.t (id INT PRIMARY KEY, v VARCHAR(64), n INT)")).await;
    fill(db, &database, "t", (0..ROWS).map(|i| format!("({}, 'v{i}', {i})", 2 * i))).await;

    let prefix = unique_prefix("inc_conc");
    let topic = format!("{prefix}.{database}.t");
    let cdc = Cdc::start(&config(db, &prefix, &database, CHUNK));
    cdc.wait_streaming(LONG).await;

    // no_data: the existing rows were not read. A first change creates the
    // topic; it is then the only record there.
    db.exec(&format!("INSERT INTO `{database}`.t VALUES (-1, 'before the signal', -1)")).await;
    let first = consume(bootstrap, &topic, 1, LONG).await;
    assert_eq!(first.len(), 1, "the change before the signal did not arrive:\n{}", cdc.log_excerpt(40));
    let before_signal = read_all(&topic).await;
    assert_eq!(before_signal.iter().map(op).collect::<Vec<_>>(), ["c"], "no r record before the signal");

    // The writer: its own connection, random changes, the ids it touched.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (url, stop) = (db.url(&database), stop.clone());
        tokio::spawn(async move {
            let mut conn = mysql_async::Conn::from_url(&url).await.expect("writer connect");
            let mut touched = BTreeSet::new();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let id = spare(i64::from(rand::random::<u32>()) % WRITER_SPAN);
                let other = spare((id + 101) % WRITER_SPAN);
                touched.insert(id);
                let sql = match i % 5 {
                    0 | 1 => format!("UPDATE t SET n = n + 1, v = 'u{i}' WHERE id = {id}"),
                    2 => format!("DELETE FROM t WHERE id = {id}"),
                    3 => format!("INSERT INTO t VALUES ({id}, 'i{i}', 0) ON DUPLICATE KEY UPDATE n = n + 1, v = 'd{i}'"),
                    _ => {
                        touched.insert(other);
                        format!(
                            "START TRANSACTION; UPDATE t SET n = n + 10 WHERE id = {id}; DELETE FROM t WHERE id = {other}; \
                             INSERT INTO t VALUES ({other}, 'x{i}', 1) ON DUPLICATE KEY UPDATE n = n + 1; COMMIT"
                        )
                    }
                };
                conn.query_drop(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                // Pacing only (not synchronisation): leave the two cores to the connector too.
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            (i, touched)
        })
    };

    let exec = json!({"data-collections": [format!("{database}.t")], "type": "incremental"}).to_string();
    signal(db, &database, "exec-t", "execute-snapshot", Some(&exec)).await;
    // Keep writing until a good part of the snapshot was delivered.
    let reads_at_stop = wait_for(LONG, || async {
        let n = count_reads(&topic).await;
        (n >= 500).then_some(n)
    })
    .await
    .unwrap_or_else(|| panic!("the incremental snapshot delivered too few reads:\n{}", cdc.log_excerpt(60)));
    stop.store(true, Ordering::Relaxed);
    let (statements, touched) = writer.await.expect("writer");
    assert!(statements > 50, "the writer ran ({statements} statements)");

    // The table no longer changes: wait until the topic, folded, equals it.
    let want = table_rows(db, &database, "t", None).await;
    let want = &want;
    let got = wait_for(LONG, || {
        let topic = topic.clone();
        async move {
            let got = read_all(&topic).await;
            (fold_incremental(&got) == *want).then_some(got)
        }
    })
    .await;
    let Some(got) = got else {
        let folded = fold_incremental(&read_all(&topic).await);
        panic!("the topic never equalled the table: {}\n{}", diff(&folded, want), cdc.log_excerpt(60));
    };

    assert_incremental_markers(&got, "t");
    let per_id = reads_per_id(&got);
    let untouched: Vec<i64> = (0..ROWS).map(|i| 2 * i).filter(|id| !touched.contains(id)).collect();
    assert!(untouched.len() >= ROWS as usize / 3, "{} untouched rows", untouched.len());
    for id in &untouched {
        assert_eq!(per_id.get(id), Some(&1), "row {id}, never written during the test, read once");
    }
    assert_eq!(per_id.get(&-1), Some(&1), "the row inserted before the signal is read too");
    eprintln!(
        "incremental_snapshot_under_concurrent_writes: {statements} writes touching {} ids, {reads_at_stop} reads when the writer stopped, {} reads in all",
        touched.len(),
        per_id.values().sum::<usize>()
    );

    // insert_insert watermarks: an `<uuid>-open` and `<uuid>-close` row per
    // chunk; a chunk holds at most CHUNK reads.
    let windows: Vec<(String, String)> =
        db.query(&format!("SELECT id, type FROM `{database}`.{SIGNAL_TABLE} WHERE type LIKE 'snapshot-window-%'")).await;
    let with_suffix = |kind: &str, suffix: &str| -> BTreeSet<String> {
        windows
            .iter()
            .filter(|(id, t)| t == kind && id.ends_with(suffix))
            .map(|(id, _)| id.trim_end_matches(suffix).to_string())
            .collect()
    };
    let opens = with_suffix("snapshot-window-open", "-open");
    let closes = with_suffix("snapshot-window-close", "-close");
    let reads: usize = per_id.values().sum();
    assert!(closes.len() >= reads.div_ceil(CHUNK), "{} closed windows for {reads} reads in chunks of {CHUNK}", closes.len());
    assert!(closes.is_subset(&opens), "every closed window was opened: {windows:?}");
    cdc.terminate(Duration::from_secs(30)).await;
}

/// `additional-conditions` restrict the snapshot to the matching rows: the
/// `r` records are exactly those rows, each once. A table without a primary
/// key in the same signal is skipped. `insert_delete` leaves no watermark
/// rows in the signal table.
#[tokio::test]
async fn incremental_snapshot_additional_conditions() {
    // A condition on the key and on another column, so it cannot be a key range only.
    const FILTER: &str = "id > 700 AND MOD(n, 3) = 0";
    let db = shared_mariadb();
    let bootstrap = shared_kafka().bootstrap();
    let database = db.fresh_database("inc_cond").await;
    create_signal_table(db, &database).await;
    db.exec(&format!(
        "USE `{database}`; CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(64), n INT); CREATE TABLE nokey (a INT, v VARCHAR(20))"
    ))
    .await;
    fill(db, &database, "t", (1..=1000).map(|i| format!("({i}, 'v{i}', {})", i * 37 % 100))).await;
    fill(db, &database, "nokey", (1..=10).map(|i| format!("({i}, 'v{i}')"))).await;
    let want = table_rows(db, &database, "t", Some(FILTER)).await;
    assert!(want.len() > 50 && want.len() < 300, "{} rows match", want.len());

    let prefix = unique_prefix("inc_cond");
    let probe = Probe::create(db, &database, &prefix).await;
    let cfg = config(db, &prefix, &database, 30).set("incremental.snapshot.watermarking.strategy", "insert_delete");
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(LONG).await;
    let topic = format!("{prefix}.{database}.t");

    let exec = json!({
        "data-collections": [format!("{database}.t"), format!("{database}.nokey")],
        "type": "incremental",
        "additional-conditions": [{"data-collection": format!("{database}.t"), "filter": FILTER}],
    })
    .to_string();
    signal(db, &database, "exec-cond", "execute-snapshot", Some(&exec)).await;

    let want_ids: BTreeSet<i64> = want.keys().copied().collect();
    let want_ids = &want_ids;
    let arrived = wait_for(LONG, || {
        let topic = topic.clone();
        async move {
            let got = read_all(&topic).await;
            let ids: BTreeSet<i64> = reads_per_id(&got).into_keys().collect();
            ids.is_superset(want_ids).then_some(())
        }
    })
    .await;
    assert!(arrived.is_some(), "not every matching row was read:\n{}", cdc.log_excerpt(60));
    // Nothing more comes while the connector streams on.
    let settled = probe.settled_reads(&topic, &cdc).await;
    let got = read_all(&topic).await;
    assert_incremental_markers(&got, "t");
    let per_id = reads_per_id(&got);
    assert_eq!(settled, want.len(), "only the rows matching {FILTER:?} are read");
    assert_eq!(per_id.keys().copied().collect::<BTreeSet<_>>(), *want_ids, "the matching rows, no other");
    assert!(per_id.values().all(|n| *n == 1), "each read once: {per_id:?}");
    for r in got.iter().filter(|r| op(r) == "r") {
        assert_eq!(payload(r).unwrap()["after"], want[&key_id(r)], "content of row {}", key_id(r));
    }

    // The table without a primary key was skipped: after a change to it,
    // its topic holds that change only.
    db.exec(&format!("INSERT INTO `{database}`.nokey VALUES (11, 'after')")).await;
    let nokey_topic = format!("{prefix}.{database}.nokey");
    assert!(!consume(bootstrap, &nokey_topic, 1, LONG).await.is_empty(), "{}", cdc.log_excerpt(40));
    let nokey = read_all(&nokey_topic).await;
    assert_eq!(nokey.iter().map(op).collect::<Vec<_>>(), ["c"], "no rows read from a table without a key");

    // insert_delete: each window's `-open` row was deleted, none is left.
    let left: Vec<(String, String)> =
        db.query(&format!("SELECT id, type FROM `{database}`.{SIGNAL_TABLE} WHERE type LIKE 'snapshot-window-%'")).await;
    assert!(left.is_empty(), "insert_delete left watermark rows: {left:?}");
    cdc.terminate(Duration::from_secs(30)).await;
}

/// pause-snapshot holds the snapshot (no more reads while streaming goes
/// on), resume-snapshot finishes it; stop-snapshot in the middle of a
/// snapshot ends it early and streaming continues.
#[tokio::test]
async fn incremental_snapshot_pause_resume_stop() {
    // 100 chunks: the pause, sent after the fifth, lands long before the end.
    const ROWS: i64 = 5000;
    const OTHER_ROWS: i64 = 5000;
    const CHUNK: usize = 50;
    let db = shared_mariadb();
    let bootstrap = shared_kafka().bootstrap();
    let database = db.fresh_database("inc_pause").await;
    create_signal_table(db, &database).await;
    db.exec(&format!(
        "USE `{database}`; CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(64), n INT); \
         CREATE TABLE other (id INT PRIMARY KEY, v VARCHAR(64), n INT)"
    ))
    .await;
    fill(db, &database, "big", (0..ROWS).map(|i| format!("({i}, 'v{i}', {i})"))).await;
    fill(db, &database, "other", (0..OTHER_ROWS).map(|i| format!("({i}, 'o{i}', {i})"))).await;

    let prefix = unique_prefix("inc_pause");
    let probe = Probe::create(db, &database, &prefix).await;
    let cdc = Cdc::start(&config(db, &prefix, &database, CHUNK));
    cdc.wait_streaming(LONG).await;
    let big = format!("{prefix}.{database}.big");

    // Execute, then pause once a few chunks were read.
    let exec = json!({"data-collections": [format!("{database}.big")], "type": "incremental"}).to_string();
    signal(db, &database, "exec-big", "execute-snapshot", Some(&exec)).await;
    wait_closed_windows(db, &database, 5, &cdc).await;
    signal(db, &database, "pause-1", "pause-snapshot", None).await;

    // Paused: the count of reads stays put while probe rows stream through.
    let paused_at = probe.settled_reads(&big, &cdc).await;
    assert!(
        paused_at > 0 && (paused_at as i64) < ROWS,
        "{paused_at} of {ROWS} rows read when paused (if all: the snapshot outran the pause signal)"
    );
    probe.round_trip().await;
    assert_eq!(count_reads(&big).await, paused_at, "no reads while paused");
    eprintln!("incremental_snapshot_pause_resume_stop: paused at {paused_at} of {ROWS} reads");

    // Resume: the rest arrives.
    signal(db, &database, "resume-1", "resume-snapshot", Some("{}")).await;
    let got = wait_for(LONG, || {
        let big = big.clone();
        async move {
            let got = read_all(&big).await;
            (reads_per_id(&got).len() == ROWS as usize).then_some(got)
        }
    })
    .await
    .unwrap_or_else(|| panic!("the resumed snapshot did not read every row:\n{}", cdc.log_excerpt(60)));
    assert_incremental_markers(&got, "big");
    let per_id = reads_per_id(&got);
    let reads: usize = per_id.values().sum();
    // The resume continues where the pause left off: at most the chunk in
    // flight at the pause is read again.
    assert!(reads <= ROWS as usize + CHUNK, "{reads} reads of {ROWS} rows: the resume started over");
    assert_eq!(per_id.keys().copied().collect::<Vec<_>>(), (0..ROWS).collect::<Vec<_>>());

    // Execute on `other` and stop it after two chunks. A change first, so
    // that the topic exists.
    db.exec(&format!("INSERT INTO `{database}`.other VALUES (-1, 'before', -1)")).await;
    let other = format!("{prefix}.{database}.other");
    assert!(!consume(bootstrap, &other, 1, LONG).await.is_empty(), "{}", cdc.log_excerpt(40));
    let windows = closed_windows(db, &database).await;
    let exec = json!({"data-collections": [format!("{database}.other")], "type": "incremental"}).to_string();
    signal(db, &database, "exec-other", "execute-snapshot", Some(&exec)).await;
    wait_closed_windows(db, &database, windows + 2, &cdc).await;
    let stop = json!({"data-collections": [format!("{database}.other")], "type": "incremental"}).to_string();
    signal(db, &database, "stop-other", "stop-snapshot", Some(&stop)).await;
    let stopped_at = probe.settled_reads(&other, &cdc).await;
    assert!(stopped_at > 0, "the snapshot of `other` read nothing before its stop:\n{}", cdc.log_excerpt(40));
    assert!((stopped_at as i64) < OTHER_ROWS, "{stopped_at} of {OTHER_ROWS} rows read: the stop had no effect");
    assert_incremental_markers(&read_all(&other).await, "other");
    eprintln!("incremental_snapshot_pause_resume_stop: stopped at {stopped_at} of {OTHER_ROWS} reads");

    // Streaming goes on, and the stopped snapshot does not come back.
    db.exec(&format!("INSERT INTO `{database}`.other VALUES (1000000, 'after the stop', 0)")).await;
    let arrived = wait_for(LONG, || {
        let other = other.clone();
        async move {
            let got = read_all(&other).await;
            got.iter().any(|r| op(r) == "c" && key_id(r) == 1_000_000).then_some(got)
        }
    })
    .await
    .unwrap_or_else(|| panic!("the insert after the stop did not arrive:\n{}", cdc.log_excerpt(60)));
    assert_eq!(arrived.iter().filter(|r| op(r) == "r").count(), stopped_at, "no reads after the stop");
    cdc.terminate(Duration::from_secs(30)).await;
}

/// SIGTERM in the middle of an incremental snapshot: the restarted
/// connector resumes after the last delivered chunk, so every row is read
/// exactly once over the two runs (not from the first row again).
#[tokio::test]
async fn incremental_snapshot_resumes_after_restart() {
    // 50 chunks: SIGTERM, sent after the fifth, lands long before the end.
    const ROWS: i64 = 5000;
    const CHUNK: usize = 100;
    let db = shared_mariadb();
    let database = db.fresh_database("inc_restart").await;
    create_signal_table(db, &database).await;
    db.exec(&format!("CREATE TABLE `{database}`.t (id INT PRIMARY KEY, v VARCHAR(64), n INT)")).await;
    fill(db, &database, "t", (0..ROWS).map(|i| format!("({i}, REPEAT('p', 60), {i})"))).await;

    let prefix = unique_prefix("inc_restart");
    let cfg = config(db, &prefix, &database, CHUNK);
    let topic = format!("{prefix}.{database}.t");
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(LONG).await;
    // No "type": incremental is the default.
    let exec = json!({"data-collections": [format!("{database}.t")]}).to_string();
    signal(db, &database, "exec-restart", "execute-snapshot", Some(&exec)).await;
    wait_closed_windows(db, &database, 5, &cdc).await;
    let status = cdc.terminate(Duration::from_secs(30)).await;
    assert!(status.is_some_and(|s| s.success()), "SIGTERM: {status:?}\n{}", cdc.log_excerpt(40));

    let before = read_all(&topic).await;
    let before_per_id = reads_per_id(&before);
    let delivered = before_per_id.len();
    assert!(
        delivered > 0 && (delivered as i64) < ROWS,
        "{delivered} of {ROWS} rows read before SIGTERM (if all: the snapshot outran it; nothing to resume)"
    );
    assert!(before_per_id.values().all(|n| *n == 1), "duplicate reads before the restart");
    eprintln!("incremental_snapshot_resumes_after_restart: {delivered} of {ROWS} rows delivered before SIGTERM");

    // Same configuration, same offsets topic.
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(LONG).await;
    let got = wait_for(LONG, || {
        let topic = topic.clone();
        async move {
            let got = read_all(&topic).await;
            (reads_per_id(&got).len() == ROWS as usize).then_some(got)
        }
    })
    .await
    .unwrap_or_else(|| panic!("the snapshot did not complete after the restart:\n{}", cdc.log_excerpt(60)));
    assert_incremental_markers(&got, "t");
    let per_id = reads_per_id(&got);
    let reads: usize = per_id.values().sum();
    let twice: Vec<i64> = per_id.iter().filter(|(_, n)| **n > 1).map(|(id, _)| *id).take(20).collect();
    assert!(
        twice.is_empty(),
        "{reads} reads of {ROWS} rows ({delivered} before the restart); read again (first 20): {twice:?}"
    );
    assert_eq!(per_id.keys().copied().collect::<Vec<_>>(), (0..ROWS).collect::<Vec<_>>());
    // Chunks go in key order, so what the first run delivered is a prefix of
    // the ids; with every id read once, the second run read exactly the rest.
    assert_eq!(
        before_per_id.keys().copied().collect::<Vec<_>>(),
        (0..delivered as i64).collect::<Vec<_>>(),
        "the first run delivered the lowest ids"
    );
    cdc.terminate(Duration::from_secs(30)).await;
}

/// A blocking snapshot: streaming pauses, the table is read like an initial
/// snapshot (initial-snapshot markers, not `incremental`), then streaming
/// resumes: a later insert arrives as `c` after every read.
#[tokio::test]
async fn blocking_snapshot_signal() {
    const ROWS: i64 = 500;
    let db = shared_mariadb();
    let bootstrap = shared_kafka().bootstrap();
    let database = db.fresh_database("blk_snap").await;
    create_signal_table(db, &database).await;
    db.exec(&format!("CREATE TABLE `{database}`.t (id INT PRIMARY KEY, v VARCHAR(64), n INT)")).await;
    fill(db, &database, "t", (1..=ROWS).map(|i| format!("({i}, 'v{i}', {i})"))).await;
    let want = table_rows(db, &database, "t", None).await;

    let prefix = unique_prefix("blk_snap");
    let cdc = Cdc::start(&config(db, &prefix, &database, 100));
    cdc.wait_streaming(LONG).await;
    let topic = format!("{prefix}.{database}.t");
    let exec = json!({"data-collections": [format!("{database}.t")], "type": "blocking"}).to_string();
    signal(db, &database, "exec-blocking", "execute-snapshot", Some(&exec)).await;

    let got = consume(bootstrap, &topic, ROWS as usize, LONG).await;
    assert_eq!(got.len(), ROWS as usize, "{}", cdc.log_excerpt(60));
    let allowed = ["first", "true", "last", "first_in_data_collection", "last_in_data_collection"];
    for r in &got {
        assert_eq!(op(r), "r", "only reads: {:?}", payload(r));
        assert!(allowed.contains(&marker(r).as_str()), "blocking snapshot marker {:?}", marker(r));
        assert_eq!(payload(r).unwrap()["after"], want[&key_id(r)], "content of row {}", key_id(r));
    }
    assert_eq!(reads_per_id(&got).len(), ROWS as usize, "every row once");

    // Streaming resumed: a new row arrives as `c`, after every read.
    db.exec(&format!("INSERT INTO `{database}`.t VALUES (100000, 'after', 0)")).await;
    let got = consume(bootstrap, &topic, ROWS as usize + 1, LONG).await;
    let created = got
        .iter()
        .find(|r| op(r) == "c")
        .unwrap_or_else(|| panic!("the insert after the blocking snapshot did not arrive:\n{}", cdc.log_excerpt(60)));
    assert_eq!(key_id(created), 100_000);
    assert_eq!(marker(created), "false", "a streamed change is not a snapshot record");
    let reads: Vec<&Record> = got.iter().filter(|r| op(r) == "r").collect();
    assert_eq!(reads.len(), ROWS as usize, "the snapshot ran once");
    assert!(
        reads.iter().filter(|r| r.partition == created.partition).all(|r| r.offset < created.offset),
        "the change arrives after the snapshot records"
    );
    cdc.terminate(Duration::from_secs(30)).await;
}
