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
