//! Where the decoder calls the transform stage besides row changes: the
//! start and end of transactions (transaction metadata), before each event
//! (heartbeats), `TRUNCATE` statements (op `t` events), and the counters a
//! stored position carries. Kept apart from the decoding logic so the
//! decoder shows only one-line calls.

use std::sync::Arc;

use mysql_common::binlog::events::QueryEvent;
use tracing::warn;

use super::{DecodeError, Decoder};
use crate::envelope::{ChangeEvent, Op, Record, SourceInfo};
use crate::offsets::position::TransactionOffset;
use crate::transform::Transforms;

impl Decoder {
    /// Runs changes through `transforms` (skipped operations, transaction
    /// metadata, SMTs, heartbeats). A start position inside a transaction
    /// brings back that transaction's metadata counters.
    pub fn with_transforms(mut self, transforms: Transforms) -> Self {
        self.transforms = transforms;
        if self.skip.is_some() {
            if let Some(stored) = self.base.stored_transaction() {
                self.transforms.restore_transaction(stored);
            }
        }
        self
    }

    fn push(&mut self, record: Record) {
        self.batch_bytes += record.size_bytes();
        self.batch.push(record);
    }

    /// Before each event (server heartbeats included): note the previous
    /// event's time, and emit a heartbeat when one is due.
    pub(super) async fn before_event(&mut self) {
        self.transforms.note_previous_event_time(self.base.ts_sec);
        if self.transforms.heartbeat_due() {
            if let Some(r) = self.transforms.heartbeat().await {
                self.push(r);
            }
        }
    }

    /// A transaction started (MariaDB GTID event, MySQL `BEGIN`): its
    /// BEGIN record, unless this is the replay of the transaction a
    /// restart or reconnect interrupted.
    pub(super) fn transaction_started(&mut self) {
        if !self.transforms.transaction_metadata() {
            return;
        }
        let id = match &self.gtid_text {
            Some(g) => g.clone(),
            None => format!("file={},pos={}", self.base.file, self.base.pos),
        };
        if let Some(r) = self.transforms.begin_transaction(id, self.skip.is_some()) {
            self.push(r);
        }
    }

    /// A transaction committed (XID, `COMMIT`): its END record.
    pub(super) fn transaction_committed(&mut self) {
        if let Some(r) = self.transforms.end_transaction() {
            self.push(r);
        }
    }

    /// The transaction metadata counters a position inside a transaction
    /// carries.
    pub(super) fn transaction_offset(&self) -> Option<TransactionOffset> {
        if self.in_tx || self.skip.is_some() {
            self.transforms.transaction_offset()
        } else {
            None
        }
    }

    /// `TRUNCATE [TABLE] t`: one `op: "t"` record for a captured table
    /// unless `skipped.operations` has `t` (the default). `true` when the
    /// statement was a TRUNCATE (so it is no schema change).
    pub(super) async fn on_truncate(
        &mut self,
        qe: &QueryEvent<'_>,
        pos: u64,
        ts: u32,
        server_id: u32,
    ) -> Result<bool, DecodeError> {
        let sql = qe.query();
        let Some((db, table)) = truncate_target(&sql) else {
            return Ok(false);
        };
        let db = db.unwrap_or_else(|| qe.schema().into_owned());
        if self.transforms.skips(Op::Truncate) || !self.filters.table(&db, &table) {
            return Ok(true);
        }
        if let Some(s) = self.skip {
            if self.events_in_tx < s.events {
                return Ok(true);
            }
        }
        let codec = match self.by_name.get(&(db.clone(), table.clone())) {
            Some(c) => c.codec.clone(),
            None => match self.catalog.get(&db, &table).await {
                Ok(schema) => {
                    let filters = self.filters.clone();
                    Arc::new(
                        self.encoder
                            .codec(schema, &|col| filters.column(&db, &table, col)),
                    )
                }
                Err(e) => {
                    warn!(table = %format!("{db}.{table}"), file = %self.file, pos, error = %e, "TRUNCATE of a table whose structure cannot be read; no truncate event");
                    return Ok(true);
                }
            },
        };
        let event = ChangeEvent {
            op: Op::Truncate,
            before: None,
            after: None,
            source: SourceInfo {
                ts_us: self.tx_ts_us.unwrap_or(i64::from(ts) * 1_000_000),
                snapshot: "false",
                db: &db,
                table: Some(&table),
                server_id,
                gtid: self.gtid_text.as_deref(),
                file: &self.file,
                pos,
                row: 0,
                thread: self.thread,
                query: None,
            },
            now_ns: Self::now_ns(),
        };
        let first = self.batch.len();
        self.transforms
            .row(&self.encoder, &codec, &event, &mut self.batch)
            .map_err(|source| DecodeError::Transform {
                file: self.file.clone(),
                pos,
                source,
            })?;
        for r in &self.batch[first..] {
            self.batch_bytes += r.size_bytes();
        }
        Ok(true)
    }
}

