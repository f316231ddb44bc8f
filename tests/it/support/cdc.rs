//! Runs the binlog-cdc binary under test as a child process: start it with a
//! generated configuration, wait until it streams, stop it gently (SIGTERM)
//! or brutally (SIGKILL), and run its subcommands.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::mariadb::MariaDb;
use super::process::{self, Daemon};
use super::wait;

pub const BINARY: &str = env!("CARGO_BIN_EXE_binlog-cdc");

/// The binary to run: [`BINARY`], or `BINLOG_CDC_IT_BINARY` when set (e.g.
/// the static musl build, for `make bench`).
pub fn binary() -> std::ffi::OsString {
    std::env::var_os("BINLOG_CDC_IT_BINARY").unwrap_or_else(|| BINARY.into())
}

/// A replica server id no other test uses.
pub fn server_id() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    5000 + (std::process::id() % 1000) * 100 + NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Connector properties, written as dotted YAML keys.
#[derive(Debug, Clone)]
pub struct CdcConfig {
    pub props: Vec<(String, String)>,
}

impl CdcConfig {
    /// A MariaDB connector capturing `database`, streaming from the current
    /// position, offsets in a topic of its own.
    pub fn mariadb(db: &MariaDb, bootstrap: &str, prefix: &str, database: &str) -> Self {
        let props = [
            ("name", format!("{prefix}-connector")),
            ("connector.class", "io.debezium.connector.mariadb.MariaDbConnector".into()),
            ("database.hostname", db.host().into()),
            ("database.port", db.port().to_string()),
            ("database.user", db.user().into()),
            ("database.password", db.password().into()),
            ("database.server.id", server_id().to_string()),
            ("topic.prefix", prefix.into()),
            ("database.include.list", database.into()),
            ("snapshot.mode", "no_data".into()),
            ("include.schema.changes", "false".into()),
            ("bootstrap.servers", bootstrap.into()),
            ("offset.storage.topic", format!("{prefix}-offsets")),
            ("offset.storage.partitions", "3".into()),
            ("offset.flush.interval.ms", "100".into()),
        ];
        CdcConfig { props: props.into_iter().map(|(k, v)| (k.to_string(), v)).collect() }
    }

    pub fn set(mut self, key: &str, value: &str) -> Self {
        self.props.retain(|(k, _)| k != key);
        self.props.push((key.to_string(), value.to_string()));
        self
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.props.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn to_yaml(&self) -> String {
        self.props
            .iter()
            .map(|(k, v)| format!("{k}: {}\n", serde_json::Value::String(v.clone())))
            .collect()
    }

    /// Writes the configuration into `dir` and returns its path.
    pub fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join("cdc.yaml");
        std::fs::write(&path, self.to_yaml()).expect("write cdc.yaml");
        path
    }
}

/// A running connector.
pub struct Cdc {
    daemon: Daemon,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Cdc {
    pub fn start(cfg: &CdcConfig) -> Cdc {
        Self::start_with_env(cfg, &[])
    }

    pub fn start_with_env(cfg: &CdcConfig, env: &[(&str, &str)]) -> Cdc {
        let dir = process::scratch_dir("cdc");
        let path = cfg.write(dir.path());
        let log = dir.path().join("cdc.log");
        let mut cmd = Command::new(binary());
        cmd.arg("--config").arg(&path).env("BINLOG_CDC_LOG", "info,binlog_cdc=debug");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let daemon = Daemon::spawn(cmd, &log).expect("spawn binlog-cdc");
        Cdc { daemon, log, _dir: dir }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn log_tail(&self, lines: usize) -> String {
        process::tail(&self.log, lines)
    }

    /// The last `n` lines of the log without the per-commit `position stored`
    /// debug lines, for failure messages.
    pub fn log_excerpt(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().filter(|l| !l.contains("position stored")).collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Waits until the connector streams the binlog (or panics with its log).
    pub async fn wait_streaming(&self, deadline: Duration) {
        let ok = wait::wait_until("binlog-cdc streaming", deadline, || async {
            self.log().contains("streaming binlog") || self.daemon.exited().is_some()
        })
        .await;
        assert!(ok && self.daemon.exited().is_none(), "binlog-cdc did not start streaming:\n{}", self.log_tail(60));
    }

    pub fn pid(&self) -> Option<u32> {
        self.daemon.pid()
    }

    pub fn signal(&self, sig: libc::c_int) {
        if let Some(pid) = self.daemon.pid() {
            unsafe {
                libc::kill(pid as libc::pid_t, sig);
            }
        }
    }

    /// SIGTERM, then the exit status (None if it did not exit in time).
    pub async fn terminate(&self, deadline: Duration) -> Option<ExitStatus> {
        self.signal(libc::SIGTERM);
        wait::wait_for(deadline, || async { self.daemon.exited() }).await
    }

    /// SIGKILL: no chance to drain or store anything.
    pub fn kill9(&self) {
        self.daemon.kill();
    }

    pub fn exited(&self) -> Option<ExitStatus> {
        self.daemon.exited()
    }
}

/// Runs `binlog-cdc <args> --config <cfg>` to completion.
pub fn run_cli(cfg: &CdcConfig, args: &[&str]) -> Output {
    let dir = process::scratch_dir("cdc-cli");
    let path = cfg.write(dir.path());
    Command::new(binary())
        .args(args)
        .arg("--config")
        .arg(&path)
        .env("BINLOG_CDC_LOG", "warn")
        .output()
        .expect("run binlog-cdc")
}
