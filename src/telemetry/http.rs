//! A minimal HTTP/1.1 responder for `GET /metrics` (Prometheus text) and
//! `GET /health` (200 while the binlog connection is up, 503 otherwise).
//! Two fixed routes do not justify a web framework.

use std::net::SocketAddr;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn};

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("cannot install the metrics recorder: {0}")]
    Recorder(String),
    #[error("cannot listen on metrics.address {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Installs the global recorder (once per process).
pub fn install() -> Result<PrometheusHandle, MetricsError> {
    PrometheusBuilder::new().install_recorder().map_err(|e| MetricsError::Recorder(e.to_string()))
}

/// Binds `addr`: a port that is taken is a definite error at start, not a
/// warning once the connector runs.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, MetricsError> {
    TcpListener::bind(addr).await.map_err(|source| MetricsError::Bind { addr, source })
}

/// Serves until `shutdown` turns true.
pub async fn serve(listener: TcpListener, handle: PrometheusHandle, mut shutdown: watch::Receiver<bool>) -> Result<(), MetricsError> {
    if let Ok(addr) = listener.local_addr() {
        info!(address = %addr, "serving /metrics and /health");
    }
    loop {
        let (mut sock, _) = tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    warn!(error = %e, "metrics accept failed");
                    continue;
                }
            },
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]);
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let (status, content_type, body) = match path {
                "/metrics" => ("200 OK", "text/plain; version=0.0.4", handle.render()),
                "/health" if super::is_connected() => ("200 OK", "application/json", "{\"status\":\"UP\"}".to_string()),
                "/health" => ("503 Service Unavailable", "application/json", "{\"status\":\"DOWN\"}".to_string()),
                _ => ("404 Not Found", "text/plain", "not found\n".to_string()),
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(response.as_bytes()).await;
        });
    }
}
