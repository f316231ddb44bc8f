//! Binlog events + the schema catalog → change events.
pub mod cell;
pub mod decimal;
pub mod decoder;
pub mod rows;
