//! Loads table structures from `information_schema` and caches them.
//!
//! The cache is keyed by `db.table` and cleared wholesale on DDL (see
//! `ddl.rs`): DDL is rare, a reload is one query per table, and clearing
//! everything means no parser has to understand every DDL dialect to stay
//! correct. The catalog has its own connection: the binlog connection is busy
//! streaming.

use std::collections::HashMap;
use std::sync::Arc;

use mysql_async::prelude::Queryable;
use mysql_async::{Pool, Row};

use super::{Column, ColumnKind, TableSchema};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("reading the structure of `{db}`.`{table}` from information_schema failed: {source}; check that the user has SELECT on it")]
    Query {
        db: String,
        table: String,
        #[source]
        source: mysql_async::Error,
    },
    #[error("table `{db}`.`{table}` is not in information_schema (dropped since the row was written?)")]
    NotFound { db: String, table: String },
    #[error("column `{column}` of `{db}`.`{table}` has type `{data_type}`, which binlog-cdc does not support yet")]
    UnsupportedType {
        db: String,
        table: String,
        column: String,
        data_type: String,
    },
}

/// Cache of table structures, loaded on first use.
pub struct Catalog {
    pool: Pool,
    tables: HashMap<(String, String), Arc<TableSchema>>,
}

impl Catalog {
    pub fn new(pool: Pool) -> Self {
        Catalog { pool, tables: HashMap::new() }
    }

    /// The cached structure, loading it when absent.
    pub async fn get(&mut self, db: &str, table: &str) -> Result<Arc<TableSchema>, CatalogError> {
        if let Some(t) = self.tables.get(&(db.to_string(), table.to_string())) {
            return Ok(t.clone());
        }
        self.reload(db, table).await
    }

    /// Loads the structure again, replacing any cached one.
    pub async fn reload(&mut self, db: &str, table: &str) -> Result<Arc<TableSchema>, CatalogError> {
        let schema = Arc::new(load_table(&self.pool, db, table).await?);
        self.tables.insert((db.to_string(), table.to_string()), schema.clone());
        Ok(schema)
    }

    /// Forgets every cached structure (after DDL).
    pub fn invalidate_all(&mut self) {
        self.tables.clear();
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }
}

const COLUMNS_SQL: &str = "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, \
     CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, \
     CHARACTER_SET_NAME, COLUMN_DEFAULT, EXTRA \
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
     ORDER BY ORDINAL_POSITION";

// No ORDER BY on the index name: the server lists indexes in its own order
// (PRIMARY, then unique, then others), the order SHOW CREATE TABLE prints and
// Debezium picks the first unique key from.
const KEYS_SQL: &str = "SELECT INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME \
     FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?";

async fn load_table(pool: &Pool, db: &str, table: &str) -> Result<TableSchema, CatalogError> {
    let err = |source| CatalogError::Query { db: db.to_string(), table: table.to_string(), source };
    let mut conn = pool.get_conn().await.map_err(err)?;
    let rows: Vec<Row> = conn.exec(COLUMNS_SQL, (db, table)).await.map_err(err)?;
    if rows.is_empty() {
        return Err(CatalogError::NotFound { db: db.to_string(), table: table.to_string() });
    }
    let mut columns = Vec::with_capacity(rows.len());
    for row in rows {
        columns.push(column_from_row(db, table, row)?);
    }
    let key_rows: Vec<(String, i64, i64, String)> = conn.exec(KEYS_SQL, (db, table)).await.map_err(err)?;
    let key = pick_key(&columns, &key_rows);
    Ok(TableSchema { db: db.to_string(), table: table.to_string(), columns, key })
}

