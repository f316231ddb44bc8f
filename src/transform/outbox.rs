//! The Outbox Event Router (`io.debezium.transforms.outbox.EventRouter`,
//! spec §13), as Debezium 3.x's `EventRouterDelegate` behaves.
//!
//! An insert into the outbox table becomes one record on the topic named
//! by its `route.by.field` column through `route.topic.regex` /
//! `route.topic.replacement` (Java `Matcher` semantics: the whole value
//! must match, then the first match is replaced); key = the aggregate id
//! column with that column's schema, value = the payload column (or a
//! struct with it when some column is placed `envelope`), header `id` = the
//! event id, then the `header` placements. Deletes and tombstones of
//! outbox rows produce nothing (applications may delete right after
//! inserting); updates and truncates are "invalid operations" handled per
//! `table.op.invalid.behavior`.
//!
//! Two Debezium details that consumers can see are kept: the Kafka record
//! timestamp is the event's `ts_ms` unless `table.field.event.timestamp`
//! names a column, and the value schema's *name* is cached per payload
//! schema (or per schema version), so it carries the routed value of the
//! first event that used that schema. Where Debezium's JSON expansion would
//! fail the task (a value that does not fit the inferred schema), the
//! payload is kept as a string instead, with a warning.

use std::collections::HashMap;
use std::sync::Arc;

use tracing::{debug, error, warn};

use super::chain::{Flow, Row};
use super::config::{InvalidOp, OutboxConfig, Placement, Replacement};
use super::json::{self, Json};
use crate::decode::cell::Cell;
use crate::envelope::parts::Part;
use crate::envelope::transaction::Block;
use crate::envelope::{json as out_json, Delivery, Field, Op, Record, TableCodec};
use crate::schema::TableSchema;

/// Debezium's `payloadSchemaCache` size.
const NAME_CACHE: usize = 10_000;

/// The Connect type and logical name of a column's schema.
#[derive(Debug, Clone)]
struct ColumnType {
    ty: String,
    name: Option<String>,
}

fn column_type(codec: &TableCodec, i: usize) -> ColumnType {
    let open = codec.column_schema_open(i);
    let mut text = open.to_vec();
    text.push(b'}');
    let parsed = std::str::from_utf8(&text)
        .ok()
        .and_then(|t| json::parse(t).ok());
    ColumnType {
        ty: parsed
            .as_ref()
            .and_then(|j| j.get("type"))
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string(),
        name: parsed
            .as_ref()
            .and_then(|j| j.get("name"))
            .and_then(Json::as_str)
            .map(str::to_string),
    }
}

/// The outbox table's columns, resolved once per table version.
struct Plan {
    schema: Arc<TableSchema>,
    id: usize,
    key: usize,
    payload: usize,
    payload_is_string: bool,
    route: usize,
    /// Column and the divisor that turns its value into milliseconds.
    timestamp: Option<(usize, i64)>,
    version: Option<usize>,
    additional: Vec<(Placement, usize, String)>,
}

pub struct Router {
    cfg: OutboxConfig,
    plans: HashMap<Arc<str>, Result<Plan, String>>,
    envelope_placements: bool,
    names: HashMap<Vec<u8>, String>,
    versioned_names: HashMap<Option<i32>, String>,
    topics: HashMap<String, Arc<str>>,
}

impl Router {
    pub fn new(cfg: OutboxConfig) -> Self {
        let envelope_placements = cfg
            .additional
            .iter()
            .any(|a| a.placement == Placement::Envelope);
        Router {
            cfg,
            plans: HashMap::new(),
            envelope_placements,
            names: HashMap::new(),
            versioned_names: HashMap::new(),
            topics: HashMap::new(),
        }
    }

