//! `make demo`: binlog-cdc end to end on this machine.
//!
//! Starts a throwaway MariaDB and a single-node Kafka 4.1 broker with the
//! integration tests' own harness (tests/it/support: nothing to install
//! beyond what `make test` needs), creates `inventory.customers` and a `cdc`
//! user, runs `binlog-cdc check` and then `binlog-cdc` itself with
//! `connectors/mariadb-inventory.yaml`, changes a few rows, prints the Kafka
//! records they became, and shuts everything down.
//!
//! `DEMO_KEEP=1` (`make demo KEEP=1`) keeps everything running after the
//! scripted changes and prints each new record as it arrives, until Ctrl-C.
//! `BINLOG_CDC_BIN` overrides the binary (default: target/debug/binlog-cdc).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use support::kafka::{self, Kafka, KafkaOptions, Record};
use support::mariadb::{MariaDb, MariaDbOptions};
use support::process::{self, Daemon};
use support::wait;

/// The connector configuration the demo runs, relative to the repository.
const CONFIG: &str = "connectors/mariadb-inventory.yaml";
/// `<topic.prefix>.<database>.<table>` of that configuration.
const TOPIC: &str = "dbserver1.inventory.customers";
const CDC_PASSWORD: &str = "cdc-demo-secret";

const SETUP_SQL: &[&str] = &[
    "CREATE DATABASE inventory",
    "CREATE TABLE inventory.customers (\n\
     \x20   id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,\n\
     \x20   first_name VARCHAR(255) NOT NULL,\n\
     \x20   last_name VARCHAR(255) NOT NULL,\n\
     \x20   email VARCHAR(255) NOT NULL UNIQUE\n\
     ) AUTO_INCREMENT = 1001",
    "CREATE USER 'cdc'@'%' IDENTIFIED BY 'cdc-demo-secret'",
    "GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT, RELOAD ON *.* TO 'cdc'@'%'",
];

