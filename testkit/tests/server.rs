//! The in-process server: SigV4 is checked, path and virtual-hosted style
//! both work, ListMultipartUploads tracks uploads, and Drop cleans up.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Conn, Signer, md5_hex};
use http::{Method, StatusCode};
use s3sql_testkit::{S3Server, S3Target};

#[tokio::test]
async fn unsigned_requests_are_denied() {
    let server = S3Server::start();
    let mut conn = Conn::open(server.addr()).await;
    let reply = conn
        .send(conn.request(Method::PUT, "/some-bucket", b""))
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    assert_eq!(reply.xml("Code").as_deref(), Some("AccessDenied"));
    assert!(!server.root().join("some-bucket").exists());
}

#[tokio::test]
async fn a_wrong_secret_is_rejected() {
    let server = S3Server::start();
    let mut conn = Conn::open(server.addr()).await;
    let wrong = Signer {
        secret_access_key: format!("{}x", server.secret_access_key()),
        ..Signer::for_server(&server)
    };
    let reply = conn.call(&wrong, Method::PUT, "/some-bucket", b"").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    assert_eq!(reply.xml("Code").as_deref(), Some("SignatureDoesNotMatch"));
}

#[tokio::test]
async fn path_style_bucket_and_object_round_trip() {
    let server = S3Server::start();
    assert_eq!(server.endpoint(), format!("http://{}", server.addr()));
    assert!(server.addr().ip().is_loopback());
    assert_eq!(server.region(), "us-east-1");
    assert_ne!(server.access_key_id(), S3Server::start().access_key_id());
    let signer = Signer::for_server(&server);
    let mut conn = Conn::open(server.addr()).await;

    let reply = conn.call(&signer, Method::PUT, "/bucket-one", b"").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(server.root().join("bucket-one").is_dir());

    // Several requests on one keep-alive connection, an escaped key included.
    let data = b"hello, s3s-fs";
    let reply = conn
        .call(&signer, Method::PUT, "/bucket-one/dir/a%20b.txt", data)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let etag = format!("\"{}\"", md5_hex(data));
    assert_eq!(reply.header("etag"), Some(etag.as_str()));

    let reply = conn
        .call(&signer, Method::GET, "/bucket-one/dir/a%20b.txt", b"")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.body, data);

    let reply = conn
        .call(
            &signer,
            Method::GET,
            "/bucket-one?list-type=2&prefix=dir%2F",
            b"",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.xml("Key").as_deref(), Some("dir/a b.txt"));
    assert_eq!(reply.xml("ETag").as_deref(), Some(etag.as_str()));
}

#[tokio::test]
async fn virtual_hosted_style_on_localhost() {
    let server = S3Server::start();
    assert_eq!(server.vhost_domain(), "localhost");
    let signer = Signer::for_server(&server);
    let port = server.addr().port();

    // `localhost:PORT` is path style, `<bucket>.localhost:PORT` virtual-hosted.
    let mut path_style = Conn::open_as(server.addr(), &format!("localhost:{port}")).await;
    let reply = path_style
        .call(&signer, Method::PUT, "/vhost-bucket", b"")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

    let mut vhost = Conn::open_as(server.addr(), &format!("vhost-bucket.localhost:{port}")).await;
    let reply = vhost.call(&signer, Method::PUT, "/k/v.txt", b"vhost").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(server.root().join("vhost-bucket/k/v.txt").is_file());
    let reply = vhost.call(&signer, Method::GET, "/k/v.txt", b"").await;
    assert_eq!(reply.body, b"vhost");
    let reply = vhost.call(&signer, Method::GET, "/?list-type=2", b"").await;
    assert_eq!(
        reply.xml("Key").as_deref(),
        Some("k/v.txt"),
        "{}",
        reply.text()
    );
}

