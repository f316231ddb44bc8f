//! The stored position: what binlog-cdc resumes from, in Kafka Connect's offset format.
//!
//! Invariant: the bytes written for a [`Position`] are exactly the bytes Debezium's
//! MySQL/MariaDB connector would write through Kafka Connect, so the offsets topic
//! stays interchangeable with Kafka Connect's `connect-offsets` in both directions
//! (a Debezium deployment can hand over without a new snapshot, and back):
//!
//! * key: `["<name>",{"server":"<topic.prefix>"}]`, compact JSON. The key bytes
//!   decide the partition (murmur2) and what compaction keeps, so they must match
//!   Jackson's output byte for byte, escapes included (see [`encode_key`]).
//! * value: a compact JSON object with keys in Debezium's order `ts_sec`, `file`,
//!   `pos`, `gtids`, `event`, `row`, `server_id`, `snapshot`; `event`, `row` and
//!   `server_id` only when non-zero, `ts_sec`, `gtids` and `snapshot` only when known.
//!
//! Reading is deliberately more lenient than writing, because the topic may hold
//! values written by Debezium versions, by hand, or by other tools: any key order,
//! numbers given as JSON numbers or decimal strings, legacy `snapshot: true` /
//! `"true"` (read as `INITIAL`), missing optional keys, and unknown keys (kept in
//! [`Position::extra`] for inspection, never written back: binlog-cdc does not
//! maintain them, and writing back a stale `transaction_id` or incremental-snapshot
//! state would be wrong) — except keys starting with [`OWN_KEY_PREFIX`]:
//! binlog-cdc's own state (`binlog_cdc_snapshot`, the resume point of an
//! interrupted snapshot, see `snapshot/state.rs`), written after Debezium's keys.
//! A null value is a tombstone: no position, start fresh.
//!
//! Meaning of the fields (spec §6): inside a transaction `pos` is the position of
//! its `BEGIN` (MariaDB: its GTID event), `gtids` the set committed *before* it,
//! and `event`/`row` count what was already emitted after `pos`, so a restart
//! re-reads the transaction and skips exactly what was delivered.

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;

use serde_json::Value;

use super::gtid_mariadb::{MariaGtid, MariaGtidParseError, MariaGtidPos};
use super::gtid_mysql::{GtidParseError, GtidSet};

/// Offset keys starting with this are binlog-cdc's own (string values),
/// kept in [`Position::extra`] and written back by [`Position::encode_value`];
/// Debezium ignores keys it does not know.
pub const OWN_KEY_PREFIX: &str = "binlog_cdc_";

/// Which server family a GTID string belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    Mysql,
    Mariadb,
}

/// The GTID part of a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GtidState {
    /// MySQL: every transaction executed, as a UUID-keyed interval set.
    Mysql(GtidSet),
    /// MariaDB: the latest GTID of each replication domain.
    Mariadb(MariaGtidPos),
}

impl GtidState {
    pub fn flavor(&self) -> Flavor {
        match self {
            GtidState::Mysql(_) => Flavor::Mysql,
            GtidState::Mariadb(_) => Flavor::Mariadb,
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            GtidState::Mysql(s) => s.is_empty(),
            GtidState::Mariadb(p) => p.is_empty(),
        }
    }

    /// Tells a non-empty `gtids` string's flavour from its shape: a MySQL set always
    /// has `uuid:` (a colon), a MariaDB position is `\d+-\d+-\d+[,...]`.
    /// `None` for an empty string or a string of neither shape.
    pub fn detect_flavor(text: &str) -> Option<Flavor> {
        let text = text.trim();
        if text.is_empty() {
            None
        } else if text.contains(':') {
            Some(Flavor::Mysql)
        } else if text.split(',').all(MariaGtid::looks_like) {
            Some(Flavor::Mariadb)
        } else {
            None
        }
    }

    /// Parses a `gtids` string of the given flavour, or of the detected one when
    /// `flavor` is `None`. An empty string is an empty state of the given flavour,
    /// or `None` when the flavour is not given (it cannot be told).
    pub fn parse(text: &str, flavor: Option<Flavor>) -> Result<Option<GtidState>, OffsetError> {
        let flavor = match flavor {
            Some(f) => f,
            None if text.trim().is_empty() => return Ok(None),
            None => Self::detect_flavor(text)
                .ok_or_else(|| OffsetError::UnknownGtidFlavor(text.to_string()))?,
        };
        Ok(Some(match flavor {
            Flavor::Mysql => GtidState::Mysql(GtidSet::parse(text).map_err(|source| {
                OffsetError::MysqlGtids {
                    value: text.to_string(),
                    source,
                }
            })?),
            Flavor::Mariadb => GtidState::Mariadb(MariaGtidPos::parse(text).map_err(|source| {
                OffsetError::MariadbGtids {
                    value: text.to_string(),
                    source,
                }
            })?),
        }))
    }
}

impl fmt::Display for GtidState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GtidState::Mysql(s) => s.fmt(f),
            GtidState::Mariadb(p) => p.fmt(f),
        }
    }
}