const CHANGES_SQL: &[&str] = &[
    "INSERT INTO inventory.customers (first_name, last_name, email) VALUES\n\
     \x20   ('Sally', 'Thomas', 'sally.thomas@acme.com'),\n\
     \x20   ('George', 'Bailey', 'gbailey@foobar.com'),\n\
     \x20   ('Edward', 'Walker', 'ed@walker.com')",
    "UPDATE inventory.customers SET email = 'sally@thomas.example' WHERE id = 1001",
    "DELETE FROM inventory.customers WHERE id = 1002",
];
/// Three inserts, one update, one delete followed by its tombstone.
const EXPECTED_RECORDS: usize = 6;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Err(e) = std::env::set_current_dir(root) {
        eprintln!("demo: cannot enter {}: {e}", root.display());
        return ExitCode::FAILURE;
    }
    let binary = match binary() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    let keep = std::env::var("DEMO_KEEP").is_ok_and(|v| !v.is_empty() && v != "0");

    step("Starting MariaDB (mariadbd --log-bin --binlog-format=ROW --binlog-row-image=FULL) and a Kafka 4.1 broker (KRaft), as the tests do");
    let t = Instant::now();
    let (db, broker) = std::thread::scope(|s| {
        let broker = s.spawn(|| Kafka::start(KafkaOptions::default()));
        let db = MariaDb::start(MariaDbOptions::default());
        (db, broker.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    });
    say(&format!("MariaDB  {}:{}  (root password {})", db.host(), db.port(), db.password()));
    say(&format!("Kafka    {}", broker.bootstrap()));
    say(&format!("both up in {:.1} s", t.elapsed().as_secs_f64()));

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let demo = Demo {
        binary,
        env: vec![
            ("CDC_DB_HOST", db.host().to_string()),
            ("CDC_DB_PORT", db.port().to_string()),
            ("CDC_PASSWORD", CDC_PASSWORD.to_string()),
            ("CDC_KAFKA_BOOTSTRAP", broker.bootstrap().to_string()),
        ],
        db: &db,
        bootstrap: broker.bootstrap().to_string(),
        keep,
    };
    let result = runtime.block_on(demo.run());

    step("Stopping Kafka and MariaDB and removing their data directories");
    drop(runtime);
    drop(broker);
    drop(db);
    match result {
        Ok(()) => {
            say("done");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\ndemo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The binlog-cdc binary: `BINLOG_CDC_BIN`, else the one cargo built next to
/// this example (`target/<profile>/binlog-cdc`).
fn binary() -> Result<PathBuf, String> {
    if let Some(b) = std::env::var_os("BINLOG_CDC_BIN") {
        return Ok(PathBuf::from(b));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let b = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("binlog-cdc"))
        .ok_or("cannot locate target directory")?;
    if b.exists() {
        Ok(b)
    } else {
        Err(format!("{} not found: build it first (`cargo build --bin binlog-cdc`, which `make demo` does)", b.display()))
    }
}

struct Demo<'a> {
    binary: PathBuf,
    env: Vec<(&'static str, String)>,
    db: &'a MariaDb,
    bootstrap: String,
    keep: bool,
}

impl Demo<'_> {
    async fn run(&self) -> Result<(), String> {
        step("Creating the sample table and the connector's user (as root)");
        for sql in SETUP_SQL {
            self.sql(sql).await;
        }

        step(&format!("Configuration {CONFIG}, with these environment variables for its ${{env:…}} references"));
        for (k, v) in &self.env {
            say(&format!("{k}={v}"));
        }

        step(&format!("binlog-cdc check --config {CONFIG}"));
        let out = self.command().arg("check").arg("--config").arg(CONFIG).env("BINLOG_CDC_LOG", "error").output();
        let out = out.map_err(|e| format!("run {}: {e}", self.binary.display()))?;
        print_indented(&String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            print_indented(&String::from_utf8_lossy(&out.stderr));
            return Err(format!("binlog-cdc check failed ({})", out.status));
        }

        let dir = process::scratch_dir("demo");
        let log = dir.path().join("binlog-cdc.log");
        step(&format!("binlog-cdc --config {CONFIG}   (its log: {})", log.display()));
        let mut cmd = self.command();
        cmd.arg("--config").arg(CONFIG);
        let cdc = Daemon::spawn(cmd, &log).map_err(|e| format!("spawn binlog-cdc: {e}"))?;
        let streaming = wait::wait_until("streaming", Duration::from_secs(60), || async {
            std::fs::read_to_string(&log).unwrap_or_default().contains("streaming binlog") || cdc.exited().is_some()
        })
        .await;
        if !streaming || cdc.exited().is_some() {
            print_indented(&process::tail(&log, 40));
            return Err("binlog-cdc did not start streaming".into());
        }
        for line in std::fs::read_to_string(&log).unwrap_or_default().lines() {
            say(&strip_ansi(line));
        }

        step("Changing rows");
        for sql in CHANGES_SQL {
            self.sql(sql).await;
        }

        step(&format!("Records on Kafka topic {TOPIC} (key and value exactly as written)"));
        let records = kafka::consume(&self.bootstrap, TOPIC, EXPECTED_RECORDS, Duration::from_secs(60)).await;
        for r in &records {
            print_record(r);
        }
        if records.len() < EXPECTED_RECORDS {
            print_indented(&process::tail(&log, 40));
            return Err(format!("expected {EXPECTED_RECORDS} records on {TOPIC}, got {}", records.len()));
        }

        if self.keep {
            // Ctrl-C reached every process of the terminal's group, the
            // servers and binlog-cdc too: stop it and go.
            self.follow(&records).await?;
            step("Ctrl-C: stopping binlog-cdc");
            if let Some(pid) = cdc.pid() {
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
            }
            let status = wait::wait_for(Duration::from_secs(30), || async { cdc.exited() }).await;
            say(&format!("binlog-cdc exited: {}", status.map_or("still running; killed".into(), |s| s.to_string())));
            return Ok(());
        }

        step("Stopping binlog-cdc (SIGTERM): it drains, stores its position and exits");
        if let Some(pid) = cdc.pid() {
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        }
        let status = wait::wait_for(Duration::from_secs(30), || async { cdc.exited() }).await;
        match status {
            Some(s) if s.success() => say(&format!("binlog-cdc exited: {s}")),
            other => {
                print_indented(&process::tail(&log, 30));
                return Err(format!("binlog-cdc did not exit cleanly: {other:?}"));
            }
        }

        step(&format!("binlog-cdc offsets show --config {CONFIG}   (the position a restart resumes from)"));
        let out = self.command().args(["offsets", "show", "--config", CONFIG]).env("BINLOG_CDC_LOG", "error").output();
        let out = out.map_err(|e| format!("run {}: {e}", self.binary.display()))?;
        print_indented(&String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            print_indented(&String::from_utf8_lossy(&out.stderr));
            return Err(format!("binlog-cdc offsets show failed ({})", out.status));
        }
        Ok(())
    }

    /// `DEMO_KEEP=1`: print every new record until Ctrl-C.
    async fn follow(&self, seen: &[Record]) -> Result<(), String> {
        step("Still running; change rows yourself and watch the records arrive. Ctrl-C stops everything.");
        say(&format!(
            "mariadb -h {} -P {} -u root -p'{}' inventory",
            self.db.host(),
            self.db.port(),
            self.db.password()
        ));
        let partitions = kafka::partition_count(&self.bootstrap, TOPIC).await.unwrap_or(1);
        let mut next: BTreeMap<i32, i64> = (0..partitions as i32).map(|p| (p, 0)).collect();
        for r in seen {
            next.insert(r.partition, r.offset + 1);
        }
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("group.id", format!("binlog-cdc-demo-{}", std::process::id()))
            .set("enable.auto.commit", "false")
            .create()
            .map_err(|e| format!("Kafka consumer: {e}"))?;
        let mut tpl = TopicPartitionList::new();
        for (p, o) in &next {
            tpl.add_partition_offset(TOPIC, *p, Offset::Offset(*o)).map_err(|e| e.to_string())?;
        }
        consumer.assign(&tpl).map_err(|e| format!("assign: {e}"))?;
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        loop {
            tokio::select! {
                _ = &mut ctrl_c => {
                    println!();
                    return Ok(());
                }
                m = consumer.recv() => {
                    if let Ok(m) = m {
                        print_record(&Record {
                            topic: m.topic().to_string(),
                            partition: m.partition(),
                            offset: m.offset(),
                            key: m.key().map(<[u8]>::to_vec),
                            value: m.payload().map(<[u8]>::to_vec),
                            headers: Vec::new(),
                        });
                    }
                }
            }
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    async fn sql(&self, sql: &str) {
        for (i, l) in sql.lines().enumerate() {
            let prompt = if i == 0 { "mariadb> " } else { "      -> " };
            let end = if i + 1 == sql.lines().count() { ";" } else { "" };
            say(&format!("{prompt}{l}{end}"));
        }
        self.db.exec(sql).await;
    }
}

fn print_record(r: &Record) {
    let text = |b: &Option<Vec<u8>>| b.as_deref().map_or("null".to_string(), |b| String::from_utf8_lossy(b).into_owned());
    let op = r
        .value_json()
        .and_then(|v| v.get("op").or_else(|| v.get("payload").and_then(|p| p.get("op"))).cloned())
        .and_then(|op| op.as_str().map(str::to_string));
    let what = match op.as_deref() {
        Some("c") => "insert (op c)",
        Some("u") => "update (op u)",
        Some("d") => "delete (op d)",
        Some("r") => "read (op r)",
        Some(_) => "change",
        None => "tombstone (null value: lets compaction drop the key)",
    };
    println!("  partition {} offset {}: {what}", r.partition, r.offset);
    println!("    key   {}", text(&r.key));
    println!("    value {}", text(&r.value));
}

fn step(what: &str) {
    println!("\n==> {what}");
}

fn say(what: &str) {
    println!("  {what}");
}

fn print_indented(text: &str) {
    for l in text.lines() {
        say(&strip_ansi(l));
    }
}

/// Log lines without terminal colour codes.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
