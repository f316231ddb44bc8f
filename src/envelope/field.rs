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
    /// MariaDB UUID: 16 bytes, printed as a lower-case canonical UUID.
    Uuid,
    /// SRID + WKB as `io.debezium.data.geometry.Geometry` {wkb, srid}.
    Geometry,
    /// SRID + WKB as `io.debezium.data.geometry.Point` {x, y, wkb, srid}.
    Point,
    /// VECTOR: little-endian float32s as `io.debezium.data.FloatVector`
    /// (array<float32>).
    FloatVector,
}

/// Struct members of Debezium's geometry schemas (spec §5.4; Debezium 3.5
/// writes Geometry version 1 without `extensions`).
const GEOMETRY_FIELDS: &[u8] = b"[{\"type\":\"bytes\",\"optional\":false,\"field\":\"wkb\"},\
{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}]";
const POINT_FIELDS: &[u8] = b"[{\"type\":\"double\",\"optional\":false,\"field\":\"x\"},\
{\"type\":\"double\",\"optional\":false,\"field\":\"y\"},\
{\"type\":\"bytes\",\"optional\":true,\"field\":\"wkb\"},\
{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}]";

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
    /// The column is nullable (what Debezium prints for unreadable JSON).
    optional: bool,
    /// Connect-mode temporal (java.util.Date in Connect): headers print it
    /// as a date/time string.
    header_date: bool,
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
        let (struct_fields, doc): (Option<&[u8]>, Option<&str>) = match writer {
            Writer::Geometry => (Some(GEOMETRY_FIELDS), Some("Geometry")),
            Writer::Point => (Some(POINT_FIELDS), Some("Geometry (POINT)")),
            _ => (None, None),
        };
        if let Some(fields) = struct_fields {
            schema.extend_from_slice(b",\"fields\":");
            schema.extend_from_slice(fields);
        }
        if writer == Writer::FloatVector {
            schema.extend_from_slice(b",\"items\":{\"type\":\"float\",\"optional\":false}");
        }
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
        if let Some(doc) = doc {
            schema.extend_from_slice(b",\"doc\":");
            json::string(&mut schema, doc);
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

        // Debezium's converters turn a missing value of a NOT NULL column
        // (a zero date arrives as null) into the schema default, else a
        // per-type fallback (`JdbcValueConverters.convertValue`).
        let null_json = default_json.unwrap_or_else(|| match (col.nullable, &writer) {
            (false, Writer::Date | Writer::DateTimeMillis | Writer::DateTimeMicros | Writer::Time { .. }) => {
                b"0".to_vec()
            }
            (false, Writer::ZonedTimestamp { .. }) => b"\"1970-01-01T00:00:00Z\"".to_vec(),
            _ => b"null".to_vec(),
        });
        let header_date = modes.time == TimePrecisionMode::Connect
            && matches!(writer, Writer::Date | Writer::Time { .. } | Writer::DateTimeMillis);
        Field { writer, name_prefix, schema, null_json, optional: col.nullable, header_date }
    }

    /// Writes the cell as a member of a struct-valued Kafka header
    /// (`__debezium.newkey`/`oldkey`): Kafka Connect's default
    /// `SimpleHeaderConverter` prints structs with `Values.append`, which
    /// differs from JSON: strings escape only `\\` and `"`, decimals are
    /// `BigDecimal.toString()`, bytes base64, and Connect Date/Time/Timestamp
    /// values go through `SimpleDateFormat` (JVM time zone, UTC here).
    pub fn write_header(&self, out: &mut Vec<u8>, cell: &Cell<'_>) {
        let mut json_out = Vec::new();
        self.write(&mut json_out, cell);
        if json_out == b"null" {
            out.extend_from_slice(b"null");
            return;
        }
        if let Some(text) = self.decimal_text(cell) {
            out.extend_from_slice(big_decimal_string(&text).as_bytes());
            return;
        }
        if self.header_date {
            if let Some(v) = std::str::from_utf8(&json_out).ok().and_then(|t| t.parse::<i64>().ok()) {
                let ms = if self.writer == Writer::Date { v * 86_400_000 } else { v };
                out.extend_from_slice(java_date_format(ms).as_bytes());
                return;
            }
        }
        if json_out.first() == Some(&b'"') {
            if let Ok(text) = serde_json::from_slice::<String>(&json_out) {
                values_string(out, &text);
                return;
            }
        }
        out.extend_from_slice(&json_out);
    }

    /// The plain decimal text of a precise DECIMAL / BIGINT UNSIGNED cell.
    fn decimal_text(&self, cell: &Cell<'_>) -> Option<String> {
        match (&self.writer, *cell) {
            (Writer::Decimal(DecimalMode::Precise), Cell::Decimal { bin, precision, scale }) => {
                decimal::decode(bin, precision, scale).map(|t| t.as_str().to_string())
            }
            (Writer::Decimal(DecimalMode::Precise), Cell::DecimalText(t)) => std::str::from_utf8(t).ok().map(str::to_string),
            (Writer::UnsignedPrecise, Cell::UInt(v)) => Some(v.to_string()),
            (Writer::UnsignedPrecise, Cell::Int(v)) => Some((v as u64).to_string()),
            _ => None,
        }
    }

    /// `"name":` for a header struct (Values escaping).
    pub fn header_name(&self, out: &mut Vec<u8>, name: &str) {
        values_string(out, name);
        out.push(b':');
    }

    /// Writes the payload JSON of one cell.
    pub fn write(&self, out: &mut Vec<u8>, cell: &Cell<'_>) {
        if let (Writer::Json, Cell::JsonBinary(bin)) = (&self.writer, cell) {
            return write_json_binary(out, bin, self.optional);
        }
        write_cell(out, &self.writer, cell, &self.null_json);
    }
}

