//! ListObjectsV2 (a page, or a stream of pages) and DeleteObjects.

use std::sync::atomic::Ordering;

use base64::Engine;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use http::Method;
use md5::{Digest, Md5};

use crate::client::{LostAnswer, S3Client, S3Request};
use crate::error::{Error, Operation, Result};
use crate::model::{DeleteObjectError, ListObjectsV2Page, ListObjectsV2Request};
use crate::ops::object::{check_bucket, check_object};
use crate::ops::paging::Pager;
use crate::xml;

/// DeleteObjects takes at most this many keys per request.
pub const DELETE_OBJECTS_BATCH: usize = 1000;

impl S3Client {
    /// One ListObjectsV2 page. Keys are requested URL-encoded (so any key
    /// survives XML) and returned decoded.
    pub async fn list_objects_v2_page(
        &self,
        bucket: &str,
        request: &ListObjectsV2Request,
        continuation_token: Option<&str>,
    ) -> Result<ListObjectsV2Page> {
        check_bucket(bucket)?;
        let mut req = S3Request::new(Operation::ListObjectsV2, Method::GET, bucket, None)
            .query("list-type", "2")
            .query("encoding-type", "url");
        if let Some(prefix) = request.prefix.as_deref().filter(|p| !p.is_empty()) {
            req = req.query("prefix", prefix);
        }
        if let Some(delimiter) = &request.delimiter {
            req = req.query("delimiter", delimiter.clone());
        }
        // A start-after sorting before the prefix excludes nothing, and
        // some servers answer it with no keys at all: leave it out.
        let prefix = request.prefix.as_deref().unwrap_or("");
        if let Some(start_after) = request
            .start_after
            .as_ref()
            .filter(|s| !s.is_empty() && s.as_str() >= prefix)
        {
            req = req.query("start-after", start_after.clone());
        }
        if let Some(max_keys) = request.max_keys {
            req = req.query("max-keys", max_keys.to_string());
        }
        if let Some(token) = continuation_token {
            req = req.query("continuation-token", token);
        }
        let target = self.target(&req);
        let (_, body) = self.send_collect(&req).await?;
        let text = std::str::from_utf8(&body).map_err(|_| Error::InvalidResponse {
            target: Box::new(target.clone()),
            detail: "listing is not UTF-8".into(),
        })?;
        let invalid = |detail| Error::InvalidResponse {
            target: Box::new(target.clone()),
            detail,
        };
        let result = xml::parse::<xml::ListBucketResult>(text).map_err(invalid)?;
        // A server that echoes EncodingType=url over raw keys once is
        // remembered: a later page whose keys all look encoded (`a+b.csv`)
        // is read as it is too.
        if result.claim_is_false() && !self.inner.listing_unencoded.swap(true, Ordering::Relaxed) {
            tracing::debug!(
                bucket,
                "the server echoes EncodingType=url without encoding keys; reading listed keys as they are"
            );
        }
        let known_unencoded = self.inner.listing_unencoded.load(Ordering::Relaxed);
        result.into_page_from(known_unencoded).map_err(invalid)
    }

