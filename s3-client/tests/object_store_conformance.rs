//! object_store's own conformance functions, run against our adapter on a
//! real server: the expectations DataFusion relies on.

#![cfg(feature = "object-store")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::Fixture;
use object_store::integration;
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{DynObjectStore, MultipartId, PutPayload, PutResult};
use s3sql_s3_client::S3ObjectStore;

/// A store over this test's bucket, scoped to its prefix when the bucket is shared.
async fn store() -> (Fixture, Arc<DynObjectStore>) {
    let fx = Fixture::new().await;
    let s3 = S3ObjectStore::new(fx.client.clone(), fx.bucket());
    let store: Arc<DynObjectStore> = if fx.target.prefix.is_empty() {
        Arc::new(s3)
    } else {
        Arc::new(PrefixStore::new(s3, fx.target.prefix.trim_end_matches('/')))
    };
    (fx, store)
}

macro_rules! conformance {
    ($($name:ident => |$s:ident| $call:expr;)*) => {$(
        #[tokio::test]
        async fn $name() {
            let (_fx, store) = store().await;
            let $s = store.as_ref();
            $call.await;
        }
    )*};
}

conformance! {
    put_get_delete_list => |s| integration::put_get_delete_list(s);
    get_opts => |s| integration::get_opts(s);
    stream_get => |s| integration::stream_get(s);
    list_uses_directories_correctly => |s| integration::list_uses_directories_correctly(s);
    list_with_delimiter => |s| integration::list_with_delimiter(s);
    list_with_offset_exclusivity => |s| integration::list_with_offset_exclusivity(s);
    get_nonexistent_object => |s| async { integration::get_nonexistent_object(s, None).await.unwrap_err(); };
    rename_and_copy => |s| integration::rename_and_copy(s);
    copy_rename_nonexistent_object => |s| integration::copy_rename_nonexistent_object(s);
    multipart_out_of_order => |s| integration::multipart_out_of_order(s);
    // Create-only and update-if-ETag writes, including five writers
    // racing on one counter through If-Match.
    put_opts => |s| integration::put_opts(s, true);
    // Two uploads of one key interleaved: the last to complete wins, as on S3.
    multipart_race_condition => |s| integration::multipart_race_condition(s, true);
    // Attributes this store cannot write are refused (NotImplemented), never dropped.
    put_get_attributes => |s| integration::put_get_attributes(s);
}

/// `MultipartStore` over the test's space: keys under its prefix when the
/// bucket is shared.
struct Prefixed {
    store: S3ObjectStore,
    prefix: String,
}

impl Prefixed {
    fn path(&self, path: &Path) -> Path {
        if self.prefix.is_empty() {
            path.clone()
        } else {
            Path::from(format!("{}{}", self.prefix, path.as_ref()))
        }
    }
}

#[async_trait::async_trait]
impl MultipartStore for Prefixed {
    async fn create_multipart(&self, path: &Path) -> object_store::Result<MultipartId> {
        self.store.create_multipart(&self.path(path)).await
    }

    async fn put_part(
        &self,
        path: &Path,
        id: &MultipartId,
        part_idx: usize,
        data: PutPayload,
    ) -> object_store::Result<PartId> {
        self.store
            .put_part(&self.path(path), id, part_idx, data)
            .await
    }

    async fn complete_multipart(
        &self,
        path: &Path,
        id: &MultipartId,
        parts: Vec<PartId>,
    ) -> object_store::Result<PutResult> {
        self.store
            .complete_multipart(&self.path(path), id, parts)
            .await
    }

    async fn abort_multipart(&self, path: &Path, id: &MultipartId) -> object_store::Result<()> {
        self.store.abort_multipart(&self.path(path), id).await
    }
}

#[tokio::test]
async fn multipart() {
    let (fx, store) = store().await;
    let multipart = Prefixed {
        store: S3ObjectStore::new(fx.client.clone(), fx.bucket()),
        prefix: fx.target.prefix.clone(),
    };
    integration::multipart(store.as_ref(), &multipart).await;
}

/// A part whose upload never finished (its future dropped, or failed)
/// leaves a gap: completing must fail, not write an object without it.
#[tokio::test]
async fn multipart_with_a_missing_part_does_not_complete() {
    use object_store::{ObjectStoreExt, PutPayload};
    let (_fx, store) = store().await;
    let path = object_store::path::Path::from("missing_part");
    let part = || PutPayload::from(vec![7u8; 5 * 1024 * 1024]);
    let mut upload = store.put_multipart(&path).await.unwrap();
    let first = upload.put_part(part());
    let second = upload.put_part(part());
    let third = upload.put_part(part());
    drop(second);
    first.await.unwrap();
    third.await.unwrap();
    let err = upload
        .complete()
        .await
        .expect_err("an object was completed without its second part");
    assert!(err.to_string().contains("missing part 2"), "{err}");
    let head = store.head(&path).await.unwrap_err();
    assert!(
        matches!(head, object_store::Error::NotFound { .. }),
        "{head}"
    );
    upload.abort().await.unwrap();
}