/// A request signed for `wrong` at a server in `own` is refused as AWS
/// refuses it; one signed for `own` goes through and learns the region
/// from GetBucketLocation and HeadBucket.
async fn keeps_to_its_region(server: &S3Server, own: &str, wrong: &str, location: &str) {
    assert_eq!(server.region(), own);
    let right = Signer::for_server(server);
    let wrong = Signer {
        region: wrong.to_owned(),
        ..right.clone()
    };
    let mut conn = Conn::open(server.addr()).await;
    let refused = conn.call(&wrong, Method::PUT, "/regional", b"").await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{}",
        refused.text()
    );
    assert_eq!(
        refused.xml("Code").as_deref(),
        Some("AuthorizationHeaderMalformed")
    );
    assert_eq!(refused.xml("Region").as_deref(), Some(own));
    let expected = format!("the region '{}' is wrong; expecting '{own}'", wrong.region);
    assert!(refused.text().contains(&expected), "{}", refused.text());
    assert_eq!(refused.header("x-amz-bucket-region"), Some(own));
    assert!(
        !server.root().join("regional").exists(),
        "refused, not done"
    );

    // CreateBucket's LocationConstraint names the server's region (none
    // for us-east-1); any other is refused, as S3 refuses it.
    let constraint = |region: &str| {
        format!(
            "<CreateBucketConfiguration><LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
        )
    };
    let (body, refused_body) = match own {
        "us-east-1" => (String::new(), constraint(wrong.region.as_str())),
        _ => (constraint(own), String::new()),
    };
    for bad in [refused_body, constraint("ap-south-1")] {
        let refused = conn
            .call(&right, Method::PUT, "/regional", bad.as_bytes())
            .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            refused.text()
        );
        assert_eq!(
            refused.xml("Code").as_deref(),
            Some("IllegalLocationConstraintException")
        );
    }
    let made = conn
        .call(&right, Method::PUT, "/regional", body.as_bytes())
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text());
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let reply = conn
            .call(&wrong, method.clone(), "/regional/k.txt", b"")
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{method}");
        assert_eq!(reply.header("x-amz-bucket-region"), Some(own), "{method}");
    }
    let head = conn.call(&wrong, Method::HEAD, "/regional", b"").await;
    assert_eq!(head.status, StatusCode::BAD_REQUEST);
    assert_eq!(head.header("x-amz-bucket-region"), Some(own));
    assert!(head.body.is_empty(), "a HEAD has no body");
    let head = conn.call(&right, Method::HEAD, "/regional", b"").await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("x-amz-bucket-region"), Some(own));

    // A regional endpoint refuses GetBucketLocation signed elsewhere too.
    let refused = conn
        .call(&wrong, Method::GET, "/regional?location", b"")
        .await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{}",
        refused.text()
    );
    let answer = conn
        .call(&right, Method::GET, "/regional?location", b"")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert!(
        answer.text().contains(location),
        "LocationConstraint {location}: {}",
        answer.text()
    );
}

#[tokio::test]
async fn a_server_in_another_region_refuses_requests_signed_for_us_east_1() {
    let server = S3Server::start_in_region("eu-west-1");
    let location = "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">eu-west-1</LocationConstraint>";
    keeps_to_its_region(&server, "eu-west-1", "us-east-1", location).await;
    let target = S3Target::in_region("ap-south-1");
    assert_eq!(target.region, "ap-south-1");
    assert_eq!(target.server().unwrap().region(), "ap-south-1");
}

#[tokio::test]
async fn the_default_server_refuses_requests_signed_for_another_region() {
    let server = S3Server::start();
    // us-east-1 has no LocationConstraint: the element is empty.
    let location = "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></LocationConstraint>";
    keeps_to_its_region(&server, "us-east-1", "eu-west-1", location).await;
}

