//! Wiring: build each stage from the configuration, connect them with
//! bounded channels, run until shutdown. No processing happens here; each
//! decision belongs to the stage that owns it.

use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tracing::{info, warn};

use crate::channel;
use crate::config::{self, Config, SinkType};
use crate::decode::decoder::{Decoder, DecodeError};
use crate::envelope::Encoder;
use crate::offsets::position::Position;
use crate::offsets::store::{OffsetStore, StoreError};
use crate::schema::Catalog;
use crate::snapshot::incremental::{BlockingContext, Controller};
use crate::sink::kafka::{KafkaSink, SinkError};
use crate::sink::topics::TopicError;
use crate::transform::Transforms;
use crate::source::{self, preflight, stream, SourceError};
use crate::{settings, snapshot, telemetry};

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
    Snapshot(#[from] crate::snapshot::SnapshotError),
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(transparent)]
    Stdout(#[from] crate::sink::stdout::StdoutError),
    #[error(transparent)]
    Metrics(#[from] telemetry::http::MetricsError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    BinlogFile(#[from] crate::source::file::FileError),
    #[error("binlog file {file}, offset {offset}, {event}: {source}")]
    ReplayEvent {
        file: String,
        offset: u64,
        event: String,
        #[source]
        source: DecodeError,
    },
    #[error("a pipeline task failed: {0}")]
    Task(String),
}

/// Logs `transforms.*` / `predicates.*` properties of transforms or
/// predicates that are not listed (Kafka Connect ignores them too).
fn log_unused_transform_properties(cfg: &Config) {
    for p in settings::transforms(cfg).chain.unused {
        info!(property = %p, reason = "its transform or predicate is not listed in `transforms` / `predicates`", "property accepted without effect");
    }
}

/// Logs the properties that were accepted but have no effect.
fn log_ignored(cfg: &Config) {
    for p in &cfg.ignored {
        info!(property = %p.name, reason = p.reason, "property accepted without effect");
    }
}

/// Connects to the source, retrying transient failures with backoff
/// (forever unless `errors.max.retries` says otherwise, as in Debezium);
/// `None` when shutdown came first.
async fn connect_with_retry(cfg: &source::SourceConfig, mut shutdown: watch::Receiver<bool>) -> Result<Option<mysql_async::Conn>, AppError> {
    let mut wait = Duration::from_millis(250);
    let mut failures = 0;
    loop {
        let attempt = tokio::select! {
            _ = shutdown.changed() => return Ok(None),
            r = source::connect(cfg) => r,
        };
        match attempt {
            Ok(c) => return Ok(Some(c)),
            Err(e) if e.is_transient() => {
                failures += 1;
                if !cfg.may_retry(failures) {
                    return Err(SourceError::GaveUp { endpoint: cfg.endpoint(), retries: failures - 1, last: e.to_string() }.into());
                }
                warn!(endpoint = %cfg.endpoint(), error = %e, retry_in_ms = wait.as_millis() as u64, "database unreachable; retrying");
                tokio::select! {
                    _ = shutdown.changed() => return Ok(None),
                    _ = tokio::time::sleep(wait) => {}
                }
                wait = (wait * 2).min(Duration::from_secs(30));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// How long Kafka may stay unreachable at start before the connector gives
/// up with an error: Kafka Connect's `default.api.timeout.ms`, after which a
/// worker that cannot describe the cluster fails to start.
const KAFKA_START_TIMEOUT: Duration = Duration::from_secs(60);
/// One metadata request of `binlog-cdc check`.
const KAFKA_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// Waits until Kafka answers, retrying with backoff for at most
/// [`KAFKA_START_TIMEOUT`]; `false` when shutdown came first.
async fn kafka_with_retry(store: &OffsetStore, mut shutdown: watch::Receiver<bool>) -> Result<bool, AppError> {
    let probe = Arc::new(store.probe()?);
    let started = Instant::now();
    let mut wait = Duration::from_millis(500);
    loop {
        let p = probe.clone();
        // Short attempts, so that SIGTERM is not held up by one.
        let attempt = tokio::task::spawn_blocking(move || p.attempt(Duration::from_secs(2)));
        let message = tokio::select! {
            _ = shutdown.changed() => return Ok(false),
            r = attempt => match r.map_err(|e| AppError::Task(e.to_string()))? {
                Ok(()) => return Ok(true),
                Err(message) => message,
            },
        };
        let waited = started.elapsed();
        if waited + wait >= KAFKA_START_TIMEOUT {
            let bootstrap = probe.bootstrap().to_string();
            return Err(SinkError::Topic(TopicError::Unreachable { bootstrap, waited, message }).into());
        }
        warn!(bootstrap_servers = %probe.bootstrap(), error = %message, retry_in_ms = wait.as_millis() as u64,
            "Kafka unreachable (check bootstrap.servers); retrying");
        tokio::select! {
            _ = shutdown.changed() => return Ok(false),
            _ = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(Duration::from_secs(10));
    }
}

/// Starts `/metrics` and `/health` (before anything else, so that health
/// reports 503 while the source or Kafka cannot be reached).
async fn serve_metrics(addr: &config::HostPort, shutdown: watch::Receiver<bool>) -> Result<(), AppError> {
    let handle = telemetry::http::install()?;
    telemetry::init();
    let addr = (addr.host.as_str(), addr.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| AppError::Usage(format!("metrics.address {addr} does not resolve")))?;
    let listener = telemetry::http::bind(addr).await?;
    tokio::spawn(async move {
        if let Err(e) = telemetry::http::serve(listener, handle, shutdown).await {
            warn!(error = %e, "metrics endpoint stopped");
        }
    });
    Ok(())
}

/// Streams changes until `shutdown` flips, then drains and stores the final position.
pub async fn run(cfg: Config, shutdown: watch::Receiver<bool>) -> Result<(), AppError> {
    log_ignored(&cfg);
    if let Some(addr) = &cfg.metrics_address {
        serve_metrics(addr, shutdown.clone()).await?;
    }
    let source_cfg = settings::source(&cfg);
    let Some(mut conn) = connect_with_retry(&source_cfg, shutdown.clone()).await? else {
        info!("stopped before the database could be reached");
        return Ok(());
    };
    let problems = preflight::check_binlog(&mut conn).await.map_err(|e| source::query_error(&source_cfg, e))?;
    if !problems.is_empty() {
        return Err(AppError::Preflight(problems));
    }
    if let Some(s) = settings::incremental(&cfg) {
        let (db, table) = &s.signal_table;
        for p in preflight::check_signal_table(&mut conn, db, table).await.map_err(|e| source::query_error(&source_cfg, e))? {
            warn!(problem = %p, "signals cannot work until this is fixed");
        }
    }

    let store = settings::offset_store(&cfg);
    let stored = match &store {
        Some(store) => {
            if !kafka_with_retry(store, shutdown.clone()).await? {
                info!("stopped before Kafka could be reached");
                return Ok(());
            }
            // A topic created just now holds no position: reading it would
            // only wait for its partitions' leaders (~0.2 s at every first start).
            let created = store.ensure_topic().await?;
            if created {
                None
            } else {
                let s = store.clone();
                tokio::task::spawn_blocking(move || s.load(Duration::from_secs(60)))
                    .await
                    .map_err(|e| AppError::Task(e.to_string()))??
            }
        }
        None => None,
    };
    let snapshot_settings = settings::snapshot(&cfg);
    let fresh = stored.is_none();
    let start = snapshot::plan(&snapshot_settings, stored, &mut conn, &source_cfg).await?;
    drop(conn);
    // No stored position and streaming starts at the server's position of
    // now: store it before anything else, or a crash before the first
    // commit would restart at a later "now" and skip the changes between.
    if let (true, Some(store), snapshot::Start::Stream(p)) = (fresh, &store, &start) {
        let (s, p) = (store.clone(), p.clone());
        tokio::task::spawn_blocking(move || s.write(Some(&p), Duration::from_secs(30)))
            .await
            .map_err(|e| AppError::Task(e.to_string()))??;
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
    let cx = snapshot::Context {
        settings: &snapshot_settings,
        source: &source_cfg,
        pool: &pool,
        envelope: settings::envelope(&cfg),
        filters: filters.clone(),
        out: &tx,
        shutdown: shutdown.clone(),
    };
    let snapshot = snapshot::run(start, cx).await;
    let start = match snapshot {
        Ok(snapshot::Outcome::Stream(p)) => p,
        stopped => {
            // Snapshot only, interrupted, or failed: deliver what was read
            // (its position makes a restart resume after it), then stop.
            drop(tx);
            let sunk = sink.await.map_err(|e| AppError::Task(e.to_string()))?;
            let _ = pool.disconnect().await;
            sunk?;
            stopped?;
            return Ok(());
        }
    };
    let incremental = settings::incremental(&cfg).map(|s| {
        let encoder = Arc::new(Encoder::new(settings::envelope(&cfg)));
        let mut c = Controller::new(s, pool.clone(), filters.clone(), encoder, &start);
        c.blocking = Some(BlockingContext {
            settings: snapshot_settings.clone(),
            source: source_cfg.clone(),
            envelope: settings::envelope(&cfg),
            shutdown: shutdown.clone(),
        });
        c
    });
    let mut decoder = Decoder::new(
        settings::decoder(&cfg),
        Encoder::new(settings::envelope(&cfg)),
        Catalog::new(pool.clone()),
        filters,
        tx,
        start,
    )
    .with_transforms(Transforms::new(settings::transforms(&cfg), Some(pool.clone())));
    if let Some(c) = incremental {
        decoder = decoder.with_incremental(c);
    }
    log_unused_transform_properties(&cfg);
    // The sink ends early only on a failure: stop streaming then, rather than
    // when the decoder next hands it a batch (an idle source may have none).
    let mut sink = sink;
    let streamed = tokio::select! {
        r = stream::run(&source_cfg, &mut decoder, shutdown) => r,
        sunk = &mut sink => {
            let _ = pool.disconnect().await;
            return sunk.map_err(|e| AppError::Task(e.to_string()))?;
        }
    };
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
            let query_error = |e| AppError::Source(source::query_error(&source_cfg, e));
            for p in preflight::check_binlog(&mut conn).await.map_err(query_error)? {
                problems.push(p.to_string());
            }
            for p in preflight::check_privileges(&mut conn).await.map_err(query_error)? {
                problems.push(p.to_string());
            }
            if let Some(s) = settings::incremental(cfg) {
                let (db, table) = &s.signal_table;
                for p in preflight::check_signal_table(&mut conn, db, table).await.map_err(query_error)? {
                    problems.push(p.to_string());
                }
            }
            let _ = conn.disconnect().await;
        }
    }
    if let Some(store) = settings::offset_store(cfg) {
        let probe = store.probe()?;
        let reached = tokio::task::spawn_blocking(move || probe.attempt(KAFKA_CHECK_TIMEOUT))
            .await
            .map_err(|e| AppError::Task(e.to_string()))?;
        match reached {
            Err(message) => problems.push(
                TopicError::Unreachable { bootstrap: store.bootstrap.clone(), waited: KAFKA_CHECK_TIMEOUT, message }.to_string(),
            ),
            Ok(()) => {
                let s = store.clone();
                let res = tokio::task::spawn_blocking(move || s.load(Duration::from_secs(15)))
                    .await
                    .map_err(|e| AppError::Task(e.to_string()))?;
                if let Err(e) = res {
                    problems.push(e.to_string());
                }
            }
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
