//! Turns the binlog event stream into batches of Kafka records, and keeps
//! the position a restart must resume from.
//!
//! Position rules (Debezium's, spec §6): outside a transaction the restart
//! point is just after the last event. Inside one it is the transaction's
//! first event (BEGIN, or MariaDB's GTID event) with the GTID set as it was
//! before the transaction, plus `event` = events of the transaction already
//! handled and `row` = rows already emitted from the next rows event. After a
//! reconnect, or a restart from such a position, the decoder replays the
//! transaction and skips exactly that many events and rows, so nothing is
//! emitted twice and nothing is missed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mysql_common::binlog::events::{
    Event, EventData, GtidEvent, QueryEvent, RotateEvent, RowsEventData, TableMapEvent,
};
use tracing::{debug, warn};

use super::cell::Cell;
use super::rows::{self, ColumnPlan, Reader, RowsError};
use crate::channel;
use crate::envelope::{ChangeEvent, Encoder, Flavor, Op, Record, SourceInfo, TableCodec};
use crate::offsets::gtid_mariadb::{decode_gtid_event, MariaGtid, MariaGtidPos};
use crate::offsets::gtid_mysql::{Gtid, GtidSet};
use crate::offsets::position::{GtidState, Position};
use crate::schema::ddl::{classify, Statement};
use crate::schema::{Catalog, CatalogError, ColumnKind, MinimalMetadata, TableSchema};
use crate::source::StartAt;
use crate::telemetry;

/// Glue to the transform stage (transaction metadata, heartbeats, truncates).
mod transform_hooks;
/// Glue to incremental and blocking snapshots (signals, watermark windows).
mod snapshot_hooks;

/// Records handed to the sink together with the position that is safe to
/// store once all of them (and everything before) are acknowledged.
pub struct Batch {
    pub records: Vec<Record>,
    pub position: Position,
    pub bytes: usize,
}

impl channel::Sized_ for Batch {
    fn size_bytes(&self) -> usize {
        self.bytes + 64
    }
}

/// Which tables and columns are captured (the include/exclude lists).
pub trait TableFilter: Send + Sync {
    fn database(&self, db: &str) -> bool;
    fn table(&self, db: &str, table: &str) -> bool;
    fn column(&self, db: &str, table: &str, column: &str) -> bool;
}

impl TableFilter for crate::config::Filters {
    fn database(&self, db: &str) -> bool {
        self.include_database(db)
    }
    fn table(&self, db: &str, table: &str) -> bool {
        self.include_table(db, table)
    }
    fn column(&self, db: &str, table: &str, column: &str) -> bool {
        self.include_column(db, table, column)
    }
}

/// What to do with rows of a table whose structure cannot be resolved
/// (`inconsistent.schema.handling.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InconsistentSchema {
    Fail,
    Warn,
    Skip,
}

pub struct DecoderConfig {
    pub flavor: Flavor,
    pub inconsistent_schema: InconsistentSchema,
    /// Flush a batch once it holds this many records or bytes.
    pub batch_records: usize,
    pub batch_bytes: usize,
    /// Emit schema change records (`include.schema.changes`).
    pub schema_changes: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("cannot decode a row of `{table}` at {file}:{pos}: {source}. Check binlog_row_image=FULL; if the table changed since, see the README on schema changes")]
    Rows {
        table: String,
        file: String,
        pos: u64,
        #[source]
        source: RowsError,
    },
    #[error("cannot resolve the structure of `{table}` at {file}:{pos}: {source}{}", schema_hint(source))]
    Schema {
        table: String,
        file: String,
        pos: u64,
        #[source]
        source: CatalogError,
    },
    #[error("the binlog of `{table}` at {file}:{pos} has {binlog} columns ({detail}) but the table now has {current}: the table changed after this row was written. Set inconsistent.schema.handling.mode=warn/skip to skip such rows, or restart from a position after the change")]
    SchemaMismatch {
        table: String,
        file: String,
        pos: u64,
        binlog: usize,
        current: usize,
        detail: String,
    },
    #[error("unreadable {kind} event at {file}:{pos}: {message}")]
    Event { kind: &'static str, file: String, pos: u64, message: String },
    #[error("the sink stopped; no more records can be delivered")]
    SinkClosed,
    #[error(transparent)]
    Incremental(#[from] crate::snapshot::incremental::IncrementalError),
    #[error("{source} (binlog {file}:{pos})")]
    Transform {
        file: String,
        pos: u64,
        #[source]
        source: crate::transform::TransformError,
    },
}

/// What to do about a table the catalog cannot describe; nothing for a
/// failed query, which a restart retries.
fn schema_hint(e: &CatalogError) -> &'static str {
    match e {
        CatalogError::Query { .. } => "",
        _ => ". Set inconsistent.schema.handling.mode=warn/skip to skip the rows of such tables (they will be missing downstream), or restart from a position after the change",
    }
}

/// A table as mapped by TABLE_MAP.
enum Mapped {
    Captured(Arc<Captured>),
    Ignored,
}

struct Captured {
    codec: Arc<TableCodec>,
    plans: Vec<ColumnPlan>,
    unsigned: Vec<bool>,
    counters: telemetry::TableCounters,
    /// Raw TABLE_MAP column types + metadata, to recognise a repeat.
    signature: Vec<u8>,
    /// Its changes become records (false: the signal table, not captured).
    emit: bool,
    /// The signal table (`signal.data.collection`).
    signal: bool,
}

/// Events and rows to skip after (re)starting inside a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Skip {
    events: u64,
    rows: u64,
}