    pub fn apply<'a>(
        &mut self,
        row: &Row<'_, 'a>,
        flow: Flow<'a>,
        _tx: Option<&Block<'_>>,
    ) -> Result<Option<Flow<'a>>, String> {
        let part = match flow {
            // Not a change event (another transform made it): tombstones
            // are dropped, anything else passes.
            Flow::Done(r) => return Ok(r.value.is_some().then_some(Flow::Done(r))),
            Flow::Change(p) => p,
        };
        if part.tombstone {
            return Ok(None);
        }
        match part.op {
            Op::Delete => {
                debug!(table = %row.codec.schema.qualified_name(), "delete of an outbox row ignored");
                Ok(None)
            }
            Op::Update | Op::Truncate => {
                let table = row.codec.schema.qualified_name();
                let op = if part.op == Op::Update {
                    "update"
                } else {
                    "truncate"
                };
                match self.cfg.invalid_op {
                    InvalidOp::Warn => warn!(table = %table, op, "unexpected change of the outbox table ignored (table.op.invalid.behavior=warn)"),
                    InvalidOp::Error => error!(table = %table, op, "unexpected change of the outbox table ignored (table.op.invalid.behavior=error)"),
                    InvalidOp::Fatal => {
                        return Err(format!(
                            "unexpected {op} of an outbox row (only inserts are events); table.op.invalid.behavior=fatal stops the connector, warn or error skip it"
                        ))
                    }
                }
                Ok(None)
            }
            Op::Create | Op::Read => self.route(row, &part).map(|r| Some(Flow::Done(r))),
        }
    }

    fn plan(&mut self, codec: &TableCodec) -> Result<&Plan, String> {
        let stale = match self.plans.get(&codec.topic) {
            Some(Ok(p)) => !Arc::ptr_eq(&p.schema, &codec.schema),
            Some(Err(_)) => false,
            None => true,
        };
        if stale {
            let plan = build_plan(&self.cfg, codec);
            self.plans.insert(codec.topic.clone(), plan);
        }
        match self.plans.get(&codec.topic) {
            Some(Ok(p)) => Ok(p),
            Some(Err(e)) => Err(e.clone()),
            None => Err("no plan".into()),
        }
    }

    fn route(&mut self, row: &Row<'_, '_>, part: &Part<'_>) -> Result<Record, String> {
        let codec = row.codec;
        let cells = part.after.ok_or("the outbox row has no row image")?;
        let plan = self.plan(codec)?;
        let cell = |i: usize| cells.get(i).unwrap_or(&Cell::Absent);
        let payload_of = |i: usize| {
            let mut v = Vec::with_capacity(64);
            codec.field(i).write(&mut v, cell(i));
            v
        };
        let (id, key_col, payload_col, route_col) = (plan.id, plan.key, plan.payload, plan.route);
        let (timestamp_col, version_col) = (plan.timestamp, plan.version);
        let additional: Vec<(Placement, usize, String)> = plan.additional.clone();
        let payload_is_string = plan.payload_is_string;
        let needed = [id, key_col, payload_col, route_col]
            .into_iter()
            .chain(timestamp_col.map(|t| t.0))
            .chain(version_col);
        for i in needed.chain(additional.iter().map(|a| a.1)) {
            if matches!(cell(i), Cell::Absent) {
                return Err(format!(
                    "column `{}` of the outbox row is not in the binlog row image: the outbox router needs binlog_row_image=FULL \
                     (MINIMAL/NOBLOB images of the outbox table are not supported); SET GLOBAL binlog_row_image=FULL",
                    codec.schema.columns[i].name
                ));
            }
        }

        // Topic.
        let routed = match json::parse(std::str::from_utf8(&payload_of(route_col)).unwrap_or("")) {
            Ok(Json::Str(s)) => s,
            _ => {
                return Err(format!(
                    "the `{}` column (route.by.field) is null",
                    self.cfg.route_by
                ))
            }
        };
        let topic = self.topic(&routed);

        // Key: the aggregate id with its column schema.
        let key_json = payload_of(key_col);
        let key = if row.encoder.key_schemas() {
            let mut k = Vec::with_capacity(key_json.len() + 64);
            k.extend_from_slice(b"{\"schema\":");
            k.extend_from_slice(codec.column_schema_open(key_col));
            k.extend_from_slice(b"},\"payload\":");
            k.extend_from_slice(&key_json);
            k.push(b'}');
            k
        } else {
            key_json
        };

        let mut trailing = vec![("id".to_string(), header_value(codec.field(id), cell(id)))];

        // Payload, expanded from a JSON string if asked.
        let mut payload_json = payload_of(payload_col);
        let mut payload_schema = codec.column_schema_open(payload_col).to_vec();
        let text = if payload_is_string {
            match json::parse(std::str::from_utf8(&payload_json).unwrap_or("null")) {
                Ok(Json::Str(s)) => Some(s),
                _ => None,
            }
        } else {
            None
        };
        let mut expanded = false;
        if self.cfg.expand_json_payload {
            match &text {
                Some(t) => match expand(&self.cfg, t) {
                    Ok((schema, data)) => {
                        payload_schema = schema;
                        payload_json = data;
                        expanded = true;
                    }
                    Err(e) => {
                        warn!(table = %codec.schema.qualified_name(), error = %e, "JSON expansion of the outbox payload failed; the payload stays a string")
                    }
                },
                None if payload_json != b"null" => {
                    warn!(table = %codec.schema.qualified_name(), "table.expand.json.payload is on but the payload column is not a string")
                }
                None => {}
            }
        }
        let blank = payload_json == b"null"
            || (!expanded && text.as_deref().is_some_and(|t| java_trim(t).is_empty()));

        // Record timestamp: the column (as ms), else the event's ts_ms.
        let envelope_ts = row.ev.now_ns.div_euclid(1_000_000);
        let timestamp = match timestamp_col {
            None => envelope_ts,
            Some((i, divisor)) => match number(&payload_of(i)) {
                Some(v) => v / divisor,
                None => envelope_ts,
            },
        };

        let mut partition = None;
        let mut envelope_fields: Vec<(String, Vec<u8>, Vec<u8>)> = Vec::new();
        for (placement, i, alias) in additional {
            match placement {
                Placement::Header => trailing.push((alias, header_value(codec.field(i), cell(i)))),
                Placement::Envelope => envelope_fields.push((
                    alias,
                    codec.column_schema_open(i).to_vec(),
                    payload_of(i),
                )),
                Placement::Partition => partition = number(&payload_of(i)).map(|p| p as i32),
            }
        }

        // The struct's schema is made (and its name cached) before the
        // tombstone decision, as in Debezium: a tombstone's routed value can
        // name the schema of later events.
        let struct_schema = if self.envelope_placements {
            let version = version_col.map(|i| number(&payload_of(i)).map(|v| v as i32));
            Some((
                self.schema_name(codec, &payload_schema, version, &routed),
                version,
            ))
        } else {
            None
        };
        let value = if self.cfg.tombstone_on_empty_payload && blank {
            None
        } else if !self.envelope_placements {
            let mut v = Vec::with_capacity(payload_json.len() + payload_schema.len() + 32);
            if row.encoder.value_schemas() {
                v.extend_from_slice(b"{\"schema\":");
                v.extend_from_slice(&payload_schema);
                v.extend_from_slice(b"},\"payload\":");
                v.extend_from_slice(&payload_json);
                v.push(b'}');
            } else {
                v.extend_from_slice(&payload_json);
            }
            Some(v)
        } else {
            let (name, version) = struct_schema.unwrap_or_default();
            let mut v = Vec::with_capacity(payload_json.len() + payload_schema.len() + 128);
            if row.encoder.value_schemas() {
                v.extend_from_slice(b"{\"schema\":{\"type\":\"struct\",\"fields\":[");
                v.extend_from_slice(&payload_schema);
                v.extend_from_slice(b",\"field\":\"payload\"}");
                for (alias, schema, _) in &envelope_fields {
                    v.push(b',');
                    v.extend_from_slice(schema);
                    v.extend_from_slice(b",\"field\":");
                    out_json::string(&mut v, alias);
                    v.push(b'}');
                }
                v.extend_from_slice(b"],\"optional\":false,\"name\":");
                out_json::string(&mut v, &name);
                if let Some(Some(ver)) = version {
                    v.extend_from_slice(b",\"version\":");
                    out_json::int(&mut v, i64::from(ver));
                }
                v.extend_from_slice(b"},\"payload\":");
            }
            v.extend_from_slice(b"{\"payload\":");
            v.extend_from_slice(&payload_json);
            for (alias, _, data) in &envelope_fields {
                v.push(b',');
                out_json::string(&mut v, alias);
                v.push(b':');
                v.extend_from_slice(data);
            }
            v.push(b'}');
            if row.encoder.value_schemas() {
                v.push(b'}');
            }
            Some(v)
        };
        Ok(Record {
            topic,
            key: Some(key),
            value,
            headers: Vec::new(),
            delivery: Some(Box::new(Delivery {
                partition,
                timestamp_ms: Some(timestamp),
                context_headers: row.context_headers,
                trailing_headers: trailing,
            })),
        })
    }

    /// `RegexRouter`: the routed value, rewritten when the regex matches it whole.
    fn topic(&mut self, routed: &str) -> Arc<str> {
        let name = if self.cfg.route_regex_full.is_match(routed) {
            match self.cfg.route_regex.captures(routed) {
                Some(caps) => {
                    let whole = caps.get(0).map_or(0..0, |m| m.range());
                    let mut t = String::with_capacity(routed.len() + 32);
                    t.push_str(&routed[..whole.start]);
                    for piece in &self.cfg.route_replacement {
                        match piece {
                            Replacement::Literal(s) => t.push_str(s),
                            Replacement::Group(n) => {
                                t.push_str(caps.get(*n).map_or("", |m| m.as_str()))
                            }
                            Replacement::Named(n) => {
                                t.push_str(caps.name(n).map_or("", |m| m.as_str()))
                            }
                        }
                    }
                    t.push_str(&routed[whole.end..]);
                    t
                }
                None => routed.to_string(),
            }
        } else {
            routed.to_string()
        };
        self.topics
            .entry(name)
            .or_insert_with_key(|n| Arc::from(n.as_str()))
            .clone()
    }

    /// The value struct's name, cached as Debezium caches the schema.
    fn schema_name(
        &mut self,
        codec: &TableCodec,
        payload_schema: &[u8],
        version: Option<Option<i32>>,
        routed: &str,
    ) -> String {
        let fresh = || {
            let original = format!("{}.Value", codec.topic);
            match original.rfind('.') {
                Some(dot) => format!("{}{routed}.{}", &original[..=dot], &original[dot + 1..]),
                None => format!("{routed}.{original}"),
            }
        };
        match version {
            Some(v) => self.versioned_names.entry(v).or_insert_with(fresh).clone(),
            None => {
                if let Some(n) = self.names.get(payload_schema) {
                    return n.clone();
                }
                if self.names.len() >= NAME_CACHE {
                    self.names.clear();
                }
                let n = fresh();
                self.names.insert(payload_schema.to_vec(), n.clone());
                n
            }
        }
    }
}

