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
    #[error("replaying binlog files, there is no information_schema to read the structure of `{db}`.`{table}` from")]
    Offline { db: String, table: String },
    #[error("the binlog describes `{db}`.`{table}` without column names (written with binlog_row_metadata=MINIMAL) and replaying files there is no information_schema to ask; run the server with binlog_row_metadata=FULL for binlogs to be replayable, or replay with --minimal-metadata=synthetic to name the columns col_1, col_2, … (then ENUM/SET values print as empty strings and records have no key)")]
    NoColumnNames { db: String, table: String },
    #[error("the binlog's TABLE_MAP for `{db}`.`{table}` has a column type binlog-cdc cannot map, or unreadable column metadata")]
    UnreadableTableMap { db: String, table: String },
    #[error("column `{column}` of `{db}`.`{table}` has type `{data_type}`, which binlog-cdc does not support yet")]
    UnsupportedType {
        db: String,
        table: String,
        column: String,
        data_type: String,
    },
}

/// What an offline catalog does with a TABLE_MAP that has no column names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinimalMetadata {
    /// [`CatalogError::NoColumnNames`].
    Error,
    /// Name the columns `col_1`, `col_2`, ….
    Synthetic,
}

/// Cache of table structures, loaded on first use.
///
/// Offline (`binlog-cdc replay`) there is no server: every structure comes
/// from the TABLE_MAP events themselves (see `table_map.rs`), and the
/// decoder asks [`Catalog::offline`] before asking `get`.
pub struct Catalog {
    pool: Option<Pool>,
    minimal: MinimalMetadata,
    tables: HashMap<(String, String), Arc<TableSchema>>,
}

impl Catalog {
    pub fn new(pool: Pool) -> Self {
        Catalog { pool: Some(pool), minimal: MinimalMetadata::Error, tables: HashMap::new() }
    }

    /// A catalog without a server, for replaying binlog files.
    pub fn new_offline(minimal: MinimalMetadata) -> Self {
        Catalog { pool: None, minimal, tables: HashMap::new() }
    }

    /// `Some` when there is no server: structures come from the binlog.
    pub fn offline(&self) -> Option<MinimalMetadata> {
        self.pool.is_none().then_some(self.minimal)
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
        let Some(pool) = &self.pool else {
            return Err(CatalogError::Offline { db: db.to_string(), table: table.to_string() });
        };
        let schema = Arc::new(load_table(pool, db, table).await?);
        self.tables.insert((db.to_string(), table.to_string()), schema.clone());
        Ok(schema)
    }

    /// Forgets every cached structure (after DDL).
    pub fn invalidate_all(&mut self) {
        self.tables.clear();
    }

    /// The connection pool; `None` offline.
    pub fn pool(&self) -> Option<&Pool> {
        self.pool.as_ref()
    }
}

const COLUMNS_SQL: &str = "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, \
     CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, \
     CHARACTER_SET_NAME, COLUMN_DEFAULT, EXTRA, COLUMN_COMMENT \
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
    let (key, primary_key) = pick_key(&columns, &key_rows);
    mark_json_columns(&mut conn, db, table, &mut columns).await;
    let table_row: Option<(Option<String>, Option<String>)> = conn
        .exec_first(
            "SELECT c.CHARACTER_SET_NAME, t.TABLE_COMMENT FROM information_schema.TABLES t \
             LEFT JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY c \
             ON c.COLLATION_NAME = t.TABLE_COLLATION WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ?",
            (db, table),
        )
        .await
        .map_err(err)?;
    let (charset, comment) = table_row.unwrap_or_default();
    Ok(TableSchema {
        db: db.to_string(),
        table: table.to_string(),
        columns,
        key,
        primary_key,
        charset,
        comment: comment.filter(|c| !c.is_empty()),
    })
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
        auto_increment: extra.contains("auto_increment"),
        comment: text(&row, 11).filter(|c| !c.is_empty()),
        column_type,
    })
}

/// The primary key, else the first unique index (server order) whose columns
/// all exist in the table and are NOT NULL.
fn pick_key(columns: &[Column], rows: &[(String, i64, i64, String)]) -> (Vec<usize>, bool) {
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
        return (pk, true);
    }
    // Like Debezium's DDL parser, a unique index with a nullable column is
    // never used as the key ("Skip to set unique index columns ... which
    // including optional columns").
    let usable = |name: &&str| resolve(name).filter(|cols| cols.iter().all(|c| !columns[*c].nullable));
    (order.iter().find_map(usable).unwrap_or_default(), false)
}

/// MariaDB's JSON is LONGTEXT with a `json_valid(col)` CHECK constraint; a
/// column declared JSON is reported as such (as Debezium's DDL parser sees
/// it). Servers without CHECK_CONSTRAINTS (MySQL has a real JSON type) are
/// left alone.
async fn mark_json_columns(conn: &mut mysql_async::Conn, db: &str, table: &str, columns: &mut [Column]) {
    let checks: Vec<String> = conn
        .exec(
            "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?",
            (db, table),
        )
        .await
        .unwrap_or_default();
    for clause in checks {
        let c = clause.trim();
        let Some(inner) = c.strip_prefix("json_valid(`").and_then(|r| r.strip_suffix("`)")) else { continue };
        if let Some(col) = columns.iter_mut().find(|col| col.name == inner && col.kind == ColumnKind::Text) {
            col.kind = ColumnKind::Json;
            col.type_name = "JSON".into();
        }
    }
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
            auto_increment: false,
            comment: None,
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
        assert_eq!(pick_key(&cols, &rows), (vec![1, 0], true));
        let rows = vec![
            ("idx".to_string(), 1, 1, "a".to_string()),
            ("u2".to_string(), 0, 1, "c".to_string()),
            ("u1".to_string(), 0, 1, "b".to_string()),
        ];
        assert_eq!(pick_key(&cols, &rows), (vec![2], false));
        assert!(pick_key(&cols, &[]).0.is_empty());
    }
}
