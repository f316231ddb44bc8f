//! What to read: the captured tables in a fixed order (database, table), and
//! for each one how to cut it into key ranges and pages.
//!
//! A table is read in primary-key order by keyset pagination: each chunk
//! query is `… WHERE key > last_key ORDER BY key LIMIT fetch_size`, so a
//! chunk costs an index seek whatever its depth, and the last key of the
//! last delivered chunk is all a resume needs. When the key's first column
//! is an integer, the table is also cut into ranges of that column
//! (MIN/MAX split evenly) that several readers scan side by side; the
//! emitter puts the ranges back in key order. A table whose key is missing or
//! nullable is read in one unordered scan, streamed.

use std::sync::Arc;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value};

use super::cells::ColumnPlan;
use super::consistent::quote;
use super::state::TableId;
use super::SnapshotError;
use crate::decode::decoder::TableFilter;
use crate::envelope::TableCodec;
use crate::schema::{ColumnKind, TableSchema};
use crate::telemetry::TableCounters;

/// The captured base tables, sorted by (database, table).
pub async fn discover(conn: &mut Conn, filters: &dyn TableFilter) -> Result<Vec<(TableId, u64)>, SnapshotError> {
    let rows: Vec<(String, String, Option<u64>)> = conn
        .query(
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES \
             WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ('information_schema', 'performance_schema')",
        )
        .await
        .map_err(|source| SnapshotError::Query { context: "listing tables".into(), source })?;
    let mut tables: Vec<(TableId, u64)> = rows
        .into_iter()
        .filter(|(d, t, _)| filters.table(d, t))
        .map(|(d, t, n)| ((d, t), n.unwrap_or(0)))
        .collect();
    tables.sort();
    Ok(tables)
}

/// Everything about one table that readers and the emitter share.
pub struct TablePlan {
    pub index: usize,
    pub id: TableId,
    pub name: String,
    pub schema: Arc<TableSchema>,
    pub codec: Arc<TableCodec>,
    pub columns: Vec<ColumnPlan>,
    /// Column positions of the chunk key; empty: one unordered scan.
    pub key: Vec<usize>,
    /// `SELECT <columns> FROM <table>`.
    select: String,
    /// Per key column: the quoted name, and the SQL placeholder for a value
    /// of it (strings are re-read in the column's charset and collation).
    key_sql: Vec<(String, String)>,
    /// The first key column is an integer (ranges can be computed).
    pub int_first: Option<bool>, // Some(unsigned)
    pub estimate: u64,
    /// Resume after this key (an interrupted snapshot).
    pub resume_after: Option<Vec<Value>>,
    pub counters: TableCounters,
}

/// A slice of a table: rows whose first key column is in (`low`, `high`]
/// (unbounded where `None`), after `start` in key order.
#[derive(Debug, Clone)]
pub struct Range {
    pub low: Option<i128>,
    pub high: Option<i128>,
    pub start: Option<Vec<Value>>,
}

impl TablePlan {
    #[allow(clippy::too_many_arguments)]
    pub async fn new(
        index: usize,
        id: TableId,
        schema: Arc<TableSchema>,
        codec: Arc<TableCodec>,
        estimate: u64,
        resume_after: Option<Vec<Value>>,
        conn: &mut Conn,
    ) -> Result<TablePlan, SnapshotError> {
        let name = format!("{}.{}", id.0, id.1);
        let qualified = format!("{}.{}", quote(&id.0), quote(&id.1));
        let cols: Vec<String> = schema.columns.iter().map(|c| ColumnPlan::new(c).select_expr(&quote(&c.name))).collect();
        let select = format!("SELECT {} FROM {qualified}", cols.join(", "));
        let usable = !schema.key.is_empty() && schema.key.iter().all(|k| !schema.columns[*k].nullable);
        let key = if usable { schema.key.clone() } else { Vec::new() };
        let mut key_sql = Vec::new();
        if !key.is_empty() {
            let collations: Vec<(String, Option<String>, Option<String>)> = conn
                .exec(
                    "SELECT COLUMN_NAME, CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLUMNS \
                     WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                    (&id.0, &id.1),
                )
                .await
                .map_err(|source| SnapshotError::Query { context: format!("reading key collations of {name}"), source })?;
            for k in &key {
                let col = &schema.columns[*k];
                // String keys travel as hex (the bytes are in the column's
                // charset, which the client charset would mangle) and are
                // compared in the column's own collation, as ORDER BY does.
                let placeholder = match col.kind {
                    ColumnKind::Binary | ColumnKind::VarBinary | ColumnKind::Blob => "UNHEX(?)".to_string(),
                    _ => match collations.iter().find(|(n, _, _)| *n == col.name) {
                        Some((_, Some(cs), Some(coll))) => format!("CONVERT(UNHEX(?) USING {cs}) COLLATE {coll}"),
                        _ => "?".to_string(),
                    },
                };
                key_sql.push((quote(&col.name), placeholder));
            }
        }
        let int_first = key.first().map(|k| &schema.columns[*k]).filter(|c| c.kind.is_integer()).map(|c| c.unsigned);
        Ok(TablePlan {
            index,
            columns: schema.columns.iter().map(ColumnPlan::new).collect(),
            counters: TableCounters::new(&name),
            name,
            id,
            schema,
            codec,
            key,
            select,
            key_sql,
            int_first,
            estimate,
            resume_after,
        })
    }