#[tokio::test]
async fn multipart_uploads_are_listed_until_completed_or_aborted() {
    let server = S3Server::start();
    let signer = Signer::for_server(&server);
    let mut conn = Conn::open(server.addr()).await;
    conn.call(&signer, Method::PUT, "/mp-bucket", b"").await;

    let create = |key: &'static str| {
        let path = format!("/mp-bucket/{key}?uploads");
        (path, key)
    };
    let mut ids = Vec::new();
    for (path, _) in [create("w/a.bin"), create("w/b.bin"), create("other.bin")] {
        let reply = conn.call(&signer, Method::POST, &path, b"").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        ids.push(reply.xml("UploadId").unwrap());
    }

    let list = conn
        .call(&signer, Method::GET, "/mp-bucket?uploads&prefix=w%2F", b"")
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    let text = list.text();
    assert!(text.contains(&ids[0]) && text.contains(&ids[1]), "{text}");
    assert!(!text.contains(&ids[2]), "prefix ignored: {text}");

    // Abort the first; complete the second.
    let reply = conn
        .call(
            &signer,
            Method::DELETE,
            &format!("/mp-bucket/w/a.bin?uploadId={}", ids[0]),
            b"",
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    let part = conn
        .call(
            &signer,
            Method::PUT,
            &format!("/mp-bucket/w/b.bin?partNumber=1&uploadId={}", ids[1]),
            b"part one",
        )
        .await;
    assert_eq!(part.status, StatusCode::OK, "{}", part.text());
    let etag = part.header("etag").unwrap().to_owned();
    let done = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
    );
    let reply = conn
        .call(
            &signer,
            Method::POST,
            &format!("/mp-bucket/w/b.bin?uploadId={}", ids[1]),
            done.as_bytes(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(
        reply.xml("ETag").unwrap().ends_with("-1\""),
        "{}",
        reply.text()
    );

    let list = conn
        .call(&signer, Method::GET, "/mp-bucket?uploads", b"")
        .await;
    let text = list.text();
    assert!(!text.contains(&ids[0]) && !text.contains(&ids[1]), "{text}");
    assert!(text.contains(&ids[2]), "{text}");

    // Unknown, finished or misaddressed uploads are NoSuchUpload, as on S3.
    for path in [
        format!("/mp-bucket/w/a.bin?partNumber=1&uploadId={}", ids[0]),
        format!("/mp-bucket/w/b.bin?partNumber=1&uploadId={}", ids[1]),
        format!("/mp-bucket/w/a.bin?partNumber=1&uploadId={}", ids[2]),
        "/mp-bucket/w/a.bin?partNumber=1&uploadId=not-an-upload".to_owned(),
    ] {
        let reply = conn.call(&signer, Method::PUT, &path, b"x").await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.text()
        );
        assert_eq!(reply.xml("Code").as_deref(), Some("NoSuchUpload"), "{path}");
    }
    let reply = conn
        .call(
            &signer,
            Method::DELETE,
            &format!("/mp-bucket/w/a.bin?uploadId={}", ids[0]),
            b"",
        )
        .await;
    assert_eq!(reply.xml("Code").as_deref(), Some("NoSuchUpload"));
}

#[tokio::test]
async fn a_failed_complete_leaves_the_upload_open_until_aborted() {
    let server = S3Server::start();
    let signer = Signer::for_server(&server);
    let mut conn = Conn::open(server.addr()).await;
    conn.call(&signer, Method::PUT, "/mp-bucket", b"").await;
    let id = conn
        .call(&signer, Method::POST, "/mp-bucket/k?uploads", b"")
        .await
        .xml("UploadId")
        .unwrap();
    // Part 1 was never uploaded.
    let done = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag></Part></CompleteMultipartUpload>";
    let reply = conn
        .call(
            &signer,
            Method::POST,
            &format!("/mp-bucket/k?uploadId={id}"),
            done.as_bytes(),
        )
        .await;
    assert!(!reply.status.is_success(), "{}", reply.text());
    let list = conn
        .call(&signer, Method::GET, "/mp-bucket?uploads", b"")
        .await;
    assert!(list.text().contains(&id), "{}", list.text());
    let reply = conn
        .call(
            &signer,
            Method::DELETE,
            &format!("/mp-bucket/k?uploadId={id}"),
            b"",
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    let list = conn
        .call(&signer, Method::GET, "/mp-bucket?uploads", b"")
        .await;
    assert!(!list.text().contains(&id), "{}", list.text());
}

#[test]
fn drop_stops_the_server_and_removes_its_data() {
    // Started and dropped from sync code, no runtime around.
    let server = S3Server::start();
    let (addr, root) = (server.addr(), server.root().to_path_buf());
    assert!(root.is_dir());
    std::net::TcpStream::connect(addr).expect("server listening");
    drop(server);
    assert!(!root.exists(), "{} left behind", root.display());
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still listening"
    );
}

