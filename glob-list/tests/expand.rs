//! Expansion against a real server (s3s-fs by default, moto in CI): exact
//! results in key order, request counts, pruning, and errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use s3sql_glob_list::{
    CmpOp, ExpandOptions, GlobExpander, KeyPattern, ListObjects, ListPage, ListRequest,
    PartitionFilter, PartitionValue, StoreError,
};
use s3sql_s3_client::{
    ClientConfig, Credentials, ListObjectsV2Request, ObjectMeta, PutObjectRequest, S3Client,
    StaticCredentials, UrlStyle,
};
use s3sql_testkit::S3Target;

struct Fixture {
    target: S3Target,
    client: S3Client,
}

impl Fixture {
    async fn with_keys(keys: &[String]) -> Fixture {
        let target = S3Target::from_env();
        let config = ClientConfig::default()
            .with_endpoint(target.endpoint.clone())
            .with_region(target.region.clone())
            .with_url_style(UrlStyle::Path);
        let creds = Credentials::new(
            target.access_key_id.clone(),
            target.secret_access_key.clone(),
        );
        let client = S3Client::new(config, Arc::new(StaticCredentials(creds))).unwrap();
        if target.bucket_is_new {
            client.create_bucket(&target.bucket).await.unwrap();
        }
        let put = PutObjectRequest::default();
        let full: Vec<String> = keys.iter().map(|k| target.key(k)).collect();
        futures::stream::iter(&full)
            .map(|k| client.put_object(&target.bucket, k, Bytes::from_static(b"x"), &put))
            .buffer_unordered(32)
            .try_collect::<Vec<_>>()
            .await
            .unwrap();
        Fixture { target, client }
    }

    fn url(&self, pattern: &str) -> String {
        format!("s3://{}/{}", self.target.bucket, self.target.key(pattern))
    }

    fn expander(&self, options: ExpandOptions) -> GlobExpander<S3Client> {
        GlobExpander::new(Arc::new(self.client.clone()), options)
    }

    /// Every key under this test's prefix, by one flat listing: the reference.
    async fn all_keys(&self) -> Vec<String> {
        let pages: Vec<_> = self
            .client
            .list_objects_v2(
                &self.target.bucket,
                ListObjectsV2Request::prefix(self.target.key("")),
            )
            .try_collect()
            .await
            .unwrap();
        pages
            .into_iter()
            .flat_map(|p| p.objects)
            .map(|o| o.key)
            .collect()
    }

    /// What the expander returns (keys) and the requests it took.
    async fn expand(&self, pattern: &str, options: ExpandOptions) -> (Vec<String>, u64) {
        let expander = self.expander(options);
        let matches = expander.expand_all(&[self.url(pattern)]).await.unwrap();
        assert!(
            matches
                .iter()
                .all(|m| m.object.etag.is_some() && m.object.size == 1),
            "listing carries size and ETag"
        );
        (
            matches.into_iter().map(|m| m.object.key).collect(),
            expander.requests(),
        )
    }
}

fn hive_keys() -> Vec<String> {
    let mut keys = Vec::new();
    for year in 2022..=2024 {
        for month in 1..=12 {
            for day in 1..=28 {
                for file in 0..10 {
                    keys.push(format!(
                        "t/year={year}/month={month:02}/day={day:02}/part-{file}.parquet"
                    ));
                }
            }
        }
    }
    keys
}

