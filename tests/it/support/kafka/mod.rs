//! A real single-node Apache Kafka 4.1 broker (KRaft, combined broker and
//! controller) run by the tests from the jars that `make kafka-jars` puts in
//! `.cache/jars/kafka`, the way the distribution's scripts run it:
//! `kafka.tools.StorageTool format --standalone`, then `kafka.Kafka`.
//!
//! [`shared_kafka`] is one broker per test process (tests isolate themselves
//! with [`unique_prefix`]); [`Kafka::start`] gives a test its own, killed and
//! removed on drop. `BINLOG_CDC_IT_KAFKA_BOOTSTRAP` points the shared one at
//! an external broker instead. Client helpers live in `client.rs`.

mod client;

pub use client::*;

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use tempfile::TempDir;

use super::process::{self, at_exit, free_port, kill_and_remove, scratch_dir, tail, Daemon};
use super::wait::poll_blocking;

const START_DEADLINE: Duration = Duration::from_secs(90);
const MAIN_CLASS: &str = "kafka.Kafka";
const STORAGE_TOOL: &str = "kafka.tools.StorageTool";

/// Extra or overriding `server.properties` entries.
#[derive(Clone, Debug, Default)]
pub struct KafkaOptions {
    pub properties: Vec<(String, String)>,
}

/// A running broker (or an external one).
pub struct Kafka {
    bootstrap: String,
    // Field order matters: the daemon is killed before its directory goes.
    daemon: Option<Daemon>,
    dir: Option<TempDir>,
}

/// The broker shared by every test of this process, started on first use.
pub fn shared_kafka() -> &'static Kafka {
    static SHARED: OnceLock<Kafka> = OnceLock::new();
    SHARED.get_or_init(|| {
        if let Ok(bootstrap) = std::env::var("BINLOG_CDC_IT_KAFKA_BOOTSTRAP") {
            return Kafka { bootstrap, daemon: None, dir: None };
        }
        let k = Kafka::start(KafkaOptions::default());
        let (pid, dir) = (k.daemon.as_ref().and_then(Daemon::pid), k.dir());
        at_exit(move || kill_and_remove(pid, dir));
        k
    })
}

impl Kafka {
    /// Starts a broker of its own (panics with the broker's log on failure).
    pub fn start(opts: KafkaOptions) -> Kafka {
        let jars = jars_dir();
        let mut last_err = String::new();
        for _attempt in 0..3 {
            match try_start(&opts, jars) {
                Ok(k) => return k,
                // A port taken between free_port() and bind: try others.
                Err(e) if e.contains("Address already in use") => last_err = e,
                Err(e) => panic!("{e}"),
            }
        }
        panic!("{last_err}")
    }

    /// `127.0.0.1:<port>` of the PLAINTEXT listener.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }
    /// The broker's process id (`None` if external).
    pub fn pid(&self) -> Option<u32> {
        self.daemon.as_ref().and_then(Daemon::pid)
    }
    /// Scratch directory holding `server.properties`, `kafka.log`, `data/`.
    pub fn dir(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.path().to_path_buf())
    }
    /// Last lines of the broker's log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        self.dir().map(|d| tail(&d.join("kafka.log"), lines)).unwrap_or_default()
    }
}

/// The directory of the broker's jars, fetched by `make kafka-jars` when
/// missing (override: `BINLOG_CDC_IT_KAFKA_JARS`).
pub fn jars_dir() -> &'static Path {
    static JARS: OnceLock<PathBuf> = OnceLock::new();
    JARS.get_or_init(|| {
        if let Ok(dir) = std::env::var("BINLOG_CDC_IT_KAFKA_JARS") {
            return PathBuf::from(dir);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = root.join(".cache/jars/kafka");
        if !dir.join(".done").exists() {
            let out = Command::new("make").arg("-C").arg(root).arg("kafka-jars").output();
            match out {
                Ok(o) if o.status.success() => {}
                Ok(o) => panic!("make kafka-jars failed:\n{}", String::from_utf8_lossy(&o.stderr)),
                Err(e) => panic!("make kafka-jars: {e}"),
            }
        }
        dir
    })
}

fn try_start(opts: &KafkaOptions, jars: &Path) -> Result<Kafka, String> {
    let dir = scratch_dir("kafka");
    let d = dir.path();
    let (port, controller_port) = (free_port(), free_port());
    let props = d.join("server.properties");
    fs::write(&props, server_properties(d, port, controller_port, opts)).map_err(|e| e.to_string())?;
    fs::write(d.join("log4j2.properties"), log4j2_properties(&d.join("kafka.log"))).map_err(|e| e.to_string())?;

    let mut format = java(d, jars, "256m");
    format.arg(STORAGE_TOOL).args(["format", "--standalone", "-t", &cluster_id(), "-c"]).arg(&props);
    process::run(format, &d.join("format.out"), START_DEADLINE).map_err(|e| format!("kafka storage format: {e}"))?;

    let mut server = java(d, jars, "512m");
    server.arg(MAIN_CLASS).arg(&props);
    let daemon = Daemon::spawn(server, &d.join("kafka.out")).map_err(|e| format!("spawn kafka: {e}"))?;
    let k = Kafka { bootstrap: format!("127.0.0.1:{port}"), daemon: Some(daemon), dir: Some(dir) };
    k.wait_ready(port)?;
    Ok(k)
}

