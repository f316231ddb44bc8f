//! Partial JSON updates: with `binlog_row_value_options=PARTIAL_JSON` MySQL
//! writes PARTIAL_UPDATE_ROWS events whose after image holds, for a JSON
//! column changed by `JSON_SET`/`JSON_REPLACE`/`JSON_REMOVE`, only a list of
//! changes (path, operation, value) instead of the new document.
//!
//! Debezium's binlog client has no deserializer for that event type, so
//! Debezium drops those updates without a word (and documents
//! `binlog_row_value_options` as a setting that must stay empty). binlog-cdc
//! applies the changes to the column's value in the before image — which
//! `binlog_row_image=FULL` guarantees is there — and emits an ordinary update
//! whose `after` holds the whole new document, printed exactly as Debezium
//! prints a full JSON value. Without the before value (a MINIMAL row image)
//! the new document cannot be known, and that is an error, not a guess.
//!
//! Semantics follow the server's `apply_json_diffs`: REPLACE replaces an
//! existing value, INSERT adds an object member (kept in MySQL's key order:
//! by length, then bytes) or inserts into an array at the index (appending
//! past the end), REMOVE removes a member or element.

use crate::bytes::{Cursor, PackedError};
use crate::envelope::jsonb::{self, Node};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    #[error("the partial JSON update is malformed: {0}")]
    Malformed(String),
    #[error("the partial JSON update cannot be applied: {0}")]
    NotApplicable(String),
    #[error(transparent)]
    Json(#[from] jsonb::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Replace,
    Insert,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Leg {
    Member(String),
    /// `[n]`, or `[last-n]` when `from_end`.
    Index { n: u64, from_end: bool },
}

struct Diff {
    op: Op,
    path: Vec<Leg>,
    value: Option<Node>,
}

/// Applies the diff list of a partial update to the before image's binary
/// JSON and returns the new document as Debezium would print it.
pub fn apply(before: &[u8], diffs: &[u8]) -> Result<String, DiffError> {
    if before.is_empty() {
        return Err(DiffError::NotApplicable("the before image holds an empty value".into()));
    }
    let mut doc = jsonb::parse(before)?;
    if matches!(doc, Node::Raw(_)) {
        return Err(DiffError::NotApplicable("the before value is not binary JSON".into()));
    }
    for diff in read_diffs(diffs)? {
        apply_one(&mut doc, diff)?;
    }
    Ok(jsonb::to_text(&doc, before.len() + diffs.len())?)
}

/// `net_field_length`: the packed integer of the MySQL protocol.
fn packed(c: &mut Cursor<'_>) -> Result<u64, DiffError> {
    let at = c.pos();
    c.packed().map_err(|e| match e {
        PackedError::Truncated(_) => DiffError::Malformed(format!("ends early at byte {at}")),
        PackedError::Invalid(first) => DiffError::Malformed(format!("invalid length byte {first:#04x}")),
    })
}

fn take<'a>(c: &mut Cursor<'a>, len: u64) -> Result<&'a [u8], DiffError> {
    let len = usize::try_from(len).map_err(|_| DiffError::Malformed("length too large".into()))?;
    c.take(len).map_err(|t| {
        DiffError::Malformed(format!("{} bytes needed at byte {}, {} available", t.needed, t.offset, t.available))
    })
}

fn read_diffs(b: &[u8]) -> Result<Vec<Diff>, DiffError> {
    let mut c = Cursor::new(b);
    let mut out = Vec::new();
    while let Ok(op) = c.u8() {
        let op = match op {
            0 => Op::Replace,
            1 => Op::Insert,
            2 => Op::Remove,
            other => return Err(DiffError::Malformed(format!("unknown operation {other}"))),
        };
        let len = packed(&mut c)?;
        let path_text = take(&mut c, len)?;
        let path = parse_path(path_text)?;
        let value = if op == Op::Remove {
            None
        } else {
            let len = packed(&mut c)?;
            Some(jsonb::parse_value(take(&mut c, len)?)?)
        };
        out.push(Diff { op, path, value });
    }
    Ok(out)
}

