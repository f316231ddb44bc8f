//! A row change taken apart, for the stages that handle its records one by
//! one (transforms, transaction metadata) instead of all at once through
//! [`Encoder::encode`].
//!
//! [`Encoder::parts`] says which records Debezium makes of one row change
//! (spec §1: the change, a tombstone after a delete, a delete + tombstone +
//! create for an update of the key); [`Encoder::encode_part`] writes one of
//! them, with a transaction block when transaction metadata is on. The rest
//! are read-only views of a [`TableCodec`] (column schemas, the value
//! struct) that SMTs need to write records of other shapes.

use super::transaction::Block;
use super::{ChangeEvent, Encoder, Field, Op, Record, TableCodec};
use crate::decode::cell::Cell;

/// One record of a row change, not encoded yet.
#[derive(Clone, Copy)]
pub struct Part<'a> {
    /// `Delete` for a tombstone (it follows a delete).
    pub op: Op,
    pub before: Option<&'a [Cell<'a>]>,
    pub after: Option<&'a [Cell<'a>]>,
    /// A tombstone: the key of `before`, no value.
    pub tombstone: bool,
    /// `__debezium.newkey` (delete half of a key change, and its tombstone)
    /// or `__debezium.oldkey` (create half), with the cells of that key.
    pub key_header: Option<(&'static str, &'a [Cell<'a>])>,
}

impl Part<'_> {
    /// A data change event (counted by transaction metadata), as opposed to
    /// a tombstone.
    pub fn is_event(&self) -> bool {
        !self.tombstone
    }
}

