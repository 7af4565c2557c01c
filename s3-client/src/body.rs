//! [`ObjectBody`]: a GetObject body that survives a broken connection by
//! asking again for the bytes it has not seen, pinned to the same ETag so a
//! changed object fails loudly instead of being spliced.

use std::ops::Range;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::stream::{BoxStream, Stream, StreamExt};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::client::{S3Client, describe_transport_error};
use crate::content_range::{check_if_match_answer, check_partial, content_range};
use crate::error::{Error, Operation, RequestTarget, Result};
use crate::model::ByteRange;
use crate::transport::BodyPace;

/// Progress that gives back one resume: a long read survives any number of
/// cuts as long as it moves at least this far between them.
const RESUME_REFILL: u64 = 1024 * 1024;

/// Most bytes [`ObjectBody::collect`] allocates before any arrive.
const MAX_PREALLOCATION: u64 = 64 * 1024 * 1024;

/// The streaming body of a GetObject, yielding chunks in order.
pub struct ObjectBody {
    expected_len: Option<u64>,
    stream: BoxStream<'static, Result<Bytes>>,
}

impl std::fmt::Debug for ObjectBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectBody")
            .field("expected_len", &self.expected_len)
            .finish_non_exhaustive()
    }
}

struct ResumeState {
    client: S3Client,
    bucket: String,
    key: String,
    etag: Option<String>,
    /// Next byte offset expected.
    next: u64,
    /// One past the last byte, when the length is known.
    end: Option<u64>,
    body: Option<Incoming>,
    /// Cuts resumed and not yet made up for: each waits and counts as the
    /// client's retry policy says ([`S3Client::retry_delay`]), and every
    /// [`RESUME_REFILL`] bytes received since the last cut gives one back.
    resumes: u32,
    /// Bytes received since the last cut (or the last refill).
    since_cut: u64,
    /// The deadline of the current answer's next bytes; a trickle below
    /// the floor rate counts as a cut.
    pace: BodyPace,
    done: bool,
}

impl ObjectBody {
    pub(crate) fn new(
        client: S3Client,
        bucket: String,
        key: String,
        etag: Option<String>,
        range: Range<u64>,
        body: Incoming,
    ) -> Self {
        let (next, end) = (range.start, Some(range.end));
        let state = ResumeState {
            pace: BodyPace::new(client.config().request_timeout, true),
            client,
            bucket,
            key,
            etag,
            next,
            end,
            body: Some(body),
            resumes: 0,
            since_cut: 0,
            done: false,
        };
        Self {
            expected_len: Some(range.end.saturating_sub(range.start)),
            stream: futures::stream::unfold(state, |mut state| async move {
                let item = state.next_chunk().await?;
                Some((item, state))
            })
            // Readers may poll again after the end; unfold alone would panic.
            .fuse()
            .boxed(),
        }
    }

    /// A body with no bytes.
    pub(crate) fn empty() -> Self {
        Self::from_bytes(Bytes::new())
    }

    /// A body already in memory.
    pub(crate) fn from_bytes(bytes: Bytes) -> Self {
        Self {
            expected_len: Some(bytes.len() as u64),
            stream: futures::stream::iter((!bytes.is_empty()).then_some(Ok(bytes))).boxed(),
        }
    }

    /// How many bytes this body will yield, when known.
    pub fn expected_len(&self) -> Option<u64> {
        self.expected_len
    }

    /// Reads the whole body into one buffer.
    pub async fn collect(mut self) -> Result<Bytes> {
        // The length was checked against the range asked, but a server can
        // still claim more than it sends: allocate at most a bounded amount
        // up front and grow with what actually arrives.
        let capacity = self.expected_len.unwrap_or(0).min(MAX_PREALLOCATION) as usize;
        let mut buf = BytesMut::with_capacity(capacity);
        while let Some(chunk) = self.stream.next().await {
            let chunk = chunk?;
            if buf.is_empty() && self.expected_len == Some(chunk.len() as u64) {
                return Ok(chunk);
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }
}

impl Stream for ObjectBody {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.stream.poll_next_unpin(cx)
    }
}

impl ResumeState {
    fn target(&self) -> RequestTarget {
        self.client.target(&crate::client::S3Request::new(
            Operation::GetObject,
            http::Method::GET,
            &self.bucket,
            Some(&self.key),
        ))
    }

