//! Shared by the resilience tests: a versioned test table and a writer that
//! remembers every change it committed, reading change records and stored
//! positions back from Kafka, and the checks that compare the two
//! (exactly once, or at least once with per-key order).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::Value;

use crate::support::cdc::CdcConfig;
use crate::support::kafka::{consume_all, partition_count, ConsumeOptions, Record};
use crate::support::mariadb::MariaDb;
use crate::support::wait::wait_for;

/// The table every test here writes: `ver` starts at 1 and every update adds
/// one, so per key the versions of its changes strictly increase.
pub const TABLE: &str = "t";
pub const DDL: &str = "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, ver INT NOT NULL, note VARCHAR(64))";

/// The connector configuration these tests use: payload-only JSON (smaller,
/// easier to read back) and `partitions` partitions per data topic.
pub fn config(db: &MariaDb, bootstrap: &str, prefix: &str, database: &str, partitions: u32) -> CdcConfig {
    CdcConfig::mariadb(db, bootstrap, prefix, database)
        .set("key.converter.schemas.enable", "false")
        .set("value.converter.schemas.enable", "false")
        .set("topic.creation.default.partitions", &partitions.to_string())
}

pub fn data_topic(cfg: &CdcConfig, database: &str) -> String {
    format!("{}.{database}.{TABLE}", cfg.get("topic.prefix").expect("topic.prefix"))
}

pub fn offsets_topic(cfg: &CdcConfig) -> String {
    cfg.get("offset.storage.topic").expect("offset.storage.topic").to_string()
}

