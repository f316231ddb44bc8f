//! The compatibility oracle: real Debezium (MariaDB connector) inside Kafka
//! Connect standalone, run by the tests from the jars that `make
//! debezium-jars` puts in `.cache/jars/debezium` (everything on one class
//! path, no `plugin.path`). Owns the worker and connector properties, the
//! child process (SIGKILLed with the test process, killed on drop) and the
//! readiness conditions: Connect's REST answering, then the binlog client
//! connected ([`Debezium::wait_streaming`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::mariadb::MariaDb;
use crate::support::process::{free_port, scratch_dir, tail, Daemon};
use crate::support::wait::wait_for;

/// Connect's REST server up and the connector registered.
const START_DEADLINE: Duration = Duration::from_secs(120);
/// Logged by Debezium once its binlog client has sent the dump request from
/// the snapshot's (or the stored offset's) GTID position: every change
/// committed after that position is streamed; the snapshot, if any, is over.
/// A refused dump (e.g. no REPLICATION SLAVE) is only logged after this.
const STREAMING_MARK: &str = "Connected to binlog at ";
/// Logged by Connect when a task (or the connector) dies for good.
const FAILED_MARKS: [&str; 2] = ["unrecoverable exception", "Error while starting connector"];

/// What to run: connector properties (`name` included), converter and extra
/// worker settings. Build with [`DebeziumConfig::mariadb`], adjust with `set`.
#[derive(Clone, Debug)]
pub struct DebeziumConfig {
    pub bootstrap: String,
    pub connector: BTreeMap<String, String>,
    /// `key.converter.schemas.enable` / `value.converter.schemas.enable`.
    pub schemas_enable: bool,
    /// Extra or overriding worker properties.
    pub worker: BTreeMap<String, String>,
}

