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
//! (DuckDB's setting, default 524,288): past either the partitions holding
//! the most rows are written until both fit again. A partition without a
//! file at the cap finishes the least recently written open files, down
//! to half the cap, `s3_uploader_thread_limit` of them at once (16 at once
//! locally); its partition continues in its next file, `data_1`, ...
//! A partition's parts of a few rows are put together as they come, so
//! that their buffers do not fill the bytes bound before the rows. So rows
//! interleaved over more partitions than the cap make a few files per
//! partition (fewer than DuckDB: 1,000,000 rows over 20,000 partitions
//! make 32,359 files, DuckDB 39,901), not one per batch. The open files'
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
//! max(32 MiB, open files × 5 MiB) + budget, and the query's batches
//! read ahead for Parquet, 1.5 MiB ([`super::read_ahead`]); encoding a write on every
//! core ([`super::parallel`]) adds nothing to it, the encoders being
//! handed to the threads with the one write and back before it returns.
//! Compression (CSV, JSON) adds per open file gzip's state (~300 KB) but
//! no zstd context: each write of a partition is one zstd frame made by
//! its thread's one context (a streaming context per open file held its
//! 2 MiB window and tables: a 200-partition COPY with zstd took 311 MB
//! where uncompressed took 207 MB; with frames 171 MB; files ~15% bigger).
//! (A file sending parts early under that pressure spends more of its
//! `s3_uploader_max_parts_per_file` part numbers, down to 5 MiB each; its
//! later parts grow, to at most twice the part size, so that it still
//! reaches `s3_uploader_max_filesize`, and once they could not it sends
//! no more early: its part being filled then stays over the bound.)
//!
//! OVERWRITE: the new files have DuckDB's names (`data_0` again), and one
//! taking an old file's name is written whole but completed (its upload,
//! its rename) only once the whole COPY succeeded, so no old file is
//! replaced before that; then the old files not replaced are deleted. A
//! failed OVERWRITE aborts those and deletes the new files it had
//! completed: the target is left as it was. A new file replaces whatever
//! version of its key is there when it completes, with no If-Match, as
//! DuckDB's COPY does: a COPY writes its rows, it does not rewrite an old
//! object's (a MindsDB INSERT does, and guards its completion).

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
use super::partition::{Partitioner, owning_batch};
use super::target::Target;
use super::writer::{FileWriter, Settled, Unfinished, next_batch};
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

