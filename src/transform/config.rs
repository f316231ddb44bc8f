//! `transforms`, `transforms.<name>.*`, `predicates`, `predicates.<name>.*`:
//! Kafka Connect's SMT configuration, typed.
//!
//! The property names are Kafka Connect's and Debezium's own, so an outbox
//! deployment carries over unchanged. Unlike Connect, which hands unknown
//! keys to the SMT and lets it ignore them, every property of a listed
//! transform or predicate must be known: a misspelt `route.topic.replacment`
//! is an error here, not a silently different topic. Properties of
//! transforms or predicates that are *not listed* are left alone (Connect
//! ignores them too; a deployment may keep a disabled transform's settings)
//! and reported by [`TransformsConfig::unused`].

use std::collections::BTreeMap;

use regex::Regex;

use super::json::Inference;
use crate::config::ConfigError;

pub const EVENT_ROUTER: &str = "io.debezium.transforms.outbox.EventRouter";
pub const EXTRACT_NEW_RECORD_STATE: &str = "io.debezium.transforms.ExtractNewRecordState";
pub const TOPIC_NAME_MATCHES: &str =
    "org.apache.kafka.connect.transforms.predicates.TopicNameMatches";
pub const HAS_HEADER_KEY: &str = "org.apache.kafka.connect.transforms.predicates.HasHeaderKey";
pub const RECORD_IS_TOMBSTONE: &str =
    "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone";

/// The transform chain, in `transforms` order.
#[derive(Debug, Clone, Default)]
pub struct TransformsConfig {
    pub chain: Vec<TransformSpec>,
    /// Properties of transforms or predicates not named in `transforms` /
    /// `predicates` (without effect).
    pub unused: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct TransformSpec {
    /// The alias in `transforms`.
    pub name: String,
    pub kind: Kind,
    /// `transforms.<name>.predicate` (resolved), with `negate`.
    pub predicate: Option<(Predicate, bool)>,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Outbox(Box<OutboxConfig>),
    Unwrap(Box<UnwrapConfig>),
}

/// A Kafka Connect predicate.
#[derive(Debug, Clone)]
pub enum Predicate {
    /// `pattern` matched against the whole topic name.
    TopicNameMatches(Regex),
    /// A header named `name` is present.
    HasHeaderKey(String),
    RecordIsTombstone,
}

/// `table.op.invalid.behavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidOp {
    Warn,
    Error,
    Fatal,
}

/// Where `table.fields.additional.placement` puts a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Header,
    Envelope,
    Partition,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Additional {
    pub placement: Placement,
    pub column: String,
    pub alias: String,
}

/// One piece of a `route.topic.replacement` (Java `Matcher` syntax).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replacement {
    Literal(String),
    Group(usize),
    Named(String),
}

/// The Outbox Event Router's settings (spec §13).
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    pub event_id: String,
    pub event_key: String,
    pub payload: String,
    pub event_timestamp: Option<String>,
    pub schema_version: Option<String>,
    pub additional: Vec<Additional>,
    /// `table.fields.additional.error.on.missing` / `table.field.additional.missing`.
    pub additional_missing_error: bool,
    pub route_by: String,
    /// `route.topic.regex`, anchored at both ends (Java `matches`).
    pub route_regex_full: Regex,
    /// `route.topic.regex` as written (Java `replaceFirst` finds it).
    pub route_regex: Regex,
    pub route_replacement: Vec<Replacement>,
    pub tombstone_on_empty_payload: bool,
    pub expand_json_payload: bool,
    pub inference: Inference,
    pub invalid_op: InvalidOp,
}

/// `delete.tombstone.handling.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteMode {
    Drop,
    Tombstone,
    Rewrite,
    RewriteWithTombstone,
    DeleteToTombstone,
}

/// Which part of the change event an `add.fields` / `add.headers` entry reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `op`, `ts_ms`, `ts_us`, `ts_ns`.
    Envelope,
    Source,
    Transaction,
    Before,
    After,
}

/// An `add.fields` / `add.headers` entry (Debezium's `FieldReference`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef {
    pub scope: Scope,
    pub field: String,
    /// The added field or header: prefix + (`struct_field`, or the alias).
    pub name: String,
}

