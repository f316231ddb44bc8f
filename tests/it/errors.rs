//! Bad input gets a clear error, and nothing is lost: every way a start can
//! go wrong (a broken file, an unreachable or misconfigured server, a
//! purged position, a row whose table no longer fits) ends in a message
//! that names what failed, where, and what to do, never in a panic, a silent
//! skip, or an endless retry of something retrying cannot fix.

use std::process::{Command, ExitStatus, Output};
use std::time::{Duration, Instant};

use crate::support::cdc::{run_cli, Cdc, CdcConfig, BINARY};
use crate::support::kafka::{consume, shared_kafka, unique_prefix};
use crate::support::mariadb::{shared_mariadb, MariaDb, MariaDbOptions};
use crate::support::process::{free_port, scratch_dir};
use crate::support::wait::{wait_for, wait_until};

/// A configuration that passes validation (nothing is contacted by the
/// tests that use it: they fail before).
const VALID: &str = "name: errors-test
database.hostname: 127.0.0.1
database.port: 3306
database.user: cdc
database.server.id: 4242
topic.prefix: errs
snapshot.mode: no_data
include.schema.changes: false
bootstrap.servers: 127.0.0.1:9092
";

/// Runs the binary on configuration text as written (not generated from
/// properties, so it can be malformed).
fn run_text(text: &str, args: &[&str]) -> Output {
    let dir = scratch_dir("cdc-errors");
    let path = dir.path().join("cdc.yaml");
    std::fs::write(&path, text).expect("write cdc.yaml");
    Command::new(BINARY)
        .args(args)
        .arg("--config")
        .arg(&path)
        .env("BINLOG_CDC_LOG", "warn")
        .output()
        .expect("run binlog-cdc")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn assert_no_panic(text: &str) {
    assert!(!text.contains("panicked"), "binlog-cdc panicked:\n{text}");
}

/// Asserts a failed run (exit 1, no panic) whose stderr has every needle.
fn assert_refused(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_no_panic(&err);
    assert_eq!(o.status.code(), Some(1), "exit status {:?}; stderr:\n{err}", o.status);
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
    }
}

/// Waits for the connector to exit by itself.
async fn exit_status(cdc: &Cdc, deadline: Duration) -> ExitStatus {
    wait_for(deadline, || async { cdc.exited() })
        .await
        .unwrap_or_else(|| panic!("binlog-cdc still running after {deadline:?}:\n{}", cdc.log_tail(40)))
}

/// Waits for the connector to exit, and asserts that it failed (no panic)
/// with every needle in its log; returns the log.
async fn assert_stops_with(cdc: &Cdc, deadline: Duration, needles: &[&str]) -> String {
    let status = exit_status(cdc, deadline).await;
    let log = cdc.log();
    assert_no_panic(&log);
    assert!(!status.success(), "binlog-cdc exited successfully, expected an error:\n{}", cdc.log_tail(40));
    for n in needles {
        assert!(log.contains(n), "log lacks {n:?}:\n{}", cdc.log_tail(40));
    }
    log
}

// ---- the configuration file ----

#[test]
fn malformed_yaml_names_line_and_column() {
    let text = format!("{VALID}database:\n  hostname: h\n   port: 3306\n");
    for args in [&[][..], &["check"][..]] {
        let o = run_text(&text, args);
        assert_refused(&o, &["cdc.yaml", "invalid YAML", "line 12, column 8"]);
    }
    let o = run_text("name: [unterminated\n", &[]);
    assert_refused(&o, &["invalid YAML", "line 2, column 1"]);
}

#[test]
fn unknown_property_is_named() {
    let o = run_text(&format!("{VALID}database.hostnmae: db.example\nfrobnicate.level: 3\n"), &[]);
    assert_refused(&o, &["unknown property `database.hostnmae`", "did you mean `database.hostname`", "unknown property `frobnicate.level`"]);
}

#[test]
fn invalid_values_name_property_expected_and_actual() {
    let text = VALID.replace("database.port: 3306", "database.port: abc") + "decimal.handling.mode: fast\n";
    for args in [&[][..], &["check"][..], &["offsets", "show"][..]] {
        let o = run_text(&text, args);
        assert_refused(
            &o,
            &[
                "`database.port` must be an integer from 1 to 65535; got `abc`",
                "`decimal.handling.mode` must be one of precise, double, string; got `fast`",
            ],
        );
    }
    let o = run_text(&VALID.replace("database.port: 3306", "database.port: 70000"), &[]);
    assert_refused(&o, &["`database.port`", "65535", "`70000`"]);
}

