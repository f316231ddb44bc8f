//! Incremental snapshots: the rows of tables named by an `execute-snapshot`
//! signal, read in primary-key chunks while streaming goes on (Debezium's
//! DBLog watermarking, spec §10). Also the hand-off of blocking snapshots.
//!
//! # Why a chunk read while streaming is correct
//!
//! For each chunk the controller inserts a `<chunk>-open` row into the
//! signal table, selects the chunk (committed rows, after the open row),
//! and inserts `<chunk>-close` (or deletes the open row, with
//! `insert_delete`). The decoder meets both rows in the binlog. Any change
//! between them may or may not be in the selected rows, so while the window
//! is open every streamed change of the table removes its key from the
//! chunk; at the close row the rows left are emitted as `op: "r"`. A row
//! then reaches Kafka either as its selected state, placed in the stream
//! where no later change to it precedes it, or only through its changes:
//! folded per key, the topic ends at the table's state.
//!
//! The chunk is read inside the decoder's event handling (as Debezium reads
//! it on its streaming thread): binlog events wait in the socket meanwhile,
//! and memory holds one chunk. Progress (tables left, last key delivered,
//! the key bound) rides on each stored position (`state.rs`), so a restart
//! continues after the last delivered chunk.

pub mod signal;
pub mod state;

use std::collections::HashMap;
use std::sync::Arc;

use mysql_async::prelude::Queryable;
use mysql_async::{Pool, Row, Value};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::consistent::quote;
use super::state::TableId;
use super::progress::ProgressLog;
use super::tables::TablePlan;
use super::{SnapshotError, SnapshotSettings};
use crate::decode::decoder::TableFilter;
use crate::envelope::{EnvelopeConfig, Encoder};
use crate::offsets::position::Position;
use crate::schema::{Catalog, CatalogError};
use crate::source::SourceConfig;
use signal::{Kind, Signal};
use state::{Collection, State};

/// What the incremental snapshot needs from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `signal.data.collection`.
    pub signal_table: TableId,
    /// `incremental.snapshot.chunk.size`.
    pub chunk_size: u64,
    /// `incremental.snapshot.watermarking.strategy=insert_delete`.
    pub insert_delete: bool,
}

