//! MySQL's binary DECIMAL: decoding to digits and to the unscaled
//! two's-complement bytes that Kafka Connect's `Decimal` logical type wants.
//!
//! DECIMAL(65,30) has more digits than any machine integer, so both forms are
//! built in fixed stack buffers: no heap, no float rounding.

const DIG2BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/// Bytes a DECIMAL(precision, scale) takes in a row image.
pub fn bin_size(precision: u8, scale: u8) -> usize {
    let intg = precision.saturating_sub(scale) as usize;
    let scale = scale as usize;
    (intg / 9) * 4 + DIG2BYTES[intg % 9] + (scale / 9) * 4 + DIG2BYTES[scale % 9]
}

/// A decimal as text: optional `-`, integer digits, `.` and exactly `scale`
/// fraction digits (BigDecimal's `toPlainString`).
pub struct DecimalText {
    buf: [u8; 80],
    len: usize,
    negative: bool,
}

impl DecimalText {
    pub fn as_str(&self) -> &str {
        // Only ASCII digits, '-' and '.' are ever written.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("0")
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    fn push(&mut self, b: u8) {
        if self.len < self.buf.len() {
            self.buf[self.len] = b;
            self.len += 1;
        }
    }

    fn push_group(&mut self, value: u32, digits: usize, skip_leading_zeros: bool) {
        let mut tmp = [b'0'; 9];
        let mut v = value;
        for i in (0..digits).rev() {
            tmp[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        for &d in &tmp[..digits] {
            if skip_leading_zeros && d == b'0' && !self.has_int_digit() {
                continue;
            }
            self.push(d);
        }
    }

    fn has_int_digit(&self) -> bool {
        self.len > usize::from(self.negative)
    }

    /// An integer (scale 0), e.g. BIGINT UNSIGNED in `precise` mode.
    pub fn from_integer(v: u64) -> DecimalText {
        let mut text = DecimalText { buf: [0; 80], len: 0, negative: false };
        for b in itoa::Buffer::new().format(v).bytes() {
            text.push(b);
        }
        text
    }

    /// Parses a literal such as `-12.5` and pads/cuts it to `scale` digits
    /// (column defaults). `None` if it is not a plain decimal number.
    pub fn parse(s: &str, scale: u8) -> Option<DecimalText> {
        let s = s.trim();
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
            || int.len() + scale as usize > 70
        {
            return None;
        }
        let mut text = DecimalText { buf: [0; 80], len: 0, negative };
        if negative {
            text.push(b'-');
        }
        let int = int.trim_start_matches('0');
        if int.is_empty() {
            text.push(b'0');
        }
        int.bytes().for_each(|b| text.push(b));
        if scale > 0 {
            text.push(b'.');
            let mut f = frac.bytes();
            for _ in 0..scale {
                text.push(f.next().unwrap_or(b'0'));
            }
        }
        Some(text)
    }

    /// Java `BigInteger.toByteArray()` of the unscaled value.
    pub fn unscaled_bytes(&self) -> ([u8; 32], usize) {
        // Magnitude in base 2^32, little-endian limbs.
        let mut limbs = [0u32; 8];
        for &d in self.as_str().as_bytes() {
            if !d.is_ascii_digit() {
                continue;
            }
            let mut carry = u64::from(d - b'0');
            for limb in limbs.iter_mut() {
                let v = u64::from(*limb) * 10 + carry;
                *limb = v as u32;
                carry = v >> 32;
            }
        }
        let mut be = [0u8; 32];
        for (i, limb) in limbs.iter().enumerate() {
            be[28 - 4 * i..32 - 4 * i].copy_from_slice(&limb.to_be_bytes());
        }
        if self.negative && be.iter().any(|b| *b != 0) {
            let mut carry = 1u16;
            for b in be.iter_mut().rev() {
                let v = u16::from(!*b) + carry;
                *b = v as u8;
                carry = v >> 8;
            }
        }
        let mut start = 0;
        while start < 31 {
            let (a, b) = (be[start], be[start + 1]);
            if (a == 0x00 && b & 0x80 == 0) || (a == 0xFF && b & 0x80 != 0) {
                start += 1;
            } else {
                break;
            }
        }
        let mut out = [0u8; 32];
        let len = 32 - start;
        out[..len].copy_from_slice(&be[start..]);
        (out, len)
    }
}

/// Decodes a binary DECIMAL; `None` when `bin` has the wrong size.
pub fn decode(bin: &[u8], precision: u8, scale: u8) -> Option<DecimalText> {
    if bin.len() != bin_size(precision, scale) || bin.is_empty() || bin.len() > 40 {
        return None;
    }
    let mut bytes = [0u8; 40];
    let bytes = &mut bytes[..bin.len()];
    bytes.copy_from_slice(bin);
    let negative = bytes[0] & 0x80 == 0;
    bytes[0] ^= 0x80;
    if negative {
        for b in bytes.iter_mut() {
            *b = !*b;
        }
    }
    let intg = precision.saturating_sub(scale) as usize;
    let scale = scale as usize;
    let mut text = DecimalText { buf: [0; 80], len: 0, negative };
    if negative {
        text.push(b'-');
    }
    let mut pos = 0;
    let mut read = |n: usize| -> u32 {
        let v = bytes[pos..pos + n].iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
        pos += n;
        v
    };
    let lead = DIG2BYTES[intg % 9];
    if lead > 0 {
        text.push_group(read(lead), intg % 9, true);
    }
    for _ in 0..intg / 9 {
        text.push_group(read(4), 9, true);
    }
    if !text.has_int_digit() {
        text.push(b'0');
    }
    if scale > 0 {
        text.push(b'.');
        for _ in 0..scale / 9 {
            text.push_group(read(4), 9, false);
        }
        let trail = DIG2BYTES[scale % 9];
        if trail > 0 {
            text.push_group(read(trail), scale % 9, false);
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes a decimal string the way the server does (test helper).
    fn encode(s: &str, precision: u8, scale: u8) -> Vec<u8> {
        let negative = s.starts_with('-');
        let s = s.trim_start_matches('-');
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let intg = (precision - scale) as usize;
        let int = format!("{:0>width$}", int, width = intg);
        let frac = format!("{:0<width$}", frac, width = scale as usize);
        let mut out = Vec::new();
        let lead = intg % 9;
        let mut groups: Vec<(&str, usize)> = Vec::new();
        if lead > 0 {
            groups.push((&int[..lead], DIG2BYTES[lead]));
        }
        for i in 0..intg / 9 {
            groups.push((&int[lead + 9 * i..lead + 9 * i + 9], 4));
        }
        for i in 0..scale as usize / 9 {
            groups.push((&frac[9 * i..9 * i + 9], 4));
        }
        let trail = scale as usize % 9;
        if trail > 0 {
            groups.push((&frac[scale as usize - trail..], DIG2BYTES[trail]));
        }
        for (digits, n) in groups {
            let v: u32 = digits.parse().unwrap();
            out.extend_from_slice(&v.to_be_bytes()[4 - n..]);
        }
        out[0] ^= 0x80;
        if negative {
            for b in out.iter_mut() {
                *b = !*b;
            }
        }
        out
    }

    fn roundtrip(s: &str, p: u8, d: u8) -> String {
        let bin = encode(s, p, d);
        assert_eq!(bin.len(), bin_size(p, d));
        decode(&bin, p, d).unwrap().as_str().to_string()
    }

    #[test]
    fn decodes_text() {
        assert_eq!(roundtrip("123.45", 10, 2), "123.45");
        assert_eq!(roundtrip("-123.45", 10, 2), "-123.45");
        assert_eq!(roundtrip("0.5", 10, 2), "0.50");
        assert_eq!(roundtrip("0", 10, 0), "0");
        assert_eq!(roundtrip("-0.01", 5, 2), "-0.01");
        assert_eq!(roundtrip("1234567890123.000000001", 30, 9), "1234567890123.000000001");
        let big = "99999999999999999999999999999999999.999999999999999999999999999999";
        assert_eq!(roundtrip(big, 65, 30), big);
    }

    fn unscaled(s: &str, p: u8, d: u8) -> Vec<u8> {
        let t = decode(&encode(s, p, d), p, d).unwrap();
        let (b, n) = t.unscaled_bytes();
        b[..n].to_vec()
    }

    #[test]
    fn unscaled_bytes_match_java_biginteger() {
        assert_eq!(unscaled("123.45", 10, 2), vec![0x30, 0x39]);
        assert_eq!(unscaled("0", 10, 0), vec![0x00]);
        assert_eq!(unscaled("-1", 10, 0), vec![0xff]);
        assert_eq!(unscaled("128", 10, 0), vec![0x00, 0x80]);
        assert_eq!(unscaled("-128", 10, 0), vec![0x80]);
        assert_eq!(unscaled("-129", 10, 0), vec![0xff, 0x7f]);
        assert_eq!(unscaled("255", 10, 0), vec![0x00, 0xff]);
    }

    #[test]
    fn parses_literals_and_integers() {
        assert_eq!(DecimalText::parse("12.5", 2).unwrap().as_str(), "12.50");
        assert_eq!(DecimalText::parse("-0.125", 2).unwrap().as_str(), "-0.12");
        assert_eq!(DecimalText::parse("007", 0).unwrap().as_str(), "7");
        assert!(DecimalText::parse("abc", 2).is_none());
        let t = DecimalText::from_integer(u64::MAX);
        let (b, n) = t.unscaled_bytes();
        assert_eq!(&b[..n], &[0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    }

    #[test]
    fn wrong_sizes_are_rejected() {
        assert!(decode(&[0x80], 10, 2).is_none());
        assert!(decode(&[], 0, 0).is_none());
    }
}
