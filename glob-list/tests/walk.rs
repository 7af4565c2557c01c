//! How a walk schedules its listings: a server that repeats a continuation
//! token is caught, one bound covers every level's listings in flight, and
//! matches stream out before a large level has been listed to its end.
//! These run over doubles of glob-list's own `ListObjects` seam (see
//! `common/mod.rs` and [`RepeatingStore`]), because they must see each
//! request and how many overlap; `expand.rs` runs the same walks against a
//! real server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{MemoryStore, object};
use futures::StreamExt;
use futures::future::BoxFuture;
use s3sql_glob_list::{
    ExpandOptions, GlobError, GlobExpander, ListObjects, ListPage, ListRequest, StoreError,
};
use s3sql_s3_client::ObjectMeta;

/// A store whose continuation tokens follow a script, one object a page:
/// the page answered to the n-th request carries `tokens[n]`. A double of
/// glob-list's own `ListObjects` trait rather than a misbehaving HTTP
/// server, because the walk's pager is what is under test here; the
/// client's own guard is tested in s3-client against a proxy.
struct RepeatingStore {
    tokens: Vec<Option<&'static str>>,
    calls: AtomicUsize,
}

impl ListObjects for RepeatingStore {
    fn list_page<'a>(
        &'a self,
        _bucket: &'a str,
        request: &'a ListRequest,
        _continuation: Option<String>,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            let next = self.tokens.get(n).copied().flatten().map(str::to_owned);
            Ok(ListPage {
                objects: vec![object(&format!("{}{n:04}.csv", request.prefix))],
                common_prefixes: Vec::new(),
                next,
            })
        })
    }

    fn head<'a>(
        &'a self,
        _bucket: &'a str,
        _key: &'a str,
    ) -> BoxFuture<'a, Result<Option<ObjectMeta>, StoreError>> {
        unreachable!("the patterns here always list")
    }
}

async fn expand_repeating(tokens: Vec<Option<&'static str>>) -> (GlobError, usize) {
    let store = Arc::new(RepeatingStore {
        tokens,
        calls: AtomicUsize::new(0),
    });
    let expander = GlobExpander::new(Arc::clone(&store), ExpandOptions::default());
    let err = expander
        .expand_all(&["s3://loopy/logs/*.csv"])
        .await
        .unwrap_err();
    (err, store.calls.load(Ordering::SeqCst))
}

#[tokio::test]
async fn a_repeated_continuation_token_stops_the_listing() {
    for tokens in [
        vec![Some("A"), Some("A")],
        vec![Some("A"), Some("B"), Some("A")],
    ] {
        let (err, calls) = expand_repeating(tokens.clone()).await;
        let text = err.to_string();
        assert!(
            matches!(err, GlobError::RepeatedToken { .. }),
            "{tokens:?}: {text}"
        );
        assert!(
            text.contains("s3://loopy/logs/") && text.contains("continuation token"),
            "names the bucket and prefix: {text}"
        );
        assert_eq!(calls, tokens.len(), "{tokens:?}: stops at the repeat");
    }
}

/// `d0/`..`d{n-1}/` at each of `levels` levels, one file in each leaf.
fn tree(levels: usize, n: usize) -> Vec<String> {
    let mut keys = vec![String::new()];
    for _ in 0..levels {
        keys = keys
            .iter()
            .flat_map(|k| (0..n).map(move |i| format!("{k}d{i}/")))
            .collect();
    }
    keys.into_iter().map(|k| format!("{k}f.csv")).collect()
}

#[tokio::test]
async fn one_bound_covers_listings_in_flight_at_every_level() {
    let keys = tree(3, 6);
    let store = Arc::new(MemoryStore::new(keys.clone(), 2));
    let options = ExpandOptions {
        concurrency: 4,
        ..ExpandOptions::default()
    };
    let expander = GlobExpander::new(Arc::clone(&store), options);
    let got: Vec<String> = expander
        .expand_all(&["s3://b/d[0-9]/d[0-9]/d[0-9]/*.csv"])
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.object.key)
        .collect();
    let mut sorted = keys;
    sorted.sort();
    assert_eq!(got, sorted, "every leaf, in key order");
    assert!(
        store.max_in_flight() <= 4,
        "{} listings in flight at once, bound 4",
        store.max_in_flight()
    );
    assert!(
        store.max_in_flight() > 1,
        "the levels still run concurrently"
    );
}

