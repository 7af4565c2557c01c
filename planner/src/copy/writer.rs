//! Writing a query's batches: [`FileWriter`] encodes into one [`Sink`],
//! handing the encoder's output over after every batch; [`write_single`]
//! and [`write_partitioned`] drive one file or files per partition, and on
//! any error abort every file not complete (awaited) before returning it,
//! naming the files that were.
//!
//! Memory: a partitioned COPY keeps at most `partitioned_write_max_open_files`
//! files open (DuckDB's setting, default 100); opening one more finishes
//! the least recently written, whose partition continues in a new file
//! (`data_1`, `data_2`, ...). Each open file holds its encoder's state (for
//! Parquet the row group being built, up to ROW_GROUP_SIZE rows) and its
//! upload's buffers: the part being filled (growing to one part,
//! `s3_uploader_max_filesize / s3_uploader_max_parts_per_file`, at least
//! 5 MiB) and up to `s3_uploader_thread_limit` parts in flight. So the
//! bound is open files × (row group + part × (1 + parts in flight)): the
//! open-file cap is what bounds it; no budget is shared across files yet.

use std::collections::{HashMap, HashSet};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use futures::future::join_all;
use futures::stream::FuturesUnordered;
use futures::{StreamExt, TryStreamExt};

use super::encode::{Encoder, Output};
use super::error::CopyError;
use super::monitor::CopyMonitor;
use super::options::CopyOptions;
use super::partition::Partitioner;
use super::sink::Sink;
use super::target::Target;
use crate::error::Result;

/// One file: its encoder, the encoder's pending output and the sink.
#[derive(Debug)]
pub(crate) struct FileWriter {
    encoder: Encoder,
    output: Output,
    sink: Sink,
    /// The last chunk handed to the sink, kept for its allocation.
    spare: Vec<u8>,
    schema: SchemaRef,
    rows: u64,
}

impl FileWriter {
    /// Encodes into `sink`; when the encoder cannot be built, the sink
    /// is aborted (no temporary file left).
    async fn new(sink: Sink, schema: SchemaRef, options: &CopyOptions) -> Result<Self> {
        let built = Output::new(options.text_compression)
            .map_err(|e| DataFusionError::from(e).into())
            .and_then(|output| {
                Encoder::new(schema.clone(), options, output.clone()).map(|e| (e, output))
            });
        let encoder = match built {
            Ok(built) => built,
            Err(e) => {
                // A failed cleanup is logged; the build error is the one to fix.
                let _ = sink.abort().await;
                return Err(e);
            }
        };
        let (encoder, output) = encoder;
        Ok(Self {
            encoder,
            output,
            sink,
            spare: Vec::new(),
            schema,
            rows: 0,
        })
    }

    /// Encodes `batch` and hands the bytes to the sink. An interrupt is
    /// honoured before, never during, the sink's write: a write dropped
    /// mid-way could lose the id of an upload it was starting, which then
    /// could not be aborted.
    async fn write(&mut self, batch: &RecordBatch, monitor: &CopyMonitor) -> Result<()> {
        monitor.check_interrupt()?;
        self.encoder.write(batch)?;
        self.rows += batch.num_rows() as u64;
        monitor.add_rows(batch.num_rows() as u64);
        let chunk = self.output.take(std::mem::take(&mut self.spare));
        let written = if chunk.is_empty() {
            Ok(())
        } else {
            monitor.add_bytes(chunk.len() as u64);
            self.sink.write(&chunk).await
        };
        self.spare = chunk;
        written
    }

    /// Ends the file; on failure nothing of it is left.
    async fn finish(mut self) -> Result<u64> {
        if self.rows == 0 {
            // A CSV of no rows still has its header, as in DuckDB.
            let empty = RecordBatch::new_empty(self.schema.clone());
            if let Err(e) = self.encoder.write(&empty) {
                let _ = self.sink.abort().await;
                return Err(e);
            }
        }
        let Self {
            encoder,
            output,
            mut sink,
            spare,
            rows,
            ..
        } = self;
        let ended = async {
            encoder.finish()?;
            let mut chunk = output.take(spare);
            chunk.extend_from_slice(&output.end().map_err(DataFusionError::from)?);
            if !chunk.is_empty() {
                sink.write(&chunk).await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = ended {
            let _ = sink.abort().await;
            return Err(e);
        }
        sink.finish().await?;
        Ok(rows)
    }

    /// Aborts the file; a cleanup that failed, described.
    async fn abort(self) -> Option<String> {
        self.sink.abort().await
    }
}

/// Writes every batch of `stream` to the target as one file; returns the
/// rows written.
pub(crate) async fn write_single(
    mut stream: SendableRecordBatchStream,
    target: &Target,
    options: &CopyOptions,
    monitor: &CopyMonitor,
) -> Result<u64> {
    let sink = target.open_file(options.format).await?;
    let mut file = FileWriter::new(sink, stream.schema(), options).await?;
    let written = async {
        while let Some(batch) = next_batch(&mut stream, monitor).await? {
            file.write(&batch, monitor).await?;
        }
        Ok(())
    }
    .await;
    match written {
        Ok(()) => {
            let rows = file.finish().await?;
            monitor.add_file();
            Ok(rows)
        }
        Err(e) => match file.abort().await {
            None => Err(e),
            Some(left) => Err(CopyError::Failed {
                error: Box::new(e),
                finished: Vec::new(),
                not_aborted: vec![left],
            }
            .into()),
        },
    }
}

/// Writes `stream` as files per partition under the target, at most
/// `max_open` open at once; returns the rows written. On failure every
/// file not complete is aborted (awaited) and the error names the files
/// that were.
pub(crate) async fn write_partitioned(
    mut stream: SendableRecordBatchStream,
    target: &Target,
    options: &CopyOptions,
    max_open: usize,
    monitor: &CopyMonitor,
) -> Result<u64> {
    let partitioner = Partitioner::new(&stream.schema(), options)?;
    let old = target.prepare_directory(options.existing).await?;
    let mut files = PartitionFiles {
        target,
        options,
        monitor,
        schema: partitioner.file_schema(),
        max_open: max_open.max(1),
        open: HashMap::new(),
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
                files.write(directory, &part).await?;
            }
        }
        files.finish_open().await
    }
    .await;
    if let Err(e) = written {
        files.abort_open().await;
        return Err(files.failed(e));
    }
    if let Err(e) = target.remove_stale(old, &files.started).await {
        return Err(files.failed(e));
    }
    Ok(files.rows)
}

