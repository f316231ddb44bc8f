//! Reading Debezium change records back from Kafka: the envelope's payload
//! (with or without embedded schemas), its `op`, its `source.snapshot`
//! marker, and its key.

use serde_json::Value;

use super::kafka::Record;

/// The envelope's payload; `None` for a tombstone.
pub fn payload(r: &Record) -> Option<Value> {
    r.value_json().map(|v| v.get("payload").cloned().unwrap_or(v))
}

/// `op` (`c`, `u`, `d`, `r`), or `tombstone`.
pub fn op(r: &Record) -> String {
    payload(r).map(|p| p["op"].as_str().unwrap_or("").to_string()).unwrap_or_else(|| "tombstone".into())
}

/// `source.snapshot` (`first`, `true`, `last`, `incremental`, `false`, ...); empty for a tombstone.
pub fn marker(r: &Record) -> String {
    payload(r).map(|p| p["source"]["snapshot"].as_str().unwrap_or("").to_string()).unwrap_or_default()
}

/// The key's payload as compact JSON text (e.g. `{"id":5}`); empty without a key.
pub fn key_text(r: &Record) -> String {
    r.key
        .as_deref()
        .map(|k| {
            let v: Value = serde_json::from_slice(k).expect("key json");
            v.get("payload").cloned().unwrap_or(v).to_string()
        })
        .unwrap_or_default()
}