/// What a blocking snapshot needs (the initial snapshot's machinery).
pub struct BlockingContext {
    pub settings: SnapshotSettings,
    pub source: SourceConfig,
    pub envelope: EnvelopeConfig,
    pub shutdown: watch::Receiver<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum IncrementalError {
    #[error("incremental snapshot: {context}: {source}. A restart continues after the last delivered chunk")]
    Query {
        context: String,
        #[source]
        source: mysql_async::Error,
    },
    #[error("incremental snapshot: {0}")]
    Catalog(#[from] CatalogError),
    #[error("incremental snapshot: {0}")]
    Snapshot(#[from] SnapshotError),
}

/// The rows a closed window hands to the decoder for emission.
pub struct Chunk {
    pub plan: Arc<TablePlan>,
    pub rows: Vec<Row>,
}

/// What the decoder does after a signal.
pub enum Action {
    Nothing,
    /// Emit these rows as `op: "r"`, `source.snapshot: "incremental"`.
    Emit(Chunk),
    /// Pause streaming and snapshot these tables (signal `blocking`).
    Blocking(Vec<TableId>),
}

/// One chunk between its watermarks.
struct Window {
    id: String,
    open: bool,
    rows: Vec<Option<Row>>,
    /// Key bytes (as the record key is written) → index in `rows`.
    index: HashMap<Vec<u8>, usize>,
    last_key: Option<Vec<Value>>,
    /// The table ends with this chunk.
    last: bool,
}

pub struct Controller {
    settings: Settings,
    pool: Pool,
    filters: Arc<dyn TableFilter>,
    catalog: Catalog,
    encoder: Arc<Encoder>,
    state: State,
    /// Plan of `state.tables[0]`, once loaded.
    plan: Option<Arc<TablePlan>>,
    window: Option<Window>,
    /// Restored from a stored position: read the next chunk when streaming runs.
    pending_start: bool,
    rows_emitted: u64,
    /// Per-table progress logs and gauges (as the initial snapshot's).
    log: Option<ProgressLog>,
    pub blocking: Option<BlockingContext>,
}

fn q(context: impl Into<String>) -> impl FnOnce(mysql_async::Error) -> IncrementalError {
    let context = context.into();
    move |source| IncrementalError::Query { context, source }
}

fn chunk_id() -> String {
    // 32 hex digits: with "-close", within the signal table's VARCHAR(42).
    uuid::Uuid::new_v4().simple().to_string()
}

fn name(t: &TableId) -> String {
    format!("{}.{}", t.0, t.1)
}

impl Controller {
    pub fn new(settings: Settings, pool: Pool, filters: Arc<dyn TableFilter>, encoder: Arc<Encoder>, start: &Position) -> Self {
        let state = State::from_position(start).unwrap_or_default();
        let pending_start = !state.is_idle() && !state.paused;
        if !state.is_idle() {
            info!(tables = state.tables.len(), current = %name(&state.tables[0].id), paused = state.paused,
                "resuming the incremental snapshot after the last delivered chunk");
        }
        Controller {
            settings,
            catalog: Catalog::new(pool.clone()),
            pool,
            filters,
            encoder,
            state,
            plan: None,
            window: None,
            pending_start,
            rows_emitted: 0,
            log: None,
            blocking: None,
        }
    }

    pub fn is_signal_table(&self, db: &str, table: &str) -> bool {
        self.settings.signal_table.0 == db && self.settings.signal_table.1 == table
    }

    /// Adds the snapshot's progress to a position about to be stored.
    pub fn store_in(&self, p: &mut Position) {
        self.state.store_in(p);
    }

    /// The table whose streamed changes must be checked against the open
    /// window, if a window is open.
    pub fn open_window_table(&self) -> Option<&TableId> {
        match (&self.window, &self.plan) {
            (Some(w), Some(p)) if w.open => Some(&p.id),
            _ => None,
        }
    }

    /// A streamed change touched this key inside the window: its selected
    /// row is stale or about to be, and the change itself is in the stream.
    pub fn discard(&mut self, key: &[u8]) {
        if let Some(w) = &mut self.window {
            if let Some(i) = w.index.remove(key) {
                w.rows[i] = None;
            }
        }
    }

    /// Called before each event: a snapshot restored from the stored
    /// position reads its next chunk once streaming runs.
    pub async fn poll(&mut self) -> Result<(), IncrementalError> {
        if std::mem::take(&mut self.pending_start) {
            self.next_chunk().await?;
        }
        Ok(())
    }

    /// Acts on a signal row read from the binlog.
    pub async fn on_signal(&mut self, signal: Signal) -> Result<Action, IncrementalError> {
        match signal {
            Signal::Execute { collections, kind, conditions } => {
                let tables = self.resolve(&collections).await?;
                if tables.is_empty() {
                    warn!(collections = ?collections, "execute-snapshot names no captured table; nothing to do");
                    return Ok(Action::Nothing);
                }
                if kind == Kind::Blocking {
                    return Ok(Action::Blocking(tables));
                }
                for id in tables {
                    if self.state.tables.iter().any(|c| c.id == id) {
                        continue;
                    }
                    let filter = conditions
                        .iter()
                        .find(|(t, _)| t.eq_ignore_ascii_case(&name(&id)))
                        .map(|(_, f)| f.clone());
                    info!(table = %name(&id), filter = ?filter, "incremental snapshot requested");
                    self.state.tables.push(Collection { id, filter });
                }
                if self.window.is_none() && !self.state.paused {
                    self.next_chunk().await?;
                }
            }
            Signal::Stop { collections } => {
                let stop_all = collections.is_empty();
                let patterns = patterns(&collections);
                let before = self.state.tables.len();
                let current = self.state.tables.first().map(|c| c.id.clone());
                self.state.tables.retain(|c| !stop_all && !patterns.iter().any(|p| p.is_match(&name(&c.id))));
                info!(stopped = before - self.state.tables.len(), left = self.state.tables.len(), "stop-snapshot");
                if self.state.tables.first().map(|c| &c.id) != current.as_ref() {
                    self.reset_table();
                    if !self.state.paused {
                        self.next_chunk().await?;
                    }
                }
            }
            Signal::Pause => {
                info!("pause-snapshot: the incremental snapshot stops after the current chunk");
                self.state.paused = true;
            }
            Signal::Resume => {
                if self.state.paused {
                    info!("resume-snapshot");
                    self.state.paused = false;
                    if self.window.is_none() {
                        self.next_chunk().await?;
                    }
                }
            }
            Signal::WindowOpen(id) => {
                if let Some(w) = self.window.as_mut().filter(|w| w.id == id) {
                    w.open = true;
                }
            }
            Signal::WindowClose(id) => return self.close(&id).await,
            Signal::Ignored(kind) => debug!(signal = %kind, "signal not acted on"),
        }
        Ok(Action::Nothing)
    }

    /// The `-open` row deleted (`insert_delete`): that window closes.
    pub async fn on_signal_deleted(&mut self, id: &str) -> Result<Action, IncrementalError> {
        match id.strip_suffix("-open") {
            Some(chunk) if self.settings.insert_delete => self.close(chunk).await,
            _ => Ok(Action::Nothing),
        }
    }

    async fn close(&mut self, id: &str) -> Result<Action, IncrementalError> {
        let Some(w) = self.window.take_if(|w| w.id == id) else { return Ok(Action::Nothing) };
        let Some(plan) = self.plan.clone() else { return Ok(Action::Nothing) };
        let rows: Vec<Row> = w.rows.into_iter().flatten().collect();
        self.rows_emitted += rows.len() as u64;
        if let Some(log) = &mut self.log {
            log.rows(rows.len() as u64);
        }
        if w.last {
            info!(table = %plan.name, rows = self.rows_emitted, "incremental snapshot of the table done");
            self.state.tables.remove(0);
            self.reset_table();
            if self.state.tables.is_empty() {
                if let Some(log) = self.log.take() {
                    log.finish();
                }
                info!("incremental snapshot complete");
            }
        } else {
            self.state.after = w.last_key;
        }
        if !self.state.paused {
            self.next_chunk().await?;
        }
        Ok(Action::Emit(Chunk { plan, rows }))
    }

    fn reset_table(&mut self) {
        if let (Some(log), Some(_)) = (&mut self.log, &self.plan) {
            log.finish_table();
        }
        self.window = None;
        self.plan = None;
        self.state.after = None;
        self.state.max = None;
        self.rows_emitted = 0;
    }

    /// Captured tables matching the signal's names or regexes.
    async fn resolve(&mut self, collections: &[String]) -> Result<Vec<TableId>, IncrementalError> {
        let mut conn = self.pool.get_conn().await.map_err(q("connecting"))?;
        let all = super::tables::discover(&mut conn, self.filters.as_ref()).await?;
        let patterns = patterns(collections);
        Ok(all
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| !self.is_signal_table(&id.0, &id.1) && patterns.iter().any(|p| p.is_match(&name(id))))
            .collect())
    }

    /// Opens the next chunk's window: watermark, select, watermark.
    async fn next_chunk(&mut self) -> Result<(), IncrementalError> {
        let mut conn = self.pool.get_conn().await.map_err(q("connecting"))?;
        loop {
            let Some(current) = self.state.tables.first().cloned() else { return Ok(()) };
            let plan = match &self.plan {
                Some(p) => p.clone(),
                None => {
                    let schema = match self.catalog.get(&current.id.0, &current.id.1).await {
                        Ok(s) => s,
                        Err(CatalogError::NotFound { .. }) => {
                            warn!(table = %name(&current.id), "table to snapshot no longer exists; skipped");
                            self.state.tables.remove(0);
                            self.reset_table();
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    };
                    let (db, t) = current.id.clone();
                    let f = self.filters.clone();
                    let codec = Arc::new(self.encoder.codec(schema.clone(), &|col| f.column(&db, &t, col)));
                    let estimate: Option<Option<u64>> = conn
                        .exec_first(
                            "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                            (&db, &t),
                        )
                        .await
                        .map_err(q(format!("estimating the rows of {}", name(&current.id))))?;
                    let estimate = estimate.flatten().unwrap_or(0);
                    let plan = Arc::new(TablePlan::new(0, current.id.clone(), schema, codec, estimate, None, &mut conn).await?);
                    let tables = self.state.tables.len();
                    self.log.get_or_insert_with(|| ProgressLog::new(tables)).start_table(&plan.name, estimate);
                    self.plan = Some(plan.clone());
                    plan
                }
            };
            if plan.key.is_empty() {
                warn!(table = %plan.name, "incremental snapshot needs a primary key (or a NOT NULL unique key); table skipped");
                self.state.tables.remove(0);
                self.reset_table();
                continue;
            }
            let filter = current.filter.as_deref();
            if self.state.max.is_none() {
                let top: Option<Row> =
                    conn.query_first(plan.max_key_query(filter)).await.map_err(q(format!("reading the largest key of {}", plan.name)))?;
                match top.and_then(|r| plan.key_of(&r)) {
                    Some(k) => self.state.max = Some(k),
                    None => {
                        info!(table = %plan.name, "incremental snapshot: table is empty");
                        self.state.tables.remove(0);
                        self.reset_table();
                        continue;
                    }
                }
            }
            let max = self.state.max.clone().unwrap_or_default();
            let id = chunk_id();
            self.watermark(&mut conn, &id, "open", &plan.name).await?;
            let (sql, params) = plan.window_query(self.state.after.as_deref(), &max, filter, self.settings.chunk_size);
            let rows: Vec<Row> = conn.exec(sql, params).await.map_err(q(format!("reading a chunk of {}", plan.name)))?;
            let last = (rows.len() as u64) < self.settings.chunk_size || rows.last().and_then(|r| plan.key_of(r)).as_ref() == Some(&max);
            let mut index = HashMap::with_capacity(rows.len());
            for (i, row) in rows.iter().enumerate() {
                let cells = super::cells::row_cells(row, &plan.columns);
                if let Some(k) = self.encoder.key_bytes(&plan.codec, &cells) {
                    index.insert(k, i);
                }
            }
            debug!(table = %plan.name, chunk = %id, rows = rows.len(), last, "incremental snapshot chunk read");
            let last_key = rows.last().and_then(|r| plan.key_of(r));
            self.window = Some(Window { id: id.clone(), open: false, rows: rows.into_iter().map(Some).collect(), index, last_key, last });
            if self.settings.insert_delete {
                let sql = format!("DELETE FROM {} WHERE id = ?", self.signal_table());
                conn.exec_drop(sql, (format!("{id}-open"),)).await.map_err(q("closing a window in the signal table"))?;
            } else {
                self.watermark(&mut conn, &id, "close", &plan.name).await?;
            }
            return Ok(());
        }
    }

    fn signal_table(&self) -> String {
        format!("{}.{}", quote(&self.settings.signal_table.0), quote(&self.settings.signal_table.1))
    }

    async fn watermark(&self, conn: &mut mysql_async::Conn, id: &str, side: &str, table: &str) -> Result<(), IncrementalError> {
        let sql = format!("INSERT INTO {} (id, type, data) VALUES (?, ?, ?)", self.signal_table());
        let data = serde_json::json!({ "dataCollectionId": table }).to_string();
        conn.exec_drop(sql, (format!("{id}-{side}"), format!("snapshot-window-{side}"), data))
            .await
            .map_err(q(format!("writing the {side} watermark into {} (the user needs INSERT on it)", name(&self.settings.signal_table))))
    }

    /// Runs a blocking snapshot of `tables`, sending its batches to `out`,
    /// each stored with `at` (see [`super::blocking`]).
    pub async fn blocking_snapshot(
        &self,
        tables: Vec<TableId>,
        out: &crate::channel::Sender<crate::decode::decoder::Batch>,
        at: Position,
    ) -> Result<super::Ended, IncrementalError> {
        let Some(ctx) = &self.blocking else { return Ok(super::Ended::Complete) };
        info!(tables = ?tables.iter().map(name).collect::<Vec<_>>(), "blocking snapshot: streaming paused");
        let filters: Arc<dyn TableFilter> = Arc::new(Only { inner: self.filters.clone(), tables });
        let cx = super::Context {
            settings: &ctx.settings,
            source: &ctx.source,
            pool: &self.pool,
            envelope: ctx.envelope.clone(),
            filters,
            out,
            shutdown: ctx.shutdown.clone(),
        };
        let ended = super::blocking(cx, at).await?;
        info!(ended = ?ended, "blocking snapshot finished; streaming resumes");
        Ok(ended)
    }
}

/// Data-collection names are regexes matched against the whole `db.table`.
fn patterns(collections: &[String]) -> Vec<regex::Regex> {
    collections
        .iter()
        .filter_map(|c| match regex::RegexBuilder::new(&format!("^(?:{c})$")).case_insensitive(true).build() {
            Ok(r) => Some(r),
            Err(e) => {
                warn!(collection = %c, error = %e, "data-collection is not a valid regex; ignored");
                None
            }
        })
        .collect()
}

/// The captured tables restricted to a blocking snapshot's list.
struct Only {
    inner: Arc<dyn TableFilter>,
    tables: Vec<TableId>,
}

impl TableFilter for Only {
    fn database(&self, db: &str) -> bool {
        self.tables.iter().any(|t| t.0 == db)
    }
    fn table(&self, db: &str, table: &str) -> bool {
        self.tables.iter().any(|t| t.0 == db && t.1 == table)
    }
    fn column(&self, db: &str, table: &str, column: &str) -> bool {
        self.inner.column(db, table, column)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunk_ids_fit_the_signal_table() {
        let a = super::chunk_id();
        let b = super::chunk_id();
        assert_ne!(a, b);
        assert!(format!("{a}-close").len() <= 42);
    }

    #[test]
    fn collection_patterns_match_whole_names() {
        let p = super::patterns(&["inv.customers".into(), "inv\\.o.*".into()]);
        let m = |n: &str| p.iter().any(|r| r.is_match(n));
        assert!(m("inv.customers") && m("INV.Customers") && m("inv.orders"));
        assert!(!m("inv.customers2") && !m("xinv.orders"));
    }
}