/// Why a stored offset key or value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OffsetError {
    #[error("offset value is not valid JSON ({0})")]
    InvalidJson(String),
    #[error("offset value is not a JSON object: {0}")]
    NotAnObject(String),
    #[error("offset value has no {0:?} field (Debezium requires it)")]
    MissingField(&'static str),
    #[error("offset field {field:?} has the invalid value {value}: expected {expected}")]
    InvalidField {
        field: String,
        value: String,
        expected: &'static str,
    },
    #[error("offset field \"gtids\" = {0:?} is neither a MySQL GTID set (uuid:1-5) nor a MariaDB GTID position (0-1-42)")]
    UnknownGtidFlavor(String),
    #[error("offset field \"gtids\" = {value:?} is not a valid MySQL GTID set: {source}")]
    MysqlGtids {
        value: String,
        source: GtidParseError,
    },
    #[error("offset field \"gtids\" = {value:?} is not a valid MariaDB GTID position: {source}")]
    MariadbGtids {
        value: String,
        source: MariaGtidParseError,
    },
    #[error("offset key {0} is not [\"<name>\",{{\"server\":\"<topic.prefix>\"}}]")]
    InvalidKey(String),
}

/// A resumable position in the binlog, as stored in the offsets topic.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Position {
    /// Binlog file to restart from.
    pub file: String,
    /// Offset in `file`: the transaction's `BEGIN` (MariaDB: GTID event) when inside
    /// one, else the position after the last processed event.
    pub pos: u64,
    /// GTIDs committed before the open transaction (after it, once committed).
    pub gtids: Option<GtidState>,
    /// Events of the open transaction already handled after `pos` (BEGIN counts).
    pub event: u64,
    /// Rows already emitted from the next rows event.
    pub row: u64,
    /// Epoch seconds of the last event, when known.
    pub ts_sec: Option<i64>,
    /// Server id of the last event; `None` and `Some(0)` are both not written.
    pub server_id: Option<u64>,
    /// Debezium's snapshot marker (`INITIAL`, `BLOCKING`, `INCREMENTAL`), passed through.
    pub snapshot: Option<String>,
    /// Keys read from a stored value that this struct does not model
    /// (`transaction_id`, `incremental_snapshot_*`, `snapshot_completed`, ...).
    /// Kept for inspection; never written by [`Position::encode_value`],
    /// except binlog-cdc's own keys ([`OWN_KEY_PREFIX`]).
    pub extra: BTreeMap<String, Value>,
    /// Transaction metadata counters of the open transaction (spec §8),
    /// written as `transaction_id` and `transaction_data_collection_order_<db.table>`
    /// when set. Set only by a live decoder; a stored value's keys are read
    /// into `extra` ([`Position::stored_transaction`] types them).
    pub transaction: Option<TransactionOffset>,
}

/// Debezium's `TransactionContext` as stored in an offset: the open
/// transaction's id and its event count per table, in the order written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TransactionOffset {
    pub id: String,
    pub per_table: Vec<(String, u64)>,
}

/// Offset key prefix of the per-table event counts (spec §6).
pub const TRANSACTION_COUNT_PREFIX: &str = "transaction_data_collection_order_";

/// `snapshot` of a position stored while the initial snapshot is unfinished
/// (Debezium's older `true` is read as this too).
pub const INITIAL_SNAPSHOT: &str = "INITIAL";

impl Position {
    /// A position at `file`/`pos`, outside any transaction, without GTIDs.
    pub fn new(file: impl Into<String>, pos: u64) -> Self {
        Position {
            file: file.into(),
            pos,
            ..Position::default()
        }
    }

    /// Stored while the initial snapshot is unfinished (its batches carry it).
    pub fn in_initial_snapshot(&self) -> bool {
        self.snapshot.as_deref() == Some(INITIAL_SNAPSHOT)
    }

    /// The offset value as compact JSON, keys in Debezium's order.
    pub fn to_offset_json(&self) -> String {
        let mut out = String::with_capacity(128);
        out.push('{');
        let mut first = true;
        let mut key = |out: &mut String, name: &str| {
            if !first {
                out.push(',');
            }
            first = false;
            write_json_string(out, name);
            out.push(':');
        };
        if let Some(ts) = self.ts_sec {
            key(&mut out, "ts_sec");
            let _ = write!(out, "{ts}");
        }
        key(&mut out, "file");
        write_json_string(&mut out, &self.file);
        key(&mut out, "pos");
        let _ = write!(out, "{}", self.pos);
        if let Some(gtids) = &self.gtids {
            key(&mut out, "gtids");
            write_json_string(&mut out, &gtids.to_string());
        }
        if self.event != 0 {
            key(&mut out, "event");
            let _ = write!(out, "{}", self.event);
        }
        if self.row != 0 {
            key(&mut out, "row");
            let _ = write!(out, "{}", self.row);
        }
        if let Some(id) = self.server_id.filter(|&id| id != 0) {
            key(&mut out, "server_id");
            let _ = write!(out, "{id}");
        }
        if let Some(snapshot) = &self.snapshot {
            key(&mut out, "snapshot");
            write_json_string(&mut out, snapshot);
        }
        if let Some(tx) = &self.transaction {
            key(&mut out, "transaction_id");
            write_json_string(&mut out, &tx.id);
            for (table, n) in &tx.per_table {
                key(&mut out, &format!("{TRANSACTION_COUNT_PREFIX}{table}"));
                let _ = write!(out, "{n}");
            }
        }
        // binlog-cdc's own keys (snapshot resume state, `snapshot/state.rs`):
        // maintained by us, so written back; every other extra key is not.
        for (name, value) in self.extra.range(OWN_KEY_PREFIX.to_string()..) {
            if !name.starts_with(OWN_KEY_PREFIX) {
                break;
            }
            if let Value::String(v) = value {
                key(&mut out, name);
                write_json_string(&mut out, v);
            }
        }
        out.push('}');
        out
    }

