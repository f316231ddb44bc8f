//! Byte-level JSON writing that matches what Kafka Connect's JsonConverter
//! (Jackson) prints: compact, strings escaped like Jackson, doubles and
//! floats printed like Java's `Double.toString`/`Float.toString`.
//!
//! Everything writes into a caller-owned `Vec<u8>`, so a record is built
//! without intermediate values.

use base64::Engine;

/// Writes `s` as a JSON string literal, escaped as Jackson does.
pub fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escaped(out, s.as_bytes());
    out.push(b'"');
}

/// Writes the escaped body of a string (no quotes). `bytes` must be UTF-8.
pub fn escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    // Most strings need no escape: one branch-free (vectorised) pass tells.
    let special = bytes.iter().fold(false, |acc, &b| acc | (b < 0x20) | (b == b'"') | (b == b'\\') | (b >= 0xF0));
    if !special {
        out.extend_from_slice(bytes);
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 15) as usize]);
                start = i + 1;
                continue;
            }
            // Jackson writes characters outside the BMP as an escaped
            // surrogate pair (`😀` → `\uD83D\uDE00`).
            0xF0..=0xF7 if i + 4 <= bytes.len() => {
                let Some(c) = std::str::from_utf8(&bytes[i..i + 4]).ok().and_then(|s| s.chars().next()) else {
                    continue;
                };
                out.extend_from_slice(&bytes[start..i]);
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                for unit in c.encode_utf16(&mut [0u16; 2]) {
                    out.extend_from_slice(b"\\u");
                    for shift in [12, 8, 4, 0] {
                        out.push(HEX[((*unit >> shift) & 15) as usize]);
                    }
                }
                start = i + 4;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Writes bytes as a JSON string, decoding them from the column charset.
pub fn string_from_charset(out: &mut Vec<u8>, bytes: &[u8], latin1: bool) {
    out.push(b'"');
    if latin1 && !bytes.is_ascii() {
        let mut tmp = [0u8; 4];
        for &b in bytes {
            let c = cp1252(b);
            escaped(out, c.encode_utf8(&mut tmp).as_bytes());
        }
    } else {
        match std::str::from_utf8(bytes) {
            Ok(s) => escaped(out, s.as_bytes()),
            Err(_) => escaped(out, String::from_utf8_lossy(bytes).as_bytes()),
        }
    }
    out.push(b'"');
}

/// MySQL's `latin1` is Windows-1252.
fn cp1252(b: u8) -> char {
    const HIGH: [u16; 32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ];
    if (0x80..0xA0).contains(&b) {
        char::from_u32(u32::from(HIGH[(b - 0x80) as usize])).unwrap_or('\u{FFFD}')
    } else {
        char::from(b)
    }
}

pub fn int(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

pub fn uint(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

pub fn boolean(out: &mut Vec<u8>, v: bool) {
    out.extend_from_slice(if v { b"true" } else { b"false" });
}

/// Standard base64 with padding, as a JSON string (Connect `bytes`).
pub fn base64_std(out: &mut Vec<u8>, bytes: &[u8]) {
    b64(out, bytes, &base64::engine::general_purpose::STANDARD);
}

/// URL-safe base64 with padding, as a JSON string.
pub fn base64_url(out: &mut Vec<u8>, bytes: &[u8]) {
    b64(out, bytes, &base64::engine::general_purpose::URL_SAFE);
}

/// Lower-case hex as a JSON string.
pub fn hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for b in bytes {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 15) as usize]);
    }
    out.push(b'"');
}

