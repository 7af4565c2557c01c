//! CSV files split into byte ranges, each range moved to start and end at
//! a record start. DataFusion splits a big file into ranges read in
//! parallel, each beginning after the first line end past its offset; in a
//! dialect with a quote character that line end may be inside a quoted
//! value, anywhere in the file, where no sample looked. One task per file
//! reads its bytes up to the last split offset (a few pieces fetched at
//! once) through `s3sql_formats::RecordStarts` (arrow-csv's own tokenizer;
//! quote-free stretches at memchr's speed), and the ranges then read
//! exactly the records a read of the whole file gives.
//!
//! No range waits for that task to start: each is read at once from where
//! DataFusion's reader puts it, its batches kept (up to [`HELD_BYTES`])
//! until the task has passed its offsets. Where the record starts are
//! DataFusion's (always, in a file without a quote before them), the kept
//! batches go on; otherwise they are dropped and the range is read again
//! from its record starts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::RecordBatch;
use datafusion::common::config::CsvOptions;
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileOpenFuture, FileScanConfig};
use futures::StreamExt;
use futures::future::{Either, select};
use futures::stream::{self, BoxStream};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use s3sql_formats::RecordStarts;
use tokio::sync::watch;
use tokio::task::AbortHandle;

/// Bytes read past the last split offset at a time while its record start
/// is not found (a quoted value longer than this takes more reads).
const LOOKAHEAD: u64 = 1 << 20;

/// The bytes before the last split offset are fetched in pieces of this
/// size, [`FETCHES`] at once.
const PIECE: u64 = 4 << 20;
const FETCHES: usize = 3;

/// At most this many bytes of a range's batches are kept while its record
/// starts are not known; past them the range waits for them.
const HELD_BYTES: usize = 32 << 20;

/// The record starts of one scan's split CSV files.
#[derive(Debug)]
pub(crate) struct CsvRanges {
    options: CsvOptions,
    files: Mutex<HashMap<Path, FileStarts>>,
}

/// One file's split offsets, and once a range of it is opened, the task
/// finding their record starts.
#[derive(Debug)]
struct FileStarts {
    targets: Vec<u64>,
    finding: Option<(watch::Receiver<Found>, AbortHandle)>,
}

/// What the task found so far: the record start of each of the first
/// split offsets, where DataFusion's reader starts a range at each
/// (`RecordStarts::naive`, at least as many), or why it stopped.
#[derive(Debug, Clone, Default)]
struct Found {
    starts: Vec<u64>,
    naive: Vec<u64>,
    failed: Option<Arc<DataFusionError>>,
}

impl CsvRanges {
    /// The ranges of files read with `options`; `None` when the dialect
    /// has no quote character (every line end then ends a record).
    pub(crate) fn new(options: &CsvOptions) -> Option<Arc<Self>> {
        RecordStarts::new(options, Vec::new())?;
        Some(Arc::new(Self {
            options: options.clone(),
            files: Mutex::default(),
        }))
    }

    /// Notes the split offsets of every file `config` reads in ranges.
    pub(crate) fn plan(&self, config: &FileScanConfig) {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        for file in config.file_groups.iter().flat_map(|g| g.iter()) {
            let Some(range) = &file.range else { continue };
            let size = file.object_meta.size;
            let entry = files
                .entry(file.object_meta.location.clone())
                .or_insert_with(|| FileStarts {
                    targets: Vec::new(),
                    finding: None,
                });
            if entry.finding.is_some() {
                continue;
            }
            for offset in [range.start, range.end] {
                if let Ok(offset) = u64::try_from(offset)
                    && offset > 0
                    && offset < size
                    && !entry.targets.contains(&offset)
                {
                    entry.targets.push(offset);
                }
            }
            entry.targets.sort_unstable();
        }
    }

    /// `file` read in its byte range, with the offset of its first record:
    /// read at once from where the opener of `open` (DataFusion's) starts
    /// and ends it, its batches kept until its record starts are found,
    /// then given on where they are the same, else read again from them.
    pub(crate) async fn read(
        &self,
        store: &Arc<dyn ObjectStore>,
        file: PartitionedFile,
        open: impl Fn(PartitionedFile) -> Result<FileOpenFuture>,
    ) -> Result<(BoxStream<'static, Result<RecordBatch>>, u64)> {
        let mut aligned = std::pin::pin!(self.align(store, file.clone()));
        let mut opening = std::pin::pin!(async { open(file)?.await });
        let mut read: Option<BoxStream<'static, Result<RecordBatch>>> = None;
        let (mut held, mut held_bytes, mut ended) = (Vec::new(), 0, false);
        let (file, same) = loop {
            if ended || held_bytes >= HELD_BYTES {
                break aligned.as_mut().await?;
            }
            let next = match &mut read {
                None => match select(aligned.as_mut(), opening.as_mut()).await {
                    Either::Left((found, _)) => break found?,
                    Either::Right((opened, _)) => {
                        match opened {
                            Ok(stream) => read = Some(stream),
                            Err(e) => {
                                held.push(Err(e));
                                ended = true;
                            }
                        }
                        continue;
                    }
                },
                Some(stream) => match select(aligned.as_mut(), stream.next()).await {
                    Either::Left((found, _)) => break found?,
                    Either::Right((next, _)) => next,
                },
            };
            match next {
                Some(Ok(batch)) => {
                    held_bytes += batch.get_array_memory_size();
                    held.push(Ok(batch));
                }
                Some(Err(e)) => {
                    held.push(Err(e));
                    ended = true;
                }
                None => ended = true,
            }
        };
        let start = file
            .range
            .as_ref()
            .map_or(0, |r| u64::try_from(r.start).unwrap_or(0));
        if !same {
            drop(read);
            return Ok((open(file)?.await?, start));
        }
        let rest = match (ended, read) {
            (true, _) => stream::empty().boxed(),
            (false, Some(stream)) => stream,
            (false, None) => opening.await?,
        };
        Ok((stream::iter(held).chain(rest).boxed(), start))
    }