/// The table of a `TRUNCATE [TABLE] [db.]name` statement (MariaDB's
/// `SET STATEMENT ... FOR` prefix and comments allowed): `(db, table)`.
pub fn truncate_target(sql: &str) -> Option<(Option<String>, String)> {
    let mut rest = skip_space(sql);
    if starts_with_word(rest, "SET") {
        // `SET STATEMENT var=value[, ...] FOR <statement>`
        let upper = rest.to_ascii_uppercase();
        let at = upper.find(" FOR ")?;
        rest = skip_space(&rest[at + 5..]);
    }
    rest = word(rest, "TRUNCATE")?;
    if let Some(after) = word(rest, "TABLE") {
        rest = after;
    }
    let (first, after) = identifier(rest)?;
    let after_dot = after.trim_start();
    match after_dot.strip_prefix('.') {
        Some(r) => {
            let (second, _) = identifier(r.trim_start())?;
            Some((Some(first), second))
        }
        None => Some((None, first)),
    }
}

fn skip_space(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        if let Some(after) = s.strip_prefix("/*") {
            match after.find("*/") {
                Some(end) => s = &after[end + 2..],
                None => return "",
            }
        } else if s.starts_with("-- ") || s.starts_with('#') {
            match s.find('\n') {
                Some(end) => s = &s[end + 1..],
                None => return "",
            }
        } else {
            return s;
        }
    }
}

fn starts_with_word(s: &str, w: &str) -> bool {
    // `get`: the statement may have a multi-byte character there.
    s.get(..w.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(w))
        && !s[w.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$')
}

/// `s` after the keyword `w` and the space following it.
fn word<'a>(s: &'a str, w: &str) -> Option<&'a str> {
    starts_with_word(s, w).then(|| skip_space(&s[w.len()..]))
}

/// A bare or back-quoted identifier and what follows it.
fn identifier(s: &str) -> Option<(String, &str)> {
    if let Some(body) = s.strip_prefix('`') {
        let mut name = String::new();
        let mut chars = body.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '`' {
                if chars.peek().map(|(_, n)| *n) == Some('`') {
                    chars.next();
                    name.push('`');
                } else {
                    return Some((name, &body[i + 1..]));
                }
            } else {
                name.push(c);
            }
        }
        return None;
    }
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(s.len());
    (end > 0).then(|| (s[..end].to_string(), &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::truncate_target;

    #[test]
    fn truncate_statements() {
        let t = |s: &str| truncate_target(s);
        assert_eq!(t("TRUNCATE TABLE orders"), Some((None, "orders".into())));
        assert_eq!(
            t("truncate `shop`.`my``t` WAIT 5"),
            Some((Some("shop".into()), "my`t".into()))
        );
        assert_eq!(
            t("/* app */ TRUNCATE shop . t"),
            Some((Some("shop".into()), "t".into()))
        );
        assert_eq!(
            t("SET STATEMENT max_statement_time=5 FOR TRUNCATE TABLE t"),
            Some((None, "t".into()))
        );
        assert_eq!(t("TRUNCATE TABLE"), None);
        assert_eq!(t("TRUNCATEX t"), None);
        assert_eq!(t("DROP TABLE t"), None);
    }
}
