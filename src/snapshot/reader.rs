//! Readers: each owns one connection of the consistent point, takes the
//! next range (in global order) from the planner, and streams that range's
//! rows, encoded, as pages into a channel of its own that the emitter
//! drains in range order.
//!
//! Memory is bounded by construction: a reader holds at most one page (its
//! chunk query is streamed, not collected), each range channel holds
//! [`PAGES_PER_RANGE`] pages, and a reader must get a permit before taking a
//! range, which the emitter returns only when it has drained that range. The
//! range at the head of the emitter's queue always has its reader running,
//! so the permits can never all be held by ranges waiting behind it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value};
use tokio::sync::{mpsc, Mutex, OwnedSemaphorePermit, Semaphore};
use tracing::debug;

use super::tables::{Range, TablePlan};
use super::SnapshotError;
use crate::envelope::{ChangeEvent, Encoder, Op, Record, SourceInfo};

/// Pages a reader may run ahead of the emitter within one range.
pub const PAGES_PER_RANGE: usize = 2;

/// Encoded records of consecutive rows of one range.
pub struct Page {
    pub records: Vec<Record>,
    pub bytes: usize,
    /// Chunk key of the page's last row (`None` for tables without one).
    pub last_key: Option<Vec<Value>>,
}

/// One range as the emitter sees it.
pub struct Feed {
    pub table: Arc<TablePlan>,
    /// The first / last range of its table.
    pub first: bool,
    pub last: bool,
    pub pages: mpsc::Receiver<Result<Page, SnapshotError>>,
    pub permit: OwnedSemaphorePermit,
}

/// Source facts shared by every record of the snapshot.
#[derive(Clone)]
pub struct Origin {
    pub file: Arc<str>,
    pub pos: u64,
}

/// Hands out ranges in the global order: tables in order, each table's
/// ranges in key order; registers each with the emitter as it goes.
pub struct Planner {
    tables: VecDeque<Arc<TablePlan>>,
    pending: VecDeque<(Arc<TablePlan>, Range, bool, bool)>,
    ranges_per_table: usize,
    feeds: mpsc::UnboundedSender<Feed>,
    /// Source time of each table: the server clock when its scan starts.
    pub table_ts_us: std::collections::HashMap<usize, i64>,
}

impl Planner {
    pub fn new(tables: Vec<Arc<TablePlan>>, ranges_per_table: usize, feeds: mpsc::UnboundedSender<Feed>) -> Self {
        Planner { tables: tables.into(), pending: VecDeque::new(), ranges_per_table, feeds, table_ts_us: Default::default() }
    }

    /// The next range and the sender for its pages; `None` when all are handed out.
    async fn next(
        &mut self,
        conn: &mut Conn,
        permit: OwnedSemaphorePermit,
    ) -> Result<Option<(Arc<TablePlan>, Range, i64, mpsc::Sender<Result<Page, SnapshotError>>)>, SnapshotError> {
        if self.pending.is_empty() {
            let Some(table) = self.tables.pop_front() else { return Ok(None) };
            let n = if table.estimate > 0 { self.ranges_per_table } else { 1 };
            let ranges = table.ranges(conn, n).await?;
            let now: Option<i64> = conn.query_first("SELECT UNIX_TIMESTAMP()").await.ok().flatten();
            let ts = now.map_or_else(
                || SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0),
                |s| s * 1_000_000,
            );
            self.table_ts_us.insert(table.index, ts);
            let count = ranges.len();
            debug!(table = %table.name, ranges = count, "planned");
            for (i, r) in ranges.into_iter().enumerate() {
                self.pending.push_back((table.clone(), r, i == 0, i + 1 == count));
            }
        }
        let Some((table, range, first, last)) = self.pending.pop_front() else { return Ok(None) };
        let (tx, rx) = mpsc::channel(PAGES_PER_RANGE);
        let ts = self.table_ts_us.get(&table.index).copied().unwrap_or(0);
        if self.feeds.send(Feed { table: table.clone(), first, last, pages: rx, permit }).is_err() {
            return Err(SnapshotError::SinkClosed);
        }
        Ok(Some((table, range, ts, tx)))
    }
}

