//! The source stage: connect to the primary as a replica and request the
//! binlog from a position; classify failures as transient (retry with
//! backoff, resume from the last position handed to the pipeline) or
//! definite (stop with a message saying what to do).
//!
//! The reconnect loop lives in `stream.rs`; it asks its consumer (the
//! decoder) where to resume, because only the decoder knows how far into a
//! transaction it got.

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
    #[error("the server cannot serve the binlog from {start}: {message}. The position was probably purged (binlog_expire_logs_seconds / PURGE BINARY LOGS). To continue, set a newer position with `binlog-cdc offsets set` (changes in between will be missing) or reset the offsets and take a new snapshot")]
    PositionUnavailable { start: String, message: String },
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
        }
    }
}

/// Server error codes that are facts about the request, not the network.
const ER_ACCESS_DENIED: u16 = 1045;
const ER_DBACCESS_DENIED: u16 = 1044;
const ER_MASTER_FATAL_READING_BINLOG: u16 = 1236;

pub(crate) fn classify(cfg: &SourceConfig, start: Option<&StartAt>, err: mysql_async::Error) -> SourceError {
    if let mysql_async::Error::Server(ref e) = err {
        match e.code {
            ER_ACCESS_DENIED | ER_DBACCESS_DENIED => {
                return SourceError::Auth {
                    user: cfg.user.clone(),
                    endpoint: cfg.endpoint(),
                    message: e.message.clone(),
                }
            }
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
    };
    conn.get_binlog_stream(request).await.map_err(|e| classify(cfg, Some(start), e))
}
