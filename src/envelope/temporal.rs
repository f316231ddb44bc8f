//! Calendar arithmetic for Debezium's temporal types (spec §5.3): dates as
//! days since the epoch, wall-clock DATETIME taken as UTC, TIME as signed
//! microseconds, TIMESTAMP as an ISO-8601 UTC string with exactly `fsp`
//! fraction digits.



/// Days since 1970-01-01 of a proleptic Gregorian date; `None` for zero or
/// invalid dates (month or day 0), which Debezium turns into null.
pub fn days_from_civil(year: u16, month: u8, day: u8) -> Option<i64> {
    if month == 0 || day == 0 || month > 12 || day > 31 {
        return None;
    }
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Debezium's `enable.time.adjuster` (default true): years 0–69 become
/// 2000–2069 and 70–99 become 1970–1999, for DATE and DATETIME values and
/// defaults alike (so `0001-01-01` is emitted as 2001-01-01).
pub fn adjust_two_digit_year(year: u16) -> u16 {
    match year {
        0..=69 => year + 2000,
        70..=99 => year + 1900,
        _ => year,
    }
}

/// (year, month, day) of a day count since the epoch.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

pub fn time_micros(negative: bool, hours: u32, minutes: u8, seconds: u8, micros: u32) -> i64 {
    let us = ((i64::from(hours) * 60 + i64::from(minutes)) * 60 + i64::from(seconds)) * 1_000_000
        + i64::from(micros);
    if negative {
        -us
    } else {
        us
    }
}

pub fn datetime_micros(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8, micros: u32) -> Option<i64> {
    let days = days_from_civil(year, month, day)?;
    let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    Some(secs * 1_000_000 + i64::from(micros))
}

/// `2018-06-20T13:37:03Z`, or with `fsp` fraction digits `...03.120Z`.
pub fn write_zoned(out: &mut Vec<u8>, epoch_seconds: i64, micros: u32, fsp: u8) {
    let days = epoch_seconds.div_euclid(86_400);
    let rem = epoch_seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let two = |out: &mut Vec<u8>, v: u32| {
        out.push(b'0' + (v / 10) as u8);
        out.push(b'0' + (v % 10) as u8);
    };
    out.push(b'"');
    let year = format!("{y:04}");
    out.extend_from_slice(year.as_bytes());
    out.push(b'-');
    two(out, m);
    out.push(b'-');
    two(out, d);
    out.push(b'T');
    two(out, (rem / 3600) as u32);
    out.push(b':');
    two(out, ((rem / 60) % 60) as u32);
    out.push(b':');
    two(out, (rem % 60) as u32);
    if fsp > 0 {
        out.push(b'.');
        let digits = format!("{micros:06}");
        out.extend_from_slice(&digits.as_bytes()[..(fsp.min(6)) as usize]);
    }
    out.extend_from_slice(b"Z\"");
}

/// Parses `YYYY-MM-DD[ hh:mm:ss[.ffffff]]` as UTC microseconds.
pub fn parse_datetime_micros(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = s.split_once([' ', 'T']).unwrap_or((s, "00:00:00"));
    let mut d = date.split('-').map(|p| p.parse::<u32>().ok());
    let (y, m, dd) = (d.next()??, d.next()??, d.next()??);
    let days = days_from_civil(u16::try_from(y).ok()?, m as u8, dd as u8)?;
    let us = parse_time_micros(time)?;
    Some(days * 86_400_000_000 + us)
}

/// Parses `[-]h:mm:ss[.ffffff]` as signed microseconds.
pub fn parse_time_micros(s: &str) -> Option<i64> {
    let s = s.trim();
    let (negative, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (hms, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut p = hms.split(':').map(|x| x.parse::<i64>().ok());
    let (h, m, sec) = (p.next()??, p.next().unwrap_or(Some(0))?, p.next().unwrap_or(Some(0))?);
    let mut micros = 0i64;
    for (i, c) in frac.bytes().take(6).enumerate() {
        if !c.is_ascii_digit() {
            return None;
        }
        micros += i64::from(c - b'0') * 10i64.pow(5 - i as u32);
    }
    let us = ((h * 60 + m) * 60 + sec) * 1_000_000 + micros;
    Some(if negative { -us } else { us })
}

/// `b'101'` or a plain number, as a BIT default prints.
pub fn bit_literal(s: &str) -> Option<u64> {
    if let Some(bits) = s.strip_prefix("b'").and_then(|r| r.strip_suffix('\'')) {
        return u64::from_str_radix(bits, 2).ok();
    }
    s.parse().ok()
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_datetimes() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2018, 6, 20), Some(17702));
        assert_eq!(days_from_civil(1, 1, 1), Some(-719162));
        assert_eq!(days_from_civil(2018, 0, 20), None);
        assert_eq!(datetime_micros(2018, 6, 20, 6, 37, 3, 0), Some(1_529_476_623_000_000));
        assert_eq!(civil_from_days(17702), (2018, 6, 20));
        assert_eq!(time_micros(true, 838, 59, 59, 0), -3_020_399_000_000);
    }

    #[test]
    fn zoned_timestamps_have_fsp_digits() {
        let z = |s, us, fsp| {
            let mut out = Vec::new();
            write_zoned(&mut out, s, us, fsp);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(z(1_529_501_823, 0, 0), "\"2018-06-20T13:37:03Z\"");
        assert_eq!(z(1_529_501_823, 120_000, 3), "\"2018-06-20T13:37:03.120Z\"");
        assert_eq!(z(1_529_501_823, 0, 6), "\"2018-06-20T13:37:03.000000Z\"");
        assert_eq!(z(0, 0, 0), "\"1970-01-01T00:00:00Z\"");
    }

    #[test]
    fn parses_defaults() {
        assert_eq!(parse_datetime_micros("2018-06-20 06:37:03"), Some(1_529_476_623_000_000));
        assert_eq!(parse_datetime_micros("1970-01-02"), Some(86_400_000_000));
        assert_eq!(parse_time_micros("-01:00:00.5"), Some(-3_600_500_000));
        assert_eq!(bit_literal("b'101'"), Some(5));
        assert_eq!(parse_datetime_micros("garbage"), None);
    }
}