#[test]
fn missing_or_unreadable_file_is_named() {
    let o = Command::new(BINARY).args(["--config", "/nonexistent/cdc.yaml"]).output().expect("run");
    assert_refused(&o, &["/nonexistent/cdc.yaml"]);
    let o = run_text("", &[]);
    assert_refused(&o, &["empty"]);
    let o = run_text("- just\n- a list\n", &[]);
    assert_refused(&o, &["must be a map"]);
}

// ---- the database ----

/// A port nothing listens on.
fn closed_port() -> u16 {
    free_port()
}

#[tokio::test]
async fn unreachable_database_is_retried_and_named_until_sigterm() {
    let port = closed_port();
    let cfg = CdcConfig::mariadb(shared_mariadb(), shared_kafka().bootstrap(), &unique_prefix("nodb"), "nodb")
        .set("database.port", &port.to_string());
    let cdc = Cdc::start(&cfg);
    let endpoint = format!("127.0.0.1:{port}");
    let retried = wait_until("three connection attempts", Duration::from_secs(20), || async {
        cdc.log().matches(&endpoint).count() >= 3 || cdc.exited().is_some()
    })
    .await;
    assert!(retried, "the endpoint is not named in repeated retries:\n{}", cdc.log_tail(30));
    assert!(cdc.exited().is_none(), "gave up on a transient failure:\n{}", cdc.log_tail(30));
    let log = cdc.log();
    assert!(log.contains("retrying"), "{log}");
    assert!(log.contains("database.hostname/database.port"), "says what to check:\n{log}");
    let started = Instant::now();
    let status = cdc.terminate(Duration::from_secs(10)).await;
    assert!(status.is_some(), "no exit within 10 s of SIGTERM:\n{}", cdc.log_tail(20));
    assert!(started.elapsed() < Duration::from_secs(5), "SIGTERM took {:?}", started.elapsed());
    assert!(status.is_some_and(|s| s.success()), "a requested stop is a clean exit: {status:?}\n{}", cdc.log_tail(20));
    assert_no_panic(&cdc.log());
}

/// `errors.max.retries` (Debezium's: -1 = forever, the default) bounds the
/// retries of a transient failure.
#[tokio::test]
async fn max_retries_bounds_the_retries() {
    let port = closed_port();
    let cfg = CdcConfig::mariadb(shared_mariadb(), shared_kafka().bootstrap(), &unique_prefix("retries"), "retries")
        .set("database.port", &port.to_string())
        .set("errors.max.retries", "2");
    let cdc = Cdc::start(&cfg);
    let log = assert_stops_with(
        &cdc,
        Duration::from_secs(30),
        &[&format!("gave up on the database at 127.0.0.1:{port} after 2 retries (errors.max.retries)"), "Connection refused"],
    )
    .await;
    assert_eq!(log.matches("retrying").count(), 2, "{log}");
}

#[tokio::test]
async fn wrong_credentials_stop_at_once_naming_the_user() {
    let db = shared_mariadb();
    let cfg = CdcConfig::mariadb(db, shared_kafka().bootstrap(), &unique_prefix("badpw"), "badpw")
        .set("database.password", "not-the-password");
    let cdc = Cdc::start(&cfg);
    let log = assert_stops_with(
        &cdc,
        Duration::from_secs(30),
        &[&format!("`{}`", db.user()), "database.user/database.password", "Access denied"],
    )
    .await;
    assert!(!log.contains("retrying"), "retried a definite error:\n{log}");
}

/// Creates a user with exactly `privileges` (may be empty) on every table.
pub async fn user_with(db: &MariaDb, name: &str, privileges: &str) {
    db.exec(&format!("DROP USER IF EXISTS '{name}'@'%'; CREATE USER '{name}'@'%' IDENTIFIED BY 'pw-{name}'")).await;
    if !privileges.is_empty() {
        db.exec(&format!("GRANT {privileges} ON *.* TO '{name}'@'%'")).await;
    }
}

#[tokio::test]
async fn missing_replication_slave_is_a_definite_error() {
    let db = shared_mariadb();
    let database = db.fresh_database("noslave").await;
    let user = format!("noslave{}", rand::random::<u16>());
    // REPLICATION SLAVE ADMIN must not pass for REPLICATION SLAVE.
    user_with(db, &user, "SELECT, REPLICATION CLIENT, REPLICATION SLAVE ADMIN").await;
    let cfg = CdcConfig::mariadb(db, shared_kafka().bootstrap(), &unique_prefix("noslave"), &database)
        .set("database.user", &user)
        .set("database.password", &format!("pw-{user}"));
    let cdc = Cdc::start(&cfg);
    let log = assert_stops_with(&cdc, Duration::from_secs(60), &["REPLICATION SLAVE", &format!("`{user}`"), "GRANT"]).await;
    assert!(!log.contains("retrying"), "retried a definite error:\n{log}");
}

