//! Which position may be stored: the one of the newest batch such that it
//! and every batch before it have been acknowledged by Kafka.
//!
//! Batches complete out of order (records of different partitions are
//! acknowledged independently), so each batch counts its unacknowledged
//! records and the stored position only ever advances over a prefix of
//! fully acknowledged batches. A failed delivery poisons the tracker: the
//! position never moves past it, and the sink stops.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::offsets::position::Position;

struct Pending {
    remaining: usize,
    position: Position,
}

#[derive(Default)]
struct State {
    /// Sequence number of `pending[0]`.
    first_seq: u64,
    pending: VecDeque<Pending>,
    /// Position of the newest fully acknowledged prefix, not yet taken.
    ready: Option<Position>,
    failure: Option<String>,
    acked_records: u64,
}

#[derive(Clone, Default)]
pub struct Tracker {
    state: Arc<Mutex<State>>,
    notify: Arc<Notify>,
}

impl Tracker {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked mid-update;
        // the counters are still consistent enough to stop on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a batch of `records` records; returns its sequence number.
    pub fn register(&self, records: usize, position: Position) -> u64 {
        let mut s = self.lock();
        let seq = s.first_seq + s.pending.len() as u64;
        s.pending.push_back(Pending { remaining: records, position });
        Self::advance(&mut s);
        seq
    }

    /// One record of batch `seq` was acknowledged.
    pub fn ack(&self, seq: u64) {
        let mut s = self.lock();
        s.acked_records += 1;
        let idx = seq.wrapping_sub(s.first_seq) as usize;
        if let Some(p) = s.pending.get_mut(idx) {
            p.remaining = p.remaining.saturating_sub(1);
        }
        if idx == 0 {
            Self::advance(&mut s);
            drop(s);
            self.notify.notify_one();
        }
    }

    /// A record of batch `seq` could not be delivered.
    pub fn fail(&self, error: String) {
        let mut s = self.lock();
        if s.failure.is_none() {
            s.failure = Some(error);
        }
        drop(s);
        self.notify.notify_one();
    }

    fn advance(s: &mut State) {
        if s.failure.is_some() {
            return;
        }
        while s.pending.front().is_some_and(|p| p.remaining == 0) {
            if let Some(p) = s.pending.pop_front() {
                s.ready = Some(p.position);
                s.first_seq += 1;
            }
        }
    }

    /// The newest storable position, if it moved since the last call.
    pub fn take_ready(&self) -> Option<Position> {
        self.lock().ready.take()
    }

    pub fn failure(&self) -> Option<String> {
        self.lock().failure.clone()
    }

    /// Batches not yet fully acknowledged.
    pub fn in_flight(&self) -> usize {
        self.lock().pending.len()
    }

    pub fn take_acked_count(&self) -> u64 {
        std::mem::take(&mut self.lock().acked_records)
    }

    /// Resolves after the next acknowledgement or failure.
    pub async fn changed(&self) {
        self.notify.notified().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(p: u64) -> Position {
        Position::new("f", p)
    }

    #[test]
    fn position_moves_only_over_acknowledged_prefix() {
        let t = Tracker::new();
        let a = t.register(2, pos(10));
        let b = t.register(1, pos(20));
        let c = t.register(0, pos(30));
        t.ack(b);
        assert_eq!(t.take_ready(), None, "batch a is not acknowledged yet");
        t.ack(a);
        assert_eq!(t.take_ready(), None);
        t.ack(a);
        // a, b and the empty c are all done.
        assert_eq!(t.take_ready(), Some(pos(30)));
        assert_eq!(t.in_flight(), 0);
        let _ = c;
    }

    #[test]
    fn failure_freezes_the_position() {
        let t = Tracker::new();
        let a = t.register(1, pos(10));
        t.fail("broker said no".into());
        t.ack(a);
        assert_eq!(t.take_ready(), None);
        assert!(t.failure().is_some());
    }

    #[test]
    fn empty_batches_complete_at_once() {
        let t = Tracker::new();
        t.register(0, pos(5));
        assert_eq!(t.take_ready(), Some(pos(5)));
    }
}
