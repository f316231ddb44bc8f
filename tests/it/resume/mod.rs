//! Resilience and offsets: restarts resume where they stopped (SIGTERM:
//! exactly once; `kill -9`: at least once, per-key order kept), the offsets
//! topic is byte-for-byte Kafka Connect's, `offsets show/set/reset` steer the
//! next start, a restart inside a transaction skips exactly what the stored
//! position says, and a dropped binlog connection is re-established without
//! loss or duplicates.

mod common;
mod crash;
mod mid_transaction;
mod offsets_cli;
mod offsets_topic;
mod proxy;
mod reconnect;
mod restart;