    /// The next chunk, resuming after a cut; `None` at the end.
    async fn next_chunk(&mut self) -> Option<Result<Bytes>> {
        if self.done {
            return None;
        }
        loop {
            if self.end.is_some_and(|end| self.next >= end) {
                self.done = true;
                return None;
            }
            let Some(body) = self.body.as_mut() else {
                if let Err(e) = self.reopen().await {
                    self.done = true;
                    return Some(Err(e));
                }
                continue;
            };
            let cut = match self.pace.wait(body.frame()).await.ok_or(()) {
                Ok(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) if data.is_empty() => continue,
                    Ok(data) => {
                        self.pace.arrived(data.len());
                        self.next += data.len() as u64;
                        self.since_cut += data.len() as u64;
                        if self.since_cut >= RESUME_REFILL {
                            self.resumes = self.resumes.saturating_sub(1);
                            self.since_cut = 0;
                        }
                        if self.end.is_some_and(|end| self.next > end) {
                            self.done = true;
                            return Some(Err(Error::InvalidResponse {
                                target: Box::new(self.target()),
                                detail: "the server sent more bytes than the requested range"
                                    .into(),
                            }));
                        }
                        return Some(Ok(data));
                    }
                    Err(_trailers) => continue,
                },
                Ok(None) => match self.end {
                    // The connection closed early: only the length tells.
                    Some(end) if self.next < end => {
                        format!("body ended at byte {} of {end}", self.next)
                    }
                    _ => {
                        self.done = true;
                        return None;
                    }
                },
                Ok(Some(Err(e))) => describe_transport_error(&e),
                Err(()) => self.pace.stalled(),
            };
            self.body = None;
            if self.etag.is_none() {
                // Nothing to pin the rest to: it could come from another
                // version of the object, spliced onto this one's bytes.
                self.done = true;
                return Some(Err(Error::Transport {
                    target: Box::new(self.target()),
                    detail: format!(
                        "response body cut short ({cut}) and not resumed: the answer carried no ETag, so the rest could come from another version of the object; read it again"
                    ),
                }));
            }
            self.resumes += 1;
            self.since_cut = 0;
            let wait = self.client.retry_delay(self.resumes, Duration::ZERO);
            let (Some(wait), Some(_)) = (wait, self.end) else {
                self.done = true;
                return Some(Err(Error::Transport {
                    target: Box::new(self.target()),
                    detail: format!("response body cut short and could not be resumed: {cut}"),
                }));
            };
            tracing::debug!(bucket = %self.bucket, offset = self.next, reason = %cut, ?wait, "resuming GetObject body");
            tokio::time::sleep(wait).await;
        }
    }

    /// Asks for the remaining bytes of the same object version.
    async fn reopen(&mut self) -> Result<()> {
        let range = match self.end {
            Some(end) => ByteRange::Bounded {
                start: self.next,
                end,
            },
            None => ByteRange::From(self.next),
        };
        let mut request = crate::client::S3Request::new(
            Operation::GetObject,
            http::Method::GET,
            &self.bucket,
            Some(&self.key),
        );
        if let Some(value) = range.header_value() {
            request = request.header(http::header::RANGE, value);
        }
        if let Some(etag) = &self.etag {
            request = request.header(http::header::IF_MATCH, crate::etag::if_match_header(etag));
        }
        let resp = self.client.send(&request).await?;
        let invalid = |detail: String| Error::InvalidResponse {
            target: Box::new(self.target()),
            detail,
        };
        if resp.status() != http::StatusCode::PARTIAL_CONTENT {
            return Err(invalid(
                "the server ignored the Range header while resuming a read".into(),
            ));
        }
        let got = content_range(resp.headers())
            .map_err(invalid)?
            .ok_or_else(|| invalid("a 206 answer without Content-Range".into()))?;
        check_partial(&range, &got).map_err(invalid)?;
        let answered = resp.headers().get(http::header::ETAG);
        check_if_match_answer(self.etag.as_deref(), answered.and_then(|v| v.to_str().ok()))
            .map_err(invalid)?;
        if self.end.is_some_and(|end| got.range.end != end) {
            return Err(invalid(format!(
                "the object is {} bytes now; it changed while it was being read",
                got.total
            )));
        }
        self.body = Some(resp.into_body());
        self.pace = BodyPace::new(self.client.config().request_timeout, true);
        Ok(())
    }
}
