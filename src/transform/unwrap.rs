//! `io.debezium.transforms.ExtractNewRecordState` (spec §14): the change
//! event's envelope replaced by its new row state, as Debezium 3.x writes it.
//!
//! Inserts, updates and snapshot reads become the `after` row; deletes
//! follow `delete.tombstone.handling.mode`; the connector's tombstones are
//! dropped except with `rewrite-with-tombstone`; truncates are dropped.
//! `add.fields` appends `__`-prefixed members (envelope `op`/`ts_*`,
//! `source.*`, `transaction.*`, `before.*`/`after.*`), `add.headers`
//! appends headers (a tombstone only gets `op` = `d`).
//!
//! Byte-level details kept from Debezium: the value schema of an unwrapped
//! row is the table's `<topic>.Value` struct rebuilt by `addFields`, which
//! does not copy `optional`, so it prints `"optional":false`; a delete in
//! `tombstone` mode keeps the `after` field's schema (`"optional":true`)
//! with a null payload (JSON `null` without schemas, not a Kafka
//! tombstone); added fields get the optional version of their schema
//! without its default; `__deleted` is an optional string.

use std::collections::HashMap;
use std::sync::Arc;

use super::chain::{Flow, Row};
use super::config::{DeleteMode, FieldRef, Scope, UnwrapConfig};
use super::json::{self, Json};
use super::outbox::header_value;
use crate::decode::cell::Cell;
use crate::envelope::parts::Part;
use crate::envelope::source::DEBEZIUM_VERSION;
use crate::envelope::transaction::Block;
use crate::envelope::{json as out_json, Delivery, Op, Record, TableCodec};
use crate::schema::TableSchema;

const DELETED_SCHEMA: &[u8] = b"{\"type\":\"string\",\"optional\":true,\"field\":\"__deleted\"}";

/// Per table version: the schemas of the added members.
struct Plan {
    schema: Arc<TableSchema>,
    /// `,{schema of __deleted},{schema of each added field}` as printed.
    extra_schema: Vec<u8>,
    /// The `add.fields` entries present in this table's change events.
    fields: Vec<Resolved>,
    /// The `add.headers` entries present.
    headers: Vec<Resolved>,
}

/// A field reference resolved against a table.
#[derive(Clone)]
struct Resolved {
    name: String,
    what: Value,
}

#[derive(Clone, Copy)]
enum Value {
    Op,
    TsMs,
    TsUs,
    TsNs,
    Source(SourceField),
    TxId,
    TxTotal,
    TxCollection,
    Before(usize),
    After(usize),
}

#[derive(Clone, Copy)]
enum SourceField {
    Version,
    Connector,
    Name,
    TsMs,
    Snapshot,
    Db,
    Sequence,
    TsUs,
    TsNs,
    Table,
    ServerId,
    Gtid,
    File,
    Pos,
    Row,
    Thread,
    Query,
}

const SNAPSHOT_SCHEMA: &str = "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,\
\"parameters\":{\"allowed\":\"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental\"}";

fn source_field(name: &str) -> Option<(SourceField, &'static str)> {
    use SourceField::*;
    const STR: &str = "{\"type\":\"string\",\"optional\":true";
    const I64: &str = "{\"type\":\"int64\",\"optional\":true";
    const I32: &str = "{\"type\":\"int32\",\"optional\":true";
    Some(match name {
        "version" => (Version, STR),
        "connector" => (Connector, STR),
        "name" => (Name, STR),
        "ts_ms" => (TsMs, I64),
        "snapshot" => (Snapshot, SNAPSHOT_SCHEMA),
        "db" => (Db, STR),
        "sequence" => (Sequence, STR),
        "ts_us" => (TsUs, I64),
        "ts_ns" => (TsNs, I64),
        "table" => (Table, STR),
        "server_id" => (ServerId, I64),
        "gtid" => (Gtid, STR),
        "file" => (File, STR),
        "pos" => (Pos, I64),
        "row" => (Row, I32),
        "thread" => (Thread, I64),
        "query" => (Query, STR),
        _ => return None,
    })
}

