//! MySQL binary JSON (the JSON column type of MySQL, not MariaDB's text
//! alias) rendered as the text Debezium puts in the `io.debezium.data.Json`
//! string, byte for byte.
//!
//! Debezium calls the binlog client's `JsonBinary.parseAsString`, whose
//! output is not "JSON as MySQL prints it" but the result of that parser and
//! its `JsonStringFormatter`; a consumer comparing strings sees every
//! difference. So this module reproduces that code, quirks included, rather
//! than the JSON semantics:
//!
//! * object members in storage order (MySQL sorts keys by length, then
//!   bytes), not alphabetically;
//! * integers as stored, but UINT32 read sign-extended (`4294967295` prints
//!   `-1`), and an inlined UINT32 of a large (> 64 KiB) container prints
//!   nothing at all (`{"a":}`): the parser boxes it as a `Long`, which the
//!   formatter ignores;
//! * doubles as Java's `Double.toString` (shortest repr, `1.0` not `1`), or,
//!   where that would use an exponent, as the exact decimal expansion of the
//!   binary value (`new BigDecimal(double).toPlainString()`);
//! * DECIMAL opaque values with their scale (`1.50`); DATE/TIME/DATETIME/
//!   TIMESTAMP opaque values as `"2024-01-31"`, `"12:00:00.5"`,
//!   `"2024-01-31 12:00:00"` — with the formatter's arithmetic on negative
//!   times (`-00:00:01` prints `"01:0-1:0-1"`); other opaque values as base64;
//! * strings escaped only for `"`, `\` and control characters (`\u001F`,
//!   upper-case hex); no `/` or non-ASCII escaping;
//! * a value whose first byte is above 0x0f is not binary JSON but text
//!   (MariaDB) and is passed through.
//!
//! A document the Java parser rejects (`IOException`) is an [`Error`]; the
//! caller prints what Debezium prints then (null, or `{}` for NOT NULL).
//! Malformed documents are bounded: nesting depth, nodes visited and output
//! size are capped, so a corrupt length or a cycle of offsets cannot make
//! the connector hang or allocate without bound.
//!
//! The document is parsed into a small tree ([`Node`]) and then printed, so
//! that a partial JSON update (`decode::json_diff`) can be applied to the
//! before image's tree first.

use std::fmt::Write as _;

use base64::Engine;

/// Deepest nesting accepted (MySQL's own limit is 100).
pub const MAX_DEPTH: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid binary JSON: {0}")]
pub struct Error(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, Error> {
    Err(Error(msg.into()))
}

/// A parsed value, already in the form Debezium's formatter prints.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Members in storage order.
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    Null,
    Bool(bool),
    Int(i64),
    UInt64(u64),
    Double(f64),
    /// DECIMAL as `BigDecimal.toPlainString()`.
    Decimal(String),
    Str(String),
    Date { year: i32, month: i32, day: i32 },
    Time { hour: i32, minute: i32, second: i32, micros: i32 },
    DateTime { year: i32, month: i32, day: i32, hour: i32, minute: i32, second: i32, micros: i32 },
    /// Other opaque values: printed as base64 of these bytes.
    Opaque(Vec<u8>),
    /// What Debezium prints for an inlined UINT32 of a large container: nothing.
    Nothing,
    /// Text that is not binary JSON (MariaDB), printed as is.
    Raw(String),
}

/// Value type codes of the binary format.
mod t {
    pub const SMALL_OBJECT: u8 = 0x00;
    pub const LARGE_OBJECT: u8 = 0x01;
    pub const SMALL_ARRAY: u8 = 0x02;
    pub const LARGE_ARRAY: u8 = 0x03;
    pub const LITERAL: u8 = 0x04;
    pub const INT16: u8 = 0x05;
    pub const UINT16: u8 = 0x06;
    pub const INT32: u8 = 0x07;
    pub const UINT32: u8 = 0x08;
    pub const INT64: u8 = 0x09;
    pub const UINT64: u8 = 0x0a;
    pub const DOUBLE: u8 = 0x0b;
    pub const STRING: u8 = 0x0c;
    pub const OPAQUE: u8 = 0x0f;
}