/// MySQL binary JSON as Debezium's `convertJson` prints it: the binlog
/// client's text, or for an empty or unreadable value null (`"{}"` when
/// the column is NOT NULL).
fn write_json_binary(out: &mut Vec<u8>, bin: &[u8], optional: bool) {
    match (!bin.is_empty()).then(|| super::jsonb::render(bin)) {
        Some(Ok(text)) => json::string(out, &text),
        _ if optional => out.extend_from_slice(b"null"),
        _ => json::string(out, "{}"),
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
        Uuid => Writer::Uuid,
        Geometry => Writer::Geometry,
        Point => Writer::Point,
        Vector => Writer::FloatVector,
        VarBinary | Blob | Inet4 | Inet6 => {
            Writer::Binary { mode: modes.binary, pad_to: None }
        }
        Enum => Writer::Enum(col.enum_values.clone()),
        Set => Writer::Set(col.enum_values.clone()),
        // MariaDB's JSON is LONGTEXT + CHECK(json_valid): SHOW CREATE TABLE
        // prints `longtext`, and Debezium then maps it as a plain string
        // (only a streamed `CREATE TABLE ... JSON` gets io.debezium.data.Json).
        Json if col.column_type.eq_ignore_ascii_case("longtext") => Writer::Text { latin1: false },
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
        // Debezium maps every TINYINT to int16 (JdbcValueConverters: Types.TINYINT
        // is read as a short, whatever the signedness).
        (TinyInt, _) | (SmallInt, false) => "int16",
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
        Writer::Uuid => ("string", Some("io.debezium.data.Uuid"), Some(1), vec![]),
        Writer::Geometry => ("struct", Some("io.debezium.data.geometry.Geometry"), Some(1), vec![]),
        Writer::Point => ("struct", Some("io.debezium.data.geometry.Point"), Some(1), vec![]),
        Writer::FloatVector => ("array", Some("io.debezium.data.FloatVector"), Some(1), vec![]),
    }
}

