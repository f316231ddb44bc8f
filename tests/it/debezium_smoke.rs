//! Smoke test of the Debezium oracle (support/debezium.rs): real Debezium
//! streams an insert, an update and a delete from the shared MariaDB into the
//! shared Kafka, and what it writes matches `golden/debezium_mariadb_crud.txt`
//! byte for byte, except clock- and binlog-position-dependent values.
//! `BINLOG_CDC_IT_BLESS=1` rewrites that file from the run instead.

use std::time::Duration;

use regex::Regex;

use crate::support::debezium::{Debezium, DebeziumConfig};
use crate::support::kafka::{self, shared_kafka, unique_prefix, Record};
use crate::support::mariadb::shared_mariadb;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/golden/debezium_mariadb_crud.txt");
const DDL: &str = "CREATE TABLE customers (id INT NOT NULL PRIMARY KEY, name VARCHAR(255))";
const DML: [&str; 3] = [
    "INSERT INTO customers VALUES (1001, 'Anne')",
    "UPDATE customers SET name = 'Anne Marie' WHERE id = 1001",
    "DELETE FROM customers WHERE id = 1001",
];
/// Names in the golden file; a run's random names are replaced by these.
const GOLDEN_PREFIX: &str = "dbz";
const GOLDEN_DB: &str = "shop";

#[tokio::test]
async fn debezium_streams_mariadb_crud() {
    let (db, bootstrap) = (shared_mariadb(), shared_kafka().bootstrap());
    let database = db.fresh_database("dbz_smoke").await;
    db.exec(&format!("USE `{database}`; {DDL}")).await;
    // A user with exactly the privileges Debezium documents.
    db.exec(
        "CREATE USER IF NOT EXISTS 'debezium'@'%' IDENTIFIED BY 'dbz-pw'; \
         GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'debezium'@'%'",
    )
    .await;
    let prefix = unique_prefix("dbz_smoke");
    let cfg = DebeziumConfig::mariadb(db, bootstrap, &prefix, &database)
        .set("database.user", "debezium")
        .set("database.password", "dbz-pw");
    let started = std::time::Instant::now();
    let dbz = Debezium::start(cfg).await;
    dbz.wait_streaming(Duration::from_secs(180)).await;
    eprintln!("Debezium streaming {:?} after start", started.elapsed());

    for sql in DML {
        db.exec(&format!("USE `{database}`; {sql}")).await;
    }
    let topic = format!("{prefix}.{database}.customers");
    let got = kafka::consume(bootstrap, &topic, 4, Duration::from_secs(60)).await;
    assert_eq!(got.len(), 4, "records on {topic}: {got:?}\n{}", dbz.log_tail(40));

    let rename = |s: &str| s.replace(&prefix, GOLDEN_PREFIX).replace(&database, GOLDEN_DB);
    let actual: String = ["insert", "update", "delete", "tombstone"]
        .iter()
        .zip(&got)
        .map(|(name, r)| render(name, r, &rename))
        .collect();
    check_invariants(&got);
    if std::env::var_os("BINLOG_CDC_IT_BLESS").is_some() {
        std::fs::write(GOLDEN, golden_header() + &actual).expect("write golden file");
    }
    let golden = std::fs::read_to_string(GOLDEN).expect("read golden file");
    let golden: String = golden.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect();
    assert_eq!(mask(&actual), mask(&golden), "Debezium output differs from {GOLDEN}");
}

/// One record as `<name>.headers/key/value: …` lines (`<null>` for null).
fn render(name: &str, r: &Record, rename: &dyn Fn(&str) -> String) -> String {
    let bytes = |b: &Option<Vec<u8>>| b.as_deref().map_or("<null>".into(), |b| rename(&String::from_utf8_lossy(b)));
    let headers: Vec<String> = r.headers.iter().map(|(k, v)| format!("{k}={}", bytes(v))).collect();
    format!("{name}.headers: {}\n{name}.key: {}\n{name}.value: {}\n", headers.join(" "), bytes(&r.key), bytes(&r.value))
}

/// Blanks what differs between runs: clocks, Debezium's version, binlog
/// coordinates (the shared server has other tests' events) and the run id.
fn mask(text: &str) -> String {
    let rules = [
        (r#""(ts_ms|ts_us|ts_ns|pos)":\d+"#, r#""$1":0"#),
        (r#""(version|gtid|file)":"[^"]*""#, r#""$1":"*""#),
        (r"runId=[0-9a-f-]+", "runId=*"),
    ];
    rules.iter().fold(text.to_string(), |t, (re, to)| Regex::new(re).unwrap().replace_all(&t, *to).into_owned())
}

/// What masking hides must still be sane: MariaDB source times have second
/// precision, and the three events are distinct GTIDs at rising positions.
fn check_invariants(got: &[Record]) {
    let sources: Vec<serde_json::Value> =
        got[..3].iter().map(|r| r.value_json().unwrap()["payload"]["source"].clone()).collect();
    let mut last = (0, String::new());
    for s in &sources {
        let ms = s["ts_ms"].as_i64().unwrap();
        assert_eq!(ms % 1000, 0, "{s}");
        assert_eq!(s["ts_us"].as_i64(), Some(ms * 1000), "{s}");
        assert_eq!(s["ts_ns"].as_i64(), Some(ms * 1_000_000), "{s}");
        let gtid = s["gtid"].as_str().unwrap();
        assert!(Regex::new(r"^0-1-\d+$").unwrap().is_match(gtid), "{s}");
        let pos = s["pos"].as_i64().unwrap();
        assert!(pos > last.0 && gtid != last.1, "{s} after {last:?}");
        last = (pos, gtid.to_string());
    }
}

fn golden_header() -> String {
    format!(
        "# Debezium MariaDB connector output (Kafka Connect JsonConverter, schemas.enable=true),\n\
         # written by tests/it/debezium_smoke.rs with BINLOG_CDC_IT_BLESS=1: exact bytes, except that the\n\
         # run's random topic.prefix and database are renamed `{GOLDEN_PREFIX}` and `{GOLDEN_DB}`.\n\
         # Worker/connector: support/debezium.rs defaults, snapshot.mode=no_data, user 'debezium'.\n\
         # MariaDB --log-bin --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL --server-id=1\n\
         # Table: {DDL}\n\
         # Statements, each autocommitted: {};\n\
         # Topic {GOLDEN_PREFIX}.{GOLDEN_DB}.customers, records in order; `<null>` = null bytes.\n",
        DML.join("; ")
    )
}
