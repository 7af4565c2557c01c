//! End to end: a secret resolved here signs requests that the in-process
//! s3s-fs server (which verifies SigV4) accepts, and a wrong secret gets the
//! client's clear InvalidAccessKeyId / SignatureDoesNotMatch error — with no
//! secret in anything printed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use s3sql_s3_client::{GetObjectRequest, PutObjectRequest, S3Client};
use s3sql_secrets::*;
use s3sql_testkit::S3Server;

fn host_port(server: &S3Server) -> String {
    server.addr().to_string()
}

async fn manager_for(server: &S3Server, key_id: &str, secret: &str, scope: &str) -> SecretManager {
    let m = SecretManager::new(None);
    let p = Parameters::new()
        .with("TYPE", "s3")
        .unwrap()
        .with("KEY_ID", key_id)
        .unwrap()
        .with("SECRET", secret)
        .unwrap()
        .with("ENDPOINT", host_port(server))
        .unwrap()
        .with("URL_STYLE", "path")
        .unwrap()
        .with("USE_SSL", false)
        .unwrap()
        .with("REGION", server.region())
        .unwrap()
        .with("SCOPE", scope)
        .unwrap();
    m.create("local", p, Persistence::Temporary, OnConflict::Error)
        .await
        .unwrap();
    m
}

async fn client_for(m: &SecretManager, url: &str) -> S3Client {
    let resolved = m.resolve(url).await.unwrap();
    assert_eq!(resolved.secret.as_ref().unwrap().name, "local");
    S3Client::new(resolved.access.config, resolved.access.credentials).unwrap()
}

#[tokio::test]
async fn resolved_secret_signs_requests_the_server_accepts() {
    let server = S3Server::start();
    let m = manager_for(
        &server,
        server.access_key_id(),
        server.secret_access_key(),
        "s3://signed",
    )
    .await;
    let client = client_for(&m, "s3://signed/dir/file.csv").await;
    client.create_bucket("signed").await.unwrap();
    client
        .put_object(
            "signed",
            "dir/file.csv",
            Bytes::from_static(b"a,b\n1,2\n"),
            &PutObjectRequest::default(),
        )
        .await
        .unwrap();
    let got = client
        .get_object_bytes("signed", "dir/file.csv", &GetObjectRequest::default())
        .await
        .unwrap();
    assert_eq!(&got[..], b"a,b\n1,2\n");
    // Outside the scope there is no secret: the request goes unsigned and is refused.
    let outside = m.resolve("s3://other/file.csv").await.unwrap();
    assert!(outside.secret.is_none());
}

#[tokio::test]
async fn wrong_secret_and_unknown_key_get_clear_errors_without_leaking() {
    let server = S3Server::start();
    let good = manager_for(
        &server,
        server.access_key_id(),
        server.secret_access_key(),
        "s3://auth",
    )
    .await;
    client_for(&good, "s3://auth/k")
        .await
        .create_bucket("auth")
        .await
        .unwrap();

    let wrong_secret = "wrong-secret-value-0123456789";
    let m = manager_for(&server, server.access_key_id(), wrong_secret, "s3://auth").await;
    let err = client_for(&m, "s3://auth/k")
        .await
        .get_object("auth", "k", &GetObjectRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"), "{err}");
    let printed = format!("{err} {err:?} {m:?} {:?}", m.list().unwrap());
    assert!(
        printed.contains("SECRET"),
        "the hint should name the parameter to fix: {printed}"
    );
    assert!(!printed.contains(wrong_secret), "{printed}");
    assert!(!printed.contains(server.secret_access_key()), "{printed}");

    let m = manager_for(
        &server,
        "AKIANOSUCHKEY",
        server.secret_access_key(),
        "s3://auth",
    )
    .await;
    let err = client_for(&m, "s3://auth/k")
        .await
        .get_object("auth", "k", &GetObjectRequest::default())
        .await
        .unwrap_err();
    // s3s answers NotSignedUp where AWS says InvalidAccessKeyId; the hint covers both.
    assert!(
        matches!(err.code(), Some("InvalidAccessKeyId" | "NotSignedUp")),
        "{err}"
    );
    assert!(err.to_string().contains("KEY_ID"), "{err}");
    assert!(!format!("{err} {err:?}").contains(server.secret_access_key()));
}
