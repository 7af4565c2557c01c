//! Encoding on every core: [`run_shares`] runs one batch's work, shared
//! out, on blocking threads at once (never on the runtime's: a batch
//! encoding there would stall the uploads and the query meanwhile), and
//! [`workers`] says how many shares to make. Parquet shares a batch's
//! columns ([`super::parquet`]), CSV its rows ([`super::csv`]); both wait
//! for every share before the write returns, so no batch is queued ahead
//! of the encoders and memory stays what one batch's encoding needs.

use std::sync::LazyLock;

use datafusion::error::DataFusionError;

use crate::error::Result;

/// Rows below which a batch is encoded in one share, on one thread:
/// handing its parts to other threads would cost more than it saves.
pub(crate) const PARALLEL_ROWS: usize = 512;

/// Shares to make of a batch's work: the cores available.
pub(crate) fn workers() -> usize {
    static CORES: LazyLock<usize> =
        LazyLock::new(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    #[cfg(test)]
    if let n @ 1.. = TEST_WORKERS.load(std::sync::atomic::Ordering::Relaxed) {
        return n;
    }
    *CORES
}

/// Tests set the share count here (0: the cores), so the shared-out paths
/// run on a one-core machine too. Any count gives the same bytes, so
/// tests running at the same time are not disturbed.
#[cfg(test)]
pub(crate) static TEST_WORKERS: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

/// Shares to make of a batch of `rows`: one when it is small.
pub(crate) fn shares_for(rows: usize) -> usize {
    if rows < PARALLEL_ROWS { 1 } else { workers() }
}

/// Runs `work` on each share, each on a blocking thread, all at the same
/// time; their results in the shares' order. The caller's task waits
/// without holding the runtime's thread, so uploads and the query
/// producing the next batch go on. Every share is waited for, also after
/// one failed; the first failure (or panic) is the answer.
pub(crate) async fn run_shares<S, T, F>(shares: Vec<S>, work: F) -> Result<Vec<T>>
where
    S: Send + 'static,
    T: Send + 'static,
    F: Fn(S) -> Result<T> + Send + Sync + Copy + 'static,
{
    let running: Vec<_> = shares
        .into_iter()
        .map(|share| tokio::task::spawn_blocking(move || work(share)))
        .collect();
    let mut results = Vec::with_capacity(running.len());
    let mut failed = None;
    for handle in running {
        match handle.await {
            Ok(Ok(t)) => results.push(t),
            Ok(Err(e)) => {
                failed.get_or_insert(e);
            }
            Err(join) => {
                failed.get_or_insert(DataFusionError::ExecutionJoin(Box::new(join)).into());
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(results),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// While shares encode, the runtime's thread stays free: a task
    /// spawned on a one-thread runtime (uploads, the query producing
    /// batches) runs before the only share, which waits for it, ends. A
    /// share run on the runtime's thread would starve the task and time
    /// out.
    #[tokio::test(flavor = "current_thread")]
    async fn the_runtime_runs_other_tasks_while_shares_encode() {
        let (ran, wait) = std::sync::mpsc::channel::<()>();
        let task = tokio::spawn(async move { ran.send(()).unwrap() });
        run_shares(vec![wait], |wait| {
            wait.recv_timeout(std::time::Duration::from_secs(20))
                .map_err(|e| {
                    DataFusionError::Execution(format!("the runtime's task did not run: {e}"))
                        .into()
                })
        })
        .await
        .unwrap();
        task.await.unwrap();
    }

    /// Results in the shares' order; a failing share fails the whole
    /// after the others ran; a panicking one too, without unwinding
    /// into the caller.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shares_run_in_order_and_any_failure_fails_the_whole() {
        let squares = run_shares((0..5u64).collect(), |n| Ok(n * n))
            .await
            .unwrap();
        assert_eq!(squares, [0, 1, 4, 9, 16]);

        let ran = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let shares: Vec<_> = (0..4).map(|n| (n, ran.clone())).collect();
        let failed = run_shares(shares, |(n, ran)| {
            ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n == 2 {
                return Err(DataFusionError::Execution("share 2".into()).into());
            }
            Ok(n)
        })
        .await
        .unwrap_err();
        assert!(failed.to_string().contains("share 2"), "{failed}");
        assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 4);

        let panicked = run_shares(vec![0, 1], |n: i32| {
            assert!(n == 0, "share {n} panics");
            Ok(n)
        })
        .await
        .unwrap_err();
        assert!(
            panicked.to_string().contains("share 1 panics"),
            "{panicked}"
        );
        // The first share too: it was run on the caller's thread and its
        // panic unwound through the COPY (review-9b #6).
        let panicked = run_shares(vec![0, 1], |n: i32| {
            assert!(n == 1, "share {n} panics");
            Ok(n)
        })
        .await
        .unwrap_err();
        assert!(
            panicked.to_string().contains("share 0 panics"),
            "{panicked}"
        );
    }
}
