//! `binlog-cdc replay`: binlog files from disk → the same decoder → the
//! configured sink. Wiring only, like `app.rs`.
//!
//! The files take the place of the replication stream: each one is opened
//! as the server opens a dump, with an artificial ROTATE naming it (so
//! `source.file` is the file's name and `source.pos` its offsets), and its
//! events go through [`Decoder`] exactly as streamed events do — GTIDs,
//! compressed transactions, partial JSON updates and all.
//!
//! Offline there is no `information_schema`: table structures come from the
//! TABLE_MAP events (`binlog_row_metadata=FULL` names the columns). For a
//! TABLE_MAP without names, [`MinimalMetadata`] decides: an error naming the
//! table (default, subject to `inconsistent.schema.handling.mode`), or
//! synthetic names `col_1`, `col_2`, ….
//!
//! Replay never stores a position: the offsets topic belongs to the running
//! connector, and a replay is a side job over files that may be from any
//! server or time.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;
use tracing::info;

use crate::app::AppError;
use crate::config::{Config, SinkType};
use crate::decode::decoder::Decoder;
use crate::envelope::Encoder;
use crate::offsets::position::Position;
use crate::schema::{Catalog, MinimalMetadata};
use crate::sink::kafka::KafkaSink;
use crate::source::file::{event_type_name, BinlogFile, Limits};
use crate::source::stream::EventConsumer;
use crate::{channel, settings};

/// What `binlog-cdc replay` was asked to do.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Files in the order to decode them.
    pub files: Vec<PathBuf>,
    pub minimal_metadata: MinimalMetadata,
    pub limits: Limits,
}

/// `source.file` of a path: its last component, as the server names binlogs.
fn binlog_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// The artificial ROTATE a server sends when a dump starts at `name`:4.
fn artificial_rotate(name: &str) -> Result<mysql_common::binlog::events::Event, std::io::Error> {
    use mysql_common::binlog::{consts::BinlogVersion, EventStreamReader};
    let size = (19 + 8 + name.len()) as u32;
    let mut bytes = Vec::with_capacity(size as usize);
    bytes.extend_from_slice(&0u32.to_le_bytes()); // timestamp
    bytes.push(4); // ROTATE_EVENT
    bytes.extend_from_slice(&0u32.to_le_bytes()); // server id
    bytes.extend_from_slice(&size.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes()); // log_pos 0: artificial
    bytes.extend_from_slice(&0x20u16.to_le_bytes()); // LOG_EVENT_ARTIFICIAL_F
    bytes.extend_from_slice(&4u64.to_le_bytes());
    bytes.extend_from_slice(name.as_bytes());
    EventStreamReader::new(BinlogVersion::Version4)
        .read(&bytes[..])?
        .ok_or_else(|| std::io::Error::other("empty rotate event"))
}

/// Decodes the files in order and delivers their records; stops early when
/// `shutdown` turns true.
pub async fn run(cfg: Config, opts: ReplayOptions, shutdown: watch::Receiver<bool>) -> Result<(), AppError> {
    let Some(first) = opts.files.first() else {
        return Err(AppError::Usage("replay needs at least one --file".into()));
    };
    let (tx, rx) = channel::bounded(cfg.pipeline.max_queue_size, settings::queue_bytes(&cfg));
    let sink = match cfg.sink.sink_type {
        SinkType::Kafka => {
            // No offsets target: replay must not move the connector's position.
            let sink = KafkaSink::new(settings::kafka_sink(&cfg, None))?;
            tokio::spawn(async move { sink.run(rx).await.map_err(AppError::from) })
        }
        SinkType::Stdout => tokio::spawn(async move { crate::sink::stdout::run(rx).await.map_err(AppError::from) }),
    };
    let mut decoder = Decoder::new(
        settings::decoder(&cfg),
        Encoder::new(settings::envelope(&cfg)),
        Catalog::new_offline(opts.minimal_metadata),
        Arc::new(cfg.filters.clone()),
        tx,
        Position::new(binlog_name(first), 4),
    )
    // The same records as streaming would write; no heartbeats (no server).
    .with_transforms(crate::transform::Transforms::new(
        crate::transform::Settings { heartbeat: None, ..settings::transforms(&cfg) },
        None,
    ));
    let decoded = decode_files(&mut decoder, &opts, &shutdown).await;
    // Deliver what was decoded before any failure, then report it.
    let finished = decoder.finish().await;
    let sunk = sink.await.map_err(|e| AppError::Task(e.to_string()))?;
    sunk?;
    decoded?;
    finished?;
    Ok(())
}

async fn decode_files(decoder: &mut Decoder, opts: &ReplayOptions, shutdown: &watch::Receiver<bool>) -> Result<(), AppError> {
    decoder.on_connected();
    for path in &opts.files {
        let mut file = BinlogFile::open(path, opts.limits)?;
        let (events, done) = feed_file(decoder, &binlog_name(path), &mut file, shutdown).await?;
        if !done {
            info!(file = %path.display(), events, "replay interrupted");
            return Ok(());
        }
        info!(file = %path.display(), events, "replayed binlog file");
    }
    Ok(())
}

/// Feeds one file to the decoder, after an artificial ROTATE naming it
/// `name`; the number of events, and `false` if `shutdown` came first.
pub async fn feed_file<R: std::io::Read>(
    decoder: &mut Decoder,
    name: &str,
    file: &mut BinlogFile<R>,
    shutdown: &watch::Receiver<bool>,
) -> Result<(u64, bool), AppError> {
    let rotate = artificial_rotate(name).map_err(|e| AppError::Task(format!("artificial rotate for {name}: {e}")))?;
    decoder.handle(rotate).await?;
    let mut events = 0u64;
    while let Some(ev) = file.next_event()? {
        let (offset, code) = (ev.offset, ev.event.header().event_type_raw());
        decoder.handle(ev.event).await.map_err(|source| AppError::ReplayEvent {
            file: file.name().to_string(),
            offset,
            event: format!("{} ({code})", event_type_name(code)),
            source,
        })?;
        events += 1;
        if *shutdown.borrow() {
            return Ok((events, false));
        }
    }
    decoder.idle().await?;
    Ok((events, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artificial_rotate_names_the_file() {
        let ev = artificial_rotate("mysql-bin.000042").unwrap();
        let Ok(Some(mysql_common::binlog::events::EventData::RotateEvent(re))) = ev.read_data() else { panic!("not a rotate") };
        assert_eq!((re.name().as_ref(), re.position()), ("mysql-bin.000042", 4));
        assert_eq!(ev.header().log_pos(), 0);
    }
}
