//! Multipart upload: CreateMultipartUpload, UploadPart,
//! CompleteMultipartUpload, AbortMultipartUpload, ListMultipartUploads.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::Method;
use http::header::ETAG;
use md5::{Digest, Md5};

use crate::client::{LostAnswer, RetryLog, S3Client, S3Request};
use crate::error::{Error, Operation, Result};
use crate::model::{CompletedPart, MultipartUpload, PutObjectOutput, PutObjectRequest};
use crate::ops::lost::{Found, Mark, WRITE_TOKEN, is_plain_md5, new_write_token};
use crate::ops::object::{
    check_bucket, check_kms_answer, check_object, header_str, write_conditions, write_headers,
};
use crate::ops::paging::{PageKeys, Pager};
use crate::xml;

impl S3Client {
    /// CreateMultipartUpload: returns the upload id. `put`'s conditions are
    /// not sent here (S3 ignores them on this request): pass the same
    /// `put` to [`S3Client::complete_multipart_upload_if`], where S3
    /// evaluates them.
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
        // The object Complete makes carries the token (see `WRITE_TOKEN`).
        let token = new_write_token();
        let req = write_headers(self, req, put)?
            .header(http::HeaderName::from_static(WRITE_TOKEN), token.clone());
        let started = std::time::Instant::now();
        let mut log = RetryLog::default();
        let (parts, body) = match self.send_collect_logged(&req, &mut log).await {
            Ok(answer) => answer,
            Err(e) => {
                // Every attempt may have started an upload whose id never
                // arrived: none of them is ours, all are orphans.
                if log.answer_lost {
                    self.abort_lost_uploads(bucket, key, "", None, started.elapsed())
                        .await;
                }
                return Err(e);
            }
        };
        let text = String::from_utf8_lossy(&body);
        let result = xml::parse::<xml::InitiateMultipartUploadResult>(&text)
            .map_err(|d| self.invalid_response(&req, d))?;
        if result.upload_id.is_empty() {
            return Err(self.invalid_response(&req, "no UploadId in the response"));
        }
        // Before any byte goes: a server ignoring SSE-KMS.
        let outcome = "nothing was uploaded, and the upload it started was aborted";
        if let Err(e) = check_kms_answer(self, &req, put, &parts.headers, outcome) {
            if let Err(abort) = self
                .abort_multipart_upload(bucket, key, &result.upload_id)
                .await
            {
                tracing::warn!(bucket, key = %crate::url::ShownKey(key), error = %abort, "could not abort an upload whose server ignored SSE-KMS");
            }
            return Err(e);
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
        self.remember_write_token(&result.upload_id, token);
        Ok(result.upload_id)
    }

    /// Keeps the write token of an upload this client started, for
    /// [`Self::completed_before`]; forgotten when the upload ends.
    fn remember_write_token(&self, upload_id: &str, token: String) {
        if let Ok(mut tokens) = self.inner.upload_tokens.lock() {
            // Uploads started and never ended must not grow this forever:
            // past the bound, a lost Complete falls back on the ETag.
            if tokens.len() < MAX_REMEMBERED_UPLOADS {
                tokens.insert(upload_id.to_owned(), token);
            }
        }
    }

    fn forget_write_token(&self, upload_id: &str) -> Option<String> {
        self.inner
            .upload_tokens
            .lock()
            .ok()
            .and_then(|mut tokens| tokens.remove(upload_id))
    }