/// `ExtractNewRecordState`'s settings (spec §14).
#[derive(Debug, Clone)]
pub struct UnwrapConfig {
    pub mode: DeleteMode,
    pub route_by: Option<String>,
    pub add_fields: Vec<FieldRef>,
    pub add_headers: Vec<FieldRef>,
    pub drop_fields_header: Option<String>,
}

/// Types the raw properties ([`crate::config::Config::transforms`]).
pub fn parse(props: &BTreeMap<String, String>) -> Result<TransformsConfig, Vec<ConfigError>> {
    let mut p = Props {
        props,
        taken: Vec::new(),
        errors: Vec::new(),
    };
    let aliases = p.list("transforms");
    let predicate_names = p.list("predicates");
    let mut predicates = BTreeMap::new();
    for name in &predicate_names {
        if let Some(pred) = p.predicate(name) {
            predicates.insert(name.clone(), pred);
        }
    }
    let mut chain = Vec::new();
    for alias in &aliases {
        if let Some(spec) = p.transform(alias, &predicates) {
            chain.push(spec);
        }
    }
    for name in &predicate_names {
        p.leftovers(&format!("predicates.{name}."));
    }
    for alias in &aliases {
        p.leftovers(&format!("transforms.{alias}."));
    }
    let unused = props
        .keys()
        .filter(|k| *k != "transforms" && *k != "predicates" && !p.taken.contains(k))
        .filter(|k| {
            !aliases
                .iter()
                .any(|a| k.starts_with(&format!("transforms.{a}.")))
                && !predicate_names
                    .iter()
                    .any(|n| k.starts_with(&format!("predicates.{n}.")))
        })
        .cloned()
        .collect();
    if p.errors.is_empty() {
        Ok(TransformsConfig { chain, unused })
    } else {
        Err(p.errors)
    }
}

struct Props<'a> {
    props: &'a BTreeMap<String, String>,
    taken: Vec<String>,
    errors: Vec<ConfigError>,
}

/// The properties of each transform type, for "unknown property" errors.
const OUTBOX_PROPERTIES: &[&str] = &[
    "table.field.event.id",
    "table.field.event.key",
    "table.field.event.type",
    "table.field.event.payload",
    "table.field.event.timestamp",
    "table.field.event.schema.version",
    "table.fields.additional.placement",
    "table.fields.additional.error.on.missing",
    "table.field.additional.missing",
    "route.by.field",
    "route.topic.regex",
    "route.topic.replacement",
    "route.tombstone.on.empty.payload",
    "table.expand.json.payload",
    "table.json.payload.null.behavior",
    "table.json.payload.empty.array.behavior",
    "table.op.invalid.behavior",
    "tracing.span.context.field",
    "tracing.operation.name",
    "tracing.with.context.field.only",
];
const UNWRAP_PROPERTIES: &[&str] = &[
    "delete.tombstone.handling.mode",
    "route.by.field",
    "add.fields",
    "add.fields.prefix",
    "add.headers",
    "add.headers.prefix",
    "drop.fields.header.name",
    "drop.fields.from.key",
    "drop.fields.keep.schema.compatible",
    "replace.null.with.default",
];
/// Properties of every transform (Kafka Connect's own).
const COMMON: &[&str] = &["type", "predicate", "negate"];