/// The offsets key exactly as Kafka Connect writes it (built here by hand,
/// independently of the code under test).
pub fn offsets_key(cfg: &CdcConfig) -> Vec<u8> {
    let name = cfg.get("name").expect("name");
    let server = cfg.get("topic.prefix").expect("topic.prefix");
    format!(r#"[{},{{"server":{}}}]"#, Value::String(name.into()), Value::String(server.into())).into_bytes()
}

// ---------------------------------------------------------------- Kafka side

/// Java's `Utils.murmur2` (Kafka's default partitioner), on `i32` with
/// wrapping arithmetic and logical shifts like Java's `>>>`.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = SEED ^ len as u32;
    for chunk in data.chunks_exact(4) {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = &data[len & !3..];
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The partition Kafka's Java producer picks for `key`: `toPositive(murmur2) % n`.
pub fn java_partition(key: &[u8], partitions: usize) -> i32 {
    ((murmur2(key) & 0x7fff_ffff) as usize % partitions) as i32
}

/// Produces one record to an explicit partition (acks=all).
pub async fn produce_to(bootstrap: &str, topic: &str, partition: i32, key: &[u8], value: Option<&[u8]>) {
    let producer: FutureProducer =
        ClientConfig::new().set("bootstrap.servers", bootstrap).set("acks", "all").create().expect("producer");
    let mut rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).partition(partition).key(key);
    rec.payload = value;
    if let Err((e, _)) = producer.send(rec, Duration::from_secs(30)).await {
        panic!("produce to {topic}: {e}");
    }
}

/// Every record of `topic` now.
pub async fn read_all(bootstrap: &str, topic: &str) -> Vec<Record> {
    consume_all(bootstrap, topic, Duration::from_secs(60), &ConsumeOptions::default()).await
}

/// The records stored under our key in the offsets topic, in write order
/// (they all live in one partition).
pub async fn stored_records(bootstrap: &str, cfg: &CdcConfig) -> Vec<Record> {
    let key = offsets_key(cfg);
    read_all(bootstrap, &offsets_topic(cfg)).await.into_iter().filter(|r| r.key.as_deref() == Some(&key[..])).collect()
}

/// The last stored value: `None` if nothing is stored, `Some(None)` for a
/// tombstone.
pub async fn last_stored(bootstrap: &str, cfg: &CdcConfig) -> Option<Option<Value>> {
    stored_records(bootstrap, cfg).await.last().map(|r| r.value_json())
}

/// Sequence number of `domain` in a MariaDB GTID position (`0-1-42,1-2-7`).
pub fn gtid_seq(pos: &str, domain: u32) -> Option<u64> {
    pos.split(',').find_map(|g| {
        let mut it = g.trim().split('-');
        let d: u32 = it.next()?.parse().ok()?;
        let _server = it.next()?;
        let seq: u64 = it.next()?.parse().ok()?;
        (d == domain).then_some(seq)
    })
}

/// The GTID position just before `gtid` (same domain and server, seq - 1).
pub fn before(gtid: &str) -> String {
    let parts: Vec<&str> = gtid.split('-').collect();
    let seq: u64 = parts[2].parse().unwrap();
    format!("{}-{}-{}", parts[0], parts[1], seq - 1)
}

/// A connector log without its colours.
pub fn plain(log: &str) -> String {
    let ansi = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
    ansi.replace_all(log, "").into_owned()
}

/// Whether `log` reports a position stored inside a transaction.
pub fn stored_inside_transaction(log: &str) -> bool {
    regex::Regex::new(r"position stored .*event=[1-9]").unwrap().is_match(&plain(log))
}

pub async fn server_gtid(db: &MariaDb) -> String {
    db.query::<String>("SELECT @@gtid_binlog_pos").await.into_iter().next().unwrap_or_default()
}

/// `SHOW MASTER STATUS`: (file, position).
pub async fn master_status(db: &MariaDb) -> (String, u64) {
    let rows: Vec<mysql_async::Row> = db.query("SHOW MASTER STATUS").await;
    let row = rows.into_iter().next().expect("SHOW MASTER STATUS row");
    (row.get::<String, _>(0).expect("File"), row.get::<u64, _>(1).expect("Position"))
}

/// Follows the offsets topic with one consumer until a value stored under
/// our key satisfies `pred` (tombstones are skipped), or `deadline` passes.
/// Positions only move forward, so for "has reached" predicates a value seen
/// before the newest one answers the same.
pub async fn wait_stored<T>(
    bootstrap: &str,
    cfg: &CdcConfig,
    deadline: Duration,
    mut pred: impl FnMut(&Value) -> Option<T>,
) -> Option<T> {
    let end = Instant::now() + deadline;
    let topic = offsets_topic(cfg);
    let key = offsets_key(cfg);
    let n = wait_for(deadline, || partition_count(bootstrap, &topic)).await?;
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("it-offsets-{}", rand::random::<u64>()))
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..n {
        tpl.add_partition_offset(&topic, p as i32, Offset::Beginning).expect("partition");
    }
    consumer.assign(&tpl).expect("assign");
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, consumer.recv()).await {
            Err(_) => return None,
            Ok(Ok(m)) if m.key() == Some(&key[..]) => {
                if let Some(v) = m.payload().and_then(|b| serde_json::from_slice::<Value>(b).ok()) {
                    if let Some(t) = pred(&v) {
                        return Some(t);
                    }
                }
            }
            Ok(_) => {}
        }
    }
}

/// Waits until the stored position covers GTID `target` (domain 0) outside
/// a transaction, i.e. every record up to that transaction is acknowledged.
pub async fn wait_stored_covers(bootstrap: &str, cfg: &CdcConfig, target: &str, deadline: Duration) -> Value {
    let want = gtid_seq(target, 0).unwrap_or_else(|| panic!("no domain 0 in {target}"));
    let got = wait_stored(bootstrap, cfg, deadline, |v| {
        let seq = gtid_seq(v.get("gtids")?.as_str()?, 0)?;
        (seq >= want && v.get("event").is_none()).then(|| v.clone())
    })
    .await;
    match got {
        Some(v) => v,
        None => panic!(
            "the stored position did not reach {target} within {deadline:?}; last stored: {:?}",
            last_stored(bootstrap, cfg).await
        ),
    }
}

// ------------------------------------------------------------- change records

/// One change as written by the writer, identified by (id, op, ver): `ver`
/// is the row's version after the change (`c`, `u`) or before it (`d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Change {
    pub id: i64,
    pub op: char,
    pub ver: i64,
}

/// A change record read back from Kafka.
#[derive(Clone, Debug)]
pub struct Observed {
    pub change: Change,
    /// `source` coordinates: (file, pos, row, gtid).
    pub coord: (String, u64, u64, String),
    pub partition: i32,
    pub offset: i64,
}

