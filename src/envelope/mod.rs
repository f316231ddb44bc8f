//! ChangeEvent → Kafka record bytes, exactly as Debezium's connector and
//! Kafka Connect's JsonConverter write them (spec §0–§4).
//!
//! Everything that depends only on the table (topic, key and value schema
//! JSON, per-column mappings) is computed once per table version in a
//! `TableCodec`; per row, the payload is written straight into the record's
//! byte buffer.

pub mod field;
pub mod heartbeat;
pub mod json;
pub mod jsonb;
pub mod parts;
pub mod schema_change;
pub mod source;
pub mod temporal;
pub mod transaction;

use std::sync::Arc;

use crate::decode::cell::Cell;
use crate::schema::TableSchema;

pub use field::{BigintUnsignedMode, BinaryMode, DecimalMode, Field, TimePrecisionMode};
pub use source::{Flavor, SourceInfo};

/// The handling modes that change how values are mapped (spec §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modes {
    pub decimal: DecimalMode,
    pub time: TimePrecisionMode,
    pub bigint_unsigned: BigintUnsignedMode,
    pub binary: BinaryMode,
}

impl Default for Modes {
    fn default() -> Self {
        Modes {
            decimal: DecimalMode::Precise,
            time: TimePrecisionMode::AdaptiveTimeMicroseconds,
            bigint_unsigned: BigintUnsignedMode::Long,
            binary: BinaryMode::Bytes,
        }
    }
}

/// Settings of the envelope stage.
#[derive(Debug, Clone)]
pub struct EnvelopeConfig {
    pub topic_prefix: String,
    pub flavor: Flavor,
    pub modes: Modes,
    pub key_schemas: bool,
    pub value_schemas: bool,
    pub tombstones_on_delete: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Delete,
    /// A row read by a snapshot (`r`).
    Read,
    /// `TRUNCATE TABLE` (`t`): null key, no row images.
    Truncate,
}

impl Op {
    fn code(self) -> &'static [u8] {
        match self {
            Op::Create => b"c",
            Op::Update => b"u",
            Op::Delete => b"d",
            Op::Read => b"r",
            Op::Truncate => b"t",
        }
    }
}

/// One row change, borrowed from the binlog event it was decoded from.
pub struct ChangeEvent<'a> {
    pub op: Op,
    pub before: Option<&'a [Cell<'a>]>,
    pub after: Option<&'a [Cell<'a>]>,
    pub source: SourceInfo<'a>,
    /// Connector wall clock in nanoseconds since the epoch.
    pub now_ns: i64,
}

/// A Kafka record ready to produce.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub topic: Arc<str>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    /// Headers beyond the connector-wide context headers.
    pub headers: Vec<(&'static str, Vec<u8>)>,
    /// How a record that is not a plain change event is delivered
    /// (transformed, heartbeat, transaction metadata); `None` for the rest.
    pub delivery: Option<Box<Delivery>>,
}

/// Delivery details that Debezium and its SMTs set on some records.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// An explicit partition (heartbeats: 0; the outbox `partition`
    /// placement); `None` = by key.
    pub partition: Option<i32>,
    /// The Kafka record timestamp in ms; `None` = producer time.
    pub timestamp_ms: Option<i64>,
    /// Whether the connector's `__debezium.context.*` headers are added
    /// (change events: yes; heartbeats and transaction metadata: no).
    pub context_headers: bool,
    /// Headers after the context headers, in order, as SMTs append them; a
    /// `None` value is a header with a null value.
    pub trailing_headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery { partition: None, timestamp_ms: None, context_headers: true, trailing_headers: Vec::new() }
    }
}

impl Record {
    pub fn size_bytes(&self) -> usize {
        self.topic.len()
            + self.key.as_ref().map_or(0, Vec::len)
            + self.value.as_ref().map_or(0, Vec::len)
            + self.headers.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
            + self.delivery.as_ref().map_or(0, |d| {
                d.trailing_headers.iter().map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len)).sum::<usize>()
            })
    }
}

/// Everything about one table version that does not change per row.
pub struct TableCodec {
    pub schema: Arc<TableSchema>,
    pub topic: Arc<str>,
    fields: Vec<Field>,
    /// The `<topic>.Value` struct schema up to its name, without the closing
    /// brace (what `ExtractNewRecordState` and the envelope start from).
    value_struct: Vec<u8>,
    /// Columns in the value (`column.exclude.list` removes some; the key
    /// always has all its columns, as in Debezium).
    value_columns: Vec<usize>,
    key_prefix: Vec<u8>,
    value_prefix: Vec<u8>,
    suffix_value: &'static [u8],
    suffix_key: &'static [u8],
    /// Capacity for the next value: a little over the largest seen, so
    /// that a value is written without growing (a reallocation copies the
    /// whole schema again and leaves up to half the buffer unused).
    value_hint: std::sync::atomic::AtomicUsize,
}

