//! Metrics: every metric is emitted from a function here, with a fixed name
//! and bounded labels (table names and ops, never error text), so the set
//! of series is known from this file alone. `http.rs` serves them.

pub mod http;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use metrics::{counter, describe_counter, describe_gauge, gauge, Counter};

use crate::envelope::Op;

pub const RECORDS: &str = "binlog_cdc_records_total";
pub const BEHIND_SOURCE: &str = "binlog_cdc_milliseconds_behind_source";
pub const CONNECTED: &str = "binlog_cdc_connected";
pub const QUEUE_RECORDS: &str = "binlog_cdc_queue_batches";
pub const QUEUE_BYTES: &str = "binlog_cdc_queue_bytes";
pub const OFFSETS_COMMITTED: &str = "binlog_cdc_offsets_committed_total";
pub const RECONNECTS: &str = "binlog_cdc_reconnects_total";
pub const TRANSACTIONS: &str = "binlog_cdc_transactions_total";
pub const SKIPPED: &str = "binlog_cdc_skipped_events_total";
pub const ACKED: &str = "binlog_cdc_records_acknowledged_total";

static IS_CONNECTED: AtomicBool = AtomicBool::new(false);

/// Describes every fixed-name series and registers those that have a
/// meaningful value before the first event (zero counters, empty queue,
/// not connected), so dashboards and alerts see them from the start.
pub fn init() {
    describe_counter!(RECORDS, "Change records produced, by table and op (c, u, d, r)");
    describe_gauge!(BEHIND_SOURCE, "Milliseconds between the last row event's commit time and its processing");
    describe_gauge!(CONNECTED, "1 while the binlog connection is up, else 0");
    describe_gauge!(QUEUE_RECORDS, "Batches waiting between the decoder and the sink");
    describe_gauge!(QUEUE_BYTES, "Bytes of the batches waiting between the decoder and the sink");
    describe_counter!(OFFSETS_COMMITTED, "Positions written to the offsets topic");
    describe_counter!(RECONNECTS, "Binlog connections lost or refused and retried");
    describe_counter!(TRANSACTIONS, "Source transactions completed");
    describe_counter!(SKIPPED, "Events skipped (inconsistent.schema.handling.mode warn/skip)");
    describe_counter!(ACKED, "Records acknowledged by Kafka");
    connected(false);
    queue(0, 0);
    for name in [OFFSETS_COMMITTED, RECONNECTS, TRANSACTIONS, SKIPPED, ACKED] {
        counter!(name).increment(0);
    }
}

/// Per-table change counters, created once per table and kept by the decoder.
#[derive(Clone)]
pub struct TableCounters {
    create: Counter,
    update: Counter,
    delete: Counter,
    read: Counter,
}

impl TableCounters {
    pub fn new(table: &str) -> Self {
        let c = |op: &'static str| counter!(RECORDS, "op" => op, "table" => table.to_string());
        TableCounters { create: c("c"), update: c("u"), delete: c("d"), read: c("r") }
    }

    pub fn change(&self, op: Op) {
        match op {
            Op::Create => self.create.increment(1),
            Op::Update => self.update.increment(1),
            Op::Delete => self.delete.increment(1),
            Op::Read => self.read.increment(1),
            // Not a row change: truncates are not counted per row.
            Op::Truncate => {}
        }
    }
}

pub fn connected(on: bool) {
    IS_CONNECTED.store(on, Ordering::Relaxed);
    gauge!(CONNECTED).set(if on { 1.0 } else { 0.0 });
}

pub fn is_connected() -> bool {
    IS_CONNECTED.load(Ordering::Relaxed)
}

pub fn reconnect() {
    counter!(RECONNECTS).increment(1);
}

pub fn queue(batches: usize, bytes: usize) {
    gauge!(QUEUE_RECORDS).set(batches as f64);
    gauge!(QUEUE_BYTES).set(bytes as f64);
}

pub fn offsets_committed() {
    counter!(OFFSETS_COMMITTED).increment(1);
}

pub fn transaction_committed() {
    counter!(TRANSACTIONS).increment(1);
}

pub fn skipped_event() {
    counter!(SKIPPED).increment(1);
}

pub fn acknowledged(n: u64) {
    counter!(ACKED).increment(n);
}

/// Debezium's MilliSecondsBehindSource: now − event time.
pub fn source_lag(event_ts_sec: i64) {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    gauge!(BEHIND_SOURCE).set((now_ms - event_ts_sec * 1000).max(0) as f64);
}

pub const SNAPSHOT_ROWS: &str = "binlog_cdc_snapshot_rows";
pub const SNAPSHOT_ROWS_ESTIMATED: &str = "binlog_cdc_snapshot_rows_estimated";
pub const SNAPSHOT_TABLES: &str = "binlog_cdc_snapshot_tables";
pub const SNAPSHOT_TABLES_DONE: &str = "binlog_cdc_snapshot_tables_done";

/// Rows a running snapshot has read from `table`, against the server's estimate.
pub fn snapshot_rows(table: &str, rows: u64, estimated: u64) {
    gauge!(SNAPSHOT_ROWS, "table" => table.to_string()).set(rows as f64);
    gauge!(SNAPSHOT_ROWS_ESTIMATED, "table" => table.to_string()).set(estimated as f64);
}

/// Tables of the running snapshot, and how many are read.
pub fn snapshot_tables(total: usize, done: usize) {
    gauge!(SNAPSHOT_TABLES).set(total as f64);
    gauge!(SNAPSHOT_TABLES_DONE).set(done as f64);
}
