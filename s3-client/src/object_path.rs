//! The one mapping between an S3 key and an object_store [`Path`], used by
//! [`S3ObjectStore`](crate::S3ObjectStore) for every operation and by
//! anyone turning listed keys into `Path`s (the planner's scans).
//!
//! S3 takes any UTF-8 key; a `Path` refuses empty segments (`a//b`, a
//! leading or trailing `/`), `.` and `..` segments and ASCII control
//! characters. So the mapping works segment by segment (split at `/`):
//!
//! - a segment a `Path` can hold, and that does not start with `%%`, is
//!   itself: `data/2024/x.parquet`, `a%2Fb`, `%48i` map to the same text,
//!   as object_store's own S3 store maps them;
//! - any other segment becomes `%%` followed by the segment with `%` and
//!   control characters percent-encoded: `a//b` is `a/%%/b`, `/a` is
//!   `%%/a`, `dir/` is `dir/%%`, `x/./y` is `x/%%./y`, `u/tab\tx` is
//!   `u/%%tab%09x`, and a segment `%%q` is `%%%25%25q`.
//!
//! The mapping is lossless both ways: every key has one `Path`, whose key
//! is that key again, and every `Path` the mapping produces names one key.
//! A `Path` with a `%%` segment the mapping would not produce (`%%zz`,
//! `%%abc`) names no key and is refused, so no two `Path`s read one
//! object. Listing order is the server's key order, which differs from
//! the `Path`s' order only where a segment is escaped; a listing after an
//! offset path therefore starts where no key whose path sorts after the
//! offset can sort before ([`start_after`]) and keeps the paths after it.

use std::borrow::Cow;
use std::fmt::Write as _;

use object_store::path::Path;

/// Starts every escaped segment.
const ESCAPE: &str = "%%";

/// Whether `segment` of a key needs escaping to be part of a `Path`.
fn escaped(segment: &str) -> bool {
    segment.is_empty()
        || segment == "."
        || segment == ".."
        || segment.starts_with(ESCAPE)
        || segment.bytes().any(|b| b.is_ascii_control())
}

/// Appends `segment`'s `Path` form to `out`.
fn push_segment(out: &mut String, segment: &str) {
    if !escaped(segment) {
        out.push_str(segment);
        return;
    }
    out.push_str(ESCAPE);
    for c in segment.chars() {
        if c == '%' || c.is_ascii_control() {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{:02X}", c as u32);
        } else {
            out.push(c);
        }
    }
}

/// The `Path` naming `key`. Keys a `Path` holds as they are (no empty,
/// `.` or `..` segment, no control character, no segment starting `%%`)
/// map to themselves.
pub(crate) fn path_of(key: &str) -> Path {
    if !key.split('/').any(escaped)
        && let Ok(path) = Path::parse(key)
    {
        return path;
    }
    let mut text = String::with_capacity(key.len() + 8);
    for (i, segment) in key.split('/').enumerate() {
        if i > 0 {
            text.push('/');
        }
        push_segment(&mut text, segment);
    }
    // Every segment pushed is non-empty, neither `.` nor `..`, and free of
    // control characters and `/`, so this parses; the fallback (a Path of
    // the key's encoded parts) is never taken.
    Path::parse(&text).unwrap_or_else(|_| Path::from(text.as_str()))
}

/// A `Path` that names no key: a `%%` segment the mapping does not make.
#[derive(Debug, thiserror::Error)]
#[error(
    "the object path {path:?} names no S3 key: its segment {segment:?} starts with %% (an escaped \
     segment) but is not one (write a key's own path: S3ObjectStore::path_of)"
)]
pub(crate) struct NotAKeyPath {
    path: String,
    segment: String,
}

/// The key `path` names. The empty `Path` (the bucket's root) is the
/// empty key.
pub(crate) fn key_of(path: &Path) -> Result<Cow<'_, str>, NotAKeyPath> {
    let raw = path.as_ref();
    if !raw.split('/').any(|s| s.starts_with(ESCAPE)) {
        return Ok(Cow::Borrowed(raw));
    }
    let mut key = String::with_capacity(raw.len());
    for (i, segment) in raw.split('/').enumerate() {
        if i > 0 {
            key.push('/');
        }
        match segment.strip_prefix(ESCAPE) {
            None => key.push_str(segment),
            Some(rest) => {
                let decoded = decode(rest)
                    .filter(|d| {
                        let mut again = String::new();
                        push_segment(&mut again, d);
                        again == segment
                    })
                    .ok_or_else(|| NotAKeyPath {
                        path: raw.to_owned(),
                        segment: segment.to_owned(),
                    })?;
                key.push_str(&decoded);
            }
        }
    }
    Ok(Cow::Owned(key))
}

