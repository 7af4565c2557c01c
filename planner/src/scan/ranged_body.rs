//! [`ranged_get`]: a whole object read as bounded range GETs of growing
//! size (1 MiB, 2, 4, 8, then 16 MiB each). One open-ended GET of a big
//! object has the server push it as fast as the connection takes it, and
//! what a reader stopped early (a `LIMIT 2` of a 22 MB JSON array) had
//! taken of it was 7.5 to 22.5 MB on moto; here a reader that stops in
//! the first MiB has asked for that MiB alone. Past it, the next range's
//! GET is sent while a range is read ([`RangedBody`]), so a full read
//! waits on no request's first byte but the first two.

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::{BoxFuture, MaybeDone, maybe_done};
use futures::stream::{BoxStream, Stream};
use futures::{FutureExt, StreamExt};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, GetResult, GetResultPayload, ObjectStore};

/// The first range a whole read asks for.
pub(crate) const FIRST_RANGE: u64 = 1 << 20;

/// The largest range it asks for.
const LARGEST_RANGE: u64 = 16 << 20;

/// The range after `done` (the last one asked for) in an object of `size`
/// bytes, twice as long up to [`LARGEST_RANGE`].
fn next_range(done: &Range<u64>, size: u64) -> Option<Range<u64>> {
    let len = (done.end - done.start)
        .saturating_mul(2)
        .clamp(FIRST_RANGE, LARGEST_RANGE);
    (done.end < size).then(|| done.end..done.end.saturating_add(len).min(size))
}

/// `options` asking for `range`.
fn for_range(options: &GetOptions, range: &Range<u64>) -> GetOptions {
    GetOptions {
        range: Some(GetRange::Bounded(range.clone())),
        ..options.clone()
    }
}

/// The whole of `location` (`size` bytes, from the listing) read from
/// `store` in bounded ranges, as one GET's answer: the first range is
/// asked for now, the others as [`RangedBody`] is read. `options` (a
/// whole read: no range, no HEAD) go with every range.
pub(crate) async fn ranged_get(
    store: Arc<dyn ObjectStore>,
    location: &Path,
    options: GetOptions,
    size: u64,
) -> object_store::Result<GetResult> {
    let first = 0..FIRST_RANGE.min(size);
    let answer = store
        .get_opts(location, for_range(&options, &first))
        .await?;
    let (meta, attributes) = (answer.meta.clone(), answer.attributes.clone());
    let body = RangedBody {
        store,
        location: location.clone(),
        options,
        size,
        body: Some(answer.into_stream()),
        reading: first,
        next: None,
    };
    Ok(GetResult {
        payload: GetResultPayload::Stream(body.boxed()),
        meta,
        range: 0..size,
        attributes,
    })
}

/// A range's GET, sent and polled ahead of its turn.
type NextGet = Pin<Box<MaybeDone<BoxFuture<'static, object_store::Result<GetResult>>>>>;

/// The bytes of an object's ranges one after another. The GET of a range
/// is sent when the range before it ends, or, from the second range on,
/// while that one is read.
struct RangedBody {
    store: Arc<dyn ObjectStore>,
    location: Path,
    options: GetOptions,
    size: u64,
    /// The body of the range being read.
    body: Option<BoxStream<'static, object_store::Result<Bytes>>>,
    /// The last range asked for whose body has come.
    reading: Range<u64>,
    /// The next range and its GET, once sent.
    next: Option<(Range<u64>, NextGet)>,
}

impl RangedBody {
    /// The GET of `range`, sent when first polled.
    fn get(&self, range: &Range<u64>) -> NextGet {
        let (store, location) = (Arc::clone(&self.store), self.location.clone());
        let options = for_range(&self.options, range);
        let get = async move { store.get_opts(&location, options).await }.boxed();
        Box::pin(maybe_done(get))
    }

    /// The range after the one being read, and its GET.
    fn next_get(&self) -> Option<(Range<u64>, NextGet)> {
        let range = next_range(&self.reading, self.size)?;
        let get = self.get(&range);
        Some((range, get))
    }
}

impl Stream for RangedBody {
    type Item = object_store::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(body) = this.body.as_mut() {
                // The GET sent ahead goes on while the body is read.
                if let Some((_, next)) = this.next.as_mut() {
                    let _ = next.as_mut().poll(cx);
                }
                match body.poll_next_unpin(cx) {
                    Poll::Ready(None) => this.body = None,
                    other => return other,
                }
            }
            let Some((range, mut next)) = this.next.take().or_else(|| this.next_get()) else {
                return Poll::Ready(None);
            };
            if next.as_mut().poll(cx).is_pending() {
                this.next = Some((range, next));
                return Poll::Pending;
            }
            match next.as_mut().take_output() {
                Some(Ok(answer)) => {
                    this.body = Some(answer.into_stream());
                    this.reading = range;
                    if this.reading.start >= FIRST_RANGE {
                        this.next = this.next_get();
                    }
                }
                Some(Err(e)) => {
                    this.reading = this.size..this.size;
                    return Poll::Ready(Some(Err(e)));
                }
                None => return Poll::Ready(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Mutex;

    use super::*;
    use async_trait::async_trait;
    use object_store::memory::InMemory;
    use object_store::{
        CopyOptions, ListResult, MultipartUpload, ObjectMeta, ObjectStoreExt, PutMultipartOptions,
        PutOptions, PutPayload, PutResult,
    };

    #[test]
    fn ranges_grow_to_sixteen_mib_and_stop_at_the_end() {
        let mut ranges = Vec::new();
        let mut done = 0..FIRST_RANGE;
        while let Some(next) = next_range(&done, 40 * MIB) {
            ranges.push((next.start / MIB, next.end / MIB));
            done = next;
        }
        assert_eq!(ranges, [(1, 3), (3, 7), (7, 15), (15, 31), (31, 40)]);
        assert_eq!(next_range(&(0..10), 10), None);
    }

    /// An in-memory store noting the ranges asked for.
    #[derive(Debug)]
    struct Noted {
        inner: InMemory,
        asked: Mutex<Vec<Range<u64>>>,
    }

    impl std::fmt::Display for Noted {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "Noted")
        }
    }

