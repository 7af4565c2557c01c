//! [`write_partitioned`]: a COPY with PARTITION_BY, files per partition.
//!
//! Rows are split by partition and gathered per partition before they are
//! encoded: a partition's rows go to its file once a batch's worth
//! ([`WRITE_ROWS`] rows or [`WRITE_BYTES`]) is gathered, so rows
//! interleaved across many partitions are encoded in whole batches, not a
//! few rows at a time.
//!
//! Memory: at most `partitioned_write_max_open_files` files are open
//! (DuckDB's setting, default 100). A partition without an open file when
//! the cap is reached keeps its rows in memory, and all the rows gathered,
//! over every partition, stay within [`Limits::buffer_bytes`] (default
//! [`BUFFER_BYTES`], 64 MiB) and `partitioned_write_flush_threshold` rows
//! (DuckDB's setting, default 524,288): past either the partition holding
//! the most is written, finishing the least recently written open file to
//! make room (its partition continues in its next file, `data_1`, ...).
//! So rows interleaved over more partitions than the cap make a few files
//! per partition (fewer than DuckDB), not one per batch. The open files'
//! encoders (for Parquet the row groups being built) hold at most
//! [`Limits::encoder_bytes`] together (default [`ENCODER_BYTES`], 32 MiB):
//! past it the biggest row groups are ended early, their bytes handed to
//! the uploads. Each upload fills a part (up to
//! `s3_uploader_max_filesize / s3_uploader_max_parts_per_file`, at least
//! 5 MiB) and keeps no spare one; once the parts being filled hold more
//! than [`Limits::filling_bytes`] together (default [`FILLING_BYTES`],
//! 32 MiB), the biggest are sent early as parts, those of at least 5 MiB
//! (S3's least part but the last), checked after every write: so they
//! hold at most the larger of that and open files × 5 MiB, plus what one
//! write adds (a partition's gathered rows, encoded). Parts in flight draw
//! on one budget shared by every file of the COPY
//! (`s3_uploader_thread_limit` parts, at most 256 MiB; see
//! [`super::target::upload_budget`]). So the bound is 64 MiB + 32 MiB +
//! max(32 MiB, open files × 5 MiB) + budget; encoding a write on every
//! core ([`super::parallel`]) adds nothing to it, the encoders being
//! handed to the threads with the one write and back before it returns.
//! (A file sending parts early under that pressure spends more of its
//! `s3_uploader_max_parts_per_file` part numbers, down to 5 MiB each; its
//! later parts grow, to at most twice the part size, so that it still
//! reaches `s3_uploader_max_filesize`, and once they could not it sends
//! no more early: its part being filled then stays over the bound.)
//!
//! OVERWRITE: a new file never takes the name of a file that was there
//! (its `{i}` goes past it), so no old file is replaced before the COPY
//! succeeded; then the old files are deleted. A failed OVERWRITE deletes
//! the new files it had completed: the target is left as it was.

use std::collections::{HashMap, HashSet};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;
use futures::future::join_all;
use futures::stream::FuturesUnordered;
use s3sql_s3_client::UploadConfig;

use super::error::CopyError;
use super::monitor::CopyMonitor;
use super::options::CopyOptions;
use super::partition::Partitioner;
use super::target::Target;
use super::writer::{FileWriter, next_batch};
use crate::error::Result;

/// Rows a partition gathers before they go to its open file.
pub(crate) const WRITE_ROWS: usize = 2048;

/// Bytes a partition gathers before they go to its open file.
pub(crate) const WRITE_BYTES: usize = 256 * 1024;

/// The default bound on rows gathered in memory, over all partitions.
pub(crate) const BUFFER_BYTES: usize = 64 * 1024 * 1024;

/// The default bound on the open files' encoders, together.
pub(crate) const ENCODER_BYTES: usize = 32 * 1024 * 1024;

