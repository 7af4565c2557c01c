//! [`ScanMonitor`]: what a front end sees of the running statement's scans
//! (objects to read and their size, bytes read so far, requests sent), for
//! a progress bar; as [`crate::CopyMonitor`] is for COPY.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::scan::scan_store::ReadStats;

/// Progress of the running (or last) statement's scans.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanProgress {
    /// Objects the statement's planned scans read (matched files left
    /// after hive partition pruning; counted when a scan is planned, so
    /// `EXPLAIN` counts them too).
    pub objects: u64,
    /// Their total size, from the listing.
    pub object_bytes: u64,
    /// Bytes of object data received so far (objects on S3; local files
    /// are not counted).
    pub bytes_read: u64,
    /// HTTP requests sent so far for these objects, planning included.
    pub requests: u64,
}

/// A session's handle on its statements' scans; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ScanMonitor(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    objects: AtomicU64,
    object_bytes: AtomicU64,
    reads: Mutex<Vec<ReadStats>>,
}

impl ScanMonitor {
    /// The running (or last) statement's progress.
    pub fn progress(&self) -> ScanProgress {
        let reads = self.0.reads.lock().unwrap_or_else(|p| p.into_inner());
        ScanProgress {
            objects: self.0.objects.load(Ordering::Relaxed),
            object_bytes: self.0.object_bytes.load(Ordering::Relaxed),
            bytes_read: reads.iter().map(ReadStats::bytes).sum(),
            requests: reads.iter().map(ReadStats::requests).sum(),
        }
    }

    /// A new statement starts: the counters go back to zero.
    pub(crate) fn restart(&self) {
        self.0.objects.store(0, Ordering::Relaxed);
        self.0.object_bytes.store(0, Ordering::Relaxed);
        self.0
            .reads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// A scan of the statement will read `objects` objects of `bytes`
    /// bytes in all.
    pub(crate) fn add_objects(&self, objects: u64, bytes: u64) {
        self.0.objects.fetch_add(objects, Ordering::Relaxed);
        self.0.object_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// A scan's stores, whose counters grow as it reads.
    pub(crate) fn watch(&self, reads: &[ReadStats]) {
        self.0
            .reads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(reads);
    }
}
