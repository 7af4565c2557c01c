//! Encoding on every core: [`run_shares`] runs one batch's work, shared
//! out, on the encoding threads at once (never on the runtime's: a batch
//! encoding there would stall the uploads and the query meanwhile), and
//! [`workers`] says how many shares to make. Parquet shares a batch's
//! columns ([`super::parquet`]), CSV its rows ([`super::csv`]); both wait
//! for every share before the write returns, so no batch is queued ahead
//! of the encoders (the query's own batches made ahead stay within
//! [`super::read_ahead::AHEAD_BYTES`]) and memory stays what one batch's
//! encoding needs.
//!
//! The encoding threads are a fixed set, one per core, started on first
//! use and kept: glibc gives each thread that allocates a malloc arena of
//! its own, which keeps what was freed in it, so the threads that ever
//! encoded set how much memory stays held. Shares run on the runtime's
//! blocking threads (`spawn_blocking`) spread over whichever were idle,
//! dozens when many files ended at once: peak RSS was up 25-35%.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, LazyLock, Mutex};

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

/// A share's work, sent to the encoding threads.
type Job = Box<dyn FnOnce() + Send>;

/// The encoding threads' queue: one thread per core, started on first
/// use; `None` when not one could be started.
fn encoding_threads() -> Option<&'static Sender<Job>> {
    static THREADS: LazyLock<Option<Sender<Job>>> = LazyLock::new(|| {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let started = (0..cores)
            .filter(|n| {
                let queue = Arc::clone(&queue);
                std::thread::Builder::new()
                    .name(format!("s3sql-encode-{n}"))
                    .spawn(move || run_jobs(&queue))
                    .is_ok()
            })
            .count();
        (started > 0).then_some(jobs)
    });
    THREADS.as_ref()
}

/// An encoding thread: runs the jobs queued, one after another, for as
/// long as the process lives.
fn run_jobs(queue: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for the next job.
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// Runs `work` on each share, on the encoding threads, all at the same
/// time as far as there are threads; their results in the shares' order.
/// The caller's task waits without holding the runtime's thread, so
/// uploads and the query producing the next batch go on. Every share is
/// waited for, also after one failed; the first failure (or panic, which
/// leaves the thread running) is the answer.
pub(crate) async fn run_shares<S, T, F>(shares: Vec<S>, work: F) -> Result<Vec<T>>
where
    S: Send + 'static,
    T: Send + 'static,
    F: Fn(S) -> Result<T> + Send + Sync + Copy + 'static,
{
    let Some(threads) = encoding_threads() else {
        return Err(DataFusionError::Execution(
            "could not start the threads that encode a COPY's files: the system refused new threads".into(),
        )
        .into());
    };
    let mut running = Vec::with_capacity(shares.len());
    for share in shares {
        let (done, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(share)));
            // The COPY may have stopped waiting (Ctrl-C): nobody to tell.
            let _ = done.send(result);
        });
        if threads.send(job).is_err() {
            return Err(DataFusionError::Execution(
                "the threads that encode a COPY's files stopped".into(),
            )
            .into());
        }
        running.push(answer);
    }
    let mut results = Vec::with_capacity(running.len());
    let mut failed = None;
    for answer in running {
        match answer.await {
            Ok(Ok(Ok(t))) => results.push(t),
            Ok(Ok(Err(e))) => {
                failed.get_or_insert(e);
            }
            Ok(Err(panic)) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                failed.get_or_insert(
                    DataFusionError::Execution(format!(
                        "a COPY encoding thread panicked: {message}"
                    ))
                    .into(),
                );
            }
            Err(_) => {
                failed.get_or_insert(
                    DataFusionError::Execution("a COPY encoding share was dropped".into()).into(),
                );
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

    /// However many batches encode at once (16 files ending together),
    /// their shares run on a fixed set of threads, one per core: each
    /// thread that encodes keeps a malloc arena of its own holding what it
    /// freed. On `spawn_blocking` they ran on dozens of threads (peak RSS
    /// up 25-35% for one Parquet file, review-9b #5).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shares_run_on_one_thread_per_core_however_many_batches_encode() {
        use std::collections::HashSet;
        use std::sync::{Arc, Mutex};
        let threads = Arc::new(Mutex::new(HashSet::new()));
        let batches = (0..16).map(|_| {
            let shares = (0..4).map(|_| Arc::clone(&threads)).collect();
            run_shares(shares, |threads: Arc<Mutex<HashSet<_>>>| {
                threads.lock().unwrap().insert(std::thread::current().id());
                std::thread::sleep(std::time::Duration::from_millis(20));
                Ok(())
            })
        });
        for done in futures::future::join_all(batches).await {
            done.unwrap();
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let used = threads.lock().unwrap().len();
        assert!(used <= cores, "shares ran on {used} threads, {cores} cores");
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
