//! Side-by-side compatibility harness: Debezium (the oracle) and binlog-cdc
//! capture the same throwaway database of the shared MariaDB, each into its
//! own topic prefix, the same SQL is applied once, and every record is
//! compared pairwise: topic (modulo prefix), partition, key bytes, value
//! bytes, tombstones and headers (except `runId`), all equal except the
//! clock-dependent envelope `ts_ms`/`ts_us`/`ts_ns` and `source.version`.
//!
//! Tables are created *before* both connectors start, so Debezium takes their
//! structure from `SHOW CREATE TABLE` (snapshot.mode=no_data), as it does for
//! every table that exists when it is deployed; [`Oracle::ddl_after_start`]
//! runs the DDL through the binlog instead (Debezium's DDL parser).
//!
//! The comparison is reported per *case* = one column of one table: a case
//! matches when no record differs in anything attributable to that column
//! (its schema field, its payload in key/before/after). Differences not tied
//! to a column (record counts, headers, envelope) are reported separately.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use regex::Regex;
use serde_json::Value;

use crate::support::cdc::{Cdc, CdcConfig};
use crate::support::debezium::{Debezium, DebeziumConfig};
use crate::support::kafka::{self, shared_kafka, unique_prefix, Record};
use crate::support::mariadb::shared_mariadb;

/// Session settings for every statement the harness runs: zero and invalid
/// dates allowed, no strict mode (out-of-range ENUM values become `''`).
pub const SESSION: &str = "SET SESSION sql_mode='NO_ENGINE_SUBSTITUTION,ALLOW_INVALID_DATES', time_zone='+00:00'";

/// Debezium log lines that say nothing about the compared records.
const IGNORED_WARNINGS: [&str; 0] = [];

/// Placeholder for the run's topic prefix in compared bytes.
const PREFIX: &str = "<prefix>";

/// One table: its `CREATE TABLE` and the statements that change it.
#[derive(Clone, Debug)]
pub struct Table {
    pub name: String,
    pub ddl: String,
    pub dml: Vec<String>,
}

impl Table {
    pub fn new(name: &str, ddl: &str, dml: &[&str]) -> Table {
        Table { name: name.into(), ddl: ddl.into(), dml: dml.iter().map(|s| s.to_string()).collect() }
    }
}

/// One run: a set of connector properties applied to both sides.
pub struct Oracle {
    name: String,
    props: Vec<(String, String)>,
    schemas: bool,
    ddl_after_start: bool,
}

/// Per-column outcome of a run.
#[derive(Debug, Default)]
pub struct Outcome {
    pub run: String,
    /// `table.column` → mismatch descriptions (empty = match).
    pub cases: BTreeMap<String, Vec<String>>,
    /// Differences not tied to a column.
    pub other: Vec<String>,
    pub records: usize,
    /// Debezium's WARN/ERROR log lines (e.g. values it could not convert).
    pub debezium_log: Vec<String>,
}

impl Outcome {
    pub fn matching(&self) -> usize {
        self.cases.values().filter(|v| v.is_empty()).count()
    }

    /// A human-readable summary: counts, then every mismatch (the same
    /// difference in several records is printed once, with a count).
    pub fn report(&self) -> String {
        let mut s = format!(
            "[{}] {} records, {} cases, {} match",
            self.run,
            self.records,
            self.cases.len(),
            self.matching()
        );
        let record_ref = Regex::new(r" in record #\d+ \([^)]*\)").unwrap();
        for (case, diffs) in &self.cases {
            let mut grouped: Vec<(String, usize)> = Vec::new();
            for d in diffs {
                let g = record_ref.replace(d, "").into_owned();
                match grouped.iter_mut().find(|(m, _)| *m == g) {
                    Some((_, n)) => *n += 1,
                    None => grouped.push((g, 1)),
                }
            }
            for (m, n) in grouped.iter().take(8) {
                let times = if *n > 1 { format!(" (x{n})") } else { String::new() };
                let _ = write!(s, "\n  {case}: {m}{times}");
            }
            if grouped.len() > 8 {
                let _ = write!(s, "\n  {case}: ... {} more", grouped.len() - 8);
            }
        }
        for d in &self.other {
            let _ = write!(s, "\n  (record) {d}");
        }
        for w in &self.debezium_log {
            let _ = write!(s, "\n  (debezium log) {w}");
        }
        s
    }