/// `FloatVector.fromLogical(Field, byte[])`: little-endian float32s; a
/// length that is not a multiple of 4 gives `[]` (Debezium logs a warning).
fn write_float_vector(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'[');
    if bytes.len() % 4 == 0 {
        for (i, chunk) in bytes.chunks_exact(4).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json::float(out, f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
        }
    }
    out.push(b']');
}

/// ENUM/SET literals joined by `,` with `\\` and `,` escaped.
fn allowed(values: &[String]) -> String {
    let mut s = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        push_enum_literal(&mut s, v);
    }
    s
}

/// One ENUM/SET literal with `,` and `\\` escaped by a backslash. Debezium
/// keeps its option list in this escaped form and prints row values from
/// it, so an ENUM value `b,c` is emitted as `b\,c` (a Debezium quirk that
/// consumers see, hence reproduced).
fn push_enum_literal(s: &mut String, v: &str) {
    for c in v.chars() {
        if c == ',' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
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
        (Writer::Decimal(mode), Cell::DecimalText(t)) => {
            let text = std::str::from_utf8(t).ok().and_then(|s| {
                let scale = s.split_once('.').map_or(0, |(_, f)| f.len());
                decimal::DecimalText::parse(s, scale as u8)
            });
            match text {
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
        (Writer::Binary { mode, pad_to }, Cell::Bytes(b)) => match pad_to {
            Some(n) if b.len() < *n && *n <= 255 => {
                let mut padded = [0u8; 255];
                padded[..b.len()].copy_from_slice(b);
                write_binary(out, &padded[..*n], *mode)
            }
            _ => write_binary(out, b, *mode),
        },
        (Writer::Enum(values), Cell::Enum(i)) => {
            let mut v = String::new();
            if let Some(lit) = (i as usize).checked_sub(1).and_then(|i| values.get(i)) {
                push_enum_literal(&mut v, lit);
            }
            json::string(out, &v);
        }
        (Writer::Set(values), Cell::Set(bits)) => {
            let (mut v, mut first) = (String::new(), true);
            for (i, lit) in values.iter().enumerate().take(64) {
                if bits & (1 << i) != 0 {
                    if !first {
                        v.push(',');
                    }
                    first = false;
                    push_enum_literal(&mut v, lit);
                }
            }
            json::string(out, &v);
        }
        // The binlog stores YEAR as year - 1900, and Debezium's binlog client
        // adds 1900 back even to the zero year: `0000` is emitted as 1900.
        (Writer::Year, Cell::Year(0)) => json::int(out, 1900),
        (Writer::Year, Cell::Year(y)) => json::int(out, i64::from(y)),
        // Year 0 (even with a month and day) is a zero date: null.
        (Writer::Date, Cell::Date { year: 0, .. }) | (Writer::DateTimeMillis | Writer::DateTimeMicros, Cell::DateTime { year: 0, .. }) => {
            out.extend_from_slice(null_json)
        }
        (Writer::Date, Cell::Date { year, month, day }) => {
            let year = temporal::adjust_two_digit_year(year);
            match temporal::days_from_civil(year, month, day) {
                Some(d) => json::int(out, d),
                None => out.extend_from_slice(null_json),
            }
        }
        (Writer::Time { connect }, Cell::Time { negative, hours, minutes, seconds, micros }) => {
            let us = temporal::time_micros(negative, hours, minutes, seconds, micros);
            if *connect && !(0..86_400_000_000).contains(&us) {
                // Connect's Time is a time of day: Debezium fails to convert
                // negative or 24h+ values and emits null (with a warning).
                out.extend_from_slice(null_json)
            } else {
                json::int(out, if *connect { us.div_euclid(1000) } else { us })
            }
        }
        (Writer::DateTimeMillis | Writer::DateTimeMicros, Cell::DateTime { year, month, day, hour, minute, second, micros }) => {
            let year = temporal::adjust_two_digit_year(year);
            match temporal::datetime_micros(year, month, day, hour, minute, second, micros) {
                Some(us) if *writer == Writer::DateTimeMicros => json::int(out, us),
                Some(us) => json::int(out, us.div_euclid(1000)),
                None => out.extend_from_slice(null_json),
            }
        }
        // A zero TIMESTAMP is 0 in the binlog: Debezium prints the epoch.
        (Writer::ZonedTimestamp { fsp }, Cell::Timestamp { seconds, micros }) => {
            temporal::write_zoned(out, i64::from(seconds), micros, *fsp);
        }
        (Writer::ZonedTimestamp { .. }, Cell::SnapshotTimestamp { seconds, micros }) => {
            let digits = (0..=6u32).find(|d| micros % 10u32.pow(6 - d) == 0).unwrap_or(6);
            temporal::write_zoned(out, i64::from(seconds), micros, digits as u8);
        }
        (Writer::Enum(_) | Writer::Set(_), Cell::EnumText(b)) => json::string_from_charset(out, b, false),
        (Writer::Uuid, Cell::Bytes(b)) => write_uuid(out, b),
        (Writer::FloatVector, Cell::Bytes(b)) => write_float_vector(out, b),
        (Writer::Geometry | Writer::Point, Cell::Bytes(b)) => write_geometry(out, b, *writer == Writer::Point),
        // A cell whose binlog type does not fit the declared column type:
        // the catalog check should prevent this; print null rather than garbage.
        _ => out.extend_from_slice(null_json),
    }
}

/// A string as `Values.append` quotes it: only `\\` and `"` are escaped.
fn values_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        if c == '\\' || c == '"' {
            out.push(b'\\');
        }
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    out.push(b'"');
}

/// Java's `BigDecimal.toString()` of a plain decimal text (`-12.50`):
/// plain unless the adjusted exponent is below -6, then `1.2345E-36`.
fn big_decimal_string(plain: &str) -> String {
    let (negative, body) = match plain.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, plain),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let scale = frac.len() as i64;
    let digits: String = format!("{int}{frac}").trim_start_matches('0').to_string();
    let digits = if digits.is_empty() { "0".to_string() } else { digits };
    let adjusted = digits.len() as i64 - 1 - scale;
    if scale == 0 || adjusted >= -6 {
        return plain.to_string();
    }
    let mut s = String::new();
    if negative {
        s.push('-');
    }
    s.push_str(&digits[..1]);
    if digits.len() > 1 {
        s.push('.');
        s.push_str(&digits[1..]);
    }
    s.push('E');
    s.push_str(&adjusted.to_string());
    s
}

