//! Retries, resumption and cleanup through testkit's fault-injection proxy,
//! in front of the test target (s3s-fs by default, moto in CI).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Fixture, pattern_bytes};
use http::Method;
use s3sql_s3_client::{
    ByteRange, CopyObjectRequest, GetObjectRequest, ListObjectsV2Request, MultipartWriter,
    PutObjectOutput, PutObjectRequest, RetryConfig, S3Client,
};
use s3sql_testkit::{Fault, FaultProxy, FaultRule, RecordedRequest};

const MIB: usize = 1024 * 1024;

/// A fixture plus a proxy in front of it and a client that goes through it
/// with fast retries.
async fn proxied() -> (Fixture, FaultProxy, S3Client) {
    let fx = Fixture::new().await;
    let proxy = fx.target.fault_proxy();
    let client = fx.client_via(&proxy.endpoint(), fast_retries);
    (fx, proxy, client)
}

/// `c` with 3 quick retries and a 2 s timeout per attempt.
fn fast_retries(mut c: s3sql_s3_client::ClientConfig) -> s3sql_s3_client::ClientConfig {
    c.retry = RetryConfig {
        max_retries: 3,
        initial_backoff: Duration::from_millis(5),
        backoff_multiplier: 2.0,
        max_backoff: Duration::from_millis(50),
    };
    c.request_timeout = Duration::from_secs(2);
    c
}

/// An S3 error answer from the proxy, without reaching the server.
fn status(status: u16, code: &str) -> Fault {
    Fault::Status {
        status,
        code: code.into(),
    }
}

#[tokio::test]
async fn slow_down_and_internal_error_are_retried() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/retry.bin");
    let data = pattern_bytes(4096, 1);
    fx.put(&key, data.clone()).await;
    proxy.push_rule(
        FaultRule::new(status(503, "SlowDown"))
            .method(Method::GET)
            .times(2),
    );
    proxy.push_rule(
        FaultRule::new(status(500, "InternalError"))
            .method(Method::GET)
            .times(1),
    );
    let got = client
        .get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default())
        .await
        .unwrap();
    assert_eq!(got, data);
    assert_eq!(proxy.faults_injected(), 3);
}

#[tokio::test]
async fn retries_are_bounded_and_reported() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/always-503");
    proxy.push_rule(FaultRule::new(status(503, "SlowDown")).times(100));
    let err = client.head_object(fx.bucket(), &key).await.unwrap_err();
    assert_eq!(err.status(), Some(503), "{err}");
    // One attempt plus three retries.
    assert_eq!(proxy.requests_seen(), 4);
    assert!(err.to_string().contains("http_retries"), "{err}");
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (fx, proxy, client) = proxied().await;
    let err = client
        .get_object_bytes(
            fx.bucket(),
            &fx.key("f/missing"),
            &GetObjectRequest::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NoSuchKey"));
    assert_eq!(proxy.requests_seen(), 1);
}

#[tokio::test]
async fn connection_reset_is_retried() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/reset.bin");
    let data = pattern_bytes(10_000, 2);
    fx.put(&key, data.clone()).await;
    proxy.push_rule(FaultRule::new(Fault::Reset).method(Method::GET).times(2));
    let got = client
        .get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default())
        .await
        .unwrap();
    assert_eq!(got, data);
    assert_eq!(proxy.faults_injected(), 2, "the resets never fired");
    assert_eq!(proxy.requests_seen(), 3);
}

#[tokio::test]
async fn cut_body_resumes_from_last_byte() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/cut.bin");
    let data = pattern_bytes(3 * MIB, 3);
    fx.put(&key, data.clone()).await;
    // The first GET dies after 1 MiB, the resumed one after another 100 KiB.
    proxy.push_rule(
        FaultRule::new(Fault::CutBody { after_bytes: MIB })
            .method(Method::GET)
            .times(1),
    );
    proxy.push_rule(
        FaultRule::new(Fault::CutBody {
            after_bytes: 100 * 1024,
        })
        .method(Method::GET)
        .times(1),
    );
    let got = client
        .get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default())
        .await
        .unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "resumed bytes differ");
    // Three GETs: the cut one, the cut resume, and the resume that finished.
    assert_eq!(proxy.requests_seen(), 3);
}

/// A body cut on every answer is resumed as often as the retry policy
/// allows (`max_retries`, 3 by default), waiting its backoff between
/// resumes, and then fails naming the cut: four GETs, never more.
#[tokio::test]
async fn cut_on_every_answer_fails_after_the_retry_budget() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/always-cut.bin");
    fx.put(&key, pattern_bytes(10_000, 4)).await;
    proxy.push_rule(
        FaultRule::new(Fault::CutBody { after_bytes: 1000 })
            .method(Method::GET)
            .always(),
    );
    let err = client
        .get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("cut short"), "{err}");
    assert_eq!(proxy.requests_seen(), 4);
}

#[tokio::test]
async fn slow_server_times_out_then_succeeds() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/slow.txt");
    fx.put(&key, Bytes::from_static(b"slow")).await;
    proxy.push_rule(
        FaultRule::new(Fault::Delay(Duration::from_secs(3)))
            .method(Method::GET)
            .times(1),
    );
    let started = std::time::Instant::now();
    let got = client
        .get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default())
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(&got[..], b"slow");
    // The first attempt gave up at the 2 s timeout, not after the 3 s delay.
    assert_eq!(proxy.requests_seen(), 2, "one timed-out attempt, one retry");
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_millis(2900),
        "took {elapsed:?}"
    );
}

#[tokio::test]
async fn stalled_server_times_out_on_every_attempt() {
    let (fx, proxy, _) = proxied().await;
    let client = fx.client_via(&proxy.endpoint(), |mut c| {
        c.retry.max_retries = 2;
        c.retry.initial_backoff = Duration::from_millis(5);
        c.retry.max_backoff = Duration::from_millis(20);
        c.request_timeout = Duration::from_millis(500);
        c
    });
    proxy.push_rule(FaultRule::new(Fault::Delay(Duration::from_secs(30))).times(100));
    let started = std::time::Instant::now();
    let err = client
        .head_object(fx.bucket(), &fx.key("f/stalled"))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(err, s3sql_s3_client::Error::Timeout { attempts: 3, .. }),
        "{err}"
    );
    assert_eq!(proxy.requests_seen(), 3);
    assert!(
        elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_secs(4),
        "took {elapsed:?}"
    );
}

/// Uploads one part of `size` bytes through a proxy throttled to `rate`
/// bytes per second, with one attempt and a 2 s timeout: it must succeed,
/// taking longer than `at_least`.
async fn throttled_part_succeeds(name: &str, size: usize, rate: u64, at_least: Duration) {
    let (fx, proxy, _) = proxied().await;
    let client = fx.client_via(&proxy.endpoint(), |mut c| {
        c.retry.max_retries = 0;
        c.request_timeout = Duration::from_secs(2);
        c
    });
    let key = fx.key(name);
    let data = pattern_bytes(size, 23);
    proxy.push_rule(
        FaultRule::new(Fault::Throttle {
            bytes_per_second: rate,
        })
        .method(Method::PUT)
        .query_contains("partNumber=1")
        .times(1),
    );
    let upload = client
        .create_multipart_upload(fx.bucket(), &key, &PutObjectRequest::default())
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let part = client
        .upload_part(fx.bucket(), &key, &upload, 1, data.clone())
        .await
        .unwrap();
    assert!(
        started.elapsed() > at_least,
        "the throttle did not slow the part: {:?}",
        started.elapsed()
    );
    assert_eq!(proxy.faults_injected(), 1);
    client
        .complete_multipart_upload(fx.bucket(), &key, &upload, &[part])
        .await
        .unwrap();
    fx.assert_holds(&key, &data).await;
}

/// The one attempt must succeed although it takes 4 s, twice the timeout.
#[tokio::test]
async fn part_upload_slower_than_the_timeout_succeeds() {
    let rate = 8 * MIB as u64;
    throttled_part_succeeds("f/mp-throttled.bin", 32 * MIB, rate, Duration::from_secs(3)).await;
}

#[tokio::test]
async fn upload_part_failures_are_retried() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-retry.bin");
    let data = pattern_bytes(11 * MIB, 4);
    proxy.push_rule(
        FaultRule::new(status(500, "InternalError"))
            .method(Method::PUT)
            .query_contains("partNumber=2")
            .times(2),
    );
    fx.write_multipart(&client, &key, &data).await.unwrap();
    fx.assert_holds(&key, &data).await;
    assert_eq!(proxy.faults_injected(), 2);
}

#[tokio::test]
async fn complete_with_error_in_200_body_is_retried() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-200-error.bin");
    let data = pattern_bytes(6 * MIB, 5);
    proxy.push_rule(
        FaultRule::new(status(200, "InternalError"))
            .method(Method::POST)
            .query_contains("uploadId=")
            .times(1),
    );
    fx.write_multipart(&client, &key, &data).await.unwrap();
    assert_eq!(proxy.faults_injected(), 1);
    fx.assert_holds(&key, &data).await;
}

#[tokio::test]
async fn complete_whose_response_is_lost_still_succeeds() {
    use md5::{Digest, Md5};
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-complete-lost.bin");
    let data = pattern_bytes(11 * MIB, 9);
    // The server completes the upload, then its answer is lost: the
    // retried Complete finds no upload any more (NoSuchUpload, as S3 and
    // moto answer), although the object is there, whole.
    proxy.push_rule(
        FaultRule::new(Fault::DropResponse)
            .method(Method::POST)
            .query_contains("uploadId=")
            .times(1),
    );
    let out = fx.write_multipart(&client, &key, &data).await.unwrap();
    assert_eq!(proxy.faults_injected(), 1);
    // The client recognised its own upload by a HEAD after the retry
    // (where the retry is answered NoSuchUpload, as by the in-process
    // server; moto, like S3 for a while, answers a repeated Complete 200)...
    let seen = proxy.recorded();
    let completes: Vec<usize> = (0..seen.len())
        .filter(|&i| seen[i].method == Method::POST && seen[i].query.contains("uploadId="))
        .collect();
    assert_eq!(completes.len(), 2, "the lost Complete was retried");
    if std::env::var_os("S3SQL_TEST_ENDPOINT").is_none() {
        assert!(
            seen[completes[1]..]
                .iter()
                .any(|r| r.method == Method::HEAD),
            "no HEAD checked the object after NoSuchUpload"
        );
    }
    // ...whose ETag is S3's for these parts: MD5 of the part MD5s, "-3".
    let mut digest = Md5::new();
    for part in data.chunks(5 * MIB) {
        digest.update(Md5::digest(part));
    }
    let hex: String = digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        out.etag.as_deref().map(|e| e.trim_matches('"')),
        Some(format!("{hex}-3").as_str())
    );
    fx.assert_holds(&key, &data).await;
}

#[tokio::test]
async fn failed_multipart_write_leaves_nothing_behind() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-fail.bin");
    let data = pattern_bytes(16 * MIB, 6);
    // Part 3 fails on every attempt: the writer must abort the upload.
    proxy.push_rule(
        FaultRule::new(status(500, "InternalError"))
            .method(Method::PUT)
            .query_contains("partNumber=3")
            .times(100),
    );
    let result = fx.write_multipart(&client, &key, &data).await;
    let err = result.unwrap_err();
    assert!(err.to_string().contains("UploadPart"), "{err}");
    fx.assert_no_upload_open("f/").await;
    let err = fx.client.head_object(fx.bucket(), &key).await.unwrap_err();
    assert!(err.is_not_found(), "a partial object exists: {err}");
}

