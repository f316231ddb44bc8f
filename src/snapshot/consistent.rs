//! The consistent point: one binlog position and N reader connections whose
//! transactions all see the database exactly as it was at that position.
//!
//! InnoDB gives each `START TRANSACTION WITH CONSISTENT SNAPSHOT` a read view
//! of everything committed before it. To make N views and the binlog position
//! agree, no commit may happen between the first view and the position read:
//! a lock connection holds `FLUSH TABLES WITH READ LOCK` (or, for a user
//! without RELOAD, `LOCK TABLES … READ` on the captured tables: their writers
//! are what must wait) while every reader opens its transaction and the
//! position is read, then releases it (`minimal`: milliseconds) or keeps it
//! until the snapshot ends (`extended`). With `none` no lock is taken: the
//! position is read *before* the readers open their views, so streaming
//! starts no later than any view (changes in between are seen twice, as `r`
//! and again as events; the topic still converges to the table).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts};
use tracing::{debug, info, warn};

use super::state::TableId;
use super::tables::discover;
use super::{Locking, SnapshotError};
use crate::decode::decoder::TableFilter;
use crate::offsets::gtid_mariadb::MariaGtidPos;
use crate::offsets::gtid_mysql::GtidSet;
use crate::offsets::position::{GtidState, Position};

/// Server errors meaning "you lack the privilege".
const ER_SPECIFIC_ACCESS_DENIED: u16 = 1227;
const ER_DBACCESS_DENIED: u16 = 1044;
const ER_TABLEACCESS_DENIED: u16 = 1142;
const ER_ACCESS_DENIED: u16 = 1045;

/// Readers at one consistent point, and the lock when it is kept.
pub struct ConsistentPoint {
    pub position: Position,
    /// The captured tables (read under the lock) and their row estimates.
    pub tables: Vec<(TableId, u64)>,
    pub readers: Vec<Conn>,
    /// Held until [`ConsistentPoint::release`] in `extended` mode.
    lock: Option<Conn>,
    pub lock_held_for: Duration,
}

impl ConsistentPoint {
    /// Ends the `extended` lock (no-op otherwise).
    pub async fn release(&mut self) {
        if let Some(mut c) = self.lock.take() {
            let _ = c.query_drop("UNLOCK TABLES").await;
            let _ = c.disconnect().await;
        }
    }
}

fn q(context: impl Into<String>) -> impl FnOnce(mysql_async::Error) -> SnapshotError {
    let context = context.into();
    move |source| SnapshotError::Query { context, source }
}

/// A session for reading rows: typed values in UTC, strings in their column
/// charset, and timeouts long enough for a reader that waits on Kafka.
pub async fn reader_session(opts: &Opts) -> Result<Conn, SnapshotError> {
    let mut c = Conn::new(opts.clone()).await.map_err(q("connecting a snapshot reader"))?;
    c.query_drop(
        "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ; SET SESSION time_zone = '+00:00', \
         SESSION character_set_results = NULL, SESSION net_write_timeout = 3600, \
         SESSION net_read_timeout = 3600, SESSION wait_timeout = 86400",
    )
    .await
    .map_err(q("setting up a snapshot reader session"))?;
    Ok(c)
}

fn is_privilege_error(e: &mysql_async::Error) -> bool {
    matches!(e, mysql_async::Error::Server(s)
        if [ER_SPECIFIC_ACCESS_DENIED, ER_DBACCESS_DENIED, ER_TABLEACCESS_DENIED, ER_ACCESS_DENIED].contains(&s.code))
}

pub fn quote(ident: &str) -> String {
    format!("`{}`", ident.replace('`', "``"))
}

