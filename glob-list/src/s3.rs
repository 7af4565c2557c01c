//! [`ListObjects`] for s3sql's own S3 client.

use futures::future::BoxFuture;
use s3sql_s3_client::{ListObjectsV2Request, ObjectMeta, S3Client};

use crate::list::{ListObjects, ListPage, ListRequest, StoreError};

impl ListObjects for S3Client {
    fn list_page<'a>(
        &'a self,
        bucket: &'a str,
        request: &'a ListRequest,
        continuation: Option<String>,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        Box::pin(async move {
            let req = ListObjectsV2Request {
                prefix: Some(request.prefix.clone()),
                delimiter: request.delimited.then(|| "/".to_owned()),
                ..ListObjectsV2Request::default()
            };
            let page = self
                .list_objects_v2_page(bucket, &req, continuation.as_deref())
                .await?;
            Ok(ListPage {
                objects: page.objects,
                common_prefixes: page.common_prefixes,
                next: page.next_continuation_token,
            })
        })
    }

    fn head<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<ObjectMeta>, StoreError>> {
        Box::pin(async move {
            match self.head_object(bucket, key).await {
                Ok(meta) => Ok(Some(meta)),
                // A 404 to a HEAD says nothing of which is missing, the key
                // or the bucket: a missing bucket is an error, not "no files".
                Err(e) if e.is_not_found() => match self.head_bucket(bucket).await {
                    Err(b) if b.is_not_found() => Err(b.into()),
                    _ => Ok(None),
                },
                Err(e) => Err(e.into()),
            }
        })
    }
}