    /// A whole ListObjectsV2 listing as a stream of pages: the first page is
    /// usable before the listing ends, and memory holds one page at a time.
    pub fn list_objects_v2(
        &self,
        bucket: &str,
        request: ListObjectsV2Request,
    ) -> BoxStream<'static, Result<ListObjectsV2Page>> {
        let client = self.clone();
        let bucket = bucket.to_owned();
        futures::stream::unfold(Pager::new(), move |mut pager| {
            let client = client.clone();
            let bucket = bucket.clone();
            let request = request.clone();
            async move {
                if pager.is_done() {
                    return None;
                }
                let page = client
                    .list_objects_v2_page(&bucket, &request, pager.token().map(String::as_str))
                    .await;
                let mut page = match page {
                    Ok(page) => page,
                    Err(e) => {
                        pager.stop();
                        return Some((Err(e), pager));
                    }
                };
                let next = page.next_continuation_token.clone();
                let keys = page.objects.iter().map(|o| o.key.as_str());
                if let Err(e) = pager.accept_page(keys, &mut page.common_prefixes, next) {
                    let req = S3Request::new(Operation::ListObjectsV2, Method::GET, &bucket, None);
                    return Some((Err(client.invalid_response(&req, e.to_string())), pager));
                }
                Some((Ok(page), pager))
            }
        })
        .boxed()
    }

    /// DeleteObjects in batches of 1000; returns the keys that could not be
    /// deleted (missing keys count as deleted, as in S3).
    pub async fn delete_objects<S: AsRef<str>>(
        &self,
        bucket: &str,
        keys: &[S],
    ) -> Result<Vec<DeleteObjectError>> {
        check_bucket(bucket)?;
        for key in keys {
            check_object(bucket, key.as_ref())?;
        }
        // A key XML cannot carry goes by DeleteObject: in the batch it
        // would make the whole body MalformedXML.
        let (batchable, alone): (Vec<&str>, Vec<&str>) = keys
            .iter()
            .map(AsRef::as_ref)
            .partition(|k| xml::xml_can_carry(k));
        for key in alone {
            self.delete_object(bucket, key).await?;
        }
        let mut failed = Vec::new();
        for batch in batchable.chunks(DELETE_OBJECTS_BATCH) {
            let body = Bytes::from(xml::delete_body(batch));
            // S3 requires an integrity header on DeleteObjects.
            let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&body));
            let req = S3Request::new(Operation::DeleteObjects, Method::POST, bucket, None)
                .query("delete", "")
                .header(http::HeaderName::from_static("content-md5"), md5)
                .header(http::header::CONTENT_TYPE, "application/xml")
                .body(body)
                .error_in_ok()
                // Deleting twice deletes once.
                .lost_answer(LostAnswer::Repeat);
            let target = self.target(&req);
            let (_, body) = self.send_collect(&req).await?;
            let text = String::from_utf8_lossy(&body);
            // S3 always answers with a <DeleteResult> (an empty one in
            // Quiet mode): an empty answer is a server or gateway that did
            // not run the delete, never "everything deleted".
            let detail = match text.trim().is_empty() {
                true => Err("DeleteObjects was answered with no <DeleteResult>, so nothing is known to be deleted; is the endpoint an S3 server?".to_owned()),
                false => xml::parse::<xml::DeleteResult>(&text),
            };
            let result = detail.map_err(|detail| Error::InvalidResponse {
                target: Box::new(target),
                detail,
            })?;
            for error in result.into_errors() {
                failed.extend(asked_keys_of(error, batch));
            }
        }
        Ok(failed)
    }
}

/// A DeleteObjects `error` as failures of the keys of `batch` it names,
/// each under the key as asked: a server writing a key raw in its
/// `<DeleteResult>` gives a CR back as LF ([`xml::names_key`]). Every key
/// it may name failed (`a\rb` and `a\nb` both, for `a\nb`), so none is
/// reported deleted while still there. An error naming no key asked for
/// is kept as it is.
fn asked_keys_of(error: DeleteObjectError, batch: &[&str]) -> Vec<DeleteObjectError> {
    let named: Vec<DeleteObjectError> = batch
        .iter()
        .filter(|k| xml::names_key(&error.key, k))
        .map(|k| DeleteObjectError {
            key: (*k).to_owned(),
            ..error.clone()
        })
        .collect();
    if named.is_empty() { vec![error] } else { named }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delete_error_is_reported_under_the_key_asked_for() {
        let error = |key: &str| DeleteObjectError {
            key: key.into(),
            code: "AccessDenied".into(),
            message: String::new(),
        };
        let keys = |errors: Vec<DeleteObjectError>| -> Vec<String> {
            errors.into_iter().map(|e| e.key).collect()
        };
        let batch = ["a\rb", "c\r\nd", "a\nb", "plain"];
        assert_eq!(keys(asked_keys_of(error("plain"), &batch)), ["plain"]);
        assert_eq!(keys(asked_keys_of(error("c\nd"), &batch)), ["c\r\nd"]);
        // Raw `a\nb` may be either: both failed.
        assert_eq!(keys(asked_keys_of(error("a\nb"), &batch)), ["a\rb", "a\nb"]);
        assert_eq!(keys(asked_keys_of(error("a\rb"), &batch)), ["a\rb"]);
        assert_eq!(keys(asked_keys_of(error("a\nb"), &batch[..2])), ["a\rb"]);
        assert_eq!(keys(asked_keys_of(error("zzz"), &batch)), ["zzz"]);
    }
}
