//! The README's outbox example, run as a newcomer would: the schema and the
//! transaction of `examples/outbox/`, the connector of
//! `connectors/outbox.yaml`. One transaction creates a user and inserts a
//! `UserCreated` event; the user arrives as a plain change event, the event
//! as the record the README shows on `outbox.event.user`.

use std::time::Duration;

use crate::outbox::support::{read_from, read_until, LOGICAL_NAME};
use crate::support::cdc::{server_id, Cdc, CdcConfig};
use crate::support::kafka::{list_topics, shared_kafka, unique_prefix};
use crate::support::mariadb::{shared_mariadb, MariaDb};

const SCHEMA: &str = include_str!("../../../examples/outbox/schema.sql");
const CREATE_USER: &str = include_str!("../../../examples/outbox/create_user.sql");
const CONNECTOR: &str = include_str!("../../../connectors/outbox.yaml");

/// `connectors/outbox.yaml` flattened, with what differs per machine and per
/// run replaced: servers, replica id, offsets topic, and the database and
/// topic prefix (so runs against a shared broker do not mix).
fn example_config(db: &MariaDb, bootstrap: &str, prefix: &str, database: &str) -> CdcConfig {
    fn flatten(prefix: &str, v: &serde_yaml::Value, out: &mut Vec<(String, String)>) {
        match v {
            serde_yaml::Value::Mapping(m) => {
                for (k, v) in m {
                    let k = k.as_str().expect("string key");
                    let name = if prefix.is_empty() {
                        k.to_string()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    flatten(&name, v, out);
                }
            }
            serde_yaml::Value::String(s) => out.push((prefix.to_string(), s.clone())),
            other => out.push((
                prefix.to_string(),
                serde_yaml::to_string(other)
                    .expect("yaml")
                    .trim()
                    .to_string(),
            )),
        }
    }
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(CONNECTOR).expect("connectors/outbox.yaml is YAML");
    let mut props = Vec::new();
    flatten("", &yaml, &mut props);
    let mut cfg = CdcConfig { props };
    assert_eq!(
        cfg.get("predicates.isOutbox.pattern"),
        Some(r"usersvc\.userdb\.outbox")
    );
    cfg = cfg
        .set("database.hostname", db.host())
        .set("database.port", &db.port().to_string())
        .set("database.user", db.user())
        .set("database.password", db.password())
        .set("database.server.id", &server_id().to_string())
        .set("bootstrap.servers", bootstrap)
        .set("offset.storage.topic", &format!("{prefix}-offsets"))
        .set("offset.flush.interval.ms", "100")
        .set("database.include.list", database)
        .set("topic.prefix", prefix)
        .set(
            "predicates.isOutbox.pattern",
            &format!(
                r"{}\.{}\.outbox",
                regex::escape(prefix),
                regex::escape(database)
            ),
        );
    cfg
}

#[tokio::test]
async fn readme_outbox_example_routes_the_event_and_captures_the_user() {
    let (db, bootstrap) = (shared_mariadb(), shared_kafka().bootstrap());
    let database = db.fresh_database("userdb").await;
    db.exec(&SCHEMA.replace("userdb", &database)).await;
    let prefix = unique_prefix("usersvc");
    let cdc = Cdc::start(&example_config(db, bootstrap, &prefix, &database));
    cdc.wait_streaming(Duration::from_secs(60)).await;

    db.exec(&format!("USE `{database}`; {CREATE_USER}")).await;

    // The business row: a plain change event on its table's topic.
    let users_topic = format!("{prefix}.{database}.users");
    let users = read_until(bootstrap, &users_topic, Duration::from_secs(60), |r| {
        !r.is_empty()
    })
    .await;
    assert_eq!(users.len(), 1, "{}", cdc.log_tail(40));
    let change = users[0].value_json().expect("a value");
    assert_eq!(change["op"], "c");
    assert_eq!(
        change["after"],
        serde_json::json!({"id": 1, "email": "ada@example.com", "name": "Ada Lovelace"})
    );
    assert_eq!(users[0].key.as_deref(), Some(r#"{"id":1}"#));

    // The event: routed by aggregatetype, keyed by aggregateid, the JSON
    // payload expanded into the value, the event id and type as headers.
    let events = read_from(
        bootstrap,
        "outbox.event.user",
        &prefix,
        1,
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(events.len(), 1, "{}", cdc.log_tail(40));
    let e = &events[0];
    assert_eq!(e.key.as_deref(), Some(r#""1""#));
    assert_eq!(
        e.value.as_deref(),
        Some(r#"{"id":1,"email":"ada@example.com","name":"Ada Lovelace"}"#)
    );
    let names: Vec<&str> = e.headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            LOGICAL_NAME,
            "__debezium.context.taskId",
            "__debezium.context.connectorName",
            "__debezium.context.runId",
            "id",
            "eventType"
        ]
    );
    let id = e.header("id").expect("id header");
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "the event id is the row's UUID: {id}"
    );
    assert_eq!(e.header("eventType"), Some("UserCreated"));
    let db_id: Vec<String> = db
        .query(&format!("SELECT id FROM `{database}`.outbox"))
        .await;
    assert!(
        db_id.is_empty(),
        "the example deletes its outbox row afterwards"
    );

    // The outbox table itself is never written as change events, and the
    // DELETE of the outbox row produced nothing.
    db.exec(&format!(
        "USE `{database}`; INSERT INTO users (email, name) VALUES ('sentinel@example.com', 'S')"
    ))
    .await;
    let users = read_until(bootstrap, &users_topic, Duration::from_secs(60), |r| {
        r.len() >= 2
    })
    .await;
    assert_eq!(users.len(), 2);
    let events = read_from(
        bootstrap,
        "outbox.event.user",
        &prefix,
        2,
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(
        events.len(),
        1,
        "one event, nothing for the delete: {events:?}"
    );
    assert!(!list_topics(bootstrap)
        .await
        .contains(&format!("{prefix}.{database}.outbox")));
    cdc.terminate(Duration::from_secs(20)).await;
}
