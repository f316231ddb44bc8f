//! How far an interrupted snapshot got, stored in the offsets value under
//! binlog-cdc's own key `binlog_cdc_snapshot` (a JSON string, like Debezium's
//! own `incremental_snapshot_collections`), next to Debezium's keys:
//!
//! ```json
//! {"ts_sec":1717171000,"file":"mysql-bin.000003","pos":154,"gtids":"0-1-22",
//!  "snapshot":"INITIAL",
//!  "binlog_cdc_snapshot":"{\"v\":1,\"done\":[[\"shop\",\"a\"]],\"current\":{\"table\":[\"shop\",\"b\"],\"after\":[{\"i\":4096}]}}"}
//! ```
//!
//! - `done`: tables whose every row was delivered (acknowledged by Kafka,
//!   since a position is only stored then);
//! - `current`: the table being read and the key of its last delivered row
//!   (`after`: one tagged value per key column, `i` signed, `u` unsigned,
//!   `f` float, `b` base64 bytes, `d` date-time parts, `t` time parts); a
//!   table without a usable key has no `after` and is read again whole.
//!
//! `file`/`pos`/`gtids` stay those of the *first* consistent point: streaming
//! starts there whatever happened in between (see the module essay in
//! `mod.rs`). Debezium reads such a value as "initial snapshot incomplete"
//! and redoes its snapshot from scratch, which is also correct.

use base64::Engine;
use mysql_async::Value;
use serde_json::{json, Map, Value as Json};

use crate::offsets::position::{Position, OWN_KEY_PREFIX};

/// The offsets key holding [`Progress`].
pub const KEY: &str = "binlog_cdc_snapshot";

const _: () = assert!(KEY.len() > OWN_KEY_PREFIX.len());

/// A table, as `(database, table)`.
pub type TableId = (String, String);

/// What an interrupted snapshot had delivered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub done: Vec<TableId>,
    /// The table in progress and, when it has a key, its last delivered key.
    pub current: Option<(TableId, Option<Vec<Value>>)>,
}

impl Progress {
    /// Reads the state of a stored position; `None` when it has none (a
    /// Debezium offset, or an older binlog-cdc), or when it is unreadable.
    pub fn from_position(p: &Position) -> Option<Progress> {
        let Json::String(text) = p.extra.get(KEY)? else { return None };
        let v: Json = serde_json::from_str(text).ok()?;
        if v.get("v")? != 1 {
            return None;
        }
        let table = |t: &Json| -> Option<TableId> {
            let a = t.as_array()?;
            Some((a.first()?.as_str()?.to_string(), a.get(1)?.as_str()?.to_string()))
        };
        let mut done = Vec::new();
        for t in v.get("done")?.as_array()? {
            done.push(table(t)?);
        }
        let current = match v.get("current") {
            None | Some(Json::Null) => None,
            Some(c) => {
                let t = table(c.get("table")?)?;
                let after = match c.get("after") {
                    None | Some(Json::Null) => None,
                    Some(a) => Some(a.as_array()?.iter().map(decode_value).collect::<Option<Vec<_>>>()?),
                };
                Some((t, after))
            }
        };
        Some(Progress { done, current })
    }

    /// The JSON text stored under [`KEY`].
    pub fn to_json(&self) -> String {
        let table = |t: &TableId| json!([t.0, t.1]);
        let mut m = Map::new();
        m.insert("v".into(), json!(1));
        m.insert("done".into(), Json::Array(self.done.iter().map(table).collect()));
        if let Some((t, after)) = &self.current {
            let mut c = Map::new();
            c.insert("table".into(), table(t));
            if let Some(after) = after {
                c.insert("after".into(), Json::Array(after.iter().map(encode_value).collect()));
            }
            m.insert("current".into(), Json::Object(c));
        }
        Json::Object(m).to_string()
    }

    pub fn is_done(&self, t: &TableId) -> bool {
        self.done.iter().any(|d| d == t)
    }