/// Kafka Connect `Values.dateFormatFor` + `SimpleDateFormat.format` (UTC):
/// below one day after the epoch (negative too) `HH:mm:ss.SSS'Z'`, whole
/// days `yyyy-MM-dd`, else `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`.
fn java_date_format(ms: i64) -> String {
    const DAY: i64 = 86_400_000;
    let tod = ms.rem_euclid(DAY);
    let time = format!("{:02}:{:02}:{:02}.{:03}Z", tod / 3_600_000, tod / 60_000 % 60, tod / 1000 % 60, tod % 1000);
    if ms < DAY {
        return time;
    }
    let (y, m, d) = temporal::civil_from_days(ms.div_euclid(DAY));
    if tod == 0 {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{time}")
    }
}

/// MariaDB's UUID type: 16 bytes in the binlog, trailing zero bytes
/// stripped like any fixed-length binary string. Debezium pads a shortened
/// value on the *left*, so `123e4567-e89b-12d3-a456-426614174000` is emitted
/// as `00123e45-67e8-9b12-d3a4-564266141740`: a Debezium bug that consumers
/// see, reproduced here.
fn write_uuid(out: &mut Vec<u8>, b: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0u8; 16];
    let n = b.len().min(16);
    bytes[16 - n..].copy_from_slice(&b[..n]);
    out.push(b'"');
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push(b'-');
        }
        out.push(HEX[(byte >> 4) as usize]);
        out.push(HEX[(byte & 15) as usize]);
    }
    out.push(b'"');
}

