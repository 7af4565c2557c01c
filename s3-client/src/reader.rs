//! Parallel ranged reads: a large object fetched as concurrent ranged GETs
//! delivered in order, and many small ranges coalesced into few requests
//! (what a Parquet reader asks for).

use std::ops::Range;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use crate::client::S3Client;
use crate::content_range::check_pinned;
use crate::error::{Error, Result};
use crate::model::{ByteRange, GetObjectRequest, ObjectMeta, ObjectVersion};
use crate::url::ShownKey;

/// Splits `range` into chunks of at most `chunk` bytes, lazily: the range
/// may come from a server's Content-Length, so no more of it is held than
/// is being read.
pub fn split_range(range: Range<u64>, chunk: u64) -> impl Iterator<Item = Range<u64>> + Send {
    let chunk = chunk.max(1);
    let mut start = range.start;
    std::iter::from_fn(move || {
        (start < range.end).then(|| {
            let end = start.saturating_add(chunk).min(range.end);
            let piece = start..end;
            start = end;
            piece
        })
    })
}

/// Merges ranges closer than `gap` bytes (after sorting), so a reader asking
/// for many small column chunks sends few requests. Returns the merged
/// ranges in order.
pub fn coalesce_ranges(ranges: &[Range<u64>], gap: u64) -> Vec<Range<u64>> {
    let mut sorted: Vec<Range<u64>> = ranges.iter().filter(|r| r.end > r.start).cloned().collect();
    sorted.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<u64>> = Vec::with_capacity(sorted.len());
    for r in sorted {
        match merged.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(gap) => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

/// Why the answers of several GETs, by their ETags, cannot be taken as
/// one version of an object; `None` when they can. ETags are compared as
/// [`check_pinned`](crate::content_range::check_pinned) compares them.
fn one_version(etags: &[Option<&str>]) -> Option<String> {
    let first = *etags.first()?;
    for other in &etags[1..] {
        let differ = match (first, *other) {
            (Some(a), Some(b)) => crate::content_range::check_pinned(Some(a), Some(b)).is_err(),
            (None, None) => false,
            _ => true,
        };
        if differ {
            let name = |e: Option<&str>| e.unwrap_or("none").to_owned();
            return Some(format!(
                "the ranges were answered from two versions (ETags {} and {}; none: the answer had no ETag): the object changed during the read, or the server's answers cannot tell; read it again",
                name(first),
                name(*other)
            ));
        }
    }
    (etags.len() > 1 && first.is_none()).then(|| {
        format!(
            "the {} ranged GETs were answered with no ETag, so nothing shows they read one version of the object (a gateway or cache between strips ETags); read it without that gateway",
            etags.len()
        )
    })
}

impl S3Client {
    /// A read's answers disagree about the object: it changed, or the
    /// server's answers do.
    fn changed_during_read(&self, bucket: &str, key: &str, detail: String) -> Error {
        let request = crate::client::S3Request::new(
            crate::error::Operation::GetObject,
            http::Method::GET,
            bucket,
            Some(key),
        );
        self.invalid_response(&request, detail)
    }

    /// Reads `range` of an object (the whole object when `None`) as ordered
    /// chunks, fetching up to `read.concurrency` chunks at once. Memory is
    /// bounded by `concurrency × chunk_size`. All chunks are pinned to one
    /// ETag, so a concurrent overwrite fails with PreconditionFailed instead
    /// of mixing two versions: the HEAD's (or `meta`'s), else the first
    /// answer's, every answer checked against it.
    pub async fn read_parallel(
        &self,
        bucket: &str,
        key: &str,
        range: Option<Range<u64>>,
        meta: Option<ObjectMeta>,
    ) -> Result<BoxStream<'static, Result<Bytes>>> {
        crate::ops::object::check_object(bucket, key)?;
        let meta = match meta {
            Some(meta) => meta,
            None => self.head_object(bucket, key).await?,
        };
        let range = range.unwrap_or(0..meta.size);
        if range.end > meta.size || range.start > range.end {
            return Err(Error::InvalidArgument(format!(
                "range {}..{} lies outside s3://{bucket}/{} ({} bytes)",
                range.start,
                range.end,
                ShownKey(key),
                meta.size
            )));
        }
        let read = &self.config().read;
        let several = range.end - range.start > read.chunk_size;
        let chunks = split_range(range, read.chunk_size);
        let client = self.clone();
        let bucket = bucket.to_owned();
        let key = key.to_owned();
        let size = meta.size;
        // The version every chunk must be of: known from the HEAD, or set
        // by the first answer when the HEAD (or `meta`) had no ETag.
        let pinned = Arc::new(std::sync::OnceLock::new());
        if let Some(etag) = meta.etag {
            let _ = pinned.set(etag);
        }
        let stream = stream::iter(chunks)
            .map(move |chunk| {
                let client = client.clone();
                let bucket = bucket.clone();
                let key = key.clone();
                let pinned = Arc::clone(&pinned);
                let req = GetObjectRequest {
                    range: Some(ByteRange::Bounded {
                        start: chunk.start,
                        end: chunk.end,
                    }),
                    if_match: pinned.get().cloned(),
                    ..GetObjectRequest::default()
                };
                async move {
                    let output = client.get_object(&bucket, &key, &req).await?;
                    // Pinned after the request went: check the answer too.
                    let answered = output.meta.etag.as_deref();
                    if several && answered.is_none() {
                        let detail = "a ranged GET of a read in several chunks was answered with no ETag, so nothing shows the chunks are of one version (a gateway or cache between strips ETags); read it without that gateway";
                        return Err(client.changed_during_read(&bucket, &key, detail.to_owned()));
                    }
                    if let Some(have) = answered {
                        let want = pinned.get_or_init(|| have.to_owned());
                        check_pinned(Some(want), Some(have)).map_err(|detail| {
                            // A chunk sent before any answer carried no
                            // If-Match for the server to ignore.
                            let detail = match req.if_match {
                                Some(_) => detail,
                                None => format!(
                                    "chunks of two versions, ETags {want} and {have}: the object changed during the read; read it again"
                                ),
                            };
                            client.changed_during_read(&bucket, &key, detail)
                        })?;
                    }
                    // The chunks were cut from `size`: an answer about an
                    // object of another size (replaced without an ETag to
                    // pin it, or a HEAD that lied) would splice versions
                    // or end the read early, silently.
                    if output.meta.size != size {
                        return Err(client.changed_during_read(
                            &bucket,
                            &key,
                            format!(
                                "the object is {} bytes by its ranged GET's Content-Range, {size} when the read began: it changed during the read, or the server's sizes disagree; read it again",
                                output.meta.size
                            ),
                        ));
                    }
                    output.body.collect().await
                }
            })
            .buffered(read.concurrency.max(1));
        Ok(stream.boxed())
    }

    /// Reads a whole object (or a range of it) into memory with parallel
    /// ranged GETs.
    pub async fn read_to_bytes(
        &self,
        bucket: &str,
        key: &str,
        range: Option<Range<u64>>,
    ) -> Result<Bytes> {
        let stream = self.read_parallel(bucket, key, range, None).await?;
        let chunks: Vec<Bytes> = stream.try_collect().await?;
        if chunks.len() == 1 {
            return Ok(chunks.into_iter().next().unwrap_or_default());
        }
        let mut buf = BytesMut::with_capacity(chunks.iter().map(Bytes::len).sum());
        for chunk in chunks {
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }

    /// Fetches several ranges of one object, coalescing nearby ones and
    /// fetching the merged ranges concurrently. Returns one buffer per
    /// requested range, in the order asked.
    pub async fn get_ranges(
        &self,
        bucket: &str,
        key: &str,
        ranges: &[Range<u64>],
    ) -> Result<Vec<Bytes>> {
        self.get_ranges_if_match(bucket, key, ranges, None).await
    }

    /// [`Self::get_ranges`] of the listed `version` when given: every GET
    /// carries `If-Match` with its ETag, so an object replaced since it was
    /// listed fails with PreconditionFailed, and every answer must give its
    /// size, so a stale listing or a gateway serving a cut copy is an error
    /// rather than a read that ends early. Ranges closer than
    /// `read.coalesce_gap` are fetched as one GET, up to `read.concurrency`
    /// at once. Unpinned, the answers must still agree on one ETag.
    pub async fn get_ranges_if_match(
        &self,
        bucket: &str,
        key: &str,
        ranges: &[Range<u64>],
        version: Option<&ObjectVersion>,
    ) -> Result<Vec<Bytes>> {
        crate::ops::object::check_object(bucket, key)?;
        if let Some(r) = ranges.iter().find(|r| r.start > r.end) {
            return Err(Error::InvalidArgument(format!(
                "range {}..{} of s3://{bucket}/{} ends before it starts",
                r.start,
                r.end,
                ShownKey(key)
            )));
        }
        let read = &self.config().read;
        let merged = coalesce_ranges(ranges, read.coalesce_gap);
        let fetched: Vec<(Option<String>, Bytes)> = stream::iter(merged.iter().cloned())
            .map(|r| async move {
                let req = GetObjectRequest {
                    range: Some(ByteRange::Bounded {
                        start: r.start,
                        end: r.end,
                    }),
                    if_match: version.and_then(|v| v.etag.clone()),
                    size: version.map(|v| v.size),
                    ..GetObjectRequest::default()
                };
                let output = self.get_object(bucket, key, &req).await?;
                Ok::<_, Error>((output.meta.etag, output.body.collect().await?))
            })
            .buffered(read.concurrency.max(1))
            .try_collect()
            .await?;
        // One version: answers of two ETags would splice an object
        // replaced between the requests, and answers without an ETag (a
        // gateway stripping it) cannot show theirs, as for a pinned read.
        // (Each answer to a pinned GET was checked against the pin.)
        let etags: Vec<Option<&str>> = fetched.iter().map(|(e, _)| e.as_deref()).collect();
        if let Some(detail) = one_version(&etags) {
            let request = crate::client::S3Request::new(
                crate::error::Operation::GetObject,
                http::Method::GET,
                bucket,
                Some(key),
            );
            return Err(self.invalid_response(&request, detail));
        }
        let fetched: Vec<Bytes> = fetched.into_iter().map(|(_, bytes)| bytes).collect();
        ranges
            .iter()
            .map(|r| {
                if r.end <= r.start {
                    return Ok(Bytes::new());
                }
                // Every requested range lies inside exactly one merged range.
                let i = merged.partition_point(|m| m.end < r.end);
                let m = merged
                    .get(i)
                    .filter(|m| m.start <= r.start && r.end <= m.end);
                let (m, data) = match (m, fetched.get(i)) {
                    (Some(m), Some(data)) => (m, data),
                    _ => {
                        return Err(Error::InvalidArgument(format!(
                            "range {}..{} could not be mapped",
                            r.start, r.end
                        )));
                    }
                };
                let start = (r.start - m.start) as usize;
                let end = (r.end - m.start) as usize;
                if end > data.len() {
                    return Err(Error::InvalidArgument(format!(
                        "range {}..{} lies beyond the end of s3://{bucket}/{}",
                        r.start,
                        r.end,
                        ShownKey(key)
                    )));
                }
                Ok(data.slice(start..end))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_one_version_only_when_their_etags_show_it() {
        assert_eq!(one_version(&[]), None);
        assert_eq!(one_version(&[None]), None);
        assert_eq!(one_version(&[Some("\"a\""), Some("a")]), None);
        for refused in [
            &[Some("\"a\""), Some("\"b\"")][..],
            &[None, Some("\"a\"")],
            &[Some("\"a\""), None],
            &[None, None],
        ] {
            assert!(one_version(refused).is_some(), "{refused:?}");
        }
    }

    #[test]
    fn splits_and_coalesces() {
        let split = |r, chunk| split_range(r, chunk).collect::<Vec<_>>();
        assert_eq!(split(0..10, 4), vec![0..4, 4..8, 8..10]);
        assert_eq!(split(5..5, 4), Vec::<Range<u64>>::new());
        // At the top of u64, no overflow and no endless loop.
        assert_eq!(
            split(u64::MAX - 1..u64::MAX, 8),
            vec![u64::MAX - 1..u64::MAX]
        );
        assert_eq!(split(u64::MAX - 9..u64::MAX, 8).len(), 2);
        // A server's absurd size costs nothing until it is read.
        assert_eq!(split_range(0..u64::MAX, 1).nth(2), Some(2..3));
        assert_eq!(
            coalesce_ranges(&[20..30, 0..10, 12..15, 100..110], 5),
            vec![0..30, 100..110]
        );
        assert_eq!(coalesce_ranges(&[0..10, 2..4], 0), vec![0..10]);
    }
}
