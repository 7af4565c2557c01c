//! Multipart upload: CreateMultipartUpload, UploadPart,
//! CompleteMultipartUpload, AbortMultipartUpload, ListMultipartUploads.

use bytes::Bytes;
use http::Method;
use http::header::ETAG;
use md5::{Digest, Md5};

use crate::client::{LostAnswer, RetryLog, S3Client, S3Request};
use crate::error::{Error, Operation, Result};
use crate::model::{CompletedPart, MultipartUpload, PutObjectOutput, PutObjectRequest};
use crate::ops::object::{check_bucket, check_object, write_headers};
use crate::ops::paging::Pager;
use crate::xml;

impl S3Client {
    /// CreateMultipartUpload: returns the upload id.
    pub async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        put: &PutObjectRequest,
    ) -> Result<String> {
        check_object(bucket, key)?;
        let req = S3Request::new(
            Operation::CreateMultipartUpload,
            Method::POST,
            bucket,
            Some(key),
        )
        .query("uploads", "")
        .lost_answer(LostAnswer::Resolve);
        let req = write_headers(self, req, put);
        let started = std::time::Instant::now();
        let mut log = RetryLog::default();
        let (parts, body) = self.send_collect_logged(&req, &mut log).await?;
        let text = String::from_utf8_lossy(&body);
        let result = xml::parse::<xml::InitiateMultipartUploadResult>(&text)
            .map_err(|d| self.invalid_response(&req, d))?;
        if result.upload_id.is_empty() {
            return Err(self.invalid_response(&req, "no UploadId in the response"));
        }
        if log.answer_lost {
            let server_now = parts
                .headers
                .get(http::header::DATE)
                .and_then(|d| d.to_str().ok())
                .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
                .map(|d| d.with_timezone(&chrono::Utc));
            self.abort_lost_uploads(
                bucket,
                key,
                &result.upload_id,
                server_now,
                started.elapsed(),
            )
            .await;
        }
        Ok(result.upload_id)
    }

    /// After a CreateMultipartUpload whose first answer was lost: aborts the
    /// uploads of `key` the server started while this call ran (by the
    /// server's own clock), other than `ours`, and those whose start time
    /// the server does not track. A writer of the same key in
    /// those few seconds would lose its upload too; two writers of one key
    /// at once conflict anyway. Failures are logged: the write goes on.
    async fn abort_lost_uploads(
        &self,
        bucket: &str,
        key: &str,
        ours: &str,
        server_now: Option<chrono::DateTime<chrono::Utc>>,
        elapsed: std::time::Duration,
    ) {
        // Initiated times have whole seconds: a second of slack each way.
        let since = server_now.unwrap_or_else(chrono::Utc::now)
            - chrono::Duration::from_std(elapsed).unwrap_or_default()
            - chrono::Duration::seconds(2);
        let uploads = match self.list_multipart_uploads(bucket, key).await {
            Ok(uploads) => uploads,
            Err(e) => {
                tracing::warn!(bucket, key, error = %e, "could not look for an upload left by a lost CreateMultipartUpload answer");
                return;
            }
        };
        // A server whose Initiated times are a day or more behind its own
        // clock does not track them (moto reports a fixed 2010 date): its
        // uploads of this key count as left by this call too.
        let untracked = since - chrono::Duration::days(1);
        let lost = uploads.into_iter().filter(|u| {
            u.key == key
                && u.upload_id != ours
                && u.initiated.is_none_or(|t| t >= since || t < untracked)
        });
        for upload in lost {
            tracing::debug!(
                bucket,
                key,
                "aborting the upload of a lost CreateMultipartUpload answer"
            );
            if let Err(e) = self
                .abort_multipart_upload(bucket, key, &upload.upload_id)
                .await
            {
                tracing::warn!(bucket, key, error = %e, "could not abort an upload left by a lost CreateMultipartUpload answer");
            }
        }
    }

    /// UploadPart: returns the part's ETag for CompleteMultipartUpload.
    pub async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: Bytes,
    ) -> Result<CompletedPart> {
        check_object(bucket, key)?;
        if !(1..=10_000).contains(&part_number) {
            return Err(Error::InvalidArgument(format!(
                "part number {part_number} is outside S3's 1..=10000; raise the part size (s3_uploader_max_filesize / s3_uploader_max_parts_per_file)"
            )));
        }
        let req = S3Request::new(Operation::UploadPart, Method::PUT, bucket, Some(key))
            .query("partNumber", part_number.to_string())
            .query("uploadId", upload_id)
            .body(body);
        let (parts, _) = self.send_collect(&req).await?;
        let etag = parts
            .headers
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| self.invalid_response(&req, "UploadPart returned no ETag"))?;
        Ok(CompletedPart { part_number, etag })
    }

    /// CompleteMultipartUpload. A 200 whose body is an `<Error>` is an error
    /// (and retried when the code says the server failed).
    pub async fn complete_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<PutObjectOutput> {
        check_object(bucket, key)?;
        let mut sorted = parts.to_vec();
        sorted.sort_by_key(|p| p.part_number);
        let req = S3Request::new(
            Operation::CompleteMultipartUpload,
            Method::POST,
            bucket,
            Some(key),
        )
        .query("uploadId", upload_id)
        .header(http::header::CONTENT_TYPE, "application/xml")
        .body(Bytes::from(xml::complete_multipart_body(&sorted)))
        .error_in_ok()
        .lost_answer(LostAnswer::Resolve);
        let body = match self.send_collect(&req).await {
            Ok((_, body)) => body,
            Err(e) if e.code() == Some("NoSuchUpload") => {
                return self.completed_before(bucket, key, &sorted).await.ok_or(e);
            }
            Err(e) => return Err(e),
        };
        let text = String::from_utf8_lossy(&body);
        let result = xml::parse::<xml::CompleteMultipartUploadResult>(&text)
            .map_err(|d| self.invalid_response(&req, d))?;
        Ok(PutObjectOutput {
            etag: result.etag,
            version_id: None,
        })
    }

    /// After NoSuchUpload from Complete: whether an earlier attempt already
    /// completed this upload and only its answer was lost (a retry after a
    /// cut response finds the upload gone). It did when the object's ETag is
    /// the one S3 gives the assembled parts: the MD5 of their MD5s, `-N`.
    /// Parts whose ETags are not MD5s (SSE-KMS) cannot be checked: `None`.
    async fn completed_before(
        &self,
        bucket: &str,
        key: &str,
        parts: &[CompletedPart],
    ) -> Option<PutObjectOutput> {
        let expected = multipart_etag(parts)?;
        let meta = self.head_object(bucket, key).await.ok()?;
        let found = meta.etag?;
        (found.trim_matches('"') == expected).then(|| {
            tracing::debug!(bucket, key, "CompleteMultipartUpload had already succeeded");
            PutObjectOutput {
                etag: Some(found),
                version_id: meta.version_id,
            }
        })
    }

    /// AbortMultipartUpload: discards the parts. Aborting an upload that no
    /// longer exists succeeds, so cleanup can be repeated safely.
    pub async fn abort_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<()> {
        check_object(bucket, key)?;
        let req = S3Request::new(
            Operation::AbortMultipartUpload,
            Method::DELETE,
            bucket,
            Some(key),
        )
        .query("uploadId", upload_id);
        match self.send_collect(&req).await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("NoSuchUpload") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// ListMultipartUploads under `prefix`, all pages.
    pub async fn list_multipart_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<MultipartUpload>> {
        check_bucket(bucket)?;
        let mut uploads = Vec::new();
        let mut pager: Pager<(String, String)> = Pager::new();
        while !pager.is_done() {
            let mut req =
                S3Request::new(Operation::ListMultipartUploads, Method::GET, bucket, None)
                    .query("uploads", "");
            if !prefix.is_empty() {
                req = req.query("prefix", prefix);
            }
            if let Some((key_marker, upload_marker)) = pager.token() {
                req = req
                    .query("key-marker", key_marker.clone())
                    .query("upload-id-marker", upload_marker.clone());
            }
            let (_, body) = self.send_collect(&req).await?;
            let text = String::from_utf8_lossy(&body);
            let (page, truncated, next) = xml::parse::<xml::ListMultipartUploadsResult>(&text)
                .map_err(|d| self.invalid_response(&req, d))?
                .into_parts();
            uploads.extend(page);
            pager
                .advance(truncated, next)
                .map_err(|d| self.invalid_response(&req, d))?;
        }
        Ok(uploads)
    }
}

