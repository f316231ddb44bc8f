//! `binlog-cdc check`: a preflight that reports every problem it finds
//! (configuration, database reachability and login, binlog settings,
//! privileges, Kafka) on stdout, one `problem:` line each, and exits 1;
//! or prints `ok` and exits 0. Settings variants (log_bin, binlog_format,
//! binlog_row_image) are checked together with the connector's own refusal
//! in `errors.rs`.

use std::process::Output;

use crate::errors::user_with;
use crate::support::cdc::{run_cli, CdcConfig};
use crate::support::kafka::{shared_kafka, unique_prefix};
use crate::support::mariadb::shared_mariadb;
use crate::support::process::free_port;

fn out(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn problems(o: &Output) -> String {
    let (stdout, stderr) = out(o);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(o.status.code(), Some(1), "check should fail:\n{stdout}\n{stderr}");
    assert!(stdout.lines().any(|l| l.starts_with("problem: ")), "no problem lines:\n{stdout}\n{stderr}");
    stdout
}

#[tokio::test]
async fn good_setup_passes() {
    let db = shared_mariadb();
    let database = db.fresh_database("check_ok").await;
    let cfg = CdcConfig::mariadb(db, shared_kafka().bootstrap(), &unique_prefix("check_ok"), &database);
    let o = run_cli(&cfg, &["check"]);
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "check failed:\n{stdout}\n{stderr}");
    assert!(stdout.starts_with("ok"), "{stdout}");
    assert!(!stdout.contains("problem"), "{stdout}");
}

#[tokio::test]
async fn a_user_with_the_documented_privileges_passes() {
    let db = shared_mariadb();
    let database = db.fresh_database("check_grants").await;
    let user = format!("dbzlike{}", rand::random::<u16>());
    user_with(db, &user, "SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT").await;
    let cfg = CdcConfig::mariadb(db, shared_kafka().bootstrap(), &unique_prefix("check_grants"), &database)
        .set("database.user", &user)
        .set("database.password", &format!("pw-{user}"));
    let o = run_cli(&cfg, &["check"]);
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "check failed:\n{stdout}\n{stderr}");
}

#[tokio::test]
async fn missing_privileges_are_named() {
    let db = shared_mariadb();
    let database = db.fresh_database("check_privs").await;
    let user = format!("noslave{}", rand::random::<u16>());
    // REPLICATION SLAVE ADMIN must not pass for REPLICATION SLAVE.
    user_with(db, &user, "SELECT, REPLICATION CLIENT, REPLICATION SLAVE ADMIN").await;
    let cfg = CdcConfig::mariadb(db, shared_kafka().bootstrap(), &unique_prefix("check_privs"), &database)
        .set("database.user", &user)
        .set("database.password", &format!("pw-{user}"));
    let stdout = problems(&run_cli(&cfg, &["check"]));
    assert!(stdout.contains("privilege REPLICATION SLAVE is missing"), "{stdout}");
    assert!(stdout.contains(&format!("GRANT REPLICATION SLAVE ON *.* TO '{user}'")), "says what to run:\n{stdout}");
    assert!(!stdout.contains("REPLICATION CLIENT"), "REPLICATION CLIENT was granted:\n{stdout}");
    assert!(!stdout.contains("privilege SELECT"), "SELECT was granted:\n{stdout}");

    // Nothing at all: every privilege is named.
    let bare = format!("bare{}", rand::random::<u16>());
    user_with(db, &bare, "").await;
    let cfg = cfg.set("database.user", &bare).set("database.password", &format!("pw-{bare}"));
    let stdout = problems(&run_cli(&cfg, &["check"]));
    for p in ["REPLICATION SLAVE", "REPLICATION CLIENT", "SELECT"] {
        assert!(stdout.contains(&format!("privilege {p} is missing")), "{p} not reported:\n{stdout}");
    }
}

#[tokio::test]
async fn unreachable_database_and_kafka_are_both_reported() {
    let db = shared_mariadb();
    let (db_port, kafka) = (free_port(), format!("127.0.0.1:{}", free_port()));
    let cfg = CdcConfig::mariadb(db, &kafka, &unique_prefix("check_down"), "check_down")
        .set("database.port", &db_port.to_string());
    let started = std::time::Instant::now();
    let stdout = problems(&run_cli(&cfg, &["check"]));
    assert!(stdout.contains(&format!("127.0.0.1:{db_port}")), "{stdout}");
    assert!(stdout.contains("database.hostname/database.port"), "{stdout}");
    assert!(stdout.contains(&kafka) && stdout.contains("bootstrap.servers"), "{stdout}");
    assert!(started.elapsed() < std::time::Duration::from_secs(45), "check took {:?}", started.elapsed());
}

#[tokio::test]
async fn wrong_password_is_reported() {
    let db = shared_mariadb();
    let cfg = CdcConfig::mariadb(db, shared_kafka().bootstrap(), &unique_prefix("check_pw"), "check_pw")
        .set("database.password", "wrong");
    let stdout = problems(&run_cli(&cfg, &["check"]));
    assert!(stdout.contains(&format!("`{}`", db.user())) && stdout.contains("database.user/database.password"), "{stdout}");
}
