//! The configuration contract of DESIGN.md: Debezium's and Kafka Connect's
//! own property names, so a Debezium user's config carries over.
//!
//! Loading is a pipeline of pure steps, each in its own file:
//!
//! 1. `flatten.rs`: YAML/JSON text (dotted, nested, or the Connect REST
//!    form) → flat `name → string` properties, refusing ambiguity;
//! 2. `expand.rs` (with `properties.rs`): `${env:…}` and `${file:…:…}`
//!    secrets resolved, every other `${…}` left as written;
//! 3. `validate.rs` (with `reader.rs`): properties → typed [`Config`]
//!    (`model.rs`), every name accounted for by `catalog.rs`: implemented,
//!    not implemented yet, renamed, ignored with a reason, or unknown (an
//!    error).
//!
//! Nothing is silently ignored: a property binlog-cdc does not act on is
//! either refused or listed in [`Config::ignored`] for the caller to log.
//! All errors are definite (fix the file and restart); validation reports
//! every problem it finds at once.

mod catalog;
mod error;
mod expand;
mod filters;
mod flatten;
mod model;
mod properties;
mod reader;
mod validate;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use error::ConfigError;
pub use filters::{is_builtin_database, Filters, RegexList, BUILTIN_DATABASES};
pub use model::*;
pub use validate::parse_host_port;

/// Reads and validates the configuration file at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    from_str(&text, &path.display().to_string())
}

/// Validates configuration text. `origin` names it in syntax errors (a
/// path, or a label such as `<stdin>`). `${env:…}` reads the process
/// environment.
pub fn from_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
    from_str_with_env(text, origin, &|name| std::env::var(name).ok())
}

/// [`from_str`] with `${env:…}` looked up by `env` instead of the process
/// environment (tests, or a caller with its own environment).
pub fn from_str_with_env(
    text: &str,
    origin: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let mut props = flatten::flatten(text, origin)?;
    expand::expand(&mut props, env)?;
    validate::validate(props)
}