    #[async_trait]
    impl ObjectStore for Noted {
        async fn put_opts(
            &self,
            location: &Path,
            payload: PutPayload,
            opts: PutOptions,
        ) -> object_store::Result<PutResult> {
            self.inner.put_opts(location, payload, opts).await
        }

        async fn put_multipart_opts(
            &self,
            location: &Path,
            opts: PutMultipartOptions,
        ) -> object_store::Result<Box<dyn MultipartUpload>> {
            self.inner.put_multipart_opts(location, opts).await
        }

        async fn get_opts(
            &self,
            location: &Path,
            options: GetOptions,
        ) -> object_store::Result<GetResult> {
            if let Some(GetRange::Bounded(range)) = &options.range {
                self.asked.lock().unwrap().push(range.clone());
            }
            self.inner.get_opts(location, options).await
        }

        fn delete_stream(
            &self,
            locations: BoxStream<'static, object_store::Result<Path>>,
        ) -> BoxStream<'static, object_store::Result<Path>> {
            self.inner.delete_stream(locations)
        }

        fn list(
            &self,
            prefix: Option<&Path>,
        ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
            self.inner.list(prefix)
        }

        async fn list_with_delimiter(
            &self,
            prefix: Option<&Path>,
        ) -> object_store::Result<ListResult> {
            self.inner.list_with_delimiter(prefix).await
        }

        async fn copy_opts(
            &self,
            from: &Path,
            to: &Path,
            options: CopyOptions,
        ) -> object_store::Result<()> {
            self.inner.copy_opts(from, to, options).await
        }
    }

    const MIB: u64 = 1 << 20;

    /// A store noting the ranges asked for, holding `size` bytes at "big".
    async fn noted_object(size: u64) -> (Arc<Noted>, Vec<u8>) {
        let noted = Arc::new(Noted {
            inner: InMemory::new(),
            asked: Mutex::default(),
        });
        let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        noted
            .put(&Path::from("big"), PutPayload::from(bytes.clone()))
            .await
            .unwrap();
        (noted, bytes)
    }

    #[tokio::test]
    async fn a_ranged_read_gives_the_whole_object_and_asks_only_as_it_is_read() {
        let (noted, bytes) = noted_object(20 * MIB + 5).await;
        let location = Path::from("big");
        let store: Arc<dyn ObjectStore> = Arc::clone(&noted) as _;
        let size = bytes.len() as u64;
        let asked = || noted.asked.lock().unwrap().clone();
        // A reader that stops in the first MiB asked for it alone.
        let answer = ranged_get(Arc::clone(&store), &location, GetOptions::default(), size)
            .await
            .unwrap();
        let mut body = answer.into_stream();
        body.next().await.unwrap().unwrap();
        drop(body);
        assert_eq!(asked(), vec![0..MIB]);
        noted.asked.lock().unwrap().clear();
        let answer = ranged_get(store, &location, GetOptions::default(), size)
            .await
            .unwrap();
        assert_eq!(answer.range, 0..size);
        let read = answer.bytes().await.unwrap();
        assert_eq!(read.as_ref(), bytes.as_slice());
        assert_eq!(
            asked(),
            [
                0..MIB,
                MIB..3 * MIB,
                3 * MIB..7 * MIB,
                7 * MIB..15 * MIB,
                15 * MIB..size
            ]
        );
    }

    /// Past the first range, the next range's GET is sent while a range is
    /// read: when the second range's first bytes come, the third is asked.
    #[tokio::test]
    async fn the_next_ranges_get_is_sent_while_a_range_past_the_first_is_read() {
        let (noted, bytes) = noted_object(20 * MIB).await;
        let store: Arc<dyn ObjectStore> = Arc::clone(&noted) as _;
        let size = bytes.len() as u64;
        let answer = ranged_get(store, &Path::from("big"), GetOptions::default(), size)
            .await
            .unwrap();
        let mut body = answer.into_stream();
        let mut read = 0;
        while read <= MIB {
            read += body.next().await.unwrap().unwrap().len() as u64;
        }
        let asked = noted.asked.lock().unwrap().clone();
        assert_eq!(asked, [0..MIB, MIB..3 * MIB, 3 * MIB..7 * MIB]);
    }
}
