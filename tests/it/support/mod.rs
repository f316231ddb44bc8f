//! Test support: servers started by the tests (MariaDB, Kafka, Debezium on
//! Kafka Connect), the child process rules they share, and deadline-bounded
//! waiting.
#![allow(dead_code)] // not every test uses every helper

pub mod binlog_gen;
pub mod cdc;
pub mod debezium;
pub mod kafka;
pub mod mariadb;
pub mod oracle;
pub mod primary;
pub mod process;
pub mod records;
pub mod wait;