fn build_plan(cfg: &OutboxConfig, codec: &TableCodec) -> Result<Plan, String> {
    let table = codec.schema.qualified_name();
    let column = |name: &str, property: &str| -> Result<usize, String> {
        codec.column_index(name).filter(|i| codec.in_value(*i)).ok_or_else(|| {
            format!(
                "`{table}` has no column `{name}` ({property}); apply the outbox router to the outbox table only (a predicate on its topic)"
            )
        })
    };
    let payload = column(&cfg.payload, "table.field.event.payload")?;
    let id = column(&cfg.event_id, "table.field.event.id")?;
    let key = column(&cfg.event_key, "table.field.event.key")?;
    let route = column(&cfg.route_by, "route.by.field")?;
    if column_type(codec, route).ty != "string" {
        return Err(format!(
            "the `{}` column (route.by.field) must be a string column",
            cfg.route_by
        ));
    }
    let timestamp = match &cfg.event_timestamp {
        None => None,
        Some(name) => {
            let i = column(name, "table.field.event.timestamp")?;
            let t = column_type(codec, i);
            let divisor = match (t.ty.as_str(), t.name.as_deref()) {
                ("int64", Some("io.debezium.time.Timestamp")) => 1,
                ("int64", Some("io.debezium.time.MicroTimestamp")) => 1_000,
                ("int64", Some("io.debezium.time.NanoTimestamp")) => 1_000_000,
                _ => {
                    return Err(format!(
                        "the `{name}` column (table.field.event.timestamp) must be a DATETIME column (io.debezium.time.Timestamp/MicroTimestamp/NanoTimestamp), not {} {}",
                        t.ty,
                        t.name.unwrap_or_default()
                    ))
                }
            };
            Some((i, divisor))
        }
    };
    let version = match &cfg.schema_version {
        None => None,
        Some(name) => {
            let i = column(name, "table.field.event.schema.version")?;
            if column_type(codec, i).ty != "int32" {
                return Err(format!(
                    "the `{name}` column (table.field.event.schema.version) must be an INT column"
                ));
            }
            Some(i)
        }
    };
    let mut additional = Vec::new();
    for a in &cfg.additional {
        match codec.column_index(&a.column).filter(|i| codec.in_value(*i)) {
            Some(i) => {
                if a.placement == Placement::Partition && column_type(codec, i).ty != "int32" {
                    return Err(format!(
                        "the `{}` column (a partition placement) must be an INT column",
                        a.column
                    ));
                }
                additional.push((a.placement, i, a.alias.clone()));
            }
            None if cfg.additional_missing_error => {
                return Err(format!(
                    "`{table}` has no column `{}` (table.fields.additional.placement)",
                    a.column
                ))
            }
            None => {}
        }
    }
    Ok(Plan {
        schema: codec.schema.clone(),
        id,
        key,
        payload,
        payload_is_string: column_type(codec, payload).ty == "string",
        route,
        timestamp,
        version,
        additional,
    })
}

