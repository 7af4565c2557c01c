//! Signatures, credentials and addressing against the in-process s3s-fs
//! server, which checks SigV4 (moto does not, so these always use s3s-fs).
//! Includes the test that nothing printed by a failing request leaks a
//! secret, a session token or a signature.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use bytes::Bytes;
use s3sql_s3_client::{
    ClientConfig, Credentials, GetObjectRequest, PutObjectRequest, S3Client, StaticCredentials,
    UrlStyle,
};
use s3sql_testkit::S3Server;

fn client(server: &S3Server, key_id: &str, secret: &str, style: UrlStyle) -> S3Client {
    let config = ClientConfig::default()
        .with_endpoint(server.endpoint())
        .with_region(server.region())
        .with_url_style(style);
    S3Client::new(
        config,
        Arc::new(StaticCredentials(Credentials::new(key_id, secret))),
    )
    .unwrap()
}

async fn good_client_with_bucket(server: &S3Server, bucket: &str) -> S3Client {
    let c = client(
        server,
        server.access_key_id(),
        server.secret_access_key(),
        UrlStyle::Path,
    );
    c.create_bucket(bucket).await.unwrap();
    c
}

#[tokio::test]
async fn wrong_secret_is_signature_does_not_match() {
    let server = S3Server::start();
    good_client_with_bucket(&server, "auth-a").await;
    let bad = client(
        &server,
        server.access_key_id(),
        "not-the-secret",
        UrlStyle::Path,
    );
    let err = bad
        .put_object(
            "auth-a",
            "k",
            Bytes::from_static(b"x"),
            &PutObjectRequest::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"), "{err}");
    assert!(err.to_string().contains("check SECRET"), "{err}");
}

#[tokio::test]
async fn unknown_key_id_is_invalid_access_key_id() {
    let server = S3Server::start();
    good_client_with_bucket(&server, "auth-b").await;
    let bad = client(&server, "AKIDUNKNOWN", "whatever", UrlStyle::Path);
    let err = bad
        .get_object_bytes("auth-b", "k", &GetObjectRequest::default())
        .await
        .unwrap_err();
    // AWS says InvalidAccessKeyId; s3s says NotSignedUp. Either way the hint names KEY_ID.
    assert!(
        matches!(err.code(), Some("InvalidAccessKeyId" | "NotSignedUp")),
        "{err}"
    );
    assert!(err.to_string().contains("KEY_ID"), "{err}");
}

#[tokio::test]
async fn anonymous_requests_are_unsigned() {
    let server = S3Server::start();
    good_client_with_bucket(&server, "auth-c").await;
    let config = ClientConfig::default()
        .with_endpoint(server.endpoint())
        .with_url_style(UrlStyle::Path);
    let anon = S3Client::anonymous(config).unwrap();
    let err = anon.head_object("auth-c", "k").await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
}

#[tokio::test]
async fn virtual_hosted_style_reaches_the_bucket_host() {
    let server = S3Server::start();
    good_client_with_bucket(&server, "vhost-bucket").await;
    let port = server.addr().port();
    let mut config = ClientConfig::default()
        .with_endpoint(format!("http://{}:{port}", server.vhost_domain()))
        .with_region(server.region())
        .with_url_style(UrlStyle::VirtualHosted);
    // bucket.localhost does not resolve everywhere: connect to the server
    // directly while the Host header and signature carry the bucket.
    config.resolve_to = Some(server.addr());
    let creds = Credentials::new(server.access_key_id(), server.secret_access_key());
    let vhost = S3Client::new(config, Arc::new(StaticCredentials(creds))).unwrap();
    vhost
        .put_object(
            "vhost-bucket",
            "dir/a b.txt",
            Bytes::from_static(b"vhost"),
            &PutObjectRequest::default(),
        )
        .await
        .unwrap();
    let got = vhost
        .get_object_bytes("vhost-bucket", "dir/a b.txt", &GetObjectRequest::default())
        .await
        .unwrap();
    assert_eq!(&got[..], b"vhost");
}

#[tokio::test]
async fn resolve_to_keeps_its_port() {
    let server = S3Server::start();
    good_client_with_bucket(&server, "port-bucket").await;
    // The URL names port 1, where nothing listens; resolve_to names the
    // server's port, which is the one to connect to.
    let mut config = ClientConfig::default()
        .with_endpoint(format!("http://{}:1", server.vhost_domain()))
        .with_region(server.region())
        .with_url_style(UrlStyle::Path);
    config.resolve_to = Some(server.addr());
    config.retry.max_retries = 0;
    let creds = Credentials::new(server.access_key_id(), server.secret_access_key());
    let client = S3Client::new(config, Arc::new(StaticCredentials(creds))).unwrap();
    client.head_bucket("port-bucket").await.unwrap();
}

#[tokio::test]
async fn failing_requests_never_print_secrets() {
    const SECRET: &str = "SuperSecretKeyValue1234567890abcdefXYZ";
    const TOKEN: &str = "SessionTokenValue0987654321TOKENxyz";
    let server = S3Server::start();
    good_client_with_bucket(&server, "leak").await;

    let (logs, _guard) = s3sql_testkit::capture_logs();

    let config = ClientConfig::default()
        .with_endpoint(server.endpoint())
        .with_url_style(UrlStyle::Path);
    let creds = Credentials::new(server.access_key_id(), SECRET).with_session_token(TOKEN);
    let client = S3Client::new(config, Arc::new(StaticCredentials(creds.clone()))).unwrap();
    let mut printed = String::new();
    let err = client
        .put_object(
            "leak",
            "k",
            Bytes::from_static(b"x"),
            &PutObjectRequest::default(),
        )
        .await
        .unwrap_err();
    printed.push_str(&format!("{err}\n{err:?}\n"));
    let err = client
        .get_object_bytes("leak", "missing", &GetObjectRequest::default())
        .await
        .unwrap_err();
    printed.push_str(&format!("{err}\n{err:?}\n"));
    printed.push_str(&format!("{client:?}\n{creds:?}\n"));
    let presigned = client
        .presign_get("leak", "k", std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let signature = presigned
        .split("X-Amz-Signature=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    printed.push_str(&logs.text());

    assert!(
        printed.contains("SignatureDoesNotMatch")
            || printed.contains("InvalidToken")
            || printed.contains("403"),
        "the failure itself is reported: {printed}"
    );
    for needle in [SECRET, TOKEN, signature.as_str(), "Signature="] {
        assert!(
            !printed.contains(needle),
            "leaked {needle:?} in:\n{printed}"
        );
    }
}

/// A line break or control character in the key id, the session token or
/// the region (pasted with its line end, a JSON `\u0000`) is refused with
/// an error naming the field; aws-sigv4 panicked on it, killing the REPL.
#[tokio::test]
async fn a_control_character_in_what_is_signed_is_an_error_not_a_panic() {
    let server = S3Server::start();
    let secret = server.secret_access_key().to_owned();
    let cases = [
        ("access key id", "AKID\n", None, server.region().to_owned()),
        (
            "access key id",
            "AK\u{1}ID",
            None,
            server.region().to_owned(),
        ),
        (
            "session token",
            "AKID",
            Some("s3cr3t\nvalue"),
            server.region().to_owned(),
        ),
        ("region", "AKID", None, format!("{}\u{0}", server.region())),
    ];
    for (field, key_id, token, region) in cases {
        let config = ClientConfig::default()
            .with_endpoint(server.endpoint())
            .with_region(region)
            .with_url_style(UrlStyle::Path);
        let mut creds = Credentials::new(key_id, secret.as_str());
        creds.session_token = token.map(Into::into);
        let client = S3Client::new(config, Arc::new(StaticCredentials(creds))).unwrap();
        let c = client.clone();
        let err = tokio::spawn(async move { c.head_object("bucket", "k").await })
            .await
            .unwrap_or_else(|_| panic!("signing panicked on a bad {field}"))
            .unwrap_err();
        assert!(err.to_string().contains(field), "{field}: {err}");
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        let url = client
            .presign_get("bucket", "k", std::time::Duration::from_secs(60))
            .await;
        assert!(url.is_err(), "{field}: presigned anyway");
    }
}

/// A REGION with `@` and `/` (`x@127.0.0.1:PORT/r`) once made the AWS host
/// `s3.x@127.0.0.1:PORT/r.amazonaws.com`: the signed request, session token
/// included, went to that port. The client now refuses the region, and no
/// request reaches the listener.
#[tokio::test]
async fn a_configured_region_cannot_steer_the_request_to_another_host() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let region = format!("x@127.0.0.1:{port}/r");
    let mut config = ClientConfig::default().with_region(region.clone());
    config.use_ssl = false;
    config.request_timeout = std::time::Duration::from_secs(1);
    config.retry.max_retries = 0;
    let creds = Credentials::new("AKIDEXAMPLE", "secret").with_session_token("SESSIONTOKEN123");
    if let Ok(client) = S3Client::new(config, Arc::new(StaticCredentials(creds))) {
        let _ = client.head_object("bkt", "k").await;
    }
    let accepted =
        tokio::time::timeout(std::time::Duration::from_millis(300), listener.accept()).await;
    assert!(
        accepted.is_err(),
        "REGION {region:?} sent a request to 127.0.0.1:{port}"
    );
}
