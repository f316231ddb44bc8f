//! A reader for Java `.properties` files, as `java.util.Properties.load`
//! reads them, for `${file:…}` references.
//!
//! Kafka Connect's `FileConfigProvider` loads the referenced file with
//! `Properties.load`, so a secrets file that works there must give the same
//! values here, byte for byte. The rules kept:
//!
//! - a line whose first non-blank character is `#` or `!` is a comment;
//! - a line ending in an odd number of backslashes continues on the next
//!   line, whose leading blanks are dropped;
//! - the key ends at the first unescaped `=`, `:` or blank; blanks and at most
//!   one `=`/`:` after it are skipped; the rest of the line is the value.
//!   Leading blanks of the value are dropped, trailing ones are kept, as in
//!   Java;
//! - escapes `\t \n \r \f \uXXXX`, and `\x` for any other `x` means `x`;
//! - a key given twice: the last one wins.

use std::collections::HashMap;

/// Parses the text of a properties file.
pub fn parse(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in logical_lines(text) {
        let (key, value) = split_key_value(&line);
        out.insert(unescape(key), unescape(value));
    }
    out
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0c')
}

/// Joins continued lines and drops comments and blank lines. Escapes stay
/// in place (a continuation backslash is removed).
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current: Option<String> = None;
    for natural in text.split('\n') {
        let natural = natural.strip_suffix('\r').unwrap_or(natural);
        // Java also ends lines at a lone '\r'.
        for natural in natural.split('\r') {
            let trimmed = natural.trim_start_matches(is_blank);
            let mut piece = match current.take() {
                Some(mut joined) => {
                    joined.push_str(trimmed);
                    joined
                }
                None => {
                    if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
                        continue;
                    }
                    trimmed.to_string()
                }
            };
            let trailing_backslashes = piece.chars().rev().take_while(|&c| c == '\\').count();
            if trailing_backslashes % 2 == 1 {
                piece.pop();
                current = Some(piece);
            } else {
                lines.push(piece);
            }
        }
    }
    if let Some(last) = current {
        lines.push(last);
    }
    lines
}

/// Splits a logical line into raw (still escaped) key and value.
fn split_key_value(line: &str) -> (&str, &str) {
    let mut escaped = false;
    let mut key_end = line.len();
    let mut has_separator = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' {
            escaped = true;
        } else if c == '=' || c == ':' {
            key_end = i;
            has_separator = true;
            break;
        } else if is_blank(c) {
            key_end = i;
            break;
        }
    }
    let key = &line[..key_end];
    let mut rest = &line[key_end..];
    if has_separator {
        rest = &rest[1..];
    }
    rest = rest.trim_start_matches(is_blank);
    if !has_separator {
        if let Some(after) = rest.strip_prefix(['=', ':']) {
            rest = after.trim_start_matches(is_blank);
        }
    }
    (key, rest)
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                match u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4)
                    .and_then(char::from_u32)
                {
                    Some(decoded) => {
                        out.push(decoded);
                        for _ in 0..4 {
                            chars.next();
                        }
                    }
                    // Java throws on a malformed \u; keeping the text is
                    // kinder and cannot turn into a wrong secret silently
                    // (the value simply will not match).
                    None => out.push_str("\\u"),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(text: &str, key: &str) -> Option<String> {
        parse(text).get(key).cloned()
    }

    #[test]
    fn the_three_separators() {
        let text = "a=1\nb: 2\nc 3\nd = 4\ne\t:\t5\n";
        assert_eq!(get(text, "a").as_deref(), Some("1"));
        assert_eq!(get(text, "b").as_deref(), Some("2"));
        assert_eq!(get(text, "c").as_deref(), Some("3"));
        assert_eq!(get(text, "d").as_deref(), Some("4"));
        assert_eq!(get(text, "e").as_deref(), Some("5"));
    }

    #[test]
    fn comments_and_blank_lines() {
        let text = "# comment\n  ! also comment\n\n   \nkey=value # not a comment\n";
        let p = parse(text);
        assert_eq!(p.len(), 1);
        assert_eq!(p["key"], "value # not a comment");
    }

    #[test]
    fn leading_blanks_go_trailing_blanks_stay_like_java() {
        assert_eq!(get("   k =   v  \n", "k").as_deref(), Some("v  "));
    }

    #[test]
    fn continuation_lines() {
        let text = "k = one, \\\n      two, \\\n  three\nnext=x";
        assert_eq!(get(text, "k").as_deref(), Some("one, two, three"));
        assert_eq!(get(text, "next").as_deref(), Some("x"));
        // An even number of backslashes is an escaped backslash, not a continuation.
        assert_eq!(get("k=a\\\\\nb=c", "k").as_deref(), Some("a\\"));
        // A continuation at end of file.
        assert_eq!(get("k=a\\", "k").as_deref(), Some("a"));
    }

    #[test]
    fn escapes() {
        assert_eq!(
            get("k=a\\tb\\nc\\u0041\\=\\:\\\\", "k").as_deref(),
            Some("a\tb\ncA=:\\")
        );
        assert_eq!(get("my\\ key=v", "my key").as_deref(), Some("v"));
        assert_eq!(get("k\\=x=v", "k=x").as_deref(), Some("v"));
    }

    #[test]
    fn empty_values_windows_line_ends_and_last_wins() {
        let p = parse("a=\r\nb\r\nc=1\r\nc=2\r\n");
        assert_eq!(p["a"], "");
        assert_eq!(p["b"], "");
        assert_eq!(p["c"], "2");
    }

    #[test]
    fn separator_without_blanks_keeps_value_separators() {
        assert_eq!(
            get("url=jdbc:mysql://h:3306/db", "url").as_deref(),
            Some("jdbc:mysql://h:3306/db")
        );
        assert_eq!(get("k==v", "k").as_deref(), Some("=v"));
    }
}