/// A part of fewer rows is put together with its partition's last part
/// when that one is small too: each part costs its own buffers (64 bytes
/// or more each), so 20,000 partitions of 1-row parts filled the buffer's
/// bytes at a fraction of its rows, and were written a few rows at a time.
const SMALL_PART_ROWS: usize = 32;

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
    stream: SendableRecordBatchStream,
    target: &Target,
    options: &CopyOptions,
    limits: Limits,
    monitor: &CopyMonitor,
) -> Result<u64> {
    let partitioner = Partitioner::new(&stream.schema(), options)?;
    let old = target.prepare_directory(options.existing).await?;
    // The target takes the rows: the query starts, ahead of the encoders.
    let mut stream = super::read_ahead::read_ahead(stream, options.format);
    let overwriting = !old.is_empty();
    let mut files = PartitionFiles {
        target,
        options,
        monitor,
        schema: partitioner.file_schema(),
        max_open: limits.max_open.max(1),
        finishing: target.finish_concurrency(),
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
        maybe_written: Vec::new(),
        rows: 0,
        not_aborted: Vec::new(),
        replacing: Vec::new(),
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
    // From here an old file may be replaced: a failure is reported with
    // the new files complete and the old ones left, not undone.
    if let Err(e) = files.complete_replacing().await {
        files.abort_open().await;
        return Err(files.replacing_failed(e));
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
    /// It takes the name of a file there before an OVERWRITE: completed
    /// only once the whole COPY succeeded.
    replaces: bool,
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
    /// Files finished (completed) at once.
    finishing: usize,
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
    /// The files there before an OVERWRITE, relative to the target: a new
    /// file of one of these names is completed only at the end.
    old: HashSet<String>,
    /// Directory → the `{i}` of its next file.
    next_index: HashMap<String, u32>,
    tick: u64,
    /// Every file started, relative to the target (for OVERWRITE).
    started: HashSet<String>,
    /// The files complete so far, relative to the target.
    finished: Vec<String>,
    /// Files whose completion's answer was lost, with nothing to tell
    /// whether it was done: they may be there.
    maybe_written: Vec<String>,
    /// Rows in the files complete so far.
    rows: u64,
    /// Files whose abort failed, described (uploads left open).
    not_aborted: Vec<String>,
    /// Files written whole that replace old ones, by name: completed
    /// once the COPY succeeded, aborted if it failed.
    replacing: Vec<(String, Settled)>,
}

/// A file finished: complete with its rows, or (replacing an old file)
/// all written and waiting for its completion.
enum Ended {
    Complete(u64),
    Settled(Box<Settled>),
}

impl PartitionFiles<'_> {
    /// Gathers `part`'s rows; writes the partition's rows once a batch's
    /// worth is there and it has, or can open, a file.
    async fn add(&mut self, directory: String, part: RecordBatch) -> Result<()> {
        self.tick += 1;
        let rows = part.num_rows();
        let gathered = self.gathered.entry(directory.clone()).or_default();
        let small = |b: &RecordBatch| b.num_rows() < SMALL_PART_ROWS;
        let (part, replaced) = match gathered.batches.pop() {
            Some(last) if small(&last) && small(&part) => {
                let one = concat_batches(&self.schema, [&last, &part])?;
                (owning_batch(one)?, last.get_array_memory_size())
            }
            Some(last) => {
                gathered.batches.push(last);
                (part, 0)
            }
            None => (part, 0),
        };
        let bytes = part.get_array_memory_size();
        gathered.rows += rows;
        gathered.bytes = gathered.bytes + bytes - replaced;
        gathered.batches.push(part);
        self.gathered_rows += rows;
        self.gathered_bytes = self.gathered_bytes + bytes - replaced;
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
    /// fit the buffer again: chosen at once (one sort, not a search of
    /// every partition per write), then written in that order.
    async fn relieve_gathered(&mut self) -> Result<()> {
        if self.gathered_bytes <= self.buffer_bytes && self.gathered_rows <= self.buffer_rows {
            return Ok(());
        }
        // The most rows first (a partition's bytes depend on how its parts
        // were put together); ties go to the first directory by name, so
        // a COPY's files do not depend on the map's order.
        let mut biggest: Vec<(usize, usize, &String)> = self
            .gathered
            .iter()
            .map(|(d, g)| (g.rows, g.bytes, d))
            .collect();
        biggest.sort_unstable_by(|a, b| (b.0, b.1).cmp(&(a.0, a.1)).then_with(|| a.2.cmp(b.2)));
        let (mut bytes, mut rows) = (self.gathered_bytes, self.gathered_rows);
        let mut chosen = Vec::new();
        for (r, b, directory) in biggest {
            if bytes <= self.buffer_bytes && rows <= self.buffer_rows {
                break;
            }
            bytes -= b;
            rows -= r;
            chosen.push(directory.clone());
        }
        for directory in chosen {
            self.write_gathered(&directory).await?;
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
                Box::pin(self.evict()).await?;
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
        let file = format!(
            "{}.{}",
            self.options.file_stem(*index),
            self.options.extension()
        );
        *index += 1;
        // No directory: FILE_SIZE_BYTES's files right under the target.
        let name = if directory.is_empty() {
            file
        } else {
            format!("{directory}/{file}")
        };
        let replaces = self.old.contains(&name);
        let sink = self
            .target
            .open_under(&name, self.options.format, replaces, self.monitor)
            .await?;
        self.started.insert(name.clone());
        let file = FileWriter::new(sink, self.schema.clone(), self.options).await?;
        self.open.insert(
            directory.to_owned(),
            OpenFile {
                file,
                name,
                last: self.tick,
                replaces,
            },
        );
        Ok(())
    }

    /// Makes room at the cap: finishes the open files whose partitions
    /// least recently received rows (with the rows they gathered) until
    /// half the cap is open, all at once, so a COPY of many more
    /// partitions than the cap waits for one finish per half cap of
    /// files, not one per file.
    async fn evict(&mut self) -> Result<()> {
        let mut oldest: Vec<(u64, &String)> =
            self.open.iter().map(|(d, open)| (open.last, d)).collect();
        oldest.sort_unstable();
        let keep = self.max_open / 2;
        let evicted: Vec<String> = oldest
            .into_iter()
            .take(self.open.len().saturating_sub(keep).max(1))
            .map(|(_, d)| d.clone())
            .collect();
        for directory in &evicted {
            if self.gathered.contains_key(directory) {
                self.write_gathered(directory).await?;
            }
        }
        let files = evicted
            .iter()
            .filter_map(|d| self.open.remove_entry(d))
            .collect();
        self.finish_files(files).await
    }

    /// Finishes `directory`'s open file; its partition's next rows go to
    /// its next file.
    async fn finish_file(&mut self, directory: &str) -> Result<()> {
        match self.open.remove_entry(directory) {
            Some(open) => self.finish_files(vec![open]).await,
            None => Ok(()),
        }
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
                return self.first_file_of_no_rows().await;
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

    /// FILE_SIZE_BYTES or PER_THREAD_OUTPUT (no PARTITION_BY) of no rows:
    /// writes `data_0` all the same, a CSV's header or a Parquet file of
    /// no rows, as DuckDB 1.5.5 does, so that reading the directory finds
    /// a file and no rows (review-9d #7: nothing was written).
    async fn first_file_of_no_rows(&mut self) -> Result<()> {
        if !self.options.partition_by.is_empty() || !self.started.is_empty() {
            return Ok(());
        }
        self.open_file("").await?;
        self.finish_open().await
    }

    /// Finishes every open file, a few at once.
    async fn finish_open(&mut self) -> Result<()> {
        let open = self.open.drain().collect();
        self.finish_files(open).await
    }

    /// Finishes `files`, [`Self::finishing`] at once. After a failure or
    /// an interrupt no other file is started: those under way settle (or,
    /// interrupted before their completion, are aborted), the rest go back
    /// to the open files for [`Self::abort_open`].
    async fn finish_files(&mut self, mut queue: Vec<(String, OpenFile)>) -> Result<()> {
        let mut running = FuturesUnordered::new();
        let mut first_error = None;
        let monitor = self.monitor;
        loop {
            while running.len() < self.finishing && self.may_start(&mut first_error) {
                let Some((_, open)) = queue.pop() else {
                    break;
                };
                running.push(async move {
                    let ended = if open.replaces {
                        open.file
                            .settle(monitor)
                            .await
                            .map(|s| Ended::Settled(Box::new(s)))
                    } else {
                        open.file
                            .finish_unless_interrupted(monitor)
                            .await
                            .map(Ended::Complete)
                    };
                    (ended, open.name)
                });
            }
            let Some((finished, name)) = running.next().await else {
                break;
            };
            match finished {
                Ok(Ended::Complete(rows)) => self.completed(name, rows),
                Ok(Ended::Settled(settled)) => self.replacing.push((name, *settled)),
                Err(unfinished) => self.unfinished(name, unfinished, &mut first_error),
            }
        }
        self.open.extend(queue);
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Completes the files that replace old ones, once every file is
    /// written, [`Self::finishing`] at once. On a failure or an interrupt
    /// the rest are aborted: old files stay where their new ones were not
    /// complete.
    async fn complete_replacing(&mut self) -> Result<()> {
        let mut queue = std::mem::take(&mut self.replacing);
        let mut running = FuturesUnordered::new();
        let mut first_error = None;
        loop {
            while running.len() < self.finishing && self.may_start(&mut first_error) {
                let Some((name, settled)) = queue.pop() else {
                    break;
                };
                running.push(async move { (settled.complete().await, name) });
            }
            let Some((completed, name)) = running.next().await else {
                break;
            };
            match completed {
                Ok(rows) => self.completed(name, rows),
                Err(unfinished) => self.unfinished(name, unfinished, &mut first_error),
            }
        }
        self.replacing = queue;
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Whether another file may be started: no error so far, and no
    /// interrupt, which becomes the error.
    fn may_start(&self, first_error: &mut Option<crate::error::PlannerError>) -> bool {
        if first_error.is_none()
            && let Err(interrupted) = self.monitor.check_interrupt()
        {
            *first_error = Some(interrupted);
        }
        first_error.is_none()
    }

    /// Counts the file `name`, complete with `rows`.
    fn completed(&mut self, name: String, rows: u64) {
        self.rows += rows;
        self.monitor.add_file();
        self.finished.push(name);
    }

    /// Notes the file `name` that could not be finished: its upload left
    /// open, or the file that may be there; its error, the first one.
    fn unfinished(
        &mut self,
        name: String,
        unfinished: Unfinished,
        first_error: &mut Option<crate::error::PlannerError>,
    ) {
        self.not_aborted.extend(unfinished.left_open);
        if unfinished.maybe_written {
            self.maybe_written.push(name);
        }
        first_error.get_or_insert(unfinished.error);
    }

    /// Aborts every open file and every file not yet replacing its old
    /// one, awaited.
    async fn abort_open(&mut self) {
        let failed = join_all(self.open.drain().map(|(_, open)| open.file.abort())).await;
        self.not_aborted.extend(failed.into_iter().flatten());
        let failed = join_all(self.replacing.drain(..).map(|(_, s)| s.abort())).await;
        self.not_aborted.extend(failed.into_iter().flatten());
    }

    /// A failed OVERWRITE: deletes the new files complete before `error`
    /// and those that may be (their completion's answer was lost: deleting
    /// a missing key is no error), so the old files stand as they were;
    /// when that fails too, the error names the new files, which stay.
    async fn undo_overwrite(
        &mut self,
        error: crate::error::PlannerError,
    ) -> crate::error::PlannerError {
        let new = [self.finished.clone(), self.maybe_written.clone()].concat();
        if new.is_empty() || !self.not_aborted.is_empty() {
            return self.failed(error);
        }
        match self.target.remove_stale(new, &HashSet::new()).await {
            Ok(()) => CopyError::OverwriteUndone {
                error: Box::new(error),
                deleted: std::mem::take(&mut self.finished).len(),
                maybe_written: std::mem::take(&mut self.maybe_written).len(),
            }
            .into(),
            Err(cleanup) => {
                tracing::warn!(error = %cleanup, "could not delete the new files of a failed OVERWRITE");
                self.failed(error)
            }
        }
    }

    /// `error` of an OVERWRITE that had begun replacing old files: the
    /// new files complete, and the old ones still there (neither replaced
    /// by a new file complete nor deleted: `remove_stale` runs last).
    fn replacing_failed(
        &mut self,
        error: crate::error::PlannerError,
    ) -> crate::error::PlannerError {
        let finished: HashSet<&String> = self.finished.iter().collect();
        let mut old: Vec<&String> = self
            .old
            .iter()
            .filter(|f| !finished.contains(f) && !self.maybe_written.contains(f))
            .collect();
        old.sort();
        let urls = |files: &[String]| files.iter().map(|f| self.target.url_of(f)).collect();
        CopyError::OverwritePartial {
            error: Box::new(error),
            new: urls(&self.finished),
            maybe_written: urls(&self.maybe_written),
            old: old.into_iter().map(|f| self.target.url_of(f)).collect(),
            not_aborted: std::mem::take(&mut self.not_aborted),
        }
        .into()
    }

    /// `error`, naming the files complete before it, which stay, and those
    /// that may be.
    fn failed(&mut self, error: crate::error::PlannerError) -> crate::error::PlannerError {
        if self.finished.is_empty() && self.maybe_written.is_empty() && self.not_aborted.is_empty()
        {
            return error;
        }
        let urls = |files: Vec<String>| files.iter().map(|f| self.target.url_of(f)).collect();
        CopyError::Failed {
            error: Box::new(error),
            finished: urls(std::mem::take(&mut self.finished)),
            maybe_written: urls(std::mem::take(&mut self.maybe_written)),
            not_aborted: std::mem::take(&mut self.not_aborted),
        }
        .into()
    }
}
