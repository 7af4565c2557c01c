//! DuckDB's connection settings reaching the requests: `SET
//! http_keep_alive = false` (as MinIO's guides write it) gives every
//! request a connection of its own, counted at a TCP relay in front of
//! the in-process server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use s3sql_planner::Session;
use s3sql_secrets::SecretManager;
use s3sql_testkit::FaultProxy;

use crate::support::{Bucket, query};

/// A TCP relay to `upstream` that counts the connections it accepts.
async fn counting_relay(upstream: SocketAddr) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (addr, accepted)
}

/// Review-8d #9: `http_keep_alive` was an unknown setting. By default a
/// session's requests share connections; with keep-alive off each
/// request (counted by the fault proxy behind the relay) opens its own.
#[tokio::test(flavor = "multi_thread")]
async fn keep_alive_off_opens_a_connection_per_request() {
    let bucket = Bucket::in_process().await;
    for name in ["a", "b", "c"] {
        bucket.put(&format!("ka/{name}.csv"), "x\n1\n").await;
    }
    let proxy = FaultProxy::in_front_of(&bucket.endpoint);
    let (relay, connections) = counting_relay(proxy.addr()).await;
    let session = Session::with_secrets(SecretManager::new(None));
    let secret = bucket
        .create_secret("t", &bucket.secret_access_key, None)
        .replace(
            bucket
                .endpoint
                .trim_start_matches("http://")
                .trim_end_matches('/'),
            &relay.to_string(),
        );
    session.sql(&secret).await.unwrap();
    let sum = format!(
        "SELECT sum(x) AS s FROM read_csv('{}')",
        bucket.url("ka/*.csv")
    );
    // Run twice: the second run's requests find the first's connections
    // idle. Within one run the files are read at once (16 small files at
    // a time), each GET on a connection of its own.
    let rows = query(&session, &sum).await;
    assert_eq!(rows, ["+---+", "| s |", "+---+", "| 3 |", "+---+"]);
    assert_eq!(query(&session, &sum).await, rows);
    let kept_requests = proxy.requests_seen();
    let kept_connections = connections.swap(0, Ordering::SeqCst);
    assert!(
        kept_connections < kept_requests,
        "keep-alive on: {kept_connections} connections for {kept_requests} requests"
    );
    session.sql("SET http_keep_alive = false").await.unwrap();
    assert_eq!(query(&session, &sum).await, rows);
    let requests = proxy.requests_seen() - kept_requests;
    assert_eq!(
        connections.load(Ordering::SeqCst),
        requests,
        "keep-alive off: one connection per request"
    );
}
