//! The incremental snapshot's progress, stored in the offsets value under
//! binlog-cdc's own key `binlog_cdc_incremental` (a JSON string). Debezium
//! keeps its chunk keys as Java-serialized objects, which nothing else can
//! read; ours are the tagged values of the initial snapshot's state:
//!
//! ```json
//! {"v":1,"tables":[{"id":["shop","orders"],"filter":"id > 10"},{"id":["shop","items"]}],
//!  "after":[{"i":4096}],"max":[{"i":100000}],"paused":false}
//! ```
//!
//! `tables[0]` is the table being read; `after` is the key of its last
//! delivered row (none yet: absent), `max` the largest key when its reading
//! started (rows inserted later are streamed, not snapshotted).

use mysql_async::Value;
use serde_json::{json, Map, Value as Json};

use crate::offsets::position::{Position, OWN_KEY_PREFIX};
use crate::snapshot::state::{decode_value, encode_value, TableId};

/// The offsets key holding [`State`].
pub const KEY: &str = "binlog_cdc_incremental";

const _: () = assert!(KEY.len() > OWN_KEY_PREFIX.len());

/// One table to snapshot, with its `additional-conditions` filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    pub id: TableId,
    pub filter: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    /// Tables still to read; the first is being read.
    pub tables: Vec<Collection>,
    pub after: Option<Vec<Value>>,
    pub max: Option<Vec<Value>>,
    pub paused: bool,
}

impl State {
    pub fn is_idle(&self) -> bool {
        self.tables.is_empty()
    }

    /// The state a stored position carries; `None` when it has none or it
    /// is unreadable (then no incremental snapshot resumes).
    pub fn from_position(p: &Position) -> Option<State> {
        let Json::String(text) = p.extra.get(KEY)? else { return None };
        let v: Json = serde_json::from_str(text).ok()?;
        if v.get("v")? != 1 {
            return None;
        }
        let keys = |name: &str| -> Option<Option<Vec<Value>>> {
            match v.get(name) {
                None | Some(Json::Null) => Some(None),
                Some(a) => Some(Some(a.as_array()?.iter().map(decode_value).collect::<Option<Vec<_>>>()?)),
            }
        };
        let mut tables = Vec::new();
        for t in v.get("tables")?.as_array()? {
            let id = t.get("id")?.as_array()?;
            let id = (id.first()?.as_str()?.to_string(), id.get(1)?.as_str()?.to_string());
            let filter = t.get("filter").and_then(Json::as_str).map(str::to_string);
            tables.push(Collection { id, filter });
        }
        Some(State {
            tables,
            after: keys("after")?,
            max: keys("max")?,
            paused: v.get("paused").and_then(Json::as_bool).unwrap_or(false),
        })
    }

    /// The JSON text stored under [`KEY`].
    pub fn to_json(&self) -> String {
        let mut m = Map::new();
        m.insert("v".into(), json!(1));
        let tables = self
            .tables
            .iter()
            .map(|c| {
                let mut t = Map::new();
                t.insert("id".into(), json!([c.id.0, c.id.1]));
                if let Some(f) = &c.filter {
                    t.insert("filter".into(), json!(f));
                }
                Json::Object(t)
            })
            .collect();
        m.insert("tables".into(), Json::Array(tables));
        for (name, key) in [("after", &self.after), ("max", &self.max)] {
            if let Some(k) = key {
                m.insert(name.into(), Json::Array(k.iter().map(encode_value).collect()));
            }
        }
        m.insert("paused".into(), json!(self.paused));
        Json::Object(m).to_string()
    }

    /// Writes the state into `p` (nothing when idle).
    pub fn store_in(&self, p: &mut Position) {
        if !self.is_idle() {
            p.extra.insert(KEY.into(), Json::String(self.to_json()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_offset_value() {
        let s = State {
            tables: vec![
                Collection { id: ("shop".into(), "orders".into()), filter: Some("id > 10".into()) },
                Collection { id: ("shop".into(), "it\"ems".into()), filter: None },
            ],
            after: Some(vec![Value::Int(4096), Value::Bytes(b"k\0".to_vec())]),
            max: Some(vec![Value::UInt(u64::MAX), Value::Bytes(b"z".to_vec())]),
            paused: true,
        };
        let mut p = Position::new("mysql-bin.000003", 154);
        s.store_in(&mut p);
        let bytes = p.encode_value();
        let back = Position::decode_value(Some(&bytes), None).unwrap().unwrap();
        assert_eq!(State::from_position(&back), Some(s));
        let mut idle = Position::new("f", 4);
        State::default().store_in(&mut idle);
        assert_eq!(State::from_position(&idle), None);
    }
}
