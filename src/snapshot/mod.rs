//! The snapshot stage: the rows that exist before streaming starts, as
//! `op: "r"` records, then the binlog position streaming must start from.
//!
//! # The invariant
//!
//! Every row of every captured table reaches Kafka as exactly one state at a
//! point P of the binlog, and streaming starts at exactly P: a change
//! committed before P is reflected in the `r` record and never streamed; a
//! change committed after P is streamed and never reflected in the `r`
//! record. Nothing is missed at the hand-over and nothing is applied twice.
//!
//! Getting one P for many parallel readers (`consistent.rs`): a lock session
//! stops all commits for a moment (`FLUSH TABLES WITH READ LOCK`, or `LOCK
//! TABLES … READ` on the captured tables for a user without RELOAD); while it
//! holds, every reader opens `START TRANSACTION WITH CONSISTENT SNAPSHOT` and
//! the lock session reads P (`SHOW MASTER STATUS`, `@@gtid_binlog_pos`); then
//! the lock is released. InnoDB's read views now all show the database as of
//! P, however long the scan takes, without holding any lock.
//!
//! # Reading fast, in bounded memory
//!
//! `tables.rs` cuts tables into key ranges, `reader.rs` streams each range
//! with keyset pagination on its own connection and encodes the rows, and
//! `emitter.rs` drains the ranges in key order, sets the `source.snapshot`
//! markers and hands batches to the sink. A bounded number of pages exists
//! at any time, whatever the table sizes.
//!
//! # Resuming
//!
//! Each batch's position is P with `snapshot: "INITIAL"` and, under our own
//! key, the tables finished and the last key delivered (`state.rs`). The
//! sink stores a position only after Kafka acknowledged everything before
//! it, so after a crash the stored state never claims an undelivered row.
//!
//! A resumed snapshot cannot get P's read view back. It takes a new
//! consistent point P2 for what is left and still streams from P. Changes
//! between P and P2 to rows read at P2 are then both in their `r` record and
//! streamed again after it: the topic shows a row's later state, then
//! replays the changes that led to it, and ends at the table's state, as
//! Debezium's at-least-once delivery does after a crash. Rows read before
//! the crash (at P) keep the exact invariant. Tables without a usable key
//! (no primary key or NOT NULL unique key) restart from their first row.
//!
//! The last record's batch carries the plain P: once acknowledged, the
//! snapshot is complete and a restart streams from P.

pub mod cells;
pub mod consistent;
pub mod emitter;
pub mod incremental;
pub mod progress;
pub mod reader;
pub mod schema;
pub mod state;
pub mod tables;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use mysql_async::{Conn, Pool};
use tokio::sync::{mpsc, watch, Mutex, Semaphore};
use tracing::{info, warn};

use crate::channel;
use crate::decode::decoder::{Batch, TableFilter};
use crate::envelope::{EnvelopeConfig, Encoder};
use crate::offsets::position::{GtidState, Position, OWN_KEY_PREFIX};
use crate::schema::{Catalog, CatalogError};
use crate::source::{self, SourceConfig, SourceError, StartAt};

pub use emitter::Ended;
use emitter::Emitter;
use reader::{Origin, PageLimits, Planner};
use state::Progress;
use tables::TablePlan;

/// `snapshot.mode` as this stage acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Initial,
    InitialOnly,
    WhenNeeded,
    NoData,
    Never,
    Always,
}

/// `snapshot.locking.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locking {
    Minimal,
    Extended,
    None,
}

/// Settings of the snapshot stage.
#[derive(Debug, Clone)]
pub struct SnapshotSettings {
    pub mode: Mode,
    pub locking: Locking,
    pub lock_timeout: Duration,
    /// Rows per chunk query.
    pub fetch_size: u64,
    /// Reader connections.
    pub threads: usize,
    pub mariadb: bool,
    /// Page limits: rows and encoded bytes handed to the sink at once.
    pub page_rows: usize,
    pub page_bytes: usize,
    /// `include.schema.changes`: schema change records before the rows.
    pub schema_changes: bool,
    /// The SMT chain: snapshot rows go through it as streamed changes do.
    pub transforms: crate::transform::Settings,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot failed {context}: {source}")]
    Query {
        context: String,
        #[source]
        source: mysql_async::Error,
    },
    #[error("snapshot cannot take its consistent point: {0}")]
    Lock(String),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("a snapshot reader failed: {0}. A restart resumes the snapshot after the last delivered row")]
    Reader(String),
    #[error("the sink stopped; the snapshot cannot deliver more records")]
    SinkClosed,
}