/// The connector refuses a server whose binlog it cannot use, and `check`
/// reports the same; each message names setting, expected and actual.
async fn assert_server_refused(db: &MariaDb, needles: &[&str]) {
    let database = db.fresh_database("settings").await;
    let cfg = CdcConfig::mariadb(db, shared_kafka().bootstrap(), &unique_prefix("settings"), &database);
    let cdc = Cdc::start(&cfg);
    let log = assert_stops_with(&cdc, Duration::from_secs(60), needles).await;
    assert!(!log.contains("retrying"), "retried a definite error:\n{log}");
    let o = run_cli(&cfg, &["check"]);
    let out = stdout(&o);
    assert_no_panic(&stderr(&o));
    assert_eq!(o.status.code(), Some(1), "check: {out}\n{}", stderr(&o));
    for n in needles {
        assert!(out.contains(n), "check output lacks {n:?}:\n{out}");
    }
}

#[tokio::test]
async fn binlog_disabled_is_refused_naming_log_bin() {
    let db = MariaDb::start(MariaDbOptions { log_bin: false, ..Default::default() });
    assert_server_refused(&db, &["log_bin is OFF; binlog-cdc needs ON", "--log-bin"]).await;
}

#[tokio::test]
async fn statement_format_and_minimal_image_are_refused() {
    let db = MariaDb::start(MariaDbOptions {
        binlog_format: Some("STATEMENT".into()),
        binlog_row_image: Some("MINIMAL".into()),
        ..Default::default()
    });
    assert_server_refused(
        &db,
        &[
            "binlog_format is STATEMENT; binlog-cdc needs ROW",
            "binlog_row_image is MINIMAL; binlog-cdc needs FULL",
            "SET GLOBAL binlog_row_image=FULL",
        ],
    )
    .await;
}

#[tokio::test]
async fn compressed_binlog_events_are_refused() {
    // Compressed events would otherwise pass as data-less MariaDB events.
    let db = MariaDb::start(MariaDbOptions { extra_args: vec!["--log-bin-compress=ON".into()], ..Default::default() });
    assert_server_refused(&db, &["log_bin_compress is ON; binlog-cdc needs OFF"]).await;
}

// ---- positions the server no longer has ----

#[tokio::test]
async fn purged_binlog_file_is_explained() {
    let db = MariaDb::start(MariaDbOptions::default());
    let database = db.fresh_database("purged").await;
    db.exec(&format!("CREATE TABLE `{database}`.t (id INT PRIMARY KEY); INSERT INTO `{database}`.t VALUES (1)")).await;
    db.exec("FLUSH BINARY LOGS").await;
    let status: Vec<mysql_async::Row> = db.query("SHOW MASTER STATUS").await;
    let file: String = status[0].get(0).expect("binlog file");
    // The server keeps a file until its transactions are checkpointed
    // (needed for crash recovery), so the purge may take a few tries.
    let purged = wait_until("mysql-bin.000001 purged", Duration::from_secs(30), || async {
        db.exec(&format!("PURGE BINARY LOGS TO '{file}'")).await;
        let logs: Vec<mysql_async::Row> = db.query("SHOW BINARY LOGS").await;
        logs.iter().all(|r| r.get::<String, _>(0).as_deref() != Some("mysql-bin.000001"))
    })
    .await;
    assert!(purged, "mysql-bin.000001 was not purged:\n{}", db.error_log_tail(10));

    let cfg = CdcConfig::mariadb(&db, shared_kafka().bootstrap(), &unique_prefix("purged"), &database);
    let o = run_cli(&cfg, &["offsets", "set", "--file", "mysql-bin.000001", "--pos", "4"]);
    assert!(o.status.success(), "offsets set: {o:?}");
    let cdc = Cdc::start(&cfg);
    let log = assert_stops_with(
        &cdc,
        Duration::from_secs(60),
        &["mysql-bin.000001", "purged", "binlog-cdc offsets set", "1236"],
    )
    .await;
    assert!(!log.contains("reconnecting"), "retried a definite error:\n{log}");
}

