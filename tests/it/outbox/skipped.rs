//! `skipped.operations` (`c`, `u`, `d`, `t`, `none`; `t` by default) and
//! truncate events: with `t` not skipped, `TRUNCATE TABLE` is one record
//! with op `t`, a null key and no row images; by default it is nothing at
//! all — neither a data event nor a schema change record.

use std::time::Duration;

use crate::outbox::support::{read_settled, read_until};
use crate::support::cdc::{Cdc, CdcConfig};
use crate::support::kafka::{shared_kafka, unique_prefix};
use crate::support::mariadb::shared_mariadb;

fn op(r: &crate::outbox::support::Rec) -> Option<String> {
    r.value_json()
        .map(|v| v["op"].as_str().unwrap_or("").to_string())
}

#[tokio::test]
async fn skipped_operations_and_truncate_events() {
    let (db, bootstrap) = (shared_mariadb(), shared_kafka().bootstrap());
    let database = db.fresh_database("skipped").await;
    db.exec(&format!("USE `{database}`; CREATE TABLE t (id INT PRIMARY KEY, v INT); CREATE TABLE u (id INT PRIMARY KEY)")).await;
    let plain = |prefix: &str| {
        CdcConfig::mariadb(db, bootstrap, prefix, &database)
            .set("key.converter.schemas.enable", "false")
            .set("value.converter.schemas.enable", "false")
    };
    // Only updates (and truncates: `t` is not in the list).
    let only_updates = unique_prefix("skip_cd");
    let a = Cdc::start(&plain(&only_updates).set("skipped.operations", "c,d"));
    // Everything, truncates included.
    let all = unique_prefix("skip_none");
    let b = Cdc::start(&plain(&all).set("skipped.operations", "none"));
    // The default: truncates skipped; schema changes on.
    let default = unique_prefix("skip_default");
    let c = Cdc::start(&plain(&default).set("include.schema.changes", "true"));
    for cdc in [&a, &b, &c] {
        cdc.wait_streaming(Duration::from_secs(60)).await;
    }
    db.exec(&format!(
        "USE `{database}`; INSERT INTO t VALUES (1, 1); UPDATE t SET v = 2; DELETE FROM t; TRUNCATE TABLE t;
         INSERT INTO u VALUES (1)"
    ))
    .await;
    let topic = |p: &str, table: &str| format!("{p}.{database}.{table}");

    let got = read_until(
        bootstrap,
        &topic(&only_updates, "t"),
        Duration::from_secs(60),
        |r| r.len() >= 2,
    )
    .await;
    assert_eq!(
        got.iter().map(op).collect::<Vec<_>>(),
        [Some("u".into()), Some("t".into())],
        "{}",
        a.log_tail(30)
    );

    let got = read_until(bootstrap, &topic(&all, "t"), Duration::from_secs(60), |r| {
        r.len() >= 5
    })
    .await;
    assert_eq!(
        got.iter().map(op).collect::<Vec<_>>(),
        [
            Some("c".into()),
            Some("u".into()),
            Some("d".into()),
            None,
            Some("t".into())
        ],
        "{}",
        b.log_tail(30)
    );
    let truncate = &got[4];
    assert_eq!(truncate.key, None, "a truncate has no key");
    let v = truncate.value_json().unwrap();
    assert_eq!(
        (v["before"].clone(), v["after"].clone()),
        (serde_json::Value::Null, serde_json::Value::Null)
    );
    assert_eq!(v["source"]["table"], "t");
    assert_eq!(v["source"]["db"], database.as_str());

    // Default: c, u, d + tombstone and nothing for the truncate; the
    // sentinel insert into `u` marks the end.
    read_until(
        bootstrap,
        &topic(&default, "u"),
        Duration::from_secs(60),
        |r| !r.is_empty(),
    )
    .await;
    let got = read_settled(bootstrap, &topic(&default, "t"), Duration::from_secs(30)).await;
    assert_eq!(
        got.iter().map(op).collect::<Vec<_>>(),
        [Some("c".into()), Some("u".into()), Some("d".into()), None]
    );
    let ddl = read_settled(bootstrap, &default, Duration::from_secs(10)).await;
    assert!(
        ddl.iter()
            .all(|r| !r.value.as_deref().unwrap_or("").contains("TRUNCATE")),
        "a TRUNCATE is no schema change: {ddl:?}"
    );
    for cdc in [a, b, c] {
        cdc.terminate(Duration::from_secs(20)).await;
    }
}