/// What the stored position and `snapshot.mode` call for.
#[derive(Debug)]
pub enum Start {
    /// No snapshot: stream from here.
    Stream(Position),
    /// Take a snapshot, fresh or resuming an interrupted one (its first
    /// consistent point and what it had delivered).
    Snapshot { resume: Option<(Position, Progress)> },
    /// `no_data` with schema change records: the structures only, at a
    /// consistent point, then stream from it.
    SchemaOnly,
    /// Nothing to do (`initial_only` after a completed snapshot).
    Stop,
}

/// After [`run`]: stream from a position, or stop (snapshot-only mode, or
/// interrupted by shutdown).
#[derive(Debug)]
pub enum Outcome {
    Stream(Position),
    Stop,
}

/// A position without snapshot markers or our own state: where streaming starts.
fn streaming_position(mut p: Position) -> Position {
    p.snapshot = None;
    p.extra.retain(|k, _| !k.starts_with(OWN_KEY_PREFIX) || k == incremental::state::KEY);
    p
}

fn describe(p: &Position) -> String {
    let gtids = p.gtids.as_ref().map(|g| g.to_string()).unwrap_or_default();
    format!("{}:{} gtids={gtids}", p.file, p.pos)
}

/// Where the binlog stream would start for `p` (as the decoder resumes).
fn start_at(p: &Position) -> StartAt {
    match &p.gtids {
        Some(GtidState::Mariadb(g)) if !g.is_empty() => StartAt::MariaGtid(g.to_string()),
        _ => StartAt::File { file: p.file.clone(), pos: p.pos.max(4) },
    }
}

