//! The fault proxy: faithful forwarding (signatures stay valid, keep-alive
//! works) and each fault kind, with rule matching and skip/times counting.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Conn, Signer};
use http::{Method, StatusCode};
use s3sql_testkit::{Fault, FaultProxy, FaultRule, S3Server};

/// A server with bucket `bucket-one` holding `obj` (10 000 bytes), and a
/// proxy in front of it.
async fn setup() -> (S3Server, FaultProxy, Signer, Vec<u8>) {
    let server = S3Server::start();
    let signer = Signer::for_server(&server);
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let mut conn = Conn::open(server.addr()).await;
    let reply = conn.call(&signer, Method::PUT, "/bucket-one", b"").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let reply = conn
        .call(&signer, Method::PUT, "/bucket-one/obj", &data)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let proxy = FaultProxy::start(server.addr());
    (server, proxy, signer, data)
}

#[tokio::test]
async fn forwards_signed_requests_unchanged_over_keep_alive() {
    let (server, proxy, signer, data) = setup().await;
    assert_eq!(proxy.endpoint(), format!("http://{}", proxy.addr()));
    assert_ne!(proxy.addr(), server.addr());

    // The client signs the proxy's Host; the server must see it unchanged,
    // and the escaped path (`%20`, `%2B`, `%25`) byte for byte.
    let mut conn = Conn::open(proxy.addr()).await;
    let key = "/bucket-one/dir/a%20b%2Bc%25d.txt";
    let reply = conn
        .call(&signer, Method::PUT, key, b"through the proxy")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(server.root().join("bucket-one/dir/a b+c%d.txt").is_file());
    let reply = conn.call(&signer, Method::GET, key, b"").await;
    assert_eq!(reply.body, b"through the proxy");
    let reply = conn
        .call(&signer, Method::GET, "/bucket-one/obj", b"")
        .await;
    assert_eq!(reply.body, data);
    let reply = conn
        .call(
            &signer,
            Method::GET,
            "/bucket-one?list-type=2&prefix=dir%2F&max-keys=5",
            b"",
        )
        .await;
    assert_eq!(
        reply.xml("Key").as_deref(),
        Some("dir/a b+c%d.txt"),
        "{}",
        reply.text()
    );
    assert_eq!(proxy.requests_seen(), 4);
    assert_eq!(proxy.faults_injected(), 0);

    // Virtual-hosted style through the proxy: Host carries the proxy's port.
    let host = format!("bucket-one.localhost:{}", proxy.addr().port());
    let mut vhost = Conn::open_as(proxy.addr(), &host).await;
    let reply = vhost.call(&signer, Method::GET, "/obj", b"").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.body, data);

    let recorded = proxy.recorded();
    assert_eq!(recorded.len(), 5);
    assert_eq!(recorded[0].method, Method::PUT);
    assert_eq!(recorded[0].path, "/bucket-one/dir/a%20b%2Bc%25d.txt");
    assert_eq!(recorded[3].query, "list-type=2&prefix=dir%2F&max-keys=5");
    assert_eq!(recorded[4].headers["host"], host.as_str());
}

#[tokio::test]
async fn status_fault_answers_with_an_s3_error_without_reaching_the_server() {
    let (server, proxy, signer, _) = setup().await;
    proxy.push_rule(
        FaultRule::new(Fault::Status {
            status: 503,
            code: "SlowDown".into(),
        })
        .method(Method::PUT),
    );
    let mut conn = Conn::open(proxy.addr()).await;
    let reply = conn
        .call(&signer, Method::PUT, "/bucket-one/new", b"data")
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.xml("Code").as_deref(), Some("SlowDown"));
    assert_eq!(
        reply.xml("Message").as_deref(),
        Some("injected by FaultProxy")
    );
    assert!(reply.xml("RequestId").is_some(), "{}", reply.text());
    assert!(
        !server.root().join("bucket-one/new").exists(),
        "reached upstream"
    );
    assert_eq!(proxy.faults_injected(), 1);

    // The connection stays usable and the rule is spent.
    let reply = conn
        .call(&signer, Method::PUT, "/bucket-one/new", b"data")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(proxy.requests_seen(), 2);
}

#[tokio::test]
async fn reset_fault_closes_the_connection_without_a_response() {
    let (_server, proxy, signer, data) = setup().await;
    proxy.push_rule(FaultRule::new(Fault::Reset));
    let mut conn = Conn::open(proxy.addr()).await;
    let req = conn.signed(&signer, Method::GET, "/bucket-one/obj", b"");
    assert!(conn.send(req).await.is_err(), "expected no response");
    assert_eq!(proxy.faults_injected(), 1);

    let mut conn = Conn::open(proxy.addr()).await;
    let reply = conn
        .call(&signer, Method::GET, "/bucket-one/obj", b"")
        .await;
    assert_eq!(reply.body, data);
}

