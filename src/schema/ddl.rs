//! Recognises statements in QUERY events that change table structures, so
//! the catalog can forget what it cached. Only the leading keyword matters:
//! clearing the cache on a statement that did not need it costs a reload;
//! missing a DDL would decode rows with the wrong columns.

/// What a QUERY event's statement means for the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statement {
    Begin,
    Commit,
    Rollback,
    /// CREATE/ALTER/DROP/RENAME/TRUNCATE and the like.
    Ddl,
    /// Anything else (SAVEPOINT, SET, statement-based DML, ...).
    Other,
}

pub fn classify(sql: &str) -> Statement {
    let word = first_word(sql);
    if word.eq_ignore_ascii_case("BEGIN") {
        Statement::Begin
    } else if word.eq_ignore_ascii_case("COMMIT") {
        Statement::Commit
    } else if word.eq_ignore_ascii_case("ROLLBACK") {
        // `ROLLBACK TO SAVEPOINT` stays inside the transaction.
        if sql.to_ascii_uppercase().contains(" TO ") {
            Statement::Other
        } else {
            Statement::Rollback
        }
    } else if ["CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
    {
        Statement::Ddl
    } else {
        Statement::Other
    }
}

/// The first keyword, skipping white space and `/* ... */` / `-- ` / `#` comments.
fn first_word(sql: &str) -> &str {
    let mut rest = sql;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("/*") {
            match after.find("*/") {
                Some(end) => rest = &after[end + 2..],
                None => return "",
            }
        } else if rest.starts_with("-- ") || rest.starts_with('#') {
            match rest.find('\n') {
                Some(end) => rest = &rest[end + 1..],
                None => return "",
            }
        } else {
            break;
        }
    }
    let end = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
    &rest[..end]
}

/// How a DDL statement changes a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableChangeKind {
    Create,
    Alter,
    Drop,
}

/// The tables a DDL statement changes, as (database or `None` for the
/// statement's default database, table, kind). Database-level statements
/// (CREATE/DROP DATABASE) and statements this parser does not know yield
/// nothing: the schema change record then has no `tableChanges`, and the
/// catalog is invalidated regardless.
pub fn changed_tables(sql: &str) -> Vec<(Option<String>, String, TableChangeKind)> {
    let tokens = tokenize(sql);
    let upper: Vec<String> = tokens.iter().map(|t| if t.quoted { t.text.clone() } else { t.text.to_ascii_uppercase() }).collect();
    let word = |i: usize| upper.get(i).map(String::as_str).unwrap_or("");
    let mut i;
    let mut out = Vec::new();
    let name_at = |i: &mut usize| -> Option<(Option<String>, String)> {
        let first = tokens.get(*i)?.text.clone();
        if tokens.get(*i + 1).is_some_and(|t| t.text == "." && !t.quoted) {
            let second = tokens.get(*i + 2)?.text.clone();
            *i += 3;
            Some((Some(first), second))
        } else {
            *i += 1;
            Some((None, first))
        }
    };
    match word(0) {
        "CREATE" => {
            i = 1;
            if word(i) == "OR" && word(i + 1) == "REPLACE" {
                i += 2;
            }
            if word(i) == "TEMPORARY" {
                return out;
            }
            if word(i) == "TABLE" {
                i += 1;
                if word(i) == "IF" && word(i + 1) == "NOT" && word(i + 2) == "EXISTS" {
                    i += 3;
                }
                if let Some((db, t)) = name_at(&mut i) {
                    out.push((db, t, TableChangeKind::Create));
                }
            } else if let Some(on) = upper.iter().position(|w| w == "ON") {
                // CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX ... ON name
                if upper[..on].iter().any(|w| w == "INDEX") {
                    i = on + 1;
                    if let Some((db, t)) = name_at(&mut i) {
                        out.push((db, t, TableChangeKind::Alter));
                    }
                }
            }
        }
        "ALTER" => {
            i = 1;
            while matches!(word(i), "ONLINE" | "IGNORE") {
                i += 1;
            }
            if word(i) == "TABLE" {
                i += 1;
                if word(i) == "IF" && word(i + 1) == "EXISTS" {
                    i += 2;
                }
                if let Some((db, t)) = name_at(&mut i) {
                    // ALTER TABLE a RENAME [TO|AS] b
                    let rest = &upper[i.min(upper.len())..];
                    if let Some(r) = rest.iter().position(|w| w == "RENAME") {
                        let mut j = i + r + 1;
                        if matches!(word(j), "TO" | "AS") {
                            j += 1;
                        }
                        if !matches!(word(j), "COLUMN" | "INDEX" | "KEY") {
                            if let Some((db2, t2)) = name_at(&mut j) {
                                out.push((db2.or(db), t2, TableChangeKind::Alter));
                                return out;
                            }
                        }
                    }
                    out.push((db, t, TableChangeKind::Alter));
                }
            }
        }
        "DROP" => {
            i = 1;
            if word(i) == "TEMPORARY" {
                return out;
            }
            if word(i) == "TABLE" {
                i += 1;
                if word(i) == "IF" && word(i + 1) == "EXISTS" {
                    i += 2;
                }
                while let Some((db, t)) = name_at(&mut i) {
                    out.push((db, t, TableChangeKind::Drop));
                    if word(i) != "," {
                        break;
                    }
                    i += 1;
                }
            } else if word(i) == "INDEX" {
                if let Some(on) = upper.iter().position(|w| w == "ON") {
                    i = on + 1;
                    if let Some((db, t)) = name_at(&mut i) {
                        out.push((db, t, TableChangeKind::Alter));
                    }
                }
            }
        }
        "RENAME" if word(1) == "TABLE" => {
            // RENAME TABLE a TO b [, c TO d]: the new names are altered.
            i = 2;
            while name_at(&mut i).is_some() {
                if word(i) != "TO" {
                    break;
                }
                i += 1;
                match name_at(&mut i) {
                    Some((db, t)) => out.push((db, t, TableChangeKind::Alter)),
                    None => break,
                }
                if word(i) != "," {
                    break;
                }
                i += 1;
            }
        }
        _ => {}
    }
    out
}