pub struct Decoder {
    cfg: DecoderConfig,
    encoder: Encoder,
    catalog: Catalog,
    filters: Arc<dyn TableFilter>,
    out: channel::Sender<Batch>,

    /// Restart point: the last completed position (outside a transaction) or
    /// the start of the open transaction.
    base: Position,
    /// GTIDs of completed transactions.
    gtids: Option<GtidState>,
    file: String,
    in_tx: bool,
    events_in_tx: u64,
    /// GTID of the open transaction (source.gtid).
    gtid_text: Option<String>,
    maria_gtid: Option<MariaGtid>,
    mysql_gtid: Option<Gtid>,
    /// MariaDB group without XID (DDL / non-transactional statement).
    standalone: bool,
    thread: Option<u32>,
    /// MySQL GTID mode: the source time of the transaction, from its GTID
    /// event (`original_commit_timestamp`, µs; spec §2).
    tx_ts_us: Option<i64>,
    /// Position and end of the TRANSACTION_PAYLOAD whose events are being
    /// handled: they carry `log_pos` 0 and are placed at the payload.
    payload: Option<(u64, u64)>,
    skip: Option<Skip>,
    tables: HashMap<u64, Mapped>,
    by_name: HashMap<(String, String), Arc<Captured>>,
    /// Body of the TABLE_MAP event that mapped each captured table id: the
    /// same bytes again (every transaction repeats it) map to the same
    /// table, without name filters, allocations or catalog lookups.
    table_map_raw: HashMap<u64, Vec<u8>>,

    batch: Vec<Record>,
    batch_bytes: usize,
    /// Position of the last batch sent; an empty batch is sent when the
    /// position moved (e.g. filtered transactions) at most once a second.
    last_sent: Option<Position>,
    last_empty_flush: Instant,
    /// skipped.operations, transaction metadata, SMTs, heartbeats.
    transforms: crate::transform::Transforms,
    /// Signals, incremental snapshots.
    incremental: Option<Box<crate::snapshot::incremental::Controller>>,
    /// A blocking snapshot was interrupted: the only position that may be
    /// stored is the one re-reading its signal.
    hold: Option<Position>,
}

impl Decoder {
    pub fn new(
        cfg: DecoderConfig,
        encoder: Encoder,
        catalog: Catalog,
        filters: Arc<dyn TableFilter>,
        out: channel::Sender<Batch>,
        start: Position,
    ) -> Self {
        let skip = (start.event > 0 || start.row > 0).then_some(Skip { events: start.event, rows: start.row });
        let mut base = start;
        base.event = 0;
        base.row = 0;
        Decoder {
            cfg,
            encoder,
            catalog,
            filters,
            out,
            gtids: base.gtids.clone(),
            file: base.file.clone(),
            base,
            in_tx: false,
            events_in_tx: 0,
            gtid_text: None,
            maria_gtid: None,
            mysql_gtid: None,
            standalone: false,
            thread: None,
            tx_ts_us: None,
            payload: None,
            skip,
            tables: HashMap::new(),
            table_map_raw: HashMap::new(),
            by_name: HashMap::new(),
            batch: Vec::new(),
            batch_bytes: 0,
            last_sent: None,
            last_empty_flush: Instant::now(),
            transforms: crate::transform::Transforms::none(),
            incremental: None,
            hold: None,
        }
    }

    /// The position to store once everything handed out so far is delivered.
    fn checkpoint(&self, rows_done: u64) -> Position {
        if let Some(p) = &self.hold {
            return p.clone();
        }
        let mut p = self.base.clone();
        if self.in_tx {
            p.event = self.events_in_tx;
            p.row = rows_done;
        }
        // Restarted inside a transaction not replayed that far yet: what
        // the loaded position skips must stay skipped after another restart.
        if let Some(s) = self.skip {
            if (s.events, s.rows) > (p.event, p.row) {
                p.event = s.events;
                p.row = s.rows;
            }
        }
        p.transaction = self.transaction_offset();
        if let Some(c) = &self.incremental {
            c.store_in(&mut p);
        }
        p
    }

