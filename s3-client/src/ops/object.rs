//! Bucket and single-object operations: HeadBucket, CreateBucket,
//! DeleteBucket, HeadObject, GetObject, PutObject, CopyObject, DeleteObject.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, ETAG, IF_MATCH, IF_NONE_MATCH, LAST_MODIFIED, RANGE};
use http::{HeaderMap, Method, StatusCode};

use crate::body::ObjectBody;
use crate::client::{LostAnswer, RetryLog, S3Client, S3Request};
use crate::content_range::{
    check_if_match_answer, check_partial, check_size, content_length, content_range,
};
use crate::error::{Error, Operation, Result};
use crate::model::{
    ByteRange, CopyObjectRequest, GetObjectRequest, ObjectMeta, PutObjectOutput, PutObjectRequest,
};
use crate::ops::lost::{Found, Mark, WRITE_TOKEN, is_plain_md5, md5_hex, new_write_token};
use crate::ops::metadata::with_metadata;
use crate::url::ShownKey;
use crate::xml;

/// A response header's value as text, when present and visible ASCII.
pub(crate) fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The metadata of the object at `key` from response headers and its
/// size, which the caller takes from `Content-Length` or a checked
/// `Content-Range`.
pub(crate) fn object_meta(key: &str, headers: &HeaderMap, size: u64) -> ObjectMeta {
    ObjectMeta {
        key: key.to_owned(),
        size,
        etag: header_str(headers, ETAG.as_str()).map(str::to_owned),
        last_modified: header_str(headers, LAST_MODIFIED.as_str())
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
            .map(|d| d.with_timezone(&chrono::Utc)),
        content_type: header_str(headers, CONTENT_TYPE.as_str()).map(str::to_owned),
        version_id: header_str(headers, "x-amz-version-id").map(str::to_owned),
        storage_class: header_str(headers, "x-amz-storage-class").map(str::to_owned),
    }
}

/// The size an answer's `Content-Length` gives, else the size the read was
/// planned on (a chunked answer from a gateway; the body is then checked
/// to end there); without either the size is unknown, which is an error
/// rather than 0.
fn required_length(headers: &HeaderMap, planned: Option<u64>) -> std::result::Result<u64, String> {
    content_length(headers)?
        .or(planned)
        .ok_or_else(|| "no Content-Length: the object's size is unknown".to_owned())
}

/// Refuses a bucket name S3 could not have: it goes into the request's path
/// or host unencoded, so `bkt?` would send `GET /bkt?/x.csv`, a listing of
/// `bkt` returned as if it were the object. S3's rules: 3 to 63 of
/// `a-z 0-9 . -`, starting and ending with a letter or digit; legacy
/// names (us-east-1, path style only) may also hold capitals and `_`, up
/// to 255 characters.
pub(crate) fn check_bucket(bucket: &str) -> Result<()> {
    if bucket.is_empty() {
        return Err(Error::InvalidArgument(
            "the bucket name is empty; URLs look like s3://bucket/key".into(),
        ));
    }
    if let Err(why) = crate::addressing::valid_bucket_name(bucket) {
        return Err(Error::InvalidArgument(format!(
            "'{}' is not a valid bucket name: {why}; check the s3://bucket/key URL",
            bucket.escape_debug()
        )));
    }
    Ok(())
}

/// Checks the bucket and the key of an object operation. An empty key
/// would address the bucket itself (a HEAD becomes HeadBucket, a GET
/// returns the bucket listing as if it were the object's bytes).
pub(crate) fn check_object(bucket: &str, key: &str) -> Result<()> {
    check_bucket(bucket)?;
    if key.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "the key is empty: s3://{bucket}/ names the bucket, not an object; give the object's key, e.g. s3://{bucket}/path/file.csv"
        )));
    }
    Ok(())
}