#[tokio::test]
async fn gtid_beyond_the_server_is_explained() {
    let db = shared_mariadb();
    let database = db.fresh_database("gtidahead").await;
    let cfg = CdcConfig::mariadb(db, shared_kafka().bootstrap(), &unique_prefix("gtidahead"), &database);
    let o = run_cli(&cfg, &["offsets", "set", "--gtid", "0-1-999999999"]);
    assert!(o.status.success(), "offsets set: {o:?}");
    let cdc = Cdc::start(&cfg);
    let log = assert_stops_with(&cdc, Duration::from_secs(60), &["0-1-999999999", "binlog-cdc offsets set", "1236"]).await;
    assert!(!log.contains("reconnecting"), "retried a definite error:\n{log}");
}

// ---- rows whose table no longer fits ----

/// Rows of `t` and `gone` written before `ALTER TABLE t` and `DROP TABLE
/// gone`, replayed from a stored position before them, on a server whose
/// TABLE_MAP events carry no column names (`binlog_row_metadata=MINIMAL`), so
/// nothing can describe the old rows: by default the connector stops naming
/// table and position and stores nothing past them; with
/// `inconsistent.schema.handling.mode` warn or skip it skips them and goes on.
#[tokio::test]
async fn rows_whose_table_cannot_be_resolved_stop_or_are_skipped() {
    let db = MariaDb::start(MariaDbOptions { binlog_row_metadata: Some("MINIMAL".into()), ..Default::default() });
    let database = db.fresh_database("schema").await;
    db.exec(&format!(
        "USE `{database}`; CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20)); \
         CREATE TABLE gone (id INT PRIMARY KEY); CREATE TABLE later (id INT PRIMARY KEY, v VARCHAR(20))"
    ))
    .await;
    let status: Vec<mysql_async::Row> = db.query("SHOW MASTER STATUS").await;
    let file: String = status[0].get(0).expect("file");
    let pos: u64 = status[0].get(1).expect("pos");
    db.exec(&format!(
        "USE `{database}`; INSERT INTO t VALUES (1, 'a'); INSERT INTO t VALUES (2, 'b'), (3, 'c'); \
         INSERT INTO gone VALUES (1); ALTER TABLE t ADD COLUMN extra INT; DROP TABLE gone; \
         INSERT INTO later VALUES (10, 'x'); INSERT INTO later VALUES (11, 'y')"
    ))
    .await;
    let bootstrap = shared_kafka().bootstrap();
    let connector = |prefix: &str, mode: &str| {
        let cfg = CdcConfig::mariadb(&db, bootstrap, prefix, &database).set("inconsistent.schema.handling.mode", mode);
        let o = run_cli(&cfg, &["offsets", "set", "--file", &file, "--pos", &pos.to_string()]);
        assert!(o.status.success(), "offsets set: {o:?}");
        cfg
    };

    // fail (the default): stops at the first old row of `t`, twice: the
    // stored position did not move past the rows.
    let prefix = unique_prefix("schema_fail");
    let cfg = connector(&prefix, "fail");
    let file_pos = regex::Regex::new(&format!(r"`{database}\.t` at {}:\d+", regex::escape(&file))).expect("regex");
    for _ in 0..2 {
        let cdc = Cdc::start(&cfg);
        let log = assert_stops_with(&cdc, Duration::from_secs(60), &["inconsistent.schema.handling.mode"]).await;
        assert!(file_pos.is_match(&log), "the error names neither table nor position:\n{}", cdc.log_tail(20));
    }
    let stored = run_cli(&cfg, &["offsets", "show"]);
    let stored: serde_json::Value = serde_json::from_slice(&stored.stdout).expect("offsets show prints JSON");
    assert_eq!((stored["file"].as_str(), stored["pos"].as_u64()), (Some(file.as_str()), Some(pos)), "{stored}");

    // warn: skips the old rows of `t` and `gone` with a warning each, goes on.
    let prefix = unique_prefix("schema_warn");
    let cdc = Cdc::start(&connector(&prefix, "warn"));
    let later = consume(bootstrap, &format!("{prefix}.{database}.later"), 2, Duration::from_secs(60)).await;
    assert_eq!(later.len(), 2, "later rows: {later:?}\n{}", cdc.log_tail(40));
    // The file named by the dump's opening ROTATE, without its checksum.
    assert_eq!(later[0].value_json().expect("value")["payload"]["source"]["file"], file.as_str());
    db.exec(&format!("INSERT INTO `{database}`.t VALUES (4, 'd', 40)")).await;
    let t = consume(bootstrap, &format!("{prefix}.{database}.t"), 1, Duration::from_secs(60)).await;
    assert_eq!(t.len(), 1, "only the row written after the change: {t:?}\n{}", cdc.log_tail(40));
    let after = &t[0].value_json().expect("value")["payload"]["after"];
    assert_eq!(after, &serde_json::json!({"id": 4, "v": "d", "extra": 40}));
    let log = cdc.log();
    for table in ["t", "gone"] {
        let needle = format!("`{database}.{table}` at {file}:");
        let warned = log.lines().any(|l| l.contains("WARN") && l.contains("skipping") && l.contains(&needle));
        assert!(warned, "no warning for {table}:\n{log}");
    }
    let status = cdc.terminate(Duration::from_secs(20)).await;
    assert!(status.is_some_and(|s| s.success()), "{status:?}\n{}", cdc.log_tail(40));

    // skip: the same, without the warnings.
    let prefix = unique_prefix("schema_skip");
    let cdc = Cdc::start(&connector(&prefix, "skip"));
    let later = consume(bootstrap, &format!("{prefix}.{database}.later"), 2, Duration::from_secs(60)).await;
    assert_eq!(later.len(), 2, "later rows: {later:?}\n{}", cdc.log_tail(40));
    assert!(!cdc.log().contains("skipping"), "{}", cdc.log_tail(40));
    let status = cdc.terminate(Duration::from_secs(20)).await;
    assert!(status.is_some_and(|s| s.success()), "{status:?}\n{}", cdc.log_tail(40));
}