/// Parses a JSON path as the server prints it: `$`, `.name`, `."quoted"`,
/// `[n]`, `[last]`, `[last-n]` (no wildcards: the server does not log
/// partial updates for those).
fn parse_path(text: &[u8]) -> Result<Vec<Leg>, DiffError> {
    let s = std::str::from_utf8(text).map_err(|_| DiffError::Malformed("path is not UTF-8".into()))?;
    let bad = || DiffError::Malformed(format!("unsupported path {s:?}"));
    let rest = s.trim().strip_prefix('$').ok_or_else(bad)?;
    let mut legs = Vec::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => continue,
            '.' => {
                if chars.peek().map(|(_, c)| *c) == Some('"') {
                    chars.next();
                    let mut name = String::new();
                    loop {
                        match chars.next().ok_or_else(bad)?.1 {
                            '"' => break,
                            '\\' => match chars.next().ok_or_else(bad)?.1 {
                                'n' => name.push('\n'),
                                't' => name.push('\t'),
                                'r' => name.push('\r'),
                                'b' => name.push('\u{8}'),
                                'f' => name.push('\u{c}'),
                                'u' => {
                                    let hex: String = (0..4).filter_map(|_| chars.next().map(|(_, c)| c)).collect();
                                    let cp = u32::from_str_radix(&hex, 16).map_err(|_| bad())?;
                                    name.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                                }
                                other => name.push(other),
                            },
                            other => name.push(other),
                        }
                    }
                    legs.push(Leg::Member(name));
                } else {
                    let mut name = String::new();
                    while let Some((_, c)) = chars.peek() {
                        if *c == '.' || *c == '[' {
                            break;
                        }
                        name.push(*c);
                        chars.next();
                    }
                    if name.is_empty() || name.starts_with('*') {
                        return Err(bad());
                    }
                    legs.push(Leg::Member(name));
                }
            }
            '[' => {
                let mut inner = String::new();
                for (_, c) in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    inner.push(c);
                }
                let inner = inner.trim();
                let leg = if let Some(tail) = inner.strip_prefix("last") {
                    let tail = tail.trim();
                    let n = match tail.strip_prefix('-') {
                        Some(n) => n.trim().parse().map_err(|_| bad())?,
                        None if tail.is_empty() => 0,
                        None => return Err(bad()),
                    };
                    Leg::Index { n, from_end: true }
                } else {
                    Leg::Index { n: inner.parse().map_err(|_| bad())?, from_end: false }
                };
                legs.push(leg);
            }
            _ => return Err(bad()),
        }
    }
    Ok(legs)
}

/// MySQL orders object keys by length, then bytes.
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

fn index_of(leg_n: u64, from_end: bool, len: usize) -> Option<usize> {
    if from_end {
        (len as u64).checked_sub(1)?.checked_sub(leg_n).map(|i| i as usize)
    } else {
        usize::try_from(leg_n).ok()
    }
}

fn seek<'a>(doc: &'a mut Node, path: &[Leg]) -> Option<&'a mut Node> {
    let mut cur = doc;
    for leg in path {
        cur = match (cur, leg) {
            (Node::Object(members), Leg::Member(name)) => &mut members.iter_mut().find(|(k, _)| k == name)?.1,
            (Node::Array(items), Leg::Index { n, from_end }) => {
                let i = index_of(*n, *from_end, items.len())?;
                items.get_mut(i)?
            }
            // A scalar seen through [0] is itself (MySQL's auto-wrapping).
            (node, Leg::Index { n: 0, .. }) if !matches!(node, Node::Array(_) | Node::Object(_)) => node,
            _ => return None,
        };
    }
    Some(cur)
}