#[tokio::test]
async fn hive_layout_results_order_requests_and_pruning() {
    let keys = hive_keys();
    assert!(keys.len() >= 10_000);
    let fx = Fixture::with_keys(&keys).await;
    let all = fx.all_keys().await;
    assert_eq!(all.len(), keys.len());
    let brute = |pattern: &str| -> Vec<String> {
        let p = KeyPattern::parse(&fx.target.key(pattern)).unwrap();
        all.iter().filter(|k| p.matches(k)).cloned().collect()
    };

    // One month: a literal prefix, one flat page.
    let (got, requests) = fx
        .expand("t/year=2024/month=03/*/*.parquet", ExpandOptions::default())
        .await;
    assert_eq!(got, brute("t/year=2024/month=03/*/*.parquet"));
    assert_eq!(got.len(), 280);
    assert_eq!(requests, 1);
    // A directory URL with `**/` pasted in is every object below it, as
    // DuckDB reads it (review-8e #30: it matched nothing).
    for pattern in ["t/year=2024/month=03/**/", "t/year=2024/month=03/**"] {
        let (got, _) = fx.expand(pattern, ExpandOptions::default()).await;
        assert_eq!(got.len(), 280, "{pattern}");
        assert_eq!(got, brute("t/year=2024/month=03/*/*.parquet"), "{pattern}");
    }

    // One day across years: descend the years (1 request), then one
    // delimited listing per year.
    let (got, requests) = fx
        .expand(
            "t/year=*/month=03/day=15/*.parquet",
            ExpandOptions::default(),
        )
        .await;
    assert_eq!(got, brute("t/year=*/month=03/day=15/*.parquet"));
    assert_eq!(got.len(), 30);
    assert_eq!(requests, 1 + 3);

    // A class on the year prunes at the first level.
    let (got, requests) = fx
        .expand(
            "t/year=202[34]/month=1?/day=0[1-3]/part-[0-4].parquet",
            ExpandOptions::default(),
        )
        .await;
    assert_eq!(
        got,
        brute("t/year=202[34]/month=1?/day=0[1-3]/part-[0-4].parquet")
    );
    assert_eq!(got.len(), 2 * 3 * 3 * 5);
    // Every selective directory level is descended: years (1), months of
    // each year (2), days of each of the 3 months `1?` keeps (6), then one
    // delimited listing per kept day (18). Flat listings per month would
    // have taken 9 here; the plan cannot know a month holds < 1000 keys.
    assert_eq!(requests, 1 + 2 + 6 + 18);

    // Everything: one flat listing, 1000 keys a page.
    let (got, requests) = fx.expand("t/**/*.parquet", ExpandOptions::default()).await;
    assert_eq!(got, all);
    assert_eq!(requests, keys.len().div_ceil(1000) as u64);

    // A filter on partition columns narrows the listing itself.
    let filter = PartitionFilter::And(vec![
        PartitionFilter::Compare {
            column: "year".into(),
            op: CmpOp::Eq,
            value: PartitionValue::BigInt(2023),
        },
        PartitionFilter::Compare {
            column: "month".into(),
            op: CmpOp::GtEq,
            value: PartitionValue::BigInt(11),
        },
    ]);
    let options = ExpandOptions {
        filter: Some(filter),
        ..ExpandOptions::default()
    };
    let (got, requests) = fx.expand("t/year=*/month=*/day=*/*.parquet", options).await;
    let expected: Vec<String> = all
        .iter()
        .filter(|k| k.contains("year=2023/month=1") && !k.contains("month=10"))
        .cloned()
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got.len(), 2 * 280);
    assert_eq!(
        requests,
        1 + 1 + 2,
        "years, months of 2023, one flat listing per kept month"
    );
}

#[tokio::test]
async fn literal_keys_lists_and_duplicates() {
    let keys: Vec<String> = ["d/a.csv", "d/b.csv", "d/c.json", "d/sub/d.csv"]
        .map(String::from)
        .to_vec();
    let fx = Fixture::with_keys(&keys).await;
    let expander = fx.expander(ExpandOptions::default());
    // A literal key is one HEAD, no listing.
    let one = expander.expand_all(&[fx.url("d/b.csv")]).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(expander.requests(), 1);
    assert_eq!(one[0].url.to_string(), fx.url("d/b.csv"));
    // Lists keep the order given and drop duplicates.
    let many = expander
        .expand_all(&[fx.url("d/c.json"), fx.url("d/*.csv"), fx.url("d/a.csv")])
        .await
        .unwrap();
    let got: Vec<String> = many.iter().map(|m| m.object.key.clone()).collect();
    assert_eq!(
        got,
        ["d/c.json", "d/a.csv", "d/b.csv"].map(|k| fx.target.key(k))
    );
}

