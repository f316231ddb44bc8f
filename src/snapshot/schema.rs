//! The schema change records a snapshot writes first when
//! `include.schema.changes` is on (spec §7.1), in Debezium's order: the
//! server charset, `DROP TABLE IF EXISTS` for each captured table, then per
//! database `DROP DATABASE IF EXISTS` / `CREATE DATABASE` / `USE`, then each
//! table's `SHOW CREATE TABLE` with its structure. A consumer replaying the
//! topic from the start rebuilds exactly the captured schema.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::consistent::quote;
use super::tables::TablePlan;
use super::SnapshotError;
use crate::envelope::schema_change::{SchemaChangeEvent, TableChange};
use crate::envelope::{Encoder, Record, SourceInfo};
use crate::offsets::position::Position;
use crate::schema::ddl::TableChangeKind;
use crate::schema::{ColumnKind, TableSchema};

fn q(context: impl Into<String>) -> impl FnOnce(mysql_async::Error) -> SnapshotError {
    let context = context.into();
    move |source| SnapshotError::Query { context, source }
}

/// The records, encoded; `tables` in snapshot order.
pub async fn records(
    conn: &mut Conn,
    encoder: &Encoder,
    tables: &[&TablePlan],
    at: &Position,
) -> Result<Vec<Record>, SnapshotError> {
    let now_ns = || SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0);
    let mut out = Vec::new();
    let mut push = |database: &str, table: Option<&str>, ddl: &str, changes: Vec<TableChange<'_>>| {
        let now = now_ns();
        let event = SchemaChangeEvent {
            source: SourceInfo {
                ts_us: now / 1000,
                snapshot: "true",
                db: database,
                table,
                server_id: 0,
                gtid: None,
                file: &at.file,
                pos: at.pos,
                row: 0,
                thread: None,
                query: None,
            },
            database,
            ddl,
            changes,
            now_ns: now,
        };
        out.push(encoder.encode_schema_change(&event));
    };

    let vars: Vec<(String, String)> = conn
        .query("SHOW VARIABLES WHERE Variable_name IN ('character_set_server', 'collation_server')")
        .await
        .map_err(q("reading the server charset"))?;
    let var = |n: &str| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    push("", None, &format!("SET character_set_server={}, collation_server={}", var("character_set_server"), var("collation_server")), vec![]);

    for t in tables {
        let (db, name) = (&t.id.0, &t.id.1);
        let ddl = format!("DROP TABLE IF EXISTS {}.{}", quote(db), quote(name));
        push(db, Some(name), &ddl, vec![TableChange { kind: TableChangeKind::Drop, db, table: name, schema: None }]);
    }
    let mut databases: BTreeMap<&str, ()> = BTreeMap::new();
    for t in tables {
        databases.insert(&t.id.0, ());
    }
    for db in databases.keys() {
        let row: Option<(String, String)> = conn
            .exec_first(
                "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (db,),
            )
            .await
            .map_err(q(format!("reading the charset of database {db}")))?;
        let (cs, coll) = row.unwrap_or_default();
        push(db, None, &format!("DROP DATABASE IF EXISTS {}", quote(db)), vec![]);
        push(db, None, &format!("CREATE DATABASE {} CHARSET {cs} COLLATE {coll}", quote(db)), vec![]);
        push(db, None, &format!("USE {}", quote(db)), vec![]);
    }
    for t in tables {
        let (db, name) = (&t.id.0, &t.id.1);
        let row: Option<(String, String)> = conn
            .query_first(format!("SHOW CREATE TABLE {}.{}", quote(db), quote(name)))
            .await
            .map_err(q(format!("SHOW CREATE TABLE {db}.{name}")))?;
        let ddl = row.map(|(_, d)| d).unwrap_or_default();
        let described = as_debezium_snapshot_sees_it(&t.schema);
        let change = TableChange { kind: TableChangeKind::Create, db, table: name, schema: Some(&described) };
        push(db, Some(name), &ddl, vec![change]);
    }
    Ok(out)
}

/// The structure as Debezium's snapshot describes it (from the JDBC
/// metadata, unlike its DDL parser for streamed statements): integer
/// display widths as `length`, and InnoDB's promoted key — the first UNIQUE
/// key of NOT NULL columns of a table without PRIMARY KEY, which
/// information_schema marks `PRI` — as the primary key.
fn as_debezium_snapshot_sees_it(schema: &TableSchema) -> TableSchema {
    let mut s = schema.clone();
    if !s.primary_key && !s.key.is_empty() && s.key.iter().all(|k| !s.columns[*k].nullable) {
        s.primary_key = true;
    }
    for c in &mut s.columns {
        if c.kind.is_integer() || c.kind == ColumnKind::Year {
            c.length = display_width(&c.column_type);
        }
    }
    s
}

/// `11` of `int(11) unsigned`.
fn display_width(column_type: &str) -> Option<u64> {
    let open = column_type.find('(')?;
    let close = column_type[open..].find(')')? + open;
    column_type[open + 1..close].trim().parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn display_widths() {
        assert_eq!(super::display_width("int(11)"), Some(11));
        assert_eq!(super::display_width("bigint(20) unsigned zerofill"), Some(20));
        assert_eq!(super::display_width("int"), None);
    }
}