/// Headers of a record of a row change (`__debezium.newkey` / `oldkey`).
pub type KeyHeaders = Vec<(&'static str, Vec<u8>)>;

/// The records of one row change, in order (at most three).
pub type Parts<'a> = std::iter::Flatten<std::array::IntoIter<Option<Part<'a>>, 3>>;

impl Encoder {
    /// Which records [`Encoder::encode`] makes of `ev`, in order.
    pub fn parts<'a>(&self, codec: &TableCodec, ev: &ChangeEvent<'a>) -> Parts<'a> {
        let tombstones = self.cfg.tombstones_on_delete;
        let part = |op, before, after| Part {
            op,
            before,
            after,
            tombstone: false,
            key_header: None,
        };
        let items: [Option<Part<'a>>; 3] = match (ev.op, ev.before, ev.after) {
            (Op::Update, Some(before), Some(after)) if self.key_changed(codec, before, after) => {
                let newkey = (!codec.schema.key.is_empty()).then_some(("__debezium.newkey", after));
                let oldkey =
                    (!codec.schema.key.is_empty()).then_some(("__debezium.oldkey", before));
                let del = Part {
                    key_header: newkey,
                    ..part(Op::Delete, Some(before), None)
                };
                let tomb = Part {
                    tombstone: true,
                    ..del
                };
                let create = Part {
                    key_header: oldkey,
                    ..part(Op::Create, None, Some(after))
                };
                [Some(del), tombstones.then_some(tomb), Some(create)]
            }
            (Op::Delete, before, after) => {
                let del = part(Op::Delete, before, after);
                [
                    Some(del),
                    tombstones.then_some(Part {
                        tombstone: true,
                        ..del
                    }),
                    None,
                ]
            }
            (op, before, after) => [Some(part(op, before, after)), None, None],
        };
        items.into_iter().flatten()
    }

    /// Writes one record of a row change; `tx` fills the value's
    /// `transaction` block.
    pub fn encode_part(
        &self,
        codec: &TableCodec,
        ev: &ChangeEvent<'_>,
        part: &Part<'_>,
        tx: Option<&Block<'_>>,
    ) -> Record {
        let (key, headers) = self.part_key(codec, part);
        let value =
            (!part.tombstone).then(|| self.value(codec, ev, part.op, part.before, part.after, tx));
        Record {
            topic: codec.topic.clone(),
            key,
            value,
            headers,
            delivery: None,
        }
    }

    /// The key bytes of one record of a row change, and its key header
    /// (`__debezium.newkey` / `oldkey`) if it has one.
    pub fn part_key(&self, codec: &TableCodec, part: &Part<'_>) -> (Option<Vec<u8>>, KeyHeaders) {
        let key = match part.op {
            Op::Truncate => None,
            _ => self.key_payload(codec, part.after.or(part.before).unwrap_or(&[])),
        };
        let mut headers = Vec::new();
        if let (Some((name, cells)), Some(k)) = (part.key_header, &key) {
            headers.push((name, self.key_header(codec, cells, k)));
        }
        (key, headers)
    }

    /// The key bytes of a row (`None` for a table without a key).
    pub fn key_bytes(&self, codec: &TableCodec, cells: &[Cell<'_>]) -> Option<Vec<u8>> {
        self.key_payload(codec, cells)
    }

    /// Writes the value columns of a row as a JSON object (the `after`
    /// struct's payload).
    pub fn write_value_row(&self, out: &mut Vec<u8>, codec: &TableCodec, cells: &[Cell<'_>]) {
        self.write_row(out, codec, cells)
    }

    /// Whether records carry the Connect schema in their value.
    pub fn value_schemas(&self) -> bool {
        self.cfg.value_schemas
    }

    /// Whether records carry the Connect schema in their key.
    pub fn key_schemas(&self) -> bool {
        self.cfg.key_schemas
    }

    pub fn topic_prefix(&self) -> &str {
        &self.cfg.topic_prefix
    }

    pub fn flavor(&self) -> super::Flavor {
        self.cfg.flavor
    }
}

const STRUCT_HEAD: &[u8] = b"{\"type\":\"struct\",\"fields\":[";
const STRUCT_TAIL: &[u8] = b"],\"optional\":true,\"name\":";

impl TableCodec {
    /// Index of the column called `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.schema.columns.iter().position(|c| c.name == name)
    }

    /// The mapping of column `i`.
    pub fn field(&self, i: usize) -> &Field {
        &self.fields[i]
    }

    /// Whether column `i` is in the value (`column.exclude.list` removes some).
    pub fn in_value(&self, i: usize) -> bool {
        self.value_columns.contains(&i)
    }

    /// The Connect schema of column `i` as a standalone schema: its field
    /// schema without `"field":"<name>"` and without the closing brace.
    pub fn column_schema_open(&self, i: usize) -> &[u8] {
        let schema = &self.fields[i].schema;
        let name = &self.schema.columns[i].name;
        // `,"field":` + the JSON name + `}` end every field schema.
        let mut tail = Vec::with_capacity(name.len() + 12);
        tail.extend_from_slice(b",\"field\":");
        super::json::string(&mut tail, name);
        tail.push(b'}');
        schema
            .strip_suffix(tail.as_slice())
            .unwrap_or(&schema[..schema.len().saturating_sub(1)])
    }

    /// The member schemas of the `<topic>.Value` struct, comma-separated.
    pub fn value_fields_schema(&self) -> &[u8] {
        let s = &self.value_struct;
        let end = s
            .windows(STRUCT_TAIL.len())
            .rposition(|w| w == STRUCT_TAIL)
            .unwrap_or(s.len());
        &s[STRUCT_HEAD.len().min(end)..end]
    }

    /// `"<topic>.Value"` as a JSON string.
    pub fn value_schema_name(&self) -> &[u8] {
        let s = &self.value_struct;
        match s.windows(STRUCT_TAIL.len()).rposition(|w| w == STRUCT_TAIL) {
            Some(at) => &s[at + STRUCT_TAIL.len()..],
            None => b"null",
        }
    }

    /// The `<topic>.Value` struct schema (optional), complete.
    pub fn write_value_schema(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.value_struct);
        out.push(b'}');
    }
}