impl Props<'_> {
    fn get(&mut self, name: &str) -> Option<String> {
        let v = self.props.get(name)?;
        self.taken.push(name.to_string());
        Some(v.trim().to_string())
    }

    /// A comma-separated list, items trimmed, empty items dropped.
    fn list(&mut self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn invalid(&mut self, property: &str, expected: &str, actual: &str) {
        self.errors.push(ConfigError::Invalid {
            property: property.into(),
            expected: expected.into(),
            actual: actual.into(),
        });
    }

    fn boolean(&mut self, name: &str, default: bool) -> bool {
        match self.get(name) {
            None => default,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) => {
                self.invalid(name, "true or false", &v);
                default
            }
        }
    }

    /// A non-empty string, or the default (Debezium's defaults).
    fn string(&mut self, name: &str, default: &str) -> String {
        match self.get(name) {
            Some(v) if !v.is_empty() => v,
            _ => default.to_string(),
        }
    }

    fn optional(&mut self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty())
    }

    fn choice<T: Copy>(&mut self, name: &str, options: &[(&str, T)], default: T) -> T {
        match self.get(name) {
            None => default,
            Some(v) => match options.iter().find(|(s, _)| s.eq_ignore_ascii_case(&v)) {
                Some((_, t)) => *t,
                None => {
                    let names: Vec<&str> = options.iter().map(|(s, _)| *s).collect();
                    self.invalid(name, &format!("one of {}", names.join(", ")), &v);
                    default
                }
            },
        }
    }

    fn regex(&mut self, name: &str, pattern: &str) -> Option<(Regex, Regex)> {
        let compiled =
            Regex::new(pattern).and_then(|r| Ok((Regex::new(&format!("^(?:{pattern})$"))?, r)));
        match compiled {
            Ok(pair) => Some(pair),
            Err(e) => {
                self.errors.push(ConfigError::Regex {
                    property: name.into(),
                    regex: pattern.into(),
                    message: e.to_string(),
                });
                None
            }
        }
    }

    fn predicate(&mut self, name: &str) -> Option<Predicate> {
        let prefix = format!("predicates.{name}.");
        let type_key = format!("{prefix}type");
        let Some(ty) = self.get(&type_key) else {
            self.errors.push(ConfigError::Missing { property: type_key, hint: "the predicate's class, e.g. org.apache.kafka.connect.transforms.predicates.TopicNameMatches" });
            return None;
        };
        match ty.as_str() {
            TOPIC_NAME_MATCHES => {
                let key = format!("{prefix}pattern");
                match self.optional(&key) {
                    Some(pattern) => self
                        .regex(&key, &pattern)
                        .map(|(full, _)| Predicate::TopicNameMatches(full)),
                    None => {
                        self.errors.push(ConfigError::Missing {
                            property: key,
                            hint: "a regular expression matched against the whole topic name",
                        });
                        None
                    }
                }
            }
            HAS_HEADER_KEY => {
                let key = format!("{prefix}name");
                match self.optional(&key) {
                    Some(header) => Some(Predicate::HasHeaderKey(header)),
                    None => {
                        self.errors.push(ConfigError::Missing {
                            property: key,
                            hint: "the header name",
                        });
                        None
                    }
                }
            }
            RECORD_IS_TOMBSTONE => Some(Predicate::RecordIsTombstone),
            other => {
                self.errors.push(ConfigError::Unsupported {
                    property: type_key,
                    value: other.into(),
                    reason: format!("binlog-cdc implements the predicates {TOPIC_NAME_MATCHES}, {HAS_HEADER_KEY} and {RECORD_IS_TOMBSTONE}"),
                });
                None
            }
        }
    }

    fn transform(
        &mut self,
        alias: &str,
        predicates: &BTreeMap<String, Predicate>,
    ) -> Option<TransformSpec> {
        let prefix = format!("transforms.{alias}.");
        let type_key = format!("{prefix}type");
        let Some(ty) = self.get(&type_key) else {
            self.errors.push(ConfigError::Missing {
                property: type_key,
                hint: "the transform's class, e.g. io.debezium.transforms.outbox.EventRouter",
            });
            return None;
        };
        let predicate_key = format!("{prefix}predicate");
        let predicate_name = self.optional(&predicate_key);
        let negate_key = format!("{prefix}negate");
        let negate = self.boolean(&negate_key, false);
        let predicate = match predicate_name {
            None => {
                if negate {
                    self.invalid(&negate_key, "set only together with a predicate", "true");
                }
                None
            }
            Some(name) => match predicates.get(&name) {
                Some(p) => Some((p.clone(), negate)),
                None => {
                    self.invalid(&predicate_key, "the name of a predicate listed in `predicates` (and defined by predicates.<name>.type)", &name);
                    None
                }
            },
        };
        let kind = match ty.as_str() {
            EVENT_ROUTER => Kind::Outbox(Box::new(self.outbox(&prefix)?)),
            EXTRACT_NEW_RECORD_STATE => Kind::Unwrap(Box::new(self.unwrap(&prefix)?)),
            other => {
                self.errors.push(ConfigError::Unsupported {
                    property: type_key,
                    value: other.into(),
                    reason: format!("binlog-cdc implements the transforms {EVENT_ROUTER} and {EXTRACT_NEW_RECORD_STATE}"),
                });
                return None;
            }
        };
        Some(TransformSpec {
            name: alias.to_string(),
            kind,
            predicate,
        })
    }

    fn outbox(&mut self, prefix: &str) -> Option<OutboxConfig> {
        let k = |n: &str| format!("{prefix}{n}");
        let event_id = self.string(&k("table.field.event.id"), "id");
        let event_key = self.string(&k("table.field.event.key"), "aggregateid");
        let _declared_only = self.string(&k("table.field.event.type"), "type");
        let payload = self.string(&k("table.field.event.payload"), "payload");
        let event_timestamp = self.optional(&k("table.field.event.timestamp"));
        let schema_version = self.optional(&k("table.field.event.schema.version"));
        let placement_key = k("table.fields.additional.placement");
        let additional = match self.optional(&placement_key) {
            None => Vec::new(),
            Some(text) => match parse_additional(&text) {
                Ok(list) => list,
                Err(why) => {
                    self.invalid(&placement_key, &format!("a list of column:placement[:alias] with placement header, envelope or partition ({why})"), &text);
                    Vec::new()
                }
            },
        };
        let old_missing = self.boolean(&k("table.fields.additional.error.on.missing"), true);
        let additional_missing_error = self.choice(
            &k("table.field.additional.missing"),
            &[("error", true), ("ignore", false)],
            old_missing,
        );
        let route_by = self.string(&k("route.by.field"), "aggregatetype");
        let regex_key = k("route.topic.regex");
        let pattern = self.string(&regex_key, "(?<routedByValue>.*)");
        let regexes = self.regex(&regex_key, &pattern);
        let replacement_key = k("route.topic.replacement");
        let replacement_text = self.props.get(&replacement_key).cloned();
        if replacement_text.is_some() {
            self.taken.push(replacement_key.clone());
        }
        let replacement_text = replacement_text
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "outbox.event.${routedByValue}".to_string());
        let tombstone_on_empty_payload =
            self.boolean(&k("route.tombstone.on.empty.payload"), false);
        let expand_json_payload = self.boolean(&k("table.expand.json.payload"), false);
        let null_as_bytes = self.choice(
            &k("table.json.payload.null.behavior"),
            &[("ignore", false), ("optional_bytes", true)],
            false,
        );
        let empty_array_as_strings = self.choice(
            &k("table.json.payload.empty.array.behavior"),
            &[("ignore", false), ("optional_string", true)],
            false,
        );
        let invalid_op = self.choice(
            &k("table.op.invalid.behavior"),
            &[
                ("warn", InvalidOp::Warn),
                ("error", InvalidOp::Error),
                ("fatal", InvalidOp::Fatal),
            ],
            InvalidOp::Warn,
        );
        // Tracing needs OpenTelemetry on the class path; without it Debezium
        // ignores these, and so does binlog-cdc.
        for t in [
            "tracing.span.context.field",
            "tracing.operation.name",
            "tracing.with.context.field.only",
        ] {
            let _ = self.get(&k(t));
        }
        let (route_regex_full, route_regex) = regexes?;
        let route_replacement = match parse_replacement(&replacement_text, &route_regex) {
            Ok(r) => r,
            Err(why) => {
                self.invalid(
                    &replacement_key,
                    &format!("a replacement for `{pattern}` ({why})"),
                    &replacement_text,
                );
                return None;
            }
        };
        Some(OutboxConfig {
            event_id,
            event_key,
            payload,
            event_timestamp,
            schema_version,
            additional,
            additional_missing_error,
            route_by,
            route_regex_full,
            route_regex,
            route_replacement,
            tombstone_on_empty_payload,
            expand_json_payload,
            inference: Inference {
                null_as_bytes,
                empty_array_as_strings,
            },
            invalid_op,
        })
    }

    fn unwrap(&mut self, prefix: &str) -> Option<UnwrapConfig> {
        let k = |n: &str| format!("{prefix}{n}");
        for (old, hint) in [
            ("drop.tombstones", "Debezium 2.5 replaced it by delete.tombstone.handling.mode (tombstone, drop, rewrite, rewrite-with-tombstone, delete-to-tombstone)"),
            ("delete.handling.mode", "Debezium 2.5 replaced it by delete.tombstone.handling.mode (tombstone, drop, rewrite, rewrite-with-tombstone, delete-to-tombstone)"),
        ] {
            if self.props.contains_key(&k(old)) {
                self.taken.push(k(old));
                self.errors.push(ConfigError::NotImplementedProperty { property: k(old), advice: hint.into() });
            }
        }
        let mode = self.choice(
            &k("delete.tombstone.handling.mode"),
            &[
                ("tombstone", DeleteMode::Tombstone),
                ("drop", DeleteMode::Drop),
                ("rewrite", DeleteMode::Rewrite),
                ("rewrite-with-tombstone", DeleteMode::RewriteWithTombstone),
                ("delete-to-tombstone", DeleteMode::DeleteToTombstone),
            ],
            DeleteMode::Tombstone,
        );
        let route_by = self.optional(&k("route.by.field"));
        let fields_prefix = self.props.get(&k("add.fields.prefix")).cloned();
        let headers_prefix = self.props.get(&k("add.headers.prefix")).cloned();
        for (name, present) in [
            ("add.fields.prefix", fields_prefix.is_some()),
            ("add.headers.prefix", headers_prefix.is_some()),
        ] {
            if present {
                self.taken.push(k(name));
            }
        }
        let fields_prefix = fields_prefix.unwrap_or_else(|| "__".into());
        let headers_prefix = headers_prefix.unwrap_or_else(|| "__".into());
        let refs = |this: &mut Self, name: &str, prefix: &str| -> Vec<FieldRef> {
            let key = k(name);
            let Some(text) = this.optional(&key) else {
                return Vec::new();
            };
            let mut out = Vec::new();
            for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                match FieldRef::parse(prefix, item) {
                    Ok(r) => out.push(r),
                    Err(why) => this.invalid(
                        &key,
                        &format!("a list of fields such as op,table,source.ts_ms ({why})"),
                        item,
                    ),
                }
            }
            out
        };
        let add_fields = refs(self, "add.fields", &fields_prefix);
        let add_headers = refs(self, "add.headers", &headers_prefix);
        let drop_fields_header = self.optional(&k("drop.fields.header.name"));
        let _ = self.boolean(&k("drop.fields.from.key"), false);
        let _ = self.boolean(&k("drop.fields.keep.schema.compatible"), true);
        // JsonConverter substitutes column defaults for nulls whatever this
        // says (its own replace.null.with.default is on), so it cannot
        // change a byte of the output.
        let _ = self.boolean(&k("replace.null.with.default"), true);
        Some(UnwrapConfig {
            mode,
            route_by,
            add_fields,
            add_headers,
            drop_fields_header,
        })
    }

    /// Unknown properties of a listed transform or predicate.
    fn leftovers(&mut self, prefix: &str) {
        let unknown: Vec<String> = self
            .props
            .keys()
            .filter(|k| k.starts_with(prefix) && !self.taken.contains(k))
            .cloned()
            .collect();
        let known: Vec<String> = if prefix.starts_with("transforms.") {
            let kind = self.props.get(&format!("{prefix}type")).map(String::as_str);
            let own: &[&str] = match kind {
                Some(EVENT_ROUTER) => OUTBOX_PROPERTIES,
                Some(EXTRACT_NEW_RECORD_STATE) => UNWRAP_PROPERTIES,
                _ => &[],
            };
            own.iter()
                .chain(COMMON)
                .map(|n| format!("{prefix}{n}"))
                .collect()
        } else {
            ["type", "pattern", "name"]
                .iter()
                .map(|n| format!("{prefix}{n}"))
                .collect()
        };
        for property in unknown {
            // A property of another transform type (set on the wrong one).
            let suggestion = known
                .iter()
                .map(|k| (edit_distance(k, &property), k))
                .filter(|(d, _)| *d <= 3)
                .min()
                .map(|(_, k)| k.clone());
            self.errors.push(ConfigError::Unknown {
                property,
                suggestion,
            });
        }
    }
}