/// Parses a whole JSON column value (non-empty).
pub fn parse(bin: &[u8]) -> Result<Node, Error> {
    let Some(&first) = bin.first() else { return err("empty value") };
    if (first as i8) > 0x0f {
        return Ok(Node::Raw(String::from_utf8_lossy(bin).into_owned()));
    }
    let mut p = Parser { b: bin, nodes: 0 };
    p.value(first, 1, 0)
}

/// Parses one binary JSON value given as type byte + data (the form of the
/// values in a partial-update diff).
pub fn parse_value(bin: &[u8]) -> Result<Node, Error> {
    let Some(&first) = bin.first() else { return err("empty value") };
    let mut p = Parser { b: bin, nodes: 0 };
    p.value(first, 1, 0)
}

/// The Debezium text of a JSON column value.
pub fn render(bin: &[u8]) -> Result<String, Error> {
    let node = parse(bin)?;
    to_text(&node, bin.len())
}

/// Prints a tree; `source_len` bounds the output (a corrupt document cannot
/// expand without limit).
pub fn to_text(node: &Node, source_len: usize) -> Result<String, Error> {
    let mut out = String::with_capacity(source_len + 16);
    let limit = source_len.saturating_mul(128).saturating_add(4096);
    write_node(&mut out, node, limit)?;
    Ok(out)
}

struct Parser<'a> {
    b: &'a [u8],
    nodes: usize,
}

