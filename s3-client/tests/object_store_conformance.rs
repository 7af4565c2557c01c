//! object_store's own conformance functions, run against our adapter on a
//! real server: the expectations DataFusion relies on.

#![cfg(feature = "object-store")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::Fixture;
use object_store::DynObjectStore;
use object_store::integration;
use object_store::prefix::PrefixStore;
use s3sql_s3_client::object_store::S3ObjectStore;

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
}