/// Builds codecs and encodes events.
pub struct Encoder {
    cfg: EnvelopeConfig,
    source_schema: Vec<u8>,
}

/// Kafka topic names allow `[A-Za-z0-9._-]`; anything else becomes `_`.
pub fn sanitize_topic(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' { c } else { '_' })
        .collect()
}

impl Encoder {
    pub fn new(cfg: EnvelopeConfig) -> Self {
        let source_schema = source::schema_json(cfg.flavor);
        Encoder { cfg, source_schema }
    }

    pub fn config(&self) -> &EnvelopeConfig {
        &self.cfg
    }

    /// Builds the codec of a table version; `include_column` says which
    /// columns go into the value.
    pub fn codec(&self, schema: Arc<TableSchema>, include_column: &dyn Fn(&str) -> bool) -> TableCodec {
        let topic = sanitize_topic(&format!("{}.{}.{}", self.cfg.topic_prefix, schema.db, schema.table));
        let fields: Vec<Field> = schema.columns.iter().map(|c| Field::new(c, &self.cfg.modes)).collect();
        let value_columns: Vec<usize> =
            (0..schema.columns.len()).filter(|i| include_column(&schema.columns[*i].name)).collect();

        let mut value_struct = Vec::new();
        value_struct.extend_from_slice(b"{\"type\":\"struct\",\"fields\":[");
        for (i, f) in value_columns.iter().map(|i| &fields[*i]).enumerate() {
            if i > 0 {
                value_struct.push(b',');
            }
            value_struct.extend_from_slice(&f.schema);
        }
        value_struct.extend_from_slice(b"],\"optional\":true,\"name\":");
        json::string(&mut value_struct, &format!("{topic}.Value"));

        let mut key_prefix = Vec::new();
        if self.cfg.key_schemas && !schema.key.is_empty() {
            key_prefix.extend_from_slice(b"{\"schema\":{\"type\":\"struct\",\"fields\":[");
            for (i, k) in schema.key.iter().enumerate() {
                if i > 0 {
                    key_prefix.push(b',');
                }
                key_prefix.extend_from_slice(&fields[*k].schema);
            }
            key_prefix.extend_from_slice(b"],\"optional\":false,\"name\":");
            json::string(&mut key_prefix, &format!("{topic}.Key"));
            key_prefix.extend_from_slice(b"},\"payload\":");
        }

        let mut value_prefix = Vec::new();
        if self.cfg.value_schemas {
            value_prefix.extend_from_slice(b"{\"schema\":{\"type\":\"struct\",\"fields\":[");
            value_prefix.extend_from_slice(&value_struct);
            value_prefix.extend_from_slice(b",\"field\":\"before\"},");
            value_prefix.extend_from_slice(&value_struct);
            value_prefix.extend_from_slice(b",\"field\":\"after\"},");
            value_prefix.extend_from_slice(&self.source_schema);
            value_prefix.extend_from_slice(
                b",{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},\
{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"},\
{\"type\":\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}],\
\"optional\":true,\"name\":\"event.block\",\"version\":1,\"field\":\"transaction\"},\
{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},\
{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},\
{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},\
{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}],\"optional\":false,\"name\":",
            );
            json::string(&mut value_prefix, &format!("{topic}.Envelope"));
            value_prefix.extend_from_slice(b",\"version\":2},\"payload\":");
        }
        let suffix = |on: bool| -> &'static [u8] { if on { b"}" } else { b"" } };
        TableCodec {
            topic: Arc::from(topic),
            fields,
            value_struct,
            value_columns,
            suffix_key: suffix(self.cfg.key_schemas && !schema.key.is_empty()),
            suffix_value: suffix(self.cfg.value_schemas),
            value_hint: std::sync::atomic::AtomicUsize::new(value_prefix.len() + 512),
            key_prefix,
            value_prefix,
            schema,
        }
    }

    fn write_row(&self, out: &mut Vec<u8>, codec: &TableCodec, cells: &[Cell<'_>]) {
        out.push(b'{');
        for (i, c) in codec.value_columns.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let f = &codec.fields[*c];
            out.extend_from_slice(&f.name_prefix);
            f.write(out, cells.get(*c).unwrap_or(&Cell::Absent));
        }
        out.push(b'}');
    }

    /// The key payload, or `None` for a table without a key.
    fn key_payload(&self, codec: &TableCodec, cells: &[Cell<'_>]) -> Option<Vec<u8>> {
        if codec.schema.key.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(codec.key_prefix.len() + 32);
        out.extend_from_slice(&codec.key_prefix);
        out.push(b'{');
        for (i, k) in codec.schema.key.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let f = &codec.fields[*k];
            out.extend_from_slice(&f.name_prefix);
            f.write(&mut out, cells.get(*k).unwrap_or(&Cell::Null));
        }
        out.push(b'}');
        out.extend_from_slice(codec.suffix_key);
        Some(out)
    }