pub struct Unwrap {
    cfg: UnwrapConfig,
    plans: HashMap<Arc<str>, Plan>,
    /// The headers added to the last delete. Debezium's tombstone shares
    /// the delete's header list (`newRecord(..., record.headers())`), and
    /// this SMT adds to that list in place: the tombstone that follows a
    /// delete carries the delete's added headers before its own.
    delete_headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Unwrap {
    pub fn new(cfg: UnwrapConfig) -> Self {
        Unwrap {
            cfg,
            plans: HashMap::new(),
            delete_headers: Vec::new(),
        }
    }

    fn rewrite(&self) -> bool {
        matches!(
            self.cfg.mode,
            DeleteMode::Rewrite | DeleteMode::RewriteWithTombstone
        )
    }

    pub fn apply<'a>(
        &mut self,
        row: &Row<'_, 'a>,
        flow: Flow<'a>,
        tx: Option<&Block<'_>>,
    ) -> Result<Option<Flow<'a>>, String> {
        let part = match flow {
            Flow::Done(mut r) => {
                if r.value.is_some() {
                    return Ok(Some(Flow::Done(r)));
                }
                // A tombstone made by an earlier transform.
                if self.cfg.mode != DeleteMode::RewriteWithTombstone {
                    return Ok(None);
                }
                let ops: Vec<(String, Option<Vec<u8>>)> = self
                    .cfg
                    .add_headers
                    .iter()
                    .filter(|h| h.field == "op")
                    .map(|h| (h.name.clone(), Some(b"d".to_vec())))
                    .collect();
                if !ops.is_empty() {
                    r.delivery
                        .get_or_insert_with(Default::default)
                        .trailing_headers
                        .extend(ops);
                }
                return Ok(Some(Flow::Done(r)));
            }
            Flow::Change(p) => p,
        };
        let codec = row.codec;
        self.ensure_plan(codec);
        let plan = self.plans.get(&codec.topic).ok_or("no plan")?;

        // Headers first, as Debezium adds them before deciding anything.
        let mut trailing: Vec<(String, Option<Vec<u8>>)> = Vec::new();
        if part.tombstone {
            trailing.append(&mut self.delete_headers);
            trailing.extend(
                self.cfg
                    .add_headers
                    .iter()
                    .filter(|h| h.field == "op")
                    .map(|h| (h.name.clone(), Some(b"d".to_vec()))),
            );
        } else {
            for h in &plan.headers {
                trailing.push((h.name.clone(), header(row, &part, tx, h.what)));
            }
            self.delete_headers.clear();
            if part.op == Op::Delete {
                self.delete_headers.clone_from(&trailing);
            }
        }
        let (key, headers) = row.encoder.part_key(codec, &part);
        let record = |topic: Arc<str>,
                      value: Option<Vec<u8>>,
                      trailing: Vec<(String, Option<Vec<u8>>)>| Record {
            topic,
            key: key.clone(),
            value,
            headers: headers.clone(),
            delivery: Some(Box::new(Delivery {
                trailing_headers: trailing,
                ..Delivery::default()
            })),
        };

