//! `binlog-cdc replay` on MySQL binlog files: every fixture file of
//! `../shared/fixtures/mysql-binlogs` goes through the real binary and the
//! same decoder as the live stream, and the records of the files with row
//! events are pinned in golden files (`golden/mysql/*.jsonl`): JSON columns
//! (storage-order keys, Debezium's number/opaque formatting), partial JSON
//! updates, compressed transaction payloads, ENUM/SET/BIT, VECTOR, full vs
//! minimal row metadata, tagged GTIDs with `original_commit_timestamp`.
//!
//! `UPDATE_GOLDEN=1 cargo test --test it replay_mysql` rewrites the golden
//! files; review the diff like code.

use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;

use crate::support::binlog_gen::*;
use crate::support::cdc::BINARY;
use crate::support::process::scratch_dir;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/mysql-binlogs")
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/golden/mysql")
}

const BASE_CONFIG: &str = "name: replay\n\
connector.class: io.debezium.connector.mysql.MySqlConnector\n\
database.hostname: 127.0.0.1\n\
database.user: replay\n\
database.server.id: 1\n\
topic.prefix: fx\n\
sink.type: stdout\n\
include.schema.changes: false\n\
table.ignore.builtin: false\n";

struct Replay {
    /// Records (JSON lines) as printed, envelope clock fields masked.
    lines: Vec<String>,
    /// The `error: …` line, if the command failed.
    error: Option<String>,
}