#[tokio::test]
async fn failed_complete_aborts_the_upload() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-complete-fails.bin");
    let data = pattern_bytes(6 * MIB, 8);
    proxy.push_rule(
        FaultRule::new(status(400, "InvalidPart"))
            .method(Method::POST)
            .query_contains("uploadId=")
            .times(1),
    );
    let err = fx.write_multipart(&client, &key, &data).await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidPart"), "{err}");
    fx.assert_no_upload_open("f/").await;
    assert!(
        fx.client
            .head_object(fx.bucket(), &key)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn region_redirect_is_followed_once() {
    let (fx, proxy, _) = proxied().await;
    // The client starts with a wrong region; the redirect names the region
    // the server really has, so a server that enforces its region accepts
    // the retry.
    let real = fx.target.region.clone();
    let wrong = if real == "eu-west-3" {
        "ap-south-1"
    } else {
        "eu-west-3"
    };
    let client = fx.client_via(&proxy.endpoint(), |c| c.with_region(wrong));
    let key = fx.key("f/redirect.txt");
    fx.put(&key, Bytes::from_static(b"here")).await;
    proxy.push_rule(
        FaultRule::new(Fault::Redirect {
            region: real.clone(),
        })
        .times(1),
    );
    let got = client
        .get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default())
        .await
        .unwrap();
    assert_eq!(&got[..], b"here");
    let seen = proxy.recorded();
    assert_eq!(seen.len(), 2);
    let scope = |i: usize| {
        seen[i].headers["authorization"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert!(
        scope(0).contains(&format!("/{wrong}/s3/")),
        "first attempt signs for the configured region"
    );
    assert!(
        scope(1).contains(&format!("/{real}/s3/")),
        "the retry signs for the bucket's region"
    );
    // The learnt region sticks for later requests on that bucket.
    client.head_object(fx.bucket(), &key).await.unwrap();
    assert!(
        proxy.recorded()[2].headers["authorization"]
            .to_str()
            .unwrap()
            .contains(&format!("/{real}/s3/"))
    );
}

#[tokio::test]
async fn a_redirect_to_a_malformed_region_is_not_followed() {
    let (fx, proxy, client) = proxied().await;
    proxy.push_rule(
        FaultRule::new(Fault::Redirect {
            region: "evil.example.com/x".into(),
        })
        .times(100),
    );
    let err = client
        .head_object(fx.bucket(), &fx.key("f/bad-region"))
        .await
        .unwrap_err();
    assert_eq!(proxy.requests_seen(), 1, "a malformed region is not learnt");
    assert_eq!(err.status(), Some(301), "{err}");
}

#[tokio::test]
async fn start_after_before_the_prefix_is_not_sent() {
    let (fx, proxy, client) = proxied().await;
    let prefix = fx.key("f/listing/");
    fx.put(&format!("{prefix}a.txt"), Bytes::from_static(b"a"))
        .await;
    // Each sorts before every key under the prefix, so excludes nothing.
    let just_before = prefix.trim_end_matches('/').to_owned();
    for start_after in ["", "!", just_before.as_str()] {
        let request = s3sql_s3_client::ListObjectsV2Request {
            start_after: Some(start_after.to_owned()),
            ..s3sql_s3_client::ListObjectsV2Request::prefix(prefix.clone())
        };
        let page = client
            .list_objects_v2_page(fx.bucket(), &request, None)
            .await
            .unwrap();
        assert_eq!(page.objects.len(), 1, "start-after {start_after:?}");
    }
    for r in proxy.recorded() {
        assert!(!r.query.contains("start-after"), "sent: {}", r.query);
    }
}

#[tokio::test]
async fn a_second_redirect_is_reported_with_the_region_to_set() {
    let (fx, proxy, client) = proxied().await;
    proxy.push_rule(
        FaultRule::new(Fault::Redirect {
            region: "ap-south-1".into(),
        })
        .times(100),
    );
    let err = client
        .head_object(fx.bucket(), &fx.key("f/x"))
        .await
        .unwrap_err();
    assert_eq!(
        proxy.requests_seen(),
        2,
        "one redirect is followed, not more"
    );
    assert!(err.to_string().contains("REGION 'ap-south-1'"), "{err}");
}

#[tokio::test]
async fn writes_carry_sse_kms_and_requester_pays_headers() {
    let fx = Fixture::new().await;
    let proxy = fx.target.fault_proxy();
    let client = fx.client_via(&proxy.endpoint(), |mut c| {
        c.sse_kms_key_id = Some("arn:aws:kms:us-east-1:111122223333:key/s3sql-test".into());
        c.requester_pays = true;
        c
    });
    // Only the headers sent are asserted: servers differ in what they do with KMS ids.
    let key = fx.key("f/kms.bin");
    let _ = client
        .put_object(
            fx.bucket(),
            &key,
            Bytes::from_static(b"k"),
            &PutObjectRequest::default(),
        )
        .await;
    let created = client
        .create_multipart_upload(fx.bucket(), &key, &PutObjectRequest::default())
        .await;
    let _ = client.head_object(fx.bucket(), &key).await;
    // A server that took the KMS header started an upload: leave none open
    // (aborted through the fixture's own client, past the proxy's record).
    if let Ok(upload_id) = created {
        fx.client
            .abort_multipart_upload(fx.bucket(), &key, &upload_id)
            .await
            .unwrap();
    }
    // (A server ignoring SSE-KMS has the upload aborted by the client:
    // that DELETE is not asserted.)
    let seen: Vec<_> = proxy
        .recorded()
        .into_iter()
        .filter(|r| r.method != Method::DELETE)
        .collect();
    assert_eq!(seen.len(), 3);
    for write in &seen[..2] {
        assert_eq!(write.headers["x-amz-server-side-encryption"], "aws:kms");
        assert_eq!(
            write.headers["x-amz-server-side-encryption-aws-kms-key-id"],
            "arn:aws:kms:us-east-1:111122223333:key/s3sql-test"
        );
    }
    assert!(
        !seen[2].headers.contains_key("x-amz-server-side-encryption"),
        "reads carry no SSE headers"
    );
    assert!(
        seen.iter()
            .all(|r| r.headers["x-amz-request-payer"] == "requester")
    );
}

/// A GET of `range` through `client`.
async fn get_range(
    client: &S3Client,
    fx: &Fixture,
    key: &str,
    range: ByteRange,
) -> s3sql_s3_client::Result<Bytes> {
    client.get_range(fx.bucket(), key, range).await
}

#[tokio::test]
async fn ignored_range_on_a_small_object_is_sliced() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/ignored-range-small.bin");
    let data = pattern_bytes(4096, 10);
    fx.put(&key, data.clone()).await;
    proxy.push_rule(
        FaultRule::new(Fault::StripRange)
            .method(Method::GET)
            .times(3),
    );
    let suffix = get_range(&client, &fx, &key, ByteRange::Suffix(100))
        .await
        .unwrap();
    assert_eq!(
        suffix,
        data.slice(3996..),
        "a suffix read returns the suffix"
    );
    let middle = get_range(
        &client,
        &fx,
        &key,
        ByteRange::Bounded { start: 10, end: 20 },
    )
    .await
    .unwrap();
    assert_eq!(middle, data.slice(10..20));
    let tail = get_range(&client, &fx, &key, ByteRange::From(4000))
        .await
        .unwrap();
    assert_eq!(tail, data.slice(4000..));
    assert_eq!(
        proxy.faults_injected(),
        3,
        "every read went through the fault"
    );
}

#[tokio::test]
async fn ignored_range_on_a_large_object_is_an_error() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/ignored-range-large.bin");
    let data = pattern_bytes(9 * MIB, 11);
    fx.put(&key, data.clone()).await;
    proxy.push_rule(
        FaultRule::new(Fault::StripRange)
            .method(Method::GET)
            .times(100),
    );
    let err = get_range(
        &client,
        &fx,
        &key,
        ByteRange::Bounded { start: 0, end: 100 },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("ignored the Range"), "{err}");
    // Parallel chunked reads must not concatenate whole copies either.
    let err = client
        .read_to_bytes(fx.bucket(), &key, Some(MIB as u64..3 * MIB as u64))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ignored the Range"), "{err}");
}

#[tokio::test]
async fn content_range_that_starts_elsewhere_is_an_error() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/wrong-content-range.bin");
    fx.put(&key, pattern_bytes(4096, 12)).await;
    proxy.push_rule(
        FaultRule::new(Fault::SetResponseHeader {
            name: "content-range".into(),
            value: Some("bytes 0-9/4096".into()),
        })
        .method(Method::GET)
        .times(100),
    );
    let err = get_range(
        &client,
        &fx,
        &key,
        ByteRange::Bounded {
            start: 100,
            end: 110,
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("Content-Range"), "{err}");
}

#[tokio::test]
async fn overflowing_content_range_is_an_error_not_a_panic() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/overflow-content-range.bin");
    fx.put(&key, pattern_bytes(4096, 13)).await;
    let max = u64::MAX;
    for value in [format!("bytes 0-{max}/{max}"), "bytes 9-2/4096".to_owned()] {
        proxy.clear_rules();
        proxy.push_rule(
            FaultRule::new(Fault::SetResponseHeader {
                name: "content-range".into(),
                value: Some(value.clone()),
            })
            .method(Method::GET)
            .times(100),
        );
        let err = get_range(&client, &fx, &key, ByteRange::Bounded { start: 0, end: 10 })
            .await
            .unwrap_err();
        assert!(err.to_string().contains("Content-Range"), "{value}: {err}");
    }
}

#[tokio::test]
async fn missing_content_length_is_not_size_zero() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/no-content-length.bin");
    fx.put(&key, pattern_bytes(4096, 14)).await;
    proxy.push_rule(
        FaultRule::new(Fault::SetResponseHeader {
            name: "content-length".into(),
            value: None,
        })
        .method(Method::GET)
        .times(100),
    );
    match client
        .get_object(fx.bucket(), &key, &GetObjectRequest::default())
        .await
    {
        Ok(out) => panic!("size {} accepted without a Content-Length", out.meta.size),
        Err(err) => assert!(err.to_string().contains("Content-Length"), "{err}"),
    }
}

/// Uploads in progress under this test's prefix.
async fn open_uploads(fx: &Fixture) -> Vec<s3sql_s3_client::MultipartUpload> {
    fx.client
        .list_multipart_uploads(fx.bucket(), &fx.key("f/"))
        .await
        .unwrap()
}

/// CreateMultipartUpload requests the proxy saw.
fn creates_seen(proxy: &FaultProxy) -> usize {
    proxy
        .recorded()
        .iter()
        .filter(|r| r.method == Method::POST && r.query.starts_with("uploads"))
        .count()
}

#[tokio::test]
async fn failed_writer_is_poisoned() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-poisoned.bin");
    proxy.push_rule(
        FaultRule::new(status(403, "AccessDenied"))
            .method(Method::POST)
            .query_contains("uploads")
            .times(1),
    );
    let mut writer = fx.writer(&client, &key, PutObjectRequest::default());
    let first = writer.write(&pattern_bytes(6 * MIB, 20)).await.unwrap_err();
    assert_eq!(first.code(), Some("AccessDenied"), "{first}");
    let requests_after_failure = proxy.requests_seen();
    // Every later call returns the original error and sends nothing.
    let again = writer.write(b"more").await.unwrap_err();
    assert_eq!(again.to_string(), first.to_string());
    let finished = writer.finish().await.unwrap_err();
    assert_eq!(finished.to_string(), first.to_string());
    assert_eq!(
        proxy.requests_seen(),
        requests_after_failure,
        "a poisoned writer sent requests"
    );
    let err = fx.client.head_object(fx.bucket(), &key).await.unwrap_err();
    assert!(err.is_not_found(), "a failed writer wrote an object: {err}");
}

#[tokio::test]
async fn cancelled_write_cannot_lose_a_part() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-cancelled-write.bin");
    proxy.push_rule(
        FaultRule::new(Fault::Delay(Duration::from_millis(500)))
            .method(Method::POST)
            .query_contains("uploads")
            .times(1),
    );
    let mut writer = fx.writer(&client, &key, PutObjectRequest::default());
    let data = pattern_bytes(6 * MIB, 21);
    // The write is dropped while its first part waits for the upload to start.
    let cancelled = tokio::time::timeout(Duration::from_millis(100), writer.write(&data)).await;
    assert!(cancelled.is_err(), "the write was meant to be cut short");
    let later = writer.write(b"tail").await;
    let finished = match later {
        Ok(()) => writer.finish().await,
        Err(e) => Err(e),
    };
    let err = finished.expect_err("a writer that lost a part completed the object");
    assert!(err.to_string().contains("cancelled"), "{err}");
    assert_eq!(creates_seen(&proxy), 1);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let err = fx.client.head_object(fx.bucket(), &key).await.unwrap_err();
    assert!(
        err.is_not_found(),
        "an object with a part missing exists: {err}"
    );
}

#[tokio::test]
async fn request_time_too_skewed_is_reported_not_retried() {
    let (fx, proxy, client) = proxied().await;
    proxy.push_rule(FaultRule::new(status(403, "RequestTimeTooSkewed")).times(100));
    // A GET, so the error document (and its code) reaches the client.
    let err = client
        .get_object_bytes(
            fx.bucket(),
            &fx.key("f/skewed"),
            &GetObjectRequest::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        proxy.requests_seen(),
        1,
        "the same clock cannot succeed on retry"
    );
    assert!(err.to_string().contains("clock"), "{err}");
}