    pub fn is_match(&self) -> bool {
        self.other.is_empty() && self.cases.values().all(Vec::is_empty)
    }
}

impl Oracle {
    pub fn new(name: &str) -> Oracle {
        Oracle { name: name.into(), props: Vec::new(), schemas: true, ddl_after_start: false }
    }

    /// A connector property set on both Debezium and binlog-cdc.
    pub fn set(mut self, key: &str, value: &str) -> Oracle {
        self.props.push((key.into(), value.into()));
        self
    }

    /// `key/value.converter.schemas.enable` on both sides.
    pub fn schemas(mut self, enable: bool) -> Oracle {
        self.schemas = enable;
        self
    }

    /// Create the tables after both connectors stream (DDL read from the
    /// binlog) instead of before they start.
    pub fn ddl_after_start(mut self) -> Oracle {
        self.ddl_after_start = true;
        self
    }

    /// Runs `tables` through both connectors and compares their output.
    pub async fn run(&self, tables: &[Table]) -> Outcome {
        let (db, bootstrap) = (shared_mariadb(), shared_kafka().bootstrap());
        let database = db.fresh_database(&format!("oracle_{}", self.name)).await;
        let sentinel = Table::new(
            "zz_sentinel",
            "CREATE TABLE zz_sentinel (id INT PRIMARY KEY)",
            &["INSERT INTO zz_sentinel VALUES (1)"],
        );
        let all: Vec<&Table> = tables.iter().chain([&sentinel]).collect();
        let ddl = |db_sql: &mut String| {
            for t in &all {
                db_sql.push_str(&t.ddl);
                db_sql.push_str(";\n");
            }
        };
        let mut sql = format!("{SESSION}; USE `{database}`;\n");
        if !self.ddl_after_start {
            ddl(&mut sql);
            db.exec(&sql).await;
            sql = format!("{SESSION}; USE `{database}`;\n");
        }

        let dbz_prefix = unique_prefix(&format!("dbz_{}", self.name));
        let cdc_prefix = unique_prefix(&format!("cdc_{}", self.name));
        let mut dcfg = DebeziumConfig::mariadb(db, bootstrap, &dbz_prefix, &database).schemas(self.schemas);
        let mut ccfg = CdcConfig::mariadb(db, bootstrap, &cdc_prefix, &database);
        if !self.schemas {
            ccfg = ccfg.set("key.converter.schemas.enable", "false").set("value.converter.schemas.enable", "false");
        }
        for (k, v) in &self.props {
            dcfg = dcfg.set(k, v);
            ccfg = ccfg.set(k, v);
        }
        let started = Instant::now();
        let cdc = Cdc::start(&ccfg);
        let dbz = Debezium::start(dcfg).await;
        cdc.wait_streaming(Duration::from_secs(60)).await;
        dbz.wait_streaming(Duration::from_secs(180)).await;
        eprintln!("[{}] both streaming after {:?}", self.name, started.elapsed());

        if self.ddl_after_start {
            ddl(&mut sql);
        }
        for t in &all {
            for s in &t.dml {
                sql.push_str(s);
                sql.push_str(";\n");
            }
        }
        db.exec(&sql).await;

        // Both write in binlog order: once each has the sentinel, the rest
        // was handed to Kafka before it.
        let sentinel_topic = |p: &str| format!("{p}.{database}.zz_sentinel");
        for (who, p) in [("debezium", &dbz_prefix), ("binlog-cdc", &cdc_prefix)] {
            let end = Instant::now() + Duration::from_secs(90);
            loop {
                let got = kafka::consume(bootstrap, &sentinel_topic(p), 1, Duration::from_secs(2)).await;
                if !got.is_empty() {
                    break;
                }
                let dead = if who == "debezium" { dbz.failure() } else { cdc.exited().map(|s| s.to_string()) };
                if dead.is_some() || Instant::now() > end {
                    let log = if who == "debezium" { dbz.log_tail(60) } else { cdc.log_tail(60) };
                    panic!("[{}] {who} wrote no sentinel record ({dead:?}):\n{log}", self.name);
                }
            }
        }
        let topics = kafka::list_topics(bootstrap).await;
        let data_topics = |p: &str| -> BTreeSet<String> {
            let head = format!("{p}.{database}.");
            topics.iter().filter_map(|t| t.strip_prefix(&head).map(str::to_string)).collect()
        };
        let (dbz_tables, cdc_tables) = (data_topics(&dbz_prefix), data_topics(&cdc_prefix));
        let mut out = Outcome { run: self.name.clone(), ..Outcome::default() };
        for t in dbz_tables.symmetric_difference(&cdc_tables) {
            let who = if dbz_tables.contains(t) { "only Debezium" } else { "only binlog-cdc" };
            out.other.push(format!("topic for table {t}: {who} wrote one"));
        }
        let columns = columns_of(&database, tables).await;
        for (table, cols) in &columns {
            for c in cols {
                out.cases.insert(format!("{table}.{c}"), Vec::new());
            }
        }
        let common: Vec<&String> = dbz_tables.intersection(&cdc_tables).collect();
        let wanted: Vec<String> = common
            .iter()
            .flat_map(|t| [format!("{dbz_prefix}.{database}.{t}"), format!("{cdc_prefix}.{database}.{t}")])
            .collect();
        let mut all = consume_topics(bootstrap, &wanted, Duration::from_secs(60)).await;
        for table in common {
            let d = all.remove(&format!("{dbz_prefix}.{database}.{table}")).unwrap_or_default();
            let c = all.remove(&format!("{cdc_prefix}.{database}.{table}")).unwrap_or_default();
            out.records += d.len();
            if d.len() != c.len() {
                out.other.push(format!("{table}: Debezium wrote {} records, binlog-cdc {}", d.len(), c.len()));
            }
            for (i, (dr, cr)) in d.iter().zip(&c).enumerate() {
                compare(&mut out, table, i, dr, cr, &dbz_prefix, &cdc_prefix);
            }
        }
        out.debezium_log = dbz
            .log_tail(100_000)
            .lines()
            .filter(|l| (l.contains("] WARN ") || l.contains("] ERROR ")) && !IGNORED_WARNINGS.iter().any(|w| l.contains(w)))
            .map(|l| l.chars().take(400).collect())
            .collect();
        let _ = cdc.terminate(Duration::from_secs(10)).await;
        dbz.stop_gracefully(Duration::from_secs(5)).await;
        eprintln!("[{}] done after {:?}", self.name, started.elapsed());
        out
    }
}

