//! The source stage: connect to the primary as a replica and request the
//! binlog from a position; classify failures as transient (retry with
//! backoff, resume from the last position handed to the pipeline) or
//! definite (stop with a message saying what to do).
//!
//! The reconnect loop lives in `stream.rs`; it asks its consumer (the
//! decoder) where to resume, because only the decoder knows how far into a
//! transaction it got.

pub mod file;
pub mod preflight;
pub mod stream;

use std::time::Duration;

use mysql_async::BinlogStream;
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStreamRequest, Conn, Opts, OptsBuilder};

/// Connection settings of the source database.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub server_id: u32,
    /// Server heartbeat period requested on the binlog connection.
    pub heartbeat_ms: u64,
    pub connect_timeout_ms: u64,
    /// `errors.max.retries`: consecutive failed connection attempts that are
    /// retried; `None` retries forever (Debezium's -1, the default).
    pub max_retries: Option<u32>,
}

impl SourceConfig {
    pub fn opts(&self) -> Opts {
        OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .user(Some(self.user.clone()))
            .pass(Some(self.password.clone()))
            .prefer_socket(false)
            .into()
    }

    /// Whether to retry after `failures` consecutive transient failures.
    pub fn may_retry(&self, failures: u32) -> bool {
        self.max_retries.is_none_or(|n| failures <= n)
    }

    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Where to ask the server to start sending events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartAt {
    /// Binlog coordinates.
    File { file: String, pos: u64 },
    /// MariaDB: `@slave_connect_state`, the last GTID per domain already seen.
    MariaGtid(String),
    /// MySQL: COM_BINLOG_DUMP_GTID with the set of transactions already
    /// processed; the server sends every other one, from the oldest binlog
    /// that has it (error 1236 if it was purged).
    MysqlGtid(crate::offsets::gtid_mysql::GtidSet),
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot connect to the database at {endpoint}: {source}; check database.hostname/database.port and that the server is up")]
    Connect {
        endpoint: String,
        #[source]
        source: mysql_async::Error,
    },
    #[error("the server refused the login of `{user}` at {endpoint}: {message}; check database.user/database.password")]
    Auth { user: String, endpoint: String, message: String },
    #[error("the server at {endpoint} refused `{user}` permission to {action}: {message} (server error {code}). The connector user needs REPLICATION SLAVE (to read the binlog), REPLICATION CLIENT (its position) and SELECT: GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO '{user}'@'%'; `binlog-cdc check` lists what is missing")]
    Privilege { user: String, endpoint: String, action: &'static str, code: u16, message: String },
    #[error("the server cannot serve the binlog from {start}: {message} (server error 1236). The position was purged from the server's binlog (binlog_expire_logs_seconds, expire_logs_days, PURGE BINARY LOGS, RESET MASTER) or was never in it (offsets of another server). Changes after it that the server no longer has cannot be recovered from it. To continue, store a position the server still has with `binlog-cdc offsets set --file <file> --pos 4` (SHOW BINARY LOGS lists the files; changes in between will be missing), or remove the stored position with `binlog-cdc offsets reset` to start afresh")]
    PositionUnavailable { start: String, message: String },
    #[error("gave up on the database at {endpoint} after {retries} retries (errors.max.retries): {last}. Fix the cause and restart, or set errors.max.retries: -1 to retry forever")]
    GaveUp { endpoint: String, retries: u32, last: String },
    #[error("binlog stream from {endpoint} failed: {source}")]
    Stream {
        endpoint: String,
        #[source]
        source: mysql_async::Error,
    },
    #[error("{0}")]
    Query(String),
}

impl SourceError {
    /// Transient errors are retried; definite ones stop the connector.
    pub fn is_transient(&self) -> bool {
        matches!(self, SourceError::Connect { .. } | SourceError::Stream { .. })
    }
}

impl std::fmt::Display for StartAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartAt::File { file, pos } => write!(f, "file {file} position {pos}"),
            StartAt::MariaGtid(g) => write!(f, "GTID position {g}"),
            StartAt::MysqlGtid(set) => write!(f, "GTID set {set}"),
        }
    }
}