impl FieldRef {
    /// Debezium's `FieldReference`: `[struct.]field[:alias]`; a plain field
    /// is looked up in the envelope (`op`, `ts_ms`...), the transaction
    /// block (`id`, `total_order`, `data_collection_order`) or `source`.
    pub fn parse(prefix: &str, item: &str) -> Result<FieldRef, String> {
        let parts: Vec<&str> = item.split(':').collect();
        if parts.len() > 2 {
            return Err(format!("unexpected field name {item}"));
        }
        let path: Vec<&str> = parts[0].split('.').collect();
        let (scope, field, default_name) = if path.len() == 1 {
            let field = path[0];
            let scope = match field {
                "id" | "total_order" | "data_collection_order" => Scope::Transaction,
                "op" | "ts_ms" | "ts_us" | "ts_ns" => Scope::Envelope,
                _ => Scope::Source,
            };
            (scope, field.to_string(), field.to_string())
        } else {
            let scope = match path[0] {
                "source" => Scope::Source,
                "transaction" => Scope::Transaction,
                "before" => Scope::Before,
                "after" => Scope::After,
                other => return Err(format!("`{other}` is not a struct of the change event (source, transaction, before, after)")),
            };
            (
                scope,
                path[1].to_string(),
                format!("{}_{}", path[0], path[1]),
            )
        };
        let name = match parts.get(1) {
            Some(alias) => format!("{prefix}{alias}"),
            None => format!("{prefix}{default_name}"),
        };
        Ok(FieldRef { scope, field, name })
    }
}