#[derive(Debug)]
struct Token {
    text: String,
    quoted: bool,
}

/// Words, backquoted identifiers and single punctuation, comments skipped.
fn tokenize(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '#' || (c == '-' && chars.get(i + 1) == Some(&'-')) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '`' || c == '"' {
            let mut text = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == c {
                    if chars.get(i + 1) == Some(&c) {
                        text.push(c);
                        i += 2;
                        continue;
                    }
                    break;
                }
                text.push(chars[i]);
                i += 1;
            }
            i += 1;
            out.push(Token { text, quoted: true });
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$') {
                i += 1;
            }
            out.push(Token { text: chars[start..i].iter().collect(), quoted: false });
        } else {
            out.push(Token { text: c.to_string(), quoted: false });
            i += 1;
            if out.len() > 64 && c == '(' {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sql: &str) -> Vec<(Option<&'static str>, String, TableChangeKind)> {
        changed_tables(sql)
            .into_iter()
            .map(|(db, t, k)| (db.map(|d| &*Box::leak(d.into_boxed_str())), t, k))
            .collect()
    }

    #[test]
    fn finds_changed_tables() {
        use TableChangeKind::*;
        assert_eq!(names("CREATE TABLE t (id INT)"), vec![(None, "t".into(), Create)]);
        assert_eq!(names("create table if not exists `d`.`my t` (id int)"), vec![(Some("d"), "my t".into(), Create)]);
        assert_eq!(names("ALTER TABLE t ADD COLUMN c INT"), vec![(None, "t".into(), Alter)]);
        assert_eq!(names("ALTER TABLE t RENAME TO u"), vec![(None, "u".into(), Alter)]);
        assert_eq!(names("ALTER TABLE t RENAME COLUMN a TO b"), vec![(None, "t".into(), Alter)]);
        assert_eq!(
            names("DROP TABLE IF EXISTS `d`.`a`, b /* generated by server */"),
            vec![(Some("d"), "a".into(), Drop), (None, "b".into(), Drop)]
        );
        assert_eq!(names("RENAME TABLE a TO b, c TO d.e"), vec![(None, "b".into(), Alter), (Some("d"), "e".into(), Alter)]);
        assert_eq!(names("CREATE UNIQUE INDEX i ON t (c)"), vec![(None, "t".into(), Alter)]);
        assert!(names("CREATE DATABASE x").is_empty());
        assert!(names("CREATE TEMPORARY TABLE t (a int)").is_empty());
        assert!(names("TRUNCATE t").is_empty());
    }

    #[test]
    fn classifies_statements() {
        assert_eq!(classify("BEGIN"), Statement::Begin);
        assert_eq!(classify("COMMIT"), Statement::Commit);
        assert_eq!(classify("ROLLBACK"), Statement::Rollback);
        assert_eq!(classify("ROLLBACK TO SAVEPOINT s1"), Statement::Other);
        assert_eq!(classify("  /* x */ ALTER TABLE t ADD c INT"), Statement::Ddl);
        assert_eq!(classify("-- c\ncreate table t (a int)"), Statement::Ddl);
        assert_eq!(classify("TRUNCATE t"), Statement::Ddl);
        assert_eq!(classify("SAVEPOINT s1"), Statement::Other);
        assert_eq!(classify("/* unterminated"), Statement::Other);
        assert_eq!(classify(""), Statement::Other);
    }
}
