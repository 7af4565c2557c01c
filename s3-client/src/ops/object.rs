//! Bucket and single-object operations: HeadBucket, CreateBucket,
//! DeleteBucket, HeadObject, GetObject, PutObject, CopyObject, DeleteObject.

use bytes::Bytes;
use http::header::{
    CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_MATCH, IF_NONE_MATCH, LAST_MODIFIED,
    RANGE,
};
use http::{HeaderMap, Method};

use crate::body::ObjectBody;
use crate::client::{S3Client, S3Request};
use crate::error::{Error, Operation, Result};
use crate::model::{ByteRange, GetObjectRequest, ObjectMeta, PutObjectOutput, PutObjectRequest};

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Object metadata from response headers. For a ranged GET, the size is the
/// total from `Content-Range`, not the length of the part returned.
pub(crate) fn object_meta(headers: &HeaderMap) -> ObjectMeta {
    let total_from_range = header_str(headers, CONTENT_RANGE.as_str())
        .and_then(|r| r.rsplit('/').next())
        .and_then(|n| n.parse().ok());
    let size = total_from_range
        .or_else(|| header_str(headers, CONTENT_LENGTH.as_str()).and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    ObjectMeta {
        size,
        etag: header_str(headers, ETAG.as_str()).map(str::to_owned),
        last_modified: header_str(headers, LAST_MODIFIED.as_str())
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
            .map(|d| d.with_timezone(&chrono::Utc)),
        content_type: header_str(headers, CONTENT_TYPE.as_str()).map(str::to_owned),
        version_id: header_str(headers, "x-amz-version-id").map(str::to_owned),
    }
}

pub(crate) fn check_bucket(bucket: &str) -> Result<()> {
    if bucket.is_empty() {
        return Err(Error::InvalidArgument(
            "the bucket name is empty; URLs look like s3://bucket/key".into(),
        ));
    }
    Ok(())
}

/// The headers of a write: content type, conditional write and SSE-KMS.
pub(crate) fn write_headers<'a>(
    client: &S3Client,
    mut request: S3Request<'a>,
    put: &PutObjectRequest,
) -> S3Request<'a> {
    if let Some(ct) = &put.content_type {
        request = request.header(CONTENT_TYPE, ct.clone());
    }
    if put.if_none_match {
        request = request.header(IF_NONE_MATCH, "*");
    }
    if let Some(etag) = &put.if_match {
        request = request.header(IF_MATCH, etag.clone());
    }
    if let Some(kms) = &client.config().sse_kms_key_id {
        request = request
            .header(
                http::HeaderName::from_static("x-amz-server-side-encryption"),
                "aws:kms",
            )
            .header(
                http::HeaderName::from_static("x-amz-server-side-encryption-aws-kms-key-id"),
                kms.clone(),
            );
    }
    request
}

/// What GetObject returns: the object's metadata and its streaming body.
#[derive(Debug)]
pub struct GetObjectOutput {
    /// Metadata (size is the whole object's, even for a ranged GET).
    pub meta: ObjectMeta,
    /// The byte range this body covers, `start..end`.
    pub range: std::ops::Range<u64>,
    /// The body, resuming by itself if the connection breaks mid-way.
    pub body: ObjectBody,
}

impl S3Client {
    /// HeadBucket: does the bucket exist and may these credentials use it?
    pub async fn head_bucket(&self, bucket: &str) -> Result<()> {
        check_bucket(bucket)?;
        self.send_collect(&S3Request::new(
            Operation::HeadBucket,
            Method::HEAD,
            bucket,
            None,
        ))
        .await?;
        Ok(())
    }

    /// CreateBucket in the client's region (no location constraint for us-east-1).
    pub async fn create_bucket(&self, bucket: &str) -> Result<()> {
        check_bucket(bucket)?;
        let region = self.region_for(bucket);
        let mut request = S3Request::new(Operation::CreateBucket, Method::PUT, bucket, None);
        if region != crate::config::DEFAULT_REGION {
            request = request.body(Bytes::from(format!(
                "<CreateBucketConfiguration><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                quick_xml::escape::escape(region.as_str())
            )));
        }
        self.send_collect(&request).await?;
        Ok(())
    }

    /// DeleteBucket (the bucket must be empty).
    pub async fn delete_bucket(&self, bucket: &str) -> Result<()> {
        check_bucket(bucket)?;
        self.send_collect(&S3Request::new(
            Operation::DeleteBucket,
            Method::DELETE,
            bucket,
            None,
        ))
        .await?;
        Ok(())
    }

    /// HeadObject: size, ETag and Last-Modified without the body.
    pub async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectMeta> {
        self.head_object_if(bucket, key, &GetObjectRequest::default())
            .await
    }

    /// HeadObject with GetObject's preconditions (`If-Match`, `If-None-Match`,
    /// `If-Modified-Since`, `If-Unmodified-Since`); the range is ignored.
    pub async fn head_object_if(
        &self,
        bucket: &str,
        key: &str,
        req: &GetObjectRequest,
    ) -> Result<ObjectMeta> {
        check_bucket(bucket)?;
        let request = conditional_headers(
            S3Request::new(Operation::HeadObject, Method::HEAD, bucket, Some(key)),
            req,
        );
        let (parts, _) = self.send_collect(&request).await?;
        Ok(object_meta(&parts.headers))
    }