impl Parser<'_> {
    fn bytes(&self, at: usize, n: usize) -> Result<&[u8], Error> {
        at.checked_add(n)
            .and_then(|end| self.b.get(at..end))
            .ok_or_else(|| Error(format!("ends early: {n} bytes needed at offset {at}, {} available", self.b.len())))
    }

    fn u8(&self, at: usize) -> Result<u8, Error> {
        Ok(self.bytes(at, 1)?[0])
    }

    fn le(&self, at: usize, n: usize) -> Result<u64, Error> {
        Ok(self.bytes(at, n)?.iter().rev().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn i16(&self, at: usize) -> Result<i64, Error> {
        Ok(i64::from(self.le(at, 2)? as u16 as i16))
    }

    fn u16(&self, at: usize) -> Result<i64, Error> {
        Ok(self.le(at, 2)? as i64)
    }

    fn i32(&self, at: usize) -> Result<i64, Error> {
        Ok(i64::from(self.le(at, 4)? as u32 as i32))
    }

    /// `readUInt32`: the Java mask is an int literal, so the value is sign-extended.
    fn u32_java(&self, at: usize) -> Result<i64, Error> {
        self.i32(at)
    }

    fn i64(&self, at: usize) -> Result<i64, Error> {
        Ok(self.le(at, 8)? as i64)
    }

    /// `readVariableInt`: up to 5 bytes, 7 bits each, as a Java int.
    fn varint(&self, at: usize) -> Result<(i32, usize), Error> {
        let mut v: i32 = 0;
        for i in 0..5 {
            let b = self.u8(at + i)?;
            v |= i32::from(b & 0x7f).wrapping_shl(7 * i as u32);
            if b & 0x80 == 0 {
                return Ok((v, i + 1));
            }
        }
        err("variable-length integer longer than 5 bytes")
    }

    /// `readUnsignedIndex`: a count, size or offset of a container.
    fn index(&self, at: usize, small: bool, max: i64, what: &str) -> Result<usize, Error> {
        let v = if small { self.u16(at)? } else { self.u32_java(at)? };
        if v > max {
            return err(format!("the {what} is {v}, above {max}"));
        }
        // A negative (sign-extended) count makes Java fail allocating its array.
        usize::try_from(v).map_err(|_| Error(format!("the {what} is negative ({v})")))
    }

    fn value(&mut self, ty: u8, at: usize, depth: usize) -> Result<Node, Error> {
        self.nodes += 1;
        if self.nodes > self.b.len() + 1 {
            return err("more values than the document has room for (offsets loop)");
        }
        if depth > MAX_DEPTH {
            return err(format!("nested deeper than {MAX_DEPTH}"));
        }
        match ty {
            t::SMALL_OBJECT => self.container(true, true, at, depth),
            t::LARGE_OBJECT => self.container(false, true, at, depth),
            t::SMALL_ARRAY => self.container(true, false, at, depth),
            t::LARGE_ARRAY => self.container(false, false, at, depth),
            t::LITERAL => self.literal(at),
            t::INT16 => Ok(Node::Int(self.i16(at)?)),
            t::UINT16 => Ok(Node::Int(self.u16(at)?)),
            t::INT32 => Ok(Node::Int(self.i32(at)?)),
            t::UINT32 => Ok(Node::Int(self.u32_java(at)?)),
            t::INT64 => Ok(Node::Int(self.i64(at)?)),
            t::UINT64 => Ok(Node::UInt64(self.le(at, 8)?)),
            t::DOUBLE => Ok(Node::Double(f64::from_bits(self.le(at, 8)?))),
            t::STRING => {
                let (len, n) = self.varint(at)?;
                let len = usize::try_from(len).map_err(|_| Error(format!("negative string length {len}")))?;
                Ok(Node::Str(String::from_utf8_lossy(self.bytes(at + n, len)?).into_owned()))
            }
            t::OPAQUE => self.opaque(at),
            other => err(format!("unknown value type {other:#04x}")),
        }
    }

    fn literal(&self, at: usize) -> Result<Node, Error> {
        match self.u8(at)? {
            0 => Ok(Node::Null),
            1 => Ok(Node::Bool(true)),
            2 => Ok(Node::Bool(false)),
            other => err(format!("unknown literal {other:#04x}")),
        }
    }

    fn container(&mut self, small: bool, object: bool, at: usize, depth: usize) -> Result<Node, Error> {
        let w = if small { 2 } else { 4 };
        let count = self.index(at, small, i64::from(i32::MAX), "element count")?;
        let size = self.index(at + w, small, i64::from(i32::MAX), "size")?;
        let key_entry = if object { w + 2 } else { 0 };
        let value_entry = 1 + w;
        let keys_at = at + 2 * w;
        let values_at = keys_at + count.saturating_mul(key_entry);
        // Entries must fit in what is left before anything is allocated.
        let room = self.b.len().saturating_sub(keys_at);
        if count.saturating_mul(key_entry + value_entry) > room {
            return err(format!("{count} entries do not fit in the {room} bytes left"));
        }
        let mut keys = Vec::with_capacity(if object { count } else { 0 });
        for i in 0..if object { count } else { 0 } {
            let e = keys_at + i * key_entry;
            let offset = self.index(e, small, size as i64, "key offset")?;
            let len = self.u16(e + w)? as usize;
            keys.push((offset, len));
        }
        enum Entry {
            Inline(Node),
            At(u8, usize),
        }
        let mut entries = Vec::with_capacity(count);
        for i in 0..count {
            let e = values_at + i * value_entry;
            let ty = self.u8(e)?;
            let entry = match ty {
                t::LITERAL => Entry::Inline(self.literal(e + 1)?),
                t::INT16 => Entry::Inline(Node::Int(self.i16(e + 1)?)),
                t::UINT16 => Entry::Inline(Node::Int(self.u16(e + 1)?)),
                t::INT32 if !small => Entry::Inline(Node::Int(self.i32(e + 1)?)),
                t::UINT32 if !small => {
                    self.bytes(e + 1, 4)?;
                    Entry::Inline(Node::Nothing)
                }
                t::SMALL_OBJECT..=t::STRING | t::OPAQUE => {
                    let offset = self.index(e + 1, small, i64::from(i32::MAX), "value offset")?;
                    if offset >= size {
                        return err(format!("value offset {offset} is beyond the container's {size} bytes"));
                    }
                    Entry::At(ty, offset)
                }
                other => return err(format!("unknown value type {other:#04x}")),
            };
            entries.push(entry);
        }
        // Keys are read in sequence; a key offset behind the read position
        // (never written by MySQL) is read where the stream is, as Java's
        // skip of a negative count does.
        let mut cursor = values_at + count * value_entry;
        let mut names = Vec::with_capacity(keys.len());
        for (offset, len) in keys {
            cursor = cursor.max(at + offset);
            names.push(String::from_utf8_lossy(self.bytes(cursor, len)?).into_owned());
            cursor += len;
        }
        let mut values = Vec::with_capacity(count);
        for entry in entries {
            values.push(match entry {
                Entry::Inline(node) => node,
                Entry::At(ty, offset) => self.value(ty, at + offset, depth + 1)?,
            });
        }
        Ok(if object { Node::Object(names.into_iter().zip(values).collect()) } else { Node::Array(values) })
    }

    fn opaque(&self, at: usize) -> Result<Node, Error> {
        let ty = self.u8(at)?;
        if !matches!(ty, 0..=19 | 242 | 245..=255) {
            return err(format!("unknown opaque type {ty}"));
        }
        let (len, n) = self.varint(at + 1)?;
        let data_at = at + 1 + n;
        let temporal = |p: &Self| p.i64(data_at);
        Ok(match ty {
            0 | 246 => {
                let precision = self.u8(data_at)?;
                let scale = self.u8(data_at + 1)?;
                let len = usize::try_from(len).ok().and_then(|l| l.checked_sub(2)).ok_or_else(|| Error(format!("decimal of {len} bytes")))?;
                let bin = self.bytes(data_at + 2, len)?;
                let text = crate::decode::decimal::decode(bin, precision, scale)
                    .ok_or_else(|| Error(format!("decimal({precision},{scale}) of {len} bytes")))?;
                let s = text.as_str();
                // BigDecimal has no negative zero.
                let zero = s.bytes().all(|b| matches!(b, b'-' | b'0' | b'.'));
                Node::Decimal(if zero { s.trim_start_matches('-').to_string() } else { s.to_string() })
            }
            10 => {
                let value = temporal(self)? >> 24;
                let year_month = ((value >> 22) as i32) % (1 << 17);
                Node::Date { year: year_month / 13, month: year_month % 13, day: ((value >> 17) as i32) % (1 << 5) }
            }
            11 | 19 => {
                let raw = temporal(self)?;
                let value = raw >> 24;
                let mut hour = ((value >> 12) as i32) % (1 << 10);
                if value < 0 {
                    hour = hour.wrapping_mul(-1);
                }
                Node::Time {
                    hour,
                    minute: ((value >> 6) as i32) % (1 << 6),
                    second: (value as i32) % (1 << 6),
                    micros: (raw % (1 << 24)) as i32,
                }
            }
            7 | 12 | 17 | 18 => {
                let raw = temporal(self)?;
                let value = raw >> 24;
                let year_month = ((value >> 22) as i32) % (1 << 17);
                Node::DateTime {
                    year: year_month / 13,
                    month: year_month % 13,
                    day: ((value >> 17) as i32) % (1 << 5),
                    hour: ((value >> 12) as i32) % (1 << 5),
                    minute: ((value >> 6) as i32) % (1 << 6),
                    second: (value % (1 << 6)) as i32,
                    micros: (raw % (1 << 24)) as i32,
                }
            }
            _ => {
                let len = usize::try_from(len).map_err(|_| Error(format!("negative opaque length {len}")))?;
                Node::Opaque(self.bytes(data_at, len)?.to_vec())
            }
        })
    }
}

fn write_node(out: &mut String, node: &Node, limit: usize) -> Result<(), Error> {
    if out.len() > limit {
        return err("renders larger than the document can hold (offsets loop)");
    }
    match node {
        Node::Object(members) => {
            out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('"');
                escape(out, k);
                out.push_str("\":");
                write_node(out, v, limit)?;
            }
            out.push('}');
        }
        Node::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_node(out, v, limit)?;
            }
            out.push(']');
        }
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Int(v) => out.push_str(itoa::Buffer::new().format(*v)),
        Node::UInt64(v) => out.push_str(itoa::Buffer::new().format(*v)),
        Node::Double(v) => java_double(out, *v),
        Node::Decimal(s) => out.push_str(s),
        Node::Str(s) => {
            out.push('"');
            escape(out, s);
            out.push('"');
        }
        Node::Date { year, month, day } => {
            out.push('"');
            date(out, *year, *month, *day);
            out.push('"');
        }
        Node::Time { hour, minute, second, micros } => {
            out.push('"');
            let mut hour = *hour;
            if hour < 0 {
                out.push('-');
                hour = hour.wrapping_abs();
            }
            time(out, hour, *minute, *second, *micros);
            out.push('"');
        }
        Node::DateTime { year, month, day, hour, minute, second, micros } => {
            out.push('"');
            date(out, *year, *month, *day);
            out.push(' ');
            time(out, *hour, *minute, *second, *micros);
            out.push('"');
        }
        Node::Opaque(bytes) => {
            out.push('"');
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(bytes));
            out.push('"');
        }
        Node::Nothing => {}
        Node::Raw(s) => out.push_str(s),
    }
    Ok(())
}

