//! Schema change records (spec §7.1) on the `<topic.prefix>` topic: one per
//! DDL statement, keyed by database, with the statement and the structure of
//! each table it created, altered or dropped.
//!
//! Debezium describes tables from its own DDL parser; binlog-cdc from
//! `information_schema` right after the change. The two agree on names,
//! positions, optionality, types, charsets, defaults and keys; they can
//! differ where the DDL text carries something information_schema
//! normalises (an INT without a display width gets `length` null from
//! Debezium; we print it null too, but we cannot tell `INT(11)` written out).

use crate::schema::ddl::TableChangeKind;
use crate::schema::{Column, ColumnKind, TableSchema};

use super::json;
use super::source::{self, SourceInfo};
use super::{Encoder, Record};

/// One table a DDL statement changed.
pub struct TableChange<'a> {
    pub kind: TableChangeKind,
    pub db: &'a str,
    pub table: &'a str,
    /// The structure after the change (`None` for DROP, or when unknown).
    pub schema: Option<&'a TableSchema>,
}

pub struct SchemaChangeEvent<'a> {
    pub source: SourceInfo<'a>,
    pub database: &'a str,
    pub ddl: &'a str,
    pub changes: Vec<TableChange<'a>>,
    pub now_ns: i64,
}

const VALUE_SCHEMA_TAIL: &str = r#",{"type":"int64","optional":false,"field":"ts_ms"},{"type":"string","optional":true,"field":"databaseName"},{"type":"string","optional":true,"field":"schemaName"},{"type":"string","optional":true,"field":"ddl"},{"type":"array","items":{"type":"struct","fields":[{"type":"string","optional":false,"field":"type"},{"type":"string","optional":false,"field":"id"},{"type":"struct","fields":[{"type":"string","optional":true,"field":"defaultCharsetName"},{"type":"array","items":{"type":"string","optional":false},"optional":true,"field":"primaryKeyColumnNames"},{"type":"array","items":{"type":"struct","fields":[{"type":"string","optional":false,"field":"name"},{"type":"int32","optional":false,"field":"jdbcType"},{"type":"int32","optional":true,"field":"nativeType"},{"type":"string","optional":false,"field":"typeName"},{"type":"string","optional":true,"field":"typeExpression"},{"type":"string","optional":true,"field":"charsetName"},{"type":"int32","optional":true,"field":"length"},{"type":"int32","optional":true,"field":"scale"},{"type":"int32","optional":false,"field":"position"},{"type":"boolean","optional":true,"field":"optional"},{"type":"boolean","optional":true,"field":"autoIncremented"},{"type":"boolean","optional":true,"field":"generated"},{"type":"string","optional":true,"field":"comment"},{"type":"string","optional":true,"field":"defaultValueExpression"},{"type":"array","items":{"type":"string","optional":false},"optional":true,"field":"enumValues"}],"optional":false,"name":"io.debezium.connector.schema.Column","version":1},"optional":false,"field":"columns"},{"type":"string","optional":true,"field":"comment"}],"optional":true,"name":"io.debezium.connector.schema.Table","version":1,"field":"table"}],"optional":false,"name":"io.debezium.connector.schema.Change","version":1},"optional":false,"field":"tableChanges"}],"optional":false,"name":"io.debezium.connector."#;

