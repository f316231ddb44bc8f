//! Startup checks on the source server. Each failure names the setting, the
//! value binlog-cdc needs and the value the server has, and how to fix it.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub setting: String,
    pub expected: String,
    pub actual: String,
    pub fix: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is {}; binlog-cdc needs {} ({})", self.setting, self.actual, self.expected, self.fix)
    }
}

async fn variable(conn: &mut Conn, name: &str) -> Result<Option<String>, mysql_async::Error> {
    // Names are compile-time constants; SHOW cannot be a prepared statement.
    let row: Option<(String, String)> = conn.query_first(format!("SHOW GLOBAL VARIABLES LIKE '{name}'")).await?;
    Ok(row.map(|(_, v)| v))
}

/// The server's binlog settings.
pub async fn check_binlog(conn: &mut Conn) -> Result<Vec<Problem>, mysql_async::Error> {
    let mut problems = Vec::new();
    let log_bin = variable(conn, "log_bin").await?.unwrap_or_else(|| "OFF".into());
    if !log_bin.eq_ignore_ascii_case("ON") {
        problems.push(Problem {
            setting: "log_bin".into(),
            expected: "ON".into(),
            actual: log_bin,
            fix: "start the server with --log-bin".into(),
        });
        return Ok(problems);
    }
    let format = variable(conn, "binlog_format").await?.unwrap_or_default();
    if !format.eq_ignore_ascii_case("ROW") {
        problems.push(Problem {
            setting: "binlog_format".into(),
            expected: "ROW".into(),
            actual: format,
            fix: "SET GLOBAL binlog_format=ROW and set it in the server configuration".into(),
        });
    }
    let image = variable(conn, "binlog_row_image").await?.unwrap_or_else(|| "FULL".into());
    if !image.eq_ignore_ascii_case("FULL") {
        problems.push(Problem {
            setting: "binlog_row_image".into(),
            expected: "FULL".into(),
            actual: image,
            fix: "SET GLOBAL binlog_row_image=FULL and set it in the server configuration".into(),
        });
    }
    Ok(problems)
}

/// The privileges the connector uses: REPLICATION SLAVE (binlog dump),
/// REPLICATION CLIENT (SHOW MASTER STATUS / BINARY LOGS), SELECT
/// (information_schema, snapshots).
pub async fn check_privileges(conn: &mut Conn) -> Result<Vec<Problem>, mysql_async::Error> {
    let grants: Vec<String> = conn.query("SHOW GRANTS FOR CURRENT_USER()").await?;
    let all = grants.join(" ").to_ascii_uppercase();
    let has = |p: &str| all.contains("ALL PRIVILEGES ON *.*") || all.contains(p);
    let mut problems = Vec::new();
    for (needed, alt) in [
        ("REPLICATION SLAVE", "BINLOG REPLAY"),
        ("REPLICATION CLIENT", "BINLOG MONITOR"),
        ("SELECT", "SELECT"),
    ] {
        if !has(needed) && !has(alt) {
            problems.push(Problem {
                setting: format!("privilege {needed}"),
                expected: "granted".into(),
                actual: "missing".into(),
                fix: format!("GRANT {needed} ON *.* TO the connector user"),
            });
        }
    }
    Ok(problems)
}

/// `SHOW MASTER STATUS`: the current binlog file and position.
pub async fn current_position(conn: &mut Conn) -> Result<Option<(String, u64)>, mysql_async::Error> {
    let row: Option<mysql_async::Row> = conn.query_first("SHOW MASTER STATUS").await?;
    Ok(row.and_then(|r| Some((r.get::<String, _>(0)?, r.get::<u64, _>(1)?))))
}

/// The oldest binlog file the server still has.
pub async fn first_binlog(conn: &mut Conn) -> Result<Option<String>, mysql_async::Error> {
    let row: Option<mysql_async::Row> = conn.query_first("SHOW BINARY LOGS").await?;
    Ok(row.and_then(|r| r.get::<String, _>(0)))
}

/// MariaDB's `@@gtid_binlog_pos` (empty on MySQL or before any GTID).
pub async fn mariadb_gtid_pos(conn: &mut Conn) -> Result<Option<String>, mysql_async::Error> {
    let v: Option<Option<String>> = conn.query_first("SELECT @@GLOBAL.gtid_binlog_pos").await.or_else(|e| match e {
        mysql_async::Error::Server(_) => Ok(None),
        e => Err(e),
    })?;
    Ok(v.flatten().filter(|s| !s.trim().is_empty()))
}

/// Where to start when nothing is stored: the server's current position
/// (`snapshot.mode=no_data`), or its oldest binlog (`never`). On MariaDB
/// the GTID position is recorded too, so restarts can resume by GTID.
pub async fn initial_position(
    conn: &mut Conn,
    from_oldest: bool,
    mariadb: bool,
) -> Result<crate::offsets::position::Position, mysql_async::Error> {
    use crate::offsets::gtid_mariadb::MariaGtidPos;
    use crate::offsets::position::{GtidState, Position};
    let gtids = if mariadb && !from_oldest {
        mariadb_gtid_pos(conn).await?.and_then(|s| MariaGtidPos::parse(&s).ok()).map(GtidState::Mariadb)
    } else {
        None
    };
    let (file, pos) = if from_oldest {
        (first_binlog(conn).await?.unwrap_or_default(), 4)
    } else {
        current_position(conn).await?.unwrap_or_default()
    };
    let mut p = Position::new(file, pos.max(4));
    p.gtids = gtids;
    Ok(p)
}