fn apply_one(doc: &mut Node, diff: Diff) -> Result<(), DiffError> {
    let describe = |legs: &[Leg]| format!("{legs:?}");
    let Some((last, parent_path)) = diff.path.split_last() else {
        return match (diff.op, diff.value) {
            (Op::Replace, Some(v)) => {
                *doc = v;
                Ok(())
            }
            _ => Err(DiffError::NotApplicable("only REPLACE can address the whole document".into())),
        };
    };
    let missing = || DiffError::NotApplicable(format!("path {} is not in the before image", describe(&diff.path)));
    let parent = seek(doc, parent_path).ok_or_else(missing)?;
    match (diff.op, parent, last) {
        (Op::Replace, parent, _) => {
            let target = seek(parent, std::slice::from_ref(last)).ok_or_else(missing)?;
            *target = diff.value.ok_or_else(missing)?;
        }
        (Op::Insert, Node::Object(members), Leg::Member(name)) => {
            let value = diff.value.ok_or_else(missing)?;
            match members.iter_mut().find(|(k, _)| k == name) {
                Some((_, v)) => *v = value,
                None => {
                    let at = members.partition_point(|(k, _)| key_order(k, name) == std::cmp::Ordering::Less);
                    members.insert(at, (name.clone(), value));
                }
            }
        }
        (Op::Insert, Node::Array(items), Leg::Index { n, from_end }) => {
            let value = diff.value.ok_or_else(missing)?;
            let at = index_of(*n, *from_end, items.len()).unwrap_or(0).min(items.len());
            items.insert(at, value);
        }
        (Op::Remove, Node::Object(members), Leg::Member(name)) => {
            let at = members.iter().position(|(k, _)| k == name).ok_or_else(missing)?;
            members.remove(at);
        }
        (Op::Remove, Node::Array(items), Leg::Index { n, from_end }) => {
            let at = index_of(*n, *from_end, items.len()).filter(|i| *i < items.len()).ok_or_else(missing)?;
            items.remove(at);
        }
        _ => return Err(DiffError::NotApplicable(format!("path {} does not fit the document", describe(&diff.path)))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small object {"a":1,"bb":"x"}.
    fn doc() -> Vec<u8> {
        vec![0x00, 2, 0, 23, 0, 18, 0, 1, 0, 19, 0, 2, 0, 0x05, 1, 0, 0x0c, 21, 0, b'a', b'b', b'b', 1, b'x']
    }

    fn diff(op: u8, path: &str, value: Option<&[u8]>) -> Vec<u8> {
        let mut d = vec![op, path.len() as u8];
        d.extend(path.as_bytes());
        if let Some(v) = value {
            d.push(v.len() as u8);
            d.extend(v);
        }
        d
    }

    #[test]
    fn replace_insert_remove_on_objects_and_arrays() {
        let int16 = |v: i16| {
            let mut b = vec![0x05];
            b.extend(v.to_le_bytes());
            b
        };
        assert_eq!(apply(&doc(), &diff(0, "$.a", Some(&int16(26)))).unwrap(), r#"{"a":26,"bb":"x"}"#);
        // New keys land in MySQL's order: shorter first, then bytes.
        let mut d = diff(1, "$.c", Some(&int16(3)));
        d.extend(diff(1, "$.aaa", Some(&[0x04, 1])));
        assert_eq!(apply(&doc(), &d).unwrap(), r#"{"a":1,"c":3,"bb":"x","aaa":true}"#);
        assert_eq!(apply(&doc(), &diff(2, "$.bb", None)).unwrap(), r#"{"a":1}"#);
        // Arrays: replace an element, append, insert, remove the last.
        let mut d = diff(0, "$.a", Some(&[0x02, 2, 0, 10, 0, 0x05, 1, 0, 0x05, 2, 0]));
        d.extend(diff(1, "$.a[2]", Some(&int16(3))));
        d.extend(diff(1, "$.a[0]", Some(&int16(0))));
        d.extend(diff(0, "$.a[1]", Some(&int16(10))));
        d.extend(diff(2, "$.a[last]", None));
        assert_eq!(apply(&doc(), &d).unwrap(), r#"{"a":[0,10,2],"bb":"x"}"#);
        assert_eq!(apply(&doc(), &diff(0, "$", Some(&[0x04, 0]))).unwrap(), "null");
    }

    #[test]
    fn quoted_members_and_fixture_diff() {
        // The diff in json.binlog.000001's PARTIAL_UPDATE_ROWS event.
        let fixture = [0x00, 0x05, b'$', b'.', b'a', b'g', b'e', 0x03, 0x05, 0x1a, 0x00];
        let before = [0x00, 1, 0, 14, 0, 11, 0, 3, 0, 0x05, 25, 0, b'a', b'g', b'e'];
        assert_eq!(apply(&before, &fixture).unwrap(), r#"{"age":26}"#);
        assert_eq!(parse_path(br#"$."a b"[last-1].c"#).unwrap(), vec![
            Leg::Member("a b".into()),
            Leg::Index { n: 1, from_end: true },
            Leg::Member("c".into())
        ]);
    }

    #[test]
    fn impossible_or_malformed_diffs_are_errors() {
        assert!(matches!(apply(&doc(), &diff(0, "$.zz", Some(&[0x04, 0]))), Err(DiffError::NotApplicable(_))));
        assert!(matches!(apply(&doc(), &diff(2, "$.a[3]", None)), Err(DiffError::NotApplicable(_))));
        assert!(matches!(apply(&doc(), &diff(7, "$.a", None)), Err(DiffError::Malformed(_))));
        assert!(matches!(apply(&doc(), &diff(0, "$.*", Some(&[0x04, 0]))), Err(DiffError::Malformed(_))));
        let good = diff(0, "$.a", Some(&[0x05, 1, 0]));
        for cut in 0..good.len() {
            let _ = apply(&doc(), &good[..cut]);
        }
        assert!(apply(&[], &good).is_err());
    }
}
