//! Arbitrary unicode keys survive a real server: put, list and get back exactly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::Bytes;
use common::Fixture;
use proptest::prelude::*;
use s3sql_s3_client::{GetObjectRequest, ListObjectsV2Request, PutObjectRequest};

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_keys_round_trip(segments in proptest::collection::vec("[^\\x00-\\x1f/\\x7f]{1,12}", 1..4)) {
        // Segments that would be `.` or `..` name directories on a file-backed server; S3 itself allows them.
        prop_assume!(segments.iter().all(|s| s != "." && s != ".."));
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let fx = Fixture::new().await;
            let key = fx.key(&segments.join("/"));
            let body = Bytes::from(key.clone().into_bytes());
            fx.client.put_object(fx.bucket(), &key, body.clone(), &PutObjectRequest::default()).await.unwrap();
            let page = fx.client.list_objects_v2_page(fx.bucket(), &ListObjectsV2Request::prefix(fx.key("")), None).await.unwrap();
            let listed: Vec<&str> = page.objects.iter().map(|o| o.key.as_str()).collect();
            assert_eq!(listed, vec![key.as_str()]);
            let got = fx.client.get_object_bytes(fx.bucket(), &key, &GetObjectRequest::default()).await.unwrap();
            assert_eq!(got, body);
        });
    }
}
