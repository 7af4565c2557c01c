use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::DataFusionError;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::{StreamExt, TryStreamExt};

use super::*;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]))
}

/// A batch of `rows` rows, each `n`.
fn batch(n: i64, rows: usize) -> Result<RecordBatch> {
    let values = Int64Array::from(vec![n; rows]);
    Ok(RecordBatch::try_new(schema(), vec![Arc::new(values)])?)
}

/// A query of `count` batches of `rows` rows (`n` = 0, 1, ...), then the
/// error `fail_with` if any and one batch more, counting the batches made.
fn counted(
    count: i64,
    rows: usize,
    fail_with: Option<&'static str>,
    made: Arc<AtomicUsize>,
) -> SendableRecordBatchStream {
    let made_too = Arc::clone(&made);
    let batches = (0..count)
        .map(move |n| {
            made.fetch_add(1, Ordering::SeqCst);
            batch(n, rows)
        })
        .chain(fail_with.into_iter().flat_map(move |e| {
            made_too.fetch_add(1, Ordering::SeqCst);
            [
                Err(DataFusionError::Execution(e.to_owned())),
                batch(-1, rows),
            ]
        }));
    Box::pin(RecordBatchStreamAdapter::new(
        schema(),
        futures::stream::iter(batches),
    ))
}

fn first_values(batches: &[RecordBatch]) -> Vec<i64> {
    batches
        .iter()
        .filter_map(|b| b.column(0).as_any().downcast_ref::<Int64Array>())
        .map(|c| c.value(0))
        .collect()
}

/// Waits (up to 10 s) for `made` to reach `at_least`, then a little more
/// for anything beyond it; its count then.
async fn settled(made: &AtomicUsize, at_least: usize) -> usize {
    for _ in 0..2000 {
        if made.load(Ordering::SeqCst) >= at_least {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    made.load(Ordering::SeqCst)
}

/// While the writer is busy with its first batch, the query has already
/// made the next ones: those the channel holds and one waiting for room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn narrow_batches_are_made_ahead_while_the_writer_is_busy() {
    let made = Arc::new(AtomicUsize::new(0));
    let mut ahead = read_ahead(
        counted(100, 10, None, Arc::clone(&made)),
        CopyFormat::Parquet,
    );
    let first = ahead.try_next().await.unwrap().unwrap();
    assert_eq!(first_values(&[first]), [0]);
    let made_now = settled(&made, 1 + BATCHES_AHEAD).await;
    assert_eq!(
        made_now,
        2 + BATCHES_AHEAD,
        "batches made while the writer held the first"
    );
    let rest: Vec<RecordBatch> = ahead.try_collect().await.unwrap();
    assert_eq!(first_values(&rest), (1..100).collect::<Vec<_>>());
}

/// Wide batches (a third of the budget or more) are not made ahead: the
/// query goes back to the writer's side, the next made only once the
/// writer asks for it, as without read-ahead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wide_batches_wait_for_the_writer() {
    let made = Arc::new(AtomicUsize::new(0));
    let rows = 1000;
    let size = batch(0, rows).unwrap().get_array_memory_size();
    let mut ahead = read_ahead_within(counted(5, rows, None, Arc::clone(&made)), size);
    for n in 0..5 {
        let next = ahead.try_next().await.unwrap().unwrap();
        assert_eq!(first_values(&[next]), [n]);
        let made_now = settled(&made, n as usize + 1).await;
        assert_eq!(
            made_now,
            n as usize + 1,
            "made while the writer held batch {n}"
        );
    }
    assert!(ahead.try_next().await.unwrap().is_none());
}

/// A CSV or JSON COPY's query is not read ahead: their encoders keep
/// every core busy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_formats_are_not_read_ahead() {
    for format in [CopyFormat::Csv, CopyFormat::Json] {
        let made = Arc::new(AtomicUsize::new(0));
        let mut ahead = read_ahead(counted(10, 10, None, Arc::clone(&made)), format);
        ahead.try_next().await.unwrap();
        assert_eq!(settled(&made, 1).await, 1, "{format:?}");
    }
}

/// Batches that grow past the budget after narrow ones are made ahead
/// only while their bytes fit: once they fill it, the next is made only
/// when the writer asks for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_grown_past_the_budget_wait_for_the_writer() {
    let made = Arc::new(AtomicUsize::new(0));
    let rows = 1000;
    let budget = batch(0, rows).unwrap().get_array_memory_size();
    let counter = Arc::clone(&made);
    let growing = futures::stream::iter(0..5).map(move |n: i64| {
        counter.fetch_add(1, Ordering::SeqCst);
        batch(n, if n == 0 { 1 } else { rows })
    });
    let query = Box::pin(RecordBatchStreamAdapter::new(schema(), growing));
    let mut ahead = read_ahead_within(query, budget);
    for n in 0..5 {
        let next = ahead.try_next().await.unwrap().unwrap();
        assert_eq!(first_values(&[next]), [n]);
        // The first, narrow, batch lets one more be made ahead.
        let expected = if n == 0 { 2 } else { n as usize + 1 };
        let made_now = settled(&made, expected).await;
        assert_eq!(made_now, expected, "made while the writer held batch {n}");
    }
    assert!(ahead.try_next().await.unwrap().is_none());
}

/// An error reaches the writer after every batch before it, in order, and
/// nothing after it is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_ends_the_stream_after_the_batches_before_it() {
    let made = Arc::new(AtomicUsize::new(0));
    let parquet = CopyFormat::Parquet;
    let mut ahead = read_ahead(
        counted(5, 10, Some("division by zero"), Arc::clone(&made)),
        parquet,
    );
    let mut seen = Vec::new();
    let error = loop {
        match ahead.next().await {
            Some(Ok(batch)) => seen.push(batch),
            Some(Err(e)) => break e,
            None => panic!("the stream ended without its error"),
        }
    };
    assert_eq!(first_values(&seen), [0, 1, 2, 3, 4]);
    assert!(error.to_string().contains("division by zero"), "{error}");
    assert!(ahead.next().await.is_none(), "a batch after the error");
}

/// Dropped when the query's task is dropped: a query stopped mid-way.
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A writer that stops (an error, Ctrl-C) stops the query: dropping the
/// stream aborts the task, also while the query waits (for S3, say).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_stream_stops_a_waiting_query() {
    let stopped = Arc::new(AtomicUsize::new(0));
    let running = Running(Arc::clone(&stopped));
    let waits_after_one =
        futures::stream::once(async { batch(0, 1) }).chain(futures::stream::once(async move {
            let _running = running;
            std::future::pending::<()>().await;
            batch(1, 1)
        }));
    let query = Box::pin(RecordBatchStreamAdapter::new(schema(), waits_after_one));
    let mut ahead = read_ahead(query, CopyFormat::Parquet);
    ahead.try_next().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        stopped.load(Ordering::SeqCst),
        0,
        "the query stopped before the drop"
    );
    drop(ahead);
    assert_eq!(settled(&stopped, 1).await, 1, "the query still runs");
}
