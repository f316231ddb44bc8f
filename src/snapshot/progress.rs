//! Per-table progress: rows done against the server's estimate
//! (`information_schema.TABLES.TABLE_ROWS`, approximate for InnoDB), rate and
//! time left, logged at a steady interval and exported as gauges.

use std::time::{Duration, Instant};

use tracing::info;

use crate::telemetry;

const INTERVAL: Duration = Duration::from_secs(10);

pub struct ProgressLog {
    started: Instant,
    last_log: Instant,
    tables_total: usize,
    tables_done: usize,
    rows_total: u64,
    table: Option<TableProgress>,
}

struct TableProgress {
    name: String,
    estimate: u64,
    rows: u64,
    started: Instant,
}

impl ProgressLog {
    pub fn new(tables_total: usize) -> Self {
        let now = Instant::now();
        telemetry::snapshot_tables(tables_total, 0);
        ProgressLog { started: now, last_log: now, tables_total, tables_done: 0, rows_total: 0, table: None }
    }

    pub fn start_table(&mut self, name: &str, estimate: u64) {
        info!(table = %name, rows_estimated = estimate, "snapshot of table started");
        self.table = Some(TableProgress { name: name.to_string(), estimate, rows: 0, started: Instant::now() });
    }

    pub fn rows(&mut self, n: u64) {
        self.rows_total += n;
        if let Some(t) = &mut self.table {
            t.rows += n;
            telemetry::snapshot_rows(&t.name, t.rows, t.estimate);
        }
        if self.last_log.elapsed() >= INTERVAL {
            self.last_log = Instant::now();
            if let Some(t) = &self.table {
                let secs = t.started.elapsed().as_secs_f64().max(0.001);
                let rate = t.rows as f64 / secs;
                let left = t.estimate.saturating_sub(t.rows);
                let eta = if rate > 0.0 { left as f64 / rate } else { 0.0 };
                info!(
                    table = %t.name, rows_done = t.rows, rows_estimated = t.estimate,
                    rows_per_second = rate as u64, eta_seconds = eta as u64,
                    tables_done = self.tables_done, tables_total = self.tables_total,
                    "snapshot progress"
                );
            }
        }
    }

    pub fn finish_table(&mut self) {
        self.tables_done += 1;
        telemetry::snapshot_tables(self.tables_total, self.tables_done);
        if let Some(t) = self.table.take() {
            let secs = t.started.elapsed().as_secs_f64();
            info!(
                table = %t.name, rows = t.rows, seconds = format!("{secs:.2}"),
                rows_per_second = (t.rows as f64 / secs.max(0.001)) as u64,
                tables_done = self.tables_done, tables_total = self.tables_total,
                "snapshot of table read"
            );
        }
    }

    pub fn finish(&self) {
        let secs = self.started.elapsed().as_secs_f64();
        info!(
            tables = self.tables_total, rows = self.rows_total, seconds = format!("{secs:.2}"),
            rows_per_second = (self.rows_total as f64 / secs.max(0.001)) as u64,
            "snapshot completed"
        );
    }
}
