//! YAML (or JSON) text → flat Kafka Connect properties.
//!
//! Kafka Connect configuration is a flat map of dotted names to strings. We
//! accept the same map written any of these ways, and reduce all of them to
//! that map before anything else looks at it:
//!
//! - dotted: `database.hostname: h`
//! - nested: `database: {hostname: h}` (any depth; both styles can be mixed)
//! - the Kafka Connect REST body: `{"name": "n", "config": {…}}`, recognised
//!   when the top level has a `config` map and nothing but `name` beside it.
//!
//! Rules that keep the reduction unambiguous:
//!
//! - a property reached twice (nested and dotted) is an error naming it, never
//!   "last one wins";
//! - numbers and booleans become their text (`3306` → `"3306"`), as Connect
//!   properties are strings. The YAML parser hands over the number, not its
//!   spelling, so unquoted `1.10` becomes `1.1`, `0x1F` becomes `31` and
//!   `1e3` becomes `1000.0`: quote values whose spelling matters, such as
//!   passwords;
//! - a list of scalars becomes a comma-separated string (for the `*.list`
//!   properties); lists of maps are errors;
//! - YAML null (`key:` with nothing after it) means "not set";
//! - YAML merge keys (`<<: *anchor`) are applied first.

use std::collections::BTreeMap;

use serde_yaml::Value;

use super::error::ConfigError;

/// Flat properties: dotted name → value as written.
pub type Properties = BTreeMap<String, String>;

/// Parses `text` and flattens it. `origin` (a path, or a label) prefixes
/// syntax errors.
pub fn flatten(text: &str, origin: &str) -> Result<Properties, ConfigError> {
    let mut root: Value = serde_yaml::from_str(text).map_err(|e| syntax_error(origin, &e))?;
    root.apply_merge().map_err(|e| syntax_error(origin, &e))?;
    let top = match root {
        Value::Mapping(map) => map,
        Value::Null => {
            return Err(ConfigError::NotAMap {
                origin: origin.to_string(),
                found: "an empty document",
            })
        }
        other => {
            return Err(ConfigError::NotAMap {
                origin: origin.to_string(),
                found: kind(&other),
            })
        }
    };

    let mut props = Properties::new();
    match rest_form(&top) {
        Some((outer_name, config)) => {
            add_map(origin, "", config, &mut props)?;
            if let Some(outer) = outer_name {
                let outer = scalar_text(origin, "name", outer)?;
                match (props.get("name"), outer) {
                    (Some(inner), Some(outer)) if *inner != outer => {
                        return Err(ConfigError::NameMismatch {
                            outer,
                            inner: inner.clone(),
                        });
                    }
                    (_, Some(outer)) => {
                        props.insert("name".to_string(), outer);
                    }
                    (_, None) => {}
                }
            }
        }
        None => add_map(origin, "", &top, &mut props)?,
    }
    Ok(props)
}

/// `Some((name, config))` when the top level is the Connect REST form.
fn rest_form(top: &serde_yaml::Mapping) -> Option<(Option<&Value>, &serde_yaml::Mapping)> {
    let config = match top.get("config") {
        Some(Value::Mapping(m)) => m,
        _ => return None,
    };
    let only_name_beside = top
        .keys()
        .all(|k| matches!(k.as_str(), Some("config" | "name")));
    only_name_beside.then(|| (top.get("name"), config))
}

fn add_map(
    origin: &str,
    prefix: &str,
    map: &serde_yaml::Mapping,
    props: &mut Properties,
) -> Result<(), ConfigError> {
    for (key, value) in map {
        let key = match key {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(ConfigError::BadKey {
                    origin: origin.to_string(),
                    parent: if prefix.is_empty() {
                        "the top level".to_string()
                    } else {
                        prefix.to_string()
                    },
                    found: kind(other),
                })
            }
        };
        let name = if prefix.is_empty() {
            key
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Mapping(inner) => add_map(origin, &name, inner, props)?,
            _ => {
                if let Some(text) = scalar_text(origin, &name, value)? {
                    if props.insert(name.clone(), text).is_some() {
                        return Err(ConfigError::Duplicate { property: name });
                    }
                }
            }
        }
    }
    Ok(())
}

