//! Writes records as JSON lines `{"topic":…,"key":…,"value":…}` to
//! standard output (key and value embedded as the JSON they are, or null),
//! for debugging and for measuring decode speed without a broker.
//! Positions are not stored: every start follows the configured start.

use std::io::Write;

use crate::channel;
use crate::decode::decoder::Batch;
use crate::envelope::json;

#[derive(Debug, thiserror::Error)]
#[error("writing to standard output failed: {0}")]
pub struct StdoutError(#[from] std::io::Error);

pub async fn run(mut rx: channel::Receiver<Batch>) -> Result<(), StdoutError> {
    let stdout = std::io::stdout();
    // Lines are collected and written a batch (at most 1 MiB) at a time:
    // standard output is line-buffered, one write(2) per line otherwise.
    const CHUNK: usize = 1 << 20;
    let mut buf = Vec::with_capacity(64 * 1024);
    while let Some((batch, permit)) = rx.recv().await {
        let mut out = stdout.lock();
        for r in &batch.records {
            buf.extend_from_slice(b"{\"topic\":");
            json::string(&mut buf, &r.topic);
            buf.extend_from_slice(b",\"key\":");
            buf.extend_from_slice(r.key.as_deref().unwrap_or(b"null"));
            buf.extend_from_slice(b",\"value\":");
            buf.extend_from_slice(r.value.as_deref().unwrap_or(b"null"));
            buf.extend_from_slice(b"}\n");
            if buf.len() >= CHUNK {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        out.write_all(&buf)?;
        buf.clear();
        out.flush()?;
        drop(permit);
    }
    Ok(())
}
