//! Secrets in Kafka Connect config-provider syntax.
//!
//! Two providers are built in, as Kafka ships them:
//!
//! - `${env:NAME}`: the environment variable `NAME`;
//! - `${file:PATH:KEY}`: key `KEY` of the Java properties file at `PATH`
//!   (a relative path is relative to the working directory, as in Connect;
//!   the key follows the *last* colon, so a path may contain colons).
//!
//! A reference to either that cannot be resolved is an error naming the
//! property and the reference: silently passing `${env:DB_PASSWORD}` on as a
//! password would only fail later, far from the cause. Every other `${…}` is
//! left exactly as written, because Debezium's own placeholders (for example
//! `${routedByValue}` in the outbox router's `route.topic.replacement`) must
//! reach the transform untouched. Expanded text is not expanded again, so a
//! secret containing `${` stays intact.

use std::collections::HashMap;
use std::path::Path;

use super::error::ConfigError;
use super::flatten::Properties;
use super::properties;

/// Where `${env:…}` looks names up; the process environment outside tests.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Expands every value of `props` in place.
pub fn expand(props: &mut Properties, env: EnvLookup<'_>) -> Result<(), ConfigError> {
    let mut files = FileCache::default();
    for (name, value) in props.iter_mut() {
        if value.contains("${") {
            *value = expand_value(name, value, env, &mut files)?;
        }
    }
    Ok(())
}

/// Properties files read so far, so each is read once per load.
#[derive(Default)]
struct FileCache {
    files: HashMap<String, HashMap<String, String>>,
}

impl FileCache {
    fn lookup(&mut self, path: &str, key: &str) -> Result<Option<String>, String> {
        if !self.files.contains_key(path) {
            let text = std::fs::read_to_string(Path::new(path))
                .map_err(|e| format!("cannot read properties file {path}: {e}"))?;
            self.files
                .insert(path.to_string(), properties::parse(&text));
        }
        Ok(self.files[path].get(key).cloned())
    }
}

fn expand_value(
    property: &str,
    value: &str,
    env: EnvLookup<'_>,
    files: &mut FileCache,
) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            // No closing brace: not a reference at all.
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let inner = &after[..end];
        let reference = &rest[start..start + 2 + end + 1];
        let unresolved = |reason: String| ConfigError::Unresolved {
            property: property.to_string(),
            reference: reference.to_string(),
            reason,
        };
        if let Some(var) = inner.strip_prefix("env:") {
            match env(var) {
                Some(v) => out.push_str(&v),
                None if var.is_empty() => {
                    return Err(unresolved(
                        "no variable name; write ${env:NAME}".to_string(),
                    ))
                }
                None => {
                    return Err(unresolved(format!(
                        "environment variable {var} is not set; set it or write the value in place"
                    )))
                }
            }
        } else if let Some(path_key) = inner.strip_prefix("file:") {
            let Some((path, key)) = path_key
                .rsplit_once(':')
                .filter(|(p, k)| !p.is_empty() && !k.is_empty())
            else {
                return Err(unresolved("expected ${file:PATH:KEY}".to_string()));
            };
            match files.lookup(path, key).map_err(&unresolved)? {
                Some(v) => out.push_str(&v),
                None => return Err(unresolved(format!("key {key} is not in {path}"))),
            }
        } else {
            out.push_str(reference);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn env(name: &str) -> Option<String> {
        match name {
            "DB_PASSWORD" => Some("s3cret".to_string()),
            "HOST" => Some("db.internal".to_string()),
            "TRICKY" => Some("${env:HOST}".to_string()),
            _ => None,
        }
    }

    fn expand_one(value: &str) -> Result<String, ConfigError> {
        let mut props = Properties::new();
        props.insert("p".to_string(), value.to_string());
        expand(&mut props, &env)?;
        Ok(props.remove("p").unwrap())
    }

    #[test]
    fn env_references_expand_anywhere_in_the_value() {
        assert_eq!(expand_one("${env:DB_PASSWORD}").unwrap(), "s3cret");
        assert_eq!(
            expand_one("jdbc://${env:HOST}:3306/${env:HOST}").unwrap(),
            "jdbc://db.internal:3306/db.internal"
        );
    }

    #[test]
    fn expanded_text_is_not_expanded_again() {
        assert_eq!(expand_one("${env:TRICKY}").unwrap(), "${env:HOST}");
    }

    #[test]
    fn other_placeholders_are_left_as_written() {
        for text in [
            "${routedByValue}",
            "outbox.${routedByValue}.events",
            "${vault:a:b}",
            "${",
            "a${b",
            "$env:X",
            "${}",
        ] {
            assert_eq!(expand_one(text).unwrap(), text);
        }
    }

    #[test]
    fn an_unset_variable_is_an_error_naming_property_and_reference() {
        let mut props = Properties::new();
        props.insert("database.password".to_string(), "${env:NOPE}".to_string());
        let err = expand(&mut props, &env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot resolve `${env:NOPE}` in `database.password`: environment variable NOPE is not set; set it or write the value in place"
        );
        assert!(expand_one("${env:}").is_err());
    }

    #[test]
    fn file_references_read_one_key() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            f,
            "# secrets\nuser=cdc\npassword : p@ss:word\nlong = a,\\\n   b"
        )
        .unwrap();
        let path = f.path().to_str().unwrap();
        assert_eq!(
            expand_one(&format!("${{file:{path}:password}}")).unwrap(),
            "p@ss:word"
        );
        assert_eq!(
            expand_one(&format!("${{file:{path}:user}}/${{file:{path}:long}}")).unwrap(),
            "cdc/a,b"
        );
    }

    #[test]
    fn file_reference_failures() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(f, "user=cdc").unwrap();
        let path = f.path().to_str().unwrap();

        let err = expand_one(&format!("${{file:{path}:password}}")).unwrap_err();
        assert!(matches!(&err, ConfigError::Unresolved { property, .. } if property == "p"));
        assert!(
            err.to_string()
                .contains(&format!("key password is not in {path}")),
            "{err}"
        );

        let err = expand_one("${file:/nonexistent/x.properties:k}").unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot read properties file /nonexistent/x.properties"),
            "{err}"
        );

        let err = expand_one("${file:nokey}").unwrap_err();
        assert!(
            err.to_string().contains("expected ${file:PATH:KEY}"),
            "{err}"
        );
    }
}