fn text(row: &Row, idx: usize) -> Option<String> {
    match row.as_ref(idx) {
        Some(mysql_async::Value::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        Some(mysql_async::Value::Int(i)) => Some(i.to_string()),
        Some(mysql_async::Value::UInt(u)) => Some(u.to_string()),
        _ => None,
    }
}

fn number(row: &Row, idx: usize) -> Option<u64> {
    text(row, idx).and_then(|s| s.parse().ok())
}

fn column_from_row(db: &str, table: &str, row: Row) -> Result<Column, CatalogError> {
    let name = text(&row, 0).unwrap_or_default();
    let data_type = text(&row, 1).unwrap_or_default();
    let column_type = text(&row, 2).unwrap_or_default();
    let lower_type = column_type.to_ascii_lowercase();
    let kind = ColumnKind::from_data_type(&data_type).ok_or_else(|| CatalogError::UnsupportedType {
        db: db.to_string(),
        table: table.to_string(),
        column: name.clone(),
        data_type: data_type.clone(),
    })?;
    let extra = text(&row, 10).unwrap_or_default().to_ascii_lowercase();
    let length = match kind {
        ColumnKind::Bit => number(&row, 5),
        _ => number(&row, 4),
    };
    let enum_values = match kind {
        ColumnKind::Enum | ColumnKind::Set => parse_enum_values(&column_type),
        _ => Vec::new(),
    };
    Ok(Column {
        name,
        kind,
        type_name: data_type.to_ascii_uppercase(),
        unsigned: lower_type.contains("unsigned") || lower_type.contains("zerofill"),
        nullable: text(&row, 3).as_deref() == Some("YES"),
        length,
        precision: number(&row, 5).map(|v| v as u32),
        scale: number(&row, 6).map(|v| v as u32),
        fsp: number(&row, 7).unwrap_or(0) as u8,
        charset: text(&row, 8),
        enum_values,
        default: text(&row, 9),
        generated: extra.contains("generated"),
        column_type,
    })
}

/// The primary key, else the first unique index (server order) whose columns
/// all exist in the table.
fn pick_key(columns: &[Column], rows: &[(String, i64, i64, String)]) -> Vec<usize> {
    let mut order: Vec<&str> = Vec::new();
    let mut indexes: HashMap<&str, Vec<(i64, &str)>> = HashMap::new();
    for (name, non_unique, seq, col) in rows {
        if *non_unique != 0 {
            continue;
        }
        if !indexes.contains_key(name.as_str()) {
            order.push(name);
        }
        indexes.entry(name).or_default().push((*seq, col));
    }
    let resolve = |name: &str| -> Option<Vec<usize>> {
        let mut cols = indexes.get(name)?.clone();
        cols.sort_by_key(|(seq, _)| *seq);
        cols.iter().map(|(_, c)| columns.iter().position(|k| k.name == *c)).collect()
    };
    if let Some(pk) = resolve("PRIMARY") {
        return pk;
    }
    order.iter().find_map(|name| resolve(name)).unwrap_or_default()
}

/// Parses the literals of `enum('a','b''c','d\\e')` / `set(...)`.
pub fn parse_enum_values(column_type: &str) -> Vec<String> {
    let Some(open) = column_type.find('(') else { return Vec::new() };
    let body = &column_type[open + 1..];
    let mut values = Vec::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    value.push('\'');
                }
                '\'' => break,
                '\\' => {
                    if let Some(n) = chars.next() {
                        value.push(n);
                    }
                }
                c => value.push(c),
            }
        }
        values.push(value);
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_literals_with_quotes_commas_and_backslashes() {
        assert_eq!(parse_enum_values("enum('a','b')"), vec!["a", "b"]);
        assert_eq!(parse_enum_values("set('x,y','it''s','a\\\\b')"), vec!["x,y", "it's", "a\\b"]);
        assert!(parse_enum_values("int(11)").is_empty());
    }

    fn col(name: &str) -> Column {
        Column {
            name: name.into(),
            kind: ColumnKind::Int,
            type_name: "INT".into(),
            column_type: "int(11)".into(),
            unsigned: false,
            nullable: false,
            length: None,
            precision: None,
            scale: None,
            fsp: 0,
            charset: None,
            enum_values: vec![],
            default: None,
            generated: false,
        }
    }

    #[test]
    fn primary_key_wins_then_first_unique() {
        let cols = vec![col("a"), col("b"), col("c")];
        let rows = vec![
            ("u1".to_string(), 0, 1, "c".to_string()),
            ("PRIMARY".to_string(), 0, 2, "a".to_string()),
            ("PRIMARY".to_string(), 0, 1, "b".to_string()),
        ];
        assert_eq!(pick_key(&cols, &rows), vec![1, 0]);
        let rows = vec![
            ("idx".to_string(), 1, 1, "a".to_string()),
            ("u2".to_string(), 0, 1, "c".to_string()),
            ("u1".to_string(), 0, 1, "b".to_string()),
        ];
        assert_eq!(pick_key(&cols, &rows), vec![2]);
        assert!(pick_key(&cols, &[]).is_empty());
    }
}
