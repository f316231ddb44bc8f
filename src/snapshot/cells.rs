//! A row as the server's binary protocol returns it (typed `Value`s) →
//! the `Cell`s the envelope writes, the same cells the binlog decoder
//! produces for that row, so a snapshot `r` record and a streamed `c` record
//! of the same row print the same `after`.
//!
//! The reader sessions set `time_zone='+00:00'` (TIMESTAMP values arrive in
//! UTC) and `character_set_results=NULL` (strings arrive in the column's
//! own charset, as in the binlog).

use mysql_async::Value;

use crate::decode::cell::Cell;
use crate::envelope::temporal;
use crate::schema::{Column, ColumnKind};

/// What converting a column needs to know.
#[derive(Debug, Clone)]
pub struct ColumnPlan {
    kind: ColumnKind,
    /// FLOAT, and DOUBLE(M,D): read as the server prints them (see
    /// [`ColumnPlan::select_expr`]); `Some(true)` when parsed as a double.
    float_text: Option<bool>,
    /// ENUM/SET literals, in definition order.
    members: Vec<String>,
    latin1: bool,
}

impl ColumnPlan {
    pub fn new(col: &Column) -> Self {
        let scaled = col.column_type.contains(',');
        let float_text = match col.kind {
            // FLOAT(M,D) too is parsed as a float, then widened (as JDBC does).
            ColumnKind::Float => Some(false),
            ColumnKind::Double if scaled => Some(true),
            _ => None,
        };
        ColumnPlan {
            kind: col.kind,
            float_text,
            members: col.enum_values.clone(),
            latin1: col.charset.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("latin1")),
        }
    }

    /// The SELECT expression of the column (`quoted` is its quoted name).
    /// FLOAT and DOUBLE(M,D) are read as text: the server prints them with
    /// FLOAT's 6 significant digits or the declared decimals, which is the
    /// value Debezium's snapshot (JDBC, text protocol) reads, while the
    /// binary protocol would give the unrounded binary float.
    pub fn select_expr(&self, quoted: &str) -> String {
        match self.float_text {
            Some(_) => format!("CONCAT({quoted})"),
            None => quoted.to_string(),
        }
    }

    fn member_index(&self, text: &[u8]) -> Option<usize> {
        if self.latin1 && !text.is_ascii() {
            let s: String = text.iter().map(|b| char::from(*b)).collect();
            return self.members.iter().position(|m| *m == s);
        }
        self.members.iter().position(|m| m.as_bytes() == text)
    }
}

/// The cells of a row a snapshot query read, one per column of `columns`.
pub fn row_cells<'a>(row: &'a mysql_async::Row, columns: &[ColumnPlan]) -> Vec<Cell<'a>> {
    (0..columns.len()).map(|i| row.as_ref(i).map_or(Cell::Absent, |v| cell(v, &columns[i]))).collect()
}