impl Kafka {
    /// Ready once the broker is listening and lists itself in metadata (a
    /// broker is listed only when unfenced, i.e. able to host partitions).
    fn wait_ready(&self, port: u16) -> Result<(), String> {
        let daemon = self.daemon.as_ref().expect("own broker");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let failed = |why: String| {
            let out = self.dir().map(|d| tail(&d.join("kafka.out"), 20)).unwrap_or_default();
            Err(format!("kafka {why}:\n{}\n{out}", self.log_tail(30)))
        };
        let listening = poll_blocking(START_DEADLINE, || {
            if let Some(status) = daemon.exited() {
                return Some(Err(format!("exited ({status})")));
            }
            TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok().map(|_| Ok(()))
        });
        match listening {
            None => return failed(format!("not listening after {START_DEADLINE:?}")),
            Some(Err(why)) => return failed(why),
            Some(Ok(())) => {}
        }
        let client: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("reconnect.backoff.ms", "20")
            .set("reconnect.backoff.max.ms", "200")
            .create()
            .map_err(|e| e.to_string())?;
        let ready = poll_blocking(START_DEADLINE, || {
            if let Some(status) = daemon.exited() {
                return Some(Err(format!("exited ({status})")));
            }
            let md = client.fetch_metadata(None, Duration::from_secs(1)).ok()?;
            (!md.brokers().is_empty()).then_some(Ok(()))
        });
        match ready {
            None => failed(format!("lists no broker after {START_DEADLINE:?}")),
            Some(Err(why)) => failed(why),
            Some(Ok(())) => Ok(()),
        }
    }
}

/// `java` (from `JAVA_HOME` when set) with the broker's class path and logging.
fn java(dir: &Path, jars: &Path, heap: &str) -> Command {
    let java = std::env::var_os("JAVA_HOME")
        .map(|h| PathBuf::from(h).join("bin/java"))
        .unwrap_or_else(|| PathBuf::from("java"));
    let mut cmd = Command::new(java);
    cmd.current_dir(dir)
        .arg(format!("-Xmx{heap}"))
        .args(["-Xms64m", "-XX:+UseSerialGC", "-Djava.awt.headless=true"])
        .arg(format!("-Dlog4j2.configurationFile={}", dir.join("log4j2.properties").display()))
        .arg(format!("-Dkafka.logs.dir={}", dir.display()))
        .arg("-cp")
        .arg(format!("{}/*", jars.display()));
    cmd
}

/// A random cluster id as Kafka writes them (base64url of 16 bytes, never
/// starting with '-', which a command line would take for an option).
fn cluster_id() -> String {
    loop {
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes());
        if !id.starts_with('-') {
            return id;
        }
    }
}

fn server_properties(dir: &Path, port: u16, controller_port: u16, opts: &KafkaOptions) -> String {
    let mut props: Vec<(String, String)> = [
        ("process.roles", "broker,controller".to_string()),
        ("node.id", "1".into()),
        ("controller.quorum.bootstrap.servers", format!("127.0.0.1:{controller_port}")),
        ("listeners", format!("PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}")),
        ("advertised.listeners", format!("PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}")),
        ("controller.listener.names", "CONTROLLER".into()),
        ("inter.broker.listener.name", "PLAINTEXT".into()),
        ("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT".into()),
        ("log.dirs", dir.join("data").display().to_string()),
        ("num.partitions", "1".into()),
        ("auto.create.topics.enable", "false".into()),
        ("offsets.topic.replication.factor", "1".into()),
        ("offsets.topic.num.partitions", "4".into()),
        ("transaction.state.log.replication.factor", "1".into()),
        ("transaction.state.log.min.isr", "1".into()),
        ("transaction.state.log.num.partitions", "4".into()),
        ("share.coordinator.state.topic.replication.factor", "1".into()),
        ("share.coordinator.state.topic.min.isr", "1".into()),
        ("group.initial.rebalance.delay.ms", "0".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in &opts.properties {
        match props.iter_mut().find(|(pk, _)| pk == k) {
            Some(p) => p.1 = v.clone(),
            None => props.push((k.clone(), v.clone())),
        }
    }
    props.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

fn log4j2_properties(log: &Path) -> String {
    format!(
        "status = warn\n\
         appender.file.type = File\n\
         appender.file.name = file\n\
         appender.file.fileName = {}\n\
         appender.file.layout.type = PatternLayout\n\
         appender.file.layout.pattern = [%d] %p %m (%c)%n\n\
         rootLogger.level = info\n\
         rootLogger.appenderRef.file.ref = file\n",
        log.display()
    )
}