#[tokio::test]
async fn copy_and_delete_objects_with_error_in_200_body_are_retried() {
    let (fx, proxy, client) = proxied().await;
    let from = fx.key("f/copy-200-from.txt");
    let to = fx.key("f/copy-200-to.txt");
    fx.put(&from, Bytes::from_static(b"copied")).await;
    proxy.push_rule(
        FaultRule::new(status(200, "InternalError"))
            .method(Method::PUT)
            .path_contains("copy-200-to")
            .times(1),
    );
    client
        .copy_object(fx.bucket(), &from, &to, &CopyObjectRequest::default())
        .await
        .unwrap();
    fx.assert_holds(&to, b"copied").await;
    proxy.push_rule(
        FaultRule::new(status(200, "InternalError"))
            .method(Method::POST)
            .query_contains("delete")
            .times(1),
    );
    let failed = client
        .delete_objects(fx.bucket(), &[&from, &to])
        .await
        .unwrap();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(proxy.faults_injected(), 2);
    assert!(
        fx.client
            .head_object(fx.bucket(), &to)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let (fx, proxy, _) = proxied().await;
    let client = fx.client_via(&proxy.endpoint(), |mut c| {
        c.retry.initial_backoff = Duration::from_millis(5);
        c.retry.max_backoff = Duration::from_secs(5);
        c
    });
    let key = fx.key("f/retry-after.txt");
    fx.put(&key, Bytes::from_static(b"later")).await;
    proxy.push_rule(
        FaultRule::new(Fault::RetryAfter {
            status: 503,
            code: "SlowDown".into(),
            seconds: 1,
        })
        .times(1),
    );
    let started = std::time::Instant::now();
    client.head_object(fx.bucket(), &key).await.unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(3),
        "took {elapsed:?}"
    );
}

#[tokio::test]
async fn temporary_redirect_is_followed() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/redirect-307.txt");
    fx.put(&key, Bytes::from_static(b"moved")).await;
    let origin = format!("http://{}", fx.target.socket_addr().unwrap());
    proxy.push_rule(FaultRule::new(Fault::TemporaryRedirect { origin }).times(1));
    let got = client
        .get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default())
        .await
        .unwrap();
    assert_eq!(&got[..], b"moved");
    assert_eq!(proxy.requests_seen(), 1, "the retry went to the Location");
}

#[tokio::test]
async fn lost_conditional_put_is_resolved_by_its_etag() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/conditional-lost.txt");
    let create_only = PutObjectRequest {
        if_none_match: true,
        ..PutObjectRequest::default()
    };
    // The server writes the object, the answer is lost; the retry is
    // answered 412 because of this very write.
    proxy.push_rule(
        FaultRule::new(Fault::DropResponse)
            .method(Method::PUT)
            .path_contains("conditional-lost")
            .times(1),
    );
    let out = client
        .put_object(fx.bucket(), &key, Bytes::from_static(b"mine"), &create_only)
        .await
        .unwrap();
    assert_eq!(proxy.faults_injected(), 1);
    let meta = fx.client.head_object(fx.bucket(), &key).await.unwrap();
    assert_eq!(out.etag, meta.etag);
    fx.assert_holds(&key, b"mine").await;
    // Someone else's object still makes a conditional write fail.
    let err = client
        .put_object(
            fx.bucket(),
            &key,
            Bytes::from_static(b"other"),
            &create_only,
        )
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed(), "{err}");
    proxy.push_rule(
        FaultRule::new(Fault::DropResponse)
            .method(Method::PUT)
            .path_contains("conditional-lost")
            .times(1),
    );
    let err = client
        .put_object(
            fx.bucket(),
            &key,
            Bytes::from_static(b"theirs"),
            &create_only,
        )
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed(), "{err}");
    fx.assert_holds(&key, b"mine").await;
}

#[tokio::test]
async fn lost_create_multipart_upload_leaves_no_orphan() {
    lost_create_leaves_no_orphan("f/mp-create-lost.bin").await;
}

/// A write of `name` whose CreateMultipartUpload answer is lost once
/// completes, retried, and leaves no upload of the key open.
async fn lost_create_leaves_no_orphan(name: &str) {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key(name);
    let data = pattern_bytes(6 * MIB, 24);
    proxy.push_rule(
        FaultRule::new(Fault::DropResponse)
            .method(Method::POST)
            .query_contains("uploads")
            .times(1),
    );
    fx.write_multipart(&client, &key, &data).await.unwrap();
    assert_eq!(creates_seen(&proxy), 2, "the lost create was retried");
    fx.assert_holds(&key, &data).await;
    let open = open_uploads(&fx).await;
    assert!(open.is_empty(), "orphaned uploads: {open:?}");
}

#[tokio::test]
async fn a_repeated_continuation_token_is_an_error() {
    use futures::TryStreamExt;
    let (fx, proxy, client) = proxied().await;
    let prefix = fx.key("f/tokens/");
    for name in ["a", "b", "c", "d", "e"] {
        fx.put(&format!("{prefix}{name}"), Bytes::from_static(b"x"))
            .await;
    }
    let request = s3sql_s3_client::ListObjectsV2Request {
        max_keys: Some(1),
        ..s3sql_s3_client::ListObjectsV2Request::prefix(prefix.clone())
    };
    // Page 1 gives token A, page 2 token B; page 3 is answered with A again.
    proxy.push_rule(
        FaultRule::new(Fault::RepeatListingToken)
            .query_contains("list-type=2")
            .skip(2)
            .times(1),
    );
    let listed = tokio::time::timeout(
        Duration::from_secs(20),
        client
            .list_objects_v2(fx.bucket(), request.clone())
            .try_collect::<Vec<_>>(),
    )
    .await
    .expect("the listing never ended");
    let err = listed.expect_err("A→B→A was listed as if nothing happened");
    assert!(err.to_string().contains("continuation token"), "{err}");
    assert_eq!(proxy.faults_injected(), 1);
}

#[tokio::test]
async fn abort_cut_short_still_aborts_on_drop() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-abort-cut.bin");
    // The first AbortMultipartUpload waits long in the proxy; the abort
    // awaiting it is dropped (a timeout, Ctrl-C) well before.
    proxy.push_rule(
        FaultRule::new(Fault::Delay(Duration::from_secs(4)))
            .method(Method::DELETE)
            .query_contains("uploadId")
            .times(1),
    );
    let mut writer = fx.writer(&client, &key, PutObjectRequest::default());
    writer.write(&pattern_bytes(6 * MIB, 30)).await.unwrap();
    assert_eq!(open_uploads(&fx).await.len(), 1, "the upload did not start");
    let cut = tokio::time::timeout(Duration::from_millis(300), writer.abort()).await;
    assert!(cut.is_err(), "the abort was meant to be cut short");
    // Drop's last-resort abort runs now, not the delayed one (4 s away).
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    let mut open = open_uploads(&fx).await;
    while !open.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        open = open_uploads(&fx).await;
    }
    assert!(
        open.is_empty(),
        "a cut-short abort left the upload open: {open:?}"
    );
    let aborts = proxy
        .recorded()
        .iter()
        .filter(|r| r.method == Method::DELETE)
        .count();
    assert_eq!(aborts, 2, "drop did not send its own abort");
}

/// A gateway's 5xx after the server acted: the request took effect.
fn acted_then(status: u16, code: &str) -> Fault {
    Fault::ActThenStatus {
        status,
        code: code.into(),
    }
}

/// The answers a server that acted can be followed by: a gateway's 502,
/// and a 200 whose body is `<Error>InternalError` (a gateway, or S3 itself
/// failing after it began to answer), each with a name for keys.
fn acted_then_failures() -> [(&'static str, Fault); 3] {
    [
        ("502", acted_then(502, "BadGateway")),
        ("200-internal", acted_then(200, "InternalError")),
        ("200-unavailable", acted_then(200, "ServiceUnavailable")),
    ]
}

#[tokio::test]
async fn conditional_put_answered_5xx_after_acting_is_ours() {
    let (fx, proxy, client) = proxied().await;
    let create_only = PutObjectRequest {
        if_none_match: true,
        ..PutObjectRequest::default()
    };
    for (n, (name, fault)) in acted_then_failures().into_iter().enumerate() {
        let key = fx.key(&format!("f/conditional-acted-{name}.txt"));
        // The server writes the object; the gateway answers a failure; the
        // retry is answered 412 because of this very write.
        proxy.push_rule(
            FaultRule::new(fault)
                .method(Method::PUT)
                .path_contains(format!("conditional-acted-{name}"))
                .times(1),
        );
        let out = client
            .put_object(fx.bucket(), &key, Bytes::from_static(b"mine"), &create_only)
            .await
            .unwrap_or_else(|e| {
                panic!("{name}: a write that succeeded was reported as failed: {e}")
            });
        assert_eq!(proxy.faults_injected(), n + 1, "{name}");
        let meta = fx.client.head_object(fx.bucket(), &key).await.unwrap();
        assert_eq!(out.etag, meta.etag, "{name}");
        fx.assert_holds(&key, b"mine").await;
    }
}

#[tokio::test]
async fn create_multipart_upload_answered_5xx_after_acting_leaves_no_orphan() {
    let (fx, proxy, client) = proxied().await;
    let data = pattern_bytes(6 * MIB, 31);
    let failures = acted_then_failures();
    let failures = [("504", acted_then(504, "GatewayTimeout"))]
        .into_iter()
        .chain(failures);
    for (n, (name, fault)) in failures.enumerate() {
        let key = fx.key(&format!("f/mp-create-acted-{name}.bin"));
        proxy.push_rule(
            FaultRule::new(fault)
                .method(Method::POST)
                .query_contains("uploads")
                .times(1),
        );
        fx.write_multipart(&client, &key, &data).await.unwrap();
        assert_eq!(proxy.faults_injected(), n + 1, "{name}");
        assert_eq!(
            creates_seen(&proxy),
            2 * (n + 1),
            "{name}: the failed create was retried"
        );
        fx.assert_holds(&key, &data).await;
        let open = open_uploads(&fx).await;
        assert!(open.is_empty(), "{name}: orphaned uploads: {open:?}");
    }
}

/// S3 may abort a CompleteMultipartUpload after its 200 went out, and then
/// sends no document (an empty body, or the XML declaration alone): the
/// Complete may have taken effect. It is retried and resolved as a lost
/// answer, not failed at the last request of a write (review-11e #1).
#[tokio::test]
async fn complete_answered_200_without_a_document_after_acting_succeeds() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-complete-empty-200.bin");
    let data = pattern_bytes(6 * MIB, 33);
    proxy.push_rule(
        FaultRule::new(Fault::ActThenEmptyOk)
            .method(Method::POST)
            .query_contains("uploadId")
            .times(1),
    );
    fx.write_multipart(&client, &key, &data)
        .await
        .expect("a Complete that took effect failed the write");
    assert_eq!(proxy.faults_injected(), 1);
    fx.assert_holds(&key, &data).await;
    let open = open_uploads(&fx).await;
    assert!(open.is_empty(), "open uploads: {open:?}");
}

/// The same for a CopyObject answered 200 without its `<CopyObjectResult>`
/// after copying: a copy may be repeated, so it is, and succeeds.
#[tokio::test]
async fn copy_answered_200_without_a_document_is_retried() {
    let (fx, proxy, client) = proxied().await;
    let from = fx.key("f/copy-empty-200-src.txt");
    let to = fx.key("f/copy-empty-200-dst.txt");
    fx.put(&from, Bytes::from_static(b"copied")).await;
    proxy.push_rule(
        FaultRule::new(Fault::ActThenEmptyOk)
            .method(Method::PUT)
            .path_contains("copy-empty-200-dst")
            .times(1),
    );
    client
        .copy_object(fx.bucket(), &from, &to, &CopyObjectRequest::default())
        .await
        .expect("a copy answered 200 without a document was not retried");
    assert_eq!(proxy.faults_injected(), 1);
    fx.assert_holds(&to, b"copied").await;
}

#[tokio::test]
async fn create_multipart_upload_whose_every_answer_is_lost_leaves_no_orphan() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-create-all-lost.bin");
    proxy.push_rule(
        FaultRule::new(Fault::DropResponse)
            .method(Method::POST)
            .query_contains("uploads")
            .times(100),
    );
    let err = fx
        .write_multipart(&client, &key, &pattern_bytes(6 * MIB, 32))
        .await
        .expect_err("no create answer arrived, yet the write succeeded");
    assert!(creates_seen(&proxy) >= 2, "{err}");
    assert_eq!(proxy.faults_injected(), creates_seen(&proxy));
    let open = open_uploads(&fx).await;
    assert!(open.is_empty(), "orphaned uploads: {open:?}");
}

#[tokio::test]
async fn request_timeout_408_and_too_many_requests_429_are_retried() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/408-429.txt");
    fx.put(&key, Bytes::from_static(b"again")).await;
    proxy.push_rule(
        FaultRule::new(status(408, "RequestTimeout"))
            .method(Method::GET)
            .times(1),
    );
    proxy.push_rule(
        FaultRule::new(status(429, "TooManyRequests"))
            .method(Method::GET)
            .times(1),
    );
    let got = client
        .get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default())
        .await
        .unwrap();
    assert_eq!(&got[..], b"again");
    assert_eq!(proxy.faults_injected(), 2);
    assert_eq!(proxy.requests_seen(), 3);
}

