//! Heartbeat records (spec §9): key `ServerNameKey` `{"serverName":<prefix>}`,
//! value `Heartbeat` `{"ts_ms":<connector clock>}`, partition 0, no headers,
//! as Debezium's `HeartbeatImpl` builds them.

use std::sync::Arc;

use super::{json, Delivery, Record};

const KEY_SCHEMA: &[u8] = b"{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"serverName\"}],\
\"optional\":false,\"name\":\"io.debezium.connector.common.ServerNameKey\",\"version\":1}";
const VALUE_SCHEMA: &[u8] = b"{\"type\":\"struct\",\"fields\":[{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],\
\"optional\":false,\"name\":\"io.debezium.connector.common.Heartbeat\",\"version\":1}";

/// Where and how heartbeat records are written.
#[derive(Debug, Clone)]
pub struct HeartbeatTopic {
    /// `topic.heartbeat.name`, else `<topic.heartbeat.prefix>.<topic.prefix>`.
    pub topic: Arc<str>,
    /// The key's `serverName`: `topic.prefix`.
    pub server_name: String,
    pub key_schemas: bool,
    pub value_schemas: bool,
}

impl HeartbeatTopic {
    /// A heartbeat record stamped `now_ms`.
    pub fn record(&self, now_ms: i64) -> Record {
        let mut key = Vec::with_capacity(KEY_SCHEMA.len() + 64);
        if self.key_schemas {
            key.extend_from_slice(b"{\"schema\":");
            key.extend_from_slice(KEY_SCHEMA);
            key.extend_from_slice(b",\"payload\":");
        }
        key.extend_from_slice(b"{\"serverName\":");
        json::string(&mut key, &self.server_name);
        key.push(b'}');
        if self.key_schemas {
            key.push(b'}');
        }
        let mut value = Vec::with_capacity(VALUE_SCHEMA.len() + 48);
        if self.value_schemas {
            value.extend_from_slice(b"{\"schema\":");
            value.extend_from_slice(VALUE_SCHEMA);
            value.extend_from_slice(b",\"payload\":");
        }
        value.extend_from_slice(b"{\"ts_ms\":");
        json::int(&mut value, now_ms);
        value.push(b'}');
        if self.value_schemas {
            value.push(b'}');
        }
        Record {
            topic: self.topic.clone(),
            key: Some(key),
            value: Some(value),
            headers: Vec::new(),
            delivery: Some(Box::new(Delivery {
                partition: Some(0),
                context_headers: false,
                ..Delivery::default()
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_bytes() {
        let h = HeartbeatTopic {
            topic: Arc::from("__debezium-heartbeat.p"),
            server_name: "p".into(),
            key_schemas: false,
            value_schemas: false,
        };
        let r = h.record(1_717_171_717_000);
        assert_eq!(r.key.as_deref(), Some(&b"{\"serverName\":\"p\"}"[..]));
        assert_eq!(r.value.as_deref(), Some(&b"{\"ts_ms\":1717171717000}"[..]));
        assert_eq!(r.delivery.as_ref().and_then(|d| d.partition), Some(0));
        let h = HeartbeatTopic {
            key_schemas: true,
            value_schemas: true,
            ..h
        };
        let v: serde_json::Value = serde_json::from_slice(&h.record(5).value.unwrap()).unwrap();
        assert_eq!(
            v["schema"]["name"],
            "io.debezium.connector.common.Heartbeat"
        );
        assert_eq!(v["payload"]["ts_ms"], 5);
    }
}