    /// Cuts the table into up to `n` ranges of its first key column.
    pub async fn ranges(&self, conn: &mut Conn, n: usize) -> Result<Vec<Range>, SnapshotError> {
        let whole = vec![Range { low: None, high: None, start: self.resume_after.clone() }];
        let Some(unsigned) = self.int_first else { return Ok(whole) };
        if n <= 1 {
            return Ok(whole);
        }
        let (k, _) = &self.key_sql[0];
        let table = format!("{}.{}", quote(&self.id.0), quote(&self.id.1));
        let row: Option<(Value, Value)> = conn
            .query_first(format!("SELECT MIN({k}), MAX({k}) FROM {table}"))
            .await
            .map_err(|source| SnapshotError::Query { context: format!("reading the key range of {}", self.name), source })?;
        let as_int = |v: &Value| -> Option<i128> {
            match v {
                Value::Int(i) => Some(i128::from(*i)),
                Value::UInt(u) => Some(i128::from(*u)),
                Value::Bytes(b) => std::str::from_utf8(b).ok()?.parse().ok(),
                _ => None,
            }
        };
        let (Some(mut min), Some(max)) = row.map_or((None, None), |(a, b)| (as_int(&a), as_int(&b))) else {
            return Ok(whole);
        };
        if let Some(first) = self.resume_after.as_ref().and_then(|r| r.first()).and_then(as_int) {
            min = min.max(first);
        }
        let _ = unsigned;
        let span = max - min;
        if span < n as i128 * 2 {
            return Ok(whole);
        }
        let width = span / n as i128;
        let mut ranges = Vec::with_capacity(n);
        let mut low = None;
        for i in 1..=n {
            let high = if i == n { None } else { Some(min + width * i as i128) };
            ranges.push(Range { low, high, start: if i == 1 { self.resume_after.clone() } else { None } });
            low = high;
        }
        Ok(ranges)
    }

    fn int_param(&self, v: i128) -> Value {
        match self.int_first {
            Some(true) => Value::UInt(v.clamp(0, i128::from(u64::MAX)) as u64),
            _ => Value::Int(v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64),
        }
    }

    /// The chunk query of `range` after `cursor`, and its parameters.
    pub fn chunk_query(&self, range: &Range, cursor: Option<&[Value]>, limit: u64) -> (String, Vec<Value>) {
        if self.key.is_empty() {
            return (self.select.clone(), Vec::new());
        }
        let mut conds = Vec::new();
        let mut params = Vec::new();
        let (k0, _) = &self.key_sql[0];
        if let Some(low) = range.low {
            conds.push(format!("{k0} > ?"));
            params.push(self.int_param(low));
        }
        if let Some(high) = range.high {
            conds.push(format!("{k0} <= ?"));
            params.push(self.int_param(high));
        }
        if let Some(cursor) = cursor {
            conds.push(self.after_key(cursor, &mut params));
        }
        let order: Vec<&str> = self.key_sql.iter().map(|(n, _)| n.as_str()).collect();
        let mut sql = self.select.clone();
        if !conds.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conds.join(" AND "));
        }
        sql.push_str(&format!(" ORDER BY {} LIMIT {limit}", order.join(", ")));
        (sql, params)
    }

    /// `(k1, k2, …) > (v1, v2, …)`, spelled out so that the range
    /// optimiser uses the key: `k1 > v1 OR (k1 = v1 AND k2 > v2) OR …`.
    fn after_key(&self, cursor: &[Value], params: &mut Vec<Value>) -> String {
        let mut ors = Vec::new();
        for i in 0..self.key_sql.len() {
            let mut ands = Vec::new();
            for (j, (name, ph)) in self.key_sql.iter().enumerate().take(i + 1) {
                let op = if j == i { ">" } else { "=" };
                ands.push(format!("{name} {op} {ph}"));
                let v = cursor.get(j).cloned().unwrap_or(Value::NULL);
                params.push(match v {
                    Value::Bytes(b) if ph.contains("UNHEX") => Value::Bytes(hex(&b).into_bytes()),
                    v => v,
                });
            }
            ors.push(format!("({})", ands.join(" AND ")));
        }
        format!("({})", ors.join(" OR "))
    }

    fn order_by(&self, descending: bool) -> String {
        let dir = if descending { " DESC" } else { "" };
        let cols: Vec<String> = self.key_sql.iter().map(|(n, _)| format!("{n}{dir}")).collect();
        cols.join(", ")
    }

    /// An incremental-snapshot chunk: rows after `cursor` up to `max`
    /// (inclusive) that match `filter`, in key order. Needs a key.
    pub fn window_query(&self, cursor: Option<&[Value]>, max: &[Value], filter: Option<&str>, limit: u64) -> (String, Vec<Value>) {
        let mut params = Vec::new();
        let mut conds = Vec::new();
        if let Some(cursor) = cursor {
            conds.push(self.after_key(cursor, &mut params));
        }
        conds.push(format!("NOT {}", self.after_key(max, &mut params)));
        if let Some(f) = filter {
            conds.push(format!("({f})"));
        }
        let sql = format!("{} WHERE {} ORDER BY {} LIMIT {limit}", self.select, conds.join(" AND "), self.order_by(false));
        (sql, params)
    }

    /// The row with the largest key (among rows matching `filter`).
    pub fn max_key_query(&self, filter: Option<&str>) -> String {
        let filter = filter.map(|f| format!(" WHERE ({f})")).unwrap_or_default();
        format!("{}{filter} ORDER BY {} LIMIT 1", self.select, self.order_by(true))
    }

    /// The chunk key values of a row.
    pub fn key_of(&self, row: &mysql_async::Row) -> Option<Vec<Value>> {
        if self.key.is_empty() {
            return None;
        }
        self.key.iter().map(|k| row.as_ref(*k).cloned()).collect()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(super::quote("a`b"), "`a``b`");
    }
}