/// A client of a port nothing listens on yet, so its first attempts are
/// refused, and the proxy that comes up there a moment later.
fn refused_at_first(fx: &Fixture) -> (S3Client, std::thread::JoinHandle<FaultProxy>) {
    let upstream = fx
        .target
        .socket_addr()
        .expect("a plain-HTTP target to forward to");
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = fx.client_via(&format!("http://{addr}"), |mut c| {
        c.retry = RetryConfig {
            max_retries: 6,
            initial_backoff: Duration::from_millis(100),
            backoff_multiplier: 2.0,
            max_backoff: Duration::from_millis(400),
        };
        c
    });
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(250));
        FaultProxy::start_at(addr, upstream)
    });
    (client, late)
}

#[tokio::test]
async fn connection_refused_is_retried() {
    let fx = Fixture::new().await;
    let key = fx.key("f/refused.txt");
    fx.put(&key, Bytes::from_static(b"late")).await;
    let (client, late) = refused_at_first(&fx);
    let got = client
        .get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default())
        .await
        .unwrap();
    let proxy = late.join().unwrap();
    assert_eq!(proxy.requests_seen(), 1);
    assert_eq!(&got[..], b"late");
    assert!(
        client.request_count() >= 2,
        "no attempt was refused: {}",
        client.request_count()
    );
}

#[tokio::test]
async fn skewed_clock_on_a_bodyless_403_is_reported_as_skew() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/skewed-head.txt");
    fx.put(&key, Bytes::from_static(b"x")).await;
    // A HEAD's 403 has no body: only the server's Date tells the cause.
    let server_date = (chrono::Utc::now() - chrono::Duration::hours(2))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    proxy.push_rule(
        FaultRule::new(Fault::StatusWithHeaders {
            status: 403,
            code: "RequestTimeTooSkewed".into(),
            headers: vec![("date".into(), server_date)],
        })
        .method(Method::HEAD)
        .times(100),
    );
    let err = client.head_object(fx.bucket(), &key).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("clock") && !text.contains("permission"),
        "{text}"
    );
    assert_eq!(proxy.requests_seen(), 1, "the same clock cannot succeed");
    // A bodyless 403 from a server whose clock agrees is still a 403.
    proxy.clear_rules();
    proxy.push_rule(
        FaultRule::new(status(403, "AccessDenied"))
            .method(Method::HEAD)
            .times(1),
    );
    let err = client.head_object(fx.bucket(), &key).await.unwrap_err();
    assert!(!err.to_string().contains("clock"), "{err}");
}

#[tokio::test]
async fn multipart_conditions_go_on_complete_not_create() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-conditions.bin");
    let old = Bytes::from_static(b"old");
    let first = fx
        .client
        .put_object(fx.bucket(), &key, old.clone(), &PutObjectRequest::default())
        .await
        .unwrap();
    let data = pattern_bytes(6 * MIB, 41);
    let write = |put: PutObjectRequest| {
        let (client, key, data) = (client.clone(), key.clone(), data.clone());
        let bucket = fx.bucket().to_owned();
        async move {
            let mut writer = MultipartWriter::with_part_size(&client, &bucket, &key, put, 5 * MIB);
            writer.write(&data).await?;
            writer.finish().await
        }
    };
    // S3 evaluates If-None-Match / If-Match on Complete; on Create it ignores them.
    let create_only = PutObjectRequest {
        if_none_match: true,
        ..PutObjectRequest::default()
    };
    let err = write(create_only).await.unwrap_err();
    assert!(err.is_precondition_failed(), "{err}");
    let current = PutObjectRequest {
        if_match: first.etag.clone(),
        ..PutObjectRequest::default()
    };
    write(current).await.unwrap();
    fx.assert_holds(&key, &data).await;
    let recorded = proxy.recorded();
    let posts: Vec<_> = recorded
        .iter()
        .filter(|r| r.method == Method::POST)
        .collect();
    let (creates, completes): (Vec<&RecordedRequest>, Vec<&RecordedRequest>) = posts
        .iter()
        .copied()
        .partition(|r| r.query.starts_with("uploads"));
    assert_eq!((creates.len(), completes.len()), (2, 2), "{posts:?}");
    for create in creates {
        assert!(
            !create.headers.contains_key("if-none-match")
                && !create.headers.contains_key("if-match"),
            "a condition went on CreateMultipartUpload: {:?}",
            create.headers
        );
    }
    assert_eq!(completes[0].headers.get("if-none-match").unwrap(), "*");
    assert_eq!(
        completes[1]
            .headers
            .get("if-match")
            .unwrap()
            .to_str()
            .unwrap(),
        first.etag.as_deref().unwrap()
    );
    assert!(open_uploads(&fx).await.is_empty());
}

#[tokio::test]
async fn endless_empty_truncated_pages_are_an_error() {
    use futures::TryStreamExt;
    let (fx, proxy, client) = proxied().await;
    // Every page is empty, truncated, and carries a token never seen before.
    proxy.push_rule(
        FaultRule::new(Fault::EmptyTruncatedListing)
            .query_contains("list-type=2")
            .always(),
    );
    let listed = tokio::time::timeout(
        Duration::from_secs(60),
        client
            .list_objects_v2(
                fx.bucket(),
                s3sql_s3_client::ListObjectsV2Request::prefix(fx.key("f/none/")),
            )
            .try_collect::<Vec<_>>(),
    )
    .await
    .expect("the listing never ended");
    let err = listed.expect_err("endless empty pages listed as nothing");
    assert!(err.to_string().contains("empty pages"), "{err}");
    assert_eq!(proxy.faults_injected(), 1000);
}

/// A client through the proxy with a 1 s timeout and two retries.
fn one_second_client(fx: &Fixture, proxy: &FaultProxy) -> S3Client {
    fx.client_via(&proxy.endpoint(), |mut c| {
        c.retry.max_retries = 2;
        c.retry.initial_backoff = Duration::from_millis(5);
        c.retry.max_backoff = Duration::from_millis(20);
        c.request_timeout = Duration::from_secs(1);
        c
    })
}

fn trickle(bytes: usize, every_ms: u64) -> Fault {
    Fault::Trickle {
        bytes,
        every: Duration::from_millis(every_ms),
    }
}

/// A server trickling a GetObject body, a byte every 200 ms (each gap far
/// below the 1 s timeout), cannot hold a read: each attempt ends once a
/// timeout's worth of waiting brought less than the floor rate, and the
/// read fails after the retry budget, in bounded time.
#[tokio::test]
async fn trickled_body_fails_within_the_attempt_deadlines() {
    let (fx, proxy, _) = proxied().await;
    let client = one_second_client(&fx, &proxy);
    let key = fx.key("f/trickled.bin");
    fx.put(&key, pattern_bytes(20_000, 31)).await;
    proxy.push_rule(FaultRule::new(trickle(1, 200)).method(Method::GET).always());
    let whole = GetObjectRequest::default();
    let read = client.get_object_bytes(fx.bucket(), &key, &whole);
    // The GET and two resumes.
    assert_three_stalled_attempts(read, &proxy).await;
}

/// Runs `request` against a trickling proxy: it must fail as a trickle
/// after three attempts of about a second each, not hang.
async fn assert_three_stalled_attempts<T: std::fmt::Debug>(
    request: impl std::future::Future<Output = s3sql_s3_client::Result<T>>,
    proxy: &FaultProxy,
) {
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(20), request).await;
    let elapsed = started.elapsed();
    let err = result
        .expect("the trickle held the request for 20 s")
        .unwrap_err();
    assert!(err.to_string().contains("trickling"), "{err}");
    assert_eq!(proxy.requests_seen(), 3, "three attempts");
    assert!(
        elapsed >= Duration::from_secs(3) && elapsed < Duration::from_secs(6),
        "took {elapsed:?}"
    );
}

/// The same for an answer read whole (a listing page): three attempts of
/// about a second each, then the error, not a page after half a minute.
#[tokio::test]
async fn trickled_listing_fails_within_the_attempt_deadlines() {
    let (fx, proxy, _) = proxied().await;
    let client = one_second_client(&fx, &proxy);
    proxy.push_rule(
        FaultRule::new(trickle(2, 200))
            .method(Method::GET)
            .query_contains("list-type=2")
            .always(),
    );
    let request = ListObjectsV2Request::prefix(fx.key("f/trickled-listing/"));
    let list = client.list_objects_v2_page(fx.bucket(), &request, None);
    assert_three_stalled_attempts(list, &proxy).await;
}

/// A listing page sent at 2 KiB/s, twice the floor rate (so no timeout's
/// window ever stalls), would hold a listing for as long as the page takes
/// at that pace (64 MiB: nine hours). An answer read whole has a deadline
/// on the whole, so it fails in a few timeouts, saying why (review-11d #10).
#[tokio::test]
async fn a_listing_trickled_above_the_floor_rate_fails_within_its_deadline() {
    let (fx, proxy, _) = proxied().await;
    let client = fx.client_via(&proxy.endpoint(), |mut c| {
        c.retry.max_retries = 0;
        c.request_timeout = Duration::from_secs(1);
        c
    });
    // About 60 KB of page: half a minute at 2 KiB/s.
    let prefix = fx.key("f/trickled-page/");
    let long = "x".repeat(60);
    for i in 0..200 {
        fx.put(&format!("{prefix}{long}/{i:03}"), Bytes::from_static(b"1"))
            .await;
    }
    proxy.push_rule(
        FaultRule::new(Fault::Throttle {
            bytes_per_second: 2048,
        })
        .method(Method::GET)
        .query_contains("list-type=2")
        .always(),
    );
    let request = ListObjectsV2Request::prefix(prefix);
    let started = std::time::Instant::now();
    let listed = tokio::time::timeout(
        Duration::from_secs(15),
        client.list_objects_v2_page(fx.bucket(), &request, None),
    )
    .await;
    let elapsed = started.elapsed();
    let err = match listed.expect("a page trickled at 2 KiB/s held the listing for 15 s") {
        Ok(page) => panic!("{} keys listed after {elapsed:?}", page.objects.len()),
        Err(err) => err,
    };
    assert!(err.to_string().contains("trickling"), "{err}");
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}: {err}");
    assert_eq!(proxy.requests_seen(), 1, "one attempt");
}

/// S3 keeps a slow CompleteMultipartUpload alive with a space every few
/// seconds: an answer that arrives slowly, but never with a gap as long as
/// the timeout, is not cut by the rate floor.
#[tokio::test]
async fn complete_answered_slowly_is_not_cut() {
    let (fx, proxy, _) = proxied().await;
    let client = fx.client_via(&proxy.endpoint(), |mut c| {
        c.retry.max_retries = 0;
        c.request_timeout = Duration::from_secs(1);
        c
    });
    let key = fx.key("f/slow-complete.bin");
    let data = pattern_bytes(1000, 32);
    let upload = client
        .create_multipart_upload(fx.bucket(), &key, &PutObjectRequest::default())
        .await
        .unwrap();
    let part = client
        .upload_part(fx.bucket(), &key, &upload, 1, data.clone())
        .await
        .unwrap();
    proxy.push_rule(
        FaultRule::new(trickle(16, 150))
            .method(Method::POST)
            .query_contains("uploadId")
            .times(1),
    );
    let started = std::time::Instant::now();
    client
        .complete_multipart_upload(fx.bucket(), &key, &upload, &[part])
        .await
        .unwrap();
    assert!(
        started.elapsed() > Duration::from_secs(1),
        "the answer was not trickled: {:?}",
        started.elapsed()
    );
    assert_eq!(proxy.faults_injected(), 1);
    fx.assert_holds(&key, &data).await;
}

/// A part on a slow uplink: the socket buffers take its last MiBs at once,
/// and those drain at the link's rate while the client waits for the
/// answer. That wait is the upload still moving, not a stall: the one
/// attempt succeeds although the drain takes longer than the timeout.
#[tokio::test]
async fn part_whose_last_mibs_drain_slower_than_the_timeout_succeeds() {
    let rate = MIB as u64;
    throttled_part_succeeds("f/mp-drain.bin", 10 * MIB, rate, Duration::from_secs(8)).await;
}

/// A body small enough for the socket buffers to take at once (a last
/// part, a small COPY file) leaves no sending rate to measure: its whole
/// drain happens while the client waits for the answer. On a link slow
/// enough for that to outlast the timeout (3 MiB at 256 KiB/s: 12 s
/// against 2 s), the one attempt must still succeed (review-11 item 10).
#[tokio::test]
async fn a_body_the_socket_buffers_take_at_once_may_drain_past_the_timeout() {
    let rate = 256 * 1024;
    throttled_part_succeeds("f/mp-burst.bin", 3 * MIB, rate, Duration::from_secs(8)).await;
}