/// The default bound on the open files' parts being filled, together.
pub(crate) const FILLING_BYTES: usize = 32 * 1024 * 1024;

/// How many files finish (complete their upload) at once.
const FINISH_CONCURRENCY: usize = 16;

/// The bounds of one partitioned COPY.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Files open at once (`partitioned_write_max_open_files`).
    pub max_open: usize,
    /// Rows gathered in memory, over every partition
    /// (`partitioned_write_flush_threshold`).
    pub buffer_rows: usize,
    /// Bytes of rows gathered in memory, over every partition.
    pub buffer_bytes: usize,
    /// Bytes the open files' encoders hold, together (Parquet's row
    /// groups being built); past it the biggest row groups are ended.
    pub encoder_bytes: usize,
    /// Bytes the open files' parts being filled hold, together; past it
    /// the biggest are sent as parts early.
    pub filling_bytes: usize,
}

impl Limits {
    /// `max_open` files open, DuckDB's default buffer.
    #[cfg(test)]
    pub(crate) fn with_max_open(max_open: usize) -> Self {
        Self {
            max_open,
            buffer_rows: 524_288,
            buffer_bytes: BUFFER_BYTES,
            encoder_bytes: ENCODER_BYTES,
            filling_bytes: FILLING_BYTES,
        }
    }
}

/// Writes `stream` as files per partition under the target within
/// `limits`; returns the rows written. On failure every file not complete
/// is aborted (awaited) and the error names the files that were.
pub(crate) async fn write_partitioned(
    mut stream: SendableRecordBatchStream,
    target: &Target,
    options: &CopyOptions,
    limits: Limits,
    monitor: &CopyMonitor,
) -> Result<u64> {
    let partitioner = Partitioner::new(&stream.schema(), options)?;
    let old = target.prepare_directory(options.existing).await?;
    let overwriting = !old.is_empty();
    let mut files = PartitionFiles {
        target,
        options,
        monitor,
        schema: partitioner.file_schema(),
        max_open: limits.max_open.max(1),
        buffer_rows: limits.buffer_rows,
        buffer_bytes: limits.buffer_bytes,
        encoder_bytes: limits.encoder_bytes,
        filling_bytes: limits.filling_bytes,
        open: HashMap::new(),
        gathered: HashMap::new(),
        gathered_rows: 0,
        gathered_bytes: 0,
        old: old.iter().cloned().collect(),
        next_index: HashMap::new(),
        tick: 0,
        started: HashSet::new(),
        finished: Vec::new(),
        rows: 0,
        not_aborted: Vec::new(),
    };
    let written = async {
        while let Some(batch) = next_batch(&mut stream, monitor).await? {
            for (directory, part) in partitioner.split(&batch)? {
                files.add(directory, part).await?;
            }
            files.relieve().await?;
        }
        files.finish_all().await
    }
    .await;
    if let Err(e) = written {
        files.abort_open().await;
        if overwriting {
            return Err(files.undo_overwrite(e).await);
        }
        return Err(files.failed(e));
    }
    if let Err(e) = target.remove_stale(old, &files.started).await {
        return Err(files.failed(e));
    }
    Ok(files.rows)
}

/// An open file: its writer, its name under the target, and when its
/// partition last received rows.
struct OpenFile {
    file: FileWriter,
    name: String,
    last: u64,
}

/// Rows of one partition not yet encoded.
#[derive(Default)]
struct Gathered {
    batches: Vec<RecordBatch>,
    rows: usize,
    bytes: usize,
}

