//! Parses the row images of WRITE/UPDATE/DELETE_ROWS events into cells.
//!
//! mysql_common can decode rows too, but it builds a `Column` and a heap
//! value per cell; this parser borrows from the event instead. The layout per
//! type follows the server's `log_event.cc` / `my_time.cc`; every read is
//! bounds-checked, because a truncated or corrupt event must give an error
//! naming the column, never a panic.

use mysql_common::binlog::events::TableMapEvent;

use super::cell::Cell;
use crate::bytes::{Cursor, PackedError};

/// How to read one column, from the TABLE_MAP event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnPlan {
    /// Binlog type code, with MYSQL_TYPE_STRING resolved to ENUM/SET/STRING.
    pub type_code: u8,
    /// Type metadata (meaning depends on the type).
    pub meta: u16,
    /// Second metadata value (STRING: max length; NEWDECIMAL: scale).
    pub meta2: u16,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum RowsError {
    #[error("row image ends early while reading column {column} (type {type_code})")]
    Truncated { column: usize, type_code: u8 },
    #[error("column {column} has binlog type {type_code}, which binlog-cdc cannot decode")]
    UnsupportedType { column: usize, type_code: u8 },
    #[error("TABLE_MAP metadata of column {column} is unreadable")]
    BadMetadata { column: usize },
    #[error("the value options of a partial update row are unreadable")]
    BadValueOptions,
    #[error("a row image takes no bytes (no column in the event's column bitmap): corrupt rows event")]
    EmptyRow,
    #[error("column {column}: {source}")]
    PartialJson {
        column: String,
        #[source]
        source: super::json_diff::DiffError,
    },
}

pub mod types {
    pub const DECIMAL: u8 = 0;
    pub const TINY: u8 = 1;
    pub const SHORT: u8 = 2;
    pub const LONG: u8 = 3;
    pub const FLOAT: u8 = 4;
    pub const DOUBLE: u8 = 5;
    pub const NULL: u8 = 6;
    pub const TIMESTAMP: u8 = 7;
    pub const LONGLONG: u8 = 8;
    pub const INT24: u8 = 9;
    pub const DATE: u8 = 10;
    pub const TIME: u8 = 11;
    pub const DATETIME: u8 = 12;
    pub const YEAR: u8 = 13;
    pub const NEWDATE: u8 = 14;
    pub const VARCHAR: u8 = 15;
    pub const BIT: u8 = 16;
    pub const TIMESTAMP2: u8 = 17;
    pub const DATETIME2: u8 = 18;
    pub const TIME2: u8 = 19;
    pub const VECTOR: u8 = 242;
    pub const JSON: u8 = 245;
    pub const NEWDECIMAL: u8 = 246;
    pub const ENUM: u8 = 247;
    pub const SET: u8 = 248;
    pub const TINY_BLOB: u8 = 249;
    pub const MEDIUM_BLOB: u8 = 250;
    pub const LONG_BLOB: u8 = 251;
    pub const BLOB: u8 = 252;
    pub const VAR_STRING: u8 = 253;
    pub const STRING: u8 = 254;
    pub const GEOMETRY: u8 = 255;
}

/// Builds the read plan of every column of a TABLE_MAP event.
pub fn plan_table(tme: &TableMapEvent<'_>) -> Result<Vec<ColumnPlan>, RowsError> {
    let n = tme.columns_count() as usize;
    let mut plans = Vec::with_capacity(n);
    for i in 0..n {
        let raw = match tme.get_raw_column_type(i) {
            Ok(Some(t)) => t as u8,
            _ => return Err(RowsError::BadMetadata { column: i }),
        };
        let meta = tme.get_column_metadata(i).unwrap_or(&[]);
        plans.push(plan_column(i, raw, meta)?);
    }
    Ok(plans)
}