/// Whether the server can still stream from `p`: opens the binlog there and
/// reads the first event; error 1236 means the position was purged.
pub async fn position_available(cfg: &SourceConfig, p: &Position) -> Result<bool, SnapshotError> {
    const ER_MASTER_FATAL_READING_BINLOG: u16 = 1236;
    let mut stream = match source::open_binlog(cfg, &start_at(p)).await {
        Ok(s) => s,
        Err(SourceError::PositionUnavailable { .. }) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    // The server first sends its preamble (a fake ROTATE, the format
    // description, MariaDB's GTID list); a refusal comes after it. The first
    // real event, or silence (nothing newer to send), means it can serve.
    const ROTATE: u8 = 4;
    const FORMAT_DESCRIPTION: u8 = 15;
    const MARIADB_BINLOG_CHECKPOINT: u8 = 161;
    const MARIADB_GTID_LIST: u8 = 163;
    for _ in 0..16 {
        match tokio::time::timeout(Duration::from_secs(2), stream.next()).await {
            Ok(Some(Err(mysql_async::Error::Server(e)))) if e.code == ER_MASTER_FATAL_READING_BINLOG => return Ok(false),
            Ok(Some(Ok(ev))) => {
                let t = ev.header().event_type_raw();
                if ![ROTATE, FORMAT_DESCRIPTION, MARIADB_BINLOG_CHECKPOINT, MARIADB_GTID_LIST].contains(&t) {
                    return Ok(true);
                }
            }
            _ => return Ok(true),
        }
    }
    Ok(true)
}

/// Decides, from the stored position and the mode, whether to snapshot.
pub async fn plan(
    settings: &SnapshotSettings,
    stored: Option<Position>,
    conn: &mut Conn,
    source_cfg: &SourceConfig,
) -> Result<Start, SnapshotError> {
    use crate::source::preflight::initial_position;
    let q = |context: &str| {
        let context = context.to_string();
        move |source| SnapshotError::Query { context, source }
    };
    let mode = settings.mode;
    let Some(p) = stored else {
        return Ok(match mode {
            Mode::NoData if settings.schema_changes => {
                info!("no stored position; snapshot.mode=no_data: writing the captured tables' structures, no rows");
                Start::SchemaOnly
            }
            Mode::NoData | Mode::Never => {
                let p = initial_position(conn, mode == Mode::Never, settings.mariadb)
                    .await
                    .map_err(q("reading the start position"))?;
                info!(position = %describe(&p), "no stored position; starting here");
                Start::Stream(p)
            }
            _ => {
                info!(mode = ?mode, "no stored position; taking a snapshot");
                Start::Snapshot { resume: None }
            }
        });
    };
    let incomplete = p.snapshot.is_some();
    if incomplete {
        match mode {
            Mode::NoData | Mode::Never => {
                warn!(position = %describe(&p), "the stored snapshot was not completed; snapshot.mode does not snapshot, streaming from its position");
                return Ok(Start::Stream(streaming_position(p)));
            }
            Mode::Always => return Ok(Start::Snapshot { resume: None }),
            _ => {}
        }
        let origin = streaming_position(p.clone());
        return Ok(match Progress::from_position(&p) {
            Some(progress) if position_available(source_cfg, &origin).await? => {
                info!(position = %describe(&origin), tables_done = progress.done.len(),
                    current = ?progress.current.as_ref().map(|(t, _)| format!("{}.{}", t.0, t.1)),
                    "resuming the interrupted snapshot");
                Start::Snapshot { resume: Some((origin, progress)) }
            }
            Some(_) => {
                warn!(position = %describe(&origin), "the interrupted snapshot's binlog position was purged; taking a new snapshot");
                Start::Snapshot { resume: None }
            }
            None => {
                info!(position = %describe(&origin), "the stored snapshot was not completed (and has no resume state); taking it again");
                Start::Snapshot { resume: None }
            }
        });
    }
    match mode {
        Mode::Always => {
            info!("snapshot.mode=always: taking a snapshot");
            Ok(Start::Snapshot { resume: None })
        }
        Mode::InitialOnly => {
            info!(position = %describe(&p), "the snapshot was completed before; snapshot.mode=initial_only has nothing more to do");
            Ok(Start::Stop)
        }
        Mode::WhenNeeded if !position_available(source_cfg, &p).await? => {
            warn!(position = %describe(&p), "the stored position is no longer in the server's binlog; snapshot.mode=when_needed: taking a new snapshot");
            Ok(Start::Snapshot { resume: None })
        }
        _ => {
            info!(position = %describe(&p), event = p.event, row = p.row, "resuming from the stored position");
            Ok(Start::Stream(streaming_position(p)))
        }
    }
}

/// What a snapshot reads with, and where its batches go.
pub struct Context<'a> {
    pub settings: &'a SnapshotSettings,
    pub source: &'a SourceConfig,
    pub pool: &'a Pool,
    pub envelope: EnvelopeConfig,
    pub filters: Arc<dyn TableFilter>,
    pub out: &'a channel::Sender<Batch>,
    pub shutdown: watch::Receiver<bool>,
}

/// Takes the snapshot `start` calls for, sending batches to `cx.out`.
pub async fn run(start: Start, cx: Context<'_>) -> Result<Outcome, SnapshotError> {
    let (resume, data) = match start {
        Start::Stream(p) => return Ok(Outcome::Stream(p)),
        Start::Stop => return Ok(Outcome::Stop),
        Start::Snapshot { resume } => (resume, true),
        Start::SchemaOnly => (None, false),
    };
    let mode = cx.settings.mode;
    let read = Read { resume, data, schema_changes: cx.settings.schema_changes, fixed: None };
    let (ended, origin) = take(read, cx).await?;
    match ended {
        Ended::Interrupted => {
            info!("snapshot interrupted by shutdown; a restart resumes it after the last delivered row");
            Ok(Outcome::Stop)
        }
        Ended::Complete => {
            if mode == Mode::InitialOnly {
                info!("snapshot.mode=initial_only: snapshot complete, not streaming");
                return Ok(Outcome::Stop);
            }
            Ok(Outcome::Stream(streaming_position(origin)))
        }
    }
}

/// A blocking snapshot (signal `execute-snapshot`, type `blocking`):
/// streaming is paused while the tables `cx.filters` admits are read like
/// an initial snapshot, at a new consistent point. Every batch carries
/// `at`, the position of the signal, so that a crash re-reads the signal
/// and takes the blocking snapshot again (Debezium: duplicates possible).
pub async fn blocking(cx: Context<'_>, at: Position) -> Result<Ended, SnapshotError> {
    let read = Read { resume: None, data: true, schema_changes: false, fixed: Some(at) };
    Ok(take(read, cx).await?.0)
}

