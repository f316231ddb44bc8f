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

#[cfg(test)]
mod tests {
    use super::*;

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