/// Runs `binlog-cdc replay` on `files` with extra config lines and flags.
fn replay(files: &[PathBuf], config: &str, flags: &[&str]) -> Replay {
    let dir = scratch_dir("replay");
    let cfg = dir.path().join("cdc.yaml");
    std::fs::write(&cfg, format!("{BASE_CONFIG}{config}")).expect("write config");
    let mut cmd = Command::new(BINARY);
    cmd.arg("replay").arg("--config").arg(&cfg).args(flags).env("BINLOG_CDC_LOG", "warn");
    for f in files {
        cmd.arg("--file").arg(f);
    }
    let out = cmd.output().expect("run binlog-cdc replay");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The envelope's ts_ms/ts_us/ts_ns are the connector's clock.
    let clock = Regex::new(r#","op":"(.)","ts_ms":\d+,"ts_us":\d+,"ts_ns":\d+"#).expect("regex");
    let lines = stdout.lines().map(|l| clock.replace_all(l, r#","op":"$1","ts_ms":0,"ts_us":0,"ts_ns":0"#).into_owned()).collect();
    let error = stderr.lines().find(|l| l.starts_with("error: ")).map(|l| {
        // Paths differ between machines; keep the file name.
        l.replace(&format!("{}/", fixtures().display()), "").replace(&format!("{}/", dir.path().display()), "")
    });
    assert_eq!(out.status.success(), error.is_none(), "exit status vs error line:\n{stderr}");
    Replay { lines, error }
}

/// Compares with (or, with UPDATE_GOLDEN=1, writes) `golden/mysql/<name>.jsonl`.
fn check_golden(name: &str, r: &Replay) {
    let mut text = r.lines.join("\n");
    text.push('\n');
    if let Some(e) = &r.error {
        text.push_str(&format!("# {e}\n"));
    }
    let path = golden_dir().join(format!("{name}.jsonl"));
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(golden_dir()).expect("golden dir");
        std::fs::write(&path, &text).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 creates it)", path.display()));
    for (i, (got, want)) in text.lines().zip(want.lines()).enumerate() {
        assert_eq!(got, want, "{name}.jsonl line {}", i + 1);
    }
    assert_eq!(text.lines().count(), want.lines().count(), "{name}.jsonl line count:\n{text}");
}

fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

const PAYLOAD_ONLY: &str = "key.converter.schemas.enable: false\nvalue.converter.schemas.enable: false\n";

/// Every fixture file is replayed through the decoder: the well-formed ones
/// without error (tables without column names get synthetic ones), the
/// truncated and corrupt ones with an error naming file, offset and event.
#[test]
fn every_fixture_replays_or_fails_cleanly() {
    let failures: &[(&str, &str)] = &[
        ("binlog_truncated_event.000001", "binlog_truncated_event.000001, offset 4: the file ends inside the event header"),
        ("binlog_truncated_prev_gtid_event.000001", "binlog_truncated_prev_gtid_event.000001, offset 120: the file ends inside the event header"),
        ("corrupt-relay-bin.000624", "corrupt-relay-bin.000624, offset 91204, QUERY_EVENT (2): unreadable binlog event"),
        ("ver_5_1-wl2325_r.001", "ver_5_1-wl2325_r.001, offset 428, TABLE_MAP_EVENT (19): written by a MySQL pre-release"),
        // binlog_row_image=MINIMAL: the partial update's old document is not in the binlog.
        ("json.binlog.000001", "json.binlog.000001, offset 3750, PARTIAL_UPDATE_ROWS_EVENT (39): cannot decode a row of `mysql.t`"),
    ];
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .expect("fixtures")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "README.md")
        .collect();
    names.sort();
    let mut records = 0;
    for name in &names {
        let r = replay(&[fixture(name)], PAYLOAD_ONLY, &["--minimal-metadata", "synthetic"]);
        match failures.iter().find(|(f, _)| f == name) {
            Some((_, want)) => {
                let e = r.error.unwrap_or_else(|| panic!("{name}: replay succeeded"));
                assert!(e.contains(want), "{name}: {e}");
            }
            None => assert!(r.error.is_none(), "{name}: {:?}", r.error),
        }
        for l in &r.lines {
            let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: {e}: {l}"));
            assert!(v["topic"].as_str().is_some_and(|t| t.starts_with("fx.")), "{name}: {l}");
        }
        records += r.lines.len();
    }
    assert!(records >= 90, "records from all fixtures: {records}");
}

#[test]
fn golden_enum_set_with_schemas() {
    check_golden("enum_set", &replay(&[fixture("mysql-enum-string-set.000001")], "", &[]));
}

#[test]
fn golden_bit_with_schemas() {
    check_golden("bit", &replay(&[fixture("mysql_type_bit.000001")], "", &[]));
}

#[test]
fn golden_vector_with_schemas() {
    check_golden("vector", &replay(&[fixture("vector.binlog")], "", &[]));
}

#[test]
fn golden_json_opaque_values() {
    check_golden("json_opaque", &replay(&[fixture("json-opaque.binlog")], PAYLOAD_ONLY, &[]));
}

/// MINIMAL row image: the partial update cannot be rebuilt, and says why.
#[test]
fn golden_json_partial_update_without_before_image() {
    check_golden("json_minimal_image", &replay(&[fixture("json.binlog.000001")], PAYLOAD_ONLY, &["--minimal-metadata", "synthetic"]));
}

#[test]
fn golden_compressed_transaction_payload() {
    check_golden("compressed", &replay(&[fixture("transaction_compression.000001")], PAYLOAD_ONLY, &["--minimal-metadata", "synthetic"]));
}

/// MySQL 8.4 GTID_TAGGED_LOG_EVENT: `source.gtid` is `uuid:tag:gno`, and the
/// source time is the GTID event's `original_commit_timestamp` (µs).
#[test]
fn golden_tagged_gtid() {
    let r = replay(&[fixture("binlog_transaction_with_GTID_TAG.000001")], PAYLOAD_ONLY, &["--minimal-metadata", "synthetic"]);
    assert!(r.lines[0].contains(r#""ts_ms":1770368687207,"#) && r.lines[0].contains(r#""ts_us":1770368687207196,"#), "{}", r.lines[0]);
    assert!(r.lines[0].contains(r#""gtid":"55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3""#), "{}", r.lines[0]);
    check_golden("gtid_tag", &r);
}

#[test]
fn golden_minimal_metadata_error_and_synthetic() {
    let r = replay(&[fixture("minimal_row_metadata.000001")], PAYLOAD_ONLY, &[]);
    assert!(r.lines.is_empty());
    assert!(r.error.as_deref().is_some_and(|e| e.contains("binlog_row_metadata=MINIMAL") && e.contains("--minimal-metadata=synthetic")), "{:?}", r.error);
    check_golden("minimal_error", &r);
    let r = replay(&[fixture("minimal_row_metadata.000001")], "inconsistent.schema.handling.mode: skip\n", &[]);
    assert!(r.lines.is_empty() && r.error.is_none(), "skip mode drops the table's rows: {:?}", r.error);
    check_golden("minimal_synthetic", &replay(&[fixture("minimal_row_metadata.000001")], PAYLOAD_ONLY, &["--minimal-metadata", "synthetic"]));
}

#[test]
fn golden_full_metadata_invisible_columns() {
    check_golden("invisible_columns", &replay(&[fixture("binlog-invisible-columns.000001")], PAYLOAD_ONLY, &[]));
}

/// A MySQL 8.4 binlog written by the test: GTID transactions with
/// `original_commit_timestamp`, FULL metadata, and a partial JSON update
/// (binlog_row_value_options=PARTIAL_JSON) applied to the before image.
fn generated_binlog() -> Vec<u8> {
    let uuid = *uuid::Uuid::parse_str("3e11fa47-71ca-11e1-9e33-c80aa9429562").unwrap().as_bytes();
    let cols = [int_col("id", false), varchar_col("name", 255, true), json_col("doc", true)];
    let mut b = Binlog::new(223344, 1_717_171_717);
    let tm = table_map_body(42, "inventory", "customers", &cols, &[0]);
    let doc = json_object(&[("city", "Paris"), ("tier", "gold")]);
    b.gtid(uuid, 23, 1_717_171_717_123_456);
    b.query(7, "inventory", "BEGIN");
    b.push(TABLE_MAP, &tm);
    b.push(WRITE_ROWS, &rows_body(WRITE_ROWS, 42, &cols, &[vec![Val::Int(1001), Val::Str("Anne".into()), Val::Json(doc.clone())]]));
    b.xid(100);
    b.gtid(uuid, 24, 1_717_171_718_000_001);
    b.query(8, "inventory", "BEGIN");
    b.push(TABLE_MAP, &tm);
    let mut diff = json_diff(0, "$.tier", Some(&json_string("platinum")));
    diff.extend(json_diff(1, "$.zip", Some(&json_string("75001"))));
    diff.extend(json_diff(2, "$.city", None));
    b.push(
        PARTIAL_UPDATE_ROWS,
        &rows_body(
            PARTIAL_UPDATE_ROWS,
            42,
            &cols,
            &[
                vec![Val::Int(1001), Val::Str("Anne".into()), Val::Json(doc)],
                vec![Val::Int(1001), Val::Str("Anne Marie".into()), Val::JsonDiff(diff)],
            ],
        ),
    );
    b.xid(101);
    b.rotate("mysql-bin.000004");
    b.bytes
}

#[test]
fn golden_generated_partial_json_full_image() {
    let dir = scratch_dir("replay-gen");
    let path = dir.path().join("mysql-bin.000003");
    std::fs::write(&path, generated_binlog()).expect("write binlog");
    let r = replay(&[path], PAYLOAD_ONLY, &[]);
    assert_eq!(r.error, None);
    assert_eq!(r.lines.len(), 2, "{:?}", r.lines);
    assert!(r.lines[1].contains(r#""after":{"id":1001,"name":"Anne Marie","doc":"{\"zip\":\"75001\",\"tier\":\"platinum\"}"}"#), "{}", r.lines[1]);
    assert!(r.lines[1].contains(r#""ts_us":1717171718000001,"#) && r.lines[1].contains(r#""thread":8,"#), "{}", r.lines[1]);
    check_golden("generated_partial_json", &r);
}
