//! Transaction metadata state (spec §8): Debezium's `TransactionContext`.
//!
//! Counts the data events of the open transaction, per table and in
//! total, so that each event gets its `transaction` block and the END
//! record its counts. The counters travel in the stored position
//! (`transaction_id`, `transaction_data_collection_order_<db.table>`) so a
//! restart in the middle of a transaction continues them instead of
//! starting over; its BEGIN is not repeated then.

use crate::envelope::transaction::{Block, TransactionTopic};
use crate::envelope::Record;
use crate::offsets::position::TransactionOffset;

pub struct TxState {
    topic: TransactionTopic,
    id: Option<String>,
    total: u64,
    /// Per-table counts in insertion order.
    per_table: Vec<(String, u64)>,
    scratch: String,
}

impl TxState {
    pub fn new(topic: TransactionTopic) -> Self {
        TxState {
            topic,
            id: None,
            total: 0,
            per_table: Vec::new(),
            scratch: String::new(),
        }
    }

    /// Whether transaction `id` is the open one (a replay after a restart
    /// or reconnect resumes it).
    pub fn is_open(&self, id: &str) -> bool {
        self.id.as_deref() == Some(id)
    }

    /// Opens transaction `id` and returns its BEGIN record.
    pub fn begin(&mut self, id: String, ts_ms: i64) -> Record {
        let record = self.topic.begin(&id, ts_ms);
        self.id = Some(id);
        self.total = 0;
        self.per_table.clear();
        record
    }

    /// Closes the open transaction: its END record, if one is open.
    pub fn end(&mut self, ts_ms: i64) -> Option<Record> {
        let id = self.id.take()?;
        let ordered = java_hash_map_order(&self.per_table);
        let record = self.topic.end(&id, self.total, &ordered, ts_ms);
        self.total = 0;
        self.per_table.clear();
        Some(record)
    }

    /// Counts one data event of `db.table`: its block, or `None` outside a
    /// transaction.
    pub fn event(&mut self, db: &str, table: &str) -> Option<Block<'_>> {
        let id = self.id.as_deref()?;
        self.scratch.clear();
        self.scratch.push_str(db);
        self.scratch.push('.');
        self.scratch.push_str(table);
        self.total += 1;
        let n = match self.per_table.iter_mut().find(|(t, _)| *t == self.scratch) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.per_table.push((self.scratch.clone(), 1));
                1
            }
        };
        Some(Block {
            id,
            total_order: self.total,
            data_collection_order: n,
        })
    }

    /// The counters to store with a position inside the transaction.
    pub fn offset(&self) -> Option<TransactionOffset> {
        let id = self.id.clone()?;
        Some(TransactionOffset {
            id,
            per_table: java_hash_map_order(&self.per_table),
        })
    }

    /// Continues a transaction from stored counters (a restart inside it).
    pub fn restore(&mut self, stored: TransactionOffset) {
        self.total = stored.per_table.iter().map(|(_, n)| n).sum();
        self.per_table = stored.per_table;
        self.id = Some(stored.id);
    }
}

/// The iteration order of a `java.util.HashMap<String, Long>` holding
/// `entries` (inserted in this order): by bucket of the table size the map
/// has grown to, then insertion order. Debezium lists an END record's
/// `data_collections` in this order.
pub fn java_hash_map_order(entries: &[(String, u64)]) -> Vec<(String, u64)> {
    let mut capacity = 16usize;
    while entries.len() * 4 > capacity * 3 {
        capacity *= 2;
    }
    let mut keyed: Vec<(usize, usize, &(String, u64))> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (java_bucket(&e.0, capacity), i, e))
        .collect();
    keyed.sort_by_key(|(bucket, i, _)| (*bucket, *i));
    keyed.into_iter().map(|(_, _, e)| e.clone()).collect()
}

fn java_bucket(s: &str, capacity: usize) -> usize {
    let h = s
        .encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
    let spread = h ^ ((h as u32) >> 16) as i32;
    (spread as u32 as usize) & (capacity - 1)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn state() -> TxState {
        TxState::new(TransactionTopic {
            topic: Arc::from("p.transaction"),
            key_schemas: false,
            value_schemas: false,
        })
    }

    #[test]
    fn counts_per_table_and_in_total() {
        let mut tx = state();
        assert!(
            tx.event("db", "a").is_none(),
            "no block outside a transaction"
        );
        tx.begin("0-1-7".into(), 1000);
        assert_eq!(
            tx.event("db", "a")
                .map(|b| (b.total_order, b.data_collection_order)),
            Some((1, 1))
        );
        assert_eq!(
            tx.event("db", "b")
                .map(|b| (b.total_order, b.data_collection_order)),
            Some((2, 1))
        );
        assert_eq!(
            tx.event("db", "a")
                .map(|b| (b.total_order, b.data_collection_order)),
            Some((3, 2))
        );
        let stored = tx.offset().unwrap();
        assert_eq!(stored.id, "0-1-7");
        let mut resumed = state();
        resumed.restore(stored);
        assert!(resumed.is_open("0-1-7"));
        assert_eq!(
            resumed
                .event("db", "b")
                .map(|b| (b.total_order, b.data_collection_order)),
            Some((4, 2))
        );
        let end = resumed.end(2000).unwrap();
        let v = String::from_utf8(end.value.unwrap()).unwrap();
        assert!(v.contains(r#""event_count":4"#), "{v}");
        assert!(resumed.end(3000).is_none());
    }

    #[test]
    fn hash_map_order_is_javas() {
        // "a".hashCode() = 97 → bucket 1; "b" = 98 → 2; "q" = 113 → 1 (113 & 15).
        let e = |s: &str| (s.to_string(), 1);
        let got = java_hash_map_order(&[e("b"), e("q"), e("a")]);
        let names: Vec<&str> = got.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(names, ["q", "a", "b"]);
        // 13 entries grow the table to 32 buckets.
        let many: Vec<(String, u64)> = (0..13).map(|i| (format!("t{i}"), 1)).collect();
        assert_eq!(java_hash_map_order(&many).len(), 13);
    }
}
