//! [`read_ahead`]: the query's next batches computed while the writer is
//! busy with the last one.
//!
//! A COPY's rows come in file order through one partition
//! ([`crate::order`]), and the writer waits for each batch's encoding
//! before it asks for the next ([`super::parallel`]): without read-ahead
//! the query (a scan's decoding, a projection's casts and concatenations)
//! and the encoding took turns on the thread driving the COPY. A task of
//! its own runs the query ahead, in order, so the two overlap (for
//! Parquet, see [`read_ahead`]).
//!
//! Memory: the batch the writer holds and those made ahead share
//! [`AHEAD_BYTES`]; the query makes its next batch only once the bytes of
//! one more like its last fit, and at most [`BATCHES_AHEAD`] wait. Rows
//! whose first batch would not fit that many times (batches of 512 KiB
//! or more) are not read ahead: the query goes back to the writer's own
//! thread. Batches made on one thread and freed on another raise glibc's
//! mmap threshold and leave its heaps fragmented: 2 KB rows to CSV took
//! 378 MB where the writer's own thread took 167 MB (review of fa95eda,
//! MED 1); below 512 KiB a batch the cost is at most ~20 MB (measured:
//! 40-byte rows, 72 MB before, 90 MB read ahead). Dropping the stream
//! (an error, an interrupt) aborts the task, and the query with it.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::Result;
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream};
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use futures::{Stream, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::options::CopyFormat;

/// Batches waiting for the writer, at most.
pub(crate) const BATCHES_AHEAD: usize = 2;

/// Bytes of the batch the writer holds and of those made ahead, together;
/// a third of it is the widest first batch read ahead.
pub(crate) const AHEAD_BYTES: usize = 1536 * 1024;

/// `stream`'s batches, in order, for a COPY to `format`: for Parquet the
/// query runs ahead on a task of its own within [`AHEAD_BYTES`]. An error
/// ends the stream after the batches before it, as it would have.
///
/// Parquet shares a batch's columns among the encoding threads, a few
/// columns leaving a core idle for the query; CSV and JSON share its rows
/// and keep every core busy, so there read-ahead only took memory (bench
/// CSV COPY, release: 2.63-2.73 s and 205 MB without; 2.60-2.91 s and
/// 217-287 MB with).
pub(crate) fn read_ahead(
    stream: SendableRecordBatchStream,
    format: CopyFormat,
) -> SendableRecordBatchStream {
    match format {
        CopyFormat::Parquet => read_ahead_within(stream, AHEAD_BYTES),
        CopyFormat::Csv | CopyFormat::Json => stream,
    }
}

fn read_ahead_within(
    mut stream: SendableRecordBatchStream,
    budget: usize,
) -> SendableRecordBatchStream {
    let schema = stream.schema();
    let bytes = Arc::new(Semaphore::new(budget));
    let permits = move |size: usize| u32::try_from(size.min(budget)).unwrap_or(u32::MAX);
    let shared = Arc::new(Mutex::new(Shared::default()));
    let mut builder = RecordBatchReceiverStream::builder(schema.clone(), BATCHES_AHEAD);
    let batches = builder.tx();
    let sent = Arc::clone(&shared);
    builder.spawn(async move {
        // The next batch is expected to be like the last.
        let mut expected = 0;
        loop {
            let Ok(mut permit) = Arc::clone(&bytes).acquire_many_owned(expected).await else {
                break;
            };
            let batch = match stream.next().await {
                Some(Ok(batch)) => batch,
                Some(Err(e)) => {
                    // The error is the stream's last item.
                    let _ = batches.send(Err(e)).await;
                    break;
                }
                None => break,
            };
            let size = batch.get_array_memory_size();
            if expected == 0 && size.saturating_mul(BATCHES_AHEAD + 1) > budget {
                // Wide rows: the query goes back to the writer's thread.
                if let Ok(mut sent) = sent.lock() {
                    sent.handed_back = Some(stream);
                }
                let _ = batches.send(Ok(batch)).await;
                break;
            }
            let size = permits(size);
            // A batch bigger than expected holds what is free of the rest.
            if let Some(more) = size.checked_sub(expected).filter(|more| *more > 0)
                && let Ok(more) = Arc::clone(&bytes).try_acquire_many_owned(more)
            {
                permit.merge(more);
            }
            expected = size;
            if let Ok(mut sent) = sent.lock() {
                sent.permits.push_back(permit);
            }
            // The writer has gone (it failed or was interrupted): stop.
            if batches.send(Ok(batch)).await.is_err() {
                break;
            }
        }
        Ok(())
    });
    Box::pin(Ahead {
        schema,
        batches: builder.build(),
        shared,
        held: None,
    })
}

/// What the query's task leaves for the writer's side, beside its batches.
#[derive(Default)]
struct Shared {
    /// Each batch's bytes on the budget, in the batches' order: pushed
    /// before the batch is sent, taken when it is handed out.
    permits: VecDeque<OwnedSemaphorePermit>,
    /// The query itself, once its rows proved wide: left before its first
    /// batch is sent.
    handed_back: Option<SendableRecordBatchStream>,
}

/// The batches made ahead; the one last handed out keeps its bytes on the
/// budget until the writer asks for the next.
struct Ahead {
    schema: SchemaRef,
    /// The task's batches, or the query once handed back.
    batches: SendableRecordBatchStream,
    shared: Arc<Mutex<Shared>>,
    held: Option<OwnedSemaphorePermit>,
}

impl Stream for Ahead {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Asking for the next batch says the writer is done with the last.
        self.held = None;
        let next = ready!(self.batches.poll_next_unpin(cx));
        if let Some(Ok(_)) = next {
            let (handed_back, permit) = match self.shared.lock() {
                Ok(mut shared) => match shared.handed_back.take() {
                    Some(query) => (Some(query), None),
                    None => (None, shared.permits.pop_front()),
                },
                Err(_) => (None, None),
            };
            self.held = permit;
            if let Some(query) = handed_back {
                self.batches = query;
            }
        }
        Poll::Ready(next)
    }
}

impl RecordBatchStream for Ahead {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

#[cfg(test)]
#[path = "read_ahead_tests.rs"]
mod tests;