#[tokio::test]
async fn tricky_partition_values() {
    let keys: Vec<String> = [
        "h/city=New%20York/f.csv",
        "h/city=S%C3%A3o%20Paulo/f.csv",
        "h/city=a%3Db/f.csv",
        "h/city=__HIVE_DEFAULT_PARTITION__/f.csv",
        "h/city=with space/f.csv",
        "h/city=日本/f.csv",
    ]
    .map(String::from)
    .to_vec();
    let fx = Fixture::with_keys(&keys).await;
    let filter = PartitionFilter::Compare {
        column: "city".into(),
        op: CmpOp::Eq,
        value: PartitionValue::Varchar("São Paulo".into()),
    };
    let options = ExpandOptions {
        filter: Some(filter),
        ..ExpandOptions::default()
    };
    let (got, _) = fx.expand("h/*/*.csv", options).await;
    assert_eq!(got, vec![fx.target.key("h/city=S%C3%A3o%20Paulo/f.csv")]);
    let (all, _) = fx.expand("h/city=*/f.csv", ExpandOptions::default()).await;
    assert_eq!(all.len(), keys.len());
    let relative: Vec<&str> = all.iter().map(|k| &k[fx.target.prefix.len()..]).collect();
    let schema = s3sql_glob_list::HiveSchema::detect(&relative, &Default::default()).unwrap();
    let values: Vec<PartitionValue> = relative
        .iter()
        .map(|k| schema.values(k).unwrap().remove(0))
        .collect();
    assert!(values.contains(&PartitionValue::Varchar("a=b".into())));
    assert!(values.contains(&PartitionValue::Varchar("日本".into())));
    assert!(values.contains(&PartitionValue::Null));
}

#[tokio::test]
async fn clear_errors() {
    let fx = Fixture::with_keys(&["e/a.csv".to_owned()]).await;
    let expander = fx.expander(ExpandOptions::default());
    let err = expander
        .expand_all(&[fx.url("e/*.parquet")])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("No files found that match the pattern") && err.contains("e/*.parquet"),
        "{err}"
    );
    let err = expander
        .expand_all(&[fx.url("e/what?.csv")])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`?` matches any one character"), "{err}");
    let err = expander
        .expand_all(&[fx.url("e/[0-9.csv")])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("unclosed `[`"), "{err}");
    let err = expander
        .expand_all(&[fx.url("e/missing.csv")])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("No files found"), "{err}");
    let allow = fx.expander(ExpandOptions {
        allow_empty: true,
        ..ExpandOptions::default()
    });
    assert!(
        allow
            .expand_all(&[fx.url("e/*.parquet")])
            .await
            .unwrap()
            .is_empty()
    );
    // URL compatibility mode: `?` and `*` are part of the key.
    let compat = fx.expander(ExpandOptions {
        url_compatibility_mode: true,
        allow_empty: true,
        ..ExpandOptions::default()
    });
    assert!(
        compat
            .expand_all(&[fx.url("e/*.csv")])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(compat.requests(), 1, "a literal key is one HEAD");
}

/// The real client, counting how many listings overlap.
struct CountingClient {
    client: S3Client,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl ListObjects for CountingClient {
    fn list_page<'a>(
        &'a self,
        bucket: &'a str,
        request: &'a ListRequest,
        continuation: Option<String>,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        Box::pin(async move {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let page = self.client.list_page(bucket, request, continuation).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            page
        })
    }