/// Server error codes that are facts about the request, not the network.
const ER_ACCESS_DENIED: u16 = 1045;
const ER_DBACCESS_DENIED: u16 = 1044;
/// "Access denied; you need (at least one of) the X privilege(s)".
const ER_SPECIFIC_ACCESS_DENIED: u16 = 1227;
const ER_MASTER_FATAL_READING_BINLOG: u16 = 1236;

/// `start` is `Some` on the binlog connection, once logged in.
pub(crate) fn classify(cfg: &SourceConfig, start: Option<&StartAt>, err: mysql_async::Error) -> SourceError {
    if let mysql_async::Error::Server(ref e) = err {
        match e.code {
            // After the login, "access denied" means a missing privilege
            // (MariaDB answers COM_REGISTER_SLAVE without REPLICATION SLAVE so).
            ER_ACCESS_DENIED | ER_DBACCESS_DENIED if start.is_some() => {
                return denied(cfg, "register as a replica and read the binlog", e)
            }
            ER_ACCESS_DENIED | ER_DBACCESS_DENIED => {
                return SourceError::Auth {
                    user: cfg.user.clone(),
                    endpoint: cfg.endpoint(),
                    message: e.message.clone(),
                }
            }
            ER_SPECIFIC_ACCESS_DENIED => return denied(cfg, "register as a replica and read the binlog", e),
            ER_MASTER_FATAL_READING_BINLOG => {
                return SourceError::PositionUnavailable {
                    start: start.map(|s| s.to_string()).unwrap_or_default(),
                    message: e.message.clone(),
                }
            }
            _ => {}
        }
    }
    SourceError::Stream { endpoint: cfg.endpoint(), source: err }
}

fn denied(cfg: &SourceConfig, action: &'static str, e: &mysql_async::ServerError) -> SourceError {
    SourceError::Privilege { user: cfg.user.clone(), endpoint: cfg.endpoint(), action, code: e.code, message: e.message.clone() }
}

/// A failed query on an established connection: a refused privilege is
/// definite and says what to grant; anything else names the server.
pub fn query_error(cfg: &SourceConfig, err: mysql_async::Error) -> SourceError {
    if let mysql_async::Error::Server(ref e) = err {
        if matches!(e.code, ER_ACCESS_DENIED | ER_DBACCESS_DENIED | ER_SPECIFIC_ACCESS_DENIED) {
            return denied(cfg, "run the query it needs", e);
        }
    }
    match classify(cfg, None, err) {
        SourceError::Stream { endpoint, source } => SourceError::Query(format!("query on {endpoint} failed: {source}")),
        definite => definite,
    }
}

/// Opens a plain connection (for queries).
pub async fn connect(cfg: &SourceConfig) -> Result<Conn, SourceError> {
    let timeout = Duration::from_millis(cfg.connect_timeout_ms.max(1));
    match tokio::time::timeout(timeout, Conn::new(cfg.opts())).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e @ mysql_async::Error::Server(_))) => Err(classify(cfg, None, e)),
        Ok(Err(e)) => Err(SourceError::Connect { endpoint: cfg.endpoint(), source: e }),
        Err(_) => Err(SourceError::Connect {
            endpoint: cfg.endpoint(),
            source: mysql_async::Error::Io(mysql_async::IoError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "connect.timeout.ms elapsed",
            ))),
        }),
    }
}