/// Parses the change records of a data topic (payload-only JSON); returns
/// the changes in (partition, offset) order and the tombstones' keys.
pub fn parse(records: &[Record]) -> (Vec<Observed>, Vec<i64>) {
    let mut changes = Vec::new();
    let mut tombstones = Vec::new();
    for r in records {
        let key = r.key_json().expect("change record has a key");
        let id = key["id"].as_i64().unwrap_or_else(|| panic!("key {key}"));
        let Some(v) = r.value_json() else {
            tombstones.push(id);
            continue;
        };
        let op = v["op"].as_str().and_then(|s| s.chars().next()).unwrap_or_else(|| panic!("op in {v}"));
        let image = if op == 'd' { &v["before"] } else { &v["after"] };
        let ver = image["ver"].as_i64().unwrap_or_else(|| panic!("ver in {v}"));
        assert_eq!(image["id"].as_i64(), Some(id), "key and row disagree: {v}");
        if op == 'u' {
            assert_eq!(v["before"]["ver"].as_i64(), Some(ver - 1), "update before image: {v}");
        }
        let s = &v["source"];
        let coord = (
            s["file"].as_str().unwrap_or_default().to_string(),
            s["pos"].as_u64().unwrap_or_default(),
            s["row"].as_u64().unwrap_or_default(),
            s["gtid"].as_str().unwrap_or_default().to_string(),
        );
        changes.push(Observed {
            change: Change { id, op, ver },
            coord,
            partition: r.partition,
            offset: r.offset,
        });
    }
    (changes, tombstones)
}

/// What the checks found, for the test's log line.
#[derive(Debug, Default)]
pub struct Summary {
    pub records: usize,
    pub distinct: usize,
    pub duplicates: usize,
}

/// At least once, in order: every expected change is present, nothing else
/// is; a repeated change is a replay (same source coordinates); per key the
/// records follow the commit order, where a replay may only go back and then
/// continue in order (never skip ahead); the first occurrences per key have
/// non-decreasing `ver`; folding each key's records in topic order gives the
/// table's final contents. `Err` describes every kind of violation found.
pub fn check_at_least_once(observed: &[Observed], expected: &[Change], table: &BTreeMap<i64, i64>) -> Result<Summary, String> {
    // Per key, the expected sequence and each change's index in it.
    let mut per_key: HashMap<i64, Vec<Change>> = HashMap::new();
    for c in expected {
        per_key.entry(c.id).or_default().push(*c);
    }
    let index: HashMap<Change, usize> = per_key
        .values()
        .flat_map(|seq| seq.iter().enumerate().map(|(i, c)| (*c, i)))
        .collect();
    assert_eq!(index.len(), expected.len(), "the writer's changes are not unique");

    let mut problems = Vec::new();
    let mut first_coord: HashMap<Change, &(String, u64, u64, String)> = HashMap::new();
    let mut unexpected = Vec::new();
    let mut last_idx: HashMap<i64, i64> = HashMap::new();
    let mut last_ver: HashMap<i64, i64> = HashMap::new();
    let mut folded: HashMap<i64, Option<i64>> = HashMap::new();
    let mut duplicates = 0;
    let mut order = Vec::new();
    for o in observed {
        let c = o.change;
        let Some(&i) = index.get(&c) else {
            unexpected.push(c);
            continue;
        };
        match first_coord.get(&c) {
            Some(coord) => {
                duplicates += 1;
                if *coord != &o.coord {
                    problems.push(format!("{c:?} was written twice with different source coordinates: {coord:?} and {:?}", o.coord));
                }
            }
            None => {
                first_coord.insert(c, &o.coord);
                let prev = last_ver.insert(c.id, c.ver);
                if prev.is_some_and(|p| p > c.ver) {
                    problems.push(format!("key {}: ver went from {prev:?} to {} (first occurrences)", c.id, c.ver));
                }
            }
        }
        let prev = *last_idx.get(&c.id).unwrap_or(&-1);
        if i as i64 > prev + 1 {
            order.push(format!(
                "key {}: change #{i} {c:?} (partition {} offset {}) came right after change #{prev}",
                c.id, o.partition, o.offset
            ));
        }
        last_idx.insert(c.id, i as i64);
        folded.insert(c.id, (c.op != 'd').then_some(c.ver));
    }
    if !unexpected.is_empty() {
        problems.push(format!("{} records of changes never committed, e.g. {:?}", unexpected.len(), &unexpected[..unexpected.len().min(10)]));
    }
    let missing: Vec<(usize, &Change)> = expected.iter().enumerate().filter(|(_, c)| !first_coord.contains_key(c)).collect();
    if !missing.is_empty() {
        problems.push(format!(
            "{} of {} committed changes are missing from Kafka, e.g. (index in commit order, change) {:?}",
            missing.len(),
            expected.len(),
            &missing[..missing.len().min(10)]
        ));
    }
    if !order.is_empty() {
        problems.push(format!("{} records out of per-key order (or after a gap), e.g. {:?}", order.len(), &order[..order.len().min(5)]));
    }
    // Folding the topic gives the table.
    let from_topic: BTreeMap<i64, i64> = folded.into_iter().filter_map(|(id, v)| Some((id, v?))).collect();
    if &from_topic != table {
        let diff: Vec<_> = table
            .iter()
            .filter(|(k, v)| from_topic.get(k) != Some(v))
            .map(|(k, v)| (*k, Some(*v), from_topic.get(k).copied()))
            .chain(from_topic.iter().filter(|(k, _)| !table.contains_key(k)).map(|(k, v)| (*k, None, Some(*v))))
            .collect();
        problems.push(format!(
            "folding the topic per key does not give the table for {} keys: (id, table ver, topic ver) {:?}",
            diff.len(),
            &diff[..diff.len().min(10)]
        ));
    }
    if problems.is_empty() {
        Ok(Summary { records: observed.len(), distinct: first_coord.len(), duplicates })
    } else {
        Err(problems.join("\n"))
    }
}