/// A geometry cell is a 4-byte little-endian SRID followed by WKB. Debezium
/// emits the WKB alone, the SRID (null when 0), and for POINT columns the
/// coordinates read from the WKB.
fn write_geometry(out: &mut Vec<u8>, b: &[u8], point: bool) {
    let (srid, wkb) = match b.split_first_chunk::<4>() {
        Some((srid, wkb)) => (u32::from_le_bytes(*srid), wkb),
        None => (0, b),
    };
    out.push(b'{');
    if point {
        let coord = |at: usize| -> f64 {
            let raw: [u8; 8] = wkb.get(at..at + 8).and_then(|s| s.try_into().ok()).unwrap_or([0; 8]);
            // WKB byte order: 1 = little-endian, 0 = big-endian.
            if wkb.first() == Some(&0) {
                f64::from_be_bytes(raw)
            } else {
                f64::from_le_bytes(raw)
            }
        };
        out.extend_from_slice(b"\"x\":");
        json::double(out, coord(5));
        out.extend_from_slice(b",\"y\":");
        json::double(out, coord(13));
        out.push(b',');
    }
    out.extend_from_slice(b"\"wkb\":");
    json::base64_std(out, wkb);
    out.extend_from_slice(b",\"srid\":");
    if srid == 0 {
        out.extend_from_slice(b"null");
    } else {
        json::int(out, i64::from(srid as i32));
    }
    out.push(b'}');
}

