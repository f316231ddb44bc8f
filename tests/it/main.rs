//! Integration tests against real servers (MariaDB, Kafka, Debezium) that
//! the tests start themselves. One binary, so each server starts once per run.
mod support;

mod harness;
mod debezium_smoke;
mod stream_crud;