    fn head<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<ObjectMeta>, StoreError>> {
        self.client.head(bucket, key)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wildcard_levels_share_one_bound_and_stream_in_key_order() {
    let mut keys = Vec::new();
    for a in 0..4 {
        for b in 0..4 {
            for c in 0..3 {
                keys.push(format!("w/a{a}/b{b}/c{c}/f.csv"));
                keys.push(format!("w/a{a}/b{b}/c{c}/g.json"));
            }
            keys.push(format!("w/a{a}/b{b}/x/f.csv"));
        }
    }
    let fx = Fixture::with_keys(&keys).await;
    let all = fx.all_keys().await;
    let pattern = "w/a[0-9]/b[0-9]/c[0-9]/*.csv";
    let reference = KeyPattern::parse(&fx.target.key(pattern)).unwrap();
    let expected: Vec<String> = all
        .iter()
        .filter(|k| reference.matches(k))
        .cloned()
        .collect();
    assert_eq!(expected.len(), 4 * 4 * 3);
    assert!(expected.is_sorted(), "the server lists in key order");
    let store = Arc::new(CountingClient {
        client: fx.client.clone(),
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
    });
    let options = ExpandOptions {
        concurrency: 3,
        ..ExpandOptions::default()
    };
    let expander = GlobExpander::new(Arc::clone(&store), options);
    let got: Vec<String> = expander
        .expand(&fx.url(pattern))
        .map_ok(|m| m.object.key)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got, expected);
    let max = store.max_in_flight.load(Ordering::SeqCst);
    assert!(max <= 3, "{max} listings in flight at once, bound 3");
    // The a level: 1 listing, b: 4, c: 16, then one per kept c: 48.
    assert_eq!(expander.requests(), 1 + 4 + 16 + 48);
}

#[tokio::test]
async fn a_bucket_alone_is_an_error_not_a_head() {
    let fx = Fixture::with_keys(&["k/a.csv".to_owned()]).await;
    let expander = fx.expander(ExpandOptions::default());
    for url in [
        format!("s3://{}", fx.target.bucket),
        format!("s3://{}/", fx.target.bucket),
    ] {
        let err = expander.expand_all(&[&url]).await.unwrap_err().to_string();
        assert!(
            err.contains(&format!("s3://{}/**", fx.target.bucket)),
            "{url}: {err}"
        );
    }
    assert_eq!(expander.requests(), 0);
}

/// A client for `endpoint` signing as the target's credentials.
fn client_at(target: &S3Target, endpoint: &str) -> S3Client {
    let config = ClientConfig::default()
        .with_endpoint(endpoint.to_owned())
        .with_region(target.region.clone())
        .with_url_style(UrlStyle::Path);
    let creds = Credentials::new(
        target.access_key_id.clone(),
        target.secret_access_key.clone(),
    );
    S3Client::new(config, Arc::new(StaticCredentials(creds))).unwrap()
}

/// Keys whose listing encoding is easy to get wrong: `+` is a space only
/// in an encoded listing, `%` starts an escape only there.
const ENCODING_KEYS: [&str; 5] = [
    "k/a+b.csv",
    "k/a b.csv",
    "k/100%.csv",
    "k/50%25.csv",
    "k/caf\u{e9}+x.csv",
];

async fn globbed_keys(client: &S3Client, bucket: &str, prefix: &str) -> Vec<String> {
    let expander = GlobExpander::new(Arc::new(client.clone()), ExpandOptions::default());
    let url = format!("s3://{bucket}/{prefix}k/*.csv");
    let mut got: Vec<String> = expander
        .expand_all(&[url])
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.object.key[prefix.len()..].to_owned())
        .collect();
    got.sort();
    got
}

#[tokio::test]
async fn keys_with_plus_percent_and_space_list_as_they_are() {
    let keys: Vec<String> = ENCODING_KEYS.map(String::from).to_vec();
    let mut want = keys.clone();
    want.sort();
    // The test target (TrackedFs, or moto), which encodes as S3 does.
    let fx = Fixture::with_keys(&keys).await;
    let got = globbed_keys(&fx.client, &fx.target.bucket, &fx.target.prefix).await;
    assert_eq!(got, want, "through {}", fx.target.backend);
    // Plain s3s-fs echoes EncodingType=url without encoding anything.
    let server = s3sql_testkit::S3Server::start_plain();
    let config = ClientConfig::default()
        .with_endpoint(server.endpoint())
        .with_region(server.region().to_owned())
        .with_url_style(UrlStyle::Path);
    let creds = Credentials::new(
        server.access_key_id().to_owned(),
        server.secret_access_key().to_owned(),
    );
    let client = S3Client::new(config, Arc::new(StaticCredentials(creds))).unwrap();
    client.create_bucket("plain-bucket").await.unwrap();
    for key in &keys {
        client
            .put_object(
                "plain-bucket",
                key,
                Bytes::from_static(b"x"),
                &PutObjectRequest::default(),
            )
            .await
            .unwrap();
    }
    let got = globbed_keys(&client, "plain-bucket", "").await;
    assert_eq!(got, want, "through plain s3s-fs");
    // Alone on its page, `a+b.csv` has nothing to tell it from an encoded
    // `a b.csv`, except the server's own earlier pages.
    let got = globbed_keys_exact(&client, "plain-bucket", "k/a+b.csv").await;
    assert_eq!(got, vec!["k/a+b.csv".to_owned()]);
}

/// One listing page of exactly `prefix` through the client, keys decoded.
async fn globbed_keys_exact(client: &S3Client, bucket: &str, prefix: &str) -> Vec<String> {
    let page = client
        .list_objects_v2_page(bucket, &ListObjectsV2Request::prefix(prefix), None)
        .await
        .unwrap();
    page.objects.into_iter().map(|o| o.key).collect()
}

