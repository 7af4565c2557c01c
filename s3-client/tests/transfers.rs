//! Parallel ranged reads and the streaming multipart writer, against a real server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Fixture, pattern_bytes};
use futures::TryStreamExt;
use s3sql_s3_client::{MultipartWriter, PutObjectRequest, ReadConfig};

const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn parallel_read_returns_exact_bytes_in_order() {
    let fx = Fixture::with_config(|mut c| {
        c.read = ReadConfig {
            chunk_size: MIB as u64,
            concurrency: 4,
            coalesce_gap: 0,
        };
        c
    })
    .await;
    let key = fx.key("big/blob.bin");
    let data = pattern_bytes(10 * MIB + 123, 42);
    fx.client
        .put_object(
            fx.bucket(),
            &key,
            data.clone(),
            &PutObjectRequest::default(),
        )
        .await
        .unwrap();

    let before = fx.client.request_count();
    fx.assert_holds(&key, &data).await;
    // One HEAD for the size and ETag, then one GET per 1 MiB chunk.
    assert_eq!(fx.client.request_count() - before, 1 + 11);

    let part = fx
        .client
        .read_to_bytes(
            fx.bucket(),
            &key,
            Some(3 * MIB as u64 + 5..5 * MIB as u64 + 7),
        )
        .await
        .unwrap();
    assert!(part == data.slice(3 * MIB + 5..5 * MIB + 7));

    let err = fx
        .client
        .read_to_bytes(fx.bucket(), &key, Some(0..data.len() as u64 + 1))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("outside"), "{err}");
}

#[tokio::test]
async fn writer_streams_parts_and_completes() {
    let fx = Fixture::new().await;
    let key = fx.key("writer/out.bin");
    let data = pattern_bytes(12 * MIB + 17, 9);
    let mut writer = fx.writer(&fx.client, &key, PutObjectRequest::default());
    let before = fx.client.request_count();
    // Uneven writes straddle part boundaries.
    for chunk in data.chunks(777_777) {
        writer.write(chunk).await.unwrap();
    }
    writer.finish().await.unwrap();
    // Create + 3 parts + Complete.
    assert_eq!(fx.client.request_count() - before, 5);
    fx.assert_holds(&key, &data).await;
    fx.assert_no_upload_open("writer/").await;
}

/// With one part in flight, every part after the first is filled in the
/// buffer of the part before it: stale bytes from reuse would show here.
#[tokio::test]
async fn writer_reusing_part_buffers_keeps_bytes_exact() {
    let fx = Fixture::with_config(|mut c| {
        c.upload.max_in_flight = 1;
        c
    })
    .await;
    let key = fx.key("writer/reused.bin");
    let data = pattern_bytes(4 * 5 * MIB + 3 * MIB + 1, 17);
    let mut writer = fx.writer(&fx.client, &key, PutObjectRequest::default());
    for chunk in data.chunks(1_234_567) {
        writer.write(chunk).await.unwrap();
    }
    writer.finish().await.unwrap();
    fx.assert_holds(&key, &data).await;
}

#[tokio::test]
async fn small_writes_use_one_put() {
    let fx = Fixture::new().await;
    let key = fx.key("writer/small.csv");
    let mut writer =
        MultipartWriter::new(&fx.client, fx.bucket(), &key, PutObjectRequest::default());
    assert_eq!(writer.part_size(), 80_000_000, "DuckDB's default part size");
    writer.write(b"a,b\n1,2\n").await.unwrap();
    let before = fx.client.request_count();
    writer.finish().await.unwrap();
    assert_eq!(fx.client.request_count() - before, 1);
    let got = fx
        .client
        .read_to_bytes(fx.bucket(), &key, None)
        .await
        .unwrap();
    assert_eq!(&got[..], b"a,b\n1,2\n");
}

