//! [`SmallObjectCache`]: an object the listing says is small is read whole
//! by its first GET, and every later range of it is served from memory.
//! DataFusion reads a Parquet file's footer, then its page index and its
//! column chunks, each by a GET of its own: a glob of 1,000 small files
//! cost 2,000+ requests. With this cache (consulted by
//! [`ScanStore`](super::scan_store::ScanStore)) a small file costs one
//! GET, footer and data together; a large one is read as before.
//!
//! The scan's objects are kept a few at a time (it reads files in order);
//! those read while planning for each file's schema (`union_by_name`: a
//! CSV's sample is the whole of a small file) are kept for the scan until
//! the statement ends, up to [`KEPT_FOR_STATEMENT`]; past it they are read
//! as planning asks (a Parquet footer by its end) and whole again by the
//! scan.

use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::sync::Mutex;

use bytes::Bytes;
use futures::{StreamExt, stream};
use object_store::path::Path;
use object_store::{Attributes, GetOptions, GetRange, GetResult, GetResultPayload, ObjectMeta};

/// Objects up to this size are read whole at their first read.
pub(crate) const SMALL_OBJECT: u64 = 1024 * 1024;

/// At most this many bytes kept per store for the scan; the oldest object
/// goes first. Small files are read 16 at a time (`table`), each up to
/// [`SMALL_OBJECT`]: 16 of them fit.
const KEPT_BYTES: usize = 16 * 1024 * 1024;

/// At most this many bytes of objects read while planning kept per store
/// for the scan, until the statement ends.
pub(crate) const KEPT_FOR_STATEMENT: u64 = 32 * 1024 * 1024;

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

/// How long a small object read whole is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// While the scan reads a few files on: the oldest goes first.
    ForScan,
    /// Until the statement ends (read while planning, for the scan).
    ForStatement,
}

/// A listed small object: its size, and how it is kept once read.
#[derive(Debug, Clone, Copy)]
struct Small {
    size: u64,
    keep: Keep,
}

/// The small objects of one bucket (and secret) a statement listed, and
/// those read so far: shared by every store registered for it in the
/// statement, and gone with it.
#[derive(Debug, Default)]
pub(crate) struct SmallObjectCache {
    /// Listed objects of at most [`SMALL_OBJECT`] bytes, by object path.
    small: Mutex<HashMap<Path, Small>>,
    kept: Mutex<VecDeque<Kept>>,
    /// Objects kept until the statement ends, and the bytes promised to
    /// them (at most [`KEPT_FOR_STATEMENT`]).
    for_statement: Mutex<(HashMap<Path, WholeObject>, u64)>,
}

impl SmallObjectCache {
    /// The listing found the object at `location` with `size` bytes: read
    /// whole, kept for the scan.
    pub(crate) fn listed(&self, location: &Path, size: u64) {
        self.list(location, size, Keep::ForScan);
    }

    /// As [`Self::listed`], but read while planning and kept until the
    /// statement ends, room allowing ([`Self::reading`]).
    pub(crate) fn listed_for_statement(&self, location: &Path, size: u64) {
        self.list(location, size, Keep::ForStatement);
    }

    fn list(&self, location: &Path, size: u64, keep: Keep) {
        if size <= SMALL_OBJECT {
            let mut small = self.small.lock().unwrap_or_else(|p| p.into_inner());
            small.insert(location.clone(), Small { size, keep });
        }
    }

    /// Whether the object at `location` is to be read whole now, and how
    /// it is kept; `None`: read as asked (not small, or no room left to
    /// keep it for the statement).
    pub(crate) fn reading(&self, location: &Path) -> Option<Keep> {
        let small = self.small.lock().unwrap_or_else(|p| p.into_inner());
        let listed = *small.get(location)?;
        if listed.keep == Keep::ForStatement {
            let mut kept = self.for_statement.lock().unwrap_or_else(|p| p.into_inner());
            if kept.1 + listed.size > KEPT_FOR_STATEMENT {
                return None;
            }
            kept.1 += listed.size;
        }
        Some(listed.keep)
    }

    /// Whether the object at `location` is to be read whole.
    #[cfg(test)]
    pub(crate) fn is_small(&self, location: &Path) -> bool {
        let small = self.small.lock().unwrap_or_else(|p| p.into_inner());
        small.contains_key(location)
    }

    /// The kept bytes and metadata of `location`, if any.
    pub(crate) fn find(&self, location: &Path) -> Option<WholeObject> {
        let for_statement = self.for_statement.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(object) = for_statement.0.get(location) {
            return Some(object.clone());
        }
        drop(for_statement);
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter()
            .find(|k| &k.location == location)
            .map(|k| k.object.clone())
    }

    /// Keeps `object`, the whole of `location`, as `keep` says: for the
    /// statement, or for the scan, dropping the oldest kept past
    /// [`KEPT_BYTES`].
    pub(crate) fn keep(&self, location: &Path, object: WholeObject, keep: Keep) {
        if keep == Keep::ForStatement {
            let mut kept = self.for_statement.lock().unwrap_or_else(|p| p.into_inner());
            kept.0.insert(location.clone(), object);
            return;
        }
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

    /// Objects read while planning are kept for the statement until their
    /// room is used up, whatever the scan keeps after; past the room they
    /// are read as planning asks, and whole once the scan reads them.
    #[test]
    fn objects_read_while_planning_are_kept_within_their_room() {
        let cache = SmallObjectCache::default();
        let at = |i: u64| Path::from(format!("f{i}"));
        let room = KEPT_FOR_STATEMENT / SMALL_OBJECT;
        for i in 0..=room {
            cache.listed_for_statement(&at(i), SMALL_OBJECT);
        }
        for i in 0..room {
            assert_eq!(cache.reading(&at(i)), Some(Keep::ForStatement), "{i}");
        }
        assert_eq!(cache.reading(&at(room)), None);
        cache.listed(&at(room), SMALL_OBJECT);
        assert_eq!(cache.reading(&at(room)), Some(Keep::ForScan));
        cache.keep(&at(0), ten_bytes(), Keep::ForStatement);
        let mebibyte = WholeObject {
            bytes: Bytes::from(vec![0; SMALL_OBJECT as usize]),
            ..ten_bytes()
        };
        for i in 1..=(KEPT_BYTES as u64 / SMALL_OBJECT + 1) {
            cache.keep(&at(room + i), mebibyte.clone(), Keep::ForScan);
        }
        assert!(cache.find(&at(0)).is_some());
        assert!(cache.find(&at(room + 1)).is_none());
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