/// A partitioned COPY's files: the open ones (at most `max_open`), the rows
/// gathered per partition, and what was started and finished.
struct PartitionFiles<'a> {
    target: &'a Target,
    options: &'a CopyOptions,
    monitor: &'a CopyMonitor,
    schema: SchemaRef,
    max_open: usize,
    buffer_rows: usize,
    buffer_bytes: usize,
    encoder_bytes: usize,
    filling_bytes: usize,
    /// Directory → its open file.
    open: HashMap<String, OpenFile>,
    /// Directory → its rows not yet encoded.
    gathered: HashMap<String, Gathered>,
    /// Rows and bytes of every partition's gathered rows.
    gathered_rows: usize,
    gathered_bytes: usize,
    /// The files there before an OVERWRITE, relative to the target: names
    /// a new file must not take.
    old: HashSet<String>,
    /// Directory → the `{i}` of its next file.
    next_index: HashMap<String, u32>,
    tick: u64,
    /// Every file started, relative to the target (for OVERWRITE).
    started: HashSet<String>,
    /// The files complete so far, relative to the target.
    finished: Vec<String>,
    /// Rows in the files complete so far.
    rows: u64,
    /// Files whose abort failed, described (uploads left open).
    not_aborted: Vec<String>,
}

impl PartitionFiles<'_> {
    /// Gathers `part`'s rows; writes the partition's rows once a batch's
    /// worth is there and it has, or can open, a file.
    async fn add(&mut self, directory: String, part: RecordBatch) -> Result<()> {
        self.tick += 1;
        let bytes = part.get_array_memory_size();
        let rows = part.num_rows();
        let gathered = self.gathered.entry(directory.clone()).or_default();
        gathered.rows += rows;
        gathered.bytes += bytes;
        gathered.batches.push(part);
        self.gathered_rows += rows;
        self.gathered_bytes += bytes;
        let full = gathered.rows >= WRITE_ROWS || gathered.bytes >= WRITE_BYTES;
        let open = match self.open.get_mut(&directory) {
            Some(open) => {
                open.last = self.tick;
                true
            }
            None => false,
        };
        if full && (open || self.open.len() < self.max_open) {
            self.write_gathered(&directory).await?;
        }
        Ok(())
    }

    /// Writes the partitions holding the most rows until the rows gathered
    /// fit the buffer again; then, when the open files' encoders hold more
    /// than their bound, ends the biggest row groups until they hold half;
    /// then, when their parts being filled hold more than theirs, sends the
    /// biggest early until they hold half or none is big enough to send.
    async fn relieve(&mut self) -> Result<()> {
        self.relieve_gathered().await?;
        let (mut total, held) = self.biggest_first(FileWriter::buffered);
        if total > self.encoder_bytes {
            for (bytes, directory) in held {
                if total <= self.encoder_bytes / 2 {
                    break;
                }
                if let Some(open) = self.open.get_mut(&directory) {
                    open.file.flush(self.monitor).await?;
                }
                total -= bytes;
            }
        }
        self.relieve_filling().await
    }

    /// When the open files' parts being filled hold more than their bound,
    /// sends the biggest early until they hold half or none is big enough
    /// to send. Run after every write, so at most one write's bytes come
    /// on top of the bound. A file whose parts left could not hold the
    /// rest of `s3_uploader_max_filesize` after an early part keeps its
    /// part filling (see `MultipartWriter::send_part`): the next biggest
    /// is sent instead.
    async fn relieve_filling(&mut self) -> Result<()> {
        let (mut total, filling) = self.biggest_first(FileWriter::filling);
        self.monitor.note_filling(total);
        if total <= self.filling_bytes {
            return Ok(());
        }
        for (bytes, directory) in filling {
            // Biggest first: once one is too small to send, all are.
            if total <= self.filling_bytes / 2 || (bytes as u64) < UploadConfig::MIN_PART_SIZE {
                break;
            }
            let Some(open) = self.open.get_mut(&directory) else {
                continue;
            };
            if open.file.send_part(self.monitor).await? {
                total -= bytes;
            }
        }
        Ok(())
    }

    /// What `measure` says each open file holds, the biggest first (those
    /// holding nothing left out), and the total.
    fn biggest_first(&self, measure: fn(&FileWriter) -> usize) -> (usize, Vec<(usize, String)>) {
        let mut held: Vec<(usize, String)> = self
            .open
            .iter()
            .map(|(d, open)| (measure(&open.file), d.clone()))
            .filter(|(bytes, _)| *bytes > 0)
            .collect();
        held.sort_unstable_by(|a, b| b.cmp(a));
        (held.iter().map(|(bytes, _)| bytes).sum(), held)
    }

    /// Writes the partitions holding the most rows until the rows gathered
    /// fit the buffer again.
    async fn relieve_gathered(&mut self) -> Result<()> {
        while self.gathered_bytes > self.buffer_bytes || self.gathered_rows > self.buffer_rows {
            // Ties go to the first directory by name, so a COPY's files
            // do not depend on the map's order.
            let Some(biggest) = self
                .gathered
                .iter()
                .max_by(|a, b| a.1.bytes.cmp(&b.1.bytes).then_with(|| b.0.cmp(a.0)))
                .map(|(d, _)| d.clone())
            else {
                break;
            };
            self.write_gathered(&biggest).await?;
        }
        Ok(())
    }

    /// Writes `directory`'s gathered rows to its file, opening one (and,
    /// at the cap, finishing the least recently written) when it has none.
    async fn write_gathered(&mut self, directory: &str) -> Result<()> {
        let Some(gathered) = self.gathered.remove(directory) else {
            return Ok(());
        };
        self.gathered_rows -= gathered.rows;
        self.gathered_bytes -= gathered.bytes;
        if !self.open.contains_key(directory) {
            if self.open.len() >= self.max_open {
                self.evict().await?;
            }
            self.open_file(directory).await?;
        }
        let batch = match <[RecordBatch; 1]>::try_from(gathered.batches) {
            Ok([one]) => one,
            Err(many) => concat_batches(&self.schema, &many)?,
        };
        let Some(open) = self.open.get_mut(directory) else {
            // Opened just above when missing.
            return Ok(());
        };
        open.file.write(&batch, self.monitor).await?;
        self.relieve_filling().await?;
        let Some(open) = self.open.get_mut(directory) else {
            return Ok(());
        };
        if let Some(limit) = self.options.file_size_bytes
            && open.file.written() >= limit
        {
            self.finish_file(directory).await?;
        }
        Ok(())
    }

    /// Opens `directory`'s next file, named by the next `{i}` that names
    /// no file that was there before an OVERWRITE.
    async fn open_file(&mut self, directory: &str) -> Result<()> {
        let index = self.next_index.entry(directory.to_owned()).or_insert(0);
        let name = loop {
            let file = format!(
                "{}.{}",
                self.options.file_stem(*index),
                self.options.extension()
            );
            // No directory: FILE_SIZE_BYTES's files right under the target.
            let name = if directory.is_empty() {
                file
            } else {
                format!("{directory}/{file}")
            };
            *index += 1;
            if !self.old.contains(&name) {
                break name;
            }
        };
        let sink = self.target.open_under(&name, self.options.format).await?;
        self.started.insert(name.clone());
        let file = FileWriter::new(sink, self.schema.clone(), self.options).await?;
        self.open.insert(
            directory.to_owned(),
            OpenFile {
                file,
                name,
                last: self.tick,
            },
        );
        Ok(())
    }

    /// Finishes the open file whose partition least recently received
    /// rows, with the rows it has gathered.
    async fn evict(&mut self) -> Result<()> {
        let Some(directory) = self
            .open
            .iter()
            .min_by(|a, b| a.1.last.cmp(&b.1.last).then_with(|| a.0.cmp(b.0)))
            .map(|(d, _)| d.clone())
        else {
            return Ok(());
        };
        if self.gathered.contains_key(&directory) {
            Box::pin(self.write_gathered(&directory)).await?;
        }
        self.finish_file(&directory).await
    }

    /// Finishes `directory`'s open file; its partition's next rows go to
    /// its next file.
    async fn finish_file(&mut self, directory: &str) -> Result<()> {
        if let Some(open) = self.open.remove(directory) {
            match open.file.finish_unless_interrupted(self.monitor).await {
                Ok(rows) => self.rows += rows,
                Err(unfinished) => {
                    self.not_aborted.extend(unfinished.left_open);
                    return Err(unfinished.error);
                }
            }
            self.monitor.add_file();
            self.finished.push(open.name);
        }
        Ok(())
    }

    /// Writes every partition's gathered rows and finishes every file:
    /// the open files first, then the other partitions, up to `max_open`
    /// files at a time, those holding the most rows first.
    async fn finish_all(&mut self) -> Result<()> {
        loop {
            let open: Vec<String> = self.open.keys().cloned().collect();
            for directory in open {
                self.write_gathered(&directory).await?;
            }
            self.finish_open().await?;
            if self.gathered.is_empty() {
                return Ok(());
            }
            let mut next: Vec<(String, usize)> = self
                .gathered
                .iter()
                .map(|(d, g)| (d.clone(), g.bytes))
                .collect();
            next.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            for (directory, _) in next.into_iter().take(self.max_open) {
                self.write_gathered(&directory).await?;
            }
        }
    }

    /// Finishes every open file, a few at once. After a failure no other
    /// file is completed: those under way settle, the rest stay open for
    /// [`Self::abort_open`].
    async fn finish_open(&mut self) -> Result<()> {
        let mut queue: Vec<(String, OpenFile)> = self.open.drain().collect();
        let mut running = FuturesUnordered::new();
        let mut first_error = None;
        let monitor = self.monitor;
        loop {
            while first_error.is_none() && running.len() < FINISH_CONCURRENCY {
                let Some((_, open)) = queue.pop() else {
                    break;
                };
                running.push(async move {
                    (
                        open.file.finish_unless_interrupted(monitor).await,
                        open.name,
                    )
                });
            }
            let Some((finished, name)) = running.next().await else {
                break;
            };
            match finished {
                Ok(rows) => {
                    self.rows += rows;
                    self.monitor.add_file();
                    self.finished.push(name);
                }
                Err(unfinished) => {
                    self.not_aborted.extend(unfinished.left_open);
                    first_error.get_or_insert(unfinished.error);
                }
            }
        }
        self.open = queue.into_iter().collect();
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Aborts every open file, awaited.
    async fn abort_open(&mut self) {
        let failed = join_all(self.open.drain().map(|(_, open)| open.file.abort())).await;
        self.not_aborted.extend(failed.into_iter().flatten());
    }

    /// A failed OVERWRITE: deletes the new files complete before `error`,
    /// so the old files stand as they were; when that fails too, the
    /// error names the new files, which stay.
    async fn undo_overwrite(
        &mut self,
        error: crate::error::PlannerError,
    ) -> crate::error::PlannerError {
        if self.finished.is_empty() || !self.not_aborted.is_empty() {
            return self.failed(error);
        }
        match self
            .target
            .remove_stale(self.finished.clone(), &HashSet::new())
            .await
        {
            Ok(()) => CopyError::OverwriteUndone {
                error: Box::new(error),
                deleted: std::mem::take(&mut self.finished).len(),
            }
            .into(),
            Err(cleanup) => {
                tracing::warn!(error = %cleanup, "could not delete the new files of a failed OVERWRITE");
                self.failed(error)
            }
        }
    }

    /// `error`, naming the files complete before it, which stay.
    fn failed(&mut self, error: crate::error::PlannerError) -> crate::error::PlannerError {
        if self.finished.is_empty() && self.not_aborted.is_empty() {
            return error;
        }
        let finished = std::mem::take(&mut self.finished);
        CopyError::Failed {
            error: Box::new(error),
            finished: finished.iter().map(|f| self.target.url_of(f)).collect(),
            not_aborted: std::mem::take(&mut self.not_aborted),
        }
        .into()
    }
}
