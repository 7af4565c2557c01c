//! [`CopyMonitor`]: what a front end sees of a session's COPY statements
//! while they run (rows, files and bytes so far, for a progress bar) and
//! how it stops one (Ctrl-C): [`CopyMonitor::interrupt`] makes the running
//! COPY stop reading, abort every upload not complete (awaited) and fail
//! with [`CopyError::Interrupted`]. The wait for the query's next rows,
//! a write (encoding, or waiting for a part to upload) and a file's end
//! (its last rows, its last parts uploading) stop at once: the upload
//! writer keeps the id of an upload a dropped write was starting, and the
//! file is then aborted, so no object is made. Only a completion already
//! sent (CompleteMultipartUpload, or a small file's PutObject) is let
//! finish: the object may exist already, and aborting could not undo it.
//! A second Ctrl-C stops waiting for the aborts: the monitor knows each
//! file's upload ([`OpenUploads`]), so [`CopyMonitor::interrupted_twice`]
//! names the ones that may stay open.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use futures::future::{Either, select};
use tokio::sync::watch;

use super::error::CopyError;
use super::open_uploads::OpenUploads;
use crate::error::Result;

/// Progress of the running (or last) COPY.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyProgress {
    /// Rows encoded so far.
    pub rows: u64,
    /// Files complete so far.
    pub files: u64,
    /// Bytes stored so far: uploaded (each part, or a small file's
    /// PutObject, once S3 acknowledged it), or written to local files.
    pub bytes: u64,
    /// Bytes encoded so far, handed to the uploads or files: ahead of
    /// `bytes` by what is still in memory or on its way to S3.
    pub encoded: u64,
    /// Whether the files go to S3 (`bytes` are uploaded), not to local files.
    pub uploading: bool,
}

/// A session's handle on its COPY statements; cheap to clone.
#[derive(Debug, Clone)]
pub struct CopyMonitor(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    running: AtomicBool,
    rows: AtomicU64,
    files: AtomicU64,
    /// Bytes encoded (handed to the files).
    encoded: AtomicU64,
    /// Whether the files go to S3.
    uploading: AtomicBool,
    /// The most bytes the open files' parts being filled held together.
    peak_filling: AtomicU64,
    interrupted: watch::Sender<bool>,
    /// The uploads of the running statement's S3 files.
    uploads: OpenUploads,
    /// The running statement, as [`CopyMonitor::interrupted_twice`] names
    /// it: `None` for a COPY, the table of an INSERT.
    insert: std::sync::Mutex<Option<String>>,
}

impl Default for CopyMonitor {
    fn default() -> Self {
        Self(Arc::new(Inner {
            running: AtomicBool::new(false),
            rows: AtomicU64::new(0),
            files: AtomicU64::new(0),
            encoded: AtomicU64::new(0),
            uploading: AtomicBool::new(false),
            peak_filling: AtomicU64::new(0),
            interrupted: watch::Sender::new(false),
            uploads: OpenUploads::default(),
            insert: std::sync::Mutex::new(None),
        }))
    }
}

impl CopyMonitor {
    /// Asks the running COPY to stop; it aborts its uploads and fails.
    /// Nothing happens when no COPY runs.
    pub fn interrupt(&self) {
        if self.is_running() {
            self.0.interrupted.send_replace(true);
        }
    }

    /// Whether a COPY is running now.
    pub fn is_running(&self) -> bool {
        self.0.running.load(Ordering::SeqCst)
    }

    /// The running (or last) COPY's progress.
    pub fn progress(&self) -> CopyProgress {
        CopyProgress {
            rows: self.0.rows.load(Ordering::Relaxed),
            files: self.0.files.load(Ordering::Relaxed),
            bytes: self.0.uploads.stored(),
            encoded: self.0.encoded.load(Ordering::Relaxed),
            uploading: self.0.uploading.load(Ordering::Relaxed),
        }
    }

    /// What a second Ctrl-C, which stops without waiting for the running
    /// statement's uploads to be aborted, leaves: the statement (a COPY,
    /// or an INSERT into a MindsDB table, whose object is then as it was
    /// unless its completion was sent) and each upload that may stay
    /// open, by URL and upload id, with how to abort it.
    pub fn interrupted_twice(&self) -> String {
        let left = self.0.uploads.left_behind();
        let insert = self.insert().clone();
        let head = match insert {
            Some(table) if self.0.uploads.completing() => format!(
                "INSERT INTO {table}: interrupted twice: stopped without waiting for the new version's write, whose completion was sent: the object may be the new version, with the rows inserted (SELECT to see)"
            ),
            Some(table) => format!(
                "INSERT INTO {table}: interrupted twice: stopped without waiting for the new version's upload to be aborted; the object is as it was"
            ),
            None => "COPY interrupted twice: stopped without waiting for its uploads to be aborted"
                .to_owned(),
        };
        match left {
            Some(left) => format!("{head}; {left}"),
            None => format!("{head}; no upload had started, so none stays open"),
        }
    }

