//! Configuration errors. All are *definite*: retrying cannot help, the user
//! must edit the file. Each message names the property, says what was
//! wrong, and says what to do, so a one-line log is enough to fix it.

use std::fmt;
use std::path::PathBuf;

/// Why a configuration was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{origin}: invalid YAML{}: {message}", at(*line, *column))]
    Syntax {
        origin: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },

    #[error("{origin}: the configuration must be a map of properties, found {found}")]
    NotAMap { origin: String, found: &'static str },

    #[error("{origin}: `{property}` must be a single value or a list of values, found {found}")]
    NotAValue {
        origin: String,
        property: String,
        found: &'static str,
    },

    #[error("{origin}: a property name must be text, found {found} under `{parent}`")]
    BadKey {
        origin: String,
        parent: String,
        found: &'static str,
    },

    #[error("`{property}` is set twice (once in a nested map, once as a dotted name); keep one")]
    Duplicate { property: String },

    #[error("the connector is named `{outer}` at the top level but `{inner}` inside `config`; make them equal or remove one")]
    NameMismatch { outer: String, inner: String },

    #[error("cannot resolve `{reference}` in `{property}`: {reason}")]
    Unresolved {
        property: String,
        reference: String,
        reason: String,
    },

    #[error("required property `{property}` is missing{}", hint_suffix(hint))]
    Missing {
        property: String,
        hint: &'static str,
    },

    #[error("`{property}` must be {expected}; got `{actual}`")]
    Invalid {
        property: String,
        expected: String,
        actual: String,
    },

    #[error("`{property}`: invalid regular expression `{regex}`: {message}")]
    Regex {
        property: String,
        regex: String,
        message: String,
    },

    #[error("`{property}` and `{other}` cannot both be set (Debezium rejects that too); keep one")]
    Conflict { property: String, other: String },

    #[error("unknown property `{property}`{}", suggestion_suffix(suggestion))]
    Unknown {
        property: String,
        suggestion: Option<String>,
    },

    #[error("`{property}` is a Debezium property binlog-cdc does not implement yet; {advice}")]
    NotImplementedProperty { property: String, advice: String },

    #[error("`{property}: {value}` is not implemented yet{}", hint_suffix(hint))]
    NotImplementedValue {
        property: String,
        value: String,
        hint: String,
    },

    #[error("`{property}` was renamed `{replacement}` in Debezium 2.0; use `{replacement}`")]
    Renamed {
        property: String,
        replacement: String,
    },

    #[error("`{property}: {value}` is not supported: {reason}")]
    Unsupported {
        property: String,
        value: String,
        reason: String,
    },

    #[error("{} problems in the configuration:{}", .0.len(), list(.0))]
    Many(Vec<ConfigError>),
}

impl ConfigError {
    /// The individual problems: the list for `Many`, else just this one.
    pub fn problems(&self) -> Vec<&ConfigError> {
        match self {
            ConfigError::Many(all) => all.iter().collect(),
            one => vec![one],
        }
    }

    /// One error for a non-empty list: the single one, or `Many`.
    pub(crate) fn from_list(mut errors: Vec<ConfigError>) -> ConfigError {
        assert!(!errors.is_empty(), "from_list needs at least one error");
        if errors.len() == 1 {
            errors.pop().expect("one error")
        } else {
            ConfigError::Many(errors)
        }
    }
}

fn at(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

fn hint_suffix(hint: &str) -> String {
    if hint.is_empty() {
        String::new()
    } else {
        format!("; {hint}")
    }
}

fn suggestion_suffix(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean `{s}`?"),
        None => {
            "; remove it (binlog-cdc refuses properties it does not know rather than ignore them)"
                .to_string()
        }
    }
}

fn list(errors: &[ConfigError]) -> String {
    struct Lines<'a>(&'a [ConfigError]);
    impl fmt::Display for Lines<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for e in self.0 {
                write!(f, "\n  - {e}")?;
            }
            Ok(())
        }
    }
    Lines(errors).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_property_and_the_fix() {
        let e = ConfigError::Invalid {
            property: "database.port".into(),
            expected: "an integer from 1 to 65535".into(),
            actual: "abc".into(),
        };
        assert_eq!(
            e.to_string(),
            "`database.port` must be an integer from 1 to 65535; got `abc`"
        );
        let e = ConfigError::Unknown {
            property: "database.hostnme".into(),
            suggestion: Some("database.hostname".into()),
        };
        assert_eq!(
            e.to_string(),
            "unknown property `database.hostnme`; did you mean `database.hostname`?"
        );
        let e = ConfigError::Syntax {
            origin: "a.yaml".into(),
            line: Some(3),
            column: Some(7),
            message: "x".into(),
        };
        assert_eq!(e.to_string(), "a.yaml: invalid YAML at line 3, column 7: x");
    }

    #[test]
    fn many_lists_each_problem_on_its_own_line() {
        let e = ConfigError::from_list(vec![
            ConfigError::Missing {
                property: "name".into(),
                hint: "",
            },
            ConfigError::Missing {
                property: "topic.prefix".into(),
                hint: "",
            },
        ]);
        assert_eq!(
            e.to_string(),
            "2 problems in the configuration:\n  - required property `name` is missing\n  - required property `topic.prefix` is missing"
        );
        assert_eq!(e.problems().len(), 2);
    }
}