fn opt_str(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        Some(s) => json::string(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn opt_int(out: &mut Vec<u8>, v: Option<i64>) {
    match v {
        Some(n) => json::int(out, n),
        None => out.extend_from_slice(b"null"),
    }
}

/// `java.sql.Types` code Debezium's DDL parser assigns.
fn jdbc_type(c: &Column) -> i64 {
    use ColumnKind::*;
    match c.kind {
        TinyInt => -6,
        SmallInt => 5,
        MediumInt | Int | Year => 4,
        BigInt => -5,
        Decimal => 3,
        Float => 6,
        Double => 8,
        Bit => -7,
        Char | Enum | Set => 1,
        VarChar | Text => 12,
        Binary => -2,
        VarBinary => -3,
        Blob => 2004,
        Date => 91,
        Time => 92,
        DateTime => 93,
        Timestamp => 2014,
        Json | Geometry | Point | Uuid | Inet4 | Inet6 | Vector => 1111,
    }
}

fn type_name(c: &Column) -> String {
    let mut t = c.type_name.to_ascii_uppercase();
    if c.unsigned && (c.kind.is_integer() || matches!(c.kind, ColumnKind::Decimal | ColumnKind::Float | ColumnKind::Double)) {
        t.push_str(" UNSIGNED");
    }
    t
}

fn length(c: &Column) -> Option<i64> {
    use ColumnKind::*;
    match c.kind {
        Char | VarChar | Binary | VarBinary | Bit => c.length.map(|l| l as i64),
        // Display widths: unknown from information_schema (None), set by a
        // snapshot from `SHOW CREATE TABLE`'s `int(11)`, as Debezium prints them.
        TinyInt | SmallInt | MediumInt | Int | BigInt | Year => c.length.map(|l| l as i64),
        Decimal => c.precision.map(i64::from),
        Time | DateTime | Timestamp if c.fsp > 0 => Some(i64::from(c.fsp)),
        // Debezium's parser: 1 for ENUM, options + commas for SET.
        Enum => Some(1),
        Set => Some((2 * c.enum_values.len() as i64 - 1).max(0)),
        _ => None,
    }
}

/// The default as Debezium's parser prints it: literal text unquoted,
/// CURRENT_TIMESTAMP as the epoch.
fn default_expression(c: &Column) -> Option<String> {
    let raw = c.default.as_deref()?.trim();
    if raw.eq_ignore_ascii_case("NULL") {
        return None;
    }
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Some(inner.replace("''", "'"));
    }
    if raw.to_ascii_lowercase().starts_with("current_timestamp") {
        return Some("1970-01-01 00:00:00".into());
    }
    Some(raw.to_string())
}

fn write_column(out: &mut Vec<u8>, c: &Column, position: usize) {
    out.extend_from_slice(b"{\"name\":");
    json::string(out, &c.name);
    out.extend_from_slice(b",\"jdbcType\":");
    json::int(out, jdbc_type(c));
    out.extend_from_slice(b",\"nativeType\":null,\"typeName\":");
    let t = type_name(c);
    json::string(out, &t);
    out.extend_from_slice(b",\"typeExpression\":");
    json::string(out, &t);
    out.extend_from_slice(b",\"charsetName\":");
    let textual = c.kind.is_string() || matches!(c.kind, ColumnKind::Enum | ColumnKind::Set);
    opt_str(out, c.charset.as_deref().filter(|_| textual));
    out.extend_from_slice(b",\"length\":");
    opt_int(out, length(c));
    out.extend_from_slice(b",\"scale\":");
    opt_int(out, if c.kind == ColumnKind::Decimal { c.scale.map(i64::from) } else { None });
    out.extend_from_slice(b",\"position\":");
    json::int(out, position as i64);
    out.extend_from_slice(b",\"optional\":");
    json::boolean(out, c.nullable);
    out.extend_from_slice(b",\"autoIncremented\":");
    json::boolean(out, c.auto_increment);
    out.extend_from_slice(b",\"generated\":");
    json::boolean(out, c.auto_increment || c.generated);
    out.extend_from_slice(b",\"comment\":");
    opt_str(out, c.comment.as_deref());
    out.extend_from_slice(b",\"defaultValueExpression\":");
    opt_str(out, default_expression(c).as_deref());
    out.extend_from_slice(b",\"enumValues\":");
    if matches!(c.kind, ColumnKind::Enum | ColumnKind::Set) {
        out.push(b'[');
        for (i, v) in c.enum_values.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json::string(out, &format!("'{}'", v.replace('\'', "''")));
        }
        out.push(b']');
    } else {
        out.extend_from_slice(b"null");
    }
    out.push(b'}');
}