/// The conditions of a write (`If-None-Match: *`, `If-Match`), for the
/// request S3 evaluates them on: PutObject, or CompleteMultipartUpload
/// (CreateMultipartUpload ignores them). A retry after a lost answer may
/// meet the object this very request wrote: the caller resolves a 412.
pub(crate) fn write_conditions<'a>(
    mut request: S3Request<'a>,
    put: &PutObjectRequest,
) -> S3Request<'a> {
    if put.if_none_match {
        request = request
            .header(IF_NONE_MATCH, "*")
            .lost_answer(LostAnswer::Resolve);
    }
    if let Some(etag) = &put.if_match {
        request = request
            .header(IF_MATCH, crate::etag::if_match_header(etag))
            .lost_answer(LostAnswer::Resolve);
    }
    request
}

/// The headers that start a write: content type, the object's metadata
/// and SSE-KMS (the client's key unless the metadata names an encryption).
pub(crate) fn write_headers<'a>(
    client: &S3Client,
    mut request: S3Request<'a>,
    put: &PutObjectRequest,
) -> Result<S3Request<'a>> {
    if let Some(ct) = &put.content_type {
        request = request.header(CONTENT_TYPE, ct.clone());
    }
    request = with_metadata(request, &put.metadata)?;
    if put.metadata.encryption.is_some() {
        return Ok(request);
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
    Ok(request)
}

/// Whether a write asks for SSE-KMS (see [`write_headers`]): the
/// metadata's encryption when it names one, else the client's KMS key.
pub(crate) fn asks_kms(client: &S3Client, put: &PutObjectRequest) -> bool {
    match &put.metadata.encryption {
        Some(sse) => sse.algorithm.starts_with("aws:kms"),
        None => client.config().sse_kms_key_id.is_some(),
    }
}

/// Refuses the answer to a write that asked for SSE-KMS when it does not
/// say so back: S3 answers every such PutObject, CreateMultipartUpload
/// and CompleteMultipartUpload with `x-amz-server-side-encryption:
/// aws:kms`, and a server that ignores the headers (several S3-compatible
/// ones do) stores the bytes unencrypted. `outcome` says what became of
/// the write.
pub(crate) fn check_kms_answer(
    client: &S3Client,
    req: &S3Request<'_>,
    put: &PutObjectRequest,
    headers: &HeaderMap,
    outcome: &str,
) -> Result<()> {
    if !asks_kms(client, put) {
        return Ok(());
    }
    let said = header_str(headers, "x-amz-server-side-encryption");
    if said.is_some_and(|s| s.starts_with("aws:kms")) {
        return Ok(());
    }
    let said = said.map_or_else(|| "none".to_owned(), |s| format!("'{s}'"));
    Err(client.invalid_response(
        req,
        format!(
            "the write asked for SSE-KMS encryption (the secret's KMS_KEY_ID, or the encryption of the object it replaces), but the server's answer names encryption {said} (x-amz-server-side-encryption): it ignored SSE-KMS and would store the data unencrypted; {outcome}. Use a server that supports SSE-KMS, or remove KMS_KEY_ID from the secret to write unencrypted"
        ),
    ))
}

