//! The sink stage: delivers batches of records and, once Kafka has
//! acknowledged a batch and everything before it, stores the batch's
//! position. Delivery acknowledgement — never the send call — moves the
//! position.
//!
//! `kafka.rs` is the production sink (`native.rs`: how its records reach
//! librdkafka without copies); `stdout.rs` writes JSON lines for debugging
//! and benchmarks.

pub mod kafka;
pub mod native;
pub mod stdout;
pub mod topics;
pub mod tracker;