    /// `file` with its range moved to start and end at record starts
    /// (unchanged without a range), once they are found, and whether they
    /// are where DataFusion's reader starts and ends the range.
    async fn align(
        &self,
        store: &Arc<dyn ObjectStore>,
        mut file: PartitionedFile,
    ) -> Result<(PartitionedFile, bool)> {
        let Some(range) = file.range.clone() else {
            return Ok((file, true));
        };
        let size = file.object_meta.size;
        let (targets, mut found) = self.finding(store, &file)?;
        let index = |offset: i64| -> Result<Option<usize>> {
            let offset = u64::try_from(offset).unwrap_or(0);
            if offset == 0 || offset >= size {
                return Ok(None);
            }
            targets.binary_search(&offset).map(Some).map_err(|_| {
                DataFusionError::Internal(format!(
                    "byte range offset {offset} of {} was not planned",
                    file.object_meta.location
                ))
            })
        };
        let (start, end) = (index(range.start)?, index(range.end)?);
        let needed = start.max(end).map_or(0, |i| i + 1);
        let seen = found
            .wait_for(|f| f.failed.is_some() || f.starts.len() >= needed)
            .await
            .map_err(|_| DataFusionError::Internal("the record start finder stopped".to_owned()))?;
        if let Some(e) = &seen.failed {
            return Err(DataFusionError::Shared(Arc::clone(e)));
        }
        let same = [start, end]
            .into_iter()
            .flatten()
            .all(|i| seen.naive.get(i) == Some(&seen.starts[i]));
        let moved = |offset: i64, at: Option<usize>| match at {
            Some(i) => i64::try_from(seen.starts[i]).unwrap_or(offset),
            None => offset,
        };
        let (start, end) = (moved(range.start, start), moved(range.end, end));
        drop(seen);
        file.range = Some(datafusion::datasource::listing::FileRange { start, end });
        Ok((file, same))
    }

    /// `file`'s split offsets and what their task found, the task started
    /// by the first range opened.
    fn finding(
        &self,
        store: &Arc<dyn ObjectStore>,
        file: &PartitionedFile,
    ) -> Result<(Vec<u64>, watch::Receiver<Found>)> {
        let location = &file.object_meta.location;
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        let entry = files.get_mut(location).ok_or_else(|| {
            DataFusionError::Internal(format!("the byte ranges of {location} were not planned"))
        })?;
        let receiver = match &entry.finding {
            Some((receiver, _)) => receiver.clone(),
            None => {
                let starts =
                    RecordStarts::new(&self.options, entry.targets.clone()).ok_or_else(|| {
                        DataFusionError::Internal(
                            "a CSV dialect without a quote needs no record starts".to_owned(),
                        )
                    })?;
                let (sender, receiver) = watch::channel(Found::default());
                let task = tokio::spawn(find(
                    Arc::clone(store),
                    location.clone(),
                    file.object_meta.size,
                    starts,
                    sender,
                ));
                entry.finding = Some((receiver.clone(), task.abort_handle()));
                receiver
            }
        };
        Ok((entry.targets.clone(), receiver))
    }
}

impl Drop for CsvRanges {
    /// A statement dropped (or cancelled) stops its files' reads.
    fn drop(&mut self) {
        let files = self.files.get_mut().unwrap_or_else(|e| e.into_inner());
        for (_, task) in files.values().filter_map(|f| f.finding.as_ref()) {
            task.abort();
        }
    }
}

/// Reads `location` (of `size` bytes) from its start until `starts` has
/// every record start, telling `sender` each one found.
async fn find(
    store: Arc<dyn ObjectStore>,
    location: Path,
    size: u64,
    mut starts: RecordStarts,
    sender: watch::Sender<Found>,
) {
    let result = async {
        while !starts.done() && starts.position() < size {
            let from = starts.position();
            let last = starts.targets().last().copied().unwrap_or(0);
            let to = size.min(last.max(from).saturating_add(LOOKAHEAD));
            let pieces = (from..to)
                .step_by(usize::try_from(PIECE).unwrap_or(usize::MAX))
                .map(|at| at..to.min(at.saturating_add(PIECE)));
            let mut bodies = stream::iter(pieces)
                .map(|piece| store.get_range(&location, piece))
                .buffered(FETCHES);
            while let Some(piece) = bodies.next().await {
                let before = starts.found().len();
                starts.feed(&piece?);
                if starts.found().len() > before {
                    let (now, naive) = (starts.found().to_vec(), starts.naive().to_vec());
                    sender.send_modify(|f| (f.starts, f.naive) = (now, naive));
                }
                if starts.done() {
                    return Ok(());
                }
            }
        }
        starts.finish(size);
        Ok::<_, DataFusionError>(())
    }
    .await;
    let (found, naive) = (starts.found().to_vec(), starts.naive().to_vec());
    sender.send_modify(|f| {
        (f.starts, f.naive) = (found, naive);
        f.failed = result.err().map(Arc::new);
    });
}