    fn value(
        &self,
        codec: &TableCodec,
        ev: &ChangeEvent<'_>,
        op: Op,
        before: Option<&[Cell<'_>]>,
        after: Option<&[Cell<'_>]>,
        tx: Option<&transaction::Block<'_>>,
    ) -> Vec<u8> {
        let hint = codec.value_hint.load(std::sync::atomic::Ordering::Relaxed);
        let mut out = Vec::with_capacity(hint);
        out.extend_from_slice(&codec.value_prefix);
        out.extend_from_slice(b"{\"before\":");
        match before {
            Some(cells) => self.write_row(&mut out, codec, cells),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"after\":");
        match after {
            Some(cells) => self.write_row(&mut out, codec, cells),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"source\":");
        source::write_payload(&mut out, self.cfg.flavor, &self.cfg.topic_prefix, &ev.source);
        out.extend_from_slice(b",\"transaction\":");
        transaction::write_block(&mut out, tx);
        out.extend_from_slice(b",\"op\":\"");
        out.extend_from_slice(op.code());
        let ns = ev.now_ns;
        out.extend_from_slice(b"\",\"ts_ms\":");
        json::int(&mut out, ns.div_euclid(1_000_000));
        out.extend_from_slice(b",\"ts_us\":");
        json::int(&mut out, ns.div_euclid(1_000));
        out.extend_from_slice(b",\"ts_ns\":");
        json::int(&mut out, ns);
        out.push(b'}');
        out.extend_from_slice(codec.suffix_value);
        // Not for outliers (a row with a large text): those grow as needed.
        if out.len() > hint && out.len() <= codec.value_prefix.len() + 16 * 1024 {
            codec.value_hint.store(out.len() + 64, std::sync::atomic::Ordering::Relaxed);
        }
        out
    }

    /// Appends the records of one row change: the change itself, a tombstone
    /// after a delete, and for an update that changes the key, a delete of the
    /// old key (+ tombstone) followed by a create of the new one (spec §1).
    pub fn encode(&self, codec: &TableCodec, ev: &ChangeEvent<'_>, out: &mut Vec<Record>) {
        let record = |key: Option<Vec<u8>>, value: Option<Vec<u8>>| Record {
            topic: codec.topic.clone(),
            key,
            value,
            headers: Vec::new(),
            delivery: None,
        };
        match (ev.op, ev.before, ev.after) {
            (Op::Truncate, _, _) => out.push(record(None, Some(self.value(codec, ev, Op::Truncate, None, None, None)))),
            (Op::Update, Some(before), Some(after)) if self.key_changed(codec, before, after) => {
                let old_key = self.key_payload(codec, before);
                let new_key = self.key_payload(codec, after);
                let mut del = record(old_key.clone(), Some(self.value(codec, ev, Op::Delete, Some(before), None, None)));
                if let Some(k) = &new_key {
                    del.headers.push(("__debezium.newkey", self.key_header(codec, after, k)));
                }
                let del_headers = del.headers.clone();
                out.push(del);
                if self.cfg.tombstones_on_delete {
                    // Debezium's tombstone copies the delete's headers.
                    let mut tombstone = record(old_key.clone(), None);
                    tombstone.headers = del_headers;
                    out.push(tombstone);
                }
                let mut create = record(new_key, Some(self.value(codec, ev, Op::Create, None, Some(after), None)));
                if let Some(k) = &old_key {
                    create.headers.push(("__debezium.oldkey", self.key_header(codec, before, k)));
                }
                out.push(create);
            }
            (op, before, after) => {
                let key_cells = after.or(before).unwrap_or(&[]);
                let key = self.key_payload(codec, key_cells);
                let value = Some(self.value(codec, ev, op, before, after, None));
                if op == Op::Delete && self.cfg.tombstones_on_delete {
                    out.push(record(key.clone(), value));
                    out.push(record(key, None));
                } else {
                    out.push(record(key, value));
                }
            }
        }
    }

    fn key_changed(&self, codec: &TableCodec, before: &[Cell<'_>], after: &[Cell<'_>]) -> bool {
        codec.schema.key.iter().any(|k| before.get(*k) != after.get(*k))
    }

    /// Key struct as a header value: the key payload without the schema wrapper.
    /// (Printed by Connect's SimpleHeaderConverter, whatever the key
    /// converter: see `Field::write_header`.)
    fn key_header(&self, codec: &TableCodec, cells: &[Cell<'_>], _full_key: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.push(b'{');
        for (i, k) in codec.schema.key.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let f = &codec.fields[*k];
            f.header_name(&mut out, &codec.schema.columns[*k].name);
            f.write_header(&mut out, cells.get(*k).unwrap_or(&Cell::Null));
        }
        out.push(b'}');
        out
    }
}
