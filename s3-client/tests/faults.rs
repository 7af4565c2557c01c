//! Retries, resumption and cleanup through testkit's fault-injection proxy,
//! in front of the test target (s3s-fs by default, moto in CI).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Fixture, pattern_bytes};
use http::Method;
use s3sql_s3_client::{
    GetObjectRequest, MultipartWriter, PutObjectOutput, PutObjectRequest, RetryConfig, S3Client,
};
use s3sql_testkit::{Fault, FaultProxy, FaultRule};

const MIB: usize = 1024 * 1024;

/// A fixture plus a proxy in front of it and a client that goes through it
/// with fast retries.
async fn proxied() -> (Fixture, FaultProxy, S3Client) {
    let fx = Fixture::new().await;
    let upstream = fx
        .target
        .socket_addr()
        .expect("fault tests need a plain-HTTP target the proxy can front");
    let proxy = FaultProxy::start(upstream);
    let client = fx.client_via(&proxy.endpoint(), |mut c| {
        c.retry = RetryConfig {
            max_retries: 3,
            initial_backoff: Duration::from_millis(5),
            backoff_multiplier: 2.0,
            max_backoff: Duration::from_millis(50),
        };
        c.request_timeout = Duration::from_secs(2);
        c
    });
    (fx, proxy, client)
}

/// Writes `data` through a MultipartWriter with 5 MiB parts and finishes.
async fn write_multipart(
    client: &S3Client,
    fx: &Fixture,
    key: &str,
    data: &[u8],
) -> s3sql_s3_client::Result<PutObjectOutput> {
    let mut writer = MultipartWriter::with_part_size(
        client,
        fx.bucket(),
        key,
        PutObjectRequest::default(),
        5 * MIB,
    );
    writer.write(data).await?;
    writer.finish().await
}

async fn put(fx: &Fixture, key: &str, data: Bytes) {
    fx.client
        .put_object(fx.bucket(), key, data, &PutObjectRequest::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn slow_down_and_internal_error_are_retried() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/retry.bin");
    let data = pattern_bytes(4096, 1);
    put(&fx, &key, data.clone()).await;
    proxy.push_rule(
        FaultRule::new(Fault::Status {
            status: 503,
            code: "SlowDown".into(),
        })
        .method(Method::GET)
        .times(2),
    );
    proxy.push_rule(
        FaultRule::new(Fault::Status {
            status: 500,
            code: "InternalError".into(),
        })
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
    proxy.push_rule(
        FaultRule::new(Fault::Status {
            status: 503,
            code: "SlowDown".into(),
        })
        .times(100),
    );
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
    put(&fx, &key, data.clone()).await;
    proxy.push_rule(FaultRule::new(Fault::Reset).method(Method::GET).times(2));
    let got = client
        .get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default())
        .await
        .unwrap();
    assert_eq!(got, data);
}

#[tokio::test]
async fn cut_body_resumes_from_last_byte() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/cut.bin");
    let data = pattern_bytes(3 * MIB, 3);
    put(&fx, &key, data.clone()).await;
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

#[tokio::test]
async fn slow_server_times_out_then_succeeds() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/slow.txt");
    put(&fx, &key, Bytes::from_static(b"slow")).await;
    proxy.push_rule(
        FaultRule::new(Fault::Delay(Duration::from_secs(3)))
            .method(Method::GET)
            .times(1),
    );
    let got = client
        .get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default())
        .await
        .unwrap();
    assert_eq!(&got[..], b"slow");
}

#[tokio::test]
async fn upload_part_failures_are_retried() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-retry.bin");
    let data = pattern_bytes(11 * MIB, 4);
    proxy.push_rule(
        FaultRule::new(Fault::Status {
            status: 500,
            code: "InternalError".into(),
        })
        .method(Method::PUT)
        .query_contains("partNumber=2")
        .times(2),
    );
    write_multipart(&client, &fx, &key, &data).await.unwrap();
    fx.assert_holds(&key, &data).await;
    assert_eq!(proxy.faults_injected(), 2);
}