    /// GetObject with a streaming body. A body cut mid-way resumes from the
    /// last byte received, pinned to the first response's ETag.
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        req: &GetObjectRequest,
    ) -> Result<GetObjectOutput> {
        check_bucket(bucket)?;
        let mut request = S3Request::new(Operation::GetObject, Method::GET, bucket, Some(key));
        if let Some(range) = req.range {
            match range.header_value() {
                Some(value) => request = request.header(RANGE, value),
                None => {
                    // An empty range: S3 cannot express it, and it needs no bytes.
                    let meta = self.head_object(bucket, key).await?;
                    return Ok(GetObjectOutput {
                        meta,
                        range: 0..0,
                        body: ObjectBody::empty(),
                    });
                }
            }
        }
        request = conditional_headers(request, req);
        let resp = self.send(&request).await?;
        let meta = object_meta(resp.headers());
        let partial = resp.status() == http::StatusCode::PARTIAL_CONTENT;
        // The body's extent, when the server says it; without it a cut
        // connection cannot be told from the end.
        let known = if partial {
            content_range(resp.headers())
        } else {
            header_str(resp.headers(), CONTENT_LENGTH.as_str())
                .and_then(|n| n.parse().ok())
                .map(|n| 0..n)
        };
        let range = known.clone().unwrap_or(0..meta.size);
        let body = ObjectBody::new(
            self.clone(),
            bucket.to_owned(),
            key.to_owned(),
            meta.etag.clone(),
            known,
            resp.into_body(),
        );
        Ok(GetObjectOutput { meta, range, body })
    }

    /// GetObject read whole into memory (small objects, ranges, footers).
    pub async fn get_object_bytes(
        &self,
        bucket: &str,
        key: &str,
        req: &GetObjectRequest,
    ) -> Result<Bytes> {
        let output = self.get_object(bucket, key, req).await?;
        output.body.collect().await
    }

    /// The bytes of one range of an object.
    pub async fn get_range(&self, bucket: &str, key: &str, range: ByteRange) -> Result<Bytes> {
        let req = GetObjectRequest {
            range: Some(range),
            ..GetObjectRequest::default()
        };
        self.get_object_bytes(bucket, key, &req).await
    }

    /// PutObject of a whole body in one request.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        put: &PutObjectRequest,
    ) -> Result<PutObjectOutput> {
        check_bucket(bucket)?;
        let request =
            S3Request::new(Operation::PutObject, Method::PUT, bucket, Some(key)).body(body);
        let request = write_headers(self, request, put);
        let (parts, _) = self.send_collect(&request).await?;
        Ok(PutObjectOutput {
            etag: header_str(&parts.headers, ETAG.as_str()).map(str::to_owned),
            version_id: header_str(&parts.headers, "x-amz-version-id").map(str::to_owned),
        })
    }

    /// CopyObject within the server (no bytes pass through the client).
    pub async fn copy_object(
        &self,
        bucket: &str,
        from_key: &str,
        to_key: &str,
        if_none_match: bool,
    ) -> Result<()> {
        check_bucket(bucket)?;
        let source = format!("/{bucket}/{}", crate::addressing::encode_key(from_key));
        let mut request = S3Request::new(Operation::CopyObject, Method::PUT, bucket, Some(to_key))
            .header(http::HeaderName::from_static("x-amz-copy-source"), source);
        if if_none_match {
            request = request.header(IF_NONE_MATCH, "*");
        }
        let request = write_headers(self, request, &PutObjectRequest::default());
        let (_, body) = self.send_collect(&request).await?;
        // CopyObject may answer 200 with an error document.
        crate::ops::multipart::error_in_ok_body(self, &request, &body)?;
        Ok(())
    }

    /// DeleteObject. Deleting a missing key succeeds, as in S3.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        check_bucket(bucket)?;
        self.send_collect(&S3Request::new(
            Operation::DeleteObject,
            Method::DELETE,
            bucket,
            Some(key),
        ))
        .await?;
        Ok(())
    }
}

/// Adds a GetObject's preconditions as headers.
fn conditional_headers<'a>(mut request: S3Request<'a>, req: &GetObjectRequest) -> S3Request<'a> {
    let http_date =
        |t: &chrono::DateTime<chrono::Utc>| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Some(etag) = &req.if_match {
        request = request.header(IF_MATCH, etag.clone());
    }
    if let Some(etag) = &req.if_none_match {
        request = request.header(IF_NONE_MATCH, etag.clone());
    }
    if let Some(t) = &req.if_modified_since {
        request = request.header(http::header::IF_MODIFIED_SINCE, http_date(t));
    }
    if let Some(t) = &req.if_unmodified_since {
        request = request.header(http::header::IF_UNMODIFIED_SINCE, http_date(t));
    }
    request
}

/// `start..end` from `Content-Range: bytes start-last/total`.
fn content_range(headers: &HeaderMap) -> Option<std::ops::Range<u64>> {
    let value = header_str(headers, CONTENT_RANGE.as_str())?;
    let spec = value.strip_prefix("bytes ")?;
    let (range, _total) = spec.split_once('/')?;
    let (start, last) = range.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let last: u64 = last.trim().parse().ok()?;
    Some(start..last + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_uses_total_size_of_ranged_response() {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_LENGTH, "10".parse().unwrap());
        h.insert(CONTENT_RANGE, "bytes 5-14/100".parse().unwrap());
        h.insert(
            LAST_MODIFIED,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        let meta = object_meta(&h);
        assert_eq!(meta.size, 100);
        assert!(meta.last_modified.is_some());
        assert_eq!(content_range(&h), Some(5..15));
    }
}