    /// The transaction metadata counters of a stored value (read into
    /// `extra`): `None` when it has no `transaction_id`.
    pub fn stored_transaction(&self) -> Option<TransactionOffset> {
        let id = self.extra.get("transaction_id")?.as_str()?.to_string();
        let per_table = self
            .extra
            .iter()
            .filter_map(|(k, v)| {
                let table = k.strip_prefix(TRANSACTION_COUNT_PREFIX)?;
                let n = v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))?;
                Some((table.to_string(), n))
            })
            .collect();
        Some(TransactionOffset { id, per_table })
    }

    /// The offset value bytes to produce to the offsets topic.
    pub fn encode_value(&self) -> Vec<u8> {
        self.to_offset_json().into_bytes()
    }

    /// Reads a stored offset value. `None` (a tombstone), JSON `null` and an empty
    /// value mean "no position" and give `Ok(None)`.
    ///
    /// `flavor` says how to read `gtids`; with `None` it is detected from the string
    /// (see [`GtidState::detect_flavor`]). `server_id: 0` reads as `None`.
    pub fn decode_value(
        value: Option<&[u8]>,
        flavor: Option<Flavor>,
    ) -> Result<Option<Position>, OffsetError> {
        let Some(bytes) = value else { return Ok(None) };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let json: Value =
            serde_json::from_slice(bytes).map_err(|e| OffsetError::InvalidJson(e.to_string()))?;
        let map = match json {
            Value::Null => return Ok(None),
            Value::Object(map) => map,
            other => return Err(OffsetError::NotAnObject(truncate(&other.to_string()))),
        };
        let mut position = Position::default();
        let mut file = None;
        for (name, value) in map {
            match name.as_str() {
                "file" => match value {
                    Value::String(s) => file = Some(s),
                    Value::Null => {}
                    other => return Err(invalid("file", &other, "a string")),
                },
                "pos" => position.pos = unsigned(&name, &value)?.unwrap_or(0),
                "event" => position.event = unsigned(&name, &value)?.unwrap_or(0),
                "row" => position.row = unsigned(&name, &value)?.unwrap_or(0),
                "server_id" => position.server_id = unsigned(&name, &value)?.filter(|&id| id != 0),
                "ts_sec" => position.ts_sec = signed(&name, &value)?,
                "gtids" => match value {
                    Value::String(s) => position.gtids = GtidState::parse(&s, flavor)?,
                    Value::Null => {}
                    other => return Err(invalid("gtids", &other, "a string")),
                },
                "snapshot" => {
                    position.snapshot = match value {
                        Value::Null | Value::Bool(false) => None,
                        Value::Bool(true) => Some(INITIAL_SNAPSHOT.to_string()),
                        Value::String(s) if s.eq_ignore_ascii_case("true") => {
                            Some(INITIAL_SNAPSHOT.to_string())
                        }
                        Value::String(s) if s.eq_ignore_ascii_case("false") || s.is_empty() => None,
                        Value::String(s) => Some(s),
                        other => return Err(invalid("snapshot", &other, "a string or boolean")),
                    }
                }
                _ => {
                    position.extra.insert(name, value);
                }
            }
        }
        position.file = file.ok_or(OffsetError::MissingField("file"))?;
        Ok(Some(position))
    }
}

fn truncate(text: &str) -> String {
    const MAX: usize = 200;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

fn invalid(field: &str, value: &Value, expected: &'static str) -> OffsetError {
    OffsetError::InvalidField {
        field: field.to_string(),
        value: truncate(&value.to_string()),
        expected,
    }
}

/// A non-negative integer given as a JSON integer or a decimal string; `null` is absent.
fn unsigned(field: &str, value: &Value) -> Result<Option<u64>, OffsetError> {
    const EXPECTED: &str = "a non-negative integer";
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| invalid(field, value, EXPECTED)),
        Value::String(s) => {
            let s = s.trim();
            if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
                s.parse::<u64>()
                    .map(Some)
                    .map_err(|_| invalid(field, value, EXPECTED))
            } else {
                Err(invalid(field, value, EXPECTED))
            }
        }
        _ => Err(invalid(field, value, EXPECTED)),
    }
}