/// The read plan of one column from its raw type code and metadata bytes.
pub fn plan_column(column: usize, raw: u8, meta: &[u8]) -> Result<ColumnPlan, RowsError> {
    use types::*;
    let b = |i: usize| meta.get(i).copied().map(u16::from).ok_or(RowsError::BadMetadata { column });
    let plan = |type_code, meta, meta2| Ok(ColumnPlan { type_code, meta, meta2 });
    match raw {
        STRING => {
            let (b0, b1) = (b(0)?, b(1)?);
            if b0 != 0 && (b0 & 0x30) != 0x30 {
                let real = (b0 | 0x30) as u8;
                let max_len = (((b0 & 0x30) ^ 0x30) << 4) | b1;
                plan(real, 0, max_len)
            } else if b0 == ENUM as u16 || b0 == SET as u16 {
                plan(b0 as u8, b1, 0)
            } else {
                plan(STRING, 0, b1)
            }
        }
        VARCHAR | VAR_STRING => plan(VARCHAR, 0, b(0)? | (b(1)? << 8)),
        NEWDECIMAL => plan(raw, b(0)?, b(1)?),
        BIT => plan(raw, b(0)?, b(1)?),
        FLOAT | DOUBLE | BLOB | TINY_BLOB | MEDIUM_BLOB | LONG_BLOB | JSON | GEOMETRY | VECTOR => {
            plan(raw, b(0).unwrap_or(0), 0)
        }
        TIMESTAMP2 | DATETIME2 | TIME2 => plan(raw, b(0).unwrap_or(0), 0),
        ENUM | SET => plan(raw, b(1).or_else(|_| b(0))?, 0),
        TINY | SHORT | LONG | LONGLONG | INT24 | DATE | NEWDATE | TIME | DATETIME | TIMESTAMP
        | YEAR | NULL | DECIMAL => plan(raw, 0, 0),
        other => Err(RowsError::UnsupportedType { column, type_code: other }),
    }
}

/// A bounds-checked reader over a row image.
pub struct Reader<'a> {
    c: Cursor<'a>,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { c: Cursor::new(buf) }
    }

    pub fn is_empty(&self) -> bool {
        self.c.remaining() == 0
    }

    /// Bytes left.
    pub fn len(&self) -> usize {
        self.c.remaining()
    }

    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        self.c.take(n).ok()
    }

    fn uint_le(&mut self, n: usize) -> Option<u64> {
        Some(self.take(n)?.iter().rev().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn uint_be(&mut self, n: usize) -> Option<u64> {
        Some(self.take(n)?.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }
}

fn bit(bitmap: &[u8], i: usize) -> bool {
    bitmap.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
}

/// Reads one row image: `present` is the columns-present bitmap of the
/// event; `out` receives one cell per column of the table.
pub fn read_image<'a>(
    r: &mut Reader<'a>,
    plans: &[ColumnPlan],
    present: &[u8],
    unsigned: &[bool],
    out: &mut Vec<Cell<'a>>,
) -> Result<(), RowsError> {
    read_image_partial(r, plans, present, unsigned, None, out)
}

/// PARTIAL_UPDATE_ROWS events start each after image with `value_options`
/// (a packed integer); with PARTIAL_JSON_UPDATES (bit 0) a bitmap follows
/// with one bit per JSON column of the table, set where the column holds a
/// list of changes rather than a document (WL#2955).
pub fn read_value_options<'a>(r: &mut Reader<'a>, plans: &[ColumnPlan]) -> Result<Option<&'a [u8]>, RowsError> {
    let truncated = RowsError::Truncated { column: 0, type_code: 0 };
    let options = r.c.packed().map_err(|e| match e {
        PackedError::Truncated(_) => truncated.clone(),
        PackedError::Invalid(_) => RowsError::BadValueOptions,
    })?;
    if options & 1 == 0 {
        return Ok(None);
    }
    let json_columns = plans.iter().filter(|p| p.type_code == types::JSON).count();
    r.take(json_columns.div_ceil(8)).map(Some).ok_or(truncated)
}