#[tokio::test]
async fn complete_with_error_in_200_body_is_retried() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-200-error.bin");
    let data = pattern_bytes(6 * MIB, 5);
    proxy.push_rule(
        FaultRule::new(Fault::Status {
            status: 200,
            code: "InternalError".into(),
        })
        .method(Method::POST)
        .query_contains("uploadId=")
        .times(1),
    );
    write_multipart(&client, &fx, &key, &data).await.unwrap();
    assert_eq!(proxy.faults_injected(), 1);
    fx.assert_holds(&key, &data).await;
}

#[tokio::test]
async fn complete_whose_response_is_lost_still_succeeds() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-complete-lost.bin");
    let data = pattern_bytes(11 * MIB, 9);
    // The server completes the upload, but the answer is cut short: the
    // retried Complete finds no upload any more (NoSuchUpload), although
    // the object is there, whole.
    proxy.push_rule(
        FaultRule::new(Fault::CutBody { after_bytes: 10 })
            .method(Method::POST)
            .query_contains("uploadId=")
            .times(1),
    );
    let out = write_multipart(&client, &fx, &key, &data).await.unwrap();
    assert_eq!(proxy.faults_injected(), 1);
    let meta = fx.client.head_object(fx.bucket(), &key).await.unwrap();
    assert_eq!(out.etag, meta.etag);
    fx.assert_holds(&key, &data).await;
}

#[tokio::test]
async fn failed_multipart_write_leaves_nothing_behind() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-fail.bin");
    let data = pattern_bytes(16 * MIB, 6);
    // Part 3 fails on every attempt: the writer must abort the upload.
    proxy.push_rule(
        FaultRule::new(Fault::Status {
            status: 500,
            code: "InternalError".into(),
        })
        .method(Method::PUT)
        .query_contains("partNumber=3")
        .times(100),
    );
    let result = write_multipart(&client, &fx, &key, &data).await;
    let err = result.unwrap_err();
    assert!(err.to_string().contains("UploadPart"), "{err}");
    let open = fx
        .client
        .list_multipart_uploads(fx.bucket(), &fx.key("f/"))
        .await
        .unwrap();
    assert!(open.is_empty(), "orphaned uploads: {open:?}");
    let err = fx.client.head_object(fx.bucket(), &key).await.unwrap_err();
    assert!(err.is_not_found(), "a partial object exists: {err}");
}

#[tokio::test]
async fn failed_complete_aborts_the_upload() {
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/mp-complete-fails.bin");
    let data = pattern_bytes(6 * MIB, 8);
    proxy.push_rule(
        FaultRule::new(Fault::Status {
            status: 400,
            code: "InvalidPart".into(),
        })
        .method(Method::POST)
        .query_contains("uploadId=")
        .times(1),
    );
    let err = write_multipart(&client, &fx, &key, &data)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidPart"), "{err}");
    let open = fx
        .client
        .list_multipart_uploads(fx.bucket(), &fx.key("f/"))
        .await
        .unwrap();
    assert!(open.is_empty(), "orphaned uploads: {open:?}");
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
    let (fx, proxy, client) = proxied().await;
    let key = fx.key("f/redirect.txt");
    put(&fx, &key, Bytes::from_static(b"here")).await;
    proxy.push_rule(
        FaultRule::new(Fault::Redirect {
            region: "eu-west-3".into(),
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
        scope(0).contains("/us-east-1/s3/"),
        "first attempt signs for the configured region"
    );
    assert!(
        scope(1).contains("/eu-west-3/s3/"),
        "the retry signs for the bucket's region"
    );
    // The learnt region sticks for later requests on that bucket.
    client.head_object(fx.bucket(), &key).await.unwrap();
    assert!(
        proxy.recorded()[2].headers["authorization"]
            .to_str()
            .unwrap()
            .contains("/eu-west-3/s3/")
    );
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
    let upstream = fx.target.socket_addr().expect("plain-HTTP target");
    let proxy = FaultProxy::start(upstream);
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
    let _ = client
        .create_multipart_upload(fx.bucket(), &key, &PutObjectRequest::default())
        .await;
    let _ = client.head_object(fx.bucket(), &key).await;
    let seen = proxy.recorded();
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
