//! Where the decoder meets incremental and blocking snapshots: signal rows
//! read from the signal table, streamed keys checked against an open
//! watermark window, and the rows of a closed window emitted in place.

use std::time::{SystemTime, UNIX_EPOCH};

use tracing::warn;

use super::{DecodeError, Decoder};
use crate::decode::cell::Cell;
use crate::envelope::{ChangeEvent, Op, SourceInfo};
use crate::snapshot::incremental::signal;
use crate::snapshot::incremental::{Action, Chunk, Controller};
use crate::snapshot::Ended;

/// A row of the signal table seen in the binlog.
pub(super) struct SignalRow {
    /// Index of the row in its rows event (for a position that re-reads it).
    pub index: u64,
    pub deleted: bool,
    pub id: String,
    pub kind: String,
    pub data: Option<String>,
}

impl SignalRow {
    /// From an inserted row's after image or a deleted row's before image
    /// (columns `id`, `type`, `data`, as Debezium's signal table).
    pub fn read(index: u64, deleted: bool, cells: &[Cell<'_>]) -> Option<SignalRow> {
        let text = |i: usize| match cells.get(i) {
            Some(Cell::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        };
        Some(SignalRow { index, deleted, id: text(0)?, kind: text(1).unwrap_or_default(), data: text(2) })
    }
}

/// The binlog event the signal rows came from.
pub(super) struct At {
    pub pos: u64,
    pub ts: u32,
    pub server_id: u32,
}

impl Decoder {
    /// Acts on `signal.data.collection` rows (execute/stop/pause/resume
    /// snapshot signals, window watermarks).
    pub fn with_incremental(mut self, controller: Controller) -> Self {
        self.incremental = Some(Box::new(controller));
        self
    }

    pub(super) fn is_signal_table(&self, db: &str, table: &str) -> bool {
        self.incremental.as_ref().is_some_and(|c| c.is_signal_table(db, table))
    }

    /// Whether streamed changes of `db.table` must be checked against an
    /// open window.
    pub(super) fn in_open_window(&self, db: &str, table: &str) -> bool {
        self.incremental
            .as_ref()
            .and_then(|c| c.open_window_table())
            .is_some_and(|t| t.0 == db && t.1 == table)
    }

    pub(super) fn discard_from_window(&mut self, keys: Vec<Vec<u8>>) {
        if let Some(c) = &mut self.incremental {
            for k in keys {
                c.discard(&k);
            }
        }
    }

    pub(super) async fn poll_incremental(&mut self) -> Result<(), DecodeError> {
        if let Some(c) = &mut self.incremental {
            c.poll().await?;
        }
        Ok(())
    }

    pub(super) async fn on_signals(&mut self, rows: Vec<SignalRow>, at: At) -> Result<(), DecodeError> {
        for row in rows {
            let Some(c) = self.incremental.as_mut() else { return Ok(()) };
            let action = if row.deleted {
                c.on_signal_deleted(&row.id).await?
            } else {
                match signal::parse(&row.id, &row.kind, row.data.as_deref()) {
                    Ok(s) => c.on_signal(s).await?,
                    Err(e) => {
                        warn!(file = %self.file, pos = at.pos, error = %e, "signal ignored");
                        Action::Nothing
                    }
                }
            };
            match action {
                Action::Nothing => {}
                Action::Emit(chunk) => self.emit_chunk(chunk, &at)?,
                Action::Blocking(tables) => self.blocking_snapshot(tables, row.index).await?,
            }
        }
        Ok(())
    }

    /// The rows left in a closed window, as `op: "r"` records placed here in
    /// the stream.
    fn emit_chunk(&mut self, chunk: Chunk, at: &At) -> Result<(), DecodeError> {
        let plan = &chunk.plan;
        let now_ns = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0);
        let mut out = std::mem::take(&mut self.batch);
        let first = out.len();
        let mut result = Ok(());
        for row in &chunk.rows {
            let cells = crate::snapshot::cells::row_cells(row, &plan.columns);
            let event = ChangeEvent {
                op: Op::Read,
                before: None,
                after: Some(&cells),
                source: SourceInfo {
                    ts_us: self.tx_ts_us.unwrap_or(i64::from(at.ts) * 1_000_000),
                    snapshot: "incremental",
                    db: &plan.id.0,
                    table: Some(&plan.id.1),
                    server_id: at.server_id,
                    gtid: self.gtid_text.as_deref(),
                    file: &self.file,
                    pos: at.pos,
                    row: 0,
                    thread: self.thread,
                    query: None,
                },
                now_ns,
            };
            if let Err(source) = self.transforms.row(&self.encoder, &plan.codec, &event, &mut out) {
                result = Err(DecodeError::Transform { file: self.file.clone(), pos: at.pos, source });
                break;
            }
            plan.counters.change(Op::Read);
        }
        for r in &out[first..] {
            self.batch_bytes += r.size_bytes();
        }
        self.batch = out;
        result
    }

    /// Hands everything decoded so far to the sink, then reads `tables` as
    /// a blocking snapshot. Its batches are stored with the position of the
    /// signal row itself, so a crash during it re-reads the signal.
    async fn blocking_snapshot(&mut self, tables: Vec<(String, String)>, signal_row: u64) -> Result<(), DecodeError> {
        let at = self.checkpoint(signal_row);
        self.flush(at.clone()).await?;
        let Some(c) = self.incremental.as_ref() else { return Ok(()) };
        if c.blocking_snapshot(tables, &self.out, at.clone()).await? == Ended::Interrupted {
            // Stopped: no later position may be stored, or the restart
            // would skip the signal.
            self.hold = Some(at);
        }
        Ok(())
    }
}