/// The cell of one value of a column described by `plan`.
pub fn cell<'a>(value: &'a Value, plan: &ColumnPlan) -> Cell<'a> {
    use ColumnKind::*;
    match value {
        Value::NULL => Cell::Null,
        Value::Int(i) => Cell::Int(*i),
        Value::UInt(u) => Cell::UInt(*u),
        Value::Float(f) => Cell::Float(*f),
        Value::Double(d) => Cell::Double(*d),
        Value::Bytes(b) => match plan.kind {
            Decimal => Cell::DecimalText(b),
            Bit => Cell::Bits(b),
            Float | Double if plan.float_text.is_some() => {
                let text = std::str::from_utf8(b).unwrap_or("");
                match plan.float_text {
                    Some(true) => text.parse().map_or(Cell::Null, Cell::Double),
                    _ => text.parse().map_or(Cell::Null, Cell::Float),
                }
            }
            // The server's text, as Debezium's snapshot prints it (latin1
            // text that is not ASCII goes through the member list instead).
            Enum | Set if !plan.latin1 || b.is_ascii() => Cell::EnumText(b),
            // ENUM: 1-based index, 0 for the invalid value ''.
            Enum => Cell::Enum(plan.member_index(b).map_or(0, |i| i as u16 + 1)),
            Set => {
                let mut bits = 0u64;
                if !b.is_empty() {
                    for member in b.split(|c| *c == b',') {
                        if let Some(i) = plan.member_index(member).filter(|i| *i < 64) {
                            bits |= 1 << i;
                        }
                    }
                }
                Cell::Set(bits)
            }
            _ => Cell::Bytes(b),
        },
        Value::Date(year, month, day, hour, minute, second, micros) => match plan.kind {
            Date => Cell::Date { year: *year, month: *month, day: *day },
            Timestamp => {
                let days = if *year == 0 { None } else { temporal::days_from_civil(*year, *month, *day) };
                match days {
                    Some(d) => {
                        let secs = d * 86_400 + i64::from(*hour) * 3600 + i64::from(*minute) * 60 + i64::from(*second);
                        Cell::SnapshotTimestamp { seconds: secs.clamp(0, i64::from(u32::MAX)) as u32, micros: *micros }
                    }
                    // The zero TIMESTAMP.
                    None => Cell::Timestamp { seconds: 0, micros: 0 },
                }
            }
            _ => Cell::DateTime {
                year: *year,
                month: *month,
                day: *day,
                hour: *hour,
                minute: *minute,
                second: *second,
                micros: *micros,
            },
        },
        Value::Time(negative, days, hours, minutes, seconds, micros) => Cell::Time {
            negative: *negative,
            hours: days * 24 + u32::from(*hours),
            minutes: *minutes,
            seconds: *seconds,
            micros: *micros,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(kind: ColumnKind, members: &[&str]) -> ColumnPlan {
        ColumnPlan { kind, float_text: None, members: members.iter().map(|s| s.to_string()).collect(), latin1: false }
    }

    #[test]
    fn enum_and_set_text() {
        let e = plan(ColumnKind::Enum, &["a", "b,c", "d"]);
        assert_eq!(cell(&Value::Bytes(b"b,c".to_vec()), &e), Cell::EnumText(b"b,c"));
        let mut l = plan(ColumnKind::Enum, &["\u{e9}t\u{e9}", "d"]);
        l.members[0] = "\u{e9}t\u{e9}".into();
        l.latin1 = true;
        assert_eq!(cell(&Value::Bytes(vec![0xe9, b't', 0xe9]), &l), Cell::Enum(1));
        let mut s = plan(ColumnKind::Set, &["x", "y", "\u{fc}"]);
        s.latin1 = true;
        assert_eq!(cell(&Value::Bytes(vec![b'x', b',', 0xfc]), &s), Cell::Set(0b101));
    }

    #[test]
    fn floats_from_text() {
        let mut f = plan(ColumnKind::Float, &[]);
        f.float_text = Some(false);
        assert_eq!(cell(&Value::Bytes(b"1.67772e7".to_vec()), &f), Cell::Float(16777200.0));
        f.float_text = Some(true);
        assert_eq!(cell(&Value::Bytes(b"-0.01".to_vec()), &f), Cell::Double(-0.01));
        assert_eq!(f.select_expr("`x`"), "CONCAT(`x`)");
    }

    #[test]
    fn temporal_values() {
        let ts = plan(ColumnKind::Timestamp, &[]);
        assert_eq!(
            cell(&Value::Date(1970, 1, 2, 0, 0, 1, 5), &ts),
            Cell::SnapshotTimestamp { seconds: 86_401, micros: 5 }
        );
        assert_eq!(cell(&Value::Date(0, 0, 0, 0, 0, 0, 0), &ts), Cell::Timestamp { seconds: 0, micros: 0 });
        let d = plan(ColumnKind::Date, &[]);
        assert_eq!(cell(&Value::Date(2024, 2, 29, 0, 0, 0, 0), &d), Cell::Date { year: 2024, month: 2, day: 29 });
        let t = plan(ColumnKind::Time, &[]);
        assert_eq!(
            cell(&Value::Time(true, 1, 2, 3, 4, 5), &t),
            Cell::Time { negative: true, hours: 26, minutes: 3, seconds: 4, micros: 5 }
        );
        let dec = plan(ColumnKind::Decimal, &[]);
        assert_eq!(cell(&Value::Bytes(b"-1.50".to_vec()), &dec), Cell::DecimalText(b"-1.50"));
    }
}