#[tokio::test]
async fn cut_body_sends_headers_then_fewer_bytes_than_content_length() {
    let (_server, proxy, signer, data) = setup().await;
    proxy.push_rule(FaultRule::new(Fault::CutBody { after_bytes: 1000 }));
    let mut conn = Conn::open(proxy.addr()).await;
    let reply = conn
        .call(&signer, Method::GET, "/bucket-one/obj", b"")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-length"), Some("10000"));
    assert!(reply.header("etag").is_some());
    assert_eq!(reply.body, data[..1000]);
    assert!(reply.body_error.is_some(), "body should end in an error");

    // A ranged read is cut the same way.
    proxy.push_rule(FaultRule::new(Fault::CutBody { after_bytes: 10 }));
    let mut conn = Conn::open(proxy.addr()).await;
    let mut req = conn.signed(&signer, Method::GET, "/bucket-one/obj", b"");
    req.headers_mut()
        .insert("range", http::HeaderValue::from_static("bytes=100-199"));
    // Range is not signed here; s3s checks only the signed headers.
    let reply = conn.send(req).await.unwrap();
    assert_eq!(reply.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(reply.header("content-length"), Some("100"));
    assert_eq!(reply.body, data[100..110]);
    assert!(reply.body_error.is_some());

    // A cut past the end changes nothing.
    proxy.push_rule(FaultRule::new(Fault::CutBody {
        after_bytes: 20_000,
    }));
    let mut conn = Conn::open(proxy.addr()).await;
    let reply = conn
        .call(&signer, Method::GET, "/bucket-one/obj", b"")
        .await;
    assert_eq!(reply.body, data);
    assert!(reply.body_error.is_none());
    assert_eq!(proxy.faults_injected(), 3);
}

#[tokio::test]
async fn delay_fault_waits_then_forwards() {
    let (_server, proxy, signer, data) = setup().await;
    proxy.push_rule(FaultRule::new(Fault::Delay(Duration::from_millis(300))));
    let mut conn = Conn::open(proxy.addr()).await;
    let started = Instant::now();
    let reply = conn
        .call(&signer, Method::GET, "/bucket-one/obj", b"")
        .await;
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(reply.body, data);
    let started = Instant::now();
    conn.call(&signer, Method::GET, "/bucket-one/obj", b"")
        .await;
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "delayed twice"
    );
}

#[tokio::test]
async fn rules_match_by_method_path_and_query_and_count_skip_then_times() {
    let (_server, proxy, signer, _) = setup().await;
    let fault = || Fault::Status {
        status: 500,
        code: "InternalError".into(),
    };
    proxy.push_rule(
        FaultRule::new(fault())
            .method(Method::GET)
            .path_contains("/obj")
            .skip(1)
            .times(2),
    );
    proxy.push_rule(FaultRule::new(fault()).query_contains("list-type=2"));
    let mut conn = Conn::open(proxy.addr()).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        // HEAD never matches the GET rule.
        let head = conn
            .call(&signer, Method::HEAD, "/bucket-one/obj", b"")
            .await;
        assert_eq!(head.status, StatusCode::OK);
        statuses.push(
            conn.call(&signer, Method::GET, "/bucket-one/obj", b"")
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(statuses, [200, 500, 500, 200]);
    let other = conn
        .call(&signer, Method::GET, "/bucket-one/new", b"")
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "path filter ignored");

    let list = conn
        .call(&signer, Method::GET, "/bucket-one?list-type=2", b"")
        .await;
    assert_eq!(list.status, StatusCode::INTERNAL_SERVER_ERROR);
    let list = conn
        .call(&signer, Method::GET, "/bucket-one?list-type=2", b"")
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(proxy.faults_injected(), 3);
    assert_eq!(proxy.requests_seen(), 11);

    // Cleared rules fault nothing.
    proxy.push_rule(FaultRule::new(fault()).times(100));
    proxy.clear_rules();
    let reply = conn
        .call(&signer, Method::GET, "/bucket-one/obj", b"")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(proxy.faults_injected(), 3);
}

#[test]
fn works_from_sync_code_and_stops_on_drop() {
    let server = S3Server::start();
    let proxy = FaultProxy::start(server.addr());
    let addr = proxy.addr();
    std::net::TcpStream::connect(addr).expect("proxy listening");
    drop(proxy);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still listening"
    );
}