/// The property text of a leaf; `None` for null.
fn scalar_text(origin: &str, name: &str, value: &Value) -> Result<Option<String>, ConfigError> {
    let not_a_value = |found| ConfigError::NotAValue {
        origin: origin.to_string(),
        property: name.to_string(),
        found,
    };
    Ok(match value {
        Value::Null => None,
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Sequence(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::Bool(b) => parts.push(b.to_string()),
                    Value::Number(n) => parts.push(n.to_string()),
                    Value::String(s) => parts.push(s.clone()),
                    other => return Err(not_a_value(list_of(other))),
                }
            }
            Some(parts.join(","))
        }
        Value::Mapping(_) => return Err(not_a_value("a map")),
        Value::Tagged(_) => return Err(not_a_value("a tagged value (`!tag`)")),
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a map",
        Value::Tagged(_) => "a tagged value (`!tag`)",
    }
}

fn list_of(item: &Value) -> &'static str {
    match item {
        Value::Mapping(_) => "a list of maps",
        Value::Sequence(_) => "a list of lists",
        Value::Null => "a list with an empty item",
        _ => "a list with a tagged value (`!tag`)",
    }
}

fn syntax_error(origin: &str, e: &serde_yaml::Error) -> ConfigError {
    let location = e.location();
    let line = location.as_ref().map(|l| l.line());
    let column = location.as_ref().map(|l| l.column());
    let mut message = e.to_string();
    // serde_yaml appends the location itself; we print it once, up front.
    if let (Some(l), Some(c)) = (line, column) {
        let suffix = format!(" at line {l} column {c}");
        if let Some(stripped) = message.strip_suffix(&suffix) {
            message = stripped.to_string();
        }
    }
    ConfigError::Syntax {
        origin: origin.to_string(),
        line,
        column,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Properties {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn nested_and_dotted_are_the_same() {
        let nested = flatten("database:\n  hostname: h\n  port: 3306\n", "t").unwrap();
        let dotted = flatten("database.hostname: h\ndatabase.port: 3306\n", "t").unwrap();
        assert_eq!(nested, dotted);
        assert_eq!(
            nested,
            props(&[("database.hostname", "h"), ("database.port", "3306")])
        );
    }

    #[test]
    fn styles_mix_at_any_depth() {
        let text = "
database:
  hostname: h
  server.id: 5
  ssl: {mode: disabled}
database.user: u
schema.history:
  internal.kafka:
    topic: t
";
        assert_eq!(
            flatten(text, "t").unwrap(),
            props(&[
                ("database.hostname", "h"),
                ("database.server.id", "5"),
                ("database.ssl.mode", "disabled"),
                ("database.user", "u"),
                ("schema.history.internal.kafka.topic", "t"),
            ])
        );
    }

    #[test]
    fn a_property_given_twice_is_an_error_naming_it() {
        let err = flatten("database:\n  hostname: a\ndatabase.hostname: b\n", "t").unwrap_err();
        assert!(
            matches!(&err, ConfigError::Duplicate { property } if property == "database.hostname"),
            "{err}"
        );
        assert!(err.to_string().contains("`database.hostname` is set twice"));
    }

    #[test]
    fn the_same_key_twice_in_one_map_is_a_syntax_error() {
        let err = flatten("name: a\nname: b\n", "t").unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
    }

    #[test]
    fn scalars_become_strings() {
        let p = flatten(
            "a: 1\nb: true\nc: 2.5\nd: -1\ne: '1.10'\nf: 1.10\ng: 007\n",
            "t",
        )
        .unwrap();
        assert_eq!(
            p,
            props(&[
                ("a", "1"),
                ("b", "true"),
                ("c", "2.5"),
                ("d", "-1"),
                ("e", "1.10"),
                ("f", "1.1"),
                ("g", "007")
            ])
        );
    }

    #[test]
    fn null_means_not_set_and_lists_join_with_commas() {
        let p = flatten("a:\nb: [x, 'y.*', 3]\nc: []\n", "t").unwrap();
        assert_eq!(p, props(&[("b", "x,y.*,3"), ("c", "")]));
        let err = flatten("a: [{b: 1}]\n", "t").unwrap_err();
        assert!(err
            .to_string()
            .contains("`a` must be a single value or a list of values, found a list of maps"));
    }

    #[test]
    fn json_rest_form_takes_name_from_the_top() {
        let text = r#"{"name": "inventory", "config": {"connector.class": "io.debezium.connector.mysql.MySqlConnector", "database.port": 3306, "database": {"user": "u"}}}"#;
        assert_eq!(
            flatten(text, "t").unwrap(),
            props(&[
                (
                    "connector.class",
                    "io.debezium.connector.mysql.MySqlConnector"
                ),
                ("database.port", "3306"),
                ("database.user", "u"),
                ("name", "inventory"),
            ])
        );
    }

    #[test]
    fn rest_form_name_inside_config_must_agree() {
        let same = r#"{"name": "a", "config": {"name": "a"}}"#;
        assert_eq!(flatten(same, "t").unwrap(), props(&[("name", "a")]));
        let only_inner = r#"{"config": {"name": "a"}}"#;
        assert_eq!(flatten(only_inner, "t").unwrap(), props(&[("name", "a")]));
        let differ = r#"{"name": "a", "config": {"name": "b"}}"#;
        let err = flatten(differ, "t").unwrap_err();
        assert!(matches!(err, ConfigError::NameMismatch { .. }), "{err}");
    }

    #[test]
    fn config_beside_other_properties_is_not_the_rest_form() {
        let p = flatten("name: a\nconfig: {x: 1}\ntopic.prefix: p\n", "t").unwrap();
        assert_eq!(
            p,
            props(&[("config.x", "1"), ("name", "a"), ("topic.prefix", "p")])
        );
    }

    #[test]
    fn plain_json_is_accepted() {
        let p = flatten(r#"{"database.hostname": "h", "tasks.max": 1}"#, "t").unwrap();
        assert_eq!(p, props(&[("database.hostname", "h"), ("tasks.max", "1")]));
    }

    #[test]
    fn merge_keys_are_applied() {
        let text = "common: &c\n  x: 1\ndatabase:\n  <<: *c\n  hostname: h\n";
        let p = flatten(text, "t").unwrap();
        assert_eq!(
            p,
            props(&[
                ("common.x", "1"),
                ("database.hostname", "h"),
                ("database.x", "1")
            ])
        );
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let text = "name: a\ndatabase:\n  hostname: h\n   port: 3306\n";
        let err = flatten(text, "cdc.yaml").unwrap_err();
        match &err {
            ConfigError::Syntax {
                origin,
                line,
                column,
                ..
            } => {
                assert_eq!(origin, "cdc.yaml");
                assert_eq!(*line, Some(4));
                assert!(column.is_some());
            }
            other => panic!("expected a syntax error, got {other}"),
        }
        let msg = err.to_string();
        assert!(
            msg.starts_with("cdc.yaml: invalid YAML at line 4, column "),
            "{msg}"
        );
    }

    #[test]
    fn unclosed_json_is_a_syntax_error_with_position() {
        let err = flatten("{\"name\": \"a\",\n \"x\": [1, 2\n", "cdc.json").unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Syntax {
                    line: Some(_),
                    column: Some(_),
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn the_top_level_must_be_a_map() {
        let err = flatten("- a\n- b\n", "t").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t: the configuration must be a map of properties, found a list"
        );
        let err = flatten("", "t").unwrap_err();
        assert!(err.to_string().contains("found an empty document"));
        let err = flatten("just text", "t").unwrap_err();
        assert!(err.to_string().contains("found a string"));
    }

    #[test]
    fn odd_keys_and_values_are_rejected() {
        let err = flatten("database:\n  ? [a, b]\n  : 1\n", "t").unwrap_err();
        assert!(
            err.to_string()
                .contains("a property name must be text, found a list under `database`"),
            "{err}"
        );
        let err = flatten("a: !secret x\n", "t").unwrap_err();
        assert!(err.to_string().contains("tagged"), "{err}");
    }
}
