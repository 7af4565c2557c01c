//! Writing a query's batches: [`FileWriter`] encodes into one [`Sink`],
//! handing the encoder's output over after every batch; [`write_single`]
//! drives one file (and [`super::partitioned`] files per partition), and on
//! any error aborts the file (awaited) before returning it.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use futures::TryStreamExt;

use super::encode::{Encoder, Output};
use super::error::CopyError;
use super::monitor::CopyMonitor;
use super::options::CopyOptions;
use super::sink::Sink;
use super::target::Target;
use crate::error::{PlannerError, Result};

/// The largest output buffer a file keeps for reuse.
const SPARE_BYTES: usize = 256 * 1024;

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
    /// Bytes handed to the sink so far.
    written: u64,
}

impl FileWriter {
    /// Encodes into `sink`; when the encoder cannot be built, the sink
    /// is aborted (no temporary file left).
    pub(crate) async fn new(sink: Sink, schema: SchemaRef, options: &CopyOptions) -> Result<Self> {
        // Partitions: many files open at once, none holding a context.
        let built = if options.partition_by.is_empty() {
            Output::new(options.text_compression)
        } else {
            Output::of_many(options.text_compression)
        };
        let built = built
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
            written: 0,
        })
    }

    /// Encodes `batch` and hands the bytes to the sink. An interrupt stops
    /// it anywhere, also while the sink waits for a part to upload: the
    /// upload writer keeps the id of an upload it was starting, so the
    /// caller's [`FileWriter::abort`] (what follows any error) ends it.
    pub(crate) async fn write(&mut self, batch: &RecordBatch, monitor: &CopyMonitor) -> Result<()> {
        monitor.check_interrupt()?;
        monitor
            .unless_interrupted(async {
                self.encoder.write(batch).await?;
                self.rows += batch.num_rows() as u64;
                monitor.add_rows(batch.num_rows() as u64);
                self.drain(monitor).await
            })
            .await
    }

    /// Bytes of the file handed to its sink so far (FILE_SIZE_BYTES).
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// Bytes allocated for output not yet produced: the spare and the
    /// encoder's empty output buffer, kept for the next batch.
    #[cfg(test)]
    pub(crate) fn idle_bytes(&self) -> usize {
        self.spare.capacity() + self.output.capacity()
    }

    /// Bytes the encoder holds (for Parquet, the row group being built).
    pub(crate) fn buffered(&self) -> usize {
        self.encoder.memory_size()
    }

    /// Bytes of the upload's part being filled.
    pub(crate) fn filling(&self) -> usize {
        self.sink.filling()
    }

    /// Sends the upload's part being filled now, when S3 takes it (5 MiB
    /// or more); whether it did. Interruptible, as [`FileWriter::write`].
    pub(crate) async fn send_part(&mut self, monitor: &CopyMonitor) -> Result<bool> {
        monitor.unless_interrupted(self.sink.send_part()).await
    }

    /// Ends the row group being built (Parquet) and hands its bytes to
    /// the sink: the encoder's memory, freed, at the cost of a smaller
    /// row group.
    pub(crate) async fn flush(&mut self, monitor: &CopyMonitor) -> Result<()> {
        monitor
            .unless_interrupted(async {
                self.encoder.flush().await?;
                self.drain(monitor).await
            })
            .await
    }

    /// Hands what the encoder produced to the sink.
    async fn drain(&mut self, monitor: &CopyMonitor) -> Result<()> {
        let chunk = self
            .output
            .take_frame(std::mem::take(&mut self.spare))
            .map_err(DataFusionError::from)?;
        let written = if chunk.is_empty() {
            Ok(())
        } else {
            monitor.add_bytes(chunk.len() as u64);
            self.written += chunk.len() as u64;
            self.sink.write(&chunk).await
        };
        // A large chunk is not kept for reuse: with many files open, each
        // would hold one. Nor is Parquet's: it comes once per row group, so
        // the buffer would sit idle (100 partitions held 2 x 256 KiB each).
        if chunk.capacity() <= SPARE_BYTES && !self.encoder.is_parquet() {
            self.spare = chunk;
        }
        written
    }

    /// Ends the file; on failure nothing of it is left, or the failure
    /// names its upload that may stay open. (Tests; a COPY's file ends
    /// by [`FileWriter::finish_unless_interrupted`], an INSERT's by
    /// [`FileWriter::settle`], its check, then [`Settled::complete`].)
    #[cfg(test)]
    pub(crate) async fn finish(self) -> std::result::Result<u64, Unfinished> {
        self.finish_unless_interrupted(&CopyMonitor::default())
            .await
    }

    /// Ends the file; on failure nothing of it is left, or the failure
    /// names its upload that may stay open. An interrupt stops it until
    /// its completion is sent: the last rows encoded and every part
    /// uploaded may be cut short (the file is then aborted, no object
    /// made); the completion itself, one request that may already have
    /// made the object, is let finish.
    pub(crate) async fn finish_unless_interrupted(
        self,
        monitor: &CopyMonitor,
    ) -> std::result::Result<u64, Unfinished> {
        self.settle(monitor).await?.complete().await
    }

    /// Ends the file but for its completion: its last rows encoded, every
    /// part uploaded (the local file synced and closed). Stopped by an
    /// interrupt; on failure the file is aborted.
    pub(crate) async fn settle(
        mut self,
        monitor: &CopyMonitor,
    ) -> std::result::Result<Settled, Unfinished> {
        if self.rows == 0 {
            // A CSV of no rows still has its header, as in DuckDB.
            let empty = RecordBatch::new_empty(self.schema.clone());
            if let Err(error) = self.encoder.write(&empty).await {
                let left_open = self.sink.abort().await;
                return Err(Unfinished::new(error, left_open));
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
        let ended = monitor
            .unless_interrupted(async {
                encoder.finish().await?;
                let mut chunk = output.take(spare);
                chunk.extend_from_slice(&output.end().map_err(DataFusionError::from)?);
                if !chunk.is_empty() {
                    sink.write(&chunk).await?;
                }
                sink.upload_parts().await
            })
            .await;
        if let Err(error) = ended {
            let left_open = sink.abort().await;
            return Err(Unfinished::new(error, left_open));
        }
        Ok(Settled { sink, rows })
    }

    /// Aborts the file; a cleanup that failed, described.
    pub(crate) async fn abort(self) -> Option<String> {
        self.sink.abort().await
    }
}

/// A file all written but not complete: its completion (one request, or
/// a rename) is all that is left, and until then it is not there.
#[derive(Debug)]
pub(crate) struct Settled {
    sink: Sink,
    rows: u64,
}

impl Settled {
    /// Completes the file; its rows.
    pub(crate) async fn complete(self) -> std::result::Result<u64, Unfinished> {
        let rows = self.rows;
        self.complete_with_etag().await.map(|_| rows)
    }

    /// Completes the file; the ETag the server answered its completion
    /// with, when it gave one (an INSERT compares it with the object's
    /// after).
    pub(crate) async fn complete_with_etag(
        self,
    ) -> std::result::Result<Option<String>, Unfinished> {
        match self.sink.finish().await {
            Ok(etag) => Ok(etag),
            Err((error, left_open)) => Err(Unfinished {
                // The client found no way to tell whether the completion
                // whose answer was lost was done, or the server answered
                // it with success but not as S3 does (a PutObject's 2xx
                // without an ETag: a gateway may strip it): the object may
                // be there (review-s23 F10). Its parts were all uploaded,
                // so the completion is all that can have failed here.
                maybe_written: matches!(
                    error,
                    PlannerError::Client(
                        s3sql_s3_client::Error::OutcomeUnknown { .. }
                            | s3sql_s3_client::Error::InvalidResponse { .. }
                    )
                ),
                ..Unfinished::new(error, left_open)
            }),
        }
    }

    /// Drops the file; a cleanup that failed, described.
    pub(crate) async fn abort(self) -> Option<String> {
        self.sink.abort().await
    }
}

/// A file that could not be finished: why, its upload when that may
/// stay open (its abort failed too), described, and whether the file may
/// be there all the same (its completion's answer was lost or not
/// understood, and nothing told whether it was done).
#[derive(Debug)]
pub(crate) struct Unfinished {
    pub error: PlannerError,
    pub left_open: Option<String>,
    pub maybe_written: bool,
}

impl Unfinished {
    /// A file that is not there: `error`, and its upload `left_open`.
    pub(crate) fn new(error: PlannerError, left_open: Option<String>) -> Self {
        Self {
            error,
            left_open,
            maybe_written: false,
        }
    }
}

/// Writes every batch of `stream` to the target as one file; returns the
/// rows written.
pub(crate) async fn write_single(
    stream: SendableRecordBatchStream,
    target: &Target,
    options: &CopyOptions,
    monitor: &CopyMonitor,
) -> Result<u64> {
    let sink = target.open_file(options.format, monitor).await?;
    let mut file = FileWriter::new(sink, stream.schema(), options).await?;
    // The target takes the rows: the query starts, ahead of the encoder.
    let mut stream = super::read_ahead::read_ahead(stream, options.format);
    let written = async {
        while let Some(batch) = next_batch(&mut stream, monitor).await? {
            file.write(&batch, monitor).await?;
        }
        Ok(())
    }
    .await;
    // An interrupt of a file written in place says the reader has part
    // of the rows (review-s24 F14: "nothing half-written is left").
    let in_place = file.sink.in_place_path().map(|p| p.display().to_string());
    let written = written.map_err(|e| partial(e, in_place.as_deref()));
    match written {
        Ok(()) => match file.finish_unless_interrupted(monitor).await {
            Ok(rows) => {
                monitor.add_file();
                Ok(rows)
            }
            Err(Unfinished {
                error,
                left_open: None,
                ..
            }) => Err(partial(error, in_place.as_deref())),
            Err(Unfinished {
                error,
                left_open: Some(left),
                ..
            }) => Err(CopyError::Failed {
                error: Box::new(error),
                finished: Vec::new(),
                maybe_written: Vec::new(),
                not_aborted: vec![left],
            }
            .into()),
        },
        Err(e) => match file.abort().await {
            None => Err(e),
            Some(left) => Err(CopyError::Failed {
                error: Box::new(e),
                finished: Vec::new(),
                maybe_written: Vec::new(),
                not_aborted: vec![left],
            }
            .into()),
        },
    }
}

/// `error`, an interrupt of a COPY writing `in_place` said as the
/// partial file it left there.
fn partial(error: PlannerError, in_place: Option<&str>) -> PlannerError {
    match (error, in_place) {
        (PlannerError::Copy(CopyError::Interrupted), Some(path)) => CopyError::InterruptedInPlace {
            path: path.to_owned(),
        }
        .into(),
        (error, _) => error,
    }
}

/// The query's next batch, unless an interrupt comes first.
pub(crate) async fn next_batch(
    stream: &mut SendableRecordBatchStream,
    monitor: &CopyMonitor,
) -> Result<Option<RecordBatch>> {
    monitor
        .unless_interrupted(async { Ok(stream.try_next().await?) })
        .await
}