/// Exactly once: at least once, in order, and no change record twice, and
/// one tombstone per delete.
pub fn check_exactly_once(
    observed: &[Observed],
    tombstones: &[i64],
    expected: &[Change],
    table: &BTreeMap<i64, i64>,
) -> Result<Summary, String> {
    let mut counts: BTreeMap<(i64, char), (usize, usize)> = BTreeMap::new();
    for c in expected {
        counts.entry((c.id, c.op)).or_default().0 += 1;
    }
    for o in observed {
        counts.entry((o.change.id, o.change.op)).or_default().1 += 1;
    }
    for id in tombstones {
        counts.entry((*id, '-')).or_default().1 += 1;
    }
    for c in expected.iter().filter(|c| c.op == 'd') {
        counts.entry((c.id, '-')).or_default().0 += 1;
    }
    let wrong: Vec<_> = counts.iter().filter(|(_, (e, o))| e != o).map(|(k, (e, o))| (*k, *e, *o)).collect();
    let mut problems = Vec::new();
    if !wrong.is_empty() {
        problems.push(format!(
            "records per (key, op) differ from the changes committed ('-' = tombstone) for {} keys, e.g. (key, op, expected, got) {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(10)]
        ));
    }
    match check_at_least_once(observed, expected, table) {
        Ok(s) if problems.is_empty() && s.duplicates == 0 => Ok(s),
        Ok(s) => {
            problems.push(format!("{} duplicates", s.duplicates));
            Err(problems.join("\n"))
        }
        Err(e) => {
            problems.push(e);
            Err(problems.join("\n"))
        }
    }
}

/// Which transactions (by GTID) the changes at `indexes` of the writer's log
/// belong to, for failure messages.
pub fn transactions_of(w: &Writer, indexes: impl IntoIterator<Item = usize>) -> Vec<(String, usize, usize)> {
    let mut out: Vec<(String, usize, usize)> = Vec::new();
    for i in indexes {
        if let Some(t) = w.tx_gtids.iter().find(|(_, first, n)| i >= *first && i < first + n) {
            if !out.contains(t) {
                out.push(t.clone());
            }
        }
    }
    out
}