fn write_table(out: &mut Vec<u8>, t: &TableSchema) {
    out.extend_from_slice(b"{\"defaultCharsetName\":");
    opt_str(out, t.charset.as_deref());
    out.extend_from_slice(b",\"primaryKeyColumnNames\":[");
    if t.primary_key {
        for (i, k) in t.key.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json::string(out, t.columns.get(*k).map(|c| c.name.as_str()).unwrap_or(""));
        }
    }
    out.extend_from_slice(b"],\"columns\":[");
    for (i, c) in t.columns.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_column(out, c, i + 1);
    }
    out.extend_from_slice(b"],\"comment\":");
    opt_str(out, t.comment.as_deref());
    out.push(b'}');
}

impl Encoder {
    /// The schema change record of one DDL statement.
    pub fn encode_schema_change(&self, ev: &SchemaChangeEvent<'_>) -> Record {
        let cfg = self.config();
        let connector = cfg.flavor.connector();
        let mut key = Vec::with_capacity(256);
        if cfg.key_schemas {
            key.extend_from_slice(
                b"{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"databaseName\"}],\"optional\":false,\"name\":\"io.debezium.connector.",
            );
            key.extend_from_slice(connector.as_bytes());
            key.extend_from_slice(b".SchemaChangeKey\",\"version\":1},\"payload\":");
        }
        key.extend_from_slice(b"{\"databaseName\":");
        json::string(&mut key, ev.database);
        key.push(b'}');
        if cfg.key_schemas {
            key.push(b'}');
        }

        let mut value = Vec::with_capacity(4096);
        if cfg.value_schemas {
            value.extend_from_slice(b"{\"schema\":{\"type\":\"struct\",\"fields\":[");
            value.extend_from_slice(&source::schema_json(cfg.flavor));
            value.extend_from_slice(VALUE_SCHEMA_TAIL.as_bytes());
            value.extend_from_slice(connector.as_bytes());
            value.extend_from_slice(b".SchemaChangeValue\",\"version\":1},\"payload\":");
        }
        value.extend_from_slice(b"{\"source\":");
        source::write_payload(&mut value, cfg.flavor, &cfg.topic_prefix, &ev.source);
        value.extend_from_slice(b",\"ts_ms\":");
        json::int(&mut value, ev.now_ns.div_euclid(1_000_000));
        value.extend_from_slice(b",\"databaseName\":");
        json::string(&mut value, ev.database);
        value.extend_from_slice(b",\"schemaName\":null,\"ddl\":");
        json::string(&mut value, ev.ddl);
        value.extend_from_slice(b",\"tableChanges\":[");
        for (i, ch) in ev.changes.iter().enumerate() {
            if i > 0 {
                value.push(b',');
            }
            value.extend_from_slice(b"{\"type\":\"");
            value.extend_from_slice(match ch.kind {
                TableChangeKind::Create => b"CREATE".as_slice(),
                TableChangeKind::Alter => b"ALTER",
                TableChangeKind::Drop => b"DROP",
            });
            value.extend_from_slice(b"\",\"id\":");
            json::string(&mut value, &format!("\"{}\".\"{}\"", ch.db, ch.table));
            value.extend_from_slice(b",\"table\":");
            match (ch.kind == TableChangeKind::Drop, ch.schema) {
                (false, Some(t)) => write_table(&mut value, t),
                _ => value.extend_from_slice(b"null"),
            }
            value.push(b'}');
        }
        value.extend_from_slice(b"]}");
        if cfg.value_schemas {
            value.push(b'}');
        }
        Record {
            topic: std::sync::Arc::from(super::sanitize_topic(&cfg.topic_prefix)),
            key: Some(key),
            value: Some(value),
            headers: Vec::new(),
            delivery: None,
        }
    }
}
