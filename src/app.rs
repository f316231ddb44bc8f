//! Wiring: build each stage from the configuration, connect them with
//! bounded channels, run until shutdown. No processing happens here; each
//! decision belongs to the stage that owns it.

use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tracing::{info, warn};

use crate::channel;
use crate::config::{self, Config, SinkType};
use crate::decode::decoder::{Decoder, DecodeError};
use crate::envelope::Encoder;
use crate::offsets::position::Position;
use crate::offsets::store::{OffsetStore, StoreError};
use crate::schema::Catalog;
use crate::sink::kafka::{KafkaSink, SinkError};
use crate::source::{self, preflight, stream, SourceError};
use crate::{settings, telemetry};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("the source server is not set up for binlog-cdc:\n  {}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n  "))]
    Preflight(Vec<preflight::Problem>),
    #[error("query on the source failed: {0}")]
    Query(#[from] mysql_async::Error),
    #[error(transparent)]
    Offsets(#[from] StoreError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(transparent)]
    Stdout(#[from] crate::sink::stdout::StdoutError),
    #[error(transparent)]
    Metrics(#[from] telemetry::http::MetricsError),
    #[error("{0}")]
    Usage(String),
    #[error("a pipeline task failed: {0}")]
    Task(String),
}

/// Logs the properties that were accepted but have no effect.
fn log_ignored(cfg: &Config) {
    for p in &cfg.ignored {
        info!(property = %p.name, reason = p.reason, "property accepted without effect");
    }
}

/// Connects to the source, retrying transient failures with backoff.
async fn connect_with_retry(cfg: &source::SourceConfig, mut shutdown: watch::Receiver<bool>) -> Result<mysql_async::Conn, AppError> {
    let mut wait = Duration::from_millis(250);
    loop {
        match source::connect(cfg).await {
            Ok(c) => return Ok(c),
            Err(e) if e.is_transient() => {
                warn!(endpoint = %cfg.endpoint(), error = %e, retry_in_ms = wait.as_millis() as u64, "database unreachable; retrying");
                tokio::select! {
                    _ = shutdown.changed() => return Err(e.into()),
                    _ = tokio::time::sleep(wait) => {}
                }
                wait = (wait * 2).min(Duration::from_secs(30));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Streams changes until `shutdown` flips, then drains and stores the final position.
pub async fn run(cfg: Config, shutdown: watch::Receiver<bool>) -> Result<(), AppError> {
    log_ignored(&cfg);
    let source_cfg = settings::source(&cfg);
    let mut conn = connect_with_retry(&source_cfg, shutdown.clone()).await?;
    let problems = preflight::check_binlog(&mut conn).await?;
    if !problems.is_empty() {
        return Err(AppError::Preflight(problems));
    }

    let store = settings::offset_store(&cfg);
    let stored = match &store {
        Some(store) => {
            store.ensure_topic().await?;
            let s = store.clone();
            tokio::task::spawn_blocking(move || s.load(Duration::from_secs(60)))
                .await
                .map_err(|e| AppError::Task(e.to_string()))??
        }
        None => None,
    };
    let start = match stored {
        Some(p) => {
            info!(file = %p.file, pos = p.pos, gtids = %p.gtids.as_ref().map(|g| g.to_string()).unwrap_or_default(), event = p.event, row = p.row, "resuming from the stored position");
            p
        }
        None => {
            let p = settings::initial_position(&mut conn, &cfg).await?;
            info!(file = %p.file, pos = p.pos, gtids = %p.gtids.as_ref().map(|g| g.to_string()).unwrap_or_default(), "no stored position; starting here");
            p
        }
    };
    drop(conn);

    if let Some(addr) = &cfg.metrics_address {
        let handle = telemetry::http::install()?;
        let addr = (addr.host.as_str(), addr.port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| AppError::Usage(format!("metrics.address {addr} does not resolve")))?;
        let rx = shutdown.clone();
        tokio::spawn(async move {
            if let Err(e) = telemetry::http::serve(addr, handle, rx).await {
                warn!(error = %e, "metrics endpoint stopped");
            }
        });
    }

    let (tx, rx) = channel::bounded(cfg.pipeline.max_queue_size, settings::queue_bytes(&cfg));
    let sink = match cfg.sink.sink_type {
        SinkType::Kafka => {
            let sink = KafkaSink::new(settings::kafka_sink(&cfg, store.as_ref()))?;
            tokio::spawn(async move { sink.run(rx).await.map_err(AppError::from) })
        }
        SinkType::Stdout => tokio::spawn(async move { crate::sink::stdout::run(rx).await.map_err(AppError::from) }),
    };

    let pool = mysql_async::Pool::new(source_cfg.opts());
    let filters = Arc::new(cfg.filters.clone());
    let mut decoder = Decoder::new(
        settings::decoder(&cfg),
        Encoder::new(settings::envelope(&cfg)),
        Catalog::new(pool.clone()),
        filters,
        tx,
        start,
    );
    let streamed = stream::run(&source_cfg, &mut decoder, shutdown).await;
    let finished = decoder.finish().await;
    let sunk = sink.await.map_err(|e| AppError::Task(e.to_string()))?;
    let _ = pool.disconnect().await;
    streamed.map_err(|e| match e {
        stream::RunError::Source(e) => AppError::Source(e),
        stream::RunError::Consumer(e) => AppError::Decode(e),
    })?;
    // A sink failure explains a closed channel better than the decoder's error.
    sunk?;
    finished?;
    Ok(())
}

/// `binlog-cdc check`: configuration, connectivity, server settings,
/// privileges and Kafka; returns the list of problems (empty = all good).
pub async fn check(cfg: &Config) -> Result<Vec<String>, AppError> {
    let mut problems = Vec::new();
    let source_cfg = settings::source(cfg);
    match source::connect(&source_cfg).await {
        Err(e) => problems.push(e.to_string()),
        Ok(mut conn) => {
            for p in preflight::check_binlog(&mut conn).await? {
                problems.push(p.to_string());
            }
            for p in preflight::check_privileges(&mut conn).await? {
                problems.push(p.to_string());
            }
            let _ = conn.disconnect().await;
        }
    }
    if let Some(store) = settings::offset_store(cfg) {
        let s = store.clone();
        let res = tokio::task::spawn_blocking(move || s.load(Duration::from_secs(15)))
            .await
            .map_err(|e| AppError::Task(e.to_string()))?;
        if let Err(e) = res {
            problems.push(e.to_string());
        }
    }
    Ok(problems)
}

fn require_store(cfg: &Config) -> Result<OffsetStore, AppError> {
    settings::offset_store(cfg).ok_or_else(|| {
        AppError::Usage("offsets live in Kafka; set sink.type=kafka and bootstrap.servers".into())
    })
}

/// `binlog-cdc offsets show`.
pub async fn offsets_show(cfg: &Config) -> Result<Option<Position>, AppError> {
    let store = require_store(cfg)?;
    tokio::task::spawn_blocking(move || store.load(Duration::from_secs(30)))
        .await
        .map_err(|e| AppError::Task(e.to_string()))?
        .map_err(AppError::from)
}

/// `binlog-cdc offsets set` / `reset` (`None` writes a tombstone).
pub async fn offsets_write(cfg: &Config, position: Option<Position>) -> Result<(), AppError> {
    let store = require_store(cfg)?;
    store.ensure_topic().await?;
    tokio::task::spawn_blocking(move || store.write(position.as_ref(), Duration::from_secs(30)))
        .await
        .map_err(|e| AppError::Task(e.to_string()))?
        .map_err(AppError::from)
}

/// Re-exported for the command line.
pub use config::load as load_config;