/// A server that ignores `Range` sends the whole object. Up to this size the
/// asked bytes are cut out of it; beyond, the read fails: fetching a large
/// object whole for a footer, once per range, is worse than a clear error.
const IGNORED_RANGE_SLICE_LIMIT: u64 = 8 * 1024 * 1024;

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

    /// CreateBucket in the region its request is signed for: the client's,
    /// or the server's when it answers (to the HeadBucket a request's retry
    /// asks with) that it keeps to another, as a single-region server does.
    /// The LocationConstraint names that region (none for us-east-1), so it
    /// is asked before the body is made: a redirect of the create itself
    /// would resend a constraint for the wrong region.
    pub async fn create_bucket(&self, bucket: &str) -> Result<()> {
        check_bucket(bucket)?;
        self.region_was_wrong(bucket).await;
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
    /// `If-Modified-Since`, `If-Unmodified-Since`, the size); the range is
    /// ignored.
    pub async fn head_object_if(
        &self,
        bucket: &str,
        key: &str,
        req: &GetObjectRequest,
    ) -> Result<ObjectMeta> {
        check_object(bucket, key)?;
        Ok(self.head_object_headers(bucket, key, req).await?.0)
    }

    /// HeadObject: the object's metadata and the answer's headers.
    pub(crate) async fn head_object_headers(
        &self,
        bucket: &str,
        key: &str,
        req: &GetObjectRequest,
    ) -> Result<(ObjectMeta, HeaderMap)> {
        let request = conditional_headers(
            S3Request::new(Operation::HeadObject, Method::HEAD, bucket, Some(key)),
            req,
        );
        let (parts, _) = self.send_collect(&request).await?;
        let size = required_length(&parts.headers, None)
            .and_then(|size| check_size(req.size, size).map(|()| size))
            .map_err(|d| self.invalid_response(&request, d))?;
        Ok((object_meta(key, &parts.headers, size), parts.headers))
    }

    /// GetObject with a streaming body. A body cut mid-way resumes from the
    /// last byte received, pinned to the first response's ETag.
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        req: &GetObjectRequest,
    ) -> Result<GetObjectOutput> {
        check_object(bucket, key)?;
        let mut request = S3Request::new(Operation::GetObject, Method::GET, bucket, Some(key));
        if let Some(range) = req.range {
            match range.header_value() {
                Some(value) => request = request.header(RANGE, value),
                None => {
                    // An empty range: S3 cannot express it, and it needs no
                    // bytes; a HEAD with the same preconditions answers it.
                    let start = match range {
                        ByteRange::Bounded { start, end } if start > end => {
                            return Err(Error::InvalidArgument(format!(
                                "s3://{bucket}/{}: the byte range {start}..{end} ends before it starts",
                                ShownKey(key)
                            )));
                        }
                        ByteRange::Bounded { start, .. } => start,
                        _ => 0,
                    };
                    let meta = self.head_object_if(bucket, key, req).await?;
                    if start > meta.size {
                        return Err(Error::InvalidArgument(format!(
                            "s3://{bucket}/{}: the byte range starts at {start}, past the object's end ({} bytes)",
                            ShownKey(key),
                            meta.size
                        )));
                    }
                    return Ok(GetObjectOutput {
                        meta,
                        range: start..start,
                        body: ObjectBody::empty(),
                    });
                }
            }
        }
        request = conditional_headers(request, req);
        let resp = self.send(&request).await?;
        let (parts, body) = resp.into_parts();
        let invalid = |detail: String| self.invalid_response(&request, detail);
        let length = content_length(&parts.headers).map_err(invalid)?;
        let partial = parts.status == StatusCode::PARTIAL_CONTENT;
        let pinned = |meta: &ObjectMeta| {
            check_if_match_answer(req.if_match.as_deref(), meta.etag.as_deref())
                .and_then(|()| check_size(req.size, meta.size))
                .map_err(invalid)
        };
        let body_of = |range: std::ops::Range<u64>, etag: Option<String>, body| {
            ObjectBody::new(
                self.clone(),
                bucket.to_owned(),
                key.to_owned(),
                etag,
                range,
                body,
            )
        };
        match (req.range, partial) {
            (Some(asked), true) => {
                let got = content_range(&parts.headers)
                    .map_err(invalid)?
                    .ok_or_else(|| invalid("a 206 answer without Content-Range".into()))?;
                check_partial(&asked, &got).map_err(invalid)?;
                let carried = got.range.end - got.range.start;
                if length.is_some_and(|n| n != carried) {
                    return Err(invalid(format!(
                        "Content-Length {length:?} does not match Content-Range ({carried} bytes)"
                    )));
                }
                let meta = object_meta(key, &parts.headers, got.total);
                pinned(&meta)?;
                let body = body_of(got.range.clone(), meta.etag.clone(), body);
                Ok(GetObjectOutput {
                    meta,
                    range: got.range,
                    body,
                })
            }
            (Some(asked), false) => {
                // The server (or something between) ignored Range and sent
                // the whole object: cut the asked bytes out of a small one.
                let total = required_length(&parts.headers, req.size).map_err(invalid)?;
                if total > IGNORED_RANGE_SLICE_LIMIT {
                    return Err(invalid(format!(
                        "the server ignored the Range header and sent the whole {total}-byte object; a server or proxy on the way does not support ranged reads"
                    )));
                }
                let meta = object_meta(key, &parts.headers, total);
                pinned(&meta)?;
                let whole = body_of(0..total, meta.etag.clone(), body).collect().await?;
                let range = asked.within(total);
                let bytes = usize::try_from(range.start)
                    .ok()
                    .zip(usize::try_from(range.end).ok())
                    .and_then(|(start, end)| whole.get(start..end))
                    .map(|slice| whole.slice_ref(slice))
                    .ok_or_else(|| {
                        invalid("the whole object was shorter than its Content-Length".into())
                    })?;
                Ok(GetObjectOutput {
                    meta,
                    range,
                    body: ObjectBody::from_bytes(bytes),
                })
            }
            (None, false) => {
                let total = required_length(&parts.headers, req.size).map_err(invalid)?;
                let meta = object_meta(key, &parts.headers, total);
                pinned(&meta)?;
                let body = body_of(0..total, meta.etag.clone(), body);
                Ok(GetObjectOutput {
                    meta,
                    range: 0..total,
                    body,
                })
            }
            (None, true) => Err(invalid(
                "a 206 answer to a GET that asked for no range".into(),
            )),
        }
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

    /// PutObject of a whole body in one request. When an attempt's answer
    /// was lost and the retries did not succeed, the write may have been
    /// done all the same: the object at the key tells (its write token, or
    /// its bytes' MD5 as ETag), and it is this write's result; when it
    /// cannot tell (under SSE-KMS, or the HEAD failing),
    /// [`Error::OutcomeUnknown`].
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        put: &PutObjectRequest,
    ) -> Result<PutObjectOutput> {
        check_object(bucket, key)?;
        let request =
            S3Request::new(Operation::PutObject, Method::PUT, bucket, Some(key)).body(body.clone());
        let mut request = write_conditions(write_headers(self, request, put)?, put);
        // A conditional write marks its object with a token of its own, so
        // that a retry refused with 412 after a lost answer can tell its
        // own object from another writer's, whatever the ETag says.
        let token = (request.lost_answer == LostAnswer::Resolve).then(new_write_token);
        if let Some(token) = &token {
            request = request.header(http::HeaderName::from_static(WRITE_TOKEN), token.clone());
        }
        let mut log = RetryLog::default();
        let (parts, _) = match self.send_collect_logged(&request, &mut log).await {
            // After a lost answer, a 412 may be this write's own object,
            // and any other failure (every retry's answer lost too) may
            // follow a write that was done: the object tells.
            Err(e) if log.answer_lost => {
                // Under SSE-KMS the ETag is not the bytes' MD5.
                let kms = match &put.metadata.encryption {
                    Some(sse) => sse.algorithm != "AES256",
                    None => self.config().sse_kms_key_id.is_some(),
                };
                let md5 = (!kms).then(|| md5_hex(&body));
                let mark = Mark {
                    token: token.as_deref(),
                    etag: md5.as_deref(),
                    replaces: put.if_match.is_some(),
                };
                let found = self.written_by(bucket, key, mark).await;
                return found.resolve(self, &request, e);
            }
            other => other?,
        };
        // S3 sends an ETag with every PutObject it carried out: a 2xx
        // without one (a gateway or a server that did not run it) stored
        // nothing anyone can point to.
        let etag = header_str(&parts.headers, ETAG.as_str()).ok_or_else(|| {
            self.invalid_response(
                &request,
                "PutObject was answered without an ETag, so nothing is known to be stored; is the endpoint an S3 server?",
            )
        })?;
        // A write of one request cannot be checked before its bytes go:
        // writers that must not store them unencrypted use a multipart
        // upload, checked at its start.
        check_kms_answer(
            self,
            &request,
            put,
            &parts.headers,
            "the object now at the key holds the data unencrypted",
        )?;
        Ok(PutObjectOutput {
            etag: Some(etag.to_owned()),
            version_id: header_str(&parts.headers, "x-amz-version-id").map(str::to_owned),
        })
    }

    /// CopyObject within the server (no bytes pass through the client).
    pub async fn copy_object(
        &self,
        bucket: &str,
        from_key: &str,
        to_key: &str,
        copy: &CopyObjectRequest,
    ) -> Result<()> {
        check_object(bucket, from_key)?;
        check_object(bucket, to_key)?;
        let source = format!("/{bucket}/{}", crate::addressing::encode_key(from_key));
        let mut request = S3Request::new(Operation::CopyObject, Method::PUT, bucket, Some(to_key))
            .header(http::HeaderName::from_static("x-amz-copy-source"), source)
            .error_in_ok();
        if copy.if_none_match {
            request = request
                .header(IF_NONE_MATCH, "*")
                .lost_answer(LostAnswer::Resolve);
        }
        let request = write_headers(self, request, &PutObjectRequest::default())?;
        let mut log = RetryLog::default();
        match self.send_collect_logged(&request, &mut log).await {
            // A copy carries no token of its own, so the source's ETag at
            // the destination proves nothing (another writer's copy of the
            // same source has it too): the outcome is then unknown, as for
            // a PutObject meeting its bytes without its token. Another
            // ETag there is another writer's object: the refusal stands.
            // Only a plain MD5 ETag is copied as is (a multipart source's
            // `-N` ETag, or an SSE-KMS one, is not): otherwise unknown too.
            Err(e) if e.is_precondition_failed() && log.answer_lost => {
                let source = self.head_object(bucket, from_key).await?;
                let etag = source.etag.unwrap_or_default();
                let etag = crate::etag_value(&etag);
                let comparable = is_plain_md5(etag) && self.config().sse_kms_key_id.is_none();
                let mark = Mark {
                    token: None,
                    etag: comparable.then_some(etag),
                    replaces: false,
                };
                let found = match comparable {
                    true => match self.written_by(bucket, to_key, mark).await {
                        Found::Ours(_) => Found::Unknown(
                            "the object there has the source's bytes, but a copy carries no token of its own: this copy's, or another writer's copy of the same source".to_owned(),
                        ),
                        other => other,
                    },
                    false => Found::Unknown(format!(
                        "the source's ETag {etag} is not an MD5 of its bytes (a multipart or encrypted object), so whether this copy wrote the object there cannot be told"
                    )),
                };
                found.resolve(self, &request, e).map(|_| ())
            }
            other => {
                // S3 answers every copy it made with a <CopyObjectResult>;
                // an empty 2xx made none.
                let (_, body) = other?;
                let text = std::str::from_utf8(&body).unwrap_or_default();
                xml::parse::<xml::CopyObjectResult>(text)
                    .map(|_| ())
                    .map_err(|detail| self.invalid_response(&request, detail))
            }
        }
    }

    /// DeleteObject. Deleting a missing key succeeds, as in S3.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        check_object(bucket, key)?;
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
        request = request.header(IF_MATCH, crate::etag::if_match_header(etag));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_reads_headers_and_length_is_required() {
        let mut h = HeaderMap::new();
        h.insert(
            LAST_MODIFIED,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert!(
            required_length(&h, None).is_err(),
            "no Content-Length is no size"
        );
        assert_eq!(required_length(&h, Some(7)), Ok(7), "the planned size then");
        h.insert(http::header::CONTENT_LENGTH, "10".parse().unwrap());
        assert_eq!(
            required_length(&h, Some(7)),
            Ok(10),
            "the answer's own size first"
        );
        let meta = object_meta("k", &h, 100);
        assert_eq!(meta.size, 100);
        assert!(meta.last_modified.is_some());
    }
}
