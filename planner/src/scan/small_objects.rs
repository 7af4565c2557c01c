//! [`SmallObjectCache`]: an object the listing says is small is read whole
//! by its first GET, and every later range of it is served from memory.
//! DataFusion reads a Parquet file's footer, then its page index and its
//! column chunks, each by a GET of its own: a glob of 1,000 small files
//! cost 2,000+ requests. With this cache (consulted by
//! [`ScanStore`](super::scan_store::ScanStore)) a small file costs one
//! GET, footer and data together; a large one is read as before.

use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::sync::Mutex;

use bytes::Bytes;
use futures::{StreamExt, stream};
use object_store::path::Path;
use object_store::{Attributes, GetOptions, GetRange, GetResult, GetResultPayload, ObjectMeta};

/// Objects up to this size are read whole at their first read.
const SMALL_OBJECT: u64 = 1024 * 1024;

/// At most this many bytes kept per store; the oldest object goes first.
/// Files are read a few at a time, so a handful suffices.
const KEPT_BYTES: usize = 4 * 1024 * 1024;

/// A small object's bytes, as its one GET returned them.
#[derive(Debug, Clone)]
pub(crate) struct WholeObject {
    /// The object's metadata, as its GET answered.
    pub(crate) meta: ObjectMeta,
    /// Its attributes (Content-Type and the like).
    pub(crate) attributes: Attributes,
    /// All of its bytes.
    pub(crate) bytes: Bytes,
}

#[derive(Debug)]
struct Kept {
    location: Path,
    object: WholeObject,
}

/// The small objects of one bucket (and secret) a statement listed, and
/// those read so far: shared by every store registered for it in the
/// statement (the registration last made serves every scan of it).
#[derive(Debug, Default)]
pub(crate) struct SmallObjectCache {
    /// Listed objects of at most [`SMALL_OBJECT`] bytes, by object path.
    small: Mutex<HashMap<Path, u64>>,
    kept: Mutex<VecDeque<Kept>>,
}

impl SmallObjectCache {
    /// The listing found the object at `location` with `size` bytes.
    pub(crate) fn listed(&self, location: &Path, size: u64) {
        if size <= SMALL_OBJECT {
            let mut small = self.small.lock().unwrap_or_else(|p| p.into_inner());
            small.insert(location.clone(), size);
        }
    }

    /// Whether the object at `location` is to be read whole.
    pub(crate) fn is_small(&self, location: &Path) -> bool {
        let small = self.small.lock().unwrap_or_else(|p| p.into_inner());
        small.contains_key(location)
    }

    /// The kept bytes and metadata of `location`, if any.
    pub(crate) fn find(&self, location: &Path) -> Option<WholeObject> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter()
            .find(|k| &k.location == location)
            .map(|k| k.object.clone())
    }

    /// Keeps `object`, the whole of `location`, dropping the oldest kept
    /// ones past [`KEPT_BYTES`].
    pub(crate) fn keep(&self, location: &Path, object: WholeObject) {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|k| &k.location != location);
        kept.push_back(Kept {
            location: location.clone(),
            object,
        });
        let mut total: usize = kept.iter().map(|k| k.object.bytes.len()).sum();
        while total > KEPT_BYTES
            && let Some(oldest) = kept.pop_front()
        {
            total -= oldest.object.bytes.len();
        }
    }
}

impl WholeObject {
    /// The answer to a GET of `range` (all when `None`) from memory;
    /// `None` for a range the bytes cannot answer (an invalid one: the
    /// store's own answer says why).
    pub(crate) fn answer(&self, range: Option<&GetRange>) -> Option<GetResult> {
        let range = match range {
            None => 0..self.meta.size,
            // `as_range` would clamp it to the kept bytes: a short answer.
            Some(GetRange::Bounded(r)) if r.end > self.bytes.len() as u64 => return None,
            Some(range) => range.as_range(self.meta.size).ok()?,
        };
        if range.start >= range.end && self.meta.size != 0 {
            return None;
        }
        let part = self.bytes.slice(range.start as usize..range.end as usize);
        Some(GetResult {
            payload: GetResultPayload::Stream(stream::once(async { Ok(part) }).boxed()),
            meta: self.meta.clone(),
            range,
            attributes: self.attributes.clone(),
        })
    }

    /// `ranges` of the object from memory; `None` when one of them is
    /// empty or past its end.
    pub(crate) fn ranges(&self, ranges: &[Range<u64>]) -> Option<Vec<Bytes>> {
        let len = self.bytes.len() as u64;
        ranges
            .iter()
            .all(|r| r.start < r.end && r.end <= len)
            .then(|| {
                ranges
                    .iter()
                    .map(|r| self.bytes.slice(r.start as usize..r.end as usize))
                    .collect()
            })
    }
}

/// Whether `options` ask for nothing but (part of) the object's bytes,
/// which its whole bytes can answer; an `If-Match` is checked when they
/// come (the store pins the listed version anyway).
pub(crate) fn plain_read(options: &GetOptions) -> bool {
    options.if_match.is_none()
        && !options.head
        && options.if_none_match.is_none()
        && options.if_modified_since.is_none()
        && options.if_unmodified_since.is_none()
        && options.version.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn ten_bytes() -> WholeObject {
        WholeObject {
            meta: ObjectMeta {
                location: Path::from("x"),
                last_modified: Utc::now(),
                size: 10,
                e_tag: None,
                version: None,
            },
            attributes: Attributes::default(),
            bytes: Bytes::from_static(b"0123456789"),
        }
    }

    /// A range past the kept bytes is no answer from memory (a larger
    /// version is being asked for; the pinned GET says it changed), never
    /// a short slice (review-8b #12, #15).
    #[test]
    fn a_range_past_the_kept_bytes_is_not_answered_from_memory() {
        let whole = ten_bytes();
        assert!(whole.answer(Some(&GetRange::Bounded(0..20))).is_none());
        assert!(whole.answer(Some(&GetRange::Bounded(8..10))).is_some());
        assert!(whole.answer(Some(&GetRange::Suffix(4))).is_some());
        assert!(whole.ranges(&[2..4, 0..11]).is_none());
        assert_eq!(
            whole.ranges(&[2..4, 9..10]).unwrap(),
            [Bytes::from_static(b"23"), Bytes::from_static(b"9")]
        );
    }
}