/// The payload JSON of a column default as `COLUMN_DEFAULT` prints it
/// (MariaDB: quoted literals, `NULL`, or an expression such as
/// `current_timestamp()`), converted the way Debezium converts the DEFAULT
/// clause of `SHOW CREATE TABLE` (which prints literals identically):
/// `BinlogDefaultValueConverter` and the column's value converter.
fn default_payload(raw: &str, col: &Column, writer: &Writer) -> Option<Vec<u8>> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("NULL") {
        return None;
    }
    // Debezium strips the quotes but does not unescape: `'it''s'` is the
    // default `it''s` and `'a\\b'` is `a\\b` (reproduced as is).
    let quoted = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\''));
    let literal = quoted.unwrap_or(raw).to_string();
    let is_expression = quoted.is_none() && raw.ends_with(')');
    let nullable = col.nullable;
    let mut out = Vec::new();
    match writer {
        // Integer defaults go through a double in Debezium's DDL parser:
        // beyond 2^53 they lose precision, beyond i64 they saturate.
        Writer::Integer | Writer::Year => {
            let mut v = literal.parse::<f64>().ok()? as i64;
            if *writer == Writer::Year && (0..100).contains(&v) {
                v = i64::from(temporal::adjust_two_digit_year(v as u16));
            }
            json::int(&mut out, v)
        }
        // (Row values above i64::MAX wrap negative; the default saturates.)
        Writer::UnsignedLong => json::int(&mut out, literal.parse::<f64>().ok()? as i64),
        Writer::UnsignedPrecise => {
            let v: u64 = literal.parse().ok()?;
            write_decimal_text(&mut out, &decimal::DecimalText::from_integer(v), DecimalMode::Precise)
        }
        Writer::Decimal(mode) => {
            let text = decimal::DecimalText::parse(&literal, col.scale.unwrap_or(0) as u8)?;
            write_decimal_text(&mut out, &text, *mode)
        }
        // Parsed as a double, then narrowed (Double.parseDouble + floatValue).
        Writer::Float32 => json::float(&mut out, literal.parse::<f64>().ok()? as f32),
        Writer::Float64 => json::double(&mut out, literal.parse().ok()?),
        // Debezium rejects UUID defaults ("Unexpected default value").
        Writer::Uuid => return None,
        Writer::Text { .. } | Writer::Enum(_) | Writer::Set(_) | Writer::Json => {
            if is_expression {
                return None;
            }
            json::string(&mut out, &literal)
        }
        Writer::Binary { mode, .. } => {
            if is_expression {
                return None;
            }
            write_binary(&mut out, literal.as_bytes(), *mode)
        }
        Writer::Boolean => {
            let v = temporal::bit_literal(&literal)?;
            json::boolean(&mut out, v != 0)
        }
        Writer::Bits { .. } => {
            let v = temporal::bit_literal(&literal)?;
            write_cell(&mut out, writer, &Cell::Bits(&v.to_be_bytes()), b"null")
        }
        Writer::ZonedTimestamp { fsp } => {
            // Zero dates, the epoch itself and CURRENT_TIMESTAMP all become
            // "no default" when nullable, else the epoch printed without
            // fraction digits whatever the fsp (a java.sql.Timestamp there).
            if is_expression || literal == "1970-01-01 00:00:00" || is_zero_timestamp(&literal) {
                if nullable {
                    return None;
                }
                out.extend_from_slice(b"\"1970-01-01T00:00:00Z\"");
            } else {
                let us = temporal::parse_datetime_micros(&literal)?;
                temporal::write_zoned(&mut out, us.div_euclid(1_000_000), us.rem_euclid(1_000_000) as u32, *fsp)
            }
        }
        Writer::DateTimeMillis | Writer::DateTimeMicros => {
            let us = if is_expression {
                0
            } else if is_zero_timestamp(&literal) {
                if nullable {
                    return None;
                }
                0
            } else {
                match parse_adjusted_datetime(&literal) {
                    Some(us) => us,
                    None if nullable => return None,
                    None => 0,
                }
            };
            json::int(&mut out, if *writer == Writer::DateTimeMicros { us } else { us.div_euclid(1000) })
        }
        Writer::Date => {
            let days = if is_zero_date(&literal) || is_zero_timestamp(&literal) {
                if nullable {
                    return None;
                }
                0
            } else {
                match parse_adjusted_datetime(&literal) {
                    Some(us) => us.div_euclid(86_400_000_000),
                    None if nullable => return None,
                    None => 0,
                }
            };
            json::int(&mut out, days)
        }
        Writer::Time { connect } => {
            let us = temporal::parse_time_micros(&literal)?;
            if *connect && !(0..86_400_000_000).contains(&us) {
                return None;
            }
            json::int(&mut out, if *connect { us.div_euclid(1000) } else { us })
        }
        Writer::Geometry | Writer::Point | Writer::FloatVector => return None,
    }
    Some(out)
}

/// `dddd-dd-00`, `dddd-00-dd`, `0000-dd-dd` or `0`: Debezium's zero date.
fn is_zero_date(s: &str) -> bool {
    let b = s.as_bytes();
    if s == "0" {
        return true;
    }
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    b.len() == 10
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && (&s[8..10] == "00" || &s[5..7] == "00" || &s[0..4] == "0000")
}

/// A zero date followed by ` 00:00:00[.ffffff]`, or `0`.
fn is_zero_timestamp(s: &str) -> bool {
    if s == "0" {
        return true;
    }
    let Some((date, time)) = s.split_once(' ') else { return false };
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    is_zero_date(date) && date != "0" && hms == "00:00:00" && (1..=6).contains(&frac.len())
        && frac.bytes().all(|c| c.is_ascii_digit())
}

/// A DATE/DATETIME literal as UTC microseconds, two-digit years adjusted.
fn parse_adjusted_datetime(s: &str) -> Option<i64> {
    let year: u16 = s.get(..4)?.parse().ok()?;
    let adjusted = temporal::adjust_two_digit_year(year);
    if adjusted == year {
        return temporal::parse_datetime_micros(s);
    }
    temporal::parse_datetime_micros(&format!("{adjusted:04}{}", &s[4..]))
}

