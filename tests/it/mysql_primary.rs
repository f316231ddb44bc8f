//! The MySQL flavour end to end, against the test primary (support/primary.rs)
//! serving MySQL 8.4-format binlogs, with records read back from a real Kafka:
//! the connector starts from `SHOW BINARY LOG STATUS` (8.4 refuses `SHOW
//! MASTER STATUS`), streams with COM_BINLOG_DUMP_GTID, takes column names
//! from `binlog_row_metadata=FULL`, writes the MySQL source block
//! (`connector: "mysql"`, `io.debezium.connector.mysql.Source`, `ts_ms`/`ts_us`
//! from the GTID event's `original_commit_timestamp`, `thread` from the BEGIN
//! query), stores a MySQL GTID set in its offsets, and after a restart in the
//! middle of a transaction resumes by GTID set and skips exactly the events
//! (and, from a Debezium-written offset, the rows) already delivered.

use std::time::Duration;

use binlog_cdc::offsets::gtid_mysql::{Gtid, GtidSet, Uuid};
use serde_json::Value;

use crate::support::binlog_gen::*;
use crate::support::cdc::{run_cli, server_id, Cdc, CdcConfig};
use crate::support::kafka::{consume, produce, shared_kafka, unique_prefix, Record};
use crate::support::primary::{ColumnDef, Primary, TableDef, SERVER_ID};
use crate::support::wait::wait_for;

const UUID: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
const TABLE_ID: u64 = 42;

fn uuid() -> [u8; 16] {
    *uuid::Uuid::parse_str(UUID).unwrap().as_bytes()
}

fn cols() -> Vec<Col> {
    vec![int_col("id", false), varchar_col("name", 255, true), json_col("doc", true)]
}

fn table_def() -> TableDef {
    let c = |name, data_type, column_type, nullable, len: Option<u64>, cs: Option<&'static str>| ColumnDef {
        name,
        data_type,
        column_type,
        nullable,
        char_max_length: len,
        charset: cs,
    };
    TableDef {
        db: "inventory",
        table: "customers",
        columns: vec![
            c("id", "int", "int", false, None, None),
            c("name", "varchar", "varchar(255)", true, Some(255), Some("utf8mb4")),
            c("doc", "json", "json", true, None, None),
        ],
        primary_key: vec!["id"],
    }
}

/// Commit time of GTID `gno` (µs): distinct, sub-second, deterministic.
fn commit_us(gno: u64) -> u64 {
    1_717_171_700_000_000 + gno * 1_000_000 + 123_456
}

fn row(id: i32, name: &str) -> Vec<Val> {
    vec![Val::Int(id), Val::Str(name.into()), Val::Json(json_object(&[("n", name)]))]
}

/// A whole insert transaction; returns the rows event's position.
fn insert_tx(b: &mut Binlog, gno: u64, thread: u32, rows: &[(i32, &str)]) -> u64 {
    b.gtid(uuid(), gno, commit_us(gno));
    b.query(thread, "inventory", "BEGIN");
    b.push(TABLE_MAP, &table_map_body(TABLE_ID, "inventory", "customers", &cols(), &[0]));
    let images: Vec<Vec<Val>> = rows.iter().map(|(id, n)| row(*id, n)).collect();
    let at = b.push(WRITE_ROWS, &rows_body(WRITE_ROWS, TABLE_ID, &cols(), &images));
    b.xid(gno);
    at
}

fn gtid(gno: u64) -> Gtid {
    Gtid::new(Uuid::parse(UUID).unwrap(), None, gno).unwrap()
}

fn config(port: u16, bootstrap: &str, prefix: &str) -> CdcConfig {
    let props = [
        ("name", format!("{prefix}-connector")),
        ("connector.class", "io.debezium.connector.mysql.MySqlConnector".into()),
        ("database.hostname", "127.0.0.1".into()),
        ("database.port", port.to_string()),
        ("database.user", "cdc".into()),
        ("database.password", "secret".into()),
        ("database.server.id", server_id().to_string()),
        ("topic.prefix", prefix.into()),
        ("database.include.list", "inventory".into()),
        ("snapshot.mode", "no_data".into()),
        ("include.schema.changes", "false".into()),
        ("bootstrap.servers", bootstrap.into()),
        ("offset.storage.topic", format!("{prefix}-offsets")),
        // One partition: the test writes a Debezium offset into it too.
        ("offset.storage.partitions", "1".into()),
        ("offset.flush.interval.ms", "100".into()),
    ];
    CdcConfig { props: props.into_iter().map(|(k, v)| (k.to_string(), v)).collect() }
}

