//! Response bodies that misbehave on purpose: paced, trickled, cut, or of
//! unknown size.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame};
use hyper::body::Incoming;

use super::BoxError;

/// A body passed on at a bounded rate, in slices of a twentieth of a second.
pub(super) struct Throttled {
    inner: Incoming,
    bytes_per_second: u64,
    started: tokio::time::Instant,
    sent: u64,
    /// What is left of a frame larger than one slice.
    pending: Option<Bytes>,
    /// Waits until the bytes already sent are due at the rate.
    wait: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Throttled {
    pub(super) fn new(inner: Incoming, bytes_per_second: u64) -> Self {
        Self {
            inner,
            bytes_per_second: bytes_per_second.max(1),
            started: tokio::time::Instant::now(),
            sent: 0,
            pending: None,
            wait: None,
        }
    }
}

impl Body for Throttled {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(wait) = self.wait.as_mut() {
            if wait.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.wait = None;
        }
        let this = &mut *self;
        let mut data = match next_data(&mut this.pending, &mut this.inner, cx) {
            Ok(data) => data,
            Err(instead) => return instead,
        };
        let slice = usize::try_from(self.bytes_per_second / 20)
            .unwrap_or(usize::MAX)
            .max(1);
        let piece = data.split_to(data.len().min(slice));
        if !data.is_empty() {
            self.pending = Some(data);
        }
        self.sent += piece.len() as u64;
        let due =
            self.started + Duration::from_secs_f64(self.sent as f64 / self.bytes_per_second as f64);
        self.wait = Some(Box::pin(tokio::time::sleep_until(due)));
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }
}

/// What a pacing body returns: a frame, an error, the end, or pending.
type FramePoll = Poll<Option<Result<Frame<Bytes>, BoxError>>>;

/// The next bytes a pacing body passes on: what is left of the last frame,
/// else the next data frame of `inner`; anything else is returned as is.
fn next_data(
    pending: &mut Option<Bytes>,
    inner: &mut Incoming,
    cx: &mut Context<'_>,
) -> Result<Bytes, FramePoll> {
    if let Some(data) = pending.take() {
        return Ok(data);
    }
    match Pin::new(inner).poll_frame(cx) {
        Poll::Ready(Some(Ok(frame))) => frame
            .into_data()
            .map_err(|frame| Poll::Ready(Some(Ok(frame)))),
        Poll::Ready(Some(Err(e))) => Err(Poll::Ready(Some(Err(Box::new(e))))),
        Poll::Ready(None) => Err(Poll::Ready(None)),
        Poll::Pending => Err(Poll::Pending),
    }
}

/// A body passed on a few bytes at a time, each slice after a pause.
pub(super) struct Trickled {
    inner: Incoming,
    bytes: usize,
    every: Duration,
    /// What is left of the last frame read.
    pending: Option<Bytes>,
    /// The pause before the next slice.
    wait: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Trickled {
    /// Passes `bytes` (at least one) of `inner` on every `every`.
    pub(super) fn new(inner: Incoming, bytes: usize, every: Duration) -> Self {
        Self {
            inner,
            bytes: bytes.max(1),
            every,
            pending: None,
            wait: None,
        }
    }
}

impl Body for Trickled {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let every = self.every;
        let wait = self
            .wait
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(every)));
        if wait.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let this = &mut *self;
        let mut data = match next_data(&mut this.pending, &mut this.inner, cx) {
            Ok(data) => data,
            Err(instead) => return instead,
        };
        let piece = data.split_to(data.len().min(self.bytes));
        if !data.is_empty() {
            self.pending = Some(data);
        }
        self.wait = None;
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }
}

/// A body whose size is not known up front.
pub(super) struct HideSize(pub(super) Incoming);

impl Body for HideSize {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.0)
            .poll_frame(cx)
            .map_err(|e| Box::new(e) as BoxError)
    }
}

/// How long a cut body waits, once its bytes are out, before failing: the
/// connection task flushes what was written meanwhile (hyper drops unflushed
/// output when a body fails), so the client gets the headers and exactly
/// `after_bytes` bytes before the connection closes.
const FLUSH_BEFORE_CUT: Duration = Duration::from_millis(20);

/// A body that lets `left` bytes through, then fails (closing the connection).
pub(super) struct CutBody {
    inner: Incoming,
    left: usize,
    /// Started once `left` reaches 0.
    flush: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl CutBody {
    /// Lets `left` bytes of `inner` through, then fails.
    pub(super) fn new(inner: Incoming, left: usize) -> Self {
        Self {
            inner,
            left,
            flush: None,
        }
    }
}

impl Body for CutBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.left == 0 {
            let flush = self
                .flush
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(FLUSH_BEFORE_CUT)));
            return match flush.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err("injected body cut".into()))),
                Poll::Pending => Poll::Pending,
            };
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(mut data) => {
                    if data.len() > self.left {
                        data.truncate(self.left);
                    }
                    self.left -= data.len();
                    Poll::Ready(Some(Ok(Frame::data(data))))
                }
                Err(frame) => Poll::Ready(Some(Ok(frame))),
            },
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}
