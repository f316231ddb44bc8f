//! A channel bounded by bytes as well as by item count: a transaction of
//! large rows must not buffer gigabytes just because the count limit is far.
//!
//! The sender acquires permits for an item's size before sending; the
//! receiver gives them back when it is done with the item.

use std::sync::Arc;

use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

/// Anything that knows its size in bytes.
pub trait Sized_ {
    fn size_bytes(&self) -> usize;
}

pub struct Sender<T> {
    tx: mpsc::Sender<(T, OwnedSemaphorePermit)>,
    budget: Arc<Semaphore>,
    max_bytes: usize,
}

pub struct Receiver<T> {
    rx: mpsc::Receiver<(T, OwnedSemaphorePermit)>,
    budget: Arc<Semaphore>,
    max_bytes: usize,
}

/// Creates a channel holding at most `max_items` items and `max_bytes` bytes
/// (an item larger than `max_bytes` alone is let through when the channel
/// is empty, so it cannot deadlock).
pub fn bounded<T>(max_items: usize, max_bytes: usize) -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = mpsc::channel(max_items.max(1));
    let max_bytes = max_bytes.clamp(1, Semaphore::MAX_PERMITS);
    let budget = Arc::new(Semaphore::new(max_bytes));
    (
        Sender { tx, budget: budget.clone(), max_bytes },
        Receiver { rx, budget, max_bytes },
    )
}

impl<T: Sized_> Sender<T> {
    /// Waits for room, then sends. `Err` gives the item back when the
    /// receiver is gone.
    pub async fn send(&self, item: T) -> Result<(), T> {
        let want = item.size_bytes().clamp(1, self.max_bytes) as u32;
        let permit = match self.budget.clone().acquire_many_owned(want).await {
            Ok(p) => p,
            Err(_) => return Err(item),
        };
        self.tx.send((item, permit)).await.map_err(|e| e.0 .0)
    }

    /// Bytes currently queued.
    pub fn queued_bytes(&self) -> usize {
        self.max_bytes - self.budget.available_permits()
    }

    /// Items currently queued.
    pub fn queued_items(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }
}

impl<T> Receiver<T> {
    /// The next item; its bytes are released when the returned guard drops.
    pub async fn recv(&mut self) -> Option<(T, OwnedSemaphorePermit)> {
        self.rx.recv().await
    }

    pub fn try_recv(&mut self) -> Option<(T, OwnedSemaphorePermit)> {
        self.rx.try_recv().ok()
    }

    pub fn queued_bytes(&self) -> usize {
        self.max_bytes - self.budget.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Item(usize);
    impl Sized_ for Item {
        fn size_bytes(&self) -> usize {
            self.0
        }
    }

    #[tokio::test]
    async fn blocks_on_bytes_and_releases_on_drop() {
        let (tx, mut rx) = bounded::<Item>(100, 10);
        tx.send(Item(6)).await.ok();
        assert_eq!(tx.queued_bytes(), 6);
        // A second 6-byte item does not fit until the first is released.
        assert!(futures_util::FutureExt::now_or_never(tx.send(Item(6))).is_none());
        let (item, permit) = rx.recv().await.expect("item");
        assert_eq!(item.0, 6);
        drop(permit);
        tx.send(Item(6)).await.ok();
        // An oversized item passes once the channel is empty.
        let (_i, p) = rx.recv().await.expect("item");
        drop(p);
        tx.send(Item(1000)).await.ok();
        assert_eq!(rx.queued_bytes(), 10);
    }
}