impl DebeziumConfig {
    /// The MariaDB connector capturing `database` of `db` into topics
    /// `<topic_prefix>.<db>.<table>`; `snapshot.mode=no_data`, connecting as
    /// `db`'s user, with a random `database.server.id`.
    pub fn mariadb(db: &MariaDb, bootstrap: &str, topic_prefix: &str, database: &str) -> Self {
        let server_id = 100_000 + rand::random::<u32>() % 1_000_000;
        let connector = [
            ("name", "debezium"),
            ("connector.class", "io.debezium.connector.mariadb.MariaDbConnector"),
            ("tasks.max", "1"),
            ("database.hostname", db.host()),
            ("database.port", &db.port().to_string()),
            ("database.user", db.user()),
            ("database.password", db.password()),
            ("database.server.id", &server_id.to_string()),
            ("topic.prefix", topic_prefix),
            ("database.include.list", database),
            ("schema.history.internal.kafka.bootstrap.servers", bootstrap),
            ("schema.history.internal.kafka.topic", &format!("{topic_prefix}.schema-history")),
            ("snapshot.mode", "no_data"),
            // The test broker does not auto-create topics: Connect creates them.
            ("topic.creation.default.replication.factor", "1"),
            ("topic.creation.default.partitions", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        DebeziumConfig { bootstrap: bootstrap.into(), connector, schemas_enable: true, worker: BTreeMap::new() }
    }

    /// Sets (or overrides) one connector property.
    pub fn set(mut self, key: &str, value: &str) -> Self {
        self.connector.insert(key.into(), value.into());
        self
    }

    /// JSON converter with (`true`, the default) or without schemas.
    pub fn schemas(mut self, enable: bool) -> Self {
        self.schemas_enable = enable;
        self
    }

    fn name(&self) -> &str {
        self.connector.get("name").map(String::as_str).unwrap_or("debezium")
    }
}

/// A running Connect worker with one Debezium connector.
pub struct Debezium {
    cfg: DebeziumConfig,
    rest_port: u16,
    /// Streaming marks seen by the last successful `wait_streaming`.
    streams_seen: AtomicUsize,
    // Field order matters: the process is killed before its directory goes.
    daemon: Daemon,
    dir: TempDir,
}

impl Debezium {
    /// Starts Connect with `cfg` and waits until its REST server lists the
    /// connector (panics with the log on failure). Call
    /// [`Debezium::wait_streaming`] before making the changes to capture.
    pub async fn start(cfg: DebeziumConfig) -> Debezium {
        let mut dir = scratch_dir("debezium");
        let mut last_err = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            let daemon = spawn(&cfg, dir.path(), port);
            let dbz = Debezium { cfg: cfg.clone(), rest_port: port, streams_seen: 0.into(), daemon, dir };
            match dbz.wait_rest().await {
                Ok(()) => return dbz,
                // A REST port taken between free_port() and bind: try another.
                Err(e) if e.contains("Address already in use") => last_err = e,
                Err(e) => panic!("{e}"),
            }
            let Debezium { daemon, dir: d, .. } = dbz;
            daemon.kill();
            dir = d;
            let _ = fs::remove_file(dir.path().join("connect.log"));
        }
        panic!("{last_err}")
    }

    /// Waits until Debezium streams from the binlog, so that every change
    /// committed after this returns is captured. Panics, with the log, when
    /// the worker or the connector fails or `deadline` passes. (A server that
    /// refuses the binlog dump shows up later: see [`Debezium::failure`].)
    pub async fn wait_streaming(&self, deadline: Duration) {
        let seen = self.streams_seen.load(Ordering::Relaxed);
        let got = wait_for(deadline, || async {
            if let Some(why) = self.failure() {
                return Some(Err(why));
            }
            let log = fs::read_to_string(self.log_path()).unwrap_or_default();
            let n = log.matches(STREAMING_MARK).count();
            (n > seen).then_some(Ok(n))
        })
        .await;
        match got {
            Some(Ok(n)) => self.streams_seen.store(n, Ordering::Relaxed),
            Some(Err(why)) => panic!("Debezium: {why}:\n{}", self.log_tail(60)),
            None => panic!("Debezium not streaming after {deadline:?}:\n{}", self.log_tail(60)),
        }
    }

    /// Stops Connect gracefully (SIGTERM: offsets are flushed), then starts it
    /// again with the same configuration and offsets file.
    pub async fn restart(&mut self) {
        self.stop_gracefully(Duration::from_secs(60)).await;
        self.daemon = spawn(&self.cfg, self.dir.path(), self.rest_port);
        if let Err(e) = self.wait_rest().await {
            panic!("{e}");
        }
    }

    /// SIGTERM, then SIGKILL if Connect is still running after `deadline`.
    pub async fn stop_gracefully(&self, deadline: Duration) {
        if let Some(pid) = self.daemon.pid() {
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
            wait_for(deadline, || async { self.daemon.exited().map(|_| ()) }).await;
        }
        self.daemon.kill();
    }

    /// Why Debezium is dead, if it is: Connect exited or a task failed.
    pub fn failure(&self) -> Option<String> {
        if let Some(status) = self.daemon.exited() {
            return Some(format!("Kafka Connect exited ({status})"));
        }
        let log = fs::read_to_string(self.log_path()).unwrap_or_default();
        FAILED_MARKS.iter().find(|m| log.contains(*m)).map(|m| format!("connector failed ({m})"))
    }

    /// The connector's REST status (`/connectors/<name>/status`), if any.
    pub async fn status(&self) -> Option<serde_json::Value> {
        let body = http_get(self.rest_port, &format!("/connectors/{}/status", self.cfg.name())).await?;
        serde_json::from_str(&body).ok()
    }

    /// The Kafka Connect JVM's process id (for CPU and memory figures).
    pub fn pid(&self) -> Option<u32> {
        self.daemon.pid()
    }

    pub fn config(&self) -> &DebeziumConfig {
        &self.cfg
    }
    /// Scratch directory: `*.properties`, `connect.log`, `connect.out`, `offsets.dat`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
    /// Last `lines` lines of Connect's log without Java stack frames, then
    /// its stdout/stderr: for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = fs::read_to_string(self.log_path()).unwrap_or_default();
        let kept: Vec<&str> = log.lines().filter(|l| !l.starts_with("\tat ") && !l.starts_with("\t... ")).collect();
        let out = tail(&self.dir().join("connect.out"), 20);
        format!("{}\n{out}", kept[kept.len().saturating_sub(lines)..].join("\n"))
    }

    fn log_path(&self) -> PathBuf {
        self.dir().join("connect.log")
    }

    async fn wait_rest(&self) -> Result<(), String> {
        let got = wait_for(START_DEADLINE, || async {
            if let Some(status) = self.daemon.exited() {
                return Some(Err(format!("Kafka Connect exited ({status})")));
            }
            self.status().await.map(|_| Ok(()))
        })
        .await;
        match got {
            Some(Ok(())) => Ok(()),
            Some(Err(why)) => Err(format!("{why}:\n{}", self.log_tail(60))),
            None => Err(format!("Kafka Connect REST not up after {START_DEADLINE:?}:\n{}", self.log_tail(60))),
        }
    }
}