/// The query's next batch, unless an interrupt comes first.
async fn next_batch(
    stream: &mut SendableRecordBatchStream,
    monitor: &CopyMonitor,
) -> Result<Option<RecordBatch>> {
    monitor
        .unless_interrupted(async { Ok(stream.try_next().await?) })
        .await
}

/// How many files finish (complete their upload) at once.
const FINISH_CONCURRENCY: usize = 16;

/// A partitioned COPY's files: the open ones (at most `max_open`; the least
/// recently written is finished to make room, and its partition's next
/// file takes the next `{i}`), and what was started and finished.
struct PartitionFiles<'a> {
    target: &'a Target,
    options: &'a CopyOptions,
    monitor: &'a CopyMonitor,
    schema: SchemaRef,
    max_open: usize,
    /// Directory → its open file, the file's name and when it was last written.
    open: HashMap<String, (FileWriter, String, u64)>,
    /// Directory → the `{i}` of its next file.
    next_index: HashMap<String, u32>,
    tick: u64,
    /// Every file started, relative to the target (for OVERWRITE).
    started: HashSet<String>,
    /// The files complete so far, as URLs or paths (for the error).
    finished: Vec<String>,
    /// Rows in the files complete so far.
    rows: u64,
    /// Files whose abort failed, described (uploads left open).
    not_aborted: Vec<String>,
}

impl PartitionFiles<'_> {
    async fn write(&mut self, directory: String, part: &RecordBatch) -> Result<()> {
        self.tick += 1;
        if !self.open.contains_key(&directory) {
            if self.open.len() >= self.max_open {
                self.evict().await?;
            }
            let index = self.next_index.entry(directory.clone()).or_insert(0);
            let name = format!(
                "{directory}/{}.{}",
                self.options.file_stem(*index),
                self.options.extension()
            );
            *index += 1;
            let sink = self.target.open_under(&name, self.options.format).await?;
            self.started.insert(name.clone());
            let file = FileWriter::new(sink, self.schema.clone(), self.options).await?;
            self.open.insert(directory.clone(), (file, name, self.tick));
        }
        let Some((file, _, last)) = self.open.get_mut(&directory) else {
            // Inserted just above when missing.
            return Ok(());
        };
        *last = self.tick;
        file.write(part, self.monitor).await
    }

    /// Finishes the least recently written open file.
    async fn evict(&mut self) -> Result<()> {
        let Some(directory) = self
            .open
            .iter()
            .min_by_key(|(_, (_, _, last))| *last)
            .map(|(d, _)| d.clone())
        else {
            return Ok(());
        };
        if let Some((file, name, _)) = self.open.remove(&directory) {
            self.rows += file.finish().await?;
            self.monitor.add_file();
            self.finished.push(self.target.url_of(&name));
        }
        Ok(())
    }

    /// Finishes every open file, a few at once. After a failure no other
    /// file is completed: those under way settle, the rest stay open for
    /// [`Self::abort_open`].
    async fn finish_open(&mut self) -> Result<()> {
        let mut queue: Vec<(String, (FileWriter, String, u64))> = self.open.drain().collect();
        let mut running = FuturesUnordered::new();
        let mut first_error = None;
        loop {
            while first_error.is_none() && running.len() < FINISH_CONCURRENCY {
                let Some((_, (file, name, _))) = queue.pop() else {
                    break;
                };
                running.push(async move { (file.finish().await, name) });
            }
            let Some((finished, name)) = running.next().await else {
                break;
            };
            match finished {
                Ok(rows) => {
                    self.rows += rows;
                    self.monitor.add_file();
                    self.finished.push(self.target.url_of(&name));
                }
                Err(e) => {
                    first_error.get_or_insert(e);
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
        let failed = join_all(self.open.drain().map(|(_, (file, _, _))| file.abort())).await;
        self.not_aborted.extend(failed.into_iter().flatten());
    }

    /// `error`, naming the files complete before it, which stay.
    fn failed(&mut self, error: crate::error::PlannerError) -> crate::error::PlannerError {
        if self.finished.is_empty() && self.not_aborted.is_empty() {
            return error;
        }
        CopyError::Failed {
            error: Box::new(error),
            finished: std::mem::take(&mut self.finished),
            not_aborted: std::mem::take(&mut self.not_aborted),
        }
        .into()
    }
}
