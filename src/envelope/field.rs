//! One column's Debezium mapping (spec §5): its Connect schema and how a
//! cell becomes payload JSON. Decided once per table version, applied per row.

use crate::decode::cell::Cell;
use crate::decode::decimal;
use crate::schema::{Column, ColumnKind};

use super::json;
use super::temporal;
use super::Modes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalMode {
    Precise,
    Double,
    String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePrecisionMode {
    AdaptiveTimeMicroseconds,
    Connect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BigintUnsignedMode {
    Long,
    Precise,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryMode {
    Bytes,
    Base64,
    Base64UrlSafe,
    Hex,
}

/// How a column's cells are written.
#[derive(Debug, Clone, PartialEq)]
enum Writer {
    Integer,
    /// BIGINT UNSIGNED in `long` mode: values above i64::MAX wrap negative.
    UnsignedLong,
    UnsignedPrecise,
    Decimal(DecimalMode),
    Float32,
    Float64,
    Boolean,
    Bits { bytes: usize },
    Text { latin1: bool },
    Binary { mode: BinaryMode, pad_to: Option<usize> },
    Enum(Vec<String>),
    Set(Vec<String>),
    Json,
    Date,
    Time { connect: bool },
    DateTimeMillis,
    DateTimeMicros,
    ZonedTimestamp { fsp: u8 },
    Year,
}

/// A column's precomputed mapping.
#[derive(Debug, Clone)]
pub struct Field {
    writer: Writer,
    /// `"name":` ready to copy into an object.
    pub name_prefix: Vec<u8>,
    /// The schema JSON of this field (with `"field":"name"`).
    pub schema: Vec<u8>,
    /// Payload JSON printed for a NULL cell (`null`, or the column default:
    /// Connect's `Struct.get` substitutes defaults, spec §0).
    null_json: Vec<u8>,
}

impl Field {
    pub fn new(col: &Column, modes: &Modes) -> Field {
        let writer = writer_for(col, modes);
        let (type_name, logical, version, params) = schema_parts(col, &writer, modes);
        let default_json = col
            .default
            .as_deref()
            .and_then(|d| default_payload(d, col, &writer));
        let mut name_prefix = Vec::new();
        json::string(&mut name_prefix, &col.name);
        name_prefix.push(b':');

        let mut schema = Vec::with_capacity(96);
        schema.extend_from_slice(b"{\"type\":");
        json::string(&mut schema, type_name);
        schema.extend_from_slice(b",\"optional\":");
        json::boolean(&mut schema, col.nullable);
        if let Some(name) = logical {
            schema.extend_from_slice(b",\"name\":");
            json::string(&mut schema, name);
        }
        if let Some(v) = version {
            schema.extend_from_slice(b",\"version\":");
            json::int(&mut schema, v);
        }
        if !params.is_empty() {
            schema.extend_from_slice(b",\"parameters\":{");
            for (i, (k, v)) in params.iter().enumerate() {
                if i > 0 {
                    schema.push(b',');
                }
                json::string(&mut schema, k);
                schema.push(b':');
                json::string(&mut schema, v);
            }
            schema.push(b'}');
        }
        if let Some(d) = &default_json {
            schema.extend_from_slice(b",\"default\":");
            schema.extend_from_slice(d);
        }
        schema.extend_from_slice(b",\"field\":");
        json::string(&mut schema, &col.name);
        schema.push(b'}');

        let null_json = default_json.unwrap_or_else(|| b"null".to_vec());
        Field { writer, name_prefix, schema, null_json }
    }

    /// Writes the payload JSON of one cell.
    pub fn write(&self, out: &mut Vec<u8>, cell: &Cell<'_>) {
        write_cell(out, &self.writer, cell, &self.null_json);
    }
}

fn writer_for(col: &Column, modes: &Modes) -> Writer {
    use ColumnKind::*;
    match col.kind {
        TinyInt | SmallInt | MediumInt | Int => Writer::Integer,
        BigInt if col.unsigned => match modes.bigint_unsigned {
            BigintUnsignedMode::Long => Writer::UnsignedLong,
            BigintUnsignedMode::Precise => Writer::UnsignedPrecise,
        },
        BigInt => Writer::Integer,
        Decimal => Writer::Decimal(modes.decimal),
        Float if col.column_type.contains(',') => Writer::Float64,
        Float => Writer::Float32,
        Double => Writer::Float64,
        Bit if col.length.unwrap_or(1) <= 1 => Writer::Boolean,
        Bit => Writer::Bits { bytes: col.length.unwrap_or(1).div_ceil(8) as usize },
        Char | VarChar | Text => Writer::Text { latin1: is_latin1(col) },
        Binary => Writer::Binary { mode: modes.binary, pad_to: col.length.map(|l| l as usize) },
        VarBinary | Blob | Geometry | Point | Uuid | Inet4 | Inet6 | Vector => {
            Writer::Binary { mode: modes.binary, pad_to: None }
        }
        Enum => Writer::Enum(col.enum_values.clone()),
        Set => Writer::Set(col.enum_values.clone()),
        Json => Writer::Json,
        Date => Writer::Date,
        Time => Writer::Time { connect: modes.time == TimePrecisionMode::Connect },
        DateTime if modes.time == TimePrecisionMode::Connect || col.fsp <= 3 => Writer::DateTimeMillis,
        DateTime => Writer::DateTimeMicros,
        Timestamp => Writer::ZonedTimestamp { fsp: col.fsp },
        Year => Writer::Year,
    }
}

fn is_latin1(col: &Column) -> bool {
    col.charset.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("latin1"))
}

type SchemaParts = (&'static str, Option<&'static str>, Option<i64>, Vec<(&'static str, String)>);

fn schema_parts(col: &Column, writer: &Writer, modes: &Modes) -> SchemaParts {
    use ColumnKind::*;
    let int_type = match (col.kind, col.unsigned) {
        (TinyInt, false) => "int8",
        (TinyInt, true) | (SmallInt, false) => "int16",
        (SmallInt, true) | (MediumInt, _) | (Int, false) => "int32",
        _ => "int64",
    };
    let connect = modes.time == TimePrecisionMode::Connect;
    match writer {
        Writer::Integer | Writer::UnsignedLong => (int_type, None, None, vec![]),
        Writer::UnsignedPrecise => (
            "bytes",
            Some("org.apache.kafka.connect.data.Decimal"),
            Some(1),
            vec![("scale", "0".into()), ("connect.decimal.precision", "20".into())],
        ),
        Writer::Decimal(DecimalMode::Precise) => (
            "bytes",
            Some("org.apache.kafka.connect.data.Decimal"),
            Some(1),
            vec![
                ("scale", col.scale.unwrap_or(0).to_string()),
                ("connect.decimal.precision", col.precision.unwrap_or(10).to_string()),
            ],
        ),
        Writer::Decimal(DecimalMode::Double) | Writer::Float64 => ("double", None, None, vec![]),
        Writer::Decimal(DecimalMode::String) => ("string", None, None, vec![]),
        Writer::Float32 => ("float", None, None, vec![]),
        Writer::Boolean => ("boolean", None, None, vec![]),
        Writer::Bits { .. } => (
            "bytes",
            Some("io.debezium.data.Bits"),
            Some(1),
            vec![("length", col.length.unwrap_or(1).to_string())],
        ),
        Writer::Text { .. } => ("string", None, None, vec![]),
        Writer::Binary { mode, .. } => {
            (if *mode == BinaryMode::Bytes { "bytes" } else { "string" }, None, None, vec![])
        }
        Writer::Enum(values) => {
            ("string", Some("io.debezium.data.Enum"), Some(1), vec![("allowed", allowed(values))])
        }
        Writer::Set(values) => {
            ("string", Some("io.debezium.data.EnumSet"), Some(1), vec![("allowed", allowed(values))])
        }
        Writer::Json => ("string", Some("io.debezium.data.Json"), Some(1), vec![]),
        Writer::Date if connect => ("int32", Some("org.apache.kafka.connect.data.Date"), Some(1), vec![]),
        Writer::Date => ("int32", Some("io.debezium.time.Date"), Some(1), vec![]),
        Writer::Time { connect: true } => ("int32", Some("org.apache.kafka.connect.data.Time"), Some(1), vec![]),
        Writer::Time { connect: false } => ("int64", Some("io.debezium.time.MicroTime"), Some(1), vec![]),
        Writer::DateTimeMillis if connect => {
            ("int64", Some("org.apache.kafka.connect.data.Timestamp"), Some(1), vec![])
        }
        Writer::DateTimeMillis => ("int64", Some("io.debezium.time.Timestamp"), Some(1), vec![]),
        Writer::DateTimeMicros => ("int64", Some("io.debezium.time.MicroTimestamp"), Some(1), vec![]),
        Writer::ZonedTimestamp { .. } => ("string", Some("io.debezium.time.ZonedTimestamp"), Some(1), vec![]),
        Writer::Year => ("int32", Some("io.debezium.time.Year"), Some(1), vec![]),
    }
}

/// ENUM/SET literals joined by `,` with `\` and `,` escaped.
fn allowed(values: &[String]) -> String {
    let mut s = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        for c in v.chars() {
            if c == ',' || c == '\\' {
                s.push('\\');
            }
            s.push(c);
        }
    }
    s
}

fn write_decimal_text(out: &mut Vec<u8>, text: &decimal::DecimalText, mode: DecimalMode) {
    match mode {
        DecimalMode::Precise => {
            let (bytes, len) = text.unscaled_bytes();
            json::base64_std(out, &bytes[..len]);
        }
        DecimalMode::Double => json::double(out, text.as_str().parse().unwrap_or(0.0)),
        DecimalMode::String => json::string(out, text.as_str()),
    }
}

fn write_binary(out: &mut Vec<u8>, bytes: &[u8], mode: BinaryMode) {
    match mode {
        BinaryMode::Bytes | BinaryMode::Base64 => json::base64_std(out, bytes),
        BinaryMode::Base64UrlSafe => json::base64_url(out, bytes),
        BinaryMode::Hex => json::hex(out, bytes),
    }
}

fn write_cell(out: &mut Vec<u8>, writer: &Writer, cell: &Cell<'_>, null_json: &[u8]) {
    match (writer, *cell) {
        (_, Cell::Null | Cell::Absent) => out.extend_from_slice(null_json),
        (Writer::Integer | Writer::UnsignedLong | Writer::Year, Cell::Int(v)) => json::int(out, v),
        (Writer::Integer | Writer::Year, Cell::UInt(v)) => json::uint(out, v),
        (Writer::UnsignedLong, Cell::UInt(v)) => json::int(out, v as i64),
        (Writer::UnsignedPrecise, Cell::UInt(v)) => {
            let text = decimal::DecimalText::from_integer(v);
            write_decimal_text(out, &text, DecimalMode::Precise)
        }
        (Writer::UnsignedPrecise, Cell::Int(v)) => {
            let text = decimal::DecimalText::from_integer(v as u64);
            write_decimal_text(out, &text, DecimalMode::Precise)
        }
        (Writer::Decimal(mode), Cell::Decimal { bin, precision, scale }) => {
            match decimal::decode(bin, precision, scale) {
                Some(text) => write_decimal_text(out, &text, *mode),
                None => out.extend_from_slice(null_json),
            }
        }
        (Writer::Float32, Cell::Float(v)) => json::float(out, v),
        (Writer::Float64, Cell::Double(v)) => json::double(out, v),
        (Writer::Float64, Cell::Float(v)) => json::double(out, f64::from(v)),
        (Writer::Float32, Cell::Double(v)) => json::float(out, v as f32),
        (Writer::Boolean, Cell::Bits(b)) => json::boolean(out, b.iter().any(|x| *x != 0)),
        (Writer::Bits { bytes }, Cell::Bits(b)) => {
            // Stored big-endian; Debezium wants little-endian, zero-padded.
            let mut le = [0u8; 8];
            for (i, byte) in b.iter().rev().take(8).enumerate() {
                le[i] = *byte;
            }
            json::base64_std(out, &le[..(*bytes).clamp(1, 8)]);
        }
        (Writer::Text { latin1 }, Cell::Bytes(b)) => json::string_from_charset(out, b, *latin1),
        (Writer::Json, Cell::Bytes(b)) => json::string_from_charset(out, b, false),
        (Writer::Json, Cell::JsonBinary(b)) => super::jsonb::write(out, b),
        (Writer::Binary { mode, pad_to }, Cell::Bytes(b)) => match pad_to {
            Some(n) if b.len() < *n && *n <= 255 => {
                let mut padded = [0u8; 255];
                padded[..b.len()].copy_from_slice(b);
                write_binary(out, &padded[..*n], *mode)
            }
            _ => write_binary(out, b, *mode),
        },
        (Writer::Enum(values), Cell::Enum(i)) => {
            let v = (i as usize).checked_sub(1).and_then(|i| values.get(i));
            json::string(out, v.map(String::as_str).unwrap_or(""));
        }
        (Writer::Set(values), Cell::Set(bits)) => {
            out.push(b'"');
            let mut first = true;
            for (i, v) in values.iter().enumerate().take(64) {
                if bits & (1 << i) != 0 {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    json::escaped(out, v.as_bytes());
                }
            }
            out.push(b'"');
        }
        (Writer::Year, Cell::Year(y)) => json::int(out, i64::from(y)),
        (Writer::Date, Cell::Date { year, month, day }) => {
            match temporal::days_from_civil(year, month, day) {
                Some(d) => json::int(out, d),
                None => out.extend_from_slice(null_json),
            }
        }
        (Writer::Time { connect }, Cell::Time { negative, hours, minutes, seconds, micros }) => {
            let us = temporal::time_micros(negative, hours, minutes, seconds, micros);
            json::int(out, if *connect { us.div_euclid(1000) } else { us })
        }
        (Writer::DateTimeMillis | Writer::DateTimeMicros, Cell::DateTime { year, month, day, hour, minute, second, micros }) => {
            match temporal::datetime_micros(year, month, day, hour, minute, second, micros) {
                Some(us) if *writer == Writer::DateTimeMicros => json::int(out, us),
                Some(us) => json::int(out, us.div_euclid(1000)),
                None => out.extend_from_slice(null_json),
            }
        }
        (Writer::ZonedTimestamp { fsp }, Cell::Timestamp { seconds, micros }) => {
            if seconds == 0 && micros == 0 {
                out.extend_from_slice(null_json);
            } else {
                temporal::write_zoned(out, i64::from(seconds), micros, *fsp);
            }
        }
        // A cell whose binlog type does not fit the declared column type:
        // the catalog check should prevent this; print null rather than garbage.
        _ => out.extend_from_slice(null_json),
    }
}

/// The payload JSON of a column default as `COLUMN_DEFAULT` prints it
/// (MariaDB: quoted literals, `NULL`, or an expression such as
/// `current_timestamp()`).
fn default_payload(raw: &str, col: &Column, writer: &Writer) -> Option<Vec<u8>> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("NULL") {
        return None;
    }
    let literal = match raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        Some(inner) => inner.replace("''", "'").replace("\\\\", "\\"),
        None => raw.to_string(),
    };
    let is_expression = !raw.starts_with('\'') && raw.ends_with(')');
    let mut out = Vec::new();
    match writer {
        Writer::Integer | Writer::UnsignedLong | Writer::Year => {
            let v: i128 = literal.parse().ok()?;
            json::int(&mut out, v as i64)
        }
        Writer::UnsignedPrecise => {
            let v: u64 = literal.parse().ok()?;
            write_decimal_text(&mut out, &decimal::DecimalText::from_integer(v), DecimalMode::Precise)
        }
        Writer::Decimal(mode) => {
            let text = decimal::DecimalText::parse(&literal, col.scale.unwrap_or(0) as u8)?;
            write_decimal_text(&mut out, &text, *mode)
        }
        Writer::Float32 => json::float(&mut out, literal.parse().ok()?),
        Writer::Float64 => json::double(&mut out, literal.parse().ok()?),
        Writer::Text { .. } | Writer::Enum(_) | Writer::Set(_) | Writer::Json => {
            if is_expression {
                return None;
            }
            json::string(&mut out, &literal)
        }
        Writer::Boolean => {
            let v = temporal::bit_literal(&literal)?;
            json::boolean(&mut out, v != 0)
        }
        Writer::ZonedTimestamp { fsp } => {
            if is_expression || literal.starts_with("0000") {
                temporal::write_zoned(&mut out, 0, 0, *fsp)
            } else {
                let us = temporal::parse_datetime_micros(&literal)?;
                temporal::write_zoned(&mut out, us.div_euclid(1_000_000), us.rem_euclid(1_000_000) as u32, *fsp)
            }
        }
        Writer::DateTimeMillis | Writer::DateTimeMicros => {
            let us = if is_expression { 0 } else { temporal::parse_datetime_micros(&literal)? };
            json::int(&mut out, if *writer == Writer::DateTimeMicros { us } else { us.div_euclid(1000) })
        }
        Writer::Date => {
            let us = temporal::parse_datetime_micros(&literal)?;
            json::int(&mut out, us.div_euclid(86_400_000_000))
        }
        Writer::Time { connect } => {
            let us = temporal::parse_time_micros(&literal)?;
            json::int(&mut out, if *connect { us.div_euclid(1000) } else { us })
        }
        Writer::Bits { .. } | Writer::Binary { .. } => return None,
    }
    Some(out)
}