/// Where a listing of the keys whose paths sort after `offset` may start
/// (S3's exclusive `start-after`; `None`: from the first key). Up to the
/// first segment that is escaped or sorts before `%%`, key order and path
/// order agree, so the offset's key is used up to there: a key with an
/// escaped segment (`%%...` as a path) may sort before the offset's key
/// while its path sorts after the offset only at such a segment.
pub(crate) fn start_after(offset: &Path) -> Result<Option<String>, NotAKeyPath> {
    let key = key_of(offset)?;
    let raw = offset.as_ref();
    let agree = raw
        .split('/')
        .take_while(|s| !s.starts_with(ESCAPE) && *s > ESCAPE)
        .count();
    Ok(match agree {
        0 => None,
        n if n == raw.split('/').count() => Some(key.into_owned()),
        // These segments are their own paths, so the key's text is the path's.
        n => Some(raw.split('/').take(n).collect::<Vec<_>>().join("/")),
    })
}

/// `text` with each `%XX` decoded; `None` when a `%` is not followed by
/// two hex digits or the bytes are not UTF-8.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Keys S3 allows and a `Path` cannot hold as they are, with their paths.
    const ESCAPED: &[(&str, &str)] = &[
        ("a//b.csv", "a/%%/b.csv"),
        ("/a.csv", "%%/a.csv"),
        ("dir/", "dir/%%"),
        ("x/./y", "x/%%./y"),
        ("x/../y", "x/%%../y"),
        ("u/tab\tx.csv", "u/%%tab%09x.csv"),
        ("u/a%b\n", "u/%%a%25b%0A"),
        ("%%q/r", "%%%25%25q/r"),
        ("/", "%%/%%"),
        ("//", "%%/%%/%%"),
        ("..", "%%.."),
    ];

    #[test]
    fn keys_a_path_holds_are_their_own_path() {
        for key in [
            "a/b.csv",
            "a%2Fb",
            "%48%45/x",
            "%Q.parquet",
            "é x+y%z/h#a?q",
            "a/.hidden",
            "a/...",
            "a%%b",
        ] {
            let path = path_of(key);
            assert_eq!(path.as_ref(), key);
            assert_eq!(key_of(&path).unwrap(), key);
        }
    }

    #[test]
    fn other_keys_are_escaped_and_read_back() {
        for (key, expected) in ESCAPED {
            let path = path_of(key);
            assert_eq!(path.as_ref(), *expected, "{key:?}");
            assert_eq!(Path::parse(path.as_ref()).unwrap(), path);
            assert_eq!(key_of(&path).unwrap(), *key);
        }
    }

    #[test]
    fn paths_the_mapping_does_not_make_name_no_key() {
        for text in ["%%zz", "a/%%x%", "%%abc", "%%%41", "%%%2F"] {
            let path = Path::parse(text).unwrap();
            let err = key_of(&path).unwrap_err();
            assert!(err.to_string().contains("names no S3 key"), "{err}");
        }
        assert_eq!(key_of(&Path::default()).unwrap(), "");
    }

    /// Every key whose path sorts after an offset sorts after the
    /// listing's start: none is missed.
    #[test]
    fn a_listing_after_an_offset_starts_before_every_later_path() {
        let keys = [
            "a", "a/b", "a//b", "a/ b", "a/!x", "a/\tz", "a/\u{1}", "a/%!", "a/%%q", "a/.", "a/..",
            "a/b c", "a/b\t", "a/bc", "a\t", "a b", "/x", "%!", "\t", " ", "b/%41", "b/z",
        ];
        for offset_key in keys {
            let offset = path_of(offset_key);
            let start = start_after(&offset).unwrap();
            for key in keys {
                if path_of(key) > offset {
                    assert!(
                        start.as_deref().is_none_or(|s| key > s),
                        "{key:?} (path {}) after offset {offset} but not after start {start:?}",
                        path_of(key)
                    );
                }
            }
        }
        assert_eq!(
            start_after(&path_of("a/b/c")).unwrap().as_deref(),
            Some("a/b/c")
        );
        assert_eq!(
            start_after(&path_of("a/ b/c")).unwrap().as_deref(),
            Some("a")
        );
        assert_eq!(start_after(&path_of("a//c")).unwrap().as_deref(), Some("a"));
        assert_eq!(start_after(&path_of("\tx/c")).unwrap(), None);
    }

    proptest::proptest! {
        #[test]
        fn every_key_maps_to_one_path_and_back(
            key in "[a%./\t\u{1}é]{1,12}",
            other in "[a%./\t\u{1}é]{1,12}",
        ) {
            let path = path_of(&key);
            proptest::prop_assert!(Path::parse(path.as_ref()).is_ok());
            proptest::prop_assert_eq!(key_of(&path).unwrap(), key.as_str());
            if key != other {
                proptest::prop_assert_ne!(path, path_of(&other));
            }
        }
    }
}