    fn now_ns() -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0)
    }

    async fn flush(&mut self, position: Position) -> Result<(), DecodeError> {
        let records = std::mem::take(&mut self.batch);
        let bytes = std::mem::replace(&mut self.batch_bytes, 0);
        self.last_sent = Some(position.clone());
        self.out.send(Batch { records, position, bytes }).await.map_err(|_| DecodeError::SinkClosed)?;
        telemetry::queue(self.out.queued_items(), self.out.queued_bytes());
        Ok(())
    }

    fn begin_tx(&mut self, start_pos: u64) {
        self.in_tx = true;
        self.events_in_tx = 0;
        self.base.file.clone_from(&self.file);
        self.base.pos = start_pos;
        self.base.gtids = self.gtids.clone();
    }

    fn commit_tx(&mut self, next_pos: u64) {
        match (&mut self.gtids, self.maria_gtid.take(), self.mysql_gtid.take()) {
            (Some(GtidState::Mariadb(pos)), Some(g), _) => {
                pos.update(g);
            }
            (None, Some(g), _) => {
                let mut pos = MariaGtidPos::new();
                pos.update(g);
                self.gtids = Some(GtidState::Mariadb(pos));
            }
            (Some(GtidState::Mysql(set)), _, Some(g)) => {
                set.add(&g);
            }
            (None, _, Some(g)) => {
                let mut set = GtidSet::new();
                set.add(&g);
                self.gtids = Some(GtidState::Mysql(set));
            }
            _ => {}
        }
        self.in_tx = false;
        self.standalone = false;
        self.events_in_tx = 0;
        self.thread = None;
        self.skip = None;
        self.base.file.clone_from(&self.file);
        self.base.pos = next_pos;
        self.base.gtids = self.gtids.clone();
        telemetry::transaction_committed();
    }

    fn event_error(&self, kind: &'static str, pos: u64, e: impl std::fmt::Display) -> DecodeError {
        DecodeError::Event { kind, file: self.file.clone(), pos, message: e.to_string() }
    }

    async fn on_table_map(&mut self, tme: TableMapEvent<'_>, pos: u64) -> Result<(), DecodeError> {
        let db = tme.database_name().into_owned();
        let table = tme.table_name().into_owned();
        let emit = self.filters.table(&db, &table);
        let signal = self.is_signal_table(&db, &table);
        if !emit && !signal {
            self.tables.insert(tme.table_id(), Mapped::Ignored);
            return Ok(());
        }
        let signature = signature(&tme);
        if let Some(c) = self.by_name.get(&(db.clone(), table.clone())) {
            if c.signature == signature {
                self.tables.insert(tme.table_id(), Mapped::Captured(c.clone()));
                return Ok(());
            }
        }
        let plans = rows::plan_table(&tme).map_err(|source| DecodeError::Rows {
            table: format!("{db}.{table}"),
            file: self.file.clone(),
            pos,
            source,
        })?;
        let mut schema = match self.catalog.offline() {
            // Replaying files: the binlog's own description is all there is.
            Some(minimal) => offline_schema(&tme, &plans, minimal),
            None => self.catalog.get(&db, &table).await,
        };
        if let Ok(s) = &schema {
            if check(s, &plans).is_err() {
                // The cached structure is older than this TABLE_MAP: reload.
                schema = self.catalog.reload(&db, &table).await;
            }
        }
        let schema = match schema {
            Ok(s) => s,
            // Dropped (or renamed) since the row was written: the binlog's
            // own description still decodes it.
            Err(e @ CatalogError::NotFound { .. }) => match crate::schema::table_map::from_table_map(&tme, &plans, None) {
                Some(old) => {
                    debug!(table = %format!("{db}.{table}"), file = %self.file, pos, "table no longer exists; using the TABLE_MAP's column metadata");
                    Arc::new(old)
                }
                None => {
                    let err = DecodeError::Schema { table: format!("{db}.{table}"), file: self.file.clone(), pos, source: e };
                    return self.unresolved(tme.table_id(), err);
                }
            },
            Err(source) => {
                let err = DecodeError::Schema { table: format!("{db}.{table}"), file: self.file.clone(), pos, source };
                // A failed query says nothing about the table: stop rather
                // than skip rows that could be decoded after a restart.
                if matches!(err, DecodeError::Schema { source: CatalogError::Query { .. }, .. }) {
                    return Err(err);
                }
                return self.unresolved(tme.table_id(), err);
            }
        };
        // The table changed after this row was written (a lagging or
        // replaying connector): decode with the binlog's own description.
        let schema = match check(&schema, &plans) {
            Ok(()) => schema,
            Err(_) => match crate::schema::table_map::from_table_map(&tme, &plans, Some(&schema)) {
                Some(old) => {
                    debug!(table = %format!("{db}.{table}"), file = %self.file, pos, "using the TABLE_MAP's column metadata: the table has changed since");
                    Arc::new(old)
                }
                None => schema,
            },
        };
        if let Err(detail) = check(&schema, &plans) {
            let err = DecodeError::SchemaMismatch {
                table: format!("{db}.{table}"),
                file: self.file.clone(),
                pos,
                binlog: plans.len(),
                current: schema.columns.len(),
                detail,
            };
            return self.unresolved(tme.table_id(), err);
        }
        let unsigned = schema.columns.iter().map(|c| c.unsigned).collect();
        let counters = telemetry::TableCounters::new(&schema.qualified_name());
        let filters = self.filters.clone();
        let codec = Arc::new(self.encoder.codec(schema, &|col| filters.column(&db, &table, col)));
        let captured = Arc::new(Captured { codec, plans, unsigned, counters, signature, emit, signal });
        self.by_name.insert((db, table), captured.clone());
        self.tables.insert(tme.table_id(), Mapped::Captured(captured));
        Ok(())
    }

    fn unresolved(&mut self, table_id: u64, err: DecodeError) -> Result<(), DecodeError> {
        match self.cfg.inconsistent_schema {
            InconsistentSchema::Fail => Err(err),
            InconsistentSchema::Warn | InconsistentSchema::Skip => {
                if self.cfg.inconsistent_schema == InconsistentSchema::Warn {
                    warn!(error = %err, "skipping rows of a table whose structure cannot be resolved");
                }
                telemetry::skipped_event();
                self.tables.insert(table_id, Mapped::Ignored);
                Ok(())
            }
        }
    }

    async fn on_rows(&mut self, rows: RowsEventData<'_>, header_ts: u32, server_id: u32, pos: u64) -> Result<(), DecodeError> {
        let captured = match self.tables.get(&rows.table_id()) {
            Some(Mapped::Captured(c)) => c.clone(),
            _ => return Ok(()),
        };
        let (op, has_before, has_after) = match &rows {
            RowsEventData::WriteRowsEventV1(_) | RowsEventData::WriteRowsEvent(_) => (Op::Create, false, true),
            RowsEventData::UpdateRowsEventV1(_) | RowsEventData::UpdateRowsEvent(_) | RowsEventData::PartialUpdateRowsEvent(_) => {
                (Op::Update, true, true)
            }
            RowsEventData::DeleteRowsEventV1(_) | RowsEventData::DeleteRowsEvent(_) => (Op::Delete, true, false),
        };
        // Rows to skip when replaying a transaction after a restart.
        let mut skip_rows = 0;
        if let Some(s) = self.skip {
            if self.events_in_tx < s.events {
                return Ok(());
            }
            if self.events_in_tx == s.events {
                skip_rows = s.rows;
            }
            self.skip = None;
        }
        let emit = captured.emit && !self.transforms.skips(op);
        let signal = captured.signal && op != Op::Update;
        let window = self.in_open_window(&captured.codec.schema.db, &captured.codec.schema.table);
        if !emit && !signal && !window {
            return Ok(());
        }
        let mut signals = Vec::new();
        let mut window_keys = Vec::new();
        // Columns-present bitmaps, on the stack unless the table is wide.
        let bitmap = |b: Option<&bitvec::slice::BitSlice<u8>>, v: &mut [u8]| {
            if let Some(b) = b {
                for i in 0..captured.plans.len().min(b.len()) {
                    if b.get(i).is_some_and(|x| *x) {
                        v[i / 8] |= 1 << (i % 8);
                    }
                }
            }
        };
        let width = captured.plans.len().div_ceil(8);
        let mut on_stack = [0u8; 128];
        let mut on_heap = Vec::new();
        let bits: &mut [u8] = if 2 * width <= on_stack.len() {
            &mut on_stack[..2 * width]
        } else {
            on_heap.resize(2 * width, 0);
            &mut on_heap
        };
        let (before_bits, after_bits) = bits.split_at_mut(width);
        bitmap(rows.columns_before_image(), before_bits);
        bitmap(rows.columns_after_image(), after_bits);
        let (before_bits, after_bits): (&[u8], &[u8]) = (before_bits, after_bits);
        let partial_event = matches!(rows, RowsEventData::PartialUpdateRowsEvent(_));
        let codec = captured.codec.clone();
        let (table_name, db_name) = (codec.schema.table.as_str(), codec.schema.db.as_str());
        let gtid = self.gtid_text.as_deref();
        let now_ns = Self::now_ns();
        let mut reader = Reader::new(rows.rows_data());
        let mut before: Vec<Cell<'_>> = Vec::with_capacity(captured.plans.len());
        let mut after: Vec<Cell<'_>> = Vec::with_capacity(captured.plans.len());
        let mut row_index: u64 = 0;
        let err = |source| DecodeError::Rows {
            table: format!("{db_name}.{table_name}"),
            file: self.file.clone(),
            pos,
            source,
        };
        let mut out = std::mem::take(&mut self.batch);
        let mut result = Ok(());
        while !reader.is_empty() {
            // Every row takes bytes; one that takes none would repeat forever.
            let left = reader.len();
            if has_before {
                if let Err(e) = rows::read_image(&mut reader, &captured.plans, &before_bits, &captured.unsigned, &mut before) {
                    result = Err(err(e));
                    break;
                }
            }
            if has_after {
                let partial = match partial_event {
                    true => rows::read_value_options(&mut reader, &captured.plans),
                    false => Ok(None),
                };
                let read = partial.and_then(|p| {
                    rows::read_image_partial(&mut reader, &captured.plans, &after_bits, &captured.unsigned, p, &mut after)
                });
                if let Err(e) = read {
                    result = Err(err(e));
                    break;
                }
            }
            if reader.len() == left {
                result = Err(err(rows::RowsError::EmptyRow));
                break;
            }
            let index = row_index;
            row_index += 1;
            if index < skip_rows {
                continue;
            }
            if window {
                for image in [has_before.then_some(&before), has_after.then_some(&after)].into_iter().flatten() {
                    window_keys.extend(self.encoder.key_bytes(&codec, image));
                }
            }
            if signal {
                let image = if op == Op::Delete { &before } else { &after };
                signals.extend(snapshot_hooks::SignalRow::read(index, op == Op::Delete, image));
            }
            if !emit {
                continue;
            }
            // Partial JSON updates: the new documents from the before image.
            let mut patched: Vec<(usize, String)> = Vec::new();
            for (i, cell) in after.iter().enumerate() {
                let Cell::JsonDiff(diff) = cell else { continue };
                let applied = match before.get(i) {
                    Some(Cell::JsonBinary(old)) if has_before => crate::decode::json_diff::apply(old, diff),
                    _ => Err(crate::decode::json_diff::DiffError::NotApplicable(
                        "the before image does not hold the column's old value; binlog-cdc needs binlog_row_image=FULL".into(),
                    )),
                };
                match applied {
                    Ok(text) => patched.push((i, text)),
                    Err(source) => {
                        let column = codec.schema.columns.get(i).map_or_else(|| i.to_string(), |c| c.name.clone());
                        result = Err(err(rows::RowsError::PartialJson { column, source }));
                        break;
                    }
                }
            }
            if result.is_err() {
                break;
            }
            let patched_after: Vec<Cell<'_>>;
            let after_cells: &[Cell<'_>] = if patched.is_empty() {
                &after
            } else {
                patched_after = after
                    .iter()
                    .enumerate()
                    .map(|(i, c)| match patched.iter().find(|(p, _)| *p == i) {
                        Some((_, text)) => Cell::Bytes(text.as_bytes()),
                        None => *c,
                    })
                    .collect();
                &patched_after
            };
            let event = ChangeEvent {
                op,
                before: has_before.then_some(&before[..]),
                after: has_after.then_some(after_cells),
                source: SourceInfo {
                    ts_us: self.tx_ts_us.unwrap_or(i64::from(header_ts) * 1_000_000),
                    snapshot: "false",
                    db: db_name,
                    table: Some(table_name),
                    server_id,
                    gtid,
                    file: &self.file,
                    pos,
                    row: index as u32,
                    thread: self.thread,
                    query: None,
                },
                now_ns,
            };
            let first = out.len();
            if let Err(source) = self.transforms.row(&self.encoder, &codec, &event, &mut out) {
                result = Err(DecodeError::Transform { file: self.file.clone(), pos, source });
                break;
            }
            for r in &out[first..] {
                self.batch_bytes += r.size_bytes();
            }
            captured.counters.change(op);
        }
        self.batch = out;
        result?;
        self.discard_from_window(window_keys);
        if !signals.is_empty() {
            self.on_signals(signals, snapshot_hooks::At { pos, ts: header_ts, server_id }).await?;
        }
        telemetry::source_lag(i64::from(header_ts));
        Ok(())
    }

    /// Hands over what is buffered with the current position (at shutdown).
    pub async fn finish(mut self) -> Result<(), DecodeError> {
        let position = self.checkpoint(0);
        self.flush(position).await
    }

    async fn maybe_flush(&mut self) -> Result<(), DecodeError> {
        if self.batch.len() >= self.cfg.batch_records || self.batch_bytes >= self.cfg.batch_bytes {
            let p = self.checkpoint(0);
            self.flush(p).await?;
        }
        Ok(())
    }
}