/// Takes the lock (per `locking`), lists the captured tables, opens
/// `readers` transactions, reads the position.
pub async fn open(
    opts: &Opts,
    locking: Locking,
    lock_timeout: Duration,
    readers: usize,
    mariadb: bool,
    filters: &dyn TableFilter,
) -> Result<ConsistentPoint, SnapshotError> {
    let mut sessions = Vec::with_capacity(readers);
    for _ in 0..readers.max(1) {
        sessions.push(reader_session(opts).await?);
    }
    let mut lock = Conn::new(opts.clone()).await.map_err(q("connecting the snapshot lock session"))?;
    let secs = lock_timeout.as_secs().max(1);
    lock.query_drop(format!("SET SESSION lock_wait_timeout = {secs}, SESSION innodb_lock_wait_timeout = {secs}"))
        .await
        .map_err(q("setting lock_wait_timeout"))?;

    let started = std::time::Instant::now();
    let position;
    let tables;
    match locking {
        Locking::None => {
            tables = discover(&mut lock, filters).await?;
            position = read_position(&mut lock, mariadb).await?;
            begin_all(&mut sessions).await?;
        }
        Locking::Minimal | Locking::Extended => {
            match lock.query_drop("FLUSH TABLES WITH READ LOCK").await {
                Ok(()) => {
                    debug!("global read lock taken");
                    // Listed under the lock: no table appears or goes unseen.
                    tables = discover(&mut lock, filters).await?;
                }
                Err(e) if is_privilege_error(&e) => {
                    tables = discover(&mut lock, filters).await?;
                    // No RELOAD (managed clouds): lock the captured tables only.
                    let list: Vec<String> =
                        tables.iter().map(|((d, t), _)| format!("{}.{} READ", quote(d), quote(t))).collect();
                    warn!(error = %e, "FLUSH TABLES WITH READ LOCK refused; locking the captured tables instead (LOCK TABLES)");
                    if !list.is_empty() {
                    lock.query_drop(format!("LOCK TABLES {}", list.join(", "))).await.map_err(|e| {
                        SnapshotError::Lock(format!(
                            "neither FLUSH TABLES WITH READ LOCK nor LOCK TABLES was allowed ({e}); grant RELOAD, or LOCK TABLES and SELECT on the captured tables, or set snapshot.locking.mode=none"
                        ))
                    })?;
                    }
                }
                Err(e) => {
                    return Err(SnapshotError::Lock(format!(
                        "FLUSH TABLES WITH READ LOCK failed: {e} (snapshot.lock.timeout.ms={}; a long transaction or DDL may hold the tables)",
                        lock_timeout.as_millis()
                    )))
                }
            }
            let opened = begin_all(&mut sessions).await;
            let read = match opened {
                Ok(()) => read_position(&mut lock, mariadb).await,
                Err(e) => Err(e),
            };
            if locking == Locking::Minimal || read.is_err() {
                let _ = lock.query_drop("UNLOCK TABLES").await;
            }
            position = read?;
        }
    }
    let lock_held_for = started.elapsed();
    if mariadb {
        // MariaDB says where each view stands in the binlog: a cross-check.
        for s in &mut sessions {
            let row: Option<(String, String)> =
                s.query_first("SHOW STATUS LIKE 'binlog_snapshot_position'").await.ok().flatten();
            if let Some((_, pos)) = row {
                if pos.parse::<u64>().ok() != Some(position.pos) && locking != Locking::None {
                    warn!(view_pos = %pos, pos = position.pos, "a snapshot reader's view is not at the snapshot position");
                }
            }
        }
    }
    info!(
        file = %position.file, pos = position.pos,
        gtids = %position.gtids.as_ref().map(|g| g.to_string()).unwrap_or_default(),
        readers = sessions.len(), locking = ?locking, lock_ms = lock_held_for.as_millis() as u64,
        "snapshot consistent point taken"
    );
    let lock = (locking == Locking::Extended).then_some(lock);
    Ok(ConsistentPoint { position, tables, readers: sessions, lock, lock_held_for })
}

async fn begin_all(sessions: &mut [Conn]) -> Result<(), SnapshotError> {
    for s in sessions.iter_mut() {
        s.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            .await
            .map_err(q("START TRANSACTION WITH CONSISTENT SNAPSHOT"))?;
    }
    Ok(())
}

/// The binlog position now: file, offset, GTIDs (MySQL `Executed_Gtid_Set`,
/// MariaDB `@@gtid_binlog_pos`) and the server's clock.
pub async fn read_position(conn: &mut Conn, mariadb: bool) -> Result<Position, SnapshotError> {
    let row: Option<mysql_async::Row> = match conn.query_first("SHOW MASTER STATUS").await {
        Ok(r) => r,
        // MySQL 8.4 renamed it.
        Err(mysql_async::Error::Server(_)) => {
            conn.query_first("SHOW BINARY LOG STATUS").await.map_err(q("SHOW BINARY LOG STATUS"))?
        }
        Err(e) => return Err(q("SHOW MASTER STATUS")(e)),
    };
    let row = row.ok_or_else(|| {
        SnapshotError::Lock("SHOW MASTER STATUS returned nothing: is the binary log enabled (log_bin)?".into())
    })?;
    let file: String = row.get(0).unwrap_or_default();
    let pos: u64 = row.get(1).unwrap_or(4);
    let mut position = Position::new(file, pos);
    if mariadb {
        let g: Option<Option<String>> =
            conn.query_first("SELECT @@GLOBAL.gtid_binlog_pos").await.map_err(q("reading gtid_binlog_pos"))?;
        position.gtids = g.flatten().filter(|s| !s.trim().is_empty()).and_then(|s| MariaGtidPos::parse(&s).ok()).map(GtidState::Mariadb);
    } else if row.len() > 4 {
        let g: Option<String> = row.get(4);
        position.gtids = g
            .map(|s| s.replace(['\n', ' '], ""))
            .filter(|s| !s.is_empty())
            .and_then(|s| GtidSet::parse(&s).ok())
            .map(GtidState::Mysql);
    }
    let now: Option<i64> = conn.query_first("SELECT UNIX_TIMESTAMP()").await.ok().flatten();
    position.ts_sec = Some(now.unwrap_or_else(|| {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    }));
    Ok(position)
}
