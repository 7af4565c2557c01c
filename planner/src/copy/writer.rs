//! Writing a query's batches: [`FileWriter`] encodes into one [`Sink`],
//! handing the encoder's output over after every batch; [`write_single`]
//! and [`write_partitioned`] drive one file or one per partition, and on
//! any error abort every file they started (awaited) before returning it.

use std::collections::{HashMap, HashSet};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::SendableRecordBatchStream;
use futures::TryStreamExt;
use futures::future::join_all;

use super::encode::{Encoder, Output};
use super::options::{CopyFormat, CopyOptions};
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
    fn new(sink: Sink, schema: SchemaRef, options: &CopyOptions) -> Result<Self> {
        let output = Output::default();
        Ok(Self {
            encoder: Encoder::new(schema.clone(), options, output.clone())?,
            output,
            sink,
            spare: Vec::new(),
            schema,
            rows: 0,
        })
    }

    async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.encoder.write(batch)?;
        self.rows += batch.num_rows() as u64;
        self.drain().await
    }

    /// Hands what the encoder produced to the sink.
    async fn drain(&mut self) -> Result<()> {
        let chunk = self.output.take(std::mem::take(&mut self.spare));
        let written = if chunk.is_empty() {
            Ok(())
        } else {
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
                self.sink.abort().await;
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
            let chunk = output.take(spare);
            if !chunk.is_empty() {
                sink.write(&chunk).await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = ended {
            sink.abort().await;
            return Err(e);
        }
        sink.finish().await?;
        Ok(rows)
    }

    async fn abort(self) {
        self.sink.abort().await;
    }
}

/// Writes every batch of `stream` to the target as one file; returns the
/// rows written.
pub(crate) async fn write_single(
    mut stream: SendableRecordBatchStream,
    target: &Target,
    options: &CopyOptions,
) -> Result<u64> {
    let sink = target.open_file(options.format).await?;
    let mut file = FileWriter::new(sink, stream.schema(), options)?;
    let written = async {
        while let Some(batch) = stream.try_next().await? {
            file.write(&batch).await?;
        }
        Ok(())
    }
    .await;
    match written {
        Ok(()) => file.finish().await,
        Err(e) => {
            file.abort().await;
            Err(e)
        }
    }
}

/// Writes `stream` as one file per partition under the target; returns
/// the rows written.
pub(crate) async fn write_partitioned(
    mut stream: SendableRecordBatchStream,
    target: &Target,
    options: &CopyOptions,
) -> Result<u64> {
    let partitioner = Partitioner::new(&stream.schema(), options)?;
    let old = target.prepare_directory(options.existing).await?;
    let mut files: HashMap<String, FileWriter> = HashMap::new();
    let mut names = HashSet::new();
    let written = async {
        while let Some(batch) = stream.try_next().await? {
            for (directory, part) in partitioner.split(&batch)? {
                let file = match files.get_mut(&directory) {
                    Some(file) => file,
                    None => {
                        let name = file_name(&directory, options.format);
                        let sink = target.open_under(&name, options.format).await?;
                        names.insert(name);
                        let file = FileWriter::new(sink, partitioner.file_schema(), options)?;
                        files.entry(directory).or_insert(file)
                    }
                };
                file.write(&part).await?;
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = written {
        join_all(files.into_values().map(FileWriter::abort)).await;
        return Err(e);
    }
    let mut rows = 0;
    let mut first_error = None;
    for finished in join_all(files.into_values().map(FileWriter::finish)).await {
        match finished {
            Ok(n) => rows += n,
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    target.remove_stale(old, &names).await?;
    Ok(rows)
}

/// `k=v/.../data_0.ext`, DuckDB's default FILENAME_PATTERN (`data_{i}`).
fn file_name(directory: &str, format: CopyFormat) -> String {
    format!("{directory}/data_0.{}", format.extension())
}