/// [`read_image`] for an after image of a PARTIAL_UPDATE_ROWS event:
/// `partial` is the bitmap of [`read_value_options`]; JSON columns whose
/// bit is set become [`Cell::JsonDiff`].
pub fn read_image_partial<'a>(
    r: &mut Reader<'a>,
    plans: &[ColumnPlan],
    present: &[u8],
    unsigned: &[bool],
    partial: Option<&[u8]>,
    out: &mut Vec<Cell<'a>>,
) -> Result<(), RowsError> {
    out.clear();
    let mut json_index = 0;
    let n_present = (0..plans.len()).filter(|i| bit(present, *i)).count();
    let nulls = r
        .take(n_present.div_ceil(8))
        .ok_or(RowsError::Truncated { column: 0, type_code: 0 })?;
    let mut image_idx = 0;
    for (i, plan) in plans.iter().enumerate() {
        let is_diff = plan.type_code == types::JSON && partial.is_some_and(|p| bit(p, json_index));
        if plan.type_code == types::JSON {
            json_index += 1;
        }
        if !bit(present, i) {
            out.push(Cell::Absent);
            continue;
        }
        let is_null = bit(nulls, image_idx);
        image_idx += 1;
        if is_null {
            out.push(Cell::Null);
            continue;
        }
        let is_unsigned = unsigned.get(i).copied().unwrap_or(false);
        let mut cell = read_cell(r, plan, is_unsigned)
            .ok_or(RowsError::Truncated { column: i, type_code: plan.type_code })??;
        if let (true, Cell::JsonBinary(diff)) = (is_diff, cell) {
            cell = Cell::JsonDiff(diff);
        }
        out.push(cell);
    }
    Ok(())
}

fn sign_extend(v: u64, bytes: usize) -> i64 {
    let shift = 64 - 8 * bytes as u32;
    ((v << shift) as i64) >> shift
}

fn frac_micros(r: &mut Reader<'_>, fsp: u16) -> Option<u32> {
    Some(match fsp {
        1 | 2 => r.uint_be(1)? as u32 * 10_000,
        3 | 4 => r.uint_be(2)? as u32 * 100,
        5 | 6 => r.uint_be(3)? as u32,
        _ => 0,
    })
}

/// `None` = truncated; `Some(Err)` = undecodable type.
fn read_cell<'a>(r: &mut Reader<'a>, plan: &ColumnPlan, unsigned: bool) -> Option<Result<Cell<'a>, RowsError>> {
    use types::*;
    let int = |v: u64, bytes: usize| {
        if unsigned {
            Cell::UInt(v)
        } else {
            Cell::Int(sign_extend(v, bytes))
        }
    };
    let cell = match plan.type_code {
        TINY => int(r.uint_le(1)?, 1),
        SHORT => int(r.uint_le(2)?, 2),
        INT24 => int(r.uint_le(3)?, 3),
        LONG => int(r.uint_le(4)?, 4),
        LONGLONG => int(r.uint_le(8)?, 8),
        FLOAT => Cell::Float(f32::from_le_bytes(r.take(4)?.try_into().ok()?)),
        DOUBLE => Cell::Double(f64::from_le_bytes(r.take(8)?.try_into().ok()?)),
        YEAR => {
            let y = r.uint_le(1)? as u16;
            Cell::Year(if y == 0 { 0 } else { 1900 + y })
        }
        NEWDECIMAL => {
            let (precision, scale) = (plan.meta as u8, plan.meta2 as u8);
            let size = super::decimal::bin_size(precision, scale);
            Cell::Decimal { bin: r.take(size)?, precision, scale }
        }
        DATE | NEWDATE => {
            let v = r.uint_le(3)?;
            Cell::Date { year: (v >> 9) as u16, month: ((v >> 5) & 15) as u8, day: (v & 31) as u8 }
        }
        TIME => {
            let v = sign_extend(r.uint_le(3)?, 3);
            let (negative, a) = (v < 0, v.unsigned_abs());
            Cell::Time {
                negative,
                hours: (a / 10000) as u32,
                minutes: ((a / 100) % 100) as u8,
                seconds: (a % 100) as u8,
                micros: 0,
            }
        }
        TIME2 => read_time2(r, plan.meta)?,
        DATETIME => {
            let v = r.uint_le(8)?;
            let (date, time) = (v / 1_000_000, v % 1_000_000);
            Cell::DateTime {
                year: (date / 10000) as u16,
                month: ((date / 100) % 100) as u8,
                day: (date % 100) as u8,
                hour: (time / 10000) as u8,
                minute: ((time / 100) % 100) as u8,
                second: (time % 100) as u8,
                micros: 0,
            }
        }
        DATETIME2 => {
            let int_part = r.uint_be(5)? as i64 - 0x80_0000_0000;
            let micros = frac_micros(r, plan.meta)?;
            let ymd = int_part >> 17;
            let ym = ymd >> 5;
            let hms = int_part & 0x1FFFF;
            Cell::DateTime {
                year: (ym / 13) as u16,
                month: (ym % 13) as u8,
                day: (ymd & 31) as u8,
                hour: (hms >> 12) as u8,
                minute: ((hms >> 6) & 63) as u8,
                second: (hms & 63) as u8,
                micros,
            }
        }
        TIMESTAMP => Cell::Timestamp { seconds: r.uint_le(4)? as u32, micros: 0 },
        TIMESTAMP2 => {
            let seconds = r.uint_be(4)? as u32;
            Cell::Timestamp { seconds, micros: frac_micros(r, plan.meta)? }
        }
        VARCHAR | STRING => {
            let len = if plan.meta2 < 256 { r.uint_le(1)? } else { r.uint_le(2)? };
            Cell::Bytes(r.take(len as usize)?)
        }
        ENUM => Cell::Enum(r.uint_le(plan.meta.clamp(1, 2) as usize)? as u16),
        SET => Cell::Set(r.uint_le(plan.meta.clamp(1, 8) as usize)?),
        BIT => {
            let len = plan.meta2 as usize + usize::from(plan.meta > 0);
            Cell::Bits(r.take(len)?)
        }
        BLOB | TINY_BLOB | MEDIUM_BLOB | LONG_BLOB | GEOMETRY | VECTOR | JSON => {
            let len = r.uint_le(plan.meta.clamp(1, 4) as usize)? as usize;
            let data = r.take(len)?;
            if plan.type_code == JSON {
                Cell::JsonBinary(data)
            } else {
                Cell::Bytes(data)
            }
        }
        NULL => Cell::Null,
        other => return Some(Err(RowsError::UnsupportedType { column: 0, type_code: other })),
    };
    Some(Ok(cell))
}