// ---- Kafka ----

/// Kafka Connect gives up on a cluster it cannot reach after its API timeout
/// (60 s) and says so; binlog-cdc retries as long, naming the brokers each
/// time, then stops with an error naming `bootstrap.servers`. SIGTERM ends
/// the wait at once.
#[tokio::test]
async fn unreachable_kafka_is_retried_then_fails_naming_bootstrap_servers() {
    let db = shared_mariadb();
    let database = db.fresh_database("nokafka").await;
    let bootstrap = format!("127.0.0.1:{}", closed_port());
    let cfg = CdcConfig::mariadb(db, &bootstrap, &unique_prefix("nokafka"), &database);
    let patient = Cdc::start(&cfg);
    let stopped = Cdc::start(&cfg);

    let named = wait_until("the brokers named twice", Duration::from_secs(30), || async {
        stopped.log().matches(&bootstrap).count() >= 2 || stopped.exited().is_some()
    })
    .await;
    assert!(named && stopped.exited().is_none(), "{}", stopped.log_tail(30));
    assert!(stopped.log().contains("bootstrap.servers"), "{}", stopped.log_tail(30));
    let started = Instant::now();
    let status = stopped.terminate(Duration::from_secs(10)).await;
    assert!(started.elapsed() < Duration::from_secs(5), "SIGTERM took {:?}", started.elapsed());
    assert!(status.is_some_and(|s| s.success()), "{status:?}\n{}", stopped.log_tail(20));
    assert_no_panic(&stopped.log());

    let log = assert_stops_with(&patient, Duration::from_secs(120), &["bootstrap.servers", &format!("error: cannot reach Kafka at {bootstrap}")]).await;
    assert!(log.matches("retrying").count() >= 2, "{log}");
}

/// A record larger than librdkafka's queue could never be queued: the
/// connector stops naming the setting instead of waiting forever.
#[tokio::test]
async fn a_record_larger_than_the_producer_queue_stops_naming_the_setting() {
    let db = shared_mariadb();
    let database = db.fresh_database("bigrecord").await;
    db.exec(&format!("USE `{database}`; CREATE TABLE t (id INT PRIMARY KEY, body MEDIUMTEXT)")).await;
    let cfg = CdcConfig::mariadb(db, shared_kafka().bootstrap(), &unique_prefix("bigrecord"), &database)
        .set("producer.queue.buffering.max.kbytes", "64");
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    db.exec(&format!("USE `{database}`; INSERT INTO t VALUES (1, 'small')")).await;
    let topic = format!("{}.{database}.t", cfg.get("topic.prefix").unwrap_or_default());
    assert_eq!(consume(shared_kafka().bootstrap(), &topic, 1, Duration::from_secs(30)).await.len(), 1);
    // Nothing else is written after it: the connector must stop by itself,
    // not at the next binlog event.
    db.exec(&format!("USE `{database}`; INSERT INTO t VALUES (2, REPEAT('x', 200000))")).await;
    assert_stops_with(&cdc, Duration::from_secs(60), &["larger than the producer's queue", "producer.queue.buffering.max.kbytes", "bytes for topic"]).await;
}
