//! Every property name binlog-cdc knows, and what it does with each.
//!
//! A Debezium or Kafka Connect configuration carried over must never be
//! half-understood in silence. So each name falls in exactly one class:
//!
//! - **implemented** ([`IMPLEMENTED`]): validated into [`super::Config`];
//! - **not implemented yet** ([`NOT_IMPLEMENTED`], [`NOT_IMPLEMENTED_PREFIXES`]):
//!   a Debezium or Connect property we do not support. Setting it to its
//!   Debezium default is harmless and accepted (the default is what we do);
//!   any other value is an error saying so;
//! - **renamed** ([`RENAMED`]): a Debezium 1.x name; the error names the new one;
//! - **ignored** ([`IGNORED`]): accepted with any value, and reported in
//!   [`super::Config::ignored`], because it has no meaning here (the schema
//!   history topic above all: binlog-cdc reads schemas from the server);
//! - anything else is **unknown**: an error, with the closest known name when
//!   one is within three edits.
//!
//! Prefix families handled by validation itself (`producer.*`,
//! `transforms.*`, `predicates.*`, `topic.creation.*`) are not listed here.

/// Properties validated into `Config`.
pub const IMPLEMENTED: &[&str] = &[
    "name",
    "connector.class",
    "tasks.max",
    "database.hostname",
    "database.port",
    "database.user",
    "database.password",
    "database.server.id",
    "database.ssl.mode",
    "connect.timeout.ms",
    "connect.keep.alive",
    "connect.keep.alive.interval.ms",
    "topic.prefix",
    "topic.delimiter",
    "topic.naming.strategy",
    "topic.transaction",
    "topic.heartbeat.prefix",
    "topic.heartbeat.name",
    "database.include.list",
    "database.exclude.list",
    "table.include.list",
    "table.exclude.list",
    "column.include.list",
    "column.exclude.list",
    "table.ignore.builtin",
    "snapshot.mode",
    "snapshot.locking.mode",
    "snapshot.lock.timeout.ms",
    "snapshot.fetch.size",
    "snapshot.max.threads",
    "signal.data.collection",
    "signal.enabled.channels",
    "incremental.snapshot.chunk.size",
    "incremental.snapshot.watermarking.strategy",
    "include.schema.changes",
    "include.query",
    "tombstones.on.delete",
    "provide.transaction.metadata",
    "skipped.operations",
    "decimal.handling.mode",
    "time.precision.mode",
    "bigint.unsigned.handling.mode",
    "binary.handling.mode",
    "schema.name.adjustment.mode",
    "field.name.adjustment.mode",
    "enable.time.adjuster",
    "extended.headers.enabled",
    "unavailable.value.placeholder",
    "event.processing.failure.handling.mode",
    "inconsistent.schema.handling.mode",
    "errors.max.retries",
    "heartbeat.interval.ms",
    "heartbeat.action.query",
    "max.queue.size",
    "max.batch.size",
    "max.queue.size.in.bytes",
    "poll.interval.ms",
    "key.converter",
    "value.converter",
    "key.converter.schemas.enable",
    "value.converter.schemas.enable",
    "sink.type",
    "bootstrap.servers",
    "exactly.once.support",
    "topic.creation.enable",
    "topic.creation.default.partitions",
    "topic.creation.default.replication.factor",
    "offset.storage.topic",
    "offset.storage.partitions",
    "offset.storage.replication.factor",
    "offset.flush.interval.ms",
    "metrics.address",
];

/// A Debezium or Connect property binlog-cdc does not implement yet.
pub struct NotImplemented {
    pub name: &'static str,
    /// Debezium's default, compared case-insensitively after trimming; a
    /// value equal to it is accepted. `None`: no default, any value is refused
    /// (an empty value is accepted).
    pub default: Option<&'static str>,
    /// Said after "does not implement yet;"; empty for the generic advice.
    pub advice: &'static str,
}

const fn ni(name: &'static str, default: Option<&'static str>) -> NotImplemented {
    NotImplemented {
        name,
        default,
        advice: "",
    }
}