#[tokio::test]
async fn explicit_abort_and_drop_leave_no_upload() {
    let fx = Fixture::new().await;
    let key = fx.key("writer/aborted.bin");
    let data = pattern_bytes(6 * MIB, 3);

    let mut writer = fx.writer(&fx.client, &key, PutObjectRequest::default());
    writer.write(&data).await.unwrap();
    writer.abort().await.unwrap();
    assert_no_upload_and_no_object(&fx, &key).await;

    let mut writer = fx.writer(&fx.client, &key, PutObjectRequest::default());
    writer.write(&data).await.unwrap();
    drop(writer);
    // The abort runs in the background: wait for it, bounded.
    for _ in 0..50 {
        let open = fx
            .client
            .list_multipart_uploads(fx.bucket(), &fx.key("writer/"))
            .await
            .unwrap();
        if open.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_no_upload_and_no_object(&fx, &key).await;
}

async fn assert_no_upload_and_no_object(fx: &Fixture, key: &str) {
    let open = fx
        .client
        .list_multipart_uploads(fx.bucket(), &fx.key("writer/"))
        .await
        .unwrap();
    assert!(
        open.iter().all(|u| u.key != key),
        "open uploads left: {open:?}"
    );
    let err = fx.client.head_object(fx.bucket(), key).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn read_parallel_streams_chunks() {
    let fx = Fixture::with_config(|mut c| {
        c.read.chunk_size = MIB as u64;
        c
    })
    .await;
    let key = fx.key("big/stream.bin");
    let data = pattern_bytes(3 * MIB + 1, 5);
    fx.client
        .put_object(
            fx.bucket(),
            &key,
            data.clone(),
            &PutObjectRequest::default(),
        )
        .await
        .unwrap();
    let chunks: Vec<bytes::Bytes> = fx
        .client
        .read_parallel(fx.bucket(), &key, None, None)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(chunks.len(), 4);
    assert!(chunks.iter().take(3).all(|c| c.len() == MIB));
    assert_eq!(chunks.concat(), data.to_vec());
}

fn new_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn writer_dropped_during_runtime_shutdown_says_so_and_abort_cleans_up() {
    let (log, _guard) = s3sql_testkit::capture_logs();
    let runtime = new_runtime();
    let fx = runtime.block_on(Fixture::new());
    let key = fx.key("writer/shutdown.bin");
    runtime.block_on(async {
        let mut writer = fx.writer(&fx.client, &key, PutObjectRequest::default());
        writer.write(&pattern_bytes(6 * MIB, 22)).await.unwrap();
        // The writer lives in a task that never ends: shutting the runtime
        // down drops it there, where no abort can run any more.
        tokio::spawn(async move {
            let _writer = writer;
            std::future::pending::<()>().await
        });
        tokio::task::yield_now().await;
    });
    drop(runtime);
    let text = log.text();
    assert!(text.contains("upload left open"), "nothing logged: {text}");
    assert!(text.contains(&key), "the log names the key: {text}");
    // The upload really is open, and the explicit path cleans it up.
    let runtime = new_runtime();
    runtime.block_on(async {
        let client = common::client_for(&fx.target, common::config_for(&fx.target));
        let open = client
            .list_multipart_uploads(fx.bucket(), &key)
            .await
            .unwrap();
        assert_eq!(open.len(), 1, "{open:?}");
        client
            .abort_multipart_upload(fx.bucket(), &key, &open[0].upload_id)
            .await
            .unwrap();
    });
}

/// The same while the writer's CreateMultipartUpload is still under way
/// (slow to answer, the write cancelled): the runtime's shutdown drops the
/// cleanup that would abort the upload once its id arrives, and says so.
#[test]
fn writer_dropped_while_its_upload_starts_during_runtime_shutdown_says_so() {
    use s3sql_testkit::{Fault, FaultRule};
    let (log, _guard) = s3sql_testkit::capture_logs();
    let runtime = new_runtime();
    let fx = runtime.block_on(Fixture::new());
    let key = fx.key("writer/shutdown-creating.bin");
    let proxy = runtime.block_on(async { fx.target.fault_proxy() });
    proxy.push_rule(
        FaultRule::new(Fault::Delay(std::time::Duration::from_secs(2)))
            .method(http::Method::POST)
            .query_contains("uploads"),
    );
    let client = fx.client_via(&proxy.endpoint(), |c| c);
    runtime.block_on(async {
        let mut writer = fx.writer(&client, &key, PutObjectRequest::default());
        let data = pattern_bytes(6 * MIB, 23);
        let write = writer.write(&data);
        let cut = tokio::time::timeout(std::time::Duration::from_millis(200), write).await;
        assert!(cut.is_err(), "the write ended before it could be cancelled");
        drop(writer);
    });
    drop(runtime);
    let text = log.text();
    assert!(text.contains("left open"), "nothing logged: {text}");
    assert!(text.contains(&key), "the log names the key: {text}");
    // Whatever the server started is aborted here, not left billed.
    let runtime = new_runtime();
    runtime.block_on(async {
        std::thread::sleep(std::time::Duration::from_secs(2));
        let client = common::client_for(&fx.target, common::config_for(&fx.target));
        for upload in client
            .list_multipart_uploads(fx.bucket(), &key)
            .await
            .unwrap()
        {
            client
                .abort_multipart_upload(fx.bucket(), &key, &upload.upload_id)
                .await
                .unwrap();
        }
    });
}

/// A fixture, a proxy in front of its server delaying every UploadPart by
/// `millis`, and a client through the proxy.
async fn with_slow_parts(
    millis: u64,
) -> (
    Fixture,
    s3sql_testkit::FaultProxy,
    s3sql_s3_client::S3Client,
) {
    use s3sql_testkit::{Fault, FaultRule};
    let fx = Fixture::new().await;
    let proxy = fx.target.fault_proxy();
    proxy.push_rule(
        FaultRule::new(Fault::Delay(std::time::Duration::from_millis(millis)))
            .method(http::Method::PUT)
            .query_contains("partNumber")
            .always(),
    );
    let client = fx.client_via(&proxy.endpoint(), |c| c);
    (fx, proxy, client)
}

/// Writers sharing one [`UploadBudget`] never have more part bytes
/// uploading than it holds, whatever their number: measured by the budget's
/// high-water mark and, independently, by how many UploadParts the server
/// side saw at once. Every object still completes whole.
#[tokio::test]
async fn writers_sharing_a_budget_stay_within_it() {
    use s3sql_s3_client::UploadBudget;
    // Slow parts, so that uploads of different writers overlap.
    let (fx, proxy, client) = with_slow_parts(300).await;
    let budget = UploadBudget::new(3 * 5 * MIB as u64);
    let writers = (0..5u64).map(|i| {
        let client = client.clone();
        let budget = budget.clone();
        let key = fx.key(&format!("budget/part-{i}.bin"));
        let bucket = fx.bucket().to_owned();
        // Two whole 5 MiB parts each: every part takes the same share.
        let data = pattern_bytes(10 * MIB, 100 + i);
        async move {
            let mut writer = MultipartWriter::builder(&client, &bucket, &key)
                .part_size(5 * MIB)
                .budget(budget)
                .build();
            for chunk in data.chunks(MIB) {
                writer.write(chunk).await.unwrap();
            }
            writer.finish().await.unwrap();
            (key, data)
        }
    });
    let written = futures::future::join_all(writers).await;
    // What bounds the bytes is the proxy's count of parts uploading at
    // once (below); the budget's own high water only shows overlap.
    assert!(
        budget.high_water() >= 2 * 5 * MIB as u64,
        "the writers never overlapped: high water {}",
        budget.high_water()
    );
    let peak = proxy.peak_in_flight(&http::Method::PUT);
    assert!(
        (2..=3).contains(&peak),
        "{peak} parts were uploading at once through the proxy; the budget holds 3"
    );
    assert_eq!(budget.in_use(), 0, "every part gave its bytes back");
    for (key, data) in written {
        fx.assert_holds(&key, &data).await;
    }
}

/// A writer dropped while its parts upload gives their share of a shared
/// budget back: the other writers of the job are not starved by it.
#[tokio::test]
async fn a_dropped_writer_gives_its_budget_back() {
    use s3sql_s3_client::UploadBudget;
    let (fx, _proxy, client) = with_slow_parts(500).await;
    let budget = UploadBudget::new(4 * 5 * MIB as u64);
    let key = fx.key("budget/dropped.bin");
    let mut writer = MultipartWriter::builder(&client, fx.bucket(), &key)
        .part_size(5 * MIB)
        .budget(budget.clone())
        .build();
    let data = pattern_bytes(10 * MIB, 120);
    writer.write(&data).await.unwrap();
    assert!(budget.in_use() > 0, "no part was uploading");
    drop(writer);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(budget.in_use(), 0, "a dropped writer kept its share");
}