/// Every record of `topics` (all partitions, up to the high watermark they
/// have when called) with one consumer, by topic, ordered by (partition,
/// offset).
async fn consume_topics(bootstrap: &str, topics: &[String], deadline: Duration) -> BTreeMap<String, Vec<Record>> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::{Headers, Message};
    use rdkafka::{ClientConfig, Offset, TopicPartitionList};
    let (bootstrap, topics) = (bootstrap.to_string(), topics.to_vec());
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("group.id", format!("it-oracle-{}", rand::random::<u64>()))
            .set("enable.auto.commit", "false")
            .create()
            .expect("create consumer");
        let md = consumer.fetch_metadata(None, Duration::from_secs(10)).expect("metadata");
        let mut tpl = TopicPartitionList::new();
        // (topic, partition) → high watermark still to reach.
        let mut open: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for t in md.topics().iter().filter(|t| topics.iter().any(|w| w == t.name())) {
            for p in t.partitions() {
                let (_, high) = consumer.fetch_watermarks(t.name(), p.id(), Duration::from_secs(10)).expect("watermarks");
                if high > 0 {
                    tpl.add_partition_offset(t.name(), p.id(), Offset::Beginning).expect("add partition");
                    open.insert((t.name().to_string(), p.id()), high);
                }
            }
        }
        let mut out: BTreeMap<String, Vec<Record>> = BTreeMap::new();
        if open.is_empty() {
            return out;
        }
        consumer.assign(&tpl).expect("assign");
        let end = Instant::now() + deadline;
        while !open.is_empty() && Instant::now() < end {
            let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) else { continue };
            let key = (m.topic().to_string(), m.partition());
            if open.get(&key).is_some_and(|high| m.offset() + 1 >= *high) {
                open.remove(&key);
            }
            out.entry(m.topic().to_string()).or_default().push(Record {
                topic: m.topic().to_string(),
                partition: m.partition(),
                offset: m.offset(),
                key: m.key().map(<[u8]>::to_vec),
                value: m.payload().map(<[u8]>::to_vec),
                headers: m
                    .headers()
                    .map(|h| h.iter().map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec))).collect())
                    .unwrap_or_default(),
            });
        }
        for v in out.values_mut() {
            v.sort_by_key(|r| (r.partition, r.offset));
        }
        out
    })
    .await
    .expect("consumer task")
}