pub const NOT_IMPLEMENTED: &[NotImplemented] = &[
    // Connection.
    ni("database.initial.statements", None),
    ni("database.query.timeout.ms", Some("600000")),
    ni("database.ssl.keystore", None),
    ni("database.ssl.keystore.password", None),
    ni("database.ssl.truststore", None),
    ni("database.ssl.truststore.password", None),
    ni("binlog.net.read.timeout", Some("0")),
    ni("binlog.net.write.timeout", Some("0")),
    ni("use.nongraceful.disconnect", Some("false")),
    // GTID filtering.
    ni("gtid.source.includes", None),
    ni("gtid.source.excludes", None),
    ni("gtid.source.filter.dml.events", Some("true")),
    ni("gtid.ignore.on.recovery", Some("false")),
    // Record content.
    ni("include.schema.comments", Some("false")),
    ni("skip.messages.without.change", Some("false")),
    ni("message.key.columns", None),
    ni("column.propagate.source.type", None),
    ni("datatype.propagate.source.type", None),
    ni("converters", None),
    ni("post.processors", None),
    ni("event.converting.failure.handling.mode", Some("warn")),
    ni("event.deserialization.failure.handling.mode", Some("fail")),
    ni("binlog.buffer.size", Some("0")),
    ni("ddl.parser.type", Some("default")),
    // Snapshots.
    ni("snapshot.locking.mode.custom.name", None),
    ni("snapshot.include.collection.list", None),
    ni("snapshot.select.statement.overrides", None),
    ni("snapshot.delay.ms", Some("0")),
    ni("snapshot.tables.order.by.row.count", Some("disabled")),
    ni("snapshot.mode.custom.name", None),
    ni("snapshot.query.mode", Some("select_all")),
    ni("snapshot.query.mode.custom.name", None),
    ni("min.row.count.to.stream.results", Some("1000")),
    ni("streaming.delay.ms", Some("0")),
    ni("incremental.snapshot.allow.schema.changes", Some("false")),
    ni("read.only", Some("false")),
    // Signals, notifications, heartbeat queries, metrics tags.
    ni("signal.poll.interval.ms", Some("5000")),
    ni("notification.enabled.channels", None),
    ni("custom.metric.tags", None),
    ni("retriable.restart.connector.wait.ms", Some("10000")),
    // Kafka Connect connector and worker properties.
    ni("header.converter", Some("org.apache.kafka.connect.storage.SimpleHeaderConverter")),
    ni("key.converter.decimal.format", Some("BASE64")),
    ni("value.converter.decimal.format", Some("BASE64")),
    ni("key.converter.replace.null.with.default", Some("true")),
    ni("value.converter.replace.null.with.default", Some("true")),
    ni("errors.tolerance", Some("none")),
    ni("errors.log.enable", Some("false")),
    ni("errors.log.include.messages", Some("false")),
    ni("errors.retry.timeout", Some("0")),
    ni("errors.retry.delay.max.ms", Some("60000")),
    ni("transaction.boundary", Some("poll")),
    ni("transaction.boundary.interval.ms", None),
    ni("topic.creation.groups", None),
    ni("offset.flush.timeout.ms", Some("5000")),
    NotImplemented {
        name: "offsets.storage.topic",
        default: None,
        advice: "binlog-cdc keeps positions in the topic named by the worker property `offset.storage.topic`; set that instead",
    },
];

/// Families of not-implemented properties: (prefix, default of each member).
pub const NOT_IMPLEMENTED_PREFIXES: &[(&str, Option<&str>)] = &[
    ("column.mask.", None),
    ("column.truncate.to.", None),
    ("snapshot.select.statement.overrides.", None),
    ("snapshot.mode.configuration.based.", Some("false")),
    ("driver.", None),
];

/// Debezium 1.x names and their replacements. A name ending in `.` is a prefix.
pub const RENAMED: &[(&str, &str)] = &[
    ("database.server.name", "topic.prefix"),
    ("database.whitelist", "database.include.list"),
    ("database.blacklist", "database.exclude.list"),
    ("table.whitelist", "table.include.list"),
    ("table.blacklist", "table.exclude.list"),
    ("column.whitelist", "column.include.list"),
    ("column.blacklist", "column.exclude.list"),
    ("heartbeat.topics.prefix", "topic.heartbeat.prefix"),
    ("transaction.topic", "topic.transaction"),
    ("sanitize.field.names", "field.name.adjustment.mode"),
    ("database.history", "schema.history.internal"),
    ("database.history.", "schema.history.internal."),
];