/// The file a ROTATE event names. The artificial ROTATE that opens every
/// binlog dump comes before the FORMAT_DESCRIPTION event, so the parser
/// cannot know that it ends with a CRC32 checksum and leaves those 4 bytes
/// in the name (which would then be stored in offsets and `source.file`).
/// They are recognised by verifying the checksum.
fn rotate_name(event: &Event, re: &RotateEvent<'_>) -> String {
    let (name, data) = (re.name_raw(), event.data());
    if event.checksum().is_none() && name.len() > 4 && data.len() > 4 {
        let h = event.header();
        let mut bytes = Vec::with_capacity(19 + data.len());
        bytes.extend_from_slice(&h.timestamp().to_le_bytes());
        bytes.push(h.event_type_raw());
        bytes.extend_from_slice(&h.server_id().to_le_bytes());
        bytes.extend_from_slice(&h.event_size().to_le_bytes());
        bytes.extend_from_slice(&h.log_pos().to_le_bytes());
        bytes.extend_from_slice(&h.flags_raw().to_le_bytes());
        let (body, sum) = data.split_at(data.len() - 4);
        bytes.extend_from_slice(body);
        if sum == crc32(&bytes).to_le_bytes() {
            return String::from_utf8_lossy(&name[..name.len() - 4]).into_owned();
        }
    }
    String::from_utf8_lossy(name).into_owned()
}