/// Keys S3 stores but object_store's `Path` cannot hold as they are: each
/// is listed at a `Path` that reads back exactly that key (review-11b #4).
/// s3s-fs keeps keys as files, so it cannot hold a leading '/', an empty,
/// `.` or `..` segment or a folder marker; moto and S3 hold them all.
#[tokio::test]
async fn every_listed_key_reads_back_exactly_that_object() {
    use futures::TryStreamExt;
    use object_store::{ObjectStore, ObjectStoreExt};
    let fx = Fixture::new().await;
    let file_backed = fx.target.backend == "s3s-fs";
    let mut names = vec![
        "k/tab\tx.csv",
        "k/%%q.csv",
        "k/a%2Fb.csv",
        "k/%48i.csv",
        "k/plain.csv",
        "k/ space.csv",
        "k/!bang.csv",
        "k/\tfirst.csv",
    ];
    if !file_backed {
        names.extend([
            "k/a//b.csv",
            "k//lead.csv",
            "k/./dot.csv",
            "k/../up.csv",
            "k/dir/",
        ]);
        if fx.target.prefix.is_empty() {
            names.push("/k/root.csv");
        }
    }
    for (i, name) in names.iter().enumerate() {
        let key = fx.key(name);
        let body = if name.ends_with('/') {
            String::new()
        } else {
            format!("body {i}")
        };
        fx.client
            .put_object(fx.bucket(), &key, body.into(), &Default::default())
            .await
            .unwrap_or_else(|e| panic!("put {key:?}: {e}"));
    }
    let store = S3ObjectStore::new(fx.client.clone(), fx.bucket());
    let listed: Vec<object_store::ObjectMeta> = store.list(None).try_collect().await.unwrap();
    let mut keys = Vec::new();
    for meta in &listed {
        let key = S3ObjectStore::key_of(&meta.location).unwrap();
        assert_eq!(S3ObjectStore::path_of(&key), meta.location);
        let i = names
            .iter()
            .position(|n| fx.key(n) == key)
            .unwrap_or_else(|| panic!("listed {key:?} ({}), never written", meta.location));
        let expected = if names[i].ends_with('/') {
            String::new()
        } else {
            format!("body {i}")
        };
        let got = store
            .get(&meta.location)
            .await
            .unwrap_or_else(|e| panic!("{key:?}: {e}"));
        assert_eq!(got.bytes().await.unwrap(), expected.as_bytes(), "{key:?}");
        let head = store.head(&meta.location).await.unwrap();
        assert_eq!(head.location, meta.location);
        let ranges = store.get_ranges(&meta.location, &[0..1, 1..1]).await;
        if !expected.is_empty() {
            assert_eq!(ranges.unwrap()[0].as_ref(), &expected.as_bytes()[..1]);
        }
        keys.push(key);
    }
    keys.sort();
    let mut written: Vec<String> = names.iter().map(|n| fx.key(n)).collect();
    written.sort();
    assert_eq!(keys, written);

    // After any offset, every later path and only those (keys sort as
    // their paths do except where a segment is escaped).
    let mut paths: Vec<Path> = listed.iter().map(|m| m.location.clone()).collect();
    paths.sort();
    for offset in &paths {
        let mut after: Vec<Path> = store
            .list_with_offset(None, offset)
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .unwrap();
        after.sort();
        let expected: Vec<Path> = paths.iter().filter(|p| *p > offset).cloned().collect();
        assert_eq!(after, expected, "after {offset}");
    }

    // A directory listing names each level by the same mapping.
    let k = S3ObjectStore::path_of(&fx.key("k"));
    let level = store.list_with_delimiter(Some(&k)).await.unwrap();
    for prefix in &level.common_prefixes {
        let under: Vec<_> = store.list(Some(prefix)).try_collect().await.unwrap();
        assert!(!under.is_empty(), "nothing under {prefix}");
        for meta in under {
            assert!(
                meta.location.prefix_match(prefix).is_some(),
                "{} under {prefix}",
                meta.location
            );
        }
    }
    if !file_backed {
        let empty = S3ObjectStore::path_of(&fx.key("k/"));
        assert!(
            level.common_prefixes.contains(&empty),
            "{:?}",
            level.common_prefixes
        );
    }

    // Writes, copies and deletes take the same paths.
    let tab = S3ObjectStore::path_of(&fx.key("k/tab\tx.csv"));
    let copy = S3ObjectStore::path_of(&fx.key("k/copy\t.csv"));
    store.copy(&tab, &copy).await.unwrap();
    fx.assert_holds(&fx.key("k/copy\t.csv"), b"body 0").await;
    store.delete(&copy).await.unwrap();
    let gone = fx
        .client
        .head_object(fx.bucket(), &fx.key("k/copy\t.csv"))
        .await;
    assert!(gone.unwrap_err().is_not_found());
    // A path no key maps to reads nothing: it is an error, not another key.
    let bogus = Path::parse("k/%%zz").unwrap();
    let err = store.get(&bogus).await.unwrap_err();
    assert!(err.to_string().contains("names no S3 key"), "{err}");
}

