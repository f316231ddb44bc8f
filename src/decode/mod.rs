//! Binlog events + the schema catalog → change events.
pub mod cell;
pub mod decimal;
pub mod decoder;
pub mod json_diff;
pub mod rows;