/// `table.expand.json.payload`: the inferred schema (open, for a `"field"`
/// or a closing brace) and the data, or why not.
fn expand(cfg: &OutboxConfig, text: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    match text.chars().next() {
        Some('{' | '[') => {}
        Some(c) => return Err(format!("unable to parse payload starting with '{c}'")),
        None => return Err("empty payload".into()),
    }
    let node = json::parse(text)?;
    let schema = cfg
        .inference
        .schema(Some(&cfg.payload), &node)?
        .ok_or("the payload has no schema (an empty array)")?;
    let mut data = Vec::with_capacity(text.len());
    cfg.inference.write_data(&mut data, &node, &schema)?;
    let mut s = Vec::with_capacity(128);
    schema.write(&mut s, true);
    Ok((s, data))
}

/// A header value as Kafka Connect's `SimpleHeaderConverter` writes it:
/// `Values.convertToString` (strings as they are, numbers in decimal, bytes
/// in base64); `None` for null.
pub fn header_value(field: &Field, cell: &Cell<'_>) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(40);
    field.write_header(&mut buf, cell);
    if buf == b"null" {
        return None;
    }
    if buf.len() >= 2 && buf[0] == b'"' && buf[buf.len() - 1] == b'"' {
        // `Values` escapes only `\` and `"` inside an embedded string.
        let inner = &buf[1..buf.len() - 1];
        let mut out = Vec::with_capacity(inner.len());
        let mut i = 0;
        while i < inner.len() {
            if inner[i] == b'\\' && i + 1 < inner.len() {
                i += 1;
            }
            out.push(inner[i]);
            i += 1;
        }
        return Some(out);
    }
    Some(buf)
}

/// An integer payload (`null` → `None`).
fn number(payload: &[u8]) -> Option<i64> {
    std::str::from_utf8(payload).ok()?.parse().ok()
}

/// Java `String.trim()`: strips characters up to U+0020.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}
