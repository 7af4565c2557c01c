//! The numbers a server sends about a body — `Content-Length` and
//! `Content-Range` — parsed without trusting them: no arithmetic that can
//! overflow, malformed values are errors, and a ranged answer is checked
//! against the range (and the ETag it was pinned to) that was asked for
//! before any byte of it is used.

use std::ops::Range;

use http::HeaderMap;
use http::header::{CONTENT_LENGTH, CONTENT_RANGE};

use crate::etag::etag_value;
use crate::model::ByteRange;

/// A parsed `Content-Range: bytes start-last/total`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContentRange {
    /// The bytes this response carries, `start..last + 1`.
    pub range: Range<u64>,
    /// The whole object's size.
    pub total: u64,
}

/// Parses a `Content-Range` value. S3 always sends the total, so `*` (an
/// unknown total) is refused with the rest of what does not add up.
pub(crate) fn parse_content_range(value: &str) -> Result<ContentRange, String> {
    let bad = |why: &str| format!("malformed Content-Range '{value}': {why}");
    let spec = value
        .strip_prefix("bytes ")
        .ok_or_else(|| bad("expected 'bytes start-last/total'"))?;
    let (range, total) = spec.split_once('/').ok_or_else(|| bad("no '/total'"))?;
    let (start, last) = range
        .split_once('-')
        .ok_or_else(|| bad("no 'start-last'"))?;
    let number = |text: &str, what: &str| {
        text.parse::<u64>()
            .map_err(|_| bad(&format!("{what} is not a number")))
    };
    let start = number(start, "start")?;
    let last = number(last, "last byte")?;
    let total = number(total, "total size")?;
    if start > last {
        return Err(bad("start lies after the last byte"));
    }
    if last >= total {
        return Err(bad("the last byte lies outside the total size"));
    }
    // last < total <= u64::MAX, so last + 1 cannot overflow.
    Ok(ContentRange {
        range: start..last + 1,
        total,
    })
}

/// `Content-Length`, if sent; a value that is not a number is an error.
pub(crate) fn content_length(headers: &HeaderMap) -> Result<Option<u64>, String> {
    let Some(value) = headers.get(CONTENT_LENGTH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| format!("malformed Content-Length {value:?}"))
}

/// `Content-Range`, parsed; `None` when the header is absent.
pub(crate) fn content_range(headers: &HeaderMap) -> Result<Option<ContentRange>, String> {
    match headers.get(CONTENT_RANGE) {
        None => Ok(None),
        Some(value) => {
            let text = value
                .to_str()
                .map_err(|_| format!("malformed Content-Range {value:?}"))?;
            parse_content_range(text).map(Some)
        }
    }
}

impl ByteRange {
    /// The bytes this range selects of an object of `total` bytes, clamped
    /// to the object as S3 does (a range running past the end ends there).
    pub(crate) fn within(&self, total: u64) -> Range<u64> {
        match *self {
            Self::Bounded { start, end } => start.min(total)..end.min(total).max(start.min(total)),
            Self::From(start) => start.min(total)..total,
            Self::Suffix(n) => total.saturating_sub(n)..total,
        }
    }
}

/// Checks a 206's `Content-Range` against the range asked: the server must
/// send exactly the bytes the range selects of an object of its total size.
pub(crate) fn check_partial(asked: &ByteRange, got: &ContentRange) -> Result<(), String> {
    let expected = asked.within(got.total);
    if got.range == expected {
        return Ok(());
    }
    Err(format!(
        "asked for bytes {}..{} of a {}-byte object, the server sent bytes {}..{} (Content-Range)",
        expected.start, expected.end, got.total, got.range.start, got.range.end
    ))
}

/// An answer's size (a 206's `Content-Range` total, a 200's length) must
/// be the size the read was planned on, when one was: a listing that is
/// stale, or a gateway or cache that lists or serves a cut copy, would
/// otherwise end the read early, silently.
pub(crate) fn check_size(planned: Option<u64>, answered: u64) -> Result<(), String> {
    match planned {
        Some(planned) if planned != answered => Err(format!(
            "the object is {answered} bytes, the read was planned on {planned} bytes (the size its listing or HEAD gave): the listing is stale, or something between this client and the server (a gateway, a cache) reports or serves another size; run it again, or read it without that gateway"
        )),
        _ => Ok(()),
    }
}