#[test]
fn target_defaults_to_an_in_process_server() {
    let a = S3Target::in_process();
    let b = S3Target::in_process();
    assert_eq!(a.backend, "s3s-fs");
    let server = a.server().expect("in-process server");
    assert_eq!(a.endpoint, server.endpoint());
    assert_eq!(a.socket_addr(), Some(server.addr()));
    assert_eq!(a.access_key_id, server.access_key_id());
    assert_eq!(a.secret_access_key, server.secret_access_key());
    assert_eq!(a.region, "us-east-1");
    assert!(a.bucket_is_new && a.prefix.is_empty());
    assert_eq!(a.key("x/y.csv"), "x/y.csv");
    assert_ne!(a.bucket, b.bucket);
    assert_ne!(a.endpoint, b.endpoint);
    assert!(a.bucket.starts_with("s3sql-"), "{}", a.bucket);
}

#[test]
fn target_from_env_follows_the_endpoint_variable() {
    let target = S3Target::from_env();
    match std::env::var("S3SQL_TEST_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(endpoint) => {
            assert_eq!(target.backend, "external");
            assert_eq!(target.endpoint, endpoint);
            assert!(target.server().is_none());
        }
        None => {
            assert_eq!(target.backend, "s3s-fs");
            assert_eq!(target.endpoint, target.server().unwrap().endpoint());
        }
    }
}

/// A GET answers one version of an object: its bytes and its ETag belong
/// together even while writers replace it. s3s-fs opens the file and reads
/// the ETag apart, so a PUT landing between the two paired the old bytes
/// with the new ETag, and an `If-Match` update built on that GET won with
/// stale bytes (object_store's `put_opts` race lost an increment).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_get_pairs_bytes_and_etag_of_one_version_while_writers_replace_it() {
    let server = S3Server::start();
    let signer = Signer::for_server(&server);
    let mut conn = Conn::open(server.addr()).await;
    let reply = conn.call(&signer, Method::PUT, "/race", b"").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let reply = conn.call(&signer, Method::PUT, "/race/counter", b"0").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

    const WRITES: usize = 200;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (signer, addr, done) = (signer.clone(), server.addr(), done.clone());
            tokio::spawn(async move {
                let mut conn = Conn::open(addr).await;
                for i in 0..WRITES {
                    let body = format!("{w}-{i}");
                    let reply = conn
                        .call(&signer, Method::PUT, "/race/counter", body.as_bytes())
                        .await;
                    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
                }
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            })
        })
        .collect();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (signer, addr, done) = (signer.clone(), server.addr(), done.clone());
            tokio::spawn(async move {
                let mut conn = Conn::open(addr).await;
                let (mut reads, mut torn) = (0, Vec::new());
                while !done.load(std::sync::atomic::Ordering::SeqCst) {
                    let reply = conn.call(&signer, Method::GET, "/race/counter", b"").await;
                    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
                    let etag = format!("\"{}\"", md5_hex(&reply.body));
                    if reply.header("etag") != Some(etag.as_str()) {
                        torn.push(format!("{} with {:?}", reply.text(), reply.header("etag")));
                    }
                    reads += 1;
                }
                (reads, torn)
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let mut reads = 0;
    for r in readers {
        let (n, torn) = r.await.unwrap();
        reads += n;
        assert!(
            torn.is_empty(),
            "GETs paired bytes with another version's ETag: {torn:?}"
        );
    }
    assert!(reads > 100, "only {reads} GETs overlapped the writes");
}
