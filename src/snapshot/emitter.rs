//! The emitter: drains the readers' ranges in global key order, sets
//! Debezium's `source.snapshot` markers, and hands pages to the sink as
//! batches whose position says how far the snapshot got.
//!
//! Markers (spec §2) need to know what comes next: whether a record is the
//! last of its table, or of the whole snapshot. So the emitter always holds
//! back the latest page and only sends it once the next page (or the end of
//! its table, or of everything) is known. Records are encoded by the readers
//! with `"snapshot":"true"`; the first and last record of a page get their
//! final marker patched in here (`set_marker`).
//!
//! Each batch carries the snapshot's binlog position with `snapshot:
//! "INITIAL"` and the resume state after its last row (`state.rs`); the
//! batch holding the very last record carries the plain position instead,
//! which marks the snapshot complete once Kafka has acknowledged it.

use std::sync::Arc;

use serde_json::Value as Json;
use tokio::sync::{mpsc, watch};

use super::progress::ProgressLog;
use super::reader::{Feed, Page};
use super::state::{self, Progress};
use super::tables::TablePlan;
use super::SnapshotError;
use crate::channel;
use crate::decode::decoder::Batch;
use crate::envelope::{Op, Record};
use crate::offsets::position::{Position, INITIAL_SNAPSHOT};

/// How the emitter ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    Complete,
    /// Shutdown was requested; what was sent is resumable.
    Interrupted,
}

struct Held {
    page: Page,
    /// `None`: the snapshot's schema change records.
    table: Option<Arc<TablePlan>>,
    first_in_table: bool,
    last_in_table: bool,
}

pub struct Emitter<'a> {
    out: &'a channel::Sender<Batch>,
    /// The snapshot's binlog position (the first consistent point, on resume).
    origin: Position,
    progress: Progress,
    first_sent: bool,
    held: Option<Held>,
    /// The table whose rows have started to flow (for first_in_data_collection).
    rows_seen_for: Option<usize>,
    log: ProgressLog,
    /// A blocking snapshot's position (see [`Emitter::with_fixed_position`]).
    fixed: Option<Position>,
}

/// Replaces the `source.snapshot` value `"true"` of an encoded snapshot
/// record. The source block is the last object of the value holding user
/// data (only `transaction`, `op` and `ts_*` follow it), and row values
/// before it cannot contain an unescaped `"snapshot":"true"` (string quotes
/// are escaped; a column *named* snapshot comes earlier), so the last
/// occurrence is the marker.
pub fn set_marker(value: &mut Vec<u8>, marker: &str) {
    const NEEDLE: &[u8] = b"\"snapshot\":\"true\"";
    if marker == "true" {
        return;
    }
    if let Some(at) = value.windows(NEEDLE.len()).rposition(|w| w == NEEDLE) {
        let start = at + b"\"snapshot\":\"".len();
        value.splice(start..start + 4, marker.bytes());
    }
}

/// Debezium's precedence: last > first > last_in_data_collection >
/// first_in_data_collection > true.
fn marker(first: bool, last: bool, first_in_table: bool, last_in_table: bool) -> &'static str {
    if last {
        "last"
    } else if first {
        "first"
    } else if last_in_table {
        "last_in_data_collection"
    } else if first_in_table {
        "first_in_data_collection"
    } else {
        "true"
    }
}

impl<'a> Emitter<'a> {
    /// `schema`: schema change records to send before the rows.
    pub fn new(
        out: &'a channel::Sender<Batch>,
        origin: Position,
        progress: Progress,
        tables: usize,
        schema: Vec<Record>,
    ) -> Self {
        let held = (!schema.is_empty()).then(|| {
            let bytes = schema.iter().map(Record::size_bytes).sum();
            Held {
                page: Page { records: schema, bytes, last_key: None },
                table: None,
                first_in_table: false,
                last_in_table: false,
            }
        });
        Emitter { out, origin, progress, first_sent: false, held, rows_seen_for: None, log: ProgressLog::new(tables), fixed: None }
    }

    /// Stores `fixed` with every batch instead of the snapshot's own
    /// positions (a blocking snapshot inside the stream).
    pub fn with_fixed_position(mut self, fixed: Option<Position>) -> Self {
        self.fixed = fixed;
        self
    }

    /// The position stored while the snapshot is incomplete.
    fn snapshot_position(&self) -> Position {
        if let Some(p) = &self.fixed {
            return p.clone();
        }
        let mut p = self.origin.clone();
        p.snapshot = Some(INITIAL_SNAPSHOT.into());
        p.extra.insert(state::KEY.into(), Json::String(self.progress.to_json()));
        p
    }

