//! Between decoding and the wire: what happens to change events besides
//! the plain Debezium envelope.
//!
//! This stage owns, for every row change the decoder hands it:
//!
//! - `skipped.operations`: which kinds of change are not written at all;
//! - transaction metadata (spec §8): the `transaction` block of each data
//!   event and the BEGIN/END records, with counters that survive a restart
//!   in the middle of a transaction (they travel in the stored position);
//! - the SMT chain (`transforms`, `predicates`), Kafka Connect's way: the
//!   Outbox Event Router and ExtractNewRecordState, each on the topics its
//!   predicate selects, so an outbox table and plain CDC of other tables
//!   share one stream;
//!
//! and, between events, heartbeats (spec §9).
//!
//! The hot path stays the envelope's: with no transform applying to a
//! table and no transaction metadata, a row change is encoded directly by
//! [`Encoder::encode`] after one predicate lookup. Otherwise the change is
//! taken apart ([`Encoder::parts`]) and each record is encoded once, by the
//! envelope or by the transform that takes it — never built as a full
//! envelope first and rewritten.

pub mod chain;
pub mod config;
pub mod heartbeat;
pub mod json;
pub mod outbox;
pub mod transaction;
pub mod unwrap;

use std::time::Duration;

use chain::{Chain, Row};
use heartbeat::Heartbeat;
use transaction::TxState;

use crate::envelope::heartbeat::HeartbeatTopic;
use crate::envelope::transaction::TransactionTopic;
use crate::envelope::{ChangeEvent, Encoder, Op, Record, TableCodec};
use crate::offsets::position::TransactionOffset;

/// A transform could not handle a change: the connector stops (Kafka
/// Connect fails the task the same way).
#[derive(Debug, thiserror::Error)]
#[error("transform `{transform}` failed on a change of `{table}`: {message}")]
pub struct TransformError {
    /// The transform's alias in `transforms`.
    pub transform: String,
    pub table: String,
    pub message: String,
}

/// `skipped.operations`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Skipped {
    pub create: bool,
    pub update: bool,
    pub delete: bool,
    pub truncate: bool,
}

/// Heartbeat settings (`heartbeat.*`, `topic.heartbeat.*`).
#[derive(Debug, Clone)]
pub struct HeartbeatSettings {
    pub topic: HeartbeatTopic,
    pub interval: Duration,
    pub action_query: Option<String>,
}

/// The stage's settings, from [`crate::settings::transforms`].
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub skipped: Skipped,
    pub chain: config::TransformsConfig,
    /// `provide.transaction.metadata`: where BEGIN/END go.
    pub transaction: Option<TransactionTopic>,
    pub heartbeat: Option<HeartbeatSettings>,
    /// `extended.headers.enabled`.
    pub context_headers: bool,
}

pub struct Transforms {
    skipped: Skipped,
    chain: Chain,
    tx: Option<TxState>,
    heartbeat: Option<Heartbeat>,
    context_headers: bool,
    /// Time of the event before the current one (seconds): Debezium stamps
    /// BEGIN/END with it (its timestamp listener runs after the handler).
    prev_ts_sec: Option<i64>,
}

impl Transforms {
    /// Nothing: every change encoded as it is.
    pub fn none() -> Self {
        Transforms {
            skipped: Skipped::default(),
            chain: Chain::new(Vec::new()),
            tx: None,
            heartbeat: None,
            context_headers: true,
            prev_ts_sec: None,
        }
    }

    /// The stage; `pool` runs `heartbeat.action.query` on the source.
    pub fn new(settings: Settings, pool: Option<mysql_async::Pool>) -> Self {
        let heartbeat = settings.heartbeat.map(|h| {
            let action = h.action_query.zip(pool);
            Heartbeat::new(h.topic, h.interval, action.map(|(q, p)| (p, q)))
        });
        Transforms {
            skipped: settings.skipped,
            chain: Chain::new(settings.chain.chain),
            tx: settings.transaction.map(TxState::new),
            heartbeat,
            context_headers: settings.context_headers,
            prev_ts_sec: None,
        }
    }