/// TIME2, as `my_time_packed_from_binary` + `TIME_from_longlong_time_packed`.
fn read_time2<'a>(r: &mut Reader<'a>, fsp: u16) -> Option<Cell<'a>> {
    const INT_OFS: i64 = 0x80_0000;
    let packed: i64 = match fsp {
        1 | 2 => {
            let mut int_part = r.uint_be(3)? as i64 - INT_OFS;
            let mut frac = r.uint_be(1)? as i64;
            if int_part < 0 && frac != 0 {
                int_part += 1;
                frac -= 0x100;
            }
            (int_part << 24) + frac * 10_000
        }
        3 | 4 => {
            let mut int_part = r.uint_be(3)? as i64 - INT_OFS;
            let mut frac = r.uint_be(2)? as i64;
            if int_part < 0 && frac != 0 {
                int_part += 1;
                frac -= 0x10000;
            }
            (int_part << 24) + frac * 100
        }
        5 | 6 => r.uint_be(6)? as i64 - 0x8000_0000_0000,
        _ => (r.uint_be(3)? as i64 - INT_OFS) << 24,
    };
    let negative = packed < 0;
    let a = packed.unsigned_abs();
    let hms = a >> 24;
    Some(Cell::Time {
        negative,
        hours: ((hms >> 12) & 0x3FF) as u32,
        minutes: ((hms >> 6) & 0x3F) as u8,
        seconds: (hms & 0x3F) as u8,
        micros: (a % (1 << 24)) as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::types::*;
    use super::*;

    fn one(plan: ColumnPlan, unsigned: bool, bytes: &[u8]) -> Cell<'_> {
        let mut r = Reader::new(bytes);
        read_cell(&mut r, &plan, unsigned).expect("not truncated").expect("decodable")
    }

    fn p(type_code: u8, meta: u16, meta2: u16) -> ColumnPlan {
        ColumnPlan { type_code, meta, meta2 }
    }

    #[test]
    fn integers_by_signedness() {
        assert_eq!(one(p(TINY, 0, 0), false, &[0xff]), Cell::Int(-1));
        assert_eq!(one(p(TINY, 0, 0), true, &[0xff]), Cell::UInt(255));
        assert_eq!(one(p(INT24, 0, 0), false, &[0xff, 0xff, 0xff]), Cell::Int(-1));
        assert_eq!(one(p(LONGLONG, 0, 0), true, &[0xff; 8]), Cell::UInt(u64::MAX));
        assert_eq!(one(p(SHORT, 0, 0), false, &[0x00, 0x80]), Cell::Int(-32768));
    }

    #[test]
    fn string_metadata_resolves_real_type_and_length() {
        // CHAR(10) utf8mb4 = 40 bytes: real type 0xfe, length 40.
        assert_eq!(plan_column(0, STRING, &[0xfe, 40]).unwrap(), p(STRING, 0, 40));
        // CHAR(100) utf8mb4 = 400 bytes: high bits of the length folded into byte 0.
        let plan = plan_column(0, STRING, &[0xee, 0x90]).unwrap();
        assert_eq!(plan, p(STRING, 0, 400));
        assert_eq!(plan_column(0, STRING, &[ENUM, 1]).unwrap(), p(ENUM, 1, 0));
        assert_eq!(plan_column(0, STRING, &[SET, 2]).unwrap(), p(SET, 2, 0));
        assert_eq!(one(plan, false, &[2, 0, b'h', b'i']), Cell::Bytes(b"hi"));
    }

    #[test]
    fn datetime2_and_timestamp2() {
        // 2018-06-20 06:37:03.123456: computed with the server's packing.
        let ym: i64 = 2018 * 13 + 6;
        let ymd = (ym << 5) | 20;
        let hms = (6 << 12) | (37 << 6) | 3;
        let packed = ((ymd << 17) | hms) + 0x80_0000_0000;
        let mut bytes = packed.to_be_bytes()[3..].to_vec();
        bytes.extend_from_slice(&123_456u32.to_be_bytes()[1..]);
        assert_eq!(
            one(p(DATETIME2, 6, 0), false, &bytes),
            Cell::DateTime { year: 2018, month: 6, day: 20, hour: 6, minute: 37, second: 3, micros: 123_456 }
        );
        assert_eq!(
            one(p(TIMESTAMP2, 3, 0), false, &[0x5b, 0x2a, 0x5a, 0x4f, 0x00, 0x0c]),
            Cell::Timestamp { seconds: 0x5b2a5a4f, micros: 1_200 }
        );
    }

    #[test]
    fn time2_negative_with_fraction() {
        // -00:00:01.5 with fsp 1: int part -2 (+1 after borrow), frac 0x100-50
        let int_part: i64 = -1 - 1;
        let raw = (int_part + 0x80_0000) as u64;
        let mut bytes = raw.to_be_bytes()[5..].to_vec();
        bytes.push((0x100 - 50) as u8);
        assert_eq!(
            one(p(TIME2, 1, 0), false, &bytes),
            Cell::Time { negative: true, hours: 0, minutes: 0, seconds: 1, micros: 500_000 }
        );
        // 838:59:59 with fsp 0
        let hms: i64 = (838 << 12) | (59 << 6) | 59;
        let bytes = ((hms + 0x80_0000) as u64).to_be_bytes()[5..].to_vec();
        assert_eq!(
            one(p(TIME2, 0, 0), false, &bytes),
            Cell::Time { negative: false, hours: 838, minutes: 59, seconds: 59, micros: 0 }
        );
    }

    #[test]
    fn truncated_image_is_an_error_not_a_panic() {
        let plans = [p(LONG, 0, 0), p(VARCHAR, 0, 10)];
        let mut out = Vec::new();
        let data = [0u8, 1, 0, 0, 0, 5, b'a'];
        let err = read_image(&mut Reader::new(&data), &plans, &[0b11], &[false, false], &mut out);
        assert_eq!(err, Err(RowsError::Truncated { column: 1, type_code: VARCHAR }));
        for cut in 0..data.len() {
            let _ = read_image(&mut Reader::new(&data[..cut]), &plans, &[0b11], &[false, false], &mut out);
        }
    }

    #[test]
    fn nulls_and_absent_columns() {
        let plans = [p(LONG, 0, 0), p(LONG, 0, 0), p(LONG, 0, 0)];
        let mut out = Vec::new();
        // columns 0 and 2 present; column 2 null
        let data = [0b10u8, 7, 0, 0, 0];
        read_image(&mut Reader::new(&data), &plans, &[0b101], &[false; 3], &mut out).unwrap();
        assert_eq!(out, vec![Cell::Int(7), Cell::Absent, Cell::Null]);
    }
}
