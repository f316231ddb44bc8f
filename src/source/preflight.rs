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
    let compress = variable(conn, "log_bin_compress").await?.unwrap_or_else(|| "OFF".into());
    if compress.eq_ignore_ascii_case("ON") {
        problems.push(Problem {
            setting: "log_bin_compress".into(),
            expected: "OFF".into(),
            actual: compress,
            fix: "SET GLOBAL log_bin_compress=OFF; binlog-cdc does not decode MariaDB's compressed events".into(),
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

/// Privileges held by the account, from `SHOW GRANTS` lines: those on
/// `*.*`, and those held on at least one database or table.
fn granted(grants: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut global, mut anywhere) = (Vec::new(), Vec::new());
    for line in grants {
        let upper = line.to_ascii_uppercase();
        // Role grants (`GRANT role TO user`) have no ON; PROXY is not a privilege on data.
        let Some(rest) = upper.strip_prefix("GRANT ") else { continue };
        let Some((privileges, target)) = rest.split_once(" ON ") else { continue };
        let target = target.split(" TO ").next().unwrap_or("").trim();
        for p in privileges.split(',') {
            // `SELECT (col1, col2)` column grants: the name before the list.
            let p = p.split('(').next().unwrap_or("").trim().to_string();
            if p.is_empty() || p == "PROXY" {
                continue;
            }
            if target == "*.*" {
                global.push(p.clone());
            }
            anywhere.push(p);
        }
    }
    (global, anywhere)
}

/// `user@host` as a GRANT statement names it: `'user'@'host'`.
fn account(current_user: &str) -> String {
    match current_user.rsplit_once('@') {
        Some((user, host)) => format!("'{user}'@'{host}'"),
        None => format!("'{current_user}'"),
    }
}

/// The privileges the connector uses: REPLICATION SLAVE (binlog dump),
/// REPLICATION CLIENT (SHOW MASTER STATUS / BINARY LOGS; MariaDB 10.5+
/// calls it BINLOG MONITOR) and SELECT (information_schema, snapshots).
/// Privileges that come only through a role are not seen.
pub async fn check_privileges(conn: &mut Conn) -> Result<Vec<Problem>, mysql_async::Error> {
    let grants: Vec<String> = conn.query("SHOW GRANTS FOR CURRENT_USER()").await?;
    let current: Option<String> = conn.query_first("SELECT CURRENT_USER()").await?;
    let account = account(current.as_deref().unwrap_or("connector-user"));
    let (global, anywhere) = granted(&grants);
    let all = global.iter().any(|p| p == "ALL PRIVILEGES" || p == "ALL");
    let mut problems = Vec::new();
    for (needed, also, scope, purpose) in [
        ("REPLICATION SLAVE", &[][..], &global, "it to read the binlog"),
        ("REPLICATION CLIENT", &["BINLOG MONITOR", "SUPER"][..], &global, "it to read the binlog position (SHOW MASTER STATUS)"),
        ("SELECT", &[][..], &anywhere, "it to read table structures and rows"),
    ] {
        let held = all || scope.iter().any(|p| p == needed || also.contains(&p.as_str()));
        if !held {
            problems.push(Problem {
                setting: format!("privilege {needed}"),
                expected: purpose.into(),
                actual: "missing".into(),
                fix: format!("GRANT {needed} ON *.* TO {account}"),
            });
        }
    }
    Ok(problems)
}

/// The signal table (`signal.data.collection`) exists with Debezium's
/// columns `id`, `type`, `data`.
pub async fn check_signal_table(conn: &mut Conn, db: &str, table: &str) -> Result<Vec<Problem>, mysql_async::Error> {
    let columns: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            (db, table),
        )
        .await?;
    let expected = ["id", "type", "data"];
    let ok = columns.len() >= 3 && columns.iter().zip(expected).all(|(c, e)| c.eq_ignore_ascii_case(e));
    Ok(if ok {
        Vec::new()
    } else {
        vec![Problem {
            setting: "signal.data.collection".into(),
            expected: format!("table {db}.{table} with columns (id, type, data)"),
            actual: if columns.is_empty() { "no such table".into() } else { format!("columns ({})", columns.join(", ")) },
            fix: format!(
                "CREATE TABLE {db}.{table} (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)"
            ),
        }]
    })
}

/// `SHOW MASTER STATUS`: the current binlog file and position.
pub async fn current_position(conn: &mut Conn) -> Result<Option<(String, u64)>, mysql_async::Error> {
    Ok(binlog_status(conn).await?.map(|(file, pos, _)| (file, pos)))
}

/// `SHOW MASTER STATUS` (MySQL 8.4: `SHOW BINARY LOG STATUS`): file,
/// position and, on MySQL, `Executed_Gtid_Set` (column 5; empty without GTIDs).
pub async fn binlog_status(conn: &mut Conn) -> Result<Option<(String, u64, Option<String>)>, mysql_async::Error> {
    let row: Option<mysql_async::Row> = match conn.query_first("SHOW MASTER STATUS").await {
        Ok(r) => r,
        Err(mysql_async::Error::Server(_)) => conn.query_first("SHOW BINARY LOG STATUS").await?,
        Err(e) => return Err(e),
    };
    Ok(row.and_then(|r| {
        let gtids = (r.len() > 4)
            .then(|| r.get::<Option<String>, _>(4).flatten())
            .flatten()
            .map(|g| g.replace(['\n', '\r', ' '], ""))
            .filter(|g| !g.is_empty());
        Some((r.get::<String, _>(0)?, r.get::<u64, _>(1)?, gtids))
    }))
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
    let (file, pos, mysql_gtids) = if from_oldest {
        (first_binlog(conn).await?.unwrap_or_default(), 4, None)
    } else {
        binlog_status(conn).await?.unwrap_or_default()
    };
    let mut p = Position::new(file, pos.max(4));
    p.gtids = gtids;
    // MySQL with GTIDs: the executed set, so restarts resume by GTID (spec §6).
    if !mariadb {
        use crate::offsets::gtid_mysql::GtidSet;
        p.gtids = mysql_gtids.and_then(|g| GtidSet::parse(&g).ok()).map(|s| GtidState::Mysql(s.sorted()));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn grants_are_read_by_privilege_name_and_scope() {
        let (global, anywhere) = granted(&lines(&[
            "GRANT SELECT, BINLOG MONITOR, REPLICATION SLAVE ADMIN ON *.* TO `cdc`@`%` IDENTIFIED BY PASSWORD '*AB'",
            "GRANT INSERT, SELECT (a, b) ON `shop`.`t` TO `cdc`@`%`",
            "GRANT `reader` TO `cdc`@`%`",
        ]));
        assert_eq!(global, ["SELECT", "BINLOG MONITOR", "REPLICATION SLAVE ADMIN"]);
        assert!(!global.contains(&"REPLICATION SLAVE".to_string()));
        assert!(anywhere.contains(&"INSERT".to_string()));
        let (global, _) = granted(&lines(&["GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION"]));
        assert!(global.is_empty());
        let (global, _) = granted(&lines(&["GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"]));
        assert_eq!(global, ["ALL PRIVILEGES"]);
    }

    #[test]
    fn accounts_are_quoted_for_grant() {
        assert_eq!(account("cdc@%"), "'cdc'@'%'");
        assert_eq!(account("a@b@localhost"), "'a@b'@'localhost'");
    }
}
