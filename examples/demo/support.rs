//! The integration tests' own server harness (tests/it/support), reused as
//! is: MariaDB and Kafka start exactly as they do for `make test`.
#![allow(dead_code)] // the demo uses a few helpers only

#[path = "../../tests/it/support/kafka/mod.rs"]
pub mod kafka;
#[path = "../../tests/it/support/mariadb.rs"]
pub mod mariadb;
#[path = "../../tests/it/support/process.rs"]
pub mod process;
#[path = "../../tests/it/support/wait.rs"]
pub mod wait;