/// CRC-32 (IEEE), the binlog's `binlog_checksum=CRC32`.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A table's structure from its TABLE_MAP alone (no server to ask).
fn offline_schema(tme: &TableMapEvent<'_>, plans: &[ColumnPlan], minimal: MinimalMetadata) -> Result<Arc<TableSchema>, CatalogError> {
    use crate::schema::table_map;
    let (db, table) = (tme.database_name().into_owned(), tme.table_name().into_owned());
    if let Some(s) = table_map::from_table_map(tme, plans, None) {
        return Ok(Arc::new(s));
    }
    let named = tme.iter_optional_meta().any(|f| matches!(f, Ok(mysql_common::binlog::events::OptionalMetadataField::ColumnName(_))));
    match (named, minimal) {
        (false, MinimalMetadata::Error) => Err(CatalogError::NoColumnNames { db, table }),
        (false, MinimalMetadata::Synthetic) => {
            table_map::from_table_map_unnamed(tme, plans).map(Arc::new).ok_or(CatalogError::UnreadableTableMap { db, table })
        }
        (true, _) => Err(CatalogError::UnreadableTableMap { db, table }),
    }
}

/// Where a string lands in a default-sized `java.util.HashSet` (16
/// buckets): Debezium collects a statement's table ids in one, and its
/// iteration order is the order of `source.table` for multi-table DDL.
fn java_hash_set_bucket(s: &str) -> usize {
    let h = s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
    let spread = h ^ ((h as u32) >> 16) as i32;
    (spread & 15) as usize
}

/// Raw column types + metadata of a TABLE_MAP event.
fn signature(tme: &TableMapEvent<'_>) -> Vec<u8> {
    let n = tme.columns_count() as usize;
    let mut sig = Vec::with_capacity(n * 3);
    for i in 0..n {
        sig.push(tme.get_raw_column_type(i).ok().flatten().map_or(0, |t| t as u8));
        if let Some(m) = tme.get_column_metadata(i) {
            sig.extend_from_slice(m);
        }
        sig.push(0xff);
    }
    sig
}

/// Does the binlog's view of the table (TABLE_MAP) fit the catalog's?
fn check(schema: &TableSchema, plans: &[ColumnPlan]) -> Result<(), String> {
    if schema.columns.len() != plans.len() {
        return Err(format!("{} columns in the binlog", plans.len()));
    }
    for (c, p) in schema.columns.iter().zip(plans) {
        if !compatible(c.kind, p.type_code) {
            return Err(format!("column `{}` is {} but the binlog has type {}", c.name, c.type_name, p.type_code));
        }
    }
    Ok(())
}

