//! binlog-cdc: MySQL/MariaDB binlog → Debezium-compatible change events on Kafka.
//!
//! The data's path is the module order: `source` → `decode` (with `schema`)
//! → `transform` → `envelope` → `sink`, with `offsets` persisting positions. `app` wires
//! them; `settings` translates the configuration for each stage.
pub mod app;
pub mod bytes;
pub mod channel;
pub mod config;
pub mod decode;
pub mod envelope;
pub mod offsets;
pub mod replay;
pub mod schema;
pub mod settings;
pub mod shutdown;
pub mod sink;
pub mod snapshot;
pub mod source;
pub mod telemetry;
pub mod transform;