    /// For snapshot readers: the SMT chain only. Snapshot rows (`op: r`)
    /// are never skipped, belong to no transaction, and heartbeats are the
    /// streaming side's.
    pub fn for_snapshot(settings: &Settings) -> Self {
        Transforms {
            chain: Chain::new(settings.chain.chain.clone()),
            context_headers: settings.context_headers,
            ..Transforms::none()
        }
    }

    /// Whether changes of this kind are not written (`skipped.operations`).
    pub fn skips(&self, op: Op) -> bool {
        match op {
            Op::Create => self.skipped.create,
            Op::Update => self.skipped.update,
            Op::Delete => self.skipped.delete,
            Op::Truncate => self.skipped.truncate,
            Op::Read => false,
        }
    }

    /// Appends the records of one row change.
    pub fn row(
        &mut self,
        encoder: &Encoder,
        codec: &TableCodec,
        ev: &ChangeEvent<'_>,
        out: &mut Vec<Record>,
    ) -> Result<(), TransformError> {
        let counting = self.tx.is_some();
        if !counting
            && ev.op != Op::Truncate
            && (self.chain.is_empty() || self.chain.passes_untouched(codec))
        {
            encoder.encode(codec, ev, out);
            return Ok(());
        }
        let row = Row {
            encoder,
            codec,
            ev,
            context_headers: self.context_headers,
        };
        let untouched = self.chain.is_empty() || self.chain.passes_untouched(codec);
        for part in encoder.parts(codec, ev) {
            let block = match (&mut self.tx, part.is_event()) {
                (Some(tx), true) => tx.event(&codec.schema.db, &codec.schema.table),
                _ => None,
            };
            if untouched {
                out.push(encoder.encode_part(codec, ev, &part, block.as_ref()));
            } else {
                self.chain.run(&row, part, block.as_ref(), out)?;
            }
        }
        Ok(())
    }

    /// Records the time of the event before the one being handled.
    pub fn note_previous_event_time(&mut self, ts_sec: Option<i64>) {
        self.prev_ts_sec = ts_sec;
    }

    fn prev_ts_ms(&self) -> i64 {
        self.prev_ts_sec.unwrap_or(0) * 1000
    }

    /// Whether transaction metadata is on.
    pub fn transaction_metadata(&self) -> bool {
        self.tx.is_some()
    }

    /// A transaction starts (`id`: its GTID, else `file=<f>,pos=<p>`): its
    /// BEGIN record, or nothing when `replaying` the open transaction after
    /// a restart or reconnect (its BEGIN was delivered before).
    pub fn begin_transaction(&mut self, id: String, replaying: bool) -> Option<Record> {
        let ts = self.prev_ts_ms();
        let tx = self.tx.as_mut()?;
        if replaying && tx.is_open(&id) {
            return None;
        }
        Some(tx.begin(id, ts))
    }

    /// The open transaction commits: its END record.
    pub fn end_transaction(&mut self) -> Option<Record> {
        let ts = self.prev_ts_ms();
        self.tx.as_mut()?.end(ts)
    }

    /// The counters to store with a position inside a transaction.
    pub fn transaction_offset(&self) -> Option<TransactionOffset> {
        self.tx.as_ref()?.offset()
    }

    /// Continues the counters of a transaction interrupted by a restart.
    pub fn restore_transaction(&mut self, stored: TransactionOffset) {
        if let Some(tx) = self.tx.as_mut() {
            tx.restore(stored);
        }
    }

    pub fn heartbeat_due(&self) -> bool {
        self.heartbeat.as_ref().is_some_and(Heartbeat::due)
    }

    /// A heartbeat record (running `heartbeat.action.query` first), if
    /// heartbeats are on.
    pub async fn heartbeat(&mut self) -> Option<Record> {
        Some(self.heartbeat.as_mut()?.beat().await)
    }
}
