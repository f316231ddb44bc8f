//! Integration tests against real servers (MariaDB, Kafka, Debezium) that
//! the tests start themselves. One binary, so each server starts once per run.
mod support;

mod harness;
mod debezium_smoke;
mod stream_crud;
mod ddl;
mod filters;
mod errors;
mod check;
mod metrics;
mod oracle_types;
mod resume;
mod schema_changes;
mod snapshot;
mod incremental;
mod replay_mysql;
mod mysql_primary;
mod snapshot_oracle;
mod outbox;
