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
use crate::schema::{Catalog, CatalogError, ColumnKind, TableSchema};
use crate::source::StartAt;
use crate::telemetry;

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
    fn table(&self, db: &str, table: &str) -> bool;
    fn column(&self, db: &str, table: &str, column: &str) -> bool;
}

impl TableFilter for crate::config::Filters {
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
    #[error("table structure for a row at {file}:{pos} is unavailable: {source}")]
    Schema {
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
    skip: Option<Skip>,
    tables: HashMap<u64, Mapped>,
    by_name: HashMap<(String, String), Arc<Captured>>,

    batch: Vec<Record>,
    batch_bytes: usize,
    /// Position of the last batch sent; an empty batch is sent when the
    /// position moved (e.g. filtered transactions) at most once a second.
    last_sent: Option<Position>,
    last_empty_flush: Instant,
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
            skip,
            tables: HashMap::new(),
            by_name: HashMap::new(),
            batch: Vec::new(),
            batch_bytes: 0,
            last_sent: None,
            last_empty_flush: Instant::now(),
        }
    }

    /// The position to store once everything handed out so far is delivered.
    fn checkpoint(&self, rows_done: u64) -> Position {
        let mut p = self.base.clone();
        if self.in_tx {
            p.event = self.events_in_tx;
            p.row = rows_done;
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
        self.base.file = self.file.clone();
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
        self.base.file = self.file.clone();
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
        if !self.filters.table(&db, &table) {
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
        let mut schema = self.catalog.get(&db, &table).await;
        if let Ok(s) = &schema {
            if check(s, &plans).is_err() {
                // The cached structure is older than this TABLE_MAP: reload.
                schema = self.catalog.reload(&db, &table).await;
            }
        }
        let schema = match schema {
            Ok(s) => s,
            Err(source) => {
                return self.unresolved(tme.table_id(), DecodeError::Schema { file: self.file.clone(), pos, source })
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
        let captured = Arc::new(Captured { codec, plans, unsigned, counters, signature });
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
        let bitmap = |b: Option<&bitvec::slice::BitSlice<u8>>| -> Vec<u8> {
            let mut v = vec![0u8; captured.plans.len().div_ceil(8)];
            if let Some(b) = b {
                for i in 0..captured.plans.len().min(b.len()) {
                    if b.get(i).is_some_and(|x| *x) {
                        v[i / 8] |= 1 << (i % 8);
                    }
                }
            }
            v
        };
        let before_bits = bitmap(rows.columns_before_image());
        let after_bits = bitmap(rows.columns_after_image());
        let codec = captured.codec.clone();
        let table_name = codec.schema.table.clone();
        let db_name = codec.schema.db.clone();
        let gtid = self.gtid_text.clone();
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
            if has_before {
                if let Err(e) = rows::read_image(&mut reader, &captured.plans, &before_bits, &captured.unsigned, &mut before) {
                    result = Err(err(e));
                    break;
                }
            }
            if has_after {
                if let Err(e) = rows::read_image(&mut reader, &captured.plans, &after_bits, &captured.unsigned, &mut after) {
                    result = Err(err(e));
                    break;
                }
            }
            let index = row_index;
            row_index += 1;
            if index < skip_rows {
                continue;
            }
            let event = ChangeEvent {
                op,
                before: has_before.then_some(&before[..]),
                after: has_after.then_some(&after[..]),
                source: SourceInfo {
                    ts_us: i64::from(header_ts) * 1_000_000,
                    snapshot: "false",
                    db: &db_name,
                    table: Some(&table_name),
                    server_id,
                    gtid: gtid.as_deref(),
                    file: &self.file,
                    pos,
                    row: index as u32,
                    thread: self.thread,
                    query: None,
                },
                now_ns,
            };
            let first = out.len();
            self.encoder.encode(&codec, &event, &mut out);
            for r in &out[first..] {
                self.batch_bytes += r.size_bytes();
            }
            captured.counters.change(op);
        }
        self.batch = out;
        result?;
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

const MARIADB_ANNOTATE_ROWS: u8 = 160;
const MARIADB_GTID: u8 = 162;

impl crate::source::stream::EventConsumer for Decoder {
    type Error = DecodeError;

    fn resume_at(&self) -> StartAt {
        match &self.base.gtids {
            Some(GtidState::Mariadb(pos)) if !pos.is_empty() => StartAt::MariaGtid(pos.to_string()),
            _ => StartAt::File { file: self.base.file.clone(), pos: self.base.pos.max(4) },
        }
    }

    fn on_connected(&mut self) {
        // Replaying the open transaction from its start: skip what was
        // already emitted. The batch under construction was flushed at idle.
        if self.in_tx {
            self.skip = Some(Skip { events: self.events_in_tx, rows: 0 });
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
        let header = event.header();
        let ty = header.event_type_raw();
        let next_pos = u64::from(header.log_pos());
        let pos = next_pos.saturating_sub(u64::from(header.event_size()));
        let ts = header.timestamp();
        let server_id = header.server_id();
        self.base.ts_sec = Some(i64::from(ts));
        self.base.server_id = Some(u64::from(server_id));

        if ty == MARIADB_GTID {
            let g = decode_gtid_event(event.data(), server_id).map_err(|e| self.event_error("GTID", pos, e))?;
            self.begin_tx(pos);
            self.standalone = g.standalone();
            self.gtid_text = Some(g.gtid.to_string());
            self.maria_gtid = Some(g.gtid);
            self.events_in_tx = 1;
            return Ok(());
        }
        if ty == MARIADB_ANNOTATE_ROWS || ty > 160 {
            // Other MariaDB events (checkpoints, GTID lists, ...): no data.
            if self.in_tx {
                self.events_in_tx += 1;
            }
            return Ok(());
        }
        let data = match event.read_data() {
            Ok(Some(d)) => d,
            Ok(None) => return Ok(()),
            Err(e) => return Err(self.event_error("binlog", pos, e)),
        };
        match data {
            EventData::RotateEvent(re) => {
                self.on_rotate(&re);
                return Ok(());
            }
            EventData::FormatDescriptionEvent(_) | EventData::HeartbeatEvent => return Ok(()),
            EventData::GtidEvent(ge) => {
                self.on_mysql_gtid(&ge);
            }
            EventData::QueryEvent(qe) => self.on_query(&qe, pos, next_pos),
            EventData::XidEvent(_) => {
                self.commit_tx(next_pos);
                return self.maybe_flush().await;
            }
            EventData::TableMapEvent(tme) => self.on_table_map(tme, pos).await?,
            EventData::RowsEvent(rows) => {
                self.on_rows(rows, ts, server_id, pos).await?;
            }
            _ => {}
        }
        if self.in_tx {
            self.events_in_tx += 1;
        } else if next_pos > 0 {
            self.base.pos = next_pos;
            self.base.file = self.file.clone();
        }
        self.maybe_flush().await
    }
}

impl Decoder {
    fn on_rotate(&mut self, re: &RotateEvent<'_>) {
        self.file = re.name().into_owned();
        if !self.in_tx {
            self.base.file = self.file.clone();
            self.base.pos = re.position();
        }
        debug!(file = %self.file, pos = re.position(), "binlog rotate");
    }

    fn on_mysql_gtid(&mut self, ge: &GtidEvent) {
        let uuid = crate::offsets::gtid_mysql::Uuid::from_bytes(ge.sid());
        if let Ok(g) = Gtid::new(uuid, None, ge.gno()) {
            self.gtid_text = Some(g.to_string());
            self.mysql_gtid = Some(g);
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
            }
            Statement::Commit | Statement::Rollback => {
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