fn ids(records: &[Record]) -> Vec<i64> {
    records
        .iter()
        .filter_map(|r| r.value_json())
        .map(|v| v["payload"]["after"]["id"].as_i64().expect("after.id"))
        .collect()
}

async fn stored_offset(cfg: &CdcConfig) -> Option<Value> {
    let out = run_cli(cfg, &["offsets", "show"]);
    serde_json::from_slice(&out.stdout).ok().filter(|v: &Value| !v.is_null())
}

async fn stop(cdc: &Cdc) {
    let status = cdc.terminate(Duration::from_secs(30)).await;
    assert!(status.is_some_and(|s| s.success()), "clean exit on SIGTERM: {status:?}\n{}", cdc.log_tail(60));
}

#[tokio::test]
async fn mysql_gtid_stream_source_block_and_restart_mid_transaction() {
    let bootstrap = shared_kafka().bootstrap();
    let prefix = unique_prefix("mysql_primary");
    // History the connector must not see: transactions 21 and 22 are executed.
    let mut b = Binlog::new(SERVER_ID, 1_717_171_000);
    insert_tx(&mut b, 21, 5, &[(1, "old")]);
    insert_tx(&mut b, 22, 5, &[(2, "old")]);
    let executed = GtidSet::parse(&format!("{UUID}:1-22")).unwrap();
    let primary = Primary::start("mysql-bin.000003", b, executed, vec![table_def()]).await;
    let cfg = config(primary.port(), bootstrap, &prefix);
    let topic = format!("{prefix}.inventory.customers");

    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    // The connector logs "streaming" once its dump request is sent; the
    // primary records it when it has read it.
    crate::support::wait::wait_until("the dump request reached the primary", Duration::from_secs(30), || async {
        !primary.dumps().is_empty()
    })
    .await;
    assert_eq!(primary.dumps(), [format!("gtid:{UUID}:1-22")], "COM_BINLOG_DUMP_GTID with SHOW BINARY LOG STATUS's set");

    // Transaction 23 whole; transaction 24 up to its first rows event.
    let mut pos_23 = 0;
    let mut begin_24 = 0;
    primary.append(|b| {
        pos_23 = insert_tx(b, 23, 7, &[(1001, "Anne")]);
        b.gtid(uuid(), 24, commit_us(24));
        begin_24 = b.query(8, "inventory", "BEGIN");
        b.push(TABLE_MAP, &table_map_body(TABLE_ID, "inventory", "customers", &cols(), &[0]));
        b.push(WRITE_ROWS, &rows_body(WRITE_ROWS, TABLE_ID, &cols(), &[row(1002, "Bob"), row(1003, "Cy")]));
    });
    primary.executed(&gtid(23));
    let got = consume(bootstrap, &topic, 3, Duration::from_secs(60)).await;
    assert_eq!(ids(&got), [1001, 1002, 1003], "{}", cdc.log_tail(40));

    // The MySQL source block, field by field.
    let v = got[0].value_json().unwrap();
    let source = &v["payload"]["source"];
    let want = serde_json::json!({
        "version": source["version"], "connector": "mysql", "name": prefix, "ts_ms": 1_717_171_723_123i64,
        "snapshot": "false", "db": "inventory", "sequence": null, "ts_us": 1_717_171_723_123_456i64,
        "ts_ns": 1_717_171_723_123_456_000i64, "table": "customers", "server_id": SERVER_ID, "gtid": format!("{UUID}:23"),
        "file": "mysql-bin.000003", "pos": pos_23, "row": 0, "thread": 7, "query": null
    });
    assert_eq!(source, &want);
    let source_schema = v["schema"]["fields"].as_array().unwrap().iter().find(|f| f["field"] == "source").unwrap();
    assert_eq!(source_schema["name"], "io.debezium.connector.mysql.Source");
    // Column names from binlog_row_metadata=FULL / information_schema; JSON as Debezium prints it.
    assert_eq!(v["payload"]["after"], serde_json::json!({"id": 1001, "name": "Anne", "doc": "{\"n\":\"Anne\"}"}));
    assert_eq!(got[0].key_json().unwrap()["payload"], serde_json::json!({"id": 1001}));
    let second = got[1].value_json().unwrap();
    assert_eq!(second["payload"]["source"]["gtid"], format!("{UUID}:24"));
    assert_eq!(second["payload"]["source"]["thread"], 8);
    assert_eq!(second["payload"]["source"]["ts_us"], commit_us(24));

    // Mid-transaction offset: transaction 24's BEGIN, the set before it, 3 events done.
    let offset = wait_for(Duration::from_secs(30), || async {
        stored_offset(&cfg).await.filter(|o| o["event"] == 3)
    })
    .await
    .unwrap_or_else(|| panic!("no mid-transaction offset stored\n{}", cdc.log_tail(40)));
    assert_eq!(offset["gtids"], format!("{UUID}:1-23"));
    assert_eq!((offset["file"].as_str(), offset["pos"].as_u64()), (Some("mysql-bin.000003"), Some(begin_24)));
    assert_eq!(offset["server_id"], SERVER_ID);
    stop(&cdc).await;

    // The rest of 24, and 25, while the connector is down.
    primary.append(|b| {
        b.push(WRITE_ROWS, &rows_body(WRITE_ROWS, TABLE_ID, &cols(), &[row(1004, "Dee")]));
        b.xid(24);
        insert_tx(b, 25, 9, &[(1005, "Eve")]);
    });
    primary.executed(&gtid(24));
    primary.executed(&gtid(25));
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    let got = consume(bootstrap, &topic, 5, Duration::from_secs(60)).await;
    assert_eq!(ids(&got), [1001, 1002, 1003, 1004, 1005], "each row once after the restart:\n{}", cdc.log_tail(60));
    assert_eq!(primary.dumps().last().unwrap(), &format!("gtid:{UUID}:1-23"), "resumed by the GTID set before transaction 24");
    let offset = wait_for(Duration::from_secs(30), || async {
        stored_offset(&cfg).await.filter(|o| o["gtids"] == format!("{UUID}:1-25"))
    })
    .await
    .expect("offset after transaction 25");
    assert!(offset.get("event").is_none() && offset.get("row").is_none(), "{offset}");
    stop(&cdc).await;

    // A Debezium offset inside transaction 26: BEGIN and TABLE_MAP handled,
    // one row of the rows event emitted. The restart skips exactly that.
    let mut begin_26 = 0;
    primary.append(|b| {
        b.gtid(uuid(), 26, commit_us(26));
        begin_26 = b.query(10, "inventory", "BEGIN");
        b.push(TABLE_MAP, &table_map_body(TABLE_ID, "inventory", "customers", &cols(), &[0]));
        b.push(WRITE_ROWS, &rows_body(WRITE_ROWS, TABLE_ID, &cols(), &[row(2001, "r1"), row(2002, "r2"), row(2003, "r3")]));
        b.xid(26);
    });
    primary.executed(&gtid(26));
    let key = format!(r#"["{prefix}-connector",{{"server":"{prefix}"}}]"#);
    let value = format!(
        r#"{{"ts_sec":1717171726,"file":"mysql-bin.000003","pos":{begin_26},"gtids":"{UUID}:1-25","event":2,"row":1,"server_id":{SERVER_ID}}}"#
    );
    produce(bootstrap, &format!("{prefix}-offsets"), Some(key.as_bytes()), Some(value.as_bytes()), &[]).await;
    let cdc = Cdc::start(&cfg);
    cdc.wait_streaming(Duration::from_secs(60)).await;
    let got = consume(bootstrap, &topic, 7, Duration::from_secs(60)).await;
    assert_eq!(ids(&got), [1001, 1002, 1003, 1004, 1005, 2002, 2003], "row 2001 skipped:\n{}", cdc.log_tail(60));
    let v = got[5].value_json().unwrap();
    assert_eq!(v["payload"]["source"]["row"], 1);
    stop(&cdc).await;
    assert!(primary.unknown_queries().is_empty(), "statements the test primary could not answer: {:?}", primary.unknown_queries());
}