/// Limits of one page.
#[derive(Clone, Copy)]
pub struct PageLimits {
    pub rows: usize,
    pub bytes: usize,
    pub fetch_size: u64,
}

/// One reader's loop: ranges until none are left.
pub async fn run(
    mut conn: Conn,
    planner: Arc<Mutex<Planner>>,
    permits: Arc<Semaphore>,
    encoder: Arc<Encoder>,
    origin: Origin,
    limits: PageLimits,
    mut transforms: crate::transform::Transforms,
) -> Result<(), SnapshotError> {
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else { return Ok(()) };
        let next = planner.lock().await.next(&mut conn, permit).await?;
        let Some((table, range, ts_us, tx)) = next else { break };
        match read_range(&mut conn, &table, &range, ts_us, &tx, &encoder, &origin, limits, &mut transforms).await {
            Ok(()) => {}
            Err(SnapshotError::SinkClosed) => return Ok(()),
            Err(e) => {
                let message = e.to_string();
                let _ = tx.send(Err(e)).await;
                return Err(SnapshotError::Reader(message));
            }
        }
    }
    let _ = conn.query_drop("COMMIT").await;
    let _ = conn.disconnect().await;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn read_range(
    conn: &mut Conn,
    table: &TablePlan,
    range: &Range,
    ts_us: i64,
    tx: &mpsc::Sender<Result<Page, SnapshotError>>,
    encoder: &Encoder,
    origin: &Origin,
    limits: PageLimits,
    transforms: &mut crate::transform::Transforms,
) -> Result<(), SnapshotError> {
    let now_ns = || SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0);
    let mut cursor = range.start.clone();
    let db = table.id.0.as_str();
    let name = table.id.1.as_str();
    loop {
        let (sql, params) = table.chunk_query(range, cursor.as_deref(), limits.fetch_size);
        let err = |source| SnapshotError::Query { context: format!("reading {}", table.name), source };
        let mut result = conn.exec_iter(sql, params).await.map_err(err)?;
        let mut rows_in_chunk: u64 = 0;
        let mut page = Page { records: Vec::with_capacity(limits.rows.min(4096)), bytes: 0, last_key: None };
        let mut last_row: Option<mysql_async::Row> = None;
        let now = now_ns();
        while let Some(row) = result.next().await.map_err(err)? {
            rows_in_chunk += 1;
            {
                let cells = super::cells::row_cells(&row, &table.columns);
                let event = ChangeEvent {
                    op: Op::Read,
                    before: None,
                    after: Some(&cells),
                    source: SourceInfo {
                        ts_us,
                        snapshot: "true",
                        db,
                        table: Some(name),
                        server_id: 0,
                        gtid: None,
                        file: &origin.file,
                        pos: origin.pos,
                        row: 0,
                        thread: None,
                        query: None,
                    },
                    now_ns: now,
                };
                let first = page.records.len();
                transforms
                    .row(encoder, &table.codec, &event, &mut page.records)
                    .map_err(|e| SnapshotError::Reader(e.to_string()))?;
                for r in &page.records[first..] {
                    page.bytes += r.size_bytes();
                }
            }
            if page.records.len() >= limits.rows || page.bytes >= limits.bytes {
                page.last_key = table.key_of(&row);
                let full = std::mem::replace(
                    &mut page,
                    Page { records: Vec::with_capacity(limits.rows.min(4096)), bytes: 0, last_key: None },
                );
                tx.send(Ok(full)).await.map_err(|_| SnapshotError::SinkClosed)?;
            }
            last_row = Some(row);
        }
        drop(result);
        let key = last_row.as_ref().and_then(|r| table.key_of(r));
        if !page.records.is_empty() {
            page.last_key = key.clone();
            tx.send(Ok(page)).await.map_err(|_| SnapshotError::SinkClosed)?;
        }
        if table.key.is_empty() || rows_in_chunk < limits.fetch_size {
            return Ok(());
        }
        cursor = key;
    }
}