/// A versioned read cannot be sent by this store: it is refused, never
/// answered with the latest version.
#[tokio::test]
async fn a_versioned_read_is_refused_not_answered_with_the_latest() {
    use object_store::{GetOptions, ObjectStore, ObjectStoreExt};
    let (_fx, store) = store().await;
    let path = Path::from("versioned.csv");
    store.put(&path, "v1".into()).await.unwrap();
    let options = GetOptions {
        version: Some("some-older-version".into()),
        ..GetOptions::default()
    };
    let err = store.get_opts(&path, options).await.unwrap_err();
    assert!(
        matches!(err, object_store::Error::NotImplemented { .. }),
        "{err}"
    );
}

/// What an answer says of the object reaches object_store's `attributes`:
/// a Content-Type written is read back.
#[tokio::test]
async fn content_type_is_written_and_read_back_as_an_attribute() {
    use object_store::{Attribute, Attributes, ObjectStoreExt, PutOptions};
    let (_fx, store) = store().await;
    let path = Path::from("typed.csv");
    let attributes = Attributes::from_iter([(Attribute::ContentType, "text/csv")]);
    let opts = PutOptions::from(attributes.clone());
    store.put_opts(&path, "a\n".into(), opts).await.unwrap();
    let got = store.get(&path).await.unwrap();
    assert_eq!(got.attributes, attributes);
    let head = store
        .get_opts(
            &path,
            object_store::GetOptions {
                head: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(head.attributes, attributes);
}

/// Ranges pinned to an ETag go through the client's one coalescer: its
/// `read.coalesce_gap` decides the GETs, and a replaced object is a
/// precondition failure, never bytes of two versions (review-11b #10k).
#[tokio::test]
async fn pinned_ranges_use_the_clients_coalescing_and_refuse_a_replaced_object() {
    use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
    use s3sql_s3_client::ObjectVersion;
    let fx = Fixture::with_config(|mut c| {
        c.read.coalesce_gap = 0;
        c
    })
    .await;
    let store = S3ObjectStore::new(fx.client.clone(), fx.bucket());
    let path = S3ObjectStore::path_of(&fx.key("pinned.bin"));
    let body: Vec<u8> = (0..100u8).collect();
    let etag = store
        .put(&path, body.clone().into())
        .await
        .unwrap()
        .e_tag
        .unwrap();
    let listed = |size| ObjectVersion {
        etag: Some(etag.clone()),
        size,
    };
    let before = fx.client.request_count();
    let parts = store
        .get_ranges_if_match(&path, &[0..10, 20..30, 25..40], Some(&listed(100)))
        .await
        .unwrap();
    assert_eq!(parts, vec![&body[0..10], &body[20..30], &body[25..40]]);
    // Gap 0: 0..10 and 20..40 are two GETs (object_store's coalescer would
    // have merged them into one).
    assert_eq!(fx.client.request_count() - before, 2);
    // Listed at another size than the object's (a stale listing, or a
    // gateway listing one size and serving another): an error giving both,
    // by ranges or whole, never bytes read as if the object ended there
    // (review-8e #23).
    let err = store
        .get_ranges_if_match(&path, &[0..10, 20..30], Some(&listed(50)))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is 100 bytes") && err.contains("planned on 50 bytes"),
        "{err}"
    );
    for range in [None, Some(GetRange::Bounded(0..10))] {
        let mut options = GetOptions {
            range,
            ..GetOptions::default()
        };
        options.extensions.insert(listed(50));
        let err = match store.get_opts(&path, options).await {
            Ok(answer) => panic!("read as if 50 bytes long: {:?}", answer.range),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("planned on 50 bytes"), "{err}");
    }
    store.put(&path, vec![7u8; 100].into()).await.unwrap();
    let err = store
        .get_ranges_if_match(&path, &[0..10, 50..60], Some(&listed(100)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, object_store::Error::Precondition { .. }),
        "{err}"
    );
}

/// An empty or inverted byte range is refused, as object_store's own
/// stores refuse it (`InvalidGetRange`): it answered Ok with no bytes, a
/// stale If-Match and all (review-11c #2).
#[tokio::test]
#[allow(clippy::reversed_empty_ranges)] // the ranges under test
async fn empty_and_inverted_ranges_are_refused() {
    use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
    let (_fx, store) = store().await;
    let path = Path::from("ranged.csv");
    let stale = store.put(&path, "0123456789".into()).await.unwrap().e_tag;
    store.put(&path, "abcdefghij".into()).await.unwrap();
    for range in [5..5, 100..5] {
        let options = GetOptions {
            range: Some(GetRange::Bounded(range.clone())),
            if_match: stale.clone(),
            ..GetOptions::default()
        };
        let err = store.get_opts(&path, options).await.unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("Range started at {}", range.start)),
            "{range:?}: {err}"
        );
    }
    let err = store.get_ranges(&path, &[0..2, 7..3]).await.unwrap_err();
    assert!(err.to_string().contains("7..3"), "{err}");
    // An empty range among others reads nothing, as object_store's stores do.
    let parts = store.get_ranges(&path, &[2..2, 0..2]).await.unwrap();
    assert_eq!(parts, vec![&b""[..], &b"ab"[..]]);
}