/// A 64-bit signed integer given as a JSON integer or a decimal string; `null` is absent.
fn signed(field: &str, value: &Value) -> Result<Option<i64>, OffsetError> {
    const EXPECTED: &str = "an integer";
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| invalid(field, value, EXPECTED)),
        Value::String(s) => {
            let s = s.trim();
            let digits = s.strip_prefix('-').unwrap_or(s);
            if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
                s.parse::<i64>()
                    .map(Some)
                    .map_err(|_| invalid(field, value, EXPECTED))
            } else {
                Err(invalid(field, value, EXPECTED))
            }
        }
        _ => Err(invalid(field, value, EXPECTED)),
    }
}

/// Writes `s` as a JSON string exactly as Jackson (Kafka's `JsonSerializer`) does:
/// `"` and `\` escaped; control characters as `\b \t \n \f \r` or `\u00XX` with
/// uppercase hex; everything else, `/` and non-ASCII included, as raw UTF-8.
fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{0C}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The offset key of connector `name` with `topic.prefix` = `topic_prefix`:
/// `["<name>",{"server":"<topic.prefix>"}]`, byte-identical to Kafka Connect's.
pub fn encode_key(name: &str, topic_prefix: &str) -> Vec<u8> {
    let mut out = String::with_capacity(name.len() + topic_prefix.len() + 16);
    out.push('[');
    write_json_string(&mut out, name);
    out.push_str(",{\"server\":");
    write_json_string(&mut out, topic_prefix);
    out.push_str("}]");
    out.into_bytes()
}

/// A decoded offset key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetKey {
    /// The connector name (`name`).
    pub name: String,
    /// The source partition's `server` (`topic.prefix`).
    pub server: String,
}

/// Parses an offset key written by anyone (any whitespace, any escaping):
/// a two-element array of the connector name and a partition object whose only
/// key is `server`.
pub fn decode_key(key: &[u8]) -> Result<OffsetKey, OffsetError> {
    let bad = || OffsetError::InvalidKey(truncate(&String::from_utf8_lossy(key)));
    let json: Value = serde_json::from_slice(key).map_err(|_| bad())?;
    let Value::Array(items) = json else {
        return Err(bad());
    };
    let [Value::String(name), Value::Object(partition)] = items.as_slice() else {
        return Err(bad());
    };
    if partition.len() != 1 {
        return Err(bad());
    }
    let Some(Value::String(server)) = partition.get("server") else {
        return Err(bad());
    };
    Ok(OffsetKey {
        name: name.clone(),
        server: server.clone(),
    })
}