/// `JsonStringFormatter.appendString`.
fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u00{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// `appendTwoDigitUnsignedInt`: `"0" + v` below 10 (negative values too).
fn two(out: &mut String, v: i32) {
    if v < 10 {
        out.push('0');
    }
    out.push_str(itoa::Buffer::new().format(v));
}

fn date(out: &mut String, year: i32, month: i32, day: i32) {
    let mut year = year;
    if year < 0 {
        out.push('-');
        year = year.wrapping_abs();
    }
    let pad = match year {
        y if y < 10 => "000",
        y if y < 100 => "00",
        y if y < 1000 => "0",
        _ => "",
    };
    out.push_str(pad);
    out.push_str(itoa::Buffer::new().format(year));
    out.push('-');
    two(out, month);
    out.push('-');
    two(out, day);
}

fn time(out: &mut String, hour: i32, minute: i32, second: i32, micros: i32) {
    two(out, hour);
    out.push(':');
    two(out, minute);
    out.push(':');
    two(out, second);
    if micros != 0 {
        out.push('.');
        // appendSixDigitUnsignedInt(value, trimTrailingZeros = true)
        let pad = match micros {
            v if v < 10 => "00000",
            v if v < 100 => "0000",
            v if v < 1000 => "000",
            v if v < 10000 => "00",
            v if v < 100000 => "0",
            _ => "",
        };
        out.push_str(pad);
        let mut v = micros;
        for _ in 0..6 {
            if v % 10 == 0 {
                v /= 10;
            }
        }
        out.push_str(itoa::Buffer::new().format(v));
    }
}

/// `JsonStringFormatter.value(double)`: `Double.toString`, or the exact
/// value (`new BigDecimal(d).toPlainString()`) where that has an exponent,
/// i.e. outside [1e-3, 1e7) (zero is `0.0`).
pub fn java_double(out: &mut String, v: f64) {
    if !v.is_finite() {
        // Not representable in binary JSON; Java prints these words.
        out.push_str(if v.is_nan() { "NaN" } else if v > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    let abs = v.abs();
    if v == 0.0 || (1e-3..1e7).contains(&abs) {
        // Shortest repr, which ryu gives like Java 19+ (plain form in this range).
        let mut buf = ryu::Buffer::new();
        let s = buf.format_finite(v);
        out.push_str(s);
        if !s.contains('.') {
            out.push_str(".0");
        }
        return;
    }
    exact_decimal(out, v);
}

/// The exact decimal value of a finite double, as `BigDecimal.toPlainString`.
fn exact_decimal(out: &mut String, v: f64) {
    let bits = v.to_bits();
    let negative = bits >> 63 == 1;
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    let (mut mant, mut exp) = if exp_bits == 0 { (frac, -1074) } else { (frac | (1 << 52), exp_bits - 1075) };
    while mant != 0 && mant & 1 == 0 && exp < 0 {
        mant >>= 1;
        exp += 1;
    }
    // Big integer in base 1e9, little-endian limbs.
    let mut limbs: Vec<u32> = vec![(mant % 1_000_000_000) as u32, (mant / 1_000_000_000 % 1_000_000_000) as u32, (mant / 1_000_000_000_000_000_000) as u32];
    let mul = |limbs: &mut Vec<u32>, m: u64| {
        let mut carry = 0u64;
        for l in limbs.iter_mut() {
            let x = u64::from(*l) * m + carry;
            *l = (x % 1_000_000_000) as u32;
            carry = x / 1_000_000_000;
        }
        while carry > 0 {
            limbs.push((carry % 1_000_000_000) as u32);
            carry /= 1_000_000_000;
        }
    };
    let scale = if exp >= 0 {
        for _ in 0..exp {
            mul(&mut limbs, 2);
        }
        0usize
    } else {
        for _ in 0..-exp {
            mul(&mut limbs, 5);
        }
        (-exp) as usize
    };
    while limbs.len() > 1 && *limbs.last().unwrap_or(&1) == 0 {
        limbs.pop();
    }
    let mut digits = String::new();
    for (i, l) in limbs.iter().rev().enumerate() {
        if i == 0 {
            digits.push_str(itoa::Buffer::new().format(*l));
        } else {
            let _ = write!(digits, "{l:09}");
        }
    }
    if negative {
        out.push('-');
    }
    if scale == 0 {
        out.push_str(&digits);
    } else if digits.len() <= scale {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - digits.len()));
        out.push_str(&digits);
    } else {
        let (int, fraction) = digits.split_at(digits.len() - scale);
        out.push_str(int);
        out.push('.');
        out.push_str(fraction);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bin: &[u8]) -> String {
        render(bin).unwrap()
    }

    fn d(v: f64) -> String {
        let mut s = String::new();
        java_double(&mut s, v);
        s
    }

    /// A small object `{"a":1,"bb":"x"}` laid out as MySQL does.
    fn small_object() -> Vec<u8> {
        // type, count=2, size, key entries (off,len)x2, value entries x2, keys, string value
        let mut v = vec![0x00];
        let body: Vec<u8> = vec![
            2, 0, 23, 0, // count, size
            18, 0, 1, 0, // key "a" at 18
            19, 0, 2, 0, // key "bb" at 19
            0x05, 1, 0, // int16 1 inline
            0x0c, 21, 0, // string at 21
            b'a', b'b', b'b', 1, b'x',
        ];
        v.extend(body);
        v
    }

    #[test]
    fn objects_keep_storage_order_and_inline_values() {
        assert_eq!(text(&small_object()), r#"{"a":1,"bb":"x"}"#);
        // Array [true, null, -2, "é"] (small).
        let arr = [0x02, 4, 0, 19, 0, 0x04, 1, 0, 0x04, 0, 0, 0x05, 0xfe, 0xff, 0x0c, 16, 0, 2, 0xc3, 0xa9];
        assert_eq!(text(&arr), r#"[true,null,-2,"é"]"#);
    }

    #[test]
    fn scalars_print_as_java_does() {
        assert_eq!(text(&[0x04, 2]), "false");
        assert_eq!(text(&[0x08, 0xff, 0xff, 0xff, 0xff]), "-1", "UINT32 is sign-extended");
        assert_eq!(text(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), "18446744073709551615");
        let mut dbl = vec![0x0b];
        dbl.extend(1.5f64.to_le_bytes());
        assert_eq!(text(&dbl), "1.5");
        assert_eq!(text(&[0x0c, 3, b'a', b'"', 0x01]), r#""a\"\u0001""#);
        assert_eq!(text(b"{\"x\": 1}"), "{\"x\": 1}", "text JSON (MariaDB) passes through");
    }

    #[test]
    fn large_container_inlined_uint32_prints_nothing() {
        // Large array [uint32 7, int32 -1].
        let mut v = vec![0x03];
        v.extend(2u32.to_le_bytes());
        v.extend(18u32.to_le_bytes());
        v.extend([0x08, 7, 0, 0, 0]);
        v.extend([0x07, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(text(&v), "[,-1]");
    }

    #[test]
    fn doubles_follow_double_to_string_then_big_decimal() {
        assert_eq!(d(0.0), "0.0");
        assert_eq!(d(-0.0), "-0.0");
        assert_eq!(d(100.0), "100.0");
        assert_eq!(d(3.14), "3.14");
        assert_eq!(d(0.001), "0.001");
        assert_eq!(d(1234567.5), "1234567.5");
        assert_eq!(d(1e7), "10000000");
        assert_eq!(d(1e20), "100000000000000000000");
        assert_eq!(d(-2.5e7), "-25000000");
        assert_eq!(d(1e-4), "0.000100000000000000004792173602385929598312941379845142364501953125");
        assert_eq!(d(0.5e-3), "0.0005000000000000000104083408558608425664715468883514404296875");
    }

    fn opaque(ty: u8, data: &[u8]) -> Vec<u8> {
        let mut v = vec![0x0f, ty, data.len() as u8];
        v.extend(data);
        v
    }

    fn packed_datetime(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, us: i64) -> [u8; 8] {
        let ymd = ((y * 13 + mo) << 5) | d;
        let hms = (h << 12) | (mi << 6) | s;
        ((((ymd << 17) | hms) << 24) + us).to_le_bytes()
    }

    #[test]
    fn opaque_temporal_decimal_and_blob() {
        assert_eq!(text(&opaque(10, &packed_datetime(2024, 1, 31, 0, 0, 0, 0))), r#""2024-01-31""#);
        assert_eq!(text(&opaque(12, &packed_datetime(2024, 1, 31, 12, 5, 9, 500_000))), r#""2024-01-31 12:05:09.5""#);
        assert_eq!(text(&opaque(18, &packed_datetime(7, 1, 2, 3, 4, 5, 120))), r#""0007-01-02 03:04:05.00012""#);
        // TIME 01:02:03.000004
        let t = (((1i64 << 12) | (2 << 6) | 3) << 24) + 4;
        assert_eq!(text(&opaque(11, &t.to_le_bytes())), r#""01:02:03.000004""#);
        // TIME -00:00:01: the formatter's arithmetic on negative values.
        let t = -(1i64 << 24);
        assert_eq!(text(&opaque(19, &t.to_le_bytes())), r#""01:0-1:0-1""#);
        // DECIMAL(5,2) 1.50: precision, scale, then binary decimal 0x80 0x01 0x32.
        assert_eq!(text(&opaque(246, &[5, 2, 0x80, 0x01, 0x32])), "1.50");
        assert_eq!(text(&opaque(252, b"\x01\x02")), r#""AQI=""#);
        assert!(render(&opaque(200, b"x")).is_err(), "unknown opaque type");
    }

    #[test]
    fn malformed_documents_are_errors_not_panics() {
        let good = small_object();
        for cut in 0..good.len() {
            let _ = render(&good[..cut]);
        }
        assert!(render(&[0x0d]).is_err());
        // Huge element count in a tiny buffer: refused before allocating.
        assert!(render(&[0x01, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]).is_err());
        // An array whose element points back at the array itself.
        let cyc = [0x02, 1, 0, 7, 0, 0x02, 0, 0];
        assert!(render(&cyc).is_err());
        // Deep nesting of one-element arrays, each pointing at the next.
        let mut deep = vec![0x02];
        for _ in 0..300 {
            deep.extend([1, 0, 0xff, 0, 0x02, 7, 0]);
        }
        assert_eq!(render(&deep), Err(Error(format!("nested deeper than {MAX_DEPTH}"))));
    }
}