/// The ETag S3 gives an object assembled from `parts` (sorted by number):
/// hex MD5 of the concatenated binary part MD5s, then `-<count>`. `None`
/// when a part's ETag is not a plain MD5 (encrypted uploads).
fn multipart_etag(parts: &[CompletedPart]) -> Option<String> {
    let mut digest = Md5::new();
    for part in parts {
        let hex = part.etag.trim_matches('"');
        if hex.len() != 32 {
            return None;
        }
        for pair in hex.as_bytes().chunks(2) {
            let text = std::str::from_utf8(pair).ok()?;
            digest.update([u8::from_str_radix(text, 16).ok()?]);
        }
    }
    let hex: String = digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(format!("{hex}-{}", parts.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(n: u32, etag: &str) -> CompletedPart {
        CompletedPart {
            part_number: n,
            etag: etag.to_owned(),
        }
    }

    #[test]
    fn multipart_etag_is_the_md5_of_part_md5s() {
        // Two parts whose MD5s are those of "a" and "b".
        let parts = [
            part(1, "\"0cc175b9c0f1b6a831c399e269772661\""),
            part(2, "92eb5ffee6ae2fec3ad71c777531578f"),
        ];
        let mut expected = Md5::new();
        expected.update(Md5::digest(b"a"));
        expected.update(Md5::digest(b"b"));
        let hex: String = expected
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(multipart_etag(&parts), Some(format!("{hex}-2")));
        assert_eq!(multipart_etag(&[part(1, "\"not-an-md5\"")]), None);
        assert_eq!(multipart_etag(&[part(1, &"zz".repeat(16))]), None);
    }
}