/// `read_parallel` cuts its chunks from the size HEAD gave. A HEAD that
/// says less than the object holds (a lying server, or an object replaced
/// in between by one its ETag does not pin) must fail the read, not
/// return the first bytes as if they were the whole object.
#[tokio::test]
async fn parallel_read_checks_each_answer_against_the_size_it_started_from() {
    let (fx, proxy, _) = proxied().await;
    let client = fx.client_via(&proxy.endpoint(), |mut c| {
        c.read.chunk_size = MIB as u64;
        c
    });
    let key = fx.key("f/head-lies.bin");
    fx.put(&key, pattern_bytes(3 * MIB, 34)).await;
    proxy.push_rule(
        FaultRule::new(Fault::SetResponseHeader {
            name: "content-length".into(),
            value: Some((2 * MIB).to_string()),
        })
        .method(Method::HEAD),
    );
    let err = client
        .read_to_bytes(fx.bucket(), &key, None)
        .await
        .expect_err("a 3 MiB object read as 2 MiB");
    assert!(err.to_string().contains("changed during the read"), "{err}");
    assert_eq!(proxy.faults_injected(), 1);
}

/// Every cut a long read recovers from is forgiven once the read has moved
/// on: a 10 MiB body cut every 1.5 MiB, six times (twice the retry
/// budget), still arrives whole.
#[tokio::test]
async fn a_long_read_survives_more_cuts_than_retries_when_each_makes_progress() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/many-cuts.bin");
    let data = pattern_bytes(10 * MIB, 35);
    fx.put(&key, data.clone()).await;
    proxy.push_rule(
        FaultRule::new(Fault::CutBody {
            after_bytes: 3 * MIB / 2,
        })
        .method(Method::GET)
        .times(6),
    );
    let got = client
        .get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default())
        .await
        .unwrap();
    assert!(got == data, "resumed bytes differ");
    assert_eq!(proxy.faults_injected(), 6);
    assert_eq!(proxy.requests_seen(), 7, "the GET and six resumes");
}

fn create_only() -> PutObjectRequest {
    PutObjectRequest {
        if_none_match: true,
        ..PutObjectRequest::default()
    }
}

/// The first request `rule` matches is carried out and its answer lost;
/// the retry is answered `refusal` without reaching the server.
fn lost_then_refused(proxy: &FaultProxy, refusal: Fault, rule: impl Fn(Fault) -> FaultRule) {
    proxy.push_rule(rule(Fault::DropResponse).times(1));
    proxy.push_rule(rule(refusal).times(1));
}

/// An ETag as SSE-KMS gives one: not the MD5 of the bytes.
fn kms_etag() -> Fault {
    Fault::SetResponseHeader {
        name: "etag".into(),
        value: Some("\"7c4bd1ee0a85d45a0e7d6a2f4e0f1b5d\"".into()),
    }
}

/// Another writer wrote the very bytes this conditional PUT carries; this
/// PUT never reached the server (its connection was reset) and its retry is
/// refused 412. The object has "our" MD5 as its ETag, but not our token:
/// it is not claimed (the outcome is unknown, as a server keeping no user
/// metadata would show our own object the same way). Different bytes
/// without the token are another writer's: the refusal stands.
#[tokio::test]
async fn lost_conditional_put_does_not_claim_identical_bytes_another_writer_wrote() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/same-bytes.txt");
    fx.put(&key, Bytes::from_static(b"same")).await;
    proxy.push_rule(FaultRule::new(Fault::Reset).method(Method::PUT).times(1));
    let err = client
        .put_object(
            fx.bucket(),
            &key,
            Bytes::from_static(b"same"),
            &create_only(),
        )
        .await
        .expect_err("another writer's object taken for this write's");
    assert!(
        matches!(err, s3sql_s3_client::Error::OutcomeUnknown { .. }),
        "{err}"
    );
    assert_eq!(proxy.faults_injected(), 1);
    proxy.push_rule(FaultRule::new(Fault::Reset).method(Method::PUT).times(1));
    let err = client
        .put_object(
            fx.bucket(),
            &key,
            Bytes::from_static(b"other"),
            &create_only(),
        )
        .await
        .expect_err("another writer's object taken for this write's");
    assert!(err.is_precondition_failed(), "{err}");
    assert_eq!(proxy.faults_injected(), 2);
}

/// Under SSE-KMS an object's ETag is not its MD5. A conditional PUT that
/// wrote its object and lost the answer still recognises the object as
/// its own on the retry's 412.
#[tokio::test]
async fn lost_conditional_put_is_recognised_when_the_etag_is_not_an_md5() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/kms-put.txt");
    lost_put_then_head(&proxy, &client, &fx, &key, kms_etag())
        .await
        .unwrap();
    assert_eq!(
        proxy.faults_injected(),
        2,
        "the drop and the KMS-style ETag"
    );
    fx.assert_holds(&key, b"mine").await;
}

/// The same for CompleteMultipartUpload: its object's ETag is not the
/// formula over MD5 part ETags under SSE-KMS, and the completed upload is
/// still recognised.
#[tokio::test]
async fn lost_complete_is_recognised_when_the_etag_is_not_the_part_formula() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/kms-complete.bin");
    let data = pattern_bytes(1000, 36);
    lost_complete_then_head(&proxy, &client, &fx, &key, &data, kms_etag())
        .await
        .unwrap();
    assert_eq!(
        proxy.faults_injected(),
        3,
        "the drop, NoSuchUpload, the KMS-style ETag"
    );
    fx.assert_holds(&key, &data).await;
}

/// A conditional copy of a multipart object whose answer was lost: the
/// copy's ETag is not the source's `-N` one, so ETags cannot tell whether
/// this copy wrote the object its retry was refused for. That is said
/// plainly, not reported as someone else's object.
#[tokio::test]
async fn lost_conditional_copy_of_a_multipart_source_reports_an_unknown_outcome() {
    let (fx, proxy, client) = proxied().await;
    let from = fx.key("f/copy-src-mp.bin");
    let to = fx.key("f/copy-dst-mp.bin");
    fx.write_multipart(&fx.client, &from, &pattern_bytes(6 * MIB, 37))
        .await
        .unwrap();
    // The copy is made and its answer lost; the retry is refused 412 (as
    // a server evaluating If-None-Match on CopyObject answers; s3s-fs and
    // moto do not evaluate it, so the proxy answers for them).
    lost_then_refused(&proxy, status(412, "PreconditionFailed"), |f| {
        FaultRule::new(f)
            .method(Method::PUT)
            .path_contains("copy-dst-mp")
    });
    let err = client
        .copy_object(fx.bucket(), &from, &to, &CopyObjectRequest::create_only())
        .await
        .expect_err("a lost copy of a multipart source cannot be resolved by ETag");
    assert!(
        matches!(err, s3sql_s3_client::Error::OutcomeUnknown { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("outcome unknown"), "{err}");
    assert_eq!(proxy.faults_injected(), 2);
}

/// The HEAD that would tell whose object a lost conditional PUT met is
/// refused (a write-only role: s3:PutObject without s3:GetObject). That
/// tells nothing, so the outcome is unknown, not "another writer's".
#[tokio::test]
async fn lost_conditional_put_whose_check_is_refused_reports_an_unknown_outcome() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/write-only.txt");
    let err = lost_put_then_head(&proxy, &client, &fx, &key, status(403, "AccessDenied"))
        .await
        .expect_err("a refused check cannot tell the write succeeded");
    assert_unknown(&err, "403");
    assert_eq!(proxy.faults_injected(), 2, "the drop and the refused HEAD");
    fx.assert_holds(&key, b"mine").await;
}

/// A server that keeps no user metadata returns the object without the
/// write token. Its bytes are this write's, but another writer's identical
/// bytes would look the same: the outcome is unknown, not "another's".
#[tokio::test]
async fn lost_conditional_put_meeting_its_bytes_without_its_token_reports_an_unknown_outcome() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/no-metadata.txt");
    let err = lost_put_then_head(&proxy, &client, &fx, &key, no_write_token())
        .await
        .expect_err("bytes without the token cannot tell whose they are");
    assert_unknown(&err, "keeps no user metadata");
    assert_eq!(
        proxy.faults_injected(),
        2,
        "the drop and the stripped token"
    );
}

/// The same for a lost Complete: without the token on the object, the
/// ETag S3 gives the assembled parts cannot tell either, and the write is
/// not reported failed.
#[tokio::test]
async fn lost_complete_meeting_its_parts_without_its_token_reports_an_unknown_outcome() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/no-metadata.bin");
    let data = pattern_bytes(1000, 38);
    let err = lost_complete_then_head(&proxy, &client, &fx, &key, &data, no_write_token())
        .await
        .expect_err("parts without the token cannot tell whose they are");
    assert_unknown(&err, "keeps no user metadata");
    assert_eq!(proxy.faults_injected(), 3, "drop, NoSuchUpload, no token");
}

/// A conditional PUT of `mine` whose answer is lost; its retry meets the
/// object (412) and the HEAD that tells whose it is gets `head`.
async fn lost_put_then_head(
    proxy: &FaultProxy,
    client: &S3Client,
    fx: &Fixture,
    key: &str,
    head: Fault,
) -> s3sql_s3_client::Result<PutObjectOutput> {
    proxy.push_rule(
        FaultRule::new(Fault::DropResponse)
            .method(Method::PUT)
            .times(1),
    );
    // The HeadObject of the key: the client may first ask the bucket's
    // region with a HeadBucket when its first write is cut off.
    proxy.push_rule(
        FaultRule::new(head)
            .method(Method::HEAD)
            .path_contains(key)
            .times(1),
    );
    let mine = Bytes::from_static(b"mine");
    client
        .put_object(fx.bucket(), key, mine, &create_only())
        .await
}

/// A one-part upload of `data` whose Complete is carried out and its
/// answer lost; the retry is answered NoSuchUpload (the proxy says so for
/// moto, which would complete it again) and the HEAD that tells gets `head`.
async fn lost_complete_then_head(
    proxy: &FaultProxy,
    client: &S3Client,
    fx: &Fixture,
    key: &str,
    data: &Bytes,
    head: Fault,
) -> s3sql_s3_client::Result<PutObjectOutput> {
    let upload = client
        .create_multipart_upload(fx.bucket(), key, &PutObjectRequest::default())
        .await
        .unwrap();
    let part = client
        .upload_part(fx.bucket(), key, &upload, 1, data.clone())
        .await
        .unwrap();
    lost_then_refused(proxy, status(404, "NoSuchUpload"), |f| {
        FaultRule::new(f)
            .method(Method::POST)
            .query_contains("uploadId")
    });
    proxy.push_rule(FaultRule::new(head).method(Method::HEAD).times(1));
    client
        .complete_multipart_upload(fx.bucket(), key, &upload, &[part])
        .await
}

/// `err` is an unknown outcome whose message says `why`.
fn assert_unknown(err: &s3sql_s3_client::Error, why: &str) {
    assert!(
        matches!(err, s3sql_s3_client::Error::OutcomeUnknown { .. }),
        "{err}"
    );
    assert!(err.to_string().contains(why), "{err}");
}

/// An object as a server keeping no user metadata returns it.
fn no_write_token() -> Fault {
    Fault::SetResponseHeader {
        name: "x-amz-meta-s3sql-write".into(),
        value: None,
    }
}

/// An answer of another version than the one asked for, as a server or
/// cache that ignores If-Match gives after an overwrite of the same size.
fn other_version() -> Fault {
    Fault::SetResponseHeader {
        name: "etag".into(),
        value: Some("\"0123456789abcdef0123456789abcdef\"".into()),
    }
}

/// `read_parallel` pins its chunks to the ETag the read began with; a
/// chunk answered by another version (If-Match ignored) fails the read
/// instead of splicing two versions of the same size.
#[tokio::test]
async fn parallel_read_refuses_a_chunk_of_another_version() {
    let (fx, proxy, _) = proxied().await;
    let client = fx.client_via(&proxy.endpoint(), |mut c| {
        c.read.chunk_size = MIB as u64;
        c
    });
    let key = fx.key("f/pinned-chunks.bin");
    fx.put(&key, pattern_bytes(3 * MIB, 39)).await;
    proxy.push_rule(FaultRule::new(other_version()).method(Method::GET).times(1));
    let err = client
        .read_to_bytes(fx.bucket(), &key, None)
        .await
        .expect_err("a chunk of another version was spliced in");
    assert!(err.to_string().contains("ignored If-Match"), "{err}");
    assert_eq!(proxy.faults_injected(), 1);
}

