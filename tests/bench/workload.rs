//! The data: tables, backlogs written before a connector starts, and binlog
//! positions and sizes.

use std::time::Instant;

use futures_util::future::join_all;
use mysql_async::prelude::Queryable;

use crate::support::mariadb::MariaDb;

/// ~200-byte rows (row image: 8 + 16 + 6 + 4 + 141 + 7 bytes + lengths).
pub const ORDERS_COLUMNS: &str = "(id BIGINT PRIMARY KEY, customer VARCHAR(64), amount DECIMAL(12,2), \
     status VARCHAR(16), note VARCHAR(200), created DATETIME(3))";
const NOTE: &str = "a note of about one hundred and forty characters, to make each row roughly two hundred bytes \
                    long in the binlog, as the benchmark asks.";

pub const ORDERS: &str = "orders";
pub const ORDERS_TX: &str = "orders_tx";
pub const MARKER: &str = "marker";
pub const BIG: &str = "big";

/// Case 4's table for one implementation (`ours`, `dbz`) and rate.
pub fn latency_table(who: &str, rate: u64) -> String {
    format!("lat_{who}_{rate}")
}

pub async fn create_tables(db: &MariaDb, database: &str, rates: &[u64]) {
    let mut sql = format!(
        "USE `{database}`; CREATE TABLE {ORDERS} {ORDERS_COLUMNS}; CREATE TABLE {ORDERS_TX} {ORDERS_COLUMNS}; \
         CREATE TABLE {MARKER} (id INT PRIMARY KEY); \
         CREATE TABLE {BIG} (id BIGINT PRIMARY KEY, customer VARCHAR(64), payload VARCHAR(1000), created DATETIME(3));"
    );
    for r in rates {
        for who in ["ours", "dbz"] {
            sql += &format!(
                "CREATE TABLE {} (id BIGINT PRIMARY KEY, wts BIGINT NOT NULL, note VARCHAR(200));",
                latency_table(who, *r)
            );
        }
    }
    db.exec(&sql).await;
}

fn order_values(i: usize) -> String {
    format!("({i}, 'customer-{:06}', {}.{:02}, 'NEW', '{NOTE}', NOW(3))", i % 50_000, i % 10_000, i % 100)
}

/// `n` autocommit single-row INSERTs (one transaction each), ids from 0,
/// written by two connections (statements sent 500 to a round trip).
pub async fn single_row_backlog(db: &MariaDb, database: &str, table: &str, n: usize) {
    let started = Instant::now();
    let writers = 2;
    let mut conns = Vec::new();
    for _ in 0..writers {
        conns.push(db.conn_db(database).await);
    }
    let chunk = n.div_ceil(writers);
    join_all(conns.iter_mut().enumerate().map(|(w, c)| async move {
        let (lo, hi) = (w * chunk, ((w + 1) * chunk).min(n));
        let mut i = lo;
        while i < hi {
            let end = (i + 500).min(hi);
            let sql: String = (i..end).map(|j| format!("INSERT INTO {table} VALUES {};", order_values(j))).collect();
            c.query_drop(sql).await.unwrap_or_else(|e| panic!("backlog insert: {e}"));
            i = end;
        }
    }))
    .await;
    eprintln!("[bench] backlog: {n} single-row transactions into {table} in {:.1?}", started.elapsed());
}

/// `n` rows in transactions of `tx_rows` rows (one multi-row INSERT each).
pub async fn tx_backlog(db: &MariaDb, database: &str, table: &str, n: usize, tx_rows: usize) {
    let started = Instant::now();
    let mut c = db.conn_db(database).await;
    let mut i = 0;
    while i < n {
        let mut sql = String::new();
        // A few transactions per round trip.
        for _ in 0..4 {
            if i >= n {
                break;
            }
            let end = (i + tx_rows).min(n);
            let values: Vec<String> = (i..end).map(order_values).collect();
            sql += &format!("INSERT INTO {table} VALUES {};", values.join(","));
            i = end;
        }
        c.query_drop(sql).await.unwrap_or_else(|e| panic!("backlog insert: {e}"));
    }
    eprintln!("[bench] backlog: {n} rows in {tx_rows}-row transactions into {table} in {:.1?}", started.elapsed());
}

/// Updates rows 0..n in transactions of `tx_rows` rows (FULL image: each
/// row event carries before and after).
pub async fn update_backlog(db: &MariaDb, database: &str, table: &str, n: usize, tx_rows: usize) {
    let started = Instant::now();
    let mut c = db.conn_db(database).await;
    let mut i = 0;
    while i < n {
        let mut sql = String::new();
        for _ in 0..20 {
            if i >= n {
                break;
            }
            let end = (i + tx_rows).min(n);
            sql += &format!(
                "UPDATE {table} SET status = 'PAID', amount = amount + 1, created = NOW(3) WHERE id >= {i} AND id < {end};"
            );
            i = end;
        }
        c.query_drop(sql).await.unwrap_or_else(|e| panic!("backlog update: {e}"));
    }
    eprintln!("[bench] backlog: {n} rows updated in {tx_rows}-row transactions in {:.1?}", started.elapsed());
}

/// One transaction of `n` rows of about `row_bytes` bytes (a single
/// INSERT … SELECT from MariaDB's sequence engine).
pub async fn big_transaction(db: &MariaDb, database: &str, n: usize, row_bytes: usize) {
    let started = Instant::now();
    let pad = row_bytes.saturating_sub(40).max(1);
    db.exec(&format!(
        "USE `{database}`; \
         INSERT INTO {BIG} SELECT seq, CONCAT('customer-', seq % 50000), REPEAT(CHAR(65 + seq % 26), {pad}), NOW(3) \
         FROM seq_1_to_{n}"
    ))
    .await;
    eprintln!("[bench] backlog: one transaction of {n} rows (~{row_bytes} bytes each) in {:.1?}", started.elapsed());
}

/// The server's current binlog file and position.
pub async fn master_status(db: &MariaDb) -> (String, u64) {
    let rows: Vec<(String, u64, String, String)> = db.query("SHOW MASTER STATUS").await;
    (rows[0].0.clone(), rows[0].1)
}

/// Bytes of binlog written so far (all files); differences between two
/// calls are the size of what was written in between.
pub async fn binlog_total(db: &MariaDb) -> u64 {
    let logs: Vec<(String, u64)> = db.query("SHOW BINARY LOGS").await;
    logs.iter().map(|(_, s)| *s).sum()
}

/// Starts a fresh binlog file and drops the older ones, so that a reader
/// starting at the oldest binlog (the stdout sink with `snapshot.mode:
/// never`) starts here.
pub async fn fresh_binlog(db: &MariaDb) {
    db.exec("FLUSH BINARY LOGS").await;
    let (file, _) = master_status(db).await;
    db.exec(&format!("PURGE BINARY LOGS TO '{file}'")).await;
}