/// Column names of each table, in table order.
async fn columns_of(database: &str, tables: &[Table]) -> BTreeMap<String, Vec<String>> {
    let db = shared_mariadb();
    let mut out = BTreeMap::new();
    for t in tables {
        let rows: Vec<String> = db
            .query(&format!(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='{database}' \
                 AND TABLE_NAME='{}' ORDER BY ORDINAL_POSITION",
                t.name
            ))
            .await;
        out.insert(t.name.clone(), rows);
    }
    out
}

/// Masks what legitimately differs: the run's prefix, the envelope clock and
/// Debezium's version.
fn normalize(bytes: &[u8], prefix: &str) -> String {
    use std::sync::OnceLock;
    static CLOCK: OnceLock<Regex> = OnceLock::new();
    static VERSION: OnceLock<Regex> = OnceLock::new();
    let clock = CLOCK.get_or_init(|| {
        Regex::new(r#"("op":"[a-z]","ts_ms":)-?\d+(,"ts_us":)-?\d+(,"ts_ns":)-?\d+"#).unwrap()
    });
    let version = VERSION.get_or_init(|| Regex::new(r#"("source":\{"version":)"[^"]*""#).unwrap());
    let s = String::from_utf8_lossy(bytes).replace(prefix, PREFIX);
    let s = clock.replace_all(&s, "${1}0${2}0${3}0");
    version.replace_all(&s, "${1}\"*\"").into_owned()
}

fn compare(out: &mut Outcome, table: &str, i: usize, d: &Record, c: &Record, dp: &str, cp: &str) {
    let what = |r: &Record| match (&r.value, &r.key) {
        (None, _) => "tombstone".to_string(),
        (Some(v), _) => {
            let v = String::from_utf8_lossy(v);
            let op = v.find("\"op\":\"").map(|p| &v[p + 6..p + 7]).unwrap_or("?");
            format!("op {op}")
        }
    };
    let at = format!("record #{i} ({})", what(d));
    if d.partition != c.partition {
        out.other.push(format!("{table} {at}: partition {} vs {}", d.partition, c.partition));
    }
    let hdrs = |r: &Record, p: &str| -> Vec<String> {
        r.headers
            .iter()
            .filter(|(k, _)| k != "__debezium.context.runId")
            .map(|(k, v)| format!("{k}={}", v.as_deref().map_or("<null>".into(), |v| normalize(v, p))))
            .collect()
    };
    let (dh, ch) = (hdrs(d, dp), hdrs(c, cp));
    if dh != ch {
        out.other.push(format!("{table} {at}: headers\n      debezium:   {dh:?}\n      binlog-cdc: {ch:?}"));
    }
    for (part, dv, cv) in [("key", &d.key, &c.key), ("value", &d.value, &c.value)] {
        match (dv, cv) {
            (None, None) => {}
            (Some(_), None) | (None, Some(_)) => out.other.push(format!(
                "{table} {at}: {part} is {} in Debezium, {} in binlog-cdc",
                if dv.is_some() { "set" } else { "null" },
                if cv.is_some() { "set" } else { "null" }
            )),
            (Some(dv), Some(cv)) => {
                let (dn, cn) = (normalize(dv, dp), normalize(cv, cp));
                if dn != cn {
                    diff_json(out, table, &at, part, &dn, &cn);
                }
            }
        }
    }
}

/// Field-by-field difference of two JSON documents, attributed to columns.
fn diff_json(out: &mut Outcome, table: &str, at: &str, part: &str, d: &str, c: &str) {
    let (dj, cj) = match (serde_json::from_str::<Value>(d), serde_json::from_str::<Value>(c)) {
        (Ok(a), Ok(b)) => (a, b),
        _ => {
            out.other.push(format!("{table} {at}: {part} is not JSON\n      debezium:   {d}\n      binlog-cdc: {c}"));
            return;
        }
    };
    let mut diffs = Vec::new();
    walk(&mut Vec::new(), &dj, &cj, &mut diffs);
    if diffs.is_empty() {
        // Same values, different bytes: number formatting or key order.
        let p = d.bytes().zip(c.bytes()).position(|(a, b)| a != b).unwrap_or(d.len().min(c.len()));
        let lo = p.saturating_sub(60);
        let snip = |s: &str| s.get(lo..(p + 60).min(s.len())).unwrap_or("").to_string();
        out.other.push(format!(
            "{table} {at}: {part} bytes differ (same JSON values) at byte {p}\n      debezium:   …{}…\n      binlog-cdc: …{}…",
            snip(d),
            snip(c)
        ));
        return;
    }
    for (path, dv, cv) in diffs {
        let msg = format!("{part} {} in {at}: debezium {dv} / binlog-cdc {cv}", path.join("."));
        match column_of(part, &path) {
            Some(col) => {
                let key = format!("{table}.{col}");
                out.cases.entry(key).or_default().push(msg);
            }
            None => out.other.push(format!("{table} {msg}")),
        }
    }
}

/// Walks two JSON values; array elements of a struct schema's `fields` are
/// labelled by their `"field"` name.
fn walk(path: &mut Vec<String>, d: &Value, c: &Value, diffs: &mut Vec<(Vec<String>, String, String)>) {
    match (d, c) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                path.push(k.clone());
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => walk(path, x, y, diffs),
                    (x, y) => diffs.push((path.clone(), show(x), show(y))),
                }
                path.pop();
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            let label = |v: &Value, i: usize| v.get("field").and_then(Value::as_str).map_or(i.to_string(), str::to_string);
            if a.len() != b.len() {
                let names = |v: &Vec<Value>| v.iter().enumerate().map(|(i, x)| label(x, i)).collect::<Vec<_>>().join(",");
                diffs.push((path.clone(), format!("[{}]", names(a)), format!("[{}]", names(b))));
                return;
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                path.push(label(x, i));
                walk(path, x, y, diffs);
                path.pop();
            }
        }
        (x, y) if x == y => {}
        (x, y) => diffs.push((path.clone(), x.to_string(), y.to_string())),
    }
}

fn show(v: Option<&Value>) -> String {
    v.map_or("<absent>".into(), Value::to_string)
}

/// The column a difference belongs to, from its path: value
/// `[schema.fields.]after[.fields].<col>` / `[payload.]before.<col>`, key
/// `[schema.fields.]<col>` / `[payload.]<col>`.
fn column_of(part: &str, path: &[String]) -> Option<String> {
    let rest: Vec<&str> = path.iter().map(String::as_str).filter(|s| *s != "fields").collect();
    let rest: &[&str] = match rest.first() {
        Some(&"schema") | Some(&"payload") => &rest[1..],
        _ => &rest[..],
    };
    if part == "key" {
        return rest.first().filter(|s| !["type", "optional", "name"].contains(s)).map(|s| s.to_string());
    }
    match rest {
        [side, col, ..] if *side == "before" || *side == "after" => {
            if ["type", "optional", "name"].contains(col) {
                None
            } else {
                Some(col.to_string())
            }
        }
        _ => None,
    }
}
