//! [`read_ahead`]: the query's next batches computed while the writer is
//! busy with the last one.
//!
//! A COPY's rows come in file order through one partition
//! ([`crate::order`]), and the writer waits for each batch's encoding
//! before it asks for the next ([`super::parallel`]): without read-ahead
//! the query (a scan's decoding, a projection's casts and concatenations)
//! and the encoding took turns on one core. A task of its own runs the
//! query [`BATCHES_AHEAD`] batches ahead, in order, so the two overlap;
//! memory grows by those batches only. Dropping the stream (an error, an
//! interrupt) aborts the task, and the query with it.

use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use futures::StreamExt;

/// Batches the query may run ahead of the writer: one being encoded, one
/// ready for the next write.
pub(crate) const BATCHES_AHEAD: usize = 2;

/// `stream`'s batches, in order, the query run ahead on a task of its own.
/// An error ends the stream after the batches before it, as it would have.
pub(crate) fn read_ahead(mut stream: SendableRecordBatchStream) -> SendableRecordBatchStream {
    let mut builder = RecordBatchReceiverStream::builder(stream.schema(), BATCHES_AHEAD);
    let batches = builder.tx();
    builder.spawn(async move {
        while let Some(batch) = stream.next().await {
            let failed = batch.is_err();
            // The writer has gone (it failed or was interrupted): stop.
            if batches.send(batch).await.is_err() || failed {
                break;
            }
        }
        Ok(())
    });
    builder.build()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use datafusion::arrow::array::{Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
    use datafusion::error::DataFusionError;
    use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
    use futures::TryStreamExt;

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]))
    }

    /// A query of `count` one-row batches (`n` = 0, 1, ...), then the
    /// error `fail_with` if any, counting the batches it has made.
    fn counted(
        count: i64,
        fail_with: Option<&'static str>,
        made: Arc<AtomicUsize>,
    ) -> SendableRecordBatchStream {
        let batches = (0..count)
            .map(move |n| {
                made.fetch_add(1, Ordering::SeqCst);
                Ok(RecordBatch::try_new(
                    schema(),
                    vec![Arc::new(Int64Array::from(vec![n]))],
                )?)
            })
            .chain(fail_with.map(|e| Err(DataFusionError::Execution(e.to_owned()))));
        Box::pin(RecordBatchStreamAdapter::new(
            schema(),
            futures::stream::iter(batches),
        ))
    }

    fn values(batches: &[RecordBatch]) -> Vec<i64> {
        batches
            .iter()
            .flat_map(|b| {
                let column = b.column(0).as_any().downcast_ref::<Int64Array>();
                column.map(|c| c.values().to_vec()).unwrap_or_default()
            })
            .collect()
    }

    /// While the writer is busy with its first batch, the query has
    /// already made the next ones, no more than it may hold ahead.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_query_runs_ahead_while_the_writer_is_busy() {
        let made = Arc::new(AtomicUsize::new(0));
        let mut ahead = read_ahead(counted(100, None, Arc::clone(&made)));
        let first = ahead.try_next().await.unwrap().unwrap();
        assert_eq!(values(&[first]), [0]);
        let mut waited = Duration::ZERO;
        while made.load(Ordering::SeqCst) < 1 + BATCHES_AHEAD && waited < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(5)).await;
            waited += Duration::from_millis(5);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        // One taken, BATCHES_AHEAD queued, one made and waiting for room.
        let made_now = made.load(Ordering::SeqCst);
        assert!(
            (1 + BATCHES_AHEAD..=2 + BATCHES_AHEAD).contains(&made_now),
            "{made_now} batches made while the writer held the first"
        );
        let rest: Vec<RecordBatch> = ahead.try_collect().await.unwrap();
        assert_eq!(values(&rest), (1..100).collect::<Vec<_>>());
    }

    /// An error reaches the writer after every batch before it, in order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_error_comes_after_the_batches_before_it() {
        let made = Arc::new(AtomicUsize::new(0));
        let mut ahead = read_ahead(counted(5, Some("division by zero"), made));
        let mut seen = Vec::new();
        let error = loop {
            match ahead.next().await {
                Some(Ok(batch)) => seen.push(batch),
                Some(Err(e)) => break e,
                None => panic!("the stream ended without its error"),
            }
        };
        assert_eq!(values(&seen), [0, 1, 2, 3, 4]);
        assert!(error.to_string().contains("division by zero"), "{error}");
        assert!(ahead.next().await.is_none());
    }

    /// A writer that stops (an error, Ctrl-C) stops the query: dropping
    /// the stream aborts the task running it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_the_stream_stops_the_query() {
        let made = Arc::new(AtomicUsize::new(0));
        let mut ahead = read_ahead(counted(1_000_000, None, Arc::clone(&made)));
        ahead.try_next().await.unwrap();
        drop(ahead);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let stopped_at = made.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(made.load(Ordering::SeqCst), stopped_at);
        assert!(stopped_at < 10, "{stopped_at} batches made");
    }
}
