//! How the validator takes properties out of the map: typed getters that
//! record a problem and fall back to the default (so validation goes on and
//! reports everything at once), prefix families (`producer.*`,
//! `topic.creation.default.*`, `transforms.*`…), and the classification of
//! whatever no getter took.
//!
//! Every getter *removes* its property, which is how [`Validator::leftovers`]
//! knows what was not understood.

use std::collections::BTreeMap;

use super::catalog::{self, Class};
use super::error::ConfigError;
use super::filters::split_list;
use super::model::{IgnoredProperty, PropertyEnum};
use super::validate::Validator;

impl Validator {
    /// `producer.X` and `producer.override.X` → `X`.
    pub(super) fn producer(&mut self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let names: Vec<String> = self
            .props
            .keys()
            .filter(|k| k.starts_with("producer."))
            .cloned()
            .collect();
        for name in names {
            let value = self.props.remove(&name).expect("listed key");
            let key = name
                .strip_prefix("producer.override.")
                .or_else(|| name.strip_prefix("producer."))
                .unwrap_or("");
            if key.is_empty() {
                self.errors.push(ConfigError::Unknown {
                    property: name,
                    suggestion: None,
                });
            } else if out.insert(key.to_string(), value).is_some() {
                self.errors.push(ConfigError::Duplicate { property: name });
            }
        }
        out
    }

    /// `topic.creation.default.X` (other than partitions and replication
    /// factor) → `X`; other groups are not implemented.
    pub(super) fn topic_creation_configs(&mut self) -> BTreeMap<String, String> {
        const DEFAULT: &str = "topic.creation.default.";
        let mut out = BTreeMap::new();
        let names: Vec<String> = self
            .props
            .keys()
            .filter(|k| {
                k.starts_with("topic.creation.") && !catalog::IMPLEMENTED.contains(&k.as_str())
            })
            .filter(|k| *k != "topic.creation.groups")
            .cloned()
            .collect();
        for name in names {
            let value = self.props.remove(&name).expect("listed key");
            match name.strip_prefix(DEFAULT) {
                Some(key) if !key.is_empty() => {
                    out.insert(key.to_string(), value);
                }
                _ => self.errors.push(ConfigError::NotImplementedProperty {
                    property: name,
                    advice:
                        "topic creation groups are not implemented; use `topic.creation.default.*`"
                            .into(),
                }),
            }
        }
        out
    }

    /// Properties named `p` or `p.*` for each prefix `p`, as written.
    pub(super) fn take_prefixed(&mut self, prefixes: &[&str]) -> BTreeMap<String, String> {
        let names: Vec<String> = self
            .props
            .keys()
            .filter(|k| {
                prefixes.iter().any(|p| {
                    k.as_str() == *p || k.strip_prefix(p).is_some_and(|r| r.starts_with('.'))
                })
            })
            .cloned()
            .collect();
        names
            .into_iter()
            .map(|n| (n.clone(), self.props.remove(&n).expect("listed key")))
            .collect()
    }

    pub(super) fn ignored(&mut self) -> Vec<IgnoredProperty> {
        let names: Vec<String> = self.props.keys().cloned().collect();
        let mut out = Vec::new();
        for name in names {
            if let Class::Ignored(reason) = catalog::classify(&name) {
                self.props.remove(&name);
                out.push(IgnoredProperty { name, reason });
            }
        }
        out
    }

    /// Whatever no getter took: not implemented, renamed or unknown.
    pub(super) fn leftovers(&mut self) {
        let props = std::mem::take(&mut self.props);
        for (name, value) in props {
            match catalog::classify(&name) {
                Class::NotImplemented { default, advice } => {
                    let value = value.trim();
                    let harmless = match default {
                        Some(d) => value.eq_ignore_ascii_case(d),
                        None => value.is_empty(),
                    };
                    if !harmless {
                        let advice = match (advice, default) {
                            ("", Some(d)) => format!("remove it or set Debezium's default `{d}`"),
                            ("", None) => "remove it".to_string(),
                            (custom, _) => custom.to_string(),
                        };
                        self.errors.push(ConfigError::NotImplementedProperty {
                            property: name,
                            advice,
                        });
                    }
                }
                Class::Renamed(replacement) => {
                    self.errors.push(ConfigError::Renamed {
                        property: name,
                        replacement,
                    });
                }
                Class::Ignored(_) => unreachable!("ignored properties were taken first"),
                Class::Unknown => {
                    let suggestion = catalog::suggest(&name).map(str::to_string);
                    if suggestion.is_none() && name.starts_with("database.") {
                        self.errors.push(ConfigError::NotImplementedProperty {
                            property: name,
                            advice: "Debezium hands `database.*` properties it does not know to the JDBC driver, \
                                     and binlog-cdc has no JDBC driver: remove it"
                                .into(),
                        });
                    } else {
                        self.errors.push(ConfigError::Unknown {
                            property: name,
                            suggestion,
                        });
                    }
                }
            }
        }
    }