    async fn send(&mut self, mut h: Held, last_overall: bool) -> Result<(), SnapshotError> {
        let n = h.page.records.len();
        // Schema change records are all "true" but for a "last" when no
        // row follows; "first" is the first row's.
        let first_overall = !self.first_sent && h.table.is_some();
        let m0 = marker(first_overall, last_overall && n == 1, h.first_in_table, h.last_in_table && n == 1);
        if let Some(v) = h.page.records[0].value.as_mut() {
            set_marker(v, m0);
        }
        if n > 1 {
            let mn = marker(false, last_overall, false, h.last_in_table);
            if let Some(v) = h.page.records[n - 1].value.as_mut() {
                set_marker(v, mn);
            }
        }
        if let Some(table) = &h.table {
            self.first_sent = true;
            if h.last_in_table {
                self.progress.done.push(table.id.clone());
                self.progress.current = None;
            } else {
                self.progress.current = Some((table.id.clone(), h.page.last_key.take()));
            }
            for _ in 0..n {
                table.counters.change(Op::Read);
            }
        }
        let position = if last_overall && self.fixed.is_none() { self.origin.clone() } else { self.snapshot_position() };
        let batch = Batch { records: h.page.records, position, bytes: h.page.bytes };
        self.out.send(batch).await.map_err(|_| SnapshotError::SinkClosed)
    }

    /// Drains `feeds` until the readers are done (or shutdown).
    pub async fn run(
        mut self,
        mut feeds: mpsc::UnboundedReceiver<Feed>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<Ended, SnapshotError> {
        loop {
            let feed = tokio::select! {
                biased;
                _ = shutdown.changed() => return Ok(Ended::Interrupted),
                f = feeds.recv() => f,
            };
            let Some(mut feed) = feed else { break };
            if feed.first {
                self.log.start_table(&feed.table.name, feed.table.estimate);
            }
            let mut table_has_rows = self.rows_seen_for == Some(feed.table.index);
            loop {
                let page = tokio::select! {
                    biased;
                    _ = shutdown.changed() => return Ok(Ended::Interrupted),
                    p = feed.pages.recv() => p,
                };
                let page = match page {
                    None => break,
                    Some(Err(e)) => return Err(e),
                    Some(Ok(p)) => p,
                };
                if page.records.is_empty() {
                    continue;
                }
                self.log.rows(page.records.len() as u64);
                if let Some(h) = self.held.take() {
                    self.send(h, false).await?;
                }
                self.held =
                    Some(Held { page, table: Some(feed.table.clone()), first_in_table: !table_has_rows, last_in_table: false });
                table_has_rows = true;
                self.rows_seen_for = Some(feed.table.index);
            }
            drop(feed.permit);
            if feed.last {
                match &mut self.held {
                    Some(h) if h.table.as_ref().is_some_and(|t| t.index == feed.table.index) => h.last_in_table = true,
                    _ => self.progress.done.push(feed.table.id.clone()),
                }
                self.log.finish_table();
            }
        }
        match self.held.take() {
            Some(h) => self.send(h, true).await?,
            None => {
                let position = self.fixed.clone().unwrap_or_else(|| self.origin.clone());
                let batch = Batch { records: Vec::new(), position, bytes: 0 };
                self.out.send(batch).await.map_err(|_| SnapshotError::SinkClosed)?;
            }
        }
        self.log.finish();
        Ok(Ended::Complete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_replaces_the_source_field_only() {
        let mut v = br#"{"after":{"snapshot":"true","x":"\"snapshot\":\"true\""},"source":{"version":"1","snapshot":"true","db":"d"},"op":"r"}"#.to_vec();
        set_marker(&mut v, "last_in_data_collection");
        assert_eq!(
            String::from_utf8(v).unwrap(),
            r#"{"after":{"snapshot":"true","x":"\"snapshot\":\"true\""},"source":{"version":"1","snapshot":"last_in_data_collection","db":"d"},"op":"r"}"#
        );
    }

    #[test]
    fn marker_precedence() {
        assert_eq!(marker(true, true, true, true), "last");
        assert_eq!(marker(true, false, true, true), "first");
        assert_eq!(marker(false, false, true, true), "last_in_data_collection");
        assert_eq!(marker(false, false, true, false), "first_in_data_collection");
        assert_eq!(marker(false, false, false, false), "true");
    }
}