/// The same for a body cut and resumed: the resumed answer must be of the
/// version the body began with.
#[tokio::test]
async fn a_resumed_body_refuses_another_version() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/pinned-resume.bin");
    fx.put(&key, pattern_bytes(3 * MIB, 40)).await;
    proxy.push_rule(
        FaultRule::new(Fault::CutBody { after_bytes: MIB })
            .method(Method::GET)
            .times(1),
    );
    proxy.push_rule(FaultRule::new(other_version()).method(Method::GET).times(1));
    let err = client
        .get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default())
        .await
        .expect_err("a resume of another version was spliced in");
    assert!(err.to_string().contains("ignored If-Match"), "{err}");
}

/// `get_ranges` (every Parquet read through object_store) sends no If-Match;
/// its answers must still be of one version.
#[tokio::test]
async fn get_ranges_refuses_answers_of_two_versions() {
    let (fx, proxy, _) = proxied().await;
    let client = fx.client_via(&proxy.endpoint(), |mut c| {
        c.read.coalesce_gap = 0;
        c
    });
    let key = fx.key("f/two-versions.bin");
    fx.put(&key, pattern_bytes(MIB, 41)).await;
    proxy.push_rule(FaultRule::new(other_version()).method(Method::GET).times(1));
    let err = client
        .get_ranges(fx.bucket(), &key, &[0..10, 1000..1010])
        .await
        .expect_err("ranges of two versions were returned as one object's");
    assert!(err.to_string().contains("two versions"), "{err}");
    assert_eq!(proxy.faults_injected(), 1);
}

/// An answer without an ETag among answers with one cannot be told to be
/// of the same version: `get_ranges` refuses it, whichever answer it is
/// (the check looked only when the first answer had an ETag, and never at
/// an answer lacking one; review-11b #10c).
#[tokio::test]
async fn get_ranges_refuses_an_answer_without_the_others_etag() {
    let (fx, proxy, _) = proxied().await;
    let client = fx.client_via(&proxy.endpoint(), |mut c| {
        c.read.coalesce_gap = 0;
        c.read.concurrency = 1;
        c
    });
    let key = fx.key("f/etagless.bin");
    fx.put(&key, pattern_bytes(MIB, 43)).await;
    let strip = || Fault::SetResponseHeader {
        name: "etag".into(),
        value: None,
    };
    for nth in 0..2 {
        // The nth GET (in order: concurrency 1) loses its ETag.
        proxy.push_rule(FaultRule::new(strip()).method(Method::GET).skip(nth));
        let err = client
            .get_ranges(fx.bucket(), &key, &[0..10, 1000..1010])
            .await
            .expect_err("an ETag-less answer was taken as the same version");
        assert!(err.to_string().contains("two versions"), "{err}");
    }
}

/// Answers that carry no ETag at all cannot show that several ranged GETs
/// read one version: unpinned `get_ranges` of more than one GET refuses
/// them, as a pinned read does; one GET is one version (review-11c #3).
#[tokio::test]
async fn get_ranges_refuses_answers_without_any_etag() {
    let (fx, proxy, _) = proxied().await;
    let client = fx.client_via(&proxy.endpoint(), |mut c| {
        c.read.coalesce_gap = 0;
        c
    });
    let key = fx.key("f/no-etags.bin");
    let body = pattern_bytes(MIB, 44);
    fx.put(&key, body.clone()).await;
    proxy.push_rule(
        FaultRule::new(Fault::SetResponseHeader {
            name: "etag".into(),
            value: None,
        })
        .method(Method::GET)
        .times(100),
    );
    let err = client
        .get_ranges(fx.bucket(), &key, &[0..10, 1000..1010])
        .await
        .expect_err("ETag-less answers were taken as one version");
    assert!(err.to_string().contains("no ETag"), "{err}");
    let one = client
        .get_ranges(fx.bucket(), &key, &[0..10, 5..20])
        .await
        .unwrap();
    assert_eq!(one, vec![&body[0..10], &body[5..20]]);
}

/// A HEAD claiming an exabyte object: the read fails on its first answer,
/// promptly, without first cutting the claimed size into chunks (2^60
/// bytes in 1 MiB chunks is 2^40 ranges).
#[tokio::test]
async fn parallel_read_of_an_absurd_claimed_size_fails_promptly() {
    let (fx, proxy, _) = proxied().await;
    let client = fx.client_via(&proxy.endpoint(), |mut c| {
        c.read.chunk_size = MIB as u64;
        c
    });
    let key = fx.key("f/exabyte.bin");
    fx.put(&key, pattern_bytes(3 * MIB, 42)).await;
    proxy.push_rule(
        FaultRule::new(Fault::SetResponseHeader {
            name: "content-length".into(),
            value: Some((1u64 << 60).to_string()),
        })
        .method(Method::HEAD),
    );
    let read = client.read_to_bytes(fx.bucket(), &key, None);
    let err = tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("the read did not end")
        .expect_err("an exabyte read succeeded");
    assert!(err.to_string().contains("changed during the read"), "{err}");
}

/// A server ignoring the continuation token answers the first page again
/// under a fresh token each time: the listing stops at the second page.
#[tokio::test]
async fn a_listing_that_never_advances_is_an_error() {
    use futures::TryStreamExt;
    let (fx, proxy, client) = proxied().await;
    let prefix = fx.key("f/replayed/");
    for name in ["a", "b"] {
        fx.put(&format!("{prefix}{name}"), Bytes::from_static(b"x"))
            .await;
    }
    proxy.push_rule(
        FaultRule::new(Fault::ReplayFirstListingPage)
            .query_contains("list-type=2")
            .always(),
    );
    let request = s3sql_s3_client::ListObjectsV2Request::prefix(prefix);
    let listing = client
        .list_objects_v2(fx.bucket(), request)
        .try_collect::<Vec<_>>();
    ends_not_advancing(listing).await;
    assert_eq!(proxy.faults_injected(), 2, "the first page and its replay");
}

/// Awaits a listing a server answers with its first page again and again:
/// it must end, within 20 s, in the error that says so.
async fn ends_not_advancing<T: std::fmt::Debug>(
    listing: impl std::future::Future<Output = Result<T, s3sql_s3_client::Error>>,
) {
    let listed = tokio::time::timeout(Duration::from_secs(20), listing)
        .await
        .expect("the listing never ended");
    let err = listed.expect_err("the first page again was listed as more entries");
    assert!(
        err.to_string().contains("ignores the continuation token"),
        "{err}"
    );
}

/// A 200 whose body is an `<Error>` document (a gateway, or S3 failing
/// after it began to answer) is that error, whatever the request: on a
/// listing page it was read as an empty last page, and the listing ended
/// early with no error (review-11b #3). Retried when the code says so;
/// an error when it persists, never a short listing.
#[tokio::test]
async fn an_error_in_a_200_listing_page_is_retried_never_an_empty_last_page() {
    use futures::TryStreamExt;
    let (fx, proxy, client) = proxied().await;
    let prefix = fx.key("f/error-in-200/");
    for name in ["a", "b", "c"] {
        fx.put(&format!("{prefix}{name}"), Bytes::from_static(b"x"))
            .await;
    }
    let request = s3sql_s3_client::ListObjectsV2Request {
        max_keys: Some(1),
        ..s3sql_s3_client::ListObjectsV2Request::prefix(&prefix)
    };
    let keys = |pages: Vec<s3sql_s3_client::ListObjectsV2Page>| -> Vec<String> {
        pages
            .into_iter()
            .flat_map(|p| p.objects)
            .map(|o| o.key)
            .collect()
    };
    proxy.push_rule(
        FaultRule::new(status(200, "InternalError"))
            .query_contains("continuation-token=")
            .times(1),
    );
    let pages: Vec<_> = client
        .list_objects_v2(fx.bucket(), request.clone())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        keys(pages).len(),
        3,
        "the page answered 200 <Error> was retried"
    );
    assert_eq!(proxy.faults_injected(), 1);
    proxy.push_rule(
        FaultRule::new(status(200, "InternalError"))
            .query_contains("continuation-token=")
            .always(),
    );
    let err = client
        .list_objects_v2(fx.bucket(), request)
        .try_collect::<Vec<_>>()
        .await
        .expect_err("a listing cut short by 200 <Error> answers");
    assert_eq!(err.code(), Some("InternalError"), "{err}");
}

/// ListBuckets follows its continuation tokens by the same rules as every
/// listing: a server answering the first page again under fresh tokens
/// is an error at the second page, not a thousand pages of duplicates.
#[tokio::test]
async fn a_bucket_listing_that_never_advances_is_an_error() {
    let (_fx, proxy, client) = proxied().await;
    proxy.push_rule(
        FaultRule::new(Fault::ReplayFirstListingPage)
            .method(Method::GET)
            .always(),
    );
    ends_not_advancing(client.list_buckets()).await;
    assert_eq!(proxy.requests_seen(), 2, "the first page and its replay");
}

/// S3 answers a conditional write racing another of the same key 409
/// ConditionalRequestConflict, "retry": it is retried.
#[tokio::test]
async fn a_conditional_request_conflict_is_retried() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/conflict.txt");
    proxy.push_rule(
        FaultRule::new(status(409, "ConditionalRequestConflict"))
            .method(Method::PUT)
            .times(1),
    );
    client
        .put_object(
            fx.bucket(),
            &key,
            Bytes::from_static(b"mine"),
            &create_only(),
        )
        .await
        .unwrap();
    assert_eq!(proxy.faults_injected(), 1);
    fx.assert_holds(&key, b"mine").await;
}

/// The retry of a conditional PUT whose answer was lost races its own
/// first attempt and is answered 409: resolved like a 412, by the token.
#[tokio::test]
async fn lost_conditional_put_answered_conflict_on_retry_is_ours() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/lost-conflict.txt");
    lost_then_refused(&proxy, status(409, "ConditionalRequestConflict"), |f| {
        FaultRule::new(f).method(Method::PUT)
    });
    // The conflict persists through every retry (three in all).
    proxy.push_rule(
        FaultRule::new(status(409, "ConditionalRequestConflict"))
            .method(Method::PUT)
            .times(2),
    );
    client
        .put_object(
            fx.bucket(),
            &key,
            Bytes::from_static(b"mine"),
            &create_only(),
        )
        .await
        .unwrap();
    assert_eq!(proxy.faults_injected(), 4, "the drop and three conflicts");
    fx.assert_holds(&key, b"mine").await;
}

/// A 503 SlowDown to CreateMultipartUpload is S3 refusing it unread, not a
/// lost answer: no orphan hunt, and another writer's upload of the same
/// key, started just before, stays open.
#[tokio::test]
async fn a_throttled_create_multipart_upload_leaves_other_uploads_alone() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-create-503.bin");
    let theirs = start_upload(&fx.client, &fx, &key).await;
    proxy.push_rule(
        FaultRule::new(status(503, "SlowDown"))
            .method(Method::POST)
            .query_contains("uploads")
            .times(1),
    );
    let ours = start_upload(&client, &fx, &key).await;
    assert_eq!(proxy.faults_injected(), 1);
    assert_no_hunt_and_abort(&fx, &proxy, &key, [theirs, ours]).await;
}

/// CreateMultipartUpload of `key` through `client`: the upload id.
async fn start_upload(client: &S3Client, fx: &Fixture, key: &str) -> String {
    client
        .create_multipart_upload(fx.bucket(), key, &PutObjectRequest::default())
        .await
        .unwrap()
}

/// After a create that was refused (never a lost answer): no hunt for
/// orphans went through `proxy` and the other writer's upload (`ids[0]`)
/// is still open; then both uploads are aborted.
async fn assert_no_hunt_and_abort(fx: &Fixture, proxy: &FaultProxy, key: &str, ids: [String; 2]) {
    let listings = proxy
        .recorded()
        .iter()
        .filter(|r| r.method == Method::GET && r.query.contains("uploads"))
        .count();
    assert_eq!(listings, 0, "a refused create was hunted for as lost");
    let open: Vec<String> = open_uploads(fx)
        .await
        .into_iter()
        .map(|u| u.upload_id)
        .collect();
    assert!(
        open.contains(&ids[0]),
        "another writer's upload was aborted: {open:?}"
    );
    for id in ids {
        fx.client
            .abort_multipart_upload(fx.bucket(), key, &id)
            .await
            .unwrap();
    }
}

/// A 307 to another host is not followed: the signed request, and a
/// session token with it, would go wherever the answer says.
#[tokio::test]
async fn a_temporary_redirect_to_another_host_is_not_followed() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/redirect-elsewhere.txt");
    fx.put(&key, Bytes::from_static(b"here")).await;
    let port = fx.target.socket_addr().unwrap().port();
    let origin = format!("http://localhost:{port}");
    proxy.push_rule(FaultRule::new(Fault::TemporaryRedirect { origin }).times(1));
    let err = client
        .get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default())
        .await
        .expect_err("a redirect to another host was followed");
    assert_eq!(err.status(), Some(307), "{err}");
}

