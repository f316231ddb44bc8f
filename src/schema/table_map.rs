//! A table's structure as the binlog itself describes it: TABLE_MAP events
//! written with `binlog_row_metadata=FULL` carry column names, signedness,
//! charsets, ENUM/SET literals and the primary key.
//!
//! This is what lets a lagging or replaying connector decode rows written
//! before a later `ALTER TABLE`: `information_schema` only knows the table as
//! it is now, the TABLE_MAP knows it as it was when the row was written.
//! What the binlog does not carry (defaults, declared display types) is taken
//! from the current definition for columns that still match by name and type.

use mysql_common::binlog::events::{OptionalMetadataField, TableMapEvent};
use mysql_common::constants::ColumnType;
use mysql_common::proto::MySerialize;

use super::{Column, ColumnKind, TableSchema};
use crate::decode::rows::{types, ColumnPlan};

/// MySQL collation id of `binary`.
const BINARY_COLLATION: u16 = 63;
/// latin1 collations (latin1_german1_ci, latin1_swedish_ci, ...).
const LATIN1_COLLATIONS: [u16; 8] = [5, 8, 15, 31, 47, 48, 49, 94];

fn is_numeric(raw: u8) -> bool {
    ColumnType::try_from(raw).is_ok_and(|t| t.is_numeric_type())
}

fn is_character(plan: &ColumnPlan) -> bool {
    matches!(plan.type_code, types::STRING | types::VARCHAR | types::VAR_STRING | types::BLOB)
}

/// Builds the structure from a TABLE_MAP with full metadata; `None` when the
/// event has no column names (`binlog_row_metadata=MINIMAL`).
pub fn from_table_map(tme: &TableMapEvent<'_>, plans: &[ColumnPlan], current: Option<&TableSchema>) -> Option<TableSchema> {
    build(tme, plans, current, false)
}

/// Name given to column `index` (0-based) when the binlog has no names.
pub fn synthetic_name(index: usize) -> String {
    format!("col_{}", index + 1)
}

/// [`from_table_map`] for a TABLE_MAP without column names (`binlog-cdc
/// replay --minimal-metadata=synthetic`): columns are named `col_1`,
/// `col_2`, …; what MINIMAL metadata still carries (types, signedness,
/// charsets) is used, ENUM/SET literals and the primary key are unknown.
pub fn from_table_map_unnamed(tme: &TableMapEvent<'_>, plans: &[ColumnPlan]) -> Option<TableSchema> {
    build(tme, plans, None, true)
}

fn build(tme: &TableMapEvent<'_>, plans: &[ColumnPlan], current: Option<&TableSchema>, synthetic: bool) -> Option<TableSchema> {
    let n = plans.len();
    let mut names: Option<Vec<String>> = None;
    let mut unsigned = vec![false; n];
    let mut charsets: Vec<Option<u16>> = vec![None; n];
    let mut enum_values: Vec<Vec<String>> = Vec::new();
    let mut set_values: Vec<Vec<String>> = Vec::new();
    let mut key: Vec<usize> = Vec::new();
    let raw_types: Vec<u8> = (0..n).map(|i| tme.get_raw_column_type(i).ok().flatten().map_or(0, |t| t as u8)).collect();
    let character_cols: Vec<usize> = (0..n).filter(|i| is_character(&plans[*i])).collect();

    for field in tme.iter_optional_meta() {
        match field.ok()? {
            OptionalMetadataField::ColumnName(cn) => {
                names = Some(cn.iter_names().filter_map(Result::ok).map(|c| c.name().into_owned()).collect());
            }
            OptionalMetadataField::Signedness(bits) => {
                let numeric: Vec<usize> = (0..n).filter(|i| is_numeric(raw_types[*i])).collect();
                for (bit, col) in bits.iter().zip(numeric) {
                    unsigned[col] = *bit;
                }
            }
            OptionalMetadataField::DefaultCharset(dc) => {
                for c in &character_cols {
                    charsets[*c] = Some(dc.default_charset());
                }
                for nd in dc.iter_non_default().filter_map(Result::ok) {
                    if let Some(c) = character_cols.get(nd.column_index() as usize) {
                        charsets[*c] = Some(nd.charset());
                    }
                }
            }
            OptionalMetadataField::ColumnCharset(cc) => {
                for (c, cs) in character_cols.iter().zip(cc.iter_charsets().filter_map(Result::ok)) {
                    charsets[*c] = Some(cs);
                }
            }
            // mysql_common's own iterators preallocate the count the bytes
            // claim (a corrupt event would abort the process): parse the
            // raw field with bounds instead.
            OptionalMetadataField::EnumStrValue(v) => {
                let mut raw = Vec::new();
                v.serialize(&mut raw);
                enum_values = str_values(&raw)?;
            }
            OptionalMetadataField::SetStrValue(v) => {
                let mut raw = Vec::new();
                v.serialize(&mut raw);
                set_values = str_values(&raw)?;
            }
            OptionalMetadataField::SimplePrimaryKey(pk) => {
                key = pk.iter_indexes().filter_map(Result::ok).map(|i| i as usize).collect();
            }
            OptionalMetadataField::PrimaryKeyWithPrefix(pk) => {
                key = pk.iter_keys().filter_map(Result::ok).map(|k| k.column_index() as usize).collect();
            }
            _ => {}
        }
    }
    let names = match names {
        Some(n) => n,
        None if synthetic => (0..n).map(synthetic_name).collect(),
        None => return None,
    };
    if names.len() != n || key.iter().any(|k| *k >= n) {
        return None;
    }
    let nulls = tme.null_bitmask();
    let (mut enums, mut sets) = (enum_values.into_iter(), set_values.into_iter());
    let mut columns = Vec::with_capacity(n);
    for (i, plan) in plans.iter().enumerate() {
        let charset = charsets[i];
        let binary = charset == Some(BINARY_COLLATION);
        let kind = kind_of(plan, binary)?;
        let values = match kind {
            ColumnKind::Enum => enums.next().unwrap_or_default(),
            ColumnKind::Set => sets.next().unwrap_or_default(),
            _ => Vec::new(),
        };
        let mut col = Column {
            name: names[i].clone(),
            kind,
            type_name: format!("{kind:?}").to_ascii_uppercase(),
            column_type: String::new(),
            unsigned: unsigned[i],
            nullable: nulls.get(i).is_some_and(|b| *b),
            length: match kind {
                ColumnKind::Bit => Some(u64::from(plan.meta2) * 8 + u64::from(plan.meta)),
                ColumnKind::Binary => Some(u64::from(plan.meta2)),
                _ => None,
            },
            precision: (kind == ColumnKind::Decimal).then_some(u32::from(plan.meta)),
            scale: (kind == ColumnKind::Decimal).then_some(u32::from(plan.meta2)),
            fsp: match plan.type_code {
                types::TIME2 | types::DATETIME2 | types::TIMESTAMP2 => plan.meta as u8,
                _ => 0,
            },
            charset: charset.map(|c| if LATIN1_COLLATIONS.contains(&c) { "latin1".into() } else { "utf8mb4".into() }),
            enum_values: values,
            default: None,
            generated: false,
            auto_increment: false,
            comment: None,
        };
        // Keep what only the current definition knows when the column is the same.
        if let Some(cur) = current.and_then(|t| t.columns.iter().find(|c| c.name == col.name && c.kind == col.kind)) {
            col.type_name = cur.type_name.clone();
            col.column_type = cur.column_type.clone();
            col.default = cur.default.clone();
            col.length = cur.length.or(col.length);
            col.generated = cur.generated;
            col.auto_increment = cur.auto_increment;
            col.comment = cur.comment.clone();
        }
        columns.push(col);
    }
    Some(TableSchema {
        db: tme.database_name().into_owned(),
        table: tme.table_name().into_owned(),
        columns,
        primary_key: !key.is_empty(),
        key,
        charset: current.and_then(|t| t.charset.clone()),
        comment: current.and_then(|t| t.comment.clone()),
    })
}