    /// After a CreateMultipartUpload whose first answer was lost: aborts the
    /// uploads of `key` the server started while this call ran (by the
    /// server's own clock), other than `ours`, and on a server that does
    /// not track start times its uploads of `key` (see
    /// [`left_by_lost_create`]). A writer of the same key in
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
        let lost = left_by_lost_create(uploads, key, ours, since);
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
        self.complete_multipart_upload_if(
            bucket,
            key,
            upload_id,
            parts,
            &PutObjectRequest::default(),
        )
        .await
    }

    /// CompleteMultipartUpload with the conditions of `put`
    /// (`If-None-Match: *`, `If-Match`), which S3 evaluates here: a 412
    /// leaves the upload open (abort it) and the existing object intact.
    /// NoSuchUpload, or any failure after an attempt whose answer was
    /// lost (a 412, the retries' answers lost too), is success when the
    /// object is the one these parts make, [`Error::OutcomeUnknown`] when
    /// that cannot be told.
    pub async fn complete_multipart_upload_if(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
        put: &PutObjectRequest,
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
        let req = write_conditions(req, put);
        let mut log = RetryLog::default();
        let (parts, body) = match self.send_collect_logged(&req, &mut log).await {
            Ok(answer) => answer,
            // After a lost answer, any failure (a 412, every retry's
            // answer lost too) may follow a Complete that was done.
            Err(e) if e.code() == Some("NoSuchUpload") || log.answer_lost => {
                let replaces = put.if_match.is_some();
                let found = self
                    .completed_before(bucket, key, upload_id, &sorted, replaces)
                    .await;
                self.forget_write_token(upload_id);
                return found.resolve(self, &req, e);
            }
            Err(e) => return Err(e),
        };
        self.forget_write_token(upload_id);
        let text = String::from_utf8_lossy(&body);
        let result = xml::parse::<xml::CompleteMultipartUploadResult>(&text)
            .map_err(|d| self.invalid_response(&req, d))?;
        Ok(PutObjectOutput {
            etag: result.etag,
            version_id: header_str(&parts.headers, "x-amz-version-id").map(str::to_owned),
        })
    }

    /// After NoSuchUpload (or any failure after a lost answer) from Complete:
    /// whether an earlier attempt already completed this upload and only
    /// its answer was lost. The object tells by the write token its upload
    /// was started with, when this client started it; otherwise by its
    /// ETag, the one S3 gives the assembled parts (the MD5 of their MD5s,
    /// `-N`), which holds only when the parts' ETags are MD5s: not under
    /// SSE-KMS, where the outcome is unknown. `replaces`: the upload
    /// replaces a version it named (see [`Mark::replaces`]).
    async fn completed_before(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
        replaces: bool,
    ) -> Found {
        let token = self
            .inner
            .upload_tokens
            .lock()
            .ok()
            .and_then(|tokens| tokens.get(upload_id).cloned());
        let comparable = self.config().sse_kms_key_id.is_none()
            && parts
                .iter()
                .all(|p| is_plain_md5(crate::etag_value(&p.etag)));
        let etag = multipart_etag(parts).filter(|_| comparable);
        let mark = Mark {
            token: token.as_deref(),
            etag: etag.as_deref(),
            replaces,
        };
        self.written_by(bucket, key, mark).await
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
        self.forget_write_token(upload_id);
        match self.send_collect(&req).await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("NoSuchUpload") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// ListMultipartUploads under `prefix`, all pages. Keys are requested
    /// URL-encoded and returned decoded, as ListObjectsV2's are.
    pub async fn list_multipart_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<MultipartUpload>> {
        check_bucket(bucket)?;
        let mut uploads = Vec::new();
        let mut pager: Pager<(String, String)> = Pager::with_keys_spanning_pages();
        while !pager.is_done() {
            let mut req =
                S3Request::new(Operation::ListMultipartUploads, Method::GET, bucket, None)
                    .query("uploads", "")
                    .query("encoding-type", "url");
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
            let known_unencoded = self.inner.listing_unencoded.load(Ordering::Relaxed);
            let (page, truncated, next) = xml::parse::<xml::ListMultipartUploadsResult>(&text)
                .and_then(|r| r.into_parts(known_unencoded))
                .map_err(|d| self.invalid_response(&req, d))?;
            let keys = PageKeys::of(page.iter().map(|u| u.key.as_str()));
            pager
                .advance(truncated, next, keys)
                .map_err(|e| self.invalid_response(&req, e.to_string()))?;
            uploads.extend(page);
        }
        Ok(uploads)
    }
}

/// Most upload tokens a client keeps (uploads started and not yet ended).
const MAX_REMEMBERED_UPLOADS: usize = 10_000;

/// The `Initiated` moto reports for every upload: it does not track when
/// an upload started.
const MOTO_INITIATED: &str = "2010-11-10T20:48:33Z";