        if part.tombstone {
            return Ok(match self.cfg.mode {
                DeleteMode::RewriteWithTombstone => {
                    Some(Flow::Done(record(codec.topic.clone(), None, trailing)))
                }
                _ => None,
            });
        }
        if part.op == Op::Truncate || (part.after.is_none() && part.before.is_none()) {
            return Ok(None);
        }
        let value_schemas = row.encoder.value_schemas();
        match part.after {
            None => {
                let before = part.before.unwrap_or(&[]);
                let topic = self.routed_topic(codec, before)?;
                let value = match self.cfg.mode {
                    DeleteMode::Drop => return Ok(None),
                    DeleteMode::DeleteToTombstone => None,
                    DeleteMode::Tombstone => Some(if value_schemas {
                        let mut v = b"{\"schema\":".to_vec();
                        codec.write_value_schema(&mut v);
                        v.extend_from_slice(b",\"payload\":null}");
                        v
                    } else {
                        b"null".to_vec()
                    }),
                    DeleteMode::Rewrite | DeleteMode::RewriteWithTombstone => {
                        Some(self.write_row(row, &part, tx, before, Some("true")))
                    }
                };
                Ok(Some(Flow::Done(record(topic, value, trailing))))
            }
            Some(after) => {
                let topic = self.routed_topic(codec, after)?;
                let deleted = self.rewrite().then_some("false");
                let value = self.write_row(row, &part, tx, after, deleted);
                Ok(Some(Flow::Done(record(topic, Some(value), trailing))))
            }
        }
    }

    fn ensure_plan(&mut self, codec: &TableCodec) {
        let stale = self
            .plans
            .get(&codec.topic)
            .is_none_or(|p| !Arc::ptr_eq(&p.schema, &codec.schema));
        if stale {
            let plan = build_plan(&self.cfg, self.rewrite(), codec);
            self.plans.insert(codec.topic.clone(), plan);
        }
    }

    /// `route.by.field`: the topic named by a column of the row, if set and
    /// not blank.
    fn routed_topic(&self, codec: &TableCodec, cells: &[Cell<'_>]) -> Result<Arc<str>, String> {
        let Some(column) = &self.cfg.route_by else {
            return Ok(codec.topic.clone());
        };
        let i = codec
            .column_index(column)
            .filter(|i| codec.in_value(*i))
            .ok_or_else(|| {
                format!(
                    "`{}` has no column `{column}` (route.by.field)",
                    codec.schema.qualified_name()
                )
            })?;
        let mut v = Vec::new();
        codec
            .field(i)
            .write(&mut v, cells.get(i).unwrap_or(&Cell::Absent));
        match json::parse(std::str::from_utf8(&v).unwrap_or("null")) {
            Ok(Json::Str(s)) if !s.trim().is_empty() => Ok(Arc::from(s.as_str())),
            Ok(Json::Str(_) | Json::Null) => Ok(codec.topic.clone()),
            _ => Err(format!(
                "the `{column}` column (route.by.field) must be a string column"
            )),
        }
    }

    /// The unwrapped value: the row with `__deleted` and the added fields.
    fn write_row(
        &self,
        row: &Row<'_, '_>,
        part: &Part<'_>,
        tx: Option<&Block<'_>>,
        cells: &[Cell<'_>],
        deleted: Option<&str>,
    ) -> Vec<u8> {
        let codec = row.codec;
        let plan = &self.plans[&codec.topic];
        let mut v = Vec::with_capacity(1024);
        let schemas = row.encoder.value_schemas();
        if schemas {
            let fields = codec.value_fields_schema();
            v.extend_from_slice(b"{\"schema\":{\"type\":\"struct\",\"fields\":[");
            v.extend_from_slice(fields);
            let extra = if fields.is_empty() {
                plan.extra_schema
                    .strip_prefix(b",")
                    .unwrap_or(&plan.extra_schema)
            } else {
                &plan.extra_schema
            };
            v.extend_from_slice(extra);
            v.extend_from_slice(b"],\"optional\":false,\"name\":");
            v.extend_from_slice(codec.value_schema_name());
            v.extend_from_slice(b"},\"payload\":");
        }
        let start = v.len();
        row.encoder.write_value_row(&mut v, codec, cells);
        v.pop(); // the row object's closing brace
        let mut first = v.len() == start + 1;
        let mut member = |v: &mut Vec<u8>, name: &str| {
            if !first {
                v.push(b',');
            }
            first = false;
            out_json::string(v, name);
            v.push(b':');
        };
        if let Some(d) = deleted {
            member(&mut v, "__deleted");
            out_json::string(&mut v, d);
        }
        for f in &plan.fields {
            member(&mut v, &f.name);
            write_value(&mut v, row, part, tx, f.what);
        }
        v.push(b'}');
        if schemas {
            v.push(b'}');
        }
        v
    }
}

fn build_plan(cfg: &UnwrapConfig, rewrite: bool, codec: &TableCodec) -> Plan {
    let mut extra_schema = Vec::new();
    if rewrite {
        extra_schema.push(b',');
        extra_schema.extend_from_slice(DELETED_SCHEMA);
    }
    let mut fields = Vec::new();
    for f in &cfg.add_fields {
        if let Some((what, schema)) = resolve(codec, f) {
            extra_schema.push(b',');
            extra_schema.extend_from_slice(&schema);
            extra_schema.extend_from_slice(b",\"field\":");
            out_json::string(&mut extra_schema, &f.name);
            extra_schema.push(b'}');
            fields.push(Resolved {
                name: f.name.clone(),
                what,
            });
        }
    }
    let headers = cfg
        .add_headers
        .iter()
        .filter_map(|f| {
            resolve(codec, f).map(|(what, _)| Resolved {
                name: f.name.clone(),
                what,
            })
        })
        .collect();
    Plan {
        schema: codec.schema.clone(),
        extra_schema,
        fields,
        headers,
    }
}

/// What a field reference reads and its (optional, open) schema; `None`
/// when the change events of this table have no such field (Debezium then
/// adds nothing).
fn resolve(codec: &TableCodec, f: &FieldRef) -> Option<(Value, Vec<u8>)> {
    const STR: &[u8] = b"{\"type\":\"string\",\"optional\":true";
    const I64: &[u8] = b"{\"type\":\"int64\",\"optional\":true";
    let envelope = |name: &str| -> Option<(Value, Vec<u8>)> {
        Some(match name {
            "op" => (Value::Op, STR.to_vec()),
            "ts_ms" => (Value::TsMs, I64.to_vec()),
            "ts_us" => (Value::TsUs, I64.to_vec()),
            "ts_ns" => (Value::TsNs, I64.to_vec()),
            _ => return None,
        })
    };
    match f.scope {
        Scope::Envelope => envelope(&f.field),
        // Not in the struct: Debezium looks in the envelope itself.
        Scope::Source => source_field(&f.field)
            .map(|(s, schema)| (Value::Source(s), schema.as_bytes().to_vec()))
            .or_else(|| envelope(&f.field)),
        Scope::Transaction => match f.field.as_str() {
            "id" => Some((Value::TxId, STR.to_vec())),
            "total_order" => Some((Value::TxTotal, I64.to_vec())),
            "data_collection_order" => Some((Value::TxCollection, I64.to_vec())),
            other => envelope(other),
        },
        Scope::Before | Scope::After => {
            let Some(i) = codec.column_index(&f.field).filter(|i| codec.in_value(*i)) else {
                return envelope(&f.field);
            };
            let what = if f.scope == Scope::Before {
                Value::Before(i)
            } else {
                Value::After(i)
            };
            Some((what, optional_schema(codec.column_schema_open(i))))
        }
    }
}

/// `SchemaUtil.copySchemaBasics(schema).optional()`: the schema made
/// optional, without its default; open (no closing brace).
fn optional_schema(open: &[u8]) -> Vec<u8> {
    let mut text = open.to_vec();
    text.push(b'}');
    let Some(Json::Object(members)) = std::str::from_utf8(&text)
        .ok()
        .and_then(|t| json::parse(t).ok())
    else {
        return open.to_vec();
    };
    let members: Vec<(String, Json)> = members
        .into_iter()
        .filter(|(k, _)| k != "default")
        .map(|(k, v)| {
            if k == "optional" {
                (k, Json::Bool(true))
            } else {
                (k, v)
            }
        })
        .collect();
    let mut out = Vec::new();
    Json::Object(members).write(&mut out);
    out.pop();
    out
}

/// The cell of column `i`, raw (`getWithoutDefault`): null stays null.
fn write_column(out: &mut Vec<u8>, codec: &TableCodec, cells: Option<&[Cell<'_>]>, i: usize) {
    let cell = cells.and_then(|c| c.get(i)).unwrap_or(&Cell::Absent);
    let nullable = codec.schema.columns.get(i).is_some_and(|c| c.nullable);
    if cells.is_none() || (nullable && matches!(cell, Cell::Null | Cell::Absent)) {
        out.extend_from_slice(b"null");
    } else {
        codec.field(i).write(out, cell);
    }
}

fn write_value(
    out: &mut Vec<u8>,
    row: &Row<'_, '_>,
    part: &Part<'_>,
    tx: Option<&Block<'_>>,
    what: Value,
) {
    let ev = row.ev;
    let s = &ev.source;
    let opt_str = |out: &mut Vec<u8>, v: Option<&str>| match v {
        Some(v) => out_json::string(out, v),
        None => out.extend_from_slice(b"null"),
    };
    match what {
        Value::Op => out_json::string(out, op_code(part.op)),
        Value::TsMs => out_json::int(out, ev.now_ns.div_euclid(1_000_000)),
        Value::TsUs => out_json::int(out, ev.now_ns.div_euclid(1_000)),
        Value::TsNs => out_json::int(out, ev.now_ns),
        Value::Source(f) => match f {
            SourceField::Version => out_json::string(out, DEBEZIUM_VERSION),
            SourceField::Connector => out_json::string(out, row.encoder.flavor().connector()),
            SourceField::Name => out_json::string(out, row.encoder.topic_prefix()),
            SourceField::TsMs => out_json::int(out, s.ts_us.div_euclid(1000)),
            SourceField::Snapshot => out_json::string(out, s.snapshot),
            SourceField::Db => out_json::string(out, s.db),
            SourceField::Sequence => out.extend_from_slice(b"null"),
            SourceField::TsUs => out_json::int(out, s.ts_us),
            SourceField::TsNs => out_json::int(out, s.ts_us.saturating_mul(1000)),
            SourceField::Table => opt_str(out, s.table),
            SourceField::ServerId => out_json::uint(out, u64::from(s.server_id)),
            SourceField::Gtid => opt_str(out, s.gtid),
            SourceField::File => out_json::string(out, s.file),
            SourceField::Pos => out_json::uint(out, s.pos),
            SourceField::Row => out_json::uint(out, u64::from(s.row)),
            SourceField::Thread => match s.thread {
                Some(t) => out_json::uint(out, u64::from(t)),
                None => out.extend_from_slice(b"null"),
            },
            SourceField::Query => opt_str(out, s.query),
        },
        Value::TxId => opt_str(out, tx.map(|t| t.id)),
        Value::TxTotal => match tx {
            Some(t) => out_json::uint(out, t.total_order),
            None => out.extend_from_slice(b"null"),
        },
        Value::TxCollection => match tx {
            Some(t) => out_json::uint(out, t.data_collection_order),
            None => out.extend_from_slice(b"null"),
        },
        Value::Before(i) => write_column(out, row.codec, part.before, i),
        Value::After(i) => write_column(out, row.codec, part.after, i),
    }
}

/// A header as `SimpleHeaderConverter` writes it (`None`: null).
fn header(
    row: &Row<'_, '_>,
    part: &Part<'_>,
    tx: Option<&Block<'_>>,
    what: Value,
) -> Option<Vec<u8>> {
    let cells = match what {
        Value::Before(i) => Some((part.before, i)),
        Value::After(i) => Some((part.after, i)),
        _ => None,
    };
    if let Some((cells, i)) = cells {
        let cells = cells?;
        let cell = cells.get(i).unwrap_or(&Cell::Absent);
        let nullable = row.codec.schema.columns.get(i).is_some_and(|c| c.nullable);
        if nullable && matches!(cell, Cell::Null | Cell::Absent) {
            return None;
        }
        return header_value(row.codec.field(i), cell);
    }
    let mut v = Vec::new();
    write_value(&mut v, row, part, tx, what);
    match json::parse(std::str::from_utf8(&v).unwrap_or("null")) {
        Ok(Json::Null) => None,
        Ok(Json::Str(s)) => Some(s.into_bytes()),
        _ => Some(v),
    }
}

fn op_code(op: Op) -> &'static str {
    match op {
        Op::Create => "c",
        Op::Update => "u",
        Op::Delete => "d",
        Op::Read => "r",
        Op::Truncate => "t",
    }
}