/// Whether an offsets-topic key belongs to connector `name` with `topic.prefix`
/// `topic_prefix`, comparing parsed JSON, not bytes.
pub fn key_matches(key: &[u8], name: &str, topic_prefix: &str) -> bool {
    decode_key(key).is_ok_and(|k| k.name == name && k.server == topic_prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

    const EX1: &str = r#"{"ts_sec":1717171717,"file":"mysql-bin.000003","pos":1500,"gtids":"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-23","server_id":223344}"#;
    const EX2: &str = r#"{"ts_sec":1717171717,"file":"mysql-bin.000003","pos":1100,"gtids":"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-22","event":2,"row":1,"server_id":223344}"#;
    const EX3: &str = r#"{"ts_sec":1717171000,"file":"mysql-bin.000003","pos":154,"gtids":"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-22","snapshot":"INITIAL"}"#;

    fn mysql(s: &str) -> Option<GtidState> {
        match GtidSet::parse(s) {
            Ok(set) => Some(GtidState::Mysql(set)),
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn maria(s: &str) -> Option<GtidState> {
        match MariaGtidPos::parse(s) {
            Ok(p) => Some(GtidState::Mariadb(p)),
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn decode(s: &str) -> Position {
        match Position::decode_value(Some(s.as_bytes()), None) {
            Ok(Some(p)) => p,
            other => panic!("{s}: {other:?}"),
        }
    }

    fn decode_err(s: &str) -> OffsetError {
        match Position::decode_value(Some(s.as_bytes()), None) {
            Err(e) => e,
            other => panic!("{s} should fail: {other:?}"),
        }
    }

    fn ex1() -> Position {
        Position {
            ts_sec: Some(1717171717),
            gtids: mysql(&format!("{U}:1-23")),
            server_id: Some(223344),
            ..Position::new("mysql-bin.000003", 1500)
        }
    }

    fn ex2() -> Position {
        Position {
            ts_sec: Some(1717171717),
            gtids: mysql(&format!("{U}:1-22")),
            event: 2,
            row: 1,
            server_id: Some(223344),
            ..Position::new("mysql-bin.000003", 1100)
        }
    }

    fn ex3() -> Position {
        Position {
            ts_sec: Some(1717171000),
            gtids: mysql(&format!("{U}:1-22")),
            snapshot: Some("INITIAL".to_string()),
            ..Position::new("mysql-bin.000003", 154)
        }
    }

    // ----- spec §6 examples, byte for byte -----

    #[test]
    fn spec_example_1_bytes() {
        assert_eq!(ex1().to_offset_json(), EX1);
        assert_eq!(ex1().encode_value(), EX1.as_bytes());
    }

    #[test]
    fn spec_example_2_bytes() {
        assert_eq!(ex2().to_offset_json(), EX2);
    }

    #[test]
    fn spec_example_3_bytes() {
        assert_eq!(ex3().to_offset_json(), EX3);
    }

    #[test]
    fn spec_examples_decode_and_reencode() {
        for (text, expected) in [(EX1, ex1()), (EX2, ex2()), (EX3, ex3())] {
            let p = decode(text);
            assert_eq!(p, expected);
            assert_eq!(p.to_offset_json(), text);
            let with_flavor = Position::decode_value(Some(text.as_bytes()), Some(Flavor::Mysql));
            assert_eq!(with_flavor, Ok(Some(expected)));
        }
    }

    #[test]
    fn spec_key_example() {
        assert_eq!(
            encode_key("inventory-connector", "dbserver1"),
            br#"["inventory-connector",{"server":"dbserver1"}]"#
        );
    }

    // ----- value encoding rules -----

    #[test]
    fn minimal_value() {
        assert_eq!(
            Position::new("mysql-bin.000001", 4).to_offset_json(),
            r#"{"file":"mysql-bin.000001","pos":4}"#
        );
    }

    #[test]
    fn zero_fields_are_omitted() {
        let p = Position {
            event: 0,
            row: 0,
            server_id: Some(0),
            ..Position::new("f", 0)
        };
        assert_eq!(p.to_offset_json(), r#"{"file":"f","pos":0}"#);
    }

    #[test]
    fn event_without_row_and_row_without_event() {
        let p = Position {
            event: 3,
            ..Position::new("f", 10)
        };
        assert_eq!(p.to_offset_json(), r#"{"file":"f","pos":10,"event":3}"#);
        let p = Position {
            row: 5,
            ..Position::new("f", 10)
        };
        assert_eq!(p.to_offset_json(), r#"{"file":"f","pos":10,"row":5}"#);
    }

    #[test]
    fn full_value_order() {
        let p = Position {
            ts_sec: Some(-1),
            gtids: maria("0-1-42,1-2-7"),
            event: 1,
            row: 2,
            server_id: Some(u64::from(u32::MAX)),
            snapshot: Some("INCREMENTAL".to_string()),
            ..Position::new("mariadb-bin.000002", u64::MAX)
        };
        assert_eq!(
            p.to_offset_json(),
            r#"{"ts_sec":-1,"file":"mariadb-bin.000002","pos":18446744073709551615,"gtids":"0-1-42,1-2-7","event":1,"row":2,"server_id":4294967295,"snapshot":"INCREMENTAL"}"#
        );
        assert_eq!(decode(&p.to_offset_json()), p);
    }

    #[test]
    fn mariadb_value() {
        let p = Position {
            ts_sec: Some(1717171717),
            gtids: maria("1-2-7,0-1-1"),
            server_id: Some(1),
            ..Position::new("mariadb-bin.000001", 330)
        };
        let json = p.to_offset_json();
        assert_eq!(
            json,
            r#"{"ts_sec":1717171717,"file":"mariadb-bin.000001","pos":330,"gtids":"0-1-1,1-2-7","server_id":1}"#
        );
        let back = decode(&json);
        assert_eq!(
            back.gtids.as_ref().map(GtidState::flavor),
            Some(Flavor::Mariadb)
        );
        assert_eq!(back, p);
    }

    #[test]
    fn mysql_multi_uuid_keeps_insertion_order_in_value() {
        let s = format!("5a8e8a44-0bb5-11ef-8b3e-0242ac120002:1-3,{U}:1-5");
        let p = Position {
            gtids: mysql(&s),
            ..Position::new("f", 1)
        };
        assert_eq!(
            p.to_offset_json(),
            format!(
                r#"{{"file":"f","pos":1,"gtids":"5a8e8a44-0bb5-11ef-8b3e-0242ac120002:1-3,{U}:1-5"}}"#
            )
        );
    }

    #[test]
    fn tagged_gtids_in_value() {
        let p = Position {
            gtids: mysql(&format!("{U}:1-5:Tag:3")),
            ..Position::new("f", 1)
        };
        let json = p.to_offset_json();
        assert_eq!(
            json,
            format!(r#"{{"file":"f","pos":1,"gtids":"{U}:1-5:tag:3-3"}}"#)
        );
        assert_eq!(decode(&json), p);
    }

    #[test]
    fn empty_gtids_value() {
        let p = Position {
            gtids: Some(GtidState::Mysql(GtidSet::new())),
            ..Position::new("f", 1)
        };
        let json = p.to_offset_json();
        assert_eq!(json, r#"{"file":"f","pos":1,"gtids":""}"#);
        // Flavour known: the empty state round-trips; unknown: no GTIDs.
        assert_eq!(
            Position::decode_value(Some(json.as_bytes()), Some(Flavor::Mysql)),
            Ok(Some(p))
        );
        assert_eq!(decode(&json).gtids, None);
        let m = Position::decode_value(Some(json.as_bytes()), Some(Flavor::Mariadb));
        assert_eq!(
            m.map(|p| p.and_then(|p| p.gtids)),
            Ok(Some(GtidState::Mariadb(MariaGtidPos::new())))
        );
    }

    #[test]
    fn strings_are_escaped_like_jackson() {
        let p = Position {
            snapshot: Some("a\"b".to_string()),
            ..Position::new("we\"ird\\na/me\u{1}\u{1f}\n\té", 1)
        };
        assert_eq!(
            p.to_offset_json(),
            "{\"file\":\"we\\\"ird\\\\na/me\\u0001\\u001F\\n\\té\",\"pos\":1,\"snapshot\":\"a\\\"b\"}"
        );
        assert_eq!(decode(&p.to_offset_json()), p);
    }

    // ----- value decoding leniency -----

    #[test]
    fn any_key_order_and_whitespace() {
        let text = format!(
            "{{ \"server_id\" : 223344, \"gtids\" : \"{U}:1-23\",\n \"pos\": 1500, \"file\": \"mysql-bin.000003\", \"ts_sec\": 1717171717 }}"
        );
        let p = decode(&text);
        assert_eq!(p, ex1());
        assert_eq!(p.to_offset_json(), EX1);
    }

    #[test]
    fn numbers_as_strings() {
        let p = decode(
            r#"{"file":"f","pos":"1500","event":"2","row":"1","server_id":"7","ts_sec":"-5"}"#,
        );
        assert_eq!(
            (p.pos, p.event, p.row, p.server_id, p.ts_sec),
            (1500, 2, 1, Some(7), Some(-5))
        );
    }

    #[test]
    fn missing_optional_keys() {
        let p = decode(r#"{"file":"mysql-bin.000001"}"#);
        assert_eq!(p, Position::new("mysql-bin.000001", 0));
        assert_eq!(p.ts_sec, None);
        assert_eq!(p.gtids, None);
        assert_eq!(p.server_id, None);
        assert_eq!(p.snapshot, None);
    }

    #[test]
    fn nulls_are_absent() {
        let p = decode(
            r#"{"file":"f","pos":null,"gtids":null,"event":null,"row":null,"ts_sec":null,"server_id":null,"snapshot":null}"#,
        );
        assert_eq!(p, Position::new("f", 0));
    }

    #[test]
    fn server_id_zero_reads_as_none() {
        assert_eq!(
            decode(r#"{"file":"f","pos":1,"server_id":0}"#).server_id,
            None
        );
    }

    #[test]
    fn legacy_snapshot_values() {
        let snap = |v: &str| decode(&format!(r#"{{"file":"f","pos":1,"snapshot":{v}}}"#)).snapshot;
        assert_eq!(snap("true"), Some("INITIAL".to_string()));
        assert_eq!(snap(r#""true""#), Some("INITIAL".to_string()));
        assert_eq!(snap(r#""TRUE""#), Some("INITIAL".to_string()));
        assert_eq!(snap("false"), None);
        assert_eq!(snap(r#""false""#), None);
        assert_eq!(snap("null"), None);
        assert_eq!(snap(r#""INITIAL""#), Some("INITIAL".to_string()));
        assert_eq!(snap(r#""BLOCKING""#), Some("BLOCKING".to_string()));
        assert_eq!(snap(r#""INCREMENTAL""#), Some("INCREMENTAL".to_string()));
        // Legacy true is re-written in the current form.
        let p = decode(r#"{"file":"f","pos":1,"snapshot":true}"#);
        assert_eq!(
            p.to_offset_json(),
            r#"{"file":"f","pos":1,"snapshot":"INITIAL"}"#
        );
    }

    #[test]
    fn unknown_keys_are_kept_but_not_written() {
        let p = decode(
            r#"{"file":"f","pos":1,"transaction_id":"abc","snapshot_completed":true,"incremental_snapshot_collections":"[]","x":{"y":[1]}}"#,
        );
        assert_eq!(
            p.extra.get("transaction_id"),
            Some(&Value::String("abc".to_string()))
        );
        assert_eq!(p.extra.get("snapshot_completed"), Some(&Value::Bool(true)));
        assert_eq!(p.extra.len(), 4);
        assert_eq!(p.to_offset_json(), r#"{"file":"f","pos":1}"#);
    }

    #[test]
    fn gtid_flavor_detection() {
        assert_eq!(
            GtidState::detect_flavor(&format!("{U}:1-5")),
            Some(Flavor::Mysql)
        );
        assert_eq!(GtidState::detect_flavor("0-1-42"), Some(Flavor::Mariadb));
        assert_eq!(
            GtidState::detect_flavor("0-1-42,1-2-7"),
            Some(Flavor::Mariadb)
        );
        assert_eq!(
            GtidState::detect_flavor(" 0-1-42 ,\n1-2-7 "),
            Some(Flavor::Mariadb)
        );
        assert_eq!(GtidState::detect_flavor(""), None);
        assert_eq!(GtidState::detect_flavor("0-1"), None);
        assert_eq!(GtidState::detect_flavor("garbage"), None);
        assert_eq!(GtidState::detect_flavor("0-1-42,x"), None);
        let p = decode(r#"{"file":"f","pos":1,"gtids":"0-1-42,1-2-7"}"#);
        assert_eq!(p.gtids, maria("0-1-42,1-2-7"));
        let p = decode(&format!(
            r#"{{"file":"f","pos":1,"gtids":"{}:1-5"}}"#,
            U.to_uppercase()
        ));
        assert_eq!(p.gtids, mysql(&format!("{U}:1-5")));
    }

    #[test]
    fn gtid_flavor_parameter_is_enforced() {
        let maria_text = r#"{"file":"f","pos":1,"gtids":"0-1-42"}"#;
        let r = Position::decode_value(Some(maria_text.as_bytes()), Some(Flavor::Mysql));
        assert!(matches!(r, Err(OffsetError::MysqlGtids { .. })), "{r:?}");
        let mysql_text = format!(r#"{{"file":"f","pos":1,"gtids":"{U}:1-5"}}"#);
        let r = Position::decode_value(Some(mysql_text.as_bytes()), Some(Flavor::Mariadb));
        assert!(matches!(r, Err(OffsetError::MariadbGtids { .. })), "{r:?}");
        let r = Position::decode_value(Some(maria_text.as_bytes()), Some(Flavor::Mariadb));
        assert_eq!(r.map(|p| p.and_then(|p| p.gtids)), Ok(maria("0-1-42")));
    }

    #[test]
    fn show_master_status_newlines_in_stored_gtids() {
        let text = format!(
            r#"{{"file":"f","pos":1,"gtids":"{U}:1-5,\n5a8e8a44-0bb5-11ef-8b3e-0242ac120002:1-3"}}"#
        );
        let p = decode(&text);
        assert_eq!(
            p.to_offset_json(),
            format!(
                r#"{{"file":"f","pos":1,"gtids":"{U}:1-5,5a8e8a44-0bb5-11ef-8b3e-0242ac120002:1-3"}}"#
            )
        );
    }

    // ----- tombstones and garbage -----

    #[test]
    fn tombstones() {
        assert_eq!(Position::decode_value(None, None), Ok(None));
        assert_eq!(Position::decode_value(Some(b"null"), None), Ok(None));
        assert_eq!(Position::decode_value(Some(b" null \n"), None), Ok(None));
        assert_eq!(Position::decode_value(Some(b""), None), Ok(None));
        assert_eq!(
            Position::decode_value(Some(b"  "), Some(Flavor::Mysql)),
            Ok(None)
        );
    }

    #[test]
    fn missing_file_is_error() {
        assert_eq!(
            decode_err(r#"{"pos":4}"#),
            OffsetError::MissingField("file")
        );
        assert_eq!(
            decode_err(r#"{"file":null,"pos":4}"#),
            OffsetError::MissingField("file")
        );
        assert_eq!(decode_err("{}"), OffsetError::MissingField("file"));
    }

    #[test]
    fn wrong_types_are_errors() {
        for text in [
            r#"{"file":5,"pos":4}"#,
            r#"{"file":"f","pos":-1}"#,
            r#"{"file":"f","pos":1.5}"#,
            r#"{"file":"f","pos":1e3}"#,
            r#"{"file":"f","pos":"12a"}"#,
            r#"{"file":"f","pos":""}"#,
            r#"{"file":"f","pos":"-1"}"#,
            r#"{"file":"f","pos":true}"#,
            r#"{"file":"f","pos":[1]}"#,
            r#"{"file":"f","pos":18446744073709551616}"#,
            r#"{"file":"f","event":-2}"#,
            r#"{"file":"f","row":"x"}"#,
            r#"{"file":"f","server_id":{}}"#,
            r#"{"file":"f","ts_sec":9223372036854775808}"#,
            r#"{"file":"f","ts_sec":"1.5"}"#,
            r#"{"file":"f","ts_sec":"-"}"#,
            r#"{"file":"f","gtids":5}"#,
            r#"{"file":"f","gtids":"garbage"}"#,
            r#"{"file":"f","gtids":"3e11fa47-71ca-11e1-9e33-c80aa9429562:0"}"#,
            r#"{"file":"f","gtids":"0-1-42,0-2-43"}"#,
            r#"{"file":"f","snapshot":1}"#,
            r#"{"file":"f","snapshot":["INITIAL"]}"#,
        ] {
            let e = decode_err(text);
            assert!(!e.to_string().is_empty(), "{text}");
        }
    }

    #[test]
    fn errors_name_field_and_value() {
        let e = decode_err(r#"{"file":"f","pos":-1}"#).to_string();
        assert!(e.contains("pos") && e.contains("-1"), "{e}");
        let e = decode_err(r#"{"file":"f","gtids":"garbage"}"#).to_string();
        assert!(e.contains("garbage"), "{e}");
    }

    #[test]
    fn not_an_object_or_not_json() {
        assert!(matches!(decode_err("[]"), OffsetError::NotAnObject(_)));
        assert!(matches!(decode_err("\"x\""), OffsetError::NotAnObject(_)));
        assert!(matches!(decode_err("42"), OffsetError::NotAnObject(_)));
        assert!(matches!(decode_err("{"), OffsetError::InvalidJson(_)));
        assert!(matches!(
            decode_err("{\"file\":\"f\"} x"),
            OffsetError::InvalidJson(_)
        ));
        let r = Position::decode_value(Some(&[0xff, 0xfe, 0x00]), None);
        assert!(matches!(r, Err(OffsetError::InvalidJson(_))));
    }

    #[test]
    fn long_garbage_is_truncated_in_errors() {
        let long = format!("[{}]", "1,".repeat(500) + "1");
        let e = decode_err(&long).to_string();
        assert!(e.len() < 400, "{}", e.len());
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let pieces: [&[u8]; 16] = [
            b"{",
            b"}",
            b"\"file\"",
            b":",
            b",",
            b"\"pos\"",
            b"1",
            b"-",
            b"\"gtids\"",
            b"\"0-1-2\"",
            b"null",
            b"true",
            b"[",
            b"]",
            b"\"",
            &[0xc3],
        ];
        let mut state: u64 = 0x0bad_5eed_1234_5678;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut b = Vec::new();
            let mut x = state;
            for _ in 0..(state % 20) {
                b.extend_from_slice(pieces[(x % 16) as usize]);
                x /= 16;
                if x == 0 {
                    x = state.rotate_left(17);
                }
            }
            let _ = Position::decode_value(Some(&b), None);
            let _ = Position::decode_value(Some(&b), Some(Flavor::Mariadb));
            let _ = decode_key(&b);
        }
    }

    // ----- keys -----

    #[test]
    fn key_escaping_like_jackson() {
        assert_eq!(encode_key("a\"b", "p\\q"), br#"["a\"b",{"server":"p\\q"}]"#);
        assert_eq!(
            encode_key("new\nline\t\u{0}", "x"),
            b"[\"new\\nline\\t\\u0000\",{\"server\":\"x\"}]"
        );
        assert_eq!(
            encode_key("caf\u{e9}/\u{7f}", "\u{1b}"),
            "[\"caf\u{e9}/\u{7f}\",{\"server\":\"\\u001B\"}]".as_bytes()
        );
        assert_eq!(encode_key("", ""), br#"["",{"server":""}]"#);
    }

    #[test]
    fn key_round_trip() {
        for (n, p) in [
            ("inventory-connector", "dbserver1"),
            ("a\"b\\c\n", "é/\u{1}"),
            ("", ""),
        ] {
            let k = encode_key(n, p);
            assert_eq!(
                decode_key(&k),
                Ok(OffsetKey {
                    name: n.to_string(),
                    server: p.to_string()
                })
            );
            assert!(key_matches(&k, n, p));
        }
    }

    #[test]
    fn key_matches_other_writers() {
        assert!(key_matches(br#"["n", {"server": "p"}]"#, "n", "p"));
        assert!(key_matches(
            b"[ \"n\" ,\n {\n \"server\" : \"p\" } ]",
            "n",
            "p"
        ));
        assert!(key_matches(br#"["\u006e",{"server":"\u0070"}]"#, "n", "p"));
        assert!(key_matches(br#"["a\"b",{"server":"p"}]"#, "a\"b", "p"));
    }

    #[test]
    fn key_mismatches() {
        let k = encode_key("n", "p");
        assert!(!key_matches(&k, "n", "q"));
        assert!(!key_matches(&k, "m", "p"));
        assert!(!key_matches(&k, "N", "p"));
        for other in [
            &br#"["n",{"server":"p","x":1}]"#[..],
            br#"["n",{"srv":"p"}]"#,
            br#"["n",{"server":1}]"#,
            br#"["n",{}]"#,
            br#"["n"]"#,
            br#"["n",{"server":"p"},1]"#,
            br#"[{"server":"p"},"n"]"#,
            br#"{"n":{"server":"p"}}"#,
            br#"["n",{"server":"p"}"#,
            b"",
            b"null",
            &[0xff],
        ] {
            assert!(
                !key_matches(other, "n", "p"),
                "{}",
                String::from_utf8_lossy(other)
            );
            assert!(matches!(decode_key(other), Err(OffsetError::InvalidKey(_))));
        }
    }
}

#[cfg(test)]
mod transaction_offset_tests {
    use super::*;

    #[test]
    fn transaction_counters_are_written_and_read_back() {
        let p = Position {
            event: 3,
            transaction: Some(TransactionOffset {
                id: "0-1-42".into(),
                per_table: vec![("inv.orders".into(), 2), ("inv.outbox".into(), 1)],
            }),
            ..Position::new("mariadb-bin.000001", 900)
        };
        let json = p.to_offset_json();
        assert_eq!(
            json,
            r#"{"file":"mariadb-bin.000001","pos":900,"event":3,"transaction_id":"0-1-42","transaction_data_collection_order_inv.orders":2,"transaction_data_collection_order_inv.outbox":1}"#
        );
        let back = Position::decode_value(Some(json.as_bytes()), None).unwrap().unwrap();
        assert_eq!(back.transaction, None, "stored keys stay in `extra`");
        assert_eq!(back.stored_transaction(), p.transaction);
        assert_eq!(Position::new("f", 4).stored_transaction(), None);
    }
}
