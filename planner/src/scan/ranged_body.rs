//! [`ranged_get`]: a whole object read as bounded range GETs of growing
//! size (1 MiB, 2, 4, ... up to 16 MiB), each sent only when the reader
//! has taken every byte of the one before. One open-ended GET of a big
//! object has the server push it as fast as the connection takes it, and
//! what a reader stopped early (a `LIMIT 2` of a 22 MB JSON array) had
//! taken of it was 7.5 to 22.5 MB on moto; here it is at most the range
//! being read. A full read costs one request per 16 MiB past the first
//! 31 MiB.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, GetResult, GetResultPayload, ObjectStore};

/// The first range a whole read asks for.
pub(crate) const FIRST_RANGE: u64 = 1 << 20;

/// The largest range it asks for.
const LARGEST_RANGE: u64 = 16 << 20;

/// The range after `done` (the last one read, `len` bytes long) in an
/// object of `size` bytes, twice as long up to [`LARGEST_RANGE`].
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
/// asked for now, each next one when the body has given the one before.
/// `options` (a whole read: no range, no HEAD) go with every range.
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
    let location = location.clone();
    let rest = stream::unfold(Some(first), move |done| {
        let (store, location, options) = (Arc::clone(&store), location.clone(), options.clone());
        async move {
            let range = next_range(&done?, size)?;
            let body: BoxStream<'static, object_store::Result<Bytes>> =
                match store.get_opts(&location, for_range(&options, &range)).await {
                    Ok(answer) => answer.into_stream(),
                    Err(e) => return Some((stream::once(async { Err(e) }).boxed(), None)),
                };
            Some((body, Some(range)))
        }
    })
    .flatten();
    let body = answer.into_stream().chain(rest).boxed();
    Ok(GetResult {
        payload: GetResultPayload::Stream(body),
        meta,
        range: 0..size,
        attributes,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use object_store::memory::InMemory;
    use object_store::{ObjectStoreExt, PutPayload};

    #[test]
    fn ranges_grow_to_sixteen_mib_and_stop_at_the_end() {
        const MIB: u64 = 1 << 20;
        let mut ranges = Vec::new();
        let mut done = 0..FIRST_RANGE;
        while let Some(next) = next_range(&done, 40 * MIB) {
            ranges.push((next.start / MIB, next.end / MIB));
            done = next;
        }
        assert_eq!(ranges, [(1, 3), (3, 7), (7, 15), (15, 31), (31, 40)]);
        assert_eq!(next_range(&(0..10), 10), None);
    }

    #[tokio::test]
    async fn a_ranged_read_gives_the_whole_object_and_asks_only_as_it_is_read() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let location = Path::from("big");
        let bytes: Vec<u8> = (0..(3 * FIRST_RANGE + 5))
            .map(|i| (i % 251) as u8)
            .collect();
        store
            .put(&location, PutPayload::from(bytes.clone()))
            .await
            .unwrap();
        let size = bytes.len() as u64;
        let answer = ranged_get(Arc::clone(&store), &location, GetOptions::default(), size)
            .await
            .unwrap();
        assert_eq!(answer.range, 0..size);
        let read = answer.bytes().await.unwrap();
        assert_eq!(read.as_ref(), bytes.as_slice());
    }
}
