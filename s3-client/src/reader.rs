//! Parallel ranged reads: a large object fetched as concurrent ranged GETs
//! delivered in order, and many small ranges coalesced into few requests
//! (what a Parquet reader asks for).

use std::ops::Range;

use bytes::{Bytes, BytesMut};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use crate::client::S3Client;
use crate::error::{Error, Result};
use crate::model::{ByteRange, GetObjectRequest, ObjectMeta};

/// Splits `range` into chunks of at most `chunk` bytes.
pub fn split_range(range: Range<u64>, chunk: u64) -> Vec<Range<u64>> {
    let chunk = chunk.max(1);
    let mut out = Vec::new();
    let mut start = range.start;
    while start < range.end {
        let end = (start + chunk).min(range.end);
        out.push(start..end);
        start = end;
    }
    out
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

impl S3Client {
    /// Reads `range` of an object (the whole object when `None`) as ordered
    /// chunks, fetching up to `read.concurrency` chunks at once. Memory is
    /// bounded by `concurrency × chunk_size`. All chunks are pinned to one
    /// ETag, so a concurrent overwrite fails with PreconditionFailed instead
    /// of mixing two versions.
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
                "range {}..{} lies outside s3://{bucket}/{key} ({} bytes)",
                range.start, range.end, meta.size
            )));
        }
        let read = &self.config().read;
        let chunks = split_range(range, read.chunk_size);
        let client = self.clone();
        let bucket = bucket.to_owned();
        let key = key.to_owned();
        let etag = meta.etag;
        let size = meta.size;
        let stream = stream::iter(chunks)
            .map(move |chunk| {
                let client = client.clone();
                let bucket = bucket.clone();
                let key = key.clone();
                let req = GetObjectRequest {
                    range: Some(ByteRange::Bounded {
                        start: chunk.start,
                        end: chunk.end,
                    }),
                    if_match: etag.clone(),
                    ..GetObjectRequest::default()
                };
                async move {
                    let output = client.get_object(&bucket, &key, &req).await?;
                    // The chunks were cut from `size`: an answer about an
                    // object of another size (replaced without an ETag to
                    // pin it, or a HEAD that lied) would splice versions
                    // or end the read early, silently.
                    if output.meta.size != size {
                        let request = crate::client::S3Request::new(
                            crate::error::Operation::GetObject,
                            http::Method::GET,
                            &bucket,
                            Some(&key),
                        );
                        return Err(client.invalid_response(
                            &request,
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
        crate::ops::object::check_object(bucket, key)?;
        let read = &self.config().read;
        let merged = coalesce_ranges(ranges, read.coalesce_gap);
        let fetched: Vec<Bytes> = stream::iter(merged.iter().cloned())
            .map(|r| {
                self.get_range(
                    bucket,
                    key,
                    ByteRange::Bounded {
                        start: r.start,
                        end: r.end,
                    },
                )
            })
            .buffered(read.concurrency.max(1))
            .try_collect()
            .await?;
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
                        "range {}..{} lies beyond the end of s3://{bucket}/{key}",
                        r.start, r.end
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
    fn splits_and_coalesces() {
        assert_eq!(split_range(0..10, 4), vec![0..4, 4..8, 8..10]);
        assert_eq!(split_range(5..5, 4), Vec::<Range<u64>>::new());
        assert_eq!(
            coalesce_ranges(&[20..30, 0..10, 12..15, 100..110], 5),
            vec![0..30, 100..110]
        );
        assert_eq!(coalesce_ranges(&[0..10, 2..4], 0), vec![0..10]);
    }
}
