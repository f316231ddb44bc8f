//! Signals: rows inserted into the signal table (`signal.data.collection`),
//! read back from the binlog, as Debezium's `source` channel does (spec §10).
//! Parsing only; what a signal does is the controller's business.

use serde_json::Value as Json;

/// Which kind of snapshot `execute-snapshot` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Incremental,
    Blocking,
}

/// A signal the connector acts on.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// `execute-snapshot`: the listed data collections (names or regexes),
    /// with optional per-collection filters (`additional-conditions`).
    Execute { collections: Vec<String>, kind: Kind, conditions: Vec<(String, String)> },
    /// `stop-snapshot`: the listed collections, or all when empty.
    Stop { collections: Vec<String> },
    Pause,
    Resume,
    /// Our own watermark rows (`<chunk>-open` / `<chunk>-close`).
    WindowOpen(String),
    WindowClose(String),
    /// A signal binlog-cdc does not act on (`log`, `schema-changes`, …).
    Ignored(String),
}

/// Why a signal row was not understood.
#[derive(Debug, thiserror::Error)]
#[error("signal `{id}` ({kind}): {reason}")]
pub struct SignalError {
    pub id: String,
    pub kind: String,
    pub reason: String,
}

/// Reads one inserted signal row (`id`, `type`, `data`).
pub fn parse(id: &str, kind: &str, data: Option<&str>) -> Result<Signal, SignalError> {
    let err = |reason: String| SignalError { id: id.to_string(), kind: kind.to_string(), reason };
    let json = match data.map(str::trim) {
        None | Some("") => Json::Object(Default::default()),
        Some(text) => serde_json::from_str(text).map_err(|e| err(format!("`data` is not JSON: {e}")))?,
    };
    let collections = |j: &Json| -> Vec<String> {
        match j.get("data-collections") {
            Some(Json::Array(a)) => a.iter().filter_map(Json::as_str).map(str::to_string).collect(),
            Some(Json::String(s)) => s.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            _ => Vec::new(),
        }
    };
    Ok(match kind {
        "execute-snapshot" => {
            let kind = match json.get("type").and_then(Json::as_str).map(str::to_ascii_lowercase).as_deref() {
                None | Some("incremental") => Kind::Incremental,
                Some("blocking") => Kind::Blocking,
                Some(other) => return Err(err(format!("unknown snapshot type `{other}` (incremental or blocking)"))),
            };
            let mut conditions = Vec::new();
            if let Some(Json::Array(list)) = json.get("additional-conditions") {
                for c in list {
                    let table = c.get("data-collection").and_then(Json::as_str);
                    let filter = c.get("filter").and_then(Json::as_str);
                    match (table, filter) {
                        (Some(t), Some(f)) => conditions.push((t.to_string(), f.to_string())),
                        _ => return Err(err("each additional-conditions entry needs `data-collection` and `filter`".into())),
                    }
                }
            }
            if json.get("surrogate-key").is_some_and(|v| !v.is_null()) {
                return Err(err("`surrogate-key` is not supported by binlog-cdc; tables are chunked by their primary key".into()));
            }
            Signal::Execute { collections: collections(&json), kind, conditions }
        }
        "stop-snapshot" => Signal::Stop { collections: collections(&json) },
        "pause-snapshot" => Signal::Pause,
        "resume-snapshot" => Signal::Resume,
        "snapshot-window-open" => Signal::WindowOpen(id.strip_suffix("-open").unwrap_or(id).to_string()),
        "snapshot-window-close" => Signal::WindowClose(id.strip_suffix("-close").unwrap_or(id).to_string()),
        other => Signal::Ignored(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execute_with_conditions_and_kinds() {
        let s = parse(
            "ad-hoc-1",
            "execute-snapshot",
            Some(r#"{"data-collections":["inv.customers","inv\\.o.*"],"type":"INCREMENTAL","additional-conditions":[{"data-collection":"inv.customers","filter":"id > 1000"}]}"#),
        )
        .unwrap();
        assert_eq!(
            s,
            Signal::Execute {
                collections: vec!["inv.customers".into(), "inv\\.o.*".into()],
                kind: Kind::Incremental,
                conditions: vec![("inv.customers".into(), "id > 1000".into())],
            }
        );
        let b = parse("b", "execute-snapshot", Some(r#"{"data-collections":["a.b"],"type":"blocking"}"#)).unwrap();
        assert!(matches!(b, Signal::Execute { kind: Kind::Blocking, .. }));
        assert!(parse("x", "execute-snapshot", Some(r#"{"type":"full"}"#)).is_err());
        assert!(parse("x", "execute-snapshot", Some("not json")).is_err());
    }

    #[test]
    fn control_and_watermark_signals() {
        assert_eq!(parse("p", "pause-snapshot", None).unwrap(), Signal::Pause);
        assert_eq!(parse("r", "resume-snapshot", Some("")).unwrap(), Signal::Resume);
        assert_eq!(parse("s", "stop-snapshot", Some("{}")).unwrap(), Signal::Stop { collections: vec![] });
        assert_eq!(parse("abc-open", "snapshot-window-open", Some("{}")).unwrap(), Signal::WindowOpen("abc".into()));
        assert_eq!(parse("abc-close", "snapshot-window-close", None).unwrap(), Signal::WindowClose("abc".into()));
        assert_eq!(parse("l", "log", Some(r#"{"message":"hi"}"#)).unwrap(), Signal::Ignored("log".into()));
    }
}