fn parse_additional(text: &str) -> Result<Vec<Additional>, String> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let parts: Vec<&str> = item.split(':').map(str::trim).collect();
        if parts.len() < 2 || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
            return Err(format!("`{item}` is not column:placement[:alias]"));
        }
        let placement = match parts[1].to_ascii_lowercase().as_str() {
            "header" => Placement::Header,
            "envelope" => Placement::Envelope,
            "partition" => Placement::Partition,
            other => return Err(format!("unknown placement `{other}`")),
        };
        let column = parts[0].to_string();
        let alias = parts
            .get(2)
            .map_or_else(|| column.clone(), |a| a.to_string());
        out.push(Additional {
            placement,
            column,
            alias,
        });
    }
    Ok(out)
}

/// Parses a Java `Matcher.appendReplacement` replacement against `regex`'s
/// groups: `$n`, `${name}`, `\x` for a literal `x`.
pub fn parse_replacement(text: &str, regex: &Regex) -> Result<Vec<Replacement>, String> {
    let groups = regex.captures_len() - 1;
    let names: Vec<&str> = regex.capture_names().flatten().collect();
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                i += 1;
                let Some(c) = chars.get(i) else {
                    return Err("character to be escaped is missing".into());
                };
                lit.push(*c);
                i += 1;
            }
            '$' => {
                i += 1;
                if !lit.is_empty() {
                    out.push(Replacement::Literal(std::mem::take(&mut lit)));
                }
                match chars.get(i) {
                    Some('{') => {
                        let start = i + 1;
                        let Some(len) = chars[start..].iter().position(|c| *c == '}') else {
                            return Err("named capturing group is missing trailing '}'".into());
                        };
                        let name: String = chars[start..start + len].iter().collect();
                        if name.is_empty() {
                            return Err("named capturing group has 0 length name".into());
                        }
                        if !names.contains(&name.as_str()) {
                            return Err(format!("no group with name {{{name}}}"));
                        }
                        out.push(Replacement::Named(name));
                        i = start + len + 1;
                    }
                    Some(c) if c.is_ascii_digit() => {
                        let mut n = c.to_digit(10).unwrap_or(0) as usize;
                        i += 1;
                        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                            let next = n * 10 + d as usize;
                            if next > groups {
                                break;
                            }
                            n = next;
                            i += 1;
                        }
                        if n > groups {
                            return Err(format!("no group {n}"));
                        }
                        out.push(Replacement::Group(n));
                    }
                    _ => return Err("illegal group reference".into()),
                }
            }
            c => {
                lit.push(c);
                i += 1;
            }
        }
    }
    if !lit.is_empty() {
        out.push(Replacement::Literal(lit));
    }
    Ok(out)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(text: &[(&str, &str)]) -> BTreeMap<String, String> {
        text.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn errors(text: &[(&str, &str)]) -> String {
        match parse(&props(text)) {
            Ok(c) => panic!("accepted: {c:?}"),
            Err(e) => e
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    #[test]
    fn an_outbox_with_a_predicate() {
        let c = parse(&props(&[
            ("transforms", "outbox, unwrap"),
            ("transforms.outbox.type", EVENT_ROUTER),
            ("transforms.outbox.predicate", "isOutbox"),
            (
                "transforms.outbox.route.topic.replacement",
                "events.${routedByValue}",
            ),
            (
                "transforms.outbox.table.fields.additional.placement",
                "type:header:eventType, seq:envelope ,part:partition",
            ),
            ("transforms.unwrap.type", EXTRACT_NEW_RECORD_STATE),
            ("transforms.unwrap.predicate", "isOutbox"),
            ("transforms.unwrap.negate", "true"),
            (
                "transforms.unwrap.add.fields",
                "op,table,source.ts_ms,id:tx",
            ),
            ("predicates", "isOutbox"),
            ("predicates.isOutbox.type", TOPIC_NAME_MATCHES),
            ("predicates.isOutbox.pattern", "dbz\\..*\\.outbox"),
            ("transforms.old.type", "x"),
        ]))
        .unwrap();
        assert_eq!(c.chain.len(), 2);
        assert_eq!(c.unused, vec!["transforms.old.type".to_string()]);
        let Kind::Outbox(o) = &c.chain[0].kind else {
            panic!()
        };
        assert_eq!(
            o.route_replacement,
            vec![
                Replacement::Literal("events.".into()),
                Replacement::Named("routedByValue".into())
            ]
        );
        assert_eq!(
            o.additional[0],
            Additional {
                placement: Placement::Header,
                column: "type".into(),
                alias: "eventType".into()
            }
        );
        assert_eq!(o.additional[2].placement, Placement::Partition);
        assert!(
            matches!(&c.chain[0].predicate, Some((Predicate::TopicNameMatches(r), false)) if r.is_match("dbz.shop.outbox") && !r.is_match("dbz.shop.outbox2"))
        );
        let Kind::Unwrap(u) = &c.chain[1].kind else {
            panic!()
        };
        assert!(matches!(c.chain[1].predicate, Some((_, true))));
        let names: Vec<&str> = u.add_fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["__op", "__table", "__source_ts_ms", "__tx"]);
        assert_eq!(u.add_fields[3].scope, Scope::Transaction);
        assert_eq!(u.add_fields[1].scope, Scope::Source);
    }

    #[test]
    fn mistakes_are_named() {
        let msg = errors(&[
            ("transforms", "r"),
            (
                "transforms.r.type",
                "org.apache.kafka.connect.transforms.RegexRouter",
            ),
        ]);
        assert!(msg.contains("`transforms.r.type: org.apache.kafka.connect.transforms.RegexRouter` is not supported"), "{msg}");
        let msg = errors(&[
            ("transforms", "o"),
            ("transforms.o.type", EVENT_ROUTER),
            ("transforms.o.route.topic.replacment", "x"),
        ]);
        assert!(
            msg.contains("unknown property `transforms.o.route.topic.replacment`"),
            "{msg}"
        );
        assert!(
            msg.contains("transforms.o.route.topic.replacement"),
            "{msg}"
        );
        let msg = errors(&[
            ("transforms", "o"),
            ("transforms.o.type", EVENT_ROUTER),
            ("transforms.o.predicate", "p"),
        ]);
        assert!(msg.contains("transforms.o.predicate"), "{msg}");
        let msg = errors(&[("transforms", "o")]);
        assert!(msg.contains("`transforms.o.type` is missing"), "{msg}");
        let msg = errors(&[
            ("transforms", "o"),
            ("transforms.o.type", EVENT_ROUTER),
            ("transforms.o.route.topic.replacement", "x.${nope}"),
        ]);
        assert!(msg.contains("no group with name {nope}"), "{msg}");
        let msg = errors(&[
            ("transforms", "u"),
            ("transforms.u.type", EXTRACT_NEW_RECORD_STATE),
            ("transforms.u.delete.tombstone.handling.mode", "delete"),
        ]);
        assert!(msg.contains("delete.tombstone.handling.mode"), "{msg}");
        let msg = errors(&[
            ("transforms", "u"),
            ("transforms.u.type", EXTRACT_NEW_RECORD_STATE),
            ("transforms.u.drop.tombstones", "false"),
        ]);
        assert!(msg.contains("delete.tombstone.handling.mode"), "{msg}");
        let msg = errors(&[
            ("predicates", "p"),
            ("predicates.p.type", TOPIC_NAME_MATCHES),
        ]);
        assert!(msg.contains("`predicates.p.pattern` is missing"), "{msg}");
    }

    #[test]
    fn java_replacements() {
        let re = Regex::new("(?<routedByValue>.*)").unwrap();
        assert_eq!(
            parse_replacement("a\\$b$1$10", &re).unwrap(),
            vec![
                Replacement::Literal("a$b".into()),
                Replacement::Group(1),
                Replacement::Group(1),
                Replacement::Literal("0".into())
            ]
        );
        assert!(parse_replacement("$2", &re).is_err());
        assert!(parse_replacement("${x", &re).is_err());
        assert!(parse_replacement("x\\", &re).is_err());
    }
}
