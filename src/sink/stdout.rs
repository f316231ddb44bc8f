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
    let mut line = Vec::with_capacity(4096);
    while let Some((batch, permit)) = rx.recv().await {
        let mut out = stdout.lock();
        for r in &batch.records {
            line.clear();
            line.extend_from_slice(b"{\"topic\":");
            json::string(&mut line, &r.topic);
            line.extend_from_slice(b",\"key\":");
            line.extend_from_slice(r.key.as_deref().unwrap_or(b"null"));
            line.extend_from_slice(b",\"value\":");
            line.extend_from_slice(r.value.as_deref().unwrap_or(b"null"));
            line.extend_from_slice(b"}\n");
            out.write_all(&line)?;
        }
        out.flush()?;
        drop(permit);
    }
    Ok(())
}
