//! One decoded column value, borrowed from the rows event it came from.
//!
//! Cells are produced by `rows.rs` and consumed by the envelope writer; they
//! never own data, so a row costs no heap allocation between the network
//! buffer and the JSON bytes.

/// A column value as the binlog stores it, with just enough interpretation
/// (sign, calendar fields) that the envelope can apply Debezium's mappings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Null,
    /// The column is not in this row image (`binlog_row_image` not FULL).
    Absent,
    Int(i64),
    UInt(u64),
    Float(f32),
    Double(f64),
    /// MySQL binary DECIMAL with its precision and scale.
    Decimal { bin: &'a [u8], precision: u8, scale: u8 },
    /// DECIMAL as the server prints it (`-12.50`, exactly `scale` fraction
    /// digits): what a snapshot's SELECT returns.
    DecimalText(&'a [u8]),
    /// ENUM or SET value as the server prints it (`a`, `x,y`): what a
    /// snapshot's SELECT returns; written as is.
    EnumText(&'a [u8]),
    /// TIMESTAMP read by a snapshot: printed with the fewest fraction
    /// digits (Java's ISO_OFFSET_DATE_TIME, Debezium's snapshot path), not
    /// the column's fsp width as streamed rows are.
    SnapshotTimestamp { seconds: u32, micros: u32 },
    /// Strings (in the column charset), binary strings, MariaDB JSON text.
    Bytes(&'a [u8]),
    /// BIT(n): big-endian as stored.
    Bits(&'a [u8]),
    /// 1-based ENUM index; 0 is the invalid value `''`.
    Enum(u16),
    /// SET bitmap: bit i = member i.
    Set(u64),
    Year(u16),
    Date { year: u16, month: u8, day: u8 },
    Time { negative: bool, hours: u32, minutes: u8, seconds: u8, micros: u32 },
    DateTime { year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8, micros: u32 },
    /// Seconds since the epoch (UTC) and microseconds.
    Timestamp { seconds: u32, micros: u32 },
    /// MySQL binary JSON.
    JsonBinary(&'a [u8]),
    /// The changes of a partial JSON update (PARTIAL_UPDATE_ROWS after
    /// image): applied to the before image's value by the decoder.
    JsonDiff(&'a [u8]),
}