/// A write cancelled while its CreateMultipartUpload is under way (its
/// first answer lost, its retry waiting out the backoff): the upload the
/// server started is aborted when the writer is dropped, not left open
/// with nobody knowing its id. The backoff is long (5 s) so that the
/// listing that sees the started upload comes before the retry even on a
/// loaded machine: with 800 ms, CI's moto run once saw the write end
/// first ("the write ended before it could be cancelled").
#[tokio::test]
async fn a_writer_dropped_while_its_upload_starts_leaves_no_upload() {
    let (fx, proxy, _) = proxied().await;
    let client = fx.client_via(&proxy.endpoint(), |mut c| {
        c.retry.initial_backoff = Duration::from_secs(5);
        c.retry.max_backoff = Duration::from_secs(5);
        c
    });
    let key = fx.key("f/dropped-at-create.bin");
    proxy.push_rule(
        FaultRule::new(Fault::DropResponse)
            .method(Method::POST)
            .query_contains("uploads")
            .times(1),
    );
    let mut writer = fx.writer(&client, &key, PutObjectRequest::default());
    let data = pattern_bytes(6 * MIB, 43);
    // Cancelled once the server has started the upload (its answer lost).
    let mut write = Box::pin(writer.write(&data));
    while open_uploads(&fx).await.is_empty() {
        if let Ok(done) = tokio::time::timeout(Duration::from_millis(20), &mut write).await {
            panic!("the write ended before it could be cancelled: {done:?}");
        }
    }
    drop(write);
    drop(writer);
    let started = std::time::Instant::now();
    while !open_uploads(&fx).await.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "an upload was left open: {:?}",
            open_uploads(&fx).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A 307 whose Location drops the query is not followed: an UploadPart
/// sent there without `partNumber` and `uploadId` is a PutObject of one
/// part over the whole key.
#[tokio::test]
async fn a_temporary_redirect_that_drops_the_query_is_not_followed() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/redirect-no-query.bin");
    let origin = format!("http://{}", fx.target.socket_addr().unwrap());
    proxy.push_rule(
        FaultRule::new(Fault::TemporaryRedirectDroppingQuery { origin })
            .method(Method::PUT)
            .query_contains("partNumber")
            .times(1),
    );
    let written = fx
        .write_multipart(&client, &key, &pattern_bytes(6 * MIB, 50))
        .await;
    let err = written.expect_err("the part went where a query-less Location said");
    assert_eq!(proxy.faults_injected(), 1);
    assert_eq!(err.status(), Some(307), "{err}");
    let head = fx.client.head_object(fx.bucket(), &key).await;
    assert!(
        head.is_err(),
        "a part was written over the key as a whole object: {head:?}"
    );
}

/// The ETag a response header lacks.
fn no_etag() -> Fault {
    Fault::SetResponseHeader {
        name: "etag".into(),
        value: None,
    }
}

/// A chunk of a pinned read answered without an ETag (a gateway or cache
/// that strips it) cannot prove its version: refused, not spliced in.
#[tokio::test]
async fn a_pinned_chunk_answered_without_an_etag_is_refused() {
    let (fx, proxy, _) = proxied().await;
    let client = fx.client_via(&proxy.endpoint(), |mut c| {
        c.read.chunk_size = MIB as u64;
        c
    });
    let key = fx.key("f/pinned-no-etag.bin");
    fx.put(&key, pattern_bytes(3 * MIB, 51)).await;
    proxy.push_rule(FaultRule::new(no_etag()).method(Method::GET).times(1));
    let err = client
        .read_to_bytes(fx.bucket(), &key, None)
        .await
        .map(|bytes| bytes.len())
        .expect_err("a chunk of unknown version was spliced in");
    assert!(err.to_string().contains("no ETag"), "{err}");
    assert_eq!(proxy.faults_injected(), 1);
}

/// A resumed answer without an ETag cannot prove it is of the version the
/// body began with.
#[tokio::test]
async fn a_resumed_answer_without_an_etag_is_refused() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/resume-no-etag.bin");
    fx.put(&key, pattern_bytes(3 * MIB, 52)).await;
    proxy.push_rule(
        FaultRule::new(Fault::CutBody { after_bytes: MIB })
            .method(Method::GET)
            .times(1),
    );
    proxy.push_rule(FaultRule::new(no_etag()).method(Method::GET).times(1));
    let err = client
        .get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default())
        .await
        .map(|bytes| bytes.len())
        .expect_err("a resume of unknown version was spliced in");
    assert!(err.to_string().contains("no ETag"), "{err}");
}

/// A body whose first answer carried no ETag is not resumed unpinned
/// after a cut: the rest could come from another version.
#[tokio::test]
async fn a_cut_body_that_began_without_an_etag_is_not_resumed_unpinned() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/cut-no-etag.bin");
    fx.put(&key, pattern_bytes(3 * MIB, 53)).await;
    proxy.push_rule(
        FaultRule::new(Fault::CutBodyWithoutHeader {
            after_bytes: MIB,
            name: "etag".into(),
        })
        .method(Method::GET)
        .times(1),
    );
    let err = client
        .get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default())
        .await
        .map(|bytes| bytes.len())
        .expect_err("the body was resumed with nothing to pin it to");
    assert!(err.to_string().contains("no ETag"), "{err}");
    assert_eq!(
        proxy.requests_seen(),
        1,
        "an unpinned resume was sent anyway"
    );
}

/// An answer kept alive with spaces (Complete, CopyObject, DeleteObjects)
/// has no floor rate, but not forever: a peer trickling one byte at a time
/// is cut once the whole answer has taken the cap (30 request timeouts).
#[tokio::test]
async fn an_answer_kept_alive_without_end_is_cut() {
    let (fx, proxy, _) = proxied().await;
    let client = fx.client_via(&proxy.endpoint(), |mut c| {
        c.retry.max_retries = 0;
        // Four times the trickle's gap: a loaded machine (CI runs the suite
        // against moto at once) can delay a slice past twice the gap.
        c.request_timeout = Duration::from_millis(400);
        c
    });
    let key = fx.key("f/endless-complete.bin");
    let data = pattern_bytes(1000, 54);
    let upload = client
        .create_multipart_upload(fx.bucket(), &key, &PutObjectRequest::default())
        .await
        .unwrap();
    let part = client
        .upload_part(fx.bucket(), &key, &upload, 1, data)
        .await
        .unwrap();
    proxy.push_rule(
        FaultRule::new(trickle(1, 100))
            .method(Method::POST)
            .query_contains("uploadId")
            .times(1),
    );
    // The Complete's answer is lost: the HEAD asking the object whether
    // it was done is refused, so the cut answer's error is the outcome.
    proxy.push_rule(
        FaultRule::new(Fault::Status {
            status: 403,
            code: "AccessDenied".into(),
        })
        .method(Method::HEAD)
        .times(1),
    );
    let started = std::time::Instant::now();
    let parts = [part];
    let complete = client.complete_multipart_upload(fx.bucket(), &key, &upload, &parts);
    let result = tokio::time::timeout(Duration::from_secs(40), complete).await;
    let elapsed = started.elapsed();
    let err = result
        .expect("a trickled answer held the Complete past 40 s")
        .expect_err("the trickle ended before the cap");
    assert!(err.to_string().contains("30 times"), "{err}");
    assert!(
        elapsed >= Duration::from_secs(12) && elapsed < Duration::from_secs(24),
        "took {elapsed:?}"
    );
    let _ = fx
        .client
        .abort_multipart_upload(fx.bucket(), &key, &upload)
        .await;
}

/// A refused connection proves the request never reached the server: a
/// CreateMultipartUpload retried after one does not hunt for (and abort)
/// uploads of the key, another writer's among them.
#[tokio::test]
async fn a_refused_connection_is_not_a_lost_answer() {
    let fx = Fixture::new().await;
    let key = fx.key("f/mp-create-refused.bin");
    let theirs = start_upload(&fx.client, &fx, &key).await;
    let (client, late) = refused_at_first(&fx);
    let ours = start_upload(&client, &fx, &key).await;
    let proxy = late.join().unwrap();
    assert!(client.request_count() >= 2, "no attempt was refused");
    assert_no_hunt_and_abort(&fx, &proxy, &key, [theirs, ours]).await;
}

/// Another writer copied the same source to the destination first; this
/// create-only copy never reached the server (its connection was reset)
/// and its retry is refused 412. The destination has the source's ETag,
/// but a copy carries no token of its own, so that proves nothing: the
/// outcome is unknown, never "this copy succeeded" (as for PutObject).
#[tokio::test]
async fn lost_create_only_copy_does_not_claim_an_identical_object() {
    let (fx, proxy, client) = proxied().await;
    let from = fx.key("f/copy-src-same.txt");
    let to = fx.key("f/copy-dst-same.txt");
    fx.put(&from, Bytes::from_static(b"copied")).await;
    fx.client
        .copy_object(fx.bucket(), &from, &to, &CopyObjectRequest::default())
        .await
        .unwrap();
    proxy.push_rule(
        FaultRule::new(Fault::Reset)
            .method(Method::PUT)
            .path_contains("copy-dst-same")
            .times(1),
    );
    proxy.push_rule(
        FaultRule::new(status(412, "PreconditionFailed"))
            .method(Method::PUT)
            .path_contains("copy-dst-same")
            .times(1),
    );
    let err = client
        .copy_object(fx.bucket(), &from, &to, &CopyObjectRequest::create_only())
        .await
        .expect_err("a refused copy claimed another writer's identical object");
    assert!(
        matches!(err, s3sql_s3_client::Error::OutcomeUnknown { .. }),
        "{err}"
    );
    assert_eq!(proxy.faults_injected(), 2);
}

/// A server that lists again, at the top of a page, the common prefix the
/// page before ended in (LocalStack, versitygw): the repeat is dropped and
/// the listing goes on, each prefix once, not failed as a server ignoring
/// its continuation token.
#[tokio::test]
async fn a_common_prefix_repeated_at_a_page_boundary_is_listed_once() {
    use futures::TryStreamExt;
    let (fx, proxy, client) = proxied().await;
    let dir = fx.key("f/boundary/");
    for d in 0..4 {
        fx.put(&format!("{dir}d{d}/x.csv"), Bytes::from_static(b"x"))
            .await;
    }
    proxy.push_rule(
        FaultRule::new(Fault::PrependCommonPrefix {
            prefix: format!("{dir}d2/"),
        })
        .method(Method::GET)
        .query_contains("continuation-token")
        .times(1),
    );
    let request = ListObjectsV2Request {
        max_keys: Some(3),
        ..ListObjectsV2Request::prefix(dir.clone()).with_delimiter("/")
    };
    let pages: Vec<_> = client
        .list_objects_v2(fx.bucket(), request)
        .try_collect()
        .await
        .expect("a repeated boundary prefix failed the listing");
    let prefixes: Vec<String> = pages
        .iter()
        .flat_map(|p| p.common_prefixes.clone())
        .collect();
    let expected: Vec<String> = (0..4).map(|d| format!("{dir}d{d}/")).collect();
    assert_eq!(prefixes, expected);
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert_eq!(proxy.faults_injected(), 1);
}

/// A connection refused to a bucket's virtual host names the host dialed
/// and the setting that avoids it, not only the endpoint (which was not
/// the host that failed).
#[tokio::test]
async fn a_failed_connection_to_a_virtual_host_names_it() {
    let fx = Fixture::new().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = fx.client_via(&format!("http://minio.test:{}", closed.port()), |mut c| {
        c.url_style = s3sql_s3_client::UrlStyle::VirtualHosted;
        c.resolve_to = Some(closed);
        c.retry.max_retries = 0;
        c
    });
    let err = client
        .head_object("rbk", "k")
        .await
        .expect_err("nothing listens there");
    let text = err.to_string();
    assert!(text.contains("rbk.minio.test"), "{text}");
    assert!(text.contains("URL_STYLE 'path'"), "{text}");
}

/// A DeleteObjects answered 204 with no body (a gateway that did not run
/// the multi-object delete) is an error, never "every key deleted": COPY
/// OVERWRITE would report success with the stale files still there.
#[tokio::test]
async fn delete_objects_answered_with_no_body_is_an_error() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/not-deleted.txt");
    fx.put(&key, Bytes::from_static(b"still here")).await;
    proxy.push_rule(
        FaultRule::new(status(204, "NoContent"))
            .method(Method::POST)
            .query_contains("delete"),
    );
    let result = client.delete_objects(fx.bucket(), &[key.as_str()]).await;
    assert!(
        result.is_err(),
        "an empty answer counted as deleted: {result:?}"
    );
    fx.assert_holds(&key, b"still here").await;
}