/// ENUM/SET literals of every such column: per column a length-encoded
/// count, then that many length-encoded strings. `None` if the bytes do not
/// hold what they claim.
fn str_values(mut raw: &[u8]) -> Option<Vec<Vec<String>>> {
    fn lenenc(buf: &mut &[u8]) -> Option<u64> {
        let (&first, rest) = buf.split_first()?;
        let n = match first {
            0..=250 => {
                *buf = rest;
                return Some(u64::from(first));
            }
            0xfc => 2,
            0xfd => 3,
            0xfe => 8,
            _ => return None,
        };
        let bytes = rest.get(..n)?;
        *buf = &rest[n..];
        Some(bytes.iter().rev().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }
    let mut columns = Vec::new();
    while !raw.is_empty() {
        let count = lenenc(&mut raw)?;
        // Every literal takes at least its length byte.
        if count > raw.len() as u64 {
            return None;
        }
        let mut values = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let len = usize::try_from(lenenc(&mut raw)?).ok()?;
            let bytes = raw.get(..len)?;
            values.push(String::from_utf8_lossy(bytes).into_owned());
            raw = &raw[len..];
        }
        columns.push(values);
    }
    Some(columns)
}

fn kind_of(plan: &ColumnPlan, binary: bool) -> Option<ColumnKind> {
    use types::*;
    use ColumnKind::*;
    Some(match plan.type_code {
        TINY => TinyInt,
        SHORT => SmallInt,
        INT24 => MediumInt,
        LONG => Int,
        LONGLONG => BigInt,
        NEWDECIMAL | DECIMAL => Decimal,
        FLOAT => Float,
        DOUBLE => Double,
        BIT => Bit,
        STRING if binary => Binary,
        STRING => Char,
        VARCHAR | VAR_STRING if binary => VarBinary,
        VARCHAR | VAR_STRING => VarChar,
        BLOB | TINY_BLOB | MEDIUM_BLOB | LONG_BLOB if binary => Blob,
        BLOB | TINY_BLOB | MEDIUM_BLOB | LONG_BLOB => Text,
        JSON => Json,
        ENUM => Enum,
        SET => Set,
        DATE | NEWDATE => Date,
        TIME | TIME2 => Time,
        DATETIME | DATETIME2 => DateTime,
        TIMESTAMP | TIMESTAMP2 => Timestamp,
        YEAR => Year,
        GEOMETRY => Geometry,
        VECTOR => Vector,
        _ => return None,
    })
}

#[cfg(test)]
mod str_values_tests {
    use super::str_values;

    #[test]
    fn parses_literals_and_refuses_impossible_counts() {
        assert_eq!(str_values(&[2, 1, b'a', 2, b'b', b'c', 1, 1, b'x']), Some(vec![vec!["a".into(), "bc".into()], vec!["x".into()]]));
        // A count of 2^56 with three bytes behind it.
        assert_eq!(str_values(&[0xfe, 0, 0, 0, 0, 0, 0, 0, 1, 1, b'a']), None);
        assert_eq!(str_values(&[1, 5, b'a']), None);
        assert_eq!(str_values(&[]), Some(vec![]));
    }
}