#[cfg(test)]
mod oracle_derived_tests {
    //! Behaviours pinned by the Debezium oracle suite (tests/it/oracle_types.rs).
    use super::*;

    fn col(kind: ColumnKind, nullable: bool, default: Option<&str>) -> Column {
        Column {
            name: "c".into(),
            kind,
            type_name: format!("{kind:?}").to_ascii_uppercase(),
            column_type: String::new(),
            unsigned: false,
            nullable,
            length: Some(10),
            precision: None,
            scale: None,
            fsp: 0,
            charset: None,
            enum_values: vec!["a".into(), "b,c".into(), "d\\e".into()],
            default: default.map(str::to_string),
            generated: false,
            auto_increment: false,
            comment: None,
        }
    }

    fn payload(f: &Field, cell: Cell<'_>) -> String {
        let mut out = Vec::new();
        f.write(&mut out, &cell);
        String::from_utf8(out).unwrap()
    }

    fn header(f: &Field, cell: Cell<'_>) -> String {
        let mut out = Vec::new();
        f.write_header(&mut out, &cell);
        String::from_utf8(out).unwrap()
    }

    fn schema(f: &Field) -> String {
        String::from_utf8(f.schema.clone()).unwrap()
    }

    #[test]
    fn tinyint_is_int16_and_year_zero_is_1900() {
        let f = Field::new(&col(ColumnKind::TinyInt, true, Some("-5")), &Modes::default());
        assert!(schema(&f).starts_with(r#"{"type":"int16","optional":true,"default":-5"#), "{}", schema(&f));
        let y = Field::new(&col(ColumnKind::Year, true, Some("0000")), &Modes::default());
        assert_eq!(payload(&y, Cell::Year(0)), "1900");
        assert!(schema(&y).contains(r#""default":2000"#), "{}", schema(&y));
    }

    #[test]
    fn enum_and_set_values_are_printed_escaped() {
        let e = Field::new(&col(ColumnKind::Enum, true, None), &Modes::default());
        assert_eq!(payload(&e, Cell::Enum(2)), r#""b\\,c""#);
        let s = Field::new(&col(ColumnKind::Set, true, None), &Modes::default());
        assert_eq!(payload(&s, Cell::Set(0b101)), r#""a,d\\\\e""#);
    }

    #[test]
    fn defaults_follow_debezium() {
        let m = Modes::default();
        // Quotes stripped, nothing unescaped.
        let t = Field::new(&col(ColumnKind::VarChar, true, Some("'it''s\\\\'")), &m);
        assert_eq!(payload(&t, Cell::Null), r#""it''s\\\\""#);
        // BIGINT through a double.
        let b = Field::new(&col(ColumnKind::BigInt, true, Some("9007199254740993")), &m);
        assert_eq!(payload(&b, Cell::Null), "9007199254740992");
        // Zero dates: nullable → no default, NOT NULL → epoch.
        assert_eq!(payload(&Field::new(&col(ColumnKind::Date, true, Some("'0000-00-00'")), &m), Cell::Null), "null");
        assert_eq!(payload(&Field::new(&col(ColumnKind::Date, false, Some("'0000-00-00'")), &m), Cell::Null), "0");
        let mut ts = col(ColumnKind::Timestamp, false, Some("'0000-00-00 00:00:00.000000'"));
        ts.fsp = 6;
        assert_eq!(payload(&Field::new(&ts, &m), Cell::Null), r#""1970-01-01T00:00:00Z""#);
        // Two-digit years are adjusted.
        let d = Field::new(&col(ColumnKind::Date, true, Some("'0001-01-01'")), &m);
        assert_eq!(payload(&d, Cell::Null), "11323");
        // BIT(n) little-endian, padded; binary defaults are the literal bytes.
        let mut bits = col(ColumnKind::Bit, true, Some("b'1010'"));
        bits.length = Some(10);
        assert_eq!(payload(&Field::new(&bits, &m), Cell::Null), r#""CgA=""#);
        let bin = Field::new(&col(ColumnKind::Binary, true, Some("'ab\\0'")), &m);
        assert_eq!(payload(&bin, Cell::Null), r#""YWJcMA==""#);
        assert_eq!(payload(&Field::new(&col(ColumnKind::Uuid, true, Some("'123e4567-e89b-12d3-a456-426614174000'")), &m), Cell::Null), "null");
    }

    #[test]
    fn zero_dates_in_rows() {
        let m = Modes::default();
        let nn = Field::new(&col(ColumnKind::Date, false, None), &m);
        assert_eq!(payload(&nn, Cell::Date { year: 0, month: 0, day: 0 }), "0");
        assert_eq!(payload(&nn, Cell::Date { year: 1, month: 1, day: 1 }), "11323");
        let ts = Field::new(&col(ColumnKind::Timestamp, true, None), &m);
        assert_eq!(payload(&ts, Cell::Timestamp { seconds: 0, micros: 0 }), r#""1970-01-01T00:00:00Z""#);
    }

    #[test]
    fn uuid_geometry_and_point() {
        let m = Modes::default();
        let u = Field::new(&col(ColumnKind::Uuid, true, None), &m);
        assert_eq!(payload(&u, Cell::Bytes(&[0x12; 16])), r#""12121212-1212-1212-1212-121212121212""#);
        // Shortened (trailing zero stripped) values are padded on the left.
        assert_eq!(payload(&u, Cell::Bytes(&[0x12; 15])), r#""00121212-1212-1212-1212-121212121212""#);
        let mut wkb = vec![0xE6, 0x10, 0, 0, 1, 1, 0, 0, 0];
        wkb.extend_from_slice(&1.5f64.to_le_bytes());
        wkb.extend_from_slice(&(-2.25f64).to_le_bytes());
        let p = Field::new(&col(ColumnKind::Point, true, None), &m);
        assert_eq!(payload(&p, Cell::Bytes(&wkb)), r#"{"x":1.5,"y":-2.25,"wkb":"AQEAAAAAAAAAAAD4PwAAAAAAAALA","srid":4326}"#);
        assert!(schema(&p).starts_with(r#"{"type":"struct","fields":[{"type":"double","optional":false,"field":"x"}"#));
        assert!(schema(&p).contains(r#""name":"io.debezium.data.geometry.Point","version":1,"doc":"Geometry (POINT)","field":"c"}"#));
        let g = Field::new(&col(ColumnKind::Geometry, true, None), &m);
        assert_eq!(payload(&g, Cell::Bytes(&[0, 0, 0, 0, 1])), r#"{"wkb":"AQ==","srid":null}"#);
    }

    #[test]
    fn header_values_print_like_connect_values() {
        assert_eq!(big_decimal_string("0.000000000000000000000000000001"), "1E-30");
        assert_eq!(big_decimal_string("-12.500"), "-12.500");
        assert_eq!(big_decimal_string("0.000001"), "0.000001");
        assert_eq!(big_decimal_string("-0.0000001230"), "-1.230E-7");
        assert_eq!(java_date_format(0), "00:00:00.000Z");
        assert_eq!(java_date_format(-1000), "23:59:59.000Z");
        assert_eq!(java_date_format(1_609_459_200_000), "2021-01-01");
        assert_eq!(java_date_format(1_609_459_200_500), "2021-01-01T00:00:00.500Z");
        let s = Field::new(&col(ColumnKind::VarChar, false, None), &Modes::default());
        assert_eq!(header(&s, Cell::Bytes("q\"\\\n".as_bytes())), "\"q\\\"\\\\\n\"");
    }
}
