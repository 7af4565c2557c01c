//! [`UploadBudget`]: a bound on the bytes of parts uploading at once,
//! shared by as many writers as hold a clone. A caller writing many
//! objects at once (COPY with PARTITION_BY) gives every writer one budget,
//! so the parts they have in flight together stay within it, however many
//! writers there are.
//!
//! A part takes its size from the budget when it is handed to UploadPart
//! and gives it back when that request ends, success or failure. Waiting
//! for the budget therefore never depends on the caller writing to another
//! writer: uploads in flight end on their own, so writers sharing a budget
//! cannot deadlock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};

/// The budget's unit: sizes are rounded up to whole KiB, so a budget of
/// several GiB fits the semaphore's per-acquire count.
const UNIT: u64 = 1024;

/// A byte budget for part uploads in flight; cheap to clone, clones share it.
#[derive(Clone)]
pub struct UploadBudget {
    inner: Arc<BudgetInner>,
}

struct BudgetInner {
    permits: Arc<Semaphore>,
    /// Capacity in units.
    units: u64,
    /// Bytes held by parts in flight now.
    in_use: AtomicU64,
    /// The most bytes ever held at once.
    high_water: AtomicU64,
}

impl std::fmt::Debug for UploadBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadBudget")
            .field("capacity", &self.capacity())
            .field("in_use", &self.in_use())
            .field("high_water", &self.high_water())
            .finish()
    }
}

impl UploadBudget {
    /// A budget of `bytes` (rounded down to whole KiB, at least 1 KiB). A
    /// part larger than the whole budget waits until nothing else is in
    /// flight and then takes all of it, so it still uploads.
    pub fn new(bytes: u64) -> Self {
        let units = (bytes / UNIT).clamp(1, Semaphore::MAX_PERMITS as u64);
        Self {
            inner: Arc::new(BudgetInner {
                // `units` is at most MAX_PERMITS, a usize.
                permits: Arc::new(Semaphore::new(
                    usize::try_from(units).unwrap_or(Semaphore::MAX_PERMITS),
                )),
                units,
                in_use: AtomicU64::new(0),
                high_water: AtomicU64::new(0),
            }),
        }
    }

    /// The budget's size in bytes.
    pub fn capacity(&self) -> u64 {
        self.inner.units * UNIT
    }

    /// Bytes held by parts uploading now.
    pub fn in_use(&self) -> u64 {
        self.inner.in_use.load(Ordering::Relaxed)
    }

    /// The most bytes parts held at once since the budget was made: what
    /// the budget really cost, never more than [`Self::capacity`].
    pub fn high_water(&self) -> u64 {
        self.inner.high_water.load(Ordering::Relaxed)
    }

    /// Waits until `bytes` fit, then holds them until the permit drops.
    pub(crate) async fn acquire(&self, bytes: u64) -> Result<BudgetPermit> {
        let units = bytes
            .div_ceil(UNIT)
            .clamp(1, self.inner.units)
            .min(u64::from(u32::MAX));
        // At most u32::MAX by the line above.
        let count = u32::try_from(units).unwrap_or(u32::MAX);
        let permit = Arc::clone(&self.inner.permits)
            .acquire_many_owned(count)
            .await
            .map_err(|_| Error::InvalidArgument("the upload budget was closed".into()))?;
        let held = units * UNIT;
        let now = self.inner.in_use.fetch_add(held, Ordering::Relaxed) + held;
        self.inner.high_water.fetch_max(now, Ordering::Relaxed);
        Ok(BudgetPermit {
            _permit: permit,
            held,
            budget: Arc::clone(&self.inner),
        })
    }
}

/// Bytes of an [`UploadBudget`] held by one part; given back on drop.
pub(crate) struct BudgetPermit {
    _permit: OwnedSemaphorePermit,
    held: u64,
    budget: Arc<BudgetInner>,
}

impl Drop for BudgetPermit {
    fn drop(&mut self) {
        // Counted down before the semaphore permit (dropped after this
        // body) frees the units, so `in_use` never reads above capacity.
        self.budget.in_use.fetch_sub(self.held, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_part_larger_than_the_budget_takes_all_of_it_and_gives_it_back() {
        let budget = UploadBudget::new(10 * 1024 + 5);
        assert_eq!(budget.capacity(), 10 * 1024);
        let small = budget.acquire(1).await.unwrap();
        assert_eq!(budget.in_use(), 1024, "rounded up to whole KiB");
        drop(small);
        let all = budget.acquire(1 << 40).await.unwrap();
        assert_eq!(budget.in_use(), budget.capacity());
        let waiting = budget.acquire(1);
        tokio::pin!(waiting);
        assert!(
            futures::poll!(waiting.as_mut()).is_pending(),
            "the budget is spent"
        );
        drop(all);
        let _one = waiting.await.unwrap();
        assert_eq!(budget.high_water(), budget.capacity());
        assert_eq!(budget.in_use(), 1024);
    }

    /// A part larger than the budget's free share, waiting while other
    /// parts hold units, is served first in, first out: a part asked for
    /// after it waits behind it even though it would fit, so a stream of
    /// small parts cannot starve a large one (review-11 #14).
    #[tokio::test]
    async fn a_large_part_waiting_is_not_overtaken_by_later_small_ones() {
        let budget = UploadBudget::new(10 * 1024);
        let held = budget.acquire(1024).await.unwrap();
        let large = budget.acquire(10 * 1024);
        tokio::pin!(large);
        assert!(futures::poll!(large.as_mut()).is_pending(), "1 KiB is held");
        let later = budget.acquire(1024);
        tokio::pin!(later);
        assert!(
            futures::poll!(later.as_mut()).is_pending(),
            "a later small part fit in the 9 KiB free, ahead of the large one"
        );
        drop(held);
        let large = large.await.unwrap();
        assert_eq!(budget.in_use(), budget.capacity());
        assert!(
            futures::poll!(later.as_mut()).is_pending(),
            "the budget is spent"
        );
        drop(large);
        let _later = later.await.unwrap();
        assert_eq!(budget.in_use(), 1024);
    }
}