/// Expands `p/*.csv` over `p/a.csv`, `p/b.csv` through a proxy giving
/// every listing `fault`: the error the walk ends in, and the faults given.
async fn expand_through(fault: s3sql_testkit::Fault) -> (s3sql_glob_list::GlobError, usize) {
    let fx = Fixture::with_keys(&["p/a.csv".to_owned(), "p/b.csv".to_owned()]).await;
    let proxy = fx.target.fault_proxy();
    proxy.push_rule(
        s3sql_testkit::FaultRule::new(fault)
            .query_contains("list-type=2")
            .always(),
    );
    let client = client_at(&fx.target, &proxy.endpoint());
    let expander = GlobExpander::new(Arc::new(client), ExpandOptions::default());
    let result = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        expander.expand_all(&[fx.url("p/*.csv")]),
    )
    .await
    .expect("the listing never ended");
    let err = result.expect_err("a listing that never ends was listed as if it did");
    (err, proxy.faults_injected())
}

#[tokio::test]
async fn endless_empty_truncated_pages_are_an_error() {
    let (err, faults) = expand_through(s3sql_testkit::Fault::EmptyTruncatedListing).await;
    assert!(err.to_string().contains("empty"), "{err}");
    assert!(faults <= 1001, "{faults}");
}

/// A server ignoring the continuation token answers the first page again
/// under a fresh token each time: pages neither empty nor of a repeated
/// token, that never advance.
#[tokio::test]
async fn a_listing_that_never_advances_is_an_error() {
    let (err, faults) = expand_through(s3sql_testkit::Fault::ReplayFirstListingPage).await;
    assert!(
        matches!(
            err,
            s3sql_glob_list::GlobError::NotAdvancing { pages: 2, .. }
        ),
        "{err}"
    );
    assert_eq!(faults, 2, "the first page and its replay");
}

#[tokio::test]
async fn a_missing_bucket_is_reported_not_no_files() {
    let fx = Fixture::with_keys(&["m/a.csv".to_owned()]).await;
    let expander = fx.expander(ExpandOptions::default());
    for pattern in [
        "s3://s3sql-no-such-bucket-x7/m/a.csv",
        "s3://s3sql-no-such-bucket-x7/m/*.csv",
    ] {
        let err = expander
            .expand_all(&[pattern.to_owned()])
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("NoSuchBucket") && !err.contains("No files found"),
            "{pattern}: {err}"
        );
    }
}

/// Folder markers on a server that stores them (moto, like S3 and MinIO;
/// s3s-fs cannot: a marker is a directory there): the listing holds
/// `dir/`, and no wildcard pattern matches it (review-11b #1).
#[tokio::test]
async fn folder_markers_a_server_lists_are_never_matches() {
    let config = ClientConfig::default()
        .with_endpoint(s3sql_testkit::moto_endpoint())
        .with_url_style(UrlStyle::Path);
    let creds = Credentials::new("testing", "testing");
    let client = S3Client::new(config, Arc::new(StaticCredentials(creds))).unwrap();
    let bucket = s3sql_testkit::unique_name("markers");
    client.create_bucket(&bucket).await.unwrap();
    let put = PutObjectRequest::default();
    for key in ["p/dir/", "p/dir/a.csv", "p/dir/sub/", "p/dir/sub/b.csv"] {
        let body = Bytes::from_static(if key.ends_with('/') { b"" } else { b"x" });
        client.put_object(&bucket, key, body, &put).await.unwrap();
    }
    let listed: Vec<String> = client
        .list_objects_v2(&bucket, ListObjectsV2Request::prefix("p/"))
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .into_iter()
        .flat_map(|p| p.objects)
        .map(|o| o.key)
        .collect();
    assert!(listed.contains(&"p/dir/".to_owned()), "{listed:?}");
    let expander = GlobExpander::new(Arc::new(client), ExpandOptions::default());
    for (pattern, want) in [
        ("p/dir/*", vec!["p/dir/a.csv"]),
        ("p/**", vec!["p/dir/a.csv", "p/dir/sub/b.csv"]),
        ("p/*/*", vec!["p/dir/a.csv"]),
    ] {
        let url = format!("s3://{bucket}/{pattern}");
        let got: Vec<String> = expander
            .expand_all(&[&url])
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.object.key)
            .collect();
        assert_eq!(got, want, "{url}");
    }
}