/// An answer to a GET pinned to `pinned` (`If-Match`) must carry that
/// ETag: a server or cache that ignores If-Match answers with the version
/// it has, and a read of several requests would splice two versions. An
/// answer without an ETag (a gateway or cache stripping it) proves
/// nothing, so it is refused too.
pub(crate) fn check_if_match_answer(
    pinned: Option<&str>,
    answered: Option<&str>,
) -> Result<(), String> {
    match (pinned, answered) {
        (Some(want), None) if want != "*" => Err(format!(
            "the answer carries no ETag, the read was pinned to {want} (If-Match): a gateway or cache between strips it, so the answer may be of another version; read it without that gateway"
        )),
        _ => check_pinned(pinned, answered),
    }
}

/// Whether two answers' ETags say they are of one version: only ETags
/// that both exist and differ say they are not (an answer without one is
/// refused by [`check_if_match_answer`] where a request was pinned).
pub(crate) fn check_pinned(pinned: Option<&str>, answered: Option<&str>) -> Result<(), String> {
    match (pinned, answered) {
        (Some(want), Some(have)) if want != "*" && etag_value(want) != etag_value(have) => {
            Err(format!(
                "the answer is of ETag {have}, the read was pinned to {want} (If-Match): the object changed during the read and the server ignored If-Match; read it again"
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_what_does_not_add_up() {
        assert_eq!(
            parse_content_range("bytes 5-14/100"),
            Ok(ContentRange {
                range: 5..15,
                total: 100
            })
        );
        // `last + 1` would overflow, `end - start` would underflow.
        let max = u64::MAX;
        assert!(parse_content_range(&format!("bytes 0-{max}/{max}")).is_err());
        assert!(parse_content_range("bytes 9-2/10").is_err());
        assert!(parse_content_range("bytes 0-9/*").is_err());
        assert!(parse_content_range("bytes 0-10/10").is_err());
        assert!(parse_content_range("bytes -1-5/10").is_err());
        assert!(parse_content_range("items 0-1/2").is_err());
        assert!(parse_content_range("bytes 99999999999999999999-1/2").is_err());
    }

    #[test]
    fn partial_answers_are_checked_against_the_request() {
        let got = |start, end, total| ContentRange {
            range: start..end,
            total,
        };
        let bounded = ByteRange::Bounded { start: 10, end: 20 };
        assert!(check_partial(&bounded, &got(10, 20, 100)).is_ok());
        // Clamped at the end of a short object.
        assert!(check_partial(&bounded, &got(10, 15, 15)).is_ok());
        assert!(check_partial(&bounded, &got(0, 10, 100)).is_err());
        assert!(check_partial(&bounded, &got(10, 21, 100)).is_err());
        let suffix = ByteRange::Suffix(8);
        assert!(check_partial(&suffix, &got(92, 100, 100)).is_ok());
        assert!(check_partial(&suffix, &got(0, 5, 5)).is_ok());
        assert!(check_partial(&suffix, &got(0, 8, 100)).is_err());
        assert!(check_partial(&ByteRange::From(3), &got(3, 9, 9)).is_ok());
        assert!(check_partial(&ByteRange::From(3), &got(3, 8, 9)).is_err());
    }

    #[test]
    fn a_pinned_answer_must_carry_the_pinned_etag() {
        assert!(check_if_match_answer(Some("\"a\""), Some("a")).is_ok());
        assert!(check_if_match_answer(Some("\"a\""), Some("\"b\"")).is_err());
        assert!(
            check_if_match_answer(Some("\"a\""), None).is_err(),
            "no ETag"
        );
        assert!(check_if_match_answer(Some("*"), None).is_ok());
        assert!(check_if_match_answer(None, None).is_ok());
        // A weak ETag of the same value (a proxy transformed the body).
        assert!(check_pinned(Some("\"a\""), Some("W/\"a\"")).is_ok());
        assert!(check_pinned(Some("\"a\""), Some("W/\"b\"")).is_err());
    }

    #[test]
    fn content_length_must_be_a_number() {
        let mut h = HeaderMap::new();
        assert_eq!(content_length(&h), Ok(None));
        h.insert(CONTENT_LENGTH, "12".parse().unwrap());
        assert_eq!(content_length(&h), Ok(Some(12)));
        h.insert(CONTENT_LENGTH, "-1".parse().unwrap());
        assert!(content_length(&h).is_err());
    }
}