    /// What to tell the user when the running statement completed
    /// although Ctrl-C asked it to stop (its completion was under way).
    pub fn complete_before_interrupt(&self) -> String {
        match self.insert().as_deref() {
            Some(table) => format!(
                "INSERT INTO {table} complete before the interrupt took effect: its rows are in the object"
            ),
            None => "COPY complete before the interrupt took effect".to_owned(),
        }
    }

    /// The table of the running INSERT; `None` for a COPY.
    fn insert(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        // Nothing panics holding the lock; a poisoned one still holds data.
        self.0
            .insert
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The uploads of the running statement's S3 files.
    pub(crate) fn uploads(&self) -> &OpenUploads {
        &self.0.uploads
    }

    /// Marks an INSERT into `table` (a MindsDB table, as written) as
    /// running, as [`Self::start`] a COPY.
    pub(crate) fn start_insert(&self, table: &str) -> RunningCopy<'_> {
        let running = self.start();
        *self.insert() = Some(table.to_owned());
        self.set_uploading(true);
        running
    }

    /// Notes whether the running statement's files go to S3.
    pub(crate) fn set_uploading(&self, uploading: bool) {
        self.0.uploading.store(uploading, Ordering::Relaxed);
    }

    /// Marks a COPY as running, its counters at zero, until the guard drops.
    pub(crate) fn start(&self) -> RunningCopy<'_> {
        *self.insert() = None;
        self.0.rows.store(0, Ordering::Relaxed);
        self.0.files.store(0, Ordering::Relaxed);
        self.0.encoded.store(0, Ordering::Relaxed);
        self.0.uploads.reset_stored();
        self.0.uploading.store(false, Ordering::Relaxed);
        self.0.interrupted.send_replace(false);
        self.0.running.store(true, Ordering::SeqCst);
        RunningCopy(self)
    }

    pub(crate) fn add_rows(&self, n: u64) {
        self.0.rows.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_file(&self) {
        self.0.files.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n` bytes encoded and handed to a file.
    pub(crate) fn add_bytes(&self, n: u64) {
        self.0.encoded.fetch_add(n, Ordering::Relaxed);
    }

    /// Notes the bytes the open files' parts being filled hold together.
    pub(crate) fn note_filling(&self, bytes: usize) {
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        self.0.peak_filling.fetch_max(bytes, Ordering::Relaxed);
    }

    /// The most bytes the open files' parts being filled held together.
    #[cfg(test)]
    pub(crate) fn peak_filling(&self) -> u64 {
        self.0.peak_filling.load(Ordering::Relaxed)
    }

    /// An error when an interrupt came.
    pub(crate) fn check_interrupt(&self) -> Result<()> {
        if *self.0.interrupted.borrow() {
            return Err(CopyError::Interrupted.into());
        }
        Ok(())
    }

    /// `work`, unless an interrupt comes first: then `work` is dropped
    /// (so only work that may stop anywhere goes here: reading the query,
    /// a file's write, its parts uploading, never an upload's completion)
    /// and the COPY fails. The interrupt is looked at first: work that
    /// would end at its first poll (a small file's end, all in memory)
    /// does not run once it came.
    pub(crate) async fn unless_interrupted<T>(
        &self,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let mut interrupted = self.0.interrupted.subscribe();
        let signal = async move {
            // Err only when the sender is gone, which `self` prevents.
            let _ = interrupted.wait_for(|i| *i).await;
        };
        match select(std::pin::pin!(signal), std::pin::pin!(work)).await {
            Either::Left(_) => Err(CopyError::Interrupted.into()),
            Either::Right((done, _)) => done,
        }
    }
}

/// Ends the running mark of a COPY when dropped.
#[derive(Debug)]
pub(crate) struct RunningCopy<'a>(&'a CopyMonitor);

impl Drop for RunningCopy<'_> {
    fn drop(&mut self) {
        self.0.0.running.store(false, Ordering::SeqCst);
        self.0.0.interrupted.send_replace(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An INSERT's second Ctrl-C is told in INSERT's words, naming its
    /// table; a COPY's in COPY's (review-10f #5).
    #[test]
    fn the_running_statement_is_named_in_its_own_words() {
        let monitor = CopyMonitor::default();
        {
            let _running = monitor.start_insert("m.`big.csv`");
            let said = monitor.interrupted_twice();
            assert!(
                said.starts_with("INSERT INTO m.`big.csv`: interrupted twice: ")
                    && said.ends_with("no upload had started, so none stays open")
                    && !said.contains("COPY"),
                "{said}"
            );
            assert!(
                monitor
                    .complete_before_interrupt()
                    .starts_with("INSERT INTO m.`big.csv` complete"),
            );
            let open = monitor.uploads().open("b", "big.csv");
            open.started(Some("UP"));
            open.completing();
            let said = monitor.interrupted_twice();
            assert!(
                said.contains("the object may be the new version")
                    && said.contains("upload UP of s3://b/big.csv was being completed"),
                "{said}"
            );
        }
        let _running = monitor.start();
        let open = monitor.uploads().open("b", "out.csv");
        open.started(Some("UP"));
        let said = monitor.interrupted_twice();
        assert!(
            said.starts_with("COPY interrupted twice: ")
                && said.contains("upload UP of s3://b/out.csv may stay open"),
            "{said}"
        );
    }
}