/// The uploads of `key` a CreateMultipartUpload whose answer was lost
/// left behind: those the server started since `since` (by its clock),
/// other than `ours` (empty when no answer arrived). A server that does
/// not track start times is recognised by the time it reports instead: a
/// day or more before `since` and equal to our own upload's, or moto's
/// fixed one; its uploads of `key` count as left by this call too. Only
/// there can another writer's upload of the same key be taken for an
/// orphan. On S3 an upload older than `since`, however old, is never
/// touched: it belongs to someone else (a long upload of another process),
/// nor is one listed without a start time.
fn left_by_lost_create(
    uploads: Vec<MultipartUpload>,
    key: &str,
    ours: &str,
    since: chrono::DateTime<chrono::Utc>,
) -> Vec<MultipartUpload> {
    let our_start = uploads
        .iter()
        .find(|u| !ours.is_empty() && u.upload_id == ours)
        .and_then(|u| u.initiated);
    let fixed = xml::parse_timestamp(MOTO_INITIATED);
    let day_before = since - chrono::Duration::days(1);
    let untracked = |t: chrono::DateTime<chrono::Utc>| {
        t < day_before && (Some(t) == our_start || Some(t) == fixed)
    };
    uploads
        .into_iter()
        .filter(|u| {
            u.is_of(key)
                && u.upload_id != ours
                && u.initiated.is_some_and(|t| t >= since || untracked(t))
        })
        .collect()
}

/// The ETag S3 gives an object assembled from `parts` (sorted by number):
/// hex MD5 of the concatenated binary part MD5s, then `-<count>`. `None`
/// when a part's ETag is not a plain MD5 (encrypted uploads).
fn multipart_etag(parts: &[CompletedPart]) -> Option<String> {
    let mut digest = Md5::new();
    for part in parts {
        let hex = crate::etag_value(&part.etag);
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

    fn upload(id: &str, initiated: &str) -> MultipartUpload {
        MultipartUpload {
            key: "k".into(),
            upload_id: id.into(),
            initiated: crate::xml::parse_timestamp(initiated),
        }
    }

    fn ids(uploads: Vec<MultipartUpload>) -> Vec<String> {
        uploads.into_iter().map(|u| u.upload_id).collect()
    }

    #[test]
    fn a_lost_create_never_aborts_an_older_upload_of_another_writer() {
        let since = crate::xml::parse_timestamp("2026-12-01T10:00:00Z").unwrap();
        // Real S3: our orphan started during the call; another process's
        // upload of the same key started two days ago and is still going.
        let uploads = vec![
            upload("ours", "2026-12-01T10:00:03Z"),
            upload("orphan", "2026-12-01T10:00:01Z"),
            upload("theirs", "2026-11-29T08:00:00Z"),
            upload("theirs-recent", "2026-12-01T09:59:00Z"),
        ];
        assert_eq!(
            ids(left_by_lost_create(uploads, "k", "ours", since)),
            ["orphan"]
        );
        // moto: every Initiated is the same fixed 2010 time.
        let uploads = vec![
            upload("ours", "2010-11-10T20:48:33.000Z"),
            upload("orphan", "2010-11-10T20:48:33.000Z"),
        ];
        assert_eq!(
            ids(left_by_lost_create(uploads, "k", "ours", since)),
            ["orphan"]
        );
        // No answer at all (every attempt lost): ours is unknown.
        let uploads = vec![
            upload("orphan-1", "2010-11-10T20:48:33.000Z"),
            upload("orphan-2", "2010-11-10T20:48:33.000Z"),
        ];
        assert_eq!(
            ids(left_by_lost_create(uploads, "k", "", since)),
            ["orphan-1", "orphan-2"]
        );
        let uploads = vec![upload("theirs", "2026-11-29T08:00:00Z")];
        assert!(left_by_lost_create(uploads, "k", "", since).is_empty());
        // Listed without a start time (or an unreadable one): not ours to end.
        let uploads = vec![upload("unknown", "")];
        assert!(left_by_lost_create(uploads, "k", "", since).is_empty());
    }

    /// Captured once from moto 5 (CompleteMultipartUpload and HEAD) for
    /// part 1 = 5 MiB of `a`, part 2 = `b`: a value the formula did not make.
    const MOTO_ETAG_5MIB_A_THEN_B: &str = "e5a8c5272b26fc10581a21089559b006-2";

    #[test]
    fn multipart_etag_equals_a_value_captured_from_moto() {
        let parts = [
            part(1, "\"79b281060d337b9b2b84ccf390adcf74\""),
            part(2, "\"92eb5ffee6ae2fec3ad71c777531578f\""),
        ];
        assert_eq!(
            multipart_etag(&parts).as_deref(),
            Some(MOTO_ETAG_5MIB_A_THEN_B)
        );
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