fn b64(out: &mut Vec<u8>, bytes: &[u8], engine: &impl Engine) {
    out.push(b'"');
    let start = out.len();
    let len = base64::encoded_len(bytes.len(), true).unwrap_or(0);
    out.resize(start + len, 0);
    let written = engine.encode_slice(bytes, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
    out.push(b'"');
}

/// Java `Double.toString`: shortest digits, plain between 1e-3 and 1e7,
/// else `d.dddE±n`; always a fraction digit; `NaN`/`Infinity` as Jackson
/// would write them (bare tokens).
pub fn double(out: &mut Vec<u8>, v: f64) {
    if !v.is_finite() {
        out.extend_from_slice(if v.is_nan() {
            b"NaN"
        } else if v > 0.0 {
            b"Infinity"
        } else {
            b"-Infinity"
        });
        return;
    }
    let mut buf = ryu::Buffer::new();
    java_format(out, buf.format_finite(v), v.abs(), v == 0.0);
}

/// Java `Float.toString`.
pub fn float(out: &mut Vec<u8>, v: f32) {
    if !v.is_finite() {
        return double(out, f64::from(v));
    }
    let mut buf = ryu::Buffer::new();
    java_format(out, buf.format_finite(v), f64::from(v.abs()), v == 0.0);
}

/// Re-lays ryu's shortest representation out the way Java prints it.
fn java_format(out: &mut Vec<u8>, ryu: &str, abs: f64, zero: bool) {
    let (negative, body) = match ryu.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, ryu),
    };
    // Split into digits and decimal exponent: value = 0.d1d2... × 10^exp10
    let (mantissa, exp) = match body.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (body, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).collect();
    let mut point = int_part.len() as i32 + exp; // digits before the decimal point
    while digits.len() > 1 && digits[0] == b'0' {
        digits.remove(0);
        point -= 1;
    }
    while digits.len() > 1 && digits[digits.len() - 1] == b'0' {
        digits.pop();
    }
    if negative {
        out.push(b'-');
    }
    if zero {
        out.extend_from_slice(b"0.0");
        return;
    }
    if (1e-3..1e7).contains(&abs) {
        if point <= 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-point) as usize));
            out.extend_from_slice(&digits);
        } else if point as usize >= digits.len() {
            out.extend_from_slice(&digits);
            out.extend(std::iter::repeat_n(b'0', point as usize - digits.len()));
            out.extend_from_slice(b".0");
        } else {
            out.extend_from_slice(&digits[..point as usize]);
            out.push(b'.');
            out.extend_from_slice(&digits[point as usize..]);
        }
    } else {
        out.push(digits[0]);
        out.push(b'.');
        if digits.len() > 1 {
            out.extend_from_slice(&digits[1..]);
        } else {
            out.push(b'0');
        }
        out.push(b'E');
        int(out, i64::from(point - 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: f64) -> String {
        let mut out = Vec::new();
        double(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    fn f(v: f32) -> String {
        let mut out = Vec::new();
        float(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(d(1.0), "1.0");
        assert_eq!(d(-1.5), "-1.5");
        assert_eq!(d(0.0), "0.0");
        assert_eq!(d(123.456), "123.456");
        assert_eq!(d(0.001), "0.001");
        assert_eq!(d(0.0001), "1.0E-4");
        assert_eq!(d(1e7), "1.0E7");
        assert_eq!(d(9999999.0), "9999999.0");
        assert_eq!(d(1.2345e20), "1.2345E20");
        assert_eq!(d(-2.5e-10), "-2.5E-10");
        assert_eq!(d(100.0), "100.0");
        assert_eq!(f(1.1), "1.1");
        assert_eq!(f(3.4028235e38), "3.4028235E38");
    }

    #[test]
    fn strings_escape_like_jackson() {
        let mut out = Vec::new();
        string(&mut out, "a\"b\\c\nd\u{1}é/");
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\\"b\\\\c\\nd\\u0001é/\"");
        let mut out = Vec::new();
        string(&mut out, "x😀y");
        assert_eq!(String::from_utf8(out).unwrap(), "\"x\\uD83D\\uDE00y\"");
        let mut out = Vec::new();
        string_from_charset(&mut out, &[b'a', 0xe9, 0x80], true);
        assert_eq!(String::from_utf8(out).unwrap(), "\"aé€\"");
    }

    #[test]
    fn bytes_forms() {
        let mut out = Vec::new();
        base64_std(&mut out, &[0xfb, 0xff]);
        hex(&mut out, &[0xab, 0x01]);
        base64_url(&mut out, &[0xfb, 0xff]);
        assert_eq!(String::from_utf8(out).unwrap(), "\"+/8=\"\"ab01\"\"-_8=\"");
    }
}