/// A GTID set as the SID block of COM_BINLOG_DUMP_GTID: one entry per
/// (UUID, tag), sorted as MySQL writes them, intervals half-open. With a
/// tag anywhere mysql_common writes the 8.4 tagged layout (the server reads
/// the count from bits 8..56 and ignores the low byte, which MySQL itself
/// sets to the format and mysql_common leaves 0).
pub fn gtid_sids(set: &crate::offsets::gtid_mysql::GtidSet) -> Vec<mysql_common::packets::Sid<'static>> {
    use mysql_common::packets::{GnoInterval, Sid, Tag};
    let mut sources: Vec<_> = set.iter().collect();
    sources.sort_by(|a, b| (a.uuid, a.tag).cmp(&(b.uuid, b.tag)));
    sources
        .into_iter()
        .map(|src| {
            let intervals = src.intervals.iter().map(|iv| GnoInterval::new(iv.start(), iv.end_exclusive())).collect();
            let sid = Sid::new(*src.uuid.as_bytes()).with_intervals(intervals);
            match src.tag.and_then(|t| Tag::new(t.as_str().to_string()).ok()) {
                Some(tag) => sid.with_tag(tag),
                None => sid,
            }
        })
        .collect()
}

/// Registers as a replica and requests the binlog from `start`.
pub async fn open_binlog(cfg: &SourceConfig, start: &StartAt) -> Result<BinlogStream, SourceError> {
    let mut conn = connect(cfg).await?;
    let set = |sql: String| sql;
    let mut statements = vec![
        // MariaDB: send GTID events and annotate nothing we did not ask for.
        set("SET @mariadb_slave_capability = 4".into()),
    ];
    if cfg.heartbeat_ms > 0 {
        statements.push(format!("SET @master_heartbeat_period = {}", cfg.heartbeat_ms * 1_000_000));
    }
    if let StartAt::MariaGtid(state) = start {
        statements.push(format!("SET @slave_connect_state = '{}'", state.replace('\'', "")));
        statements.push("SET @slave_gtid_strict_mode = 0".into());
        statements.push("SET @slave_gtid_ignore_duplicates = 0".into());
    }
    for sql in statements {
        conn.query_drop(&sql).await.map_err(|e| classify(cfg, Some(start), e))?;
    }
    let request = BinlogStreamRequest::new(cfg.server_id);
    let request = match start {
        StartAt::File { file, pos } => request.with_filename(file.as_bytes()).with_pos(*pos),
        StartAt::MariaGtid(_) => request.with_filename(b"").with_pos(4),
        StartAt::MysqlGtid(set) => request.with_gtid().with_filename(b"").with_pos(4).with_gtid_set(gtid_sids(set)),
    };
    conn.get_binlog_stream(request).await.map_err(|e| classify(cfg, Some(start), e))
}

#[cfg(test)]
mod gtid_dump_tests {
    use super::*;
    use crate::offsets::gtid_mysql::GtidSet;
    use mysql_common::packets::binlog_request::BinlogRequest;
    use mysql_common::proto::MySerialize;

    /// The SID block mysql_common writes into COM_BINLOG_DUMP_GTID.
    fn sid_block(set: &GtidSet) -> Vec<u8> {
        let request = BinlogRequest::new(7).with_use_gtid(true).with_sids(gtid_sids(set));
        let mut buf = Vec::new();
        match request.as_cmd() {
            mysql_common::misc::raw::Either::Right(cmd) => cmd.serialize(&mut buf),
            mysql_common::misc::raw::Either::Left(_) => panic!("not a GTID dump"),
        }
        // command(1) flags(2) server_id(4) name_len(4) name(0) pos(8) data_len(4)
        buf[23..].to_vec()
    }

    #[test]
    fn dump_gtid_sid_block_matches_mysqls_encoding() {
        let untagged = GtidSet::parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9,1e11fa47-71ca-11e1-9e33-c80aa9429562:3").unwrap();
        assert_eq!(sid_block(&untagged), untagged.encode_sid_block());
        assert_eq!(GtidSet::decode_sid_block(&sid_block(&untagged)).unwrap(), untagged);
        let tagged = GtidSet::parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:mytag:2-3").unwrap();
        let (ours, theirs) = (tagged.encode_sid_block(), sid_block(&tagged));
        // MySQL repeats the format in the low byte; the server ignores it.
        assert_eq!(ours[1..], theirs[1..]);
        assert_eq!(GtidSet::decode_sid_block(&theirs).unwrap(), tagged);
    }
}