#[tokio::test]
async fn matches_stream_before_a_large_level_is_listed_to_its_end() {
    // d0 holds 200 files (100 pages of 2); d1 a few.
    let mut keys: Vec<String> = (0..200).map(|i| format!("d0/f{i:03}.csv")).collect();
    keys.extend((0..3).map(|i| format!("d1/f{i:03}.csv")));
    let store = Arc::new(MemoryStore::new(keys.clone(), 2));
    let options = ExpandOptions {
        concurrency: 4,
        ..ExpandOptions::default()
    };
    let expander = GlobExpander::new(Arc::clone(&store), options);
    let mut matches = expander.expand("s3://b/d[01]/*.csv");
    let first = matches.next().await.unwrap().unwrap();
    assert_eq!(first.object.key, "d0/f000.csv");
    let d0_pages = store
        .requests()
        .iter()
        .filter(|(prefix, _)| prefix == "d0/")
        .count();
    assert!(
        d0_pages <= 1 + 4 + 1,
        "{d0_pages} of d0's 100 pages requested before its first match was yielded"
    );
    let rest: Vec<String> = matches.map(|m| m.unwrap().object.key).collect().await;
    let mut all = vec![first.object.key];
    all.extend(rest);
    assert_eq!(all, keys, "key order");
}

#[tokio::test]
async fn a_bucket_alone_is_not_a_pattern() {
    let store = Arc::new(MemoryStore::new(["a.csv".to_owned()], 2));
    for literal in [false, true] {
        let expander = GlobExpander::new(
            Arc::clone(&store),
            ExpandOptions {
                url_compatibility_mode: literal,
                ..ExpandOptions::default()
            },
        );
        for url in ["s3://bucket", "s3://bucket/"] {
            let err = expander.expand_all(&[url]).await.unwrap_err().to_string();
            assert!(
                err.contains("s3://bucket/**") && err.contains(url),
                "{url}: {err}"
            );
            let err = expander.plan(url).unwrap_err().to_string();
            assert!(err.contains("s3://bucket/**"), "{url}: {err}");
        }
        assert_eq!(expander.requests(), 0, "no HEAD, no listing");
    }
    assert!(store.requests().is_empty());
}

/// S3 lists a folder marker (`dir/`, zero bytes, made by consoles and
/// tools) among the objects under its prefix. A wildcard never matches
/// one, as in DuckDB: read as a file it becomes a GET of `dir`, a 404 that
/// fails the whole query (review-11b #1).
#[tokio::test]
async fn folder_markers_are_never_matches() {
    let keys = [
        "p/",
        "p/dir/",
        "p/dir/a.csv",
        "p/dir/sub/",
        "p/dir/sub/b.csv",
    ];
    let store = Arc::new(MemoryStore::new(keys.map(str::to_owned), 2));
    let expander = GlobExpander::new(store, ExpandOptions::default());
    for (pattern, want) in [
        ("s3://bkt/p/dir/*", vec!["p/dir/a.csv"]),
        ("s3://bkt/p/**", vec!["p/dir/a.csv", "p/dir/sub/b.csv"]),
        ("s3://bkt/p/*/*", vec!["p/dir/a.csv"]),
        ("s3://bkt/p/dir/*/*", vec!["p/dir/sub/b.csv"]),
    ] {
        let got: Vec<String> = expander
            .expand_all(&[pattern])
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.object.key)
            .collect();
        assert_eq!(got, want, "{pattern}");
    }
}

/// A server that lists again, at the top of a page, the common prefix the
/// page before ended in (LocalStack, versitygw): each directory is
/// descended once and the walk completes, instead of failing as a server
/// that ignores its continuation token.
#[tokio::test]
async fn a_common_prefix_repeated_at_a_page_boundary_is_descended_once() {
    let keys = tree(2, 5);
    let store = Arc::new(MemoryStore::new(keys.clone(), 2).repeating_boundary_prefixes());
    let expander = GlobExpander::new(Arc::clone(&store), ExpandOptions::default());
    let got: Vec<String> = expander
        .expand_all(&["s3://b/d[0-9]/d[0-9]/*.csv"])
        .await
        .expect("a repeated boundary prefix failed the walk")
        .into_iter()
        .map(|m| m.object.key)
        .collect();
    let mut sorted = keys;
    sorted.sort();
    assert_eq!(got, sorted, "every leaf once, in key order");
}
