//! Transaction metadata records (spec §8): the `transaction` block of data
//! events and the BEGIN/END records of the `<prefix>.transaction` topic,
//! byte for byte as Debezium's `TransactionMonitor` and Kafka Connect's
//! JsonConverter write them. The counting itself is the transform stage's.

use std::sync::Arc;

use super::{json, Delivery, Record};

/// The `transaction` block of one data event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block<'a> {
    pub id: &'a str,
    /// 1-based position among all events of the transaction.
    pub total_order: u64,
    /// 1-based position among the events of the same table.
    pub data_collection_order: u64,
}

/// Writes the block's payload, or `null`.
pub fn write_block(out: &mut Vec<u8>, block: Option<&Block<'_>>) {
    let Some(b) = block else {
        out.extend_from_slice(b"null");
        return;
    };
    out.extend_from_slice(b"{\"id\":");
    json::string(out, b.id);
    out.extend_from_slice(b",\"total_order\":");
    json::uint(out, b.total_order);
    out.extend_from_slice(b",\"data_collection_order\":");
    json::uint(out, b.data_collection_order);
    out.push(b'}');
}

const KEY_SCHEMA: &[u8] =
    b"{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"id\"}],\
\"optional\":false,\"name\":\"io.debezium.connector.common.TransactionMetadataKey\",\"version\":1}";

const VALUE_SCHEMA: &[u8] = b"{\"type\":\"struct\",\"fields\":[\
{\"type\":\"string\",\"optional\":false,\"field\":\"status\"},\
{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},\
{\"type\":\"int64\",\"optional\":true,\"field\":\"event_count\"},\
{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":[\
{\"type\":\"string\",\"optional\":false,\"field\":\"data_collection\"},\
{\"type\":\"int64\",\"optional\":false,\"field\":\"event_count\"}],\
\"optional\":true,\"name\":\"event.collection\",\"version\":1},\"optional\":true,\"field\":\"data_collections\"},\
{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],\
\"optional\":false,\"name\":\"io.debezium.connector.common.TransactionMetadataValue\",\"version\":1}";

/// How BEGIN/END records are written.
#[derive(Debug, Clone)]
pub struct TransactionTopic {
    /// `<topic.prefix>.<topic.transaction>`.
    pub topic: Arc<str>,
    pub key_schemas: bool,
    pub value_schemas: bool,
}

impl TransactionTopic {
    fn key(&self, id: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(KEY_SCHEMA.len() + id.len() + 32);
        if self.key_schemas {
            out.extend_from_slice(b"{\"schema\":");
            out.extend_from_slice(KEY_SCHEMA);
            out.extend_from_slice(b",\"payload\":");
        }
        out.extend_from_slice(b"{\"id\":");
        json::string(&mut out, id);
        out.push(b'}');
        if self.key_schemas {
            out.push(b'}');
        }
        out
    }

    fn record(&self, id: &str, value: Vec<u8>) -> Record {
        Record {
            topic: self.topic.clone(),
            key: Some(self.key(id)),
            value: Some(value),
            headers: Vec::new(),
            // Debezium builds these records without the context headers.
            delivery: Some(Box::new(Delivery {
                context_headers: false,
                ..Delivery::default()
            })),
        }
    }

    fn value(
        &self,
        status: &str,
        id: &str,
        counts: Option<(u64, &[(String, u64)])>,
        ts_ms: i64,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(VALUE_SCHEMA.len() + 128);
        if self.value_schemas {
            out.extend_from_slice(b"{\"schema\":");
            out.extend_from_slice(VALUE_SCHEMA);
            out.extend_from_slice(b",\"payload\":");
        }
        out.extend_from_slice(b"{\"status\":\"");
        out.extend_from_slice(status.as_bytes());
        out.extend_from_slice(b"\",\"id\":");
        json::string(&mut out, id);
        match counts {
            None => out.extend_from_slice(b",\"event_count\":null,\"data_collections\":null"),
            Some((total, per_table)) => {
                out.extend_from_slice(b",\"event_count\":");
                json::uint(&mut out, total);
                out.extend_from_slice(b",\"data_collections\":[");
                for (i, (table, n)) in per_table.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"{\"data_collection\":");
                    json::string(&mut out, table);
                    out.extend_from_slice(b",\"event_count\":");
                    json::uint(&mut out, *n);
                    out.push(b'}');
                }
                out.push(b']');
            }
        }
        out.extend_from_slice(b",\"ts_ms\":");
        json::int(&mut out, ts_ms);
        out.push(b'}');
        if self.value_schemas {
            out.push(b'}');
        }
        out
    }

    /// The BEGIN record of transaction `id` (`ts_ms`: event time).
    pub fn begin(&self, id: &str, ts_ms: i64) -> Record {
        self.record(id, self.value("BEGIN", id, None, ts_ms))
    }

    /// The END record: `total` events, `per_table` in Debezium's order.
    pub fn end(&self, id: &str, total: u64, per_table: &[(String, u64)], ts_ms: i64) -> Record {
        self.record(id, self.value("END", id, Some((total, per_table)), ts_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_and_end_payloads() {
        let t = TransactionTopic {
            topic: Arc::from("p.transaction"),
            key_schemas: false,
            value_schemas: false,
        };
        let b = t.begin("0-1-5", 1_717_171_717_000);
        assert_eq!(b.key.as_deref(), Some(&b"{\"id\":\"0-1-5\"}"[..]));
        assert_eq!(
            String::from_utf8(b.value.unwrap()).unwrap(),
            r#"{"status":"BEGIN","id":"0-1-5","event_count":null,"data_collections":null,"ts_ms":1717171717000}"#
        );
        let e = t.end(
            "0-1-5",
            2,
            &[("inventory.customers".into(), 2)],
            1_717_171_717_000,
        );
        assert_eq!(
            String::from_utf8(e.value.unwrap()).unwrap(),
            r#"{"status":"END","id":"0-1-5","event_count":2,"data_collections":[{"data_collection":"inventory.customers","event_count":2}],"ts_ms":1717171717000}"#
        );
        let mut block = Vec::new();
        write_block(
            &mut block,
            Some(&Block {
                id: "0-1-5",
                total_order: 3,
                data_collection_order: 1,
            }),
        );
        assert_eq!(
            block,
            br#"{"id":"0-1-5","total_order":3,"data_collection_order":1}"#
        );
    }

    #[test]
    fn with_schemas_the_key_names_its_schema() {
        let t = TransactionTopic {
            topic: Arc::from("p.transaction"),
            key_schemas: true,
            value_schemas: true,
        };
        let b = t.begin("x", 0);
        let key: serde_json::Value = serde_json::from_slice(&b.key.unwrap()).unwrap();
        assert_eq!(
            key["schema"]["name"],
            "io.debezium.connector.common.TransactionMetadataKey"
        );
        let value: serde_json::Value = serde_json::from_slice(&b.value.unwrap()).unwrap();
        assert_eq!(
            value["schema"]["fields"][3]["items"]["name"],
            "event.collection"
        );
        assert_eq!(value["payload"]["status"], "BEGIN");
    }
}