fn compatible(kind: ColumnKind, t: u8) -> bool {
    use rows::types::*;
    use ColumnKind::*;
    let blob = matches!(t, BLOB | TINY_BLOB | MEDIUM_BLOB | LONG_BLOB);
    match kind {
        TinyInt => t == TINY,
        SmallInt => t == SHORT,
        MediumInt => t == INT24,
        Int => t == LONG,
        BigInt => t == LONGLONG,
        Decimal => t == NEWDECIMAL || t == DECIMAL,
        Float => t == FLOAT,
        Double => t == DOUBLE,
        Bit => t == BIT,
        Char | VarChar | Binary | VarBinary => t == STRING || t == VARCHAR,
        Text | Blob => blob,
        Json => t == JSON || blob,
        Enum => t == ENUM,
        Set => t == SET,
        Date => t == DATE || t == NEWDATE,
        Time => t == TIME || t == TIME2,
        DateTime => t == DATETIME || t == DATETIME2,
        Timestamp => t == TIMESTAMP || t == TIMESTAMP2,
        Year => t == YEAR,
        Geometry | Point => t == GEOMETRY || blob,
        Uuid | Inet4 | Inet6 => t == STRING || t == VARCHAR || blob,
        Vector => t == VECTOR || blob,
    }
}

/// Event types whose data the decoder reads: QUERY, ROTATE,
/// FORMAT_DESCRIPTION, XID, TABLE_MAP, rows events v1/v2 and partial,
/// HEARTBEAT, GTID, ANONYMOUS_GTID, GTID_TAGGED.
const DECODED_TYPES: [u8; 16] = [2, 4, 15, 16, 19, 23, 24, 25, 27, 30, 31, 32, 33, 34, 39, 42];

const MARIADB_ANNOTATE_ROWS: u8 = 160;
/// MariaDB compressed events: QUERY_COMPRESSED (165) through
/// DELETE_ROWS_COMPRESSED_EVENT_V1 (171).
const MARIADB_QUERY_COMPRESSED: u8 = 165;
const MARIADB_DELETE_ROWS_COMPRESSED_V1: u8 = 171;
const TRANSACTION_PAYLOAD: u8 = 40;
const MARIADB_GTID: u8 = 162;

impl crate::source::stream::EventConsumer for Decoder {
    type Error = DecodeError;

    fn resume_at(&self) -> StartAt {
        match &self.base.gtids {
            Some(GtidState::Mariadb(pos)) if !pos.is_empty() => StartAt::MariaGtid(pos.to_string()),
            // MySQL with GTIDs (spec §6): by GTID set, not coordinates.
            Some(GtidState::Mysql(set)) if !set.is_empty() && self.cfg.flavor == Flavor::Mysql => StartAt::MysqlGtid(set.clone()),
            _ => StartAt::File { file: self.base.file.clone(), pos: self.base.pos.max(4) },
        }
    }

    fn on_connected(&mut self) {
        // Replaying the open transaction from its start: skip what was
        // already emitted. The batch under construction was flushed at idle.
        // A skip still pending from the start position may reach further.
        if self.in_tx {
            let done = Skip { events: self.events_in_tx, rows: 0 };
            self.skip = Some(match self.skip {
                Some(s) if (s.events, s.rows) > (done.events, done.rows) => s,
                _ => done,
            });
            self.in_tx = false;
        }
        self.file = self.base.file.clone();
        self.tables.clear();
    }

    async fn idle(&mut self) -> Result<(), DecodeError> {
        let position = self.checkpoint(0);
        if !self.batch.is_empty() {
            return self.flush(position).await;
        }
        let moved = self.last_sent.as_ref() != Some(&position);
        if moved && self.last_empty_flush.elapsed() >= Duration::from_secs(1) {
            self.last_empty_flush = Instant::now();
            return self.flush(position).await;
        }
        Ok(())
    }