    /// Where to resume `t`: `Some(None)` = from the start (not started, or
    /// no key), `Some(Some(key))` = after that key, `None` = already done.
    pub fn resume_of(&self, t: &TableId) -> Option<Option<Vec<Value>>> {
        if self.is_done(t) {
            return None;
        }
        match &self.current {
            Some((c, after)) if c == t => Some(after.clone()),
            _ => Some(None),
        }
    }
}

pub(crate) fn encode_value(v: &Value) -> Json {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    match v {
        Value::NULL => Json::Null,
        Value::Int(i) => json!({ "i": i }),
        Value::UInt(u) => json!({ "u": u }),
        Value::Float(f) => json!({ "f": f64::from(*f) }),
        Value::Double(f) => json!({ "f": f }),
        Value::Bytes(b) => json!({ "b": b64(b) }),
        Value::Date(y, m, d, h, mi, s, us) => json!({ "d": [y, m, d, h, mi, s, us] }),
        Value::Time(neg, days, h, m, s, us) => json!({ "t": [neg, days, h, m, s, us] }),
    }
}

pub(crate) fn decode_value(j: &Json) -> Option<Value> {
    if j.is_null() {
        return Some(Value::NULL);
    }
    let (tag, v) = j.as_object()?.iter().next()?;
    let n = |i: usize| v.get(i).and_then(Json::as_u64);
    Some(match tag.as_str() {
        "i" => Value::Int(v.as_i64()?),
        "u" => Value::UInt(v.as_u64()?),
        "f" => Value::Double(v.as_f64()?),
        "b" => Value::Bytes(base64::engine::general_purpose::STANDARD.decode(v.as_str()?).ok()?),
        "d" => Value::Date(n(0)? as u16, n(1)? as u8, n(2)? as u8, n(3)? as u8, n(4)? as u8, n(5)? as u8, n(6)? as u32),
        "t" => Value::Time(v.get(0)?.as_bool()?, n(1)? as u32, n(2)? as u8, n(3)? as u8, n(4)? as u8, n(5)? as u32),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(d: &str, n: &str) -> TableId {
        (d.into(), n.into())
    }

    #[test]
    fn round_trips_through_the_offset_value() {
        let progress = Progress {
            done: vec![t("shop", "a"), t("sh\"op", "b.c")],
            current: Some((
                t("shop", "d"),
                Some(vec![
                    Value::Int(-5),
                    Value::UInt(u64::MAX),
                    Value::Bytes(b"k\x00\xff".to_vec()),
                    Value::Date(2024, 2, 29, 23, 59, 58, 123_456),
                    Value::Time(true, 1, 2, 3, 4, 5),
                    Value::Double(1.5),
                ]),
            )),
        };
        let mut p = Position::new("mysql-bin.000003", 154);
        p.snapshot = Some("INITIAL".into());
        p.extra.insert(KEY.into(), Json::String(progress.to_json()));
        let bytes = p.encode_value();
        let back = Position::decode_value(Some(&bytes), None).unwrap().unwrap();
        assert_eq!(back.snapshot.as_deref(), Some("INITIAL"));
        assert_eq!(Progress::from_position(&back), Some(progress.clone()));
        assert_eq!(progress.resume_of(&t("shop", "a")), None);
        assert_eq!(progress.resume_of(&t("shop", "z")), Some(None));
        assert!(matches!(progress.resume_of(&t("shop", "d")), Some(Some(k)) if k.len() == 6));
    }

    #[test]
    fn keyless_current_table_and_foreign_offsets() {
        let progress = Progress { done: vec![], current: Some((t("s", "nokey"), None)) };
        let mut p = Position::new("f", 4);
        p.extra.insert(KEY.into(), Json::String(progress.to_json()));
        assert_eq!(Progress::from_position(&p), Some(progress));
        // A Debezium offset has no state; garbage is no state either.
        assert_eq!(Progress::from_position(&Position::new("f", 4)), None);
        p.extra.insert(KEY.into(), Json::String("{\"v\":2}".into()));
        assert_eq!(Progress::from_position(&p), None);
    }
}
