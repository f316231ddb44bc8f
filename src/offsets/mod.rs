//! Positions (MySQL GTID sets, MariaDB GTID positions, binlog coordinates)
//! and the compacted Kafka topic that persists them in Kafka Connect's
//! offsets format.
pub mod gtid_mariadb;
pub mod gtid_mysql;
pub mod position;
pub mod store;