/// Accepted with any value, without effect: (name or `prefix.`, reason).
pub const IGNORED: &[(&str, &str)] = &[
    (
        "schema.history.internal",
        "binlog-cdc reads table schemas from information_schema and keeps no schema history topic",
    ),
    (
        "schema.history.internal.",
        "binlog-cdc reads table schemas from information_schema and keeps no schema history topic",
    ),
    (
        "key.converter.schemas.cache.size",
        "binlog-cdc's JSON encoding keeps no schema cache",
    ),
    (
        "value.converter.schemas.cache.size",
        "binlog-cdc's JSON encoding keeps no schema cache",
    ),
    (
        "config.action.reload",
        "binlog-cdc reads its configuration once, at start",
    ),
];

/// What the catalogue says about a name not consumed by validation.
#[derive(Debug, PartialEq, Eq)]
pub enum Class {
    NotImplemented {
        default: Option<&'static str>,
        advice: &'static str,
    },
    Renamed(String),
    Ignored(&'static str),
    Unknown,
}

/// Looks `name` up (exact names first, then prefixes).
pub fn classify(name: &str) -> Class {
    if let Some(entry) = NOT_IMPLEMENTED.iter().find(|e| e.name == name) {
        return Class::NotImplemented {
            default: entry.default,
            advice: entry.advice,
        };
    }
    if let Some((_, reason)) = IGNORED.iter().find(|(n, _)| matches_entry(n, name)) {
        return Class::Ignored(reason);
    }
    if let Some((old, new)) = RENAMED.iter().find(|(old, _)| matches_entry(old, name)) {
        let replacement = if old.ends_with('.') {
            format!("{new}{}", &name[old.len()..])
        } else {
            new.to_string()
        };
        return Class::Renamed(replacement);
    }
    if let Some((_, default)) = NOT_IMPLEMENTED_PREFIXES
        .iter()
        .find(|(p, _)| name.starts_with(p))
    {
        return Class::NotImplemented {
            default: *default,
            advice: "",
        };
    }
    Class::Unknown
}

fn matches_entry(entry: &str, name: &str) -> bool {
    if entry.ends_with('.') {
        name.starts_with(entry) && name.len() > entry.len()
    } else {
        entry == name
    }
}

/// The known name closest to `name`, if within three edits.
pub fn suggest(name: &str) -> Option<&'static str> {
    IMPLEMENTED
        .iter()
        .copied()
        .chain(NOT_IMPLEMENTED.iter().map(|e| e.name))
        .map(|known| (edit_distance(name, known), known))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, known)| known)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn classes_do_not_overlap() {
        let implemented: HashSet<&str> = IMPLEMENTED.iter().copied().collect();
        assert_eq!(
            implemented.len(),
            IMPLEMENTED.len(),
            "IMPLEMENTED has a duplicate"
        );
        let mut seen = HashSet::new();
        for entry in NOT_IMPLEMENTED {
            assert!(
                !implemented.contains(entry.name),
                "{} is in both lists",
                entry.name
            );
            assert!(seen.insert(entry.name), "{} listed twice", entry.name);
        }
        for name in IMPLEMENTED {
            assert_eq!(
                classify(name),
                Class::Unknown,
                "{name} is implemented but also classified"
            );
        }
    }

    #[test]
    fn classify_examples() {
        assert_eq!(
            classify("snapshot.delay.ms"),
            Class::NotImplemented {
                default: Some("0"),
                advice: ""
            }
        );
        assert_eq!(
            classify("column.mask.with.12.chars"),
            Class::NotImplemented {
                default: None,
                advice: ""
            }
        );
        assert_eq!(
            classify("database.server.name"),
            Class::Renamed("topic.prefix".into())
        );
        assert_eq!(
            classify("database.history.kafka.topic"),
            Class::Renamed("schema.history.internal.kafka.topic".into())
        );
        assert!(matches!(
            classify("schema.history.internal"),
            Class::Ignored(_)
        ));
        assert!(matches!(
            classify("schema.history.internal.kafka.bootstrap.servers"),
            Class::Ignored(_)
        ));
        assert_eq!(classify("schema.history.internalx"), Class::Unknown);
        assert_eq!(classify("no.such.thing"), Class::Unknown);
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("database.hostnme"), Some("database.hostname"));
        assert_eq!(suggest("database_hostname"), Some("database.hostname"));
        assert_eq!(suggest("snapshot.mod"), Some("snapshot.mode"));
        assert_eq!(suggest("table.include.lists"), Some("table.include.list"));
        assert_eq!(suggest("completely.different"), None);
    }
}