    // ---- typed getters; each removes its property from the map ----

    /// The trimmed value, if set.
    pub(super) fn take(&mut self, name: &'static str) -> Option<String> {
        self.take_raw(name).map(|v| v.trim().to_string())
    }

    /// The value as written, if set.
    pub(super) fn take_raw(&mut self, name: &'static str) -> Option<String> {
        debug_assert!(
            catalog::IMPLEMENTED.contains(&name),
            "{name} missing from catalog::IMPLEMENTED"
        );
        self.props.remove(name)
    }

    /// A list property; `None` when unset or holding no items (as Debezium
    /// treats an empty list as unset).
    pub(super) fn take_list(&mut self, name: &'static str) -> Option<String> {
        self.take(name).filter(|v| !split_list(v).is_empty())
    }

    pub(super) fn required(&mut self, name: &'static str, hint: &'static str) -> String {
        match self.take(name).filter(|v| !v.is_empty()) {
            Some(v) => v,
            None => {
                self.errors.push(ConfigError::Missing {
                    property: name.into(),
                    hint,
                });
                String::new()
            }
        }
    }

    pub(super) fn non_empty(&mut self, name: &'static str, default: &str) -> String {
        match self.take(name) {
            None => default.to_string(),
            Some(v) if v.is_empty() => {
                self.invalid(name, "a non-empty string", &v);
                default.to_string()
            }
            Some(v) => v,
        }
    }

    pub(super) fn boolean(&mut self, name: &'static str, default: bool) -> bool {
        match self.take(name) {
            None => default,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) => {
                self.invalid(name, "true or false", &v);
                default
            }
        }
    }

    /// An integer in `min..=max`; `default` when unset.
    pub(super) fn integer(&mut self, name: &'static str, default: i64, min: i64, max: i64) -> i64 {
        let expected = match (min, max) {
            (0, i64::MAX) => "a non-negative integer".to_string(),
            (1, i64::MAX) => "a positive integer".to_string(),
            (min, i64::MAX) => format!("an integer of at least {min}"),
            (min, max) => format!("an integer from {min} to {max}"),
        };
        self.integer_if(name, default, |n| n >= min, &expected, max)
    }

    /// A required integer in `min..=max`.
    pub(super) fn required_integer(
        &mut self,
        name: &'static str,
        hint: &'static str,
        min: i64,
        max: i64,
    ) -> i64 {
        if !self.props.contains_key(name) {
            self.errors.push(ConfigError::Missing {
                property: name.into(),
                hint,
            });
            return min;
        }
        self.integer(name, min, min, max)
    }

    /// An integer no larger than `max` for which `ok` holds.
    pub(super) fn integer_if(
        &mut self,
        name: &'static str,
        default: i64,
        ok: impl Fn(i64) -> bool,
        expected: &str,
        max: i64,
    ) -> i64 {
        let Some(text) = self.take(name) else {
            return default;
        };
        match text.parse::<i64>() {
            Ok(n) if ok(n) && n <= max => n,
            _ => {
                self.invalid(name, expected, &text);
                default
            }
        }
    }

    pub(super) fn choice<E: PropertyEnum>(&mut self, name: &'static str, default: E) -> E {
        let Some(text) = self.take(name) else {
            return default;
        };
        E::parse(&text).unwrap_or_else(|| {
            self.invalid(name, &format!("one of {}", E::expected()), &text);
            default
        })
    }

    pub(super) fn invalid(&mut self, name: &str, expected: &str, actual: &str) {
        self.errors.push(ConfigError::Invalid {
            property: name.into(),
            expected: expected.into(),
            actual: actual.into(),
        });
    }
}