/// The table's contents: id → ver.
pub async fn table_contents(db: &MariaDb, database: &str) -> BTreeMap<i64, i64> {
    db.query::<(i64, i64)>(&format!("SELECT id, ver FROM `{database}`.{TABLE}")).await.into_iter().collect()
}

// ------------------------------------------------------------------- writer

/// Writes random transactions and remembers, in commit order, every change
/// they made. Ids are never reused, so per key the versions only go up.
pub struct Writer {
    conn: Conn,
    database: String,
    rng: StdRng,
    next_id: i64,
    /// Live rows: id → ver.
    live: BTreeMap<i64, i64>,
    pub log: Vec<Change>,
    pub transactions: usize,
    /// With `track_gtids`: (GTID, index of its first change in `log`, changes).
    pub track_gtids: bool,
    pub tx_gtids: Vec<(String, usize, usize)>,
}

/// One statement of a transaction.
enum Stmt {
    Insert(usize),
    UpdateOne,
    UpdateRange(usize),
    DeleteOne,
    DeleteRange(usize),
}

impl Writer {
    pub async fn new(db: &MariaDb, database: &str, seed: u64) -> Writer {
        let conn = db.conn_db(database).await;
        Writer {
            conn,
            database: database.to_string(),
            rng: StdRng::seed_from_u64(seed),
            next_id: 1,
            live: BTreeMap::new(),
            log: Vec::new(),
            transactions: 0,
            track_gtids: false,
            tx_gtids: Vec::new(),
        }
    }

    /// GTID of this session's last transaction (`@@last_gtid`).
    pub async fn last_gtid(&mut self) -> String {
        self.conn.query_first::<String, _>("SELECT @@last_gtid").await.expect("@@last_gtid").unwrap_or_default()
    }

    pub fn rows_changed(&self) -> usize {
        self.log.len()
    }

    fn note(&mut self) -> String {
        let n = self.rng.random_range(0..40);
        (0..n).map(|_| char::from(b'a' + self.rng.random_range(0..26u8))).collect()
    }

    fn pick_live(&mut self) -> Option<i64> {
        if self.live.is_empty() {
            return None;
        }
        let lo = *self.live.keys().next()?;
        let hi = *self.live.keys().next_back()?;
        let probe = self.rng.random_range(lo..=hi);
        self.live.range(probe..).next().map(|(k, _)| *k)
    }

    /// Runs one statement; returns the changes it made (in binlog order).
    async fn run(&mut self, stmt: Stmt) -> Vec<Change> {
        let mut changes = Vec::new();
        let sql = match stmt {
            Stmt::Insert(n) => {
                let mut values = Vec::with_capacity(n);
                for _ in 0..n {
                    let id = self.next_id;
                    self.next_id += 1;
                    values.push(format!("({id}, 1, '{}')", self.note()));
                    changes.push(Change { id, op: 'c', ver: 1 });
                }
                format!("INSERT INTO {TABLE} (id, ver, note) VALUES {}", values.join(","))
            }
            Stmt::UpdateOne => {
                let Some(id) = self.pick_live() else { return changes };
                let ver = self.live[&id] + 1;
                changes.push(Change { id, op: 'u', ver });
                format!("UPDATE {TABLE} SET ver = ver + 1, note = '{}' WHERE id = {id}", self.note())
            }
            Stmt::UpdateRange(n) => {
                let Some(first) = self.pick_live() else { return changes };
                let ids: Vec<i64> = self.live.range(first..).take(n).map(|(k, _)| *k).collect();
                let last = *ids.last().unwrap_or(&first);
                for id in &ids {
                    changes.push(Change { id: *id, op: 'u', ver: self.live[id] + 1 });
                }
                format!("UPDATE {TABLE} SET ver = ver + 1 WHERE id BETWEEN {first} AND {last}")
            }
            Stmt::DeleteOne => {
                let Some(id) = self.pick_live() else { return changes };
                changes.push(Change { id, op: 'd', ver: self.live[&id] });
                format!("DELETE FROM {TABLE} WHERE id = {id}")
            }
            Stmt::DeleteRange(n) => {
                let Some(first) = self.pick_live() else { return changes };
                let ids: Vec<i64> = self.live.range(first..).take(n).map(|(k, _)| *k).collect();
                let last = *ids.last().unwrap_or(&first);
                for id in &ids {
                    changes.push(Change { id: *id, op: 'd', ver: self.live[id] });
                }
                format!("DELETE FROM {TABLE} WHERE id BETWEEN {first} AND {last}")
            }
        };
        if let Err(e) = self.conn.query_drop(&sql).await {
            panic!("writer SQL failed on {}: {e}\n{}", self.database, &sql[..sql.len().min(300)]);
        }
        for c in &changes {
            match c.op {
                'd' => {
                    self.live.remove(&c.id);
                }
                _ => {
                    self.live.insert(c.id, c.ver);
                }
            }
        }
        changes
    }

