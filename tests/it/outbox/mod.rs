//! The transactional outbox on the change stream (issue 5): Debezium's
//! Outbox Event Router and ExtractNewRecordState SMTs configured the Kafka
//! Connect way (`transforms`, `predicates`), transaction metadata,
//! heartbeats, `skipped.operations` and truncate events — each checked
//! against real MariaDB and Kafka, and against Debezium itself on the same
//! SQL (`compat.rs`).

mod compat;
mod example;
mod heartbeat;
mod router;
mod skipped;
mod support;
mod transaction;