    async fn handle(&mut self, event: Event) -> Result<(), DecodeError> {
        self.before_event().await;
        self.poll_incremental().await?;
        let header = event.header();
        let ty = header.event_type_raw();
        let mut next_pos = u64::from(header.log_pos());
        let mut pos = next_pos.saturating_sub(u64::from(header.event_size()));
        if ty == TRANSACTION_PAYLOAD {
            self.payload = Some((pos, next_pos));
        } else if next_pos != 0 {
            self.payload = None;
        } else if let Some((p, n)) = self.payload {
            // An event of a compressed transaction: where Debezium places it.
            (pos, next_pos) = (p, n);
        }
        let ts = header.timestamp();
        let server_id = header.server_id();
        // Heartbeats and the artificial events opening a dump carry no time.
        if ts != 0 {
            self.base.ts_sec = Some(i64::from(ts));
        }
        self.base.server_id = Some(u64::from(server_id));

        if ty == MARIADB_GTID {
            let g = decode_gtid_event(event.data(), server_id).map_err(|e| self.event_error("GTID", pos, e))?;
            self.begin_tx(pos);
            self.standalone = g.standalone();
            self.gtid_text = Some(g.gtid.to_string());
            self.maria_gtid = Some(g.gtid);
            self.events_in_tx = 1;
            self.transaction_started();
            return Ok(());
        }
        if (MARIADB_QUERY_COMPRESSED..=MARIADB_DELETE_ROWS_COMPRESSED_V1).contains(&ty) {
            // MariaDB's log_bin_compress: dropping these would lose changes.
            return Err(self.event_error(
                "compressed",
                pos,
                "the server writes compressed binlog events (log_bin_compress=ON), which binlog-cdc does not decode; set log_bin_compress=OFF and restart from a position before this event",
            ));
        }
        if ty == MARIADB_ANNOTATE_ROWS || ty > 160 {
            // Other MariaDB events (checkpoints, GTID lists, ...): no data.
            if self.in_tx {
                self.events_in_tx += 1;
            } else {
                self.passed(next_pos);
            }
            return Ok(());
        }
        if ty == TRANSACTION_PAYLOAD {
            // Its events follow; the transaction's XID among them moves the
            // position past it, not the wrapper (a checkpoint here would
            // skip the transaction after a crash).
            return Ok(());
        }
        if !DECODED_TYPES.contains(&ty) {
            // Nothing here the decoder uses (PREVIOUS_GTIDS, ROWS_QUERY,
            // INTVAR, the TRANSACTION_PAYLOAD wrapper, ...): not parsed, so a
            // damaged one cannot stop the stream (mysql_common sizes some
            // allocations by counts read from these events).
            if self.in_tx {
                self.events_in_tx += 1;
            } else if next_pos > 0 && self.skip.is_none() {
                self.base.pos = next_pos;
                self.base.file.clone_from(&self.file);
            }
            return self.maybe_flush().await;
        }
        let data = match event.read_data() {
            Ok(Some(d)) => d,
            Ok(None) => return Ok(()),
            Err(e) => return Err(self.event_error("binlog", pos, e)),
        };
        match data {
            EventData::RotateEvent(re) => {
                self.on_rotate(&rotate_name(&event, &re), re.position());
                return Ok(());
            }
            EventData::FormatDescriptionEvent(_) => {
                self.passed(next_pos);
                return Ok(());
            }
            EventData::HeartbeatEvent => return Ok(()),
            EventData::GtidEvent(ge) => {
                self.on_mysql_gtid(&ge, ts);
            }
            EventData::AnonymousGtidEvent(_) => {
                // A transaction without GTID: no gtid, header times.
                self.gtid_text = None;
                self.mysql_gtid = None;
                self.tx_ts_us = None;
            }
            EventData::QueryEvent(qe) => {
                // TRUNCATE is a data event (op `t`), never a schema change.
                let truncate = self.on_truncate(&qe, pos, ts, server_id).await?;
                if !truncate && self.cfg.schema_changes && classify(&qe.query()) == Statement::Ddl {
                    self.emit_schema_change(&qe, pos, ts, server_id).await;
                }
                self.on_query(&qe, pos, next_pos)
            }
            EventData::XidEvent(_) => {
                self.transaction_committed();
                self.commit_tx(next_pos);
                return self.maybe_flush().await;
            }
            EventData::TableMapEvent(tme) => {
                let id = tme.table_id();
                let raw = event.data();
                let captured = |tables: &HashMap<u64, Mapped>| matches!(tables.get(&id), Some(Mapped::Captured(_)));
                let repeat = captured(&self.tables) && self.table_map_raw.get(&id).is_some_and(|r| r.as_slice() == raw);
                if !repeat {
                    self.on_table_map(tme, pos).await?;
                    if captured(&self.tables) {
                        let slot = self.table_map_raw.entry(id).or_default();
                        slot.clear();
                        slot.extend_from_slice(raw);
                    } else {
                        self.table_map_raw.remove(&id);
                    }
                }
            }
            EventData::RowsEvent(rows) => {
                self.on_rows(rows, ts, server_id, pos).await?;
            }
            _ => {}
        }
        if self.in_tx {
            self.events_in_tx += 1;
        } else if next_pos > 0 && self.skip.is_none() {
            self.base.pos = next_pos;
            self.base.file.clone_from(&self.file);
        }
        self.maybe_flush().await
    }
}

impl Decoder {
    /// Outside a transaction the restart point follows events without data
    /// too (after a rotation: FORMAT_DESCRIPTION, GTID_LIST, checkpoints),
    /// but never backwards: those opening a dump carry 0 or the file's start.
    fn passed(&mut self, next_pos: u64) {
        if !self.in_tx && self.skip.is_none() && self.file == self.base.file && next_pos > self.base.pos {
            self.base.pos = next_pos;
        }
    }

    fn on_rotate(&mut self, name: &str, position: u64) {
        self.file = name.to_string();
        // With a skip pending, the base is the interrupted transaction's start.
        if !self.in_tx && self.skip.is_none() {
            self.base.file.clone_from(&self.file);
            self.base.pos = position;
        }
        debug!(file = %self.file, pos = position, "binlog rotate");
    }

    /// GTID_LOG_EVENT (33) or MySQL 8.4's GTID_TAGGED_LOG_EVENT (42): the
    /// transaction's `uuid[:tag]:gno`, and its source time. Debezium (with
    /// GTIDs on) takes every event's time from the last GTID event: its
    /// `original_commit_timestamp` (µs, the commit on the original primary,
    /// MySQL 8.0.1+) or, when that is 0, the event header's seconds.
    fn on_mysql_gtid(&mut self, ge: &GtidEvent, header_ts: u32) {
        use crate::offsets::gtid_mysql::{Tag, Uuid};
        let uuid = Uuid::from_bytes(ge.sid());
        let tag = ge.tag().and_then(|t| Tag::parse(t.as_str()).ok());
        match Gtid::new(uuid, tag, ge.gno()) {
            Ok(g) => {
                self.gtid_text = Some(g.to_string());
                self.mysql_gtid = Some(g);
            }
            Err(e) => warn!(file = %self.file, error = %e, "GTID event with an invalid GTID; transaction not added to the GTID set"),
        }
        self.tx_ts_us = Some(match ge.original_commit_timestamp() {
            0 => i64::from(header_ts) * 1_000_000,
            us => i64::try_from(us).unwrap_or(i64::MAX),
        });
    }