    /// One transaction of the given statements; the changes are logged once
    /// COMMIT returned.
    async fn transaction(&mut self, stmts: Vec<Stmt>) -> usize {
        self.conn.query_drop("BEGIN").await.expect("BEGIN");
        let mut changes = Vec::new();
        for s in stmts {
            changes.extend(self.run(s).await);
        }
        self.conn.query_drop("COMMIT").await.expect("COMMIT");
        self.transactions += 1;
        let n = changes.len();
        if self.track_gtids {
            let gtid = self.last_gtid().await;
            self.tx_gtids.push((gtid, self.log.len(), n));
        }
        self.log.extend(changes);
        n
    }

    /// Inserts `n` rows in transactions of `per_tx` rows.
    pub async fn insert_rows(&mut self, n: usize, per_tx: usize) {
        let mut left = n;
        while left > 0 {
            let k = left.min(per_tx);
            self.transaction(vec![Stmt::Insert(k)]).await;
            left -= k;
        }
    }

    /// One big transaction: `n` rows inserted by statements of 500 rows,
    /// then a range of `n / 2` live rows updated (many rows events).
    pub async fn big_transaction(&mut self, n: usize) -> usize {
        let mut stmts = Vec::new();
        let mut left = n;
        while left > 0 {
            let k = left.min(500);
            stmts.push(Stmt::Insert(k));
            left -= k;
        }
        stmts.push(Stmt::UpdateRange(n / 2));
        self.transaction(stmts).await
    }

    /// One random transaction: mostly small ones of 1–5 statements, some
    /// multi-row inserts, updates and deletes of ranges, and now and then a
    /// big one (thousands of rows in many rows events).
    pub async fn random_transaction(&mut self) -> usize {
        let roll = self.rng.random_range(0..1000);
        let stmts = if roll < 4 {
            // Big: inserts of 500 rows each plus a range update and delete.
            let mut s: Vec<Stmt> = (0..self.rng.random_range(2..5)).map(|_| Stmt::Insert(500)).collect();
            s.push(Stmt::UpdateRange(self.rng.random_range(200..800)));
            s.push(Stmt::DeleteRange(self.rng.random_range(50..200)));
            s
        } else if roll < 80 {
            // Medium: multi-row statements.
            let mut s = Vec::new();
            for _ in 0..self.rng.random_range(1..4) {
                s.push(match self.rng.random_range(0..3) {
                    0 => Stmt::Insert(self.rng.random_range(10..100)),
                    1 => Stmt::UpdateRange(self.rng.random_range(5..60)),
                    _ => Stmt::DeleteRange(self.rng.random_range(2..20)),
                });
            }
            s
        } else {
            let mut s = Vec::new();
            for _ in 0..self.rng.random_range(1..6) {
                s.push(match self.rng.random_range(0..10) {
                    0..=3 => Stmt::Insert(self.rng.random_range(1..4)),
                    4..=7 => Stmt::UpdateOne,
                    _ => Stmt::DeleteOne,
                });
            }
            s
        };
        self.transaction(stmts).await
    }

    pub async fn close(self) {
        let _ = self.conn.disconnect().await;
    }
}

/// The writers' random seed: `BINLOG_CDC_IT_SEED` to replay a run, else random.
pub fn seed() -> u64 {
    std::env::var("BINLOG_CDC_IT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random)
}