/// What [`take`] reads and how it stores progress.
struct Read {
    resume: Option<(Position, Progress)>,
    /// Rows (false: structures only).
    data: bool,
    schema_changes: bool,
    /// Position of every batch instead of the consistent point's.
    fixed: Option<Position>,
}

/// Reads the tables `cx.filters` admits at a consistent point; returns how
/// it ended and the position streaming continues from.
async fn take(read: Read, cx: Context<'_>) -> Result<(Ended, Position), SnapshotError> {
    let Context { settings, source: source_cfg, pool, envelope, filters, out, shutdown } = cx;
    let Read { resume, data, schema_changes, fixed } = read;
    let opts = source_cfg.opts();
    let threads = settings.threads.max(1);
    let mut point =
        consistent::open(&opts, settings.locking, settings.lock_timeout, threads, settings.mariadb, filters.as_ref())
            .await?;
    let (origin, progress) = match resume {
        Some((origin, progress)) => (origin, progress),
        None => (point.position.clone(), Progress::default()),
    };

    // Structures and plans of the tables still to read.
    let encoder = Arc::new(Encoder::new(envelope));
    let mut catalog = Catalog::new(pool.clone());
    let mut plans = Vec::new();
    let reader0 = &mut point.readers[0];
    for ((id, estimate), index) in point.tables.iter().zip(0..) {
        let Some(resume_after) = progress.resume_of(id) else { continue };
        let schema = catalog.get(&id.0, &id.1).await?;
        let f = filters.clone();
        let (db, t) = id.clone();
        let codec = Arc::new(encoder.codec(schema.clone(), &|col| f.column(&db, &t, col)));
        plans.push(Arc::new(
            TablePlan::new(index, id.clone(), schema, codec, *estimate, resume_after, reader0).await?,
        ));
    }
    // Schema change records: on a fresh snapshot (a resumed one wrote them
    // before its first row).
    let schema_records = if schema_changes && progress == Progress::default() {
        let all: Vec<&TablePlan> = plans.iter().map(|p| p.as_ref()).collect();
        schema::records(&mut point.readers[0], &encoder, &all, &origin).await?
    } else {
        Vec::new()
    };
    if !data {
        plans.clear();
    }
    let tables = plans.len();
    info!(tables, done_before = progress.done.len(), readers = threads, "snapshot reading tables");

    let (feeds_tx, feeds_rx) = mpsc::unbounded_channel();
    let ranges_per_table = threads * 4;
    let planner = Arc::new(Mutex::new(Planner::new(plans, ranges_per_table, feeds_tx)));
    let permits = Arc::new(Semaphore::new(threads * 2));
    let limits = PageLimits { rows: settings.page_rows, bytes: settings.page_bytes, fetch_size: settings.fetch_size };
    let origin_src = Origin { file: Arc::from(point.position.file.as_str()), pos: point.position.pos };
    let mut workers = Vec::new();
    for conn in point.readers.drain(..) {
        workers.push(tokio::spawn(reader::run(
            conn,
            planner.clone(),
            permits.clone(),
            encoder.clone(),
            origin_src.clone(),
            limits,
            crate::transform::Transforms::for_snapshot(&settings.transforms),
        )));
    }
    drop(planner);

    let ended = Emitter::new(out, origin.clone(), progress, tables, schema_records)
        .with_fixed_position(fixed)
        .run(feeds_rx, shutdown)
        .await;
    permits.close();
    let mut worker_error = None;
    for w in workers {
        if ended.is_ok() {
            match w.await {
                Ok(Err(e)) => worker_error = worker_error.or(Some(e)),
                Err(e) => worker_error = worker_error.or(Some(SnapshotError::Reader(e.to_string()))),
                Ok(Ok(())) => {}
            }
        } else {
            w.abort();
        }
    }
    point.release().await;
    let ended = ended?;
    if let (Ended::Complete, Some(e)) = (&ended, worker_error) {
        return Err(e);
    }
    Ok((ended, origin))
}