    /// Schema change records of one DDL statement (spec §7.1): one record,
    /// or one per table for DROP TABLE (Debezium splits those), only for
    /// captured tables and databases. Structures are read after the change.
    async fn emit_schema_change(&mut self, qe: &QueryEvent<'_>, pos: u64, ts: u32, server_id: u32) {
        use crate::envelope::schema_change::{SchemaChangeEvent, TableChange};
        use crate::schema::ddl::{changed_tables, TableChangeKind};
        let sql = qe.query().into_owned();
        let default_db = qe.schema().into_owned();
        let tables: Vec<(String, String, TableChangeKind)> = changed_tables(&sql)
            .into_iter()
            .map(|(db, t, k)| (db.unwrap_or_else(|| default_db.clone()), t, k))
            .filter(|(db, t, _)| self.filters.table(db, t))
            .collect();
        if tables.is_empty() && (!changed_tables(&sql).is_empty() || !self.filters.database(&default_db)) {
            return;
        }
        let mut schemas = Vec::new();
        for (db, t, kind) in &tables {
            let schema = match kind {
                TableChangeKind::Drop => None,
                _ => self.catalog.reload(db, t).await.ok(),
            };
            schemas.push(schema);
        }
        let now_ns = Self::now_ns();
        let gtid = self.gtid_text.clone();
        let file = self.file.clone();
        let mut statements: Vec<(String, String, Option<String>, Vec<usize>)> = Vec::new();
        if !tables.is_empty() && tables.iter().all(|(_, _, k)| *k == TableChangeKind::Drop) {
            // Debezium splits a multi-table DROP but keeps every table in source.table.
            let mut all: Vec<(usize, &str)> =
                tables.iter().map(|(db, t, _)| (java_hash_set_bucket(&format!("{db}.{t}")), t.as_str())).collect();
            all.sort_by_key(|(bucket, _)| *bucket);
            let all: Vec<&str> = all.into_iter().map(|(_, t)| t).collect();
            for (i, (db, t, _)) in tables.iter().enumerate() {
                statements.push((format!("DROP TABLE `{db}`.`{t}`"), db.clone(), Some(all.join(",")), vec![i]));
            }
        } else {
            let db = tables.first().map(|(d, _, _)| d.clone()).unwrap_or_else(|| default_db.clone());
            let names: Vec<&str> = tables.iter().map(|(_, t, _)| t.as_str()).collect();
            let table = (!names.is_empty()).then(|| names.join(","));
            statements.push((sql.clone(), db, table, (0..tables.len()).collect()));
        }
        for (ddl, db, table, idx) in statements {
            let changes: Vec<TableChange<'_>> = idx
                .iter()
                .map(|i| TableChange {
                    kind: tables[*i].2.clone(),
                    db: &tables[*i].0,
                    table: &tables[*i].1,
                    schema: schemas[*i].as_deref(),
                })
                .collect();
            let event = SchemaChangeEvent {
                source: SourceInfo {
                    ts_us: i64::from(ts) * 1_000_000,
                    snapshot: "false",
                    db: &db,
                    table: table.as_deref(),
                    server_id,
                    gtid: gtid.as_deref(),
                    file: &file,
                    pos,
                    row: 0,
                    thread: self.thread,
                    query: None,
                },
                database: &db,
                ddl: &ddl,
                changes,
                now_ns,
            };
            let record = self.encoder.encode_schema_change(&event);
            self.batch_bytes += record.size_bytes();
            self.batch.push(record);
        }
    }

    fn on_query(&mut self, qe: &QueryEvent<'_>, pos: u64, next_pos: u64) {
        let sql = qe.query();
        match classify(&sql) {
            Statement::Begin => {
                if self.in_tx {
                    // MariaDB sends no BEGIN after its GTID event; MySQL does
                    // after its GTID event, which does not open a transaction.
                    return;
                }
                self.begin_tx(pos);
                if self.cfg.flavor == Flavor::Mysql {
                    self.thread = Some(qe.thread_id());
                }
                self.transaction_started();
            }
            s @ (Statement::Commit | Statement::Rollback) => {
                if s == Statement::Commit {
                    self.transaction_committed();
                }
                self.commit_tx(next_pos);
                // commit_tx already moved the base past this event.
                self.in_tx = false;
            }
            Statement::Ddl => {
                self.catalog.invalidate_all();
                self.by_name.clear();
                self.tables.clear();
                if self.standalone || self.in_tx || self.mysql_gtid.is_some() {
                    self.commit_tx(next_pos);
                }
            }
            Statement::Other => {
                if self.standalone {
                    self.commit_tx(next_pos);
                }
            }
        }
    }
}

#[cfg(test)]
mod rotate_tests {
    #[test]
    fn crc32_is_the_ieee_polynomial() {
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(super::crc32(b""), 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hash_set_buckets() {
        // "ab".hashCode() = 3105; spread = 3105 ^ 0 = 3105; 3105 & 15 = 1.
        assert_eq!(java_hash_set_bucket("ab"), 1);
        assert_eq!(java_hash_set_bucket(""), 0);
    }
}