/// A 2xx without what S3 sends with every success is no success: a
/// PutObject answered 204 with no ETag (a gateway that did not run it)
/// stored nothing, and saying Ok lost a COPY's small files (review-11d #7).
#[tokio::test]
async fn a_put_answered_without_an_etag_is_an_error() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/answered-204.txt");
    proxy.push_rule(
        FaultRule::new(status(204, "NoContent"))
            .method(Method::PUT)
            .times(1),
    );
    let err = client
        .put_object(
            fx.bucket(),
            &key,
            Bytes::from_static(b"lost"),
            &PutObjectRequest::default(),
        )
        .await
        .expect_err("an answer without an ETag stores nothing");
    assert!(err.to_string().contains("without an ETag"), "{err}");
    let gone = fx.client.head_object(fx.bucket(), &key).await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

/// A CopyObject answered 204 with no `<CopyObjectResult>` copied nothing:
/// an error, so object_store's rename (copy, then delete the source) keeps
/// the source instead of losing the object from both places (review-11d #7).
#[tokio::test]
async fn a_copy_answered_without_its_result_is_an_error_and_rename_keeps_the_source() {
    use object_store::ObjectStoreExt;
    let (fx, proxy, client) = proxied().await;
    let from = fx.key("f/rename-src.txt");
    let to = fx.key("f/rename-dst.txt");
    fx.put(&from, Bytes::from_static(b"keep me")).await;
    let empty_copy = || {
        FaultRule::new(status(204, "NoContent"))
            .method(Method::PUT)
            .path_contains("rename-dst")
            .times(1)
    };
    proxy.push_rule(empty_copy());
    let err = client
        .copy_object(fx.bucket(), &from, &to, &CopyObjectRequest::default())
        .await
        .expect_err("an empty answer copied nothing");
    assert!(err.to_string().contains("CopyObjectResult"), "{err}");
    proxy.push_rule(empty_copy());
    let store = s3sql_s3_client::S3ObjectStore::new(client.clone(), fx.bucket());
    let path = |key: &str| object_store::path::Path::parse(key).unwrap();
    store
        .rename(&path(&from), &path(&to))
        .await
        .expect_err("a rename whose copy did not happen");
    fx.assert_holds(&from, b"keep me").await;
}

/// A parallel read whose HEAD (or caller's metadata) has no ETag still
/// reads one version: the chunks after the first are pinned to the first
/// answer's ETag, so an overwrite during the read is an error, never the
/// two versions spliced into one object (review-11d #2).
#[tokio::test]
async fn parallel_read_without_a_head_etag_stays_on_one_version() {
    let (fx, proxy, _) = proxied().await;
    // Concurrency 1: the second chunk carries If-Match of the first
    // answer's ETag. Concurrency 2: both leave before any answer, so the
    // second is checked when it arrives (and no If-Match was sent).
    for concurrency in [1, 2] {
        let client = fx.client_via(&proxy.endpoint(), |mut c| {
            c.read.chunk_size = 4;
            c.read.concurrency = concurrency;
            c
        });
        for given_meta in [false, true] {
            let case = format!("concurrency {concurrency}, given metadata {given_meta}");
            let key = fx.key(&format!("f/unpinned-{concurrency}-{given_meta}.bin"));
            fx.put(&key, Bytes::from_static(b"AAAAAAAA")).await;
            let read = |delay: bool| {
                proxy.clear_rules();
                proxy.push_rule(
                    FaultRule::new(Fault::SetResponseHeader {
                        name: "etag".into(),
                        value: None,
                    })
                    .method(Method::HEAD)
                    .times(1),
                );
                if delay {
                    proxy.push_rule(
                        FaultRule::new(Fault::Delay(Duration::from_millis(1500)))
                            .method(Method::GET)
                            .skip(1)
                            .times(1),
                    );
                }
                let meta = given_meta.then(|| s3sql_s3_client::ObjectMeta::new(key.clone(), 8));
                let (client, bucket, key) = (client.clone(), fx.bucket().to_owned(), key.clone());
                tokio::spawn(async move {
                    let stream = client.read_parallel(&bucket, &key, None, meta).await?;
                    let chunks: Vec<Bytes> = futures::TryStreamExt::try_collect(stream).await?;
                    Ok::<_, s3sql_s3_client::Error>(chunks.concat())
                })
            };
            // Nothing changes: the bytes, although no ETag came first.
            let whole = read(false).await.unwrap();
            assert_eq!(whole.unwrap(), &b"AAAAAAAA"[..], "{case}");
            let reading = read(true);
            tokio::time::sleep(Duration::from_millis(500)).await;
            fx.put(&key, Bytes::from_static(b"BBBBBBBB")).await;
            let err = reading
                .await
                .unwrap()
                .expect_err(&format!("{case}: two versions spliced"));
            let message = err.to_string();
            assert!(message.contains("changed"), "{case}: {message}");
            // Only a request that carried If-Match can have had it ignored.
            assert!(!message.contains("ignored If-Match"), "{case}: {message}");
        }
    }
}

/// A write to a server that accepts and never answers times out attempt by
/// attempt, without a region probe after each (a silent server is not S3
/// refusing a region: that comes as a reset), so it fails in its own
/// timeouts, not twice them (review-11d #9). As its answers were lost, the
/// object is then asked whether the write was done (a HEAD, two attempts
/// here), which times out too: the outcome is unknown.
#[tokio::test]
async fn a_stalled_server_is_not_probed_for_its_region() {
    let (endpoint, accepted) = silent_endpoint("http").await;
    let target = s3sql_testkit::S3Target::in_process();
    let mut config = common::config_for(&target)
        .with_endpoint(endpoint)
        .with_region("us-east-1");
    config.request_timeout = Duration::from_secs(1);
    config.retry = RetryConfig {
        max_retries: 1,
        initial_backoff: Duration::from_millis(5),
        backoff_multiplier: 2.0,
        max_backoff: Duration::from_millis(5),
    };
    let client = common::client_for(&target, config);
    let err = client
        .put_object(
            "bkt",
            "k",
            Bytes::from_static(b"x"),
            &PutObjectRequest::default(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("after 2 attempts"), "{err}");
    assert!(
        matches!(err, s3sql_s3_client::Error::OutcomeUnknown { .. }),
        "{err}"
    );
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        4,
        "two attempts and two of the HEAD asking the object, no probes"
    );
    assert_eq!(client.request_count(), 4);
}

/// A lost CreateMultipartUpload answer for a key holding a carriage return
/// still leaves no orphan: ListMultipartUploads asks for URL-encoded keys
/// (a raw CR in the XML reads back as LF), and a server that writes the
/// key raw anyway is matched by what XML makes of it (review-11d #1).
#[tokio::test]
async fn lost_create_of_a_key_with_a_carriage_return_leaves_no_orphan() {
    lost_create_leaves_no_orphan("f/mp-create-lost-cr/a\rb.bin").await;
}

/// object_store's `delete_stream` reports a key the server refused to
/// delete as failed even when the key holds a carriage return, which a
/// `<DeleteResult>` writing it raw gives back as LF (review-11d #1).
#[tokio::test]
async fn delete_stream_reports_a_refused_key_holding_a_carriage_return() {
    use futures::StreamExt;
    let (fx, proxy, client) = proxied().await;
    let keys = [
        fx.key("f/del-cr/a\rb"),
        fx.key("f/del-cr/c\r\rd"),
        fx.key("f/del-cr/plain"),
    ];
    for key in &keys {
        fx.put(key, Bytes::from_static(b"x")).await;
    }
    proxy.push_rule(
        FaultRule::new(Fault::RefuseDeletes {
            code: "AccessDenied".into(),
        })
        .method(Method::POST)
        .query_contains("delete")
        .times(1),
    );
    let store = s3sql_s3_client::S3ObjectStore::new(client.clone(), fx.bucket());
    let paths = keys
        .iter()
        .map(|k| Ok(s3sql_s3_client::S3ObjectStore::path_of(k)))
        .collect::<Vec<_>>();
    let results: Vec<_> =
        object_store::ObjectStore::delete_stream(&store, futures::stream::iter(paths).boxed())
            .collect()
            .await;
    assert_eq!(proxy.faults_injected(), 1);
    assert_eq!(results.len(), 3);
    for (key, result) in keys.iter().zip(&results) {
        let err = result
            .as_ref()
            .expect_err("a refused key was reported deleted");
        assert!(err.to_string().contains("AccessDenied"), "{err}");
        fx.assert_holds(key, b"x").await;
    }
}

/// An endpoint (`scheme` http or https) whose listener accepts
/// connections and never speaks (a server or TLS terminator that hung):
/// its URL, and how many connections it saw.
async fn silent_endpoint(scheme: &str) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(socket);
        }
    });
    (format!("{scheme}://{addr}"), accepted)
}

/// A CreateMultipartUpload, without retries, to an `https://` endpoint
/// that never completes the TLS handshake: the error, how long it took
/// and how many connections were made.
async fn create_over_a_stalled_tls_handshake(
    connect: Duration,
    request: Duration,
) -> (s3sql_s3_client::Error, Duration, usize) {
    let (endpoint, accepted) = silent_endpoint("https").await;
    let target = s3sql_testkit::S3Target::in_process();
    let mut config = common::config_for(&target)
        .with_endpoint(endpoint)
        .with_region("us-east-1");
    config.connect_timeout = connect;
    config.request_timeout = request;
    config.retry.max_retries = 0;
    let client = common::client_for(&target, config);
    let started = std::time::Instant::now();
    let err = client
        .create_multipart_upload("bkt", "k", &PutObjectRequest::default())
        .await
        .unwrap_err();
    let connections = accepted.load(std::sync::atomic::Ordering::SeqCst);
    (err, started.elapsed(), connections)
}

/// A TLS handshake that never ends sent no request: a CreateMultipartUpload
/// whose request timeout expires during it started no upload, so it does
/// not hunt for orphans over a second connection (review-11d #3).
#[tokio::test]
async fn a_stalled_tls_handshake_is_not_a_lost_answer() {
    let (err, elapsed, connections) =
        create_over_a_stalled_tls_handshake(Duration::from_secs(30), Duration::from_secs(1)).await;
    assert!(err.to_string().contains("no response within 1.0s"), "{err}");
    assert_eq!(connections, 1, "one connection, no orphan hunt: {err}");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}: {err}");
}

/// `connect_timeout` bounds the TLS handshake as well as the TCP connect,
/// and its expiry is a connection never made, not a lost answer.
#[tokio::test]
async fn connect_timeout_bounds_the_tls_handshake() {
    let (err, elapsed, connections) =
        create_over_a_stalled_tls_handshake(Duration::from_secs(1), Duration::from_secs(10)).await;
    assert!(err.to_string().contains("connect_timeout"), "{err}");
    assert_eq!(connections, 1, "{err}");
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}: {err}");
}

/// A PutObject whose every answer was lost, on a bucket that encrypts with
/// SSE-KMS by default (the request asked for no encryption): the object's
/// ETag is not the MD5 of its bytes, so it tells nothing and the outcome is
/// unknown. The ETag's mismatch said "another writer's", the retries'
/// error stood as "not written", and a failed OVERWRITE kept the file while
/// saying the target was as it was (review-s23 F7). Two proxies: the inner
/// one marks HEAD answers encrypted, the outer one gives them a KMS-like
/// ETag and drops every PutObject answer.
#[tokio::test]
async fn a_lost_put_on_a_bucket_encrypting_with_kms_has_an_unknown_outcome() {
    let (fx, inner, _) = proxied().await;
    inner.push_rule(
        FaultRule::new(Fault::SetResponseHeader {
            name: "x-amz-server-side-encryption".into(),
            value: Some("aws:kms".into()),
        })
        .method(Method::HEAD)
        .always(),
    );
    let outer = FaultProxy::start(inner.addr());
    outer.push_rule(
        FaultRule::new(Fault::DropResponse)
            .method(Method::PUT)
            .always(),
    );
    outer.push_rule(
        FaultRule::new(Fault::SetResponseHeader {
            name: "etag".into(),
            value: Some("\"0123456789abcdef0123456789abcdef\"".into()),
        })
        .method(Method::HEAD)
        .always(),
    );
    let client = fx.client_via(&outer.endpoint(), fast_retries);
    let key = fx.key("f/kms-lost.txt");
    let err = client
        .put_object(
            fx.bucket(),
            &key,
            Bytes::from_static(b"kms"),
            &PutObjectRequest::default(),
        )
        .await
        .expect_err("every answer was lost");
    assert!(
        matches!(err, s3sql_s3_client::Error::OutcomeUnknown { .. }),
        "{err}"
    );
    fx.assert_holds(&key, b"kms").await;
}