/// Writes the property files into `dir` and spawns ConnectStandalone.
fn spawn(cfg: &DebeziumConfig, dir: &Path, rest_port: u16) -> Daemon {
    let schemas = cfg.schemas_enable.to_string();
    let mut worker: BTreeMap<String, String> = [
        ("bootstrap.servers", cfg.bootstrap.as_str()),
        ("key.converter", "org.apache.kafka.connect.json.JsonConverter"),
        ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
        ("key.converter.schemas.enable", &schemas),
        ("value.converter.schemas.enable", &schemas),
        ("offset.storage.file.filename", &dir.join("offsets.dat").display().to_string()),
        ("offset.flush.interval.ms", "1000"),
        ("listeners", &format!("http://127.0.0.1:{rest_port}")),
        // Every plugin jar has ServiceLoader manifests: skips a class path scan.
        ("plugin.discovery", "service_load"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    worker.extend(cfg.worker.clone());
    let write = |name: &str, text: String| {
        fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("write {name}: {e}"));
    };
    write("worker.properties", properties(&worker));
    write("connector.properties", properties(&cfg.connector));
    write("log4j2.properties", LOG4J2.replace("@LOG@", &dir.join("connect.log").display().to_string()));

    let java = std::env::var_os("JAVA_HOME")
        .map(|h| PathBuf::from(h).join("bin/java"))
        .unwrap_or_else(|| PathBuf::from("java"));
    let mut cmd = Command::new(java);
    cmd.current_dir(dir)
        // C1 only: Connect + Debezium start about twice as fast on 2 cores.
        .args(["-Xmx512m", "-Xms64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"])
        .arg("-Djava.awt.headless=true")
        .arg(format!("-Dlog4j2.configurationFile={}", dir.join("log4j2.properties").display()))
        .arg("-cp")
        .arg(format!("{}/*", jars_dir().display()))
        .arg("org.apache.kafka.connect.cli.ConnectStandalone")
        .args(["worker.properties", "connector.properties"]);
    Daemon::spawn(cmd, &dir.join("connect.out")).unwrap_or_else(|e| panic!("spawn Kafka Connect: {e}"))
}

const LOG4J2: &str = "\
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
appender.file.type=File
appender.file.name=file
appender.file.fileName=@LOG@
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
logger.clients.name=org.apache.kafka.clients
logger.clients.level=WARN
logger.common.name=org.apache.kafka.common
logger.common.level=WARN
logger.rest.name=org.apache.kafka.connect.runtime.rest.RestServer
logger.rest.level=WARN
";

/// A `java.util.Properties` file (ISO-8859-1 with `\uXXXX` escapes).
fn properties(map: &BTreeMap<String, String>) -> String {
    fn escape(s: &str, key: bool) -> String {
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                ' ' if key || i == 0 => out.push_str("\\ "),
                '=' | ':' | '#' | '!' if key => {
                    out.push('\\');
                    out.push(c);
                }
                ' '..='~' => out.push(c),
                _ => {
                    for u in c.encode_utf16(&mut [0; 2]) {
                        let _ = write!(out, "\\u{u:04x}");
                    }
                }
            }
        }
        out
    }
    map.iter().map(|(k, v)| format!("{}={}\n", escape(k, true), escape(v, false))).collect()
}

/// Body of a 200 answer to `GET path` on 127.0.0.1:`port`, else `None`.
async fn http_get(port: u16, path: &str) -> Option<String> {
    let get = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let req = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n");
        s.write_all(req.as_bytes()).await.ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.ok()?;
        let text = String::from_utf8(buf).ok()?;
        let (head, body) = text.split_once("\r\n\r\n")?;
        (head.split(' ').nth(1) == Some("200")).then(|| body.to_string())
    };
    tokio::time::timeout(Duration::from_secs(5), get).await.ok().flatten()
}

/// The Connect + Debezium jars, fetched by `make debezium-jars` when missing
/// (override: `BINLOG_CDC_IT_DEBEZIUM_JARS`).
pub fn jars_dir() -> &'static Path {
    static JARS: OnceLock<PathBuf> = OnceLock::new();
    JARS.get_or_init(|| {
        if let Ok(dir) = std::env::var("BINLOG_CDC_IT_DEBEZIUM_JARS") {
            return PathBuf::from(dir);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = root.join(".cache/jars/debezium");
        if !dir.join(".done").exists() {
            match Command::new("make").arg("-C").arg(root).arg("debezium-jars").output() {
                Ok(o) if o.status.success() => {}
                Ok(o) => panic!("make debezium-jars failed:\n{}", String::from_utf8_lossy(&o.stderr)),
                Err(e) => panic!("make debezium-jars: {e}"),
            }
        }
        dir
    })
}
