//! Metrics: every metric is emitted from a function here, with a fixed name
//! and bounded labels (table names and ops, never error text), so the set
//! of series is known from this file alone. `http.rs` serves them.

pub mod http;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use metrics::{counter, gauge, Counter};

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

/// Per-table change counters, created once per table and kept by the decoder.
#[derive(Clone)]
pub struct TableCounters {
    create: Counter,
    update: Counter,
    delete: Counter,
}

impl TableCounters {
    pub fn new(table: &str) -> Self {
        let c = |op: &'static str| counter!(RECORDS, "table" => table.to_string(), "op" => op);
        TableCounters { create: c("c"), update: c("u"), delete: c("d") }
    }

    pub fn change(&self, op: Op) {
        match op {
            Op::Create => self.create.increment(1),
            Op::Update => self.update.increment(1),
            Op::Delete => self.delete.increment(1),
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
