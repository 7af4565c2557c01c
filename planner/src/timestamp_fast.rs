//! The fast path of a text cast to TIMESTAMP, TIMESTAMPTZ or DATE: a
//! plain text (`YYYY-MM-DD HH:MM:SS[.F]`, then nothing, `Z`, `±HH`,
//! `±HHMM` or `±HH:MM`; a DATE's `YYYY-MM-DD`, or that timestamp without
//! an offset) arrow's cast reads as DuckDB does, or refuses. Arrow casts
//! the batch; the grammar ([`crate::timestamp_parse`]) then reads only the
//! rows that are not plain or that arrow refused, so one odd text does not
//! send its batch to the grammar. Arrow's kernel is compiled optimized
//! where this crate's code is not in a debug build: the grammar per value
//! was 6 to 7 times slower on text with `Z` or an offset, and a batch with
//! one odd text in a thousand 8 times slower than arrow's cast.
//!
//! Index loops over raw offsets and views, not the arrays' iterators: this
//! runs for every value, and a debug build paid more for the iterator's
//! calls than arrow's cast of the same values.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, GenericStringArray, LargeStringArray, OffsetSizeTrait,
    StringViewArray,
};
use datafusion::arrow::buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use datafusion::arrow::compute::{CastOptions, cast, cast_with_options, max, min};
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit};

/// A batch cast by arrow, and the rows it leaves to the grammar.
#[derive(Debug)]
pub(crate) struct ByArrow {
    /// Arrow's cast of the batch (of the cast's type); a row in `rest`
    /// holds nothing to keep.
    pub(crate) values: ArrayRef,
    /// The rows (ascending, none NULL) the grammar reads: text that is not
    /// plain, that arrow refused, or that arrow read as an infinity.
    pub(crate) rest: Vec<usize>,
}

/// `array` (text) cast to `to` by arrow where a text is plain; None when
/// most texts are not (the grammar then reads the batch).
pub(crate) fn by_arrow(array: &ArrayRef, to: &DataType) -> Option<ByArrow> {
    // Digits of a second's fraction the unit holds; 0: a DATE.
    let (most_digits, zone) = match to {
        DataType::Timestamp(TimeUnit::Nanosecond, zone) => (9, zone.as_deref()),
        DataType::Timestamp(TimeUnit::Microsecond, zone) => (6, zone.as_deref()),
        DataType::Date32 => (0, None),
        _ => return None,
    };
    // Text without an offset is, in a zone other than UTC, a local time
    // arrow does not read as DuckDB does in a skipped or repeated hour.
    let bare_is_odd = zone.is_some_and(|zone| zone != "UTC");
    let nulls = array.nulls().filter(|n| n.null_count() > 0);
    let mut odd = Vec::new();
    let mut zoned = false;
    each_text(array, |i, text| {
        match plain_end(text, most_digits) {
            Some(end) if end == text.len() && !bare_is_odd => {}
            Some(end) if end < text.len() => zoned = true,
            _ if nulls.is_some_and(|n| n.is_null(i)) => {}
            _ => odd.push(i),
        }
        true
    });
    if odd.len() * 2 > array.len() {
        return None;
    }
    let input = match zone {
        // DuckDB's TIMESTAMP keeps the time written and ignores an offset;
        // arrow's would apply it.
        None if zoned => without_offsets(array, most_digits),
        _ => Arc::clone(array),
    };
    let safe = CastOptions {
        safe: true,
        ..CastOptions::default()
    };
    let values = cast_with_options(&input, to, &safe).ok()?;
    let mut rest = odd;
    // Rows arrow refused: NULL out, not NULL in.
    if let Some(out) = values.nulls() {
        let refused = match array.nulls() {
            Some(input) => input.inner() & &!out.inner(),
            None => !out.inner(),
        };
        rest.extend(refused.set_indices());
    }
    // ±i64::MAX are the infinities, which no plain text is: the two texts
    // whose nanoseconds they are go to the grammar, which refuses them
    // (review of tstext: `-infinity` here, NULL in a batch the grammar read).
    rest.extend(at_an_infinity(&values));
    rest.sort_unstable();
    rest.dedup();
    Some(ByArrow { values, rest })
}

/// The rows of a timestamp array at ±i64::MAX; arrow's kernels (compiled
/// optimized) first rule them out.
fn at_an_infinity(array: &ArrayRef) -> Vec<usize> {
    if !matches!(array.data_type(), DataType::Timestamp(..)) {
        return Vec::new();
    }
    let Ok(values) = cast(array, &DataType::Int64) else {
        return Vec::new();
    };
    let values = values.as_primitive::<Int64Type>();
    if max(values) != Some(i64::MAX) && min(values).is_none_or(|least| least > -i64::MAX) {
        return Vec::new();
    }
    (0..values.len())
        .filter(|&i| values.is_valid(i) && values.value(i).unsigned_abs() == i64::MAX as u64)
        .collect()
}

/// Calls `f` with each index and text (a NULL's bytes too) of a Utf8,
/// LargeUtf8 or Utf8View `array` until it answers false; whether it always
/// answered true (false for another type).
fn each_text(array: &ArrayRef, f: impl FnMut(usize, &[u8]) -> bool) -> bool {
    match array.data_type() {
        DataType::Utf8 => each_of_offsets(array.as_string::<i32>(), f),
        DataType::LargeUtf8 => each_of_offsets(array.as_string::<i64>(), f),
        DataType::Utf8View => each_of_views(array.as_string_view(), f),
        _ => false,
    }
}

/// [`each_text`] of a Utf8 or LargeUtf8 array.
fn each_of_offsets<O: OffsetSizeTrait>(
    array: &GenericStringArray<O>,
    mut f: impl FnMut(usize, &[u8]) -> bool,
) -> bool {
    let offsets: &[O] = array.value_offsets();
    let bytes: &[u8] = array.value_data();
    let mut i = 0;
    while i < array.len() {
        if !f(i, &bytes[offsets[i].as_usize()..offsets[i + 1].as_usize()]) {
            return false;
        }
        i += 1;
    }
    true
}

/// [`each_text`] of a Utf8View array (a value of 12 bytes or fewer is in
/// its view, after the length).
fn each_of_views(array: &StringViewArray, mut f: impl FnMut(usize, &[u8]) -> bool) -> bool {
    let views: &[u128] = array.views();
    let buffers: Vec<&[u8]> = array.data_buffers().iter().map(|b| b.as_slice()).collect();
    let mut i = 0;
    while i < views.len() {
        let view = views[i];
        let len = view as u32 as usize;
        let inline = view.to_le_bytes();
        let text = if len <= 12 {
            &inline[4..4 + len]
        } else {
            let (buffer, start) = ((view >> 64) as u32 as usize, (view >> 96) as u32 as usize);
            &buffers[buffer][start..start + len]
        };
        if !f(i, text) {
            return false;
        }
        i += 1;
    }
    true
}

/// The plain texts of `array` without their `Z` or offset, as LargeUtf8
/// (`array` itself should a text not be plain, which [`by_arrow`] has
/// ruled out).
fn without_offsets(array: &ArrayRef, most_digits: usize) -> ArrayRef {
    let mut offsets: Vec<i64> = Vec::with_capacity(array.len() + 1);
    let mut values: Vec<u8> = Vec::with_capacity(array.len() * 26);
    offsets.push(0);
    each_text(array, |_, text| {
        let end = plain_end(text, most_digits).unwrap_or(text.len());
        values.extend_from_slice(&text[..end]);
        offsets.push(values.len() as i64);
        true
    });
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    let nulls = array.nulls().cloned();
    match LargeStringArray::try_new(offsets, Buffer::from_vec(values), nulls) {
        Ok(stripped) => Arc::new(stripped),
        Err(_) => Arc::clone(array),
    }
}

/// The length of `text`'s date and time when it is `YYYY-MM-DD
/// HH:MM:SS[.F]` (or a `T` for the space) with at most `most_digits` of
/// fraction, then nothing, `Z`, `±HH`, `±HHMM` or `±HH:MM` (hours below
/// 24, minutes below 60; arrow reads these as DuckDB does); with
/// `most_digits` 0 (a DATE), `YYYY-MM-DD` alone or before such a time
/// with nothing or `Z` after it (the text's length). Patterns, not calls,
/// for a debug build's sake.
fn plain_end(text: &[u8], most_digits: usize) -> Option<usize> {
    if most_digits == 0 {
        #[rustfmt::skip]
        let date = matches!(text, [
            b'0'..=b'9', b'0'..=b'9', b'0'..=b'9', b'0'..=b'9', b'-',
            b'0'..=b'9', b'0'..=b'9', b'-', b'0'..=b'9', b'0'..=b'9',
        ]);
        if date {
            return Some(10);
        }
        // A timestamp's text, whose date arrow's Date32 cast reads in UTC:
        // DuckDB ignores an offset, so none but `Z`.
        return match plain_end(text, 9) {
            Some(end) if matches!(&text[end..], [] | [b'Z']) => Some(text.len()),
            _ => None,
        };
    }
    #[rustfmt::skip]
    let fixed = matches!(text, [
        b'0'..=b'9', b'0'..=b'9', b'0'..=b'9', b'0'..=b'9', b'-',
        b'0'..=b'9', b'0'..=b'9', b'-', b'0'..=b'9', b'0'..=b'9', b' ' | b'T',
        b'0'..=b'9', b'0'..=b'9', b':', b'0'..=b'9', b'0'..=b'9', b':',
        b'0'..=b'5', b'0'..=b'9', ..
    ]);
    if !fixed {
        return None;
    }
    let mut end = 19;
    if text.get(19) == Some(&b'.') {
        end = 20;
        while end < text.len() && text[end].is_ascii_digit() {
            end += 1;
        }
        if end == 20 || end > 20 + most_digits {
            return None;
        }
    }
    let suffix = match &text[end..] {
        [] | [b'Z'] => true,
        [b'+' | b'-', h, hh, minutes @ ..] => {
            matches!((h, hh), (b'0' | b'1', b'0'..=b'9') | (b'2', b'0'..=b'3'))
                && matches!(
                    minutes,
                    [] | [b'0'..=b'5', b'0'..=b'9'] | [b':', b'0'..=b'5', b'0'..=b'9']
                )
        }
        _ => false,
    };
    suffix.then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{StringArray, TimestampNanosecondArray};

    fn plain_of(array: ArrayRef, most_digits: usize) -> Option<(bool, bool)> {
        let (mut bare, mut zoned, mut all) = (false, false, true);
        let nulls = array.nulls().cloned();
        each_text(&array, |i, text| {
            match plain_end(text, most_digits) {
                Some(end) if end == text.len() => bare = true,
                Some(_) => zoned = true,
                None if nulls.as_ref().is_some_and(|n| n.is_null(i)) => {}
                None => all = false,
            }
            true
        });
        all.then_some((bare, zoned))
    }

    /// The check reads every value of each string layout, a date inline
    /// in its view too, skips NULLs, and takes `Z` and `±HH[[:]MM]`.
    #[test]
    fn plain_values_in_every_layout() {
        let stamps = [
            Some("2024-01-02 06:00:00.5"),
            None,
            Some("2024-01-02T06:00:00"),
        ];
        let views: ArrayRef = Arc::new(StringViewArray::from_iter(stamps));
        assert_eq!(plain_of(views, 9), Some((true, false)));
        let large: ArrayRef = Arc::new(LargeStringArray::from_iter(stamps));
        assert_eq!(plain_of(large, 1), Some((true, false)));
        let dates: ArrayRef = Arc::new(StringViewArray::from_iter([
            Some("2024-01-02"),
            None,
            Some("2024-01-02 06:00:00.123456789Z"),
            Some("2024-01-02T06:00:00"),
        ]));
        assert_eq!(plain_of(dates, 0), Some((true, false)));
        for odd in ["2024-01-02 06:00:00+02", "2024-01-02 06:00", "2024-01-02x"] {
            let one: ArrayRef = Arc::new(StringArray::from_iter([Some(odd)]));
            assert_eq!(plain_of(one, 0), None, "{odd}");
        }
        for zoned in [
            "2024-01-02 06:00:00Z",
            "2024-01-02 06:00:00.5+02",
            "2024-01-02T06:00:00-02:30",
            "2024-01-02 06:00:00+2359",
        ] {
            let one: ArrayRef = Arc::new(StringArray::from_iter([Some(zoned)]));
            assert_eq!(plain_of(one, 9), Some((false, true)), "{zoned}");
        }
        for odd in [
            "2024-01-02 06:00",
            "2024-01-02 06:00:00.",
            "2024-1-02",
            "2024-01-02 06:00:00.1234567890",
            "2024-01-02 06:00:60",
            "2024-01-02 06:00:00+24",
            "2024-01-02 06:00:00+02:60",
            "2024-01-02 06:00:00+2",
            "2024-01-02 06:00:00+023015",
            "2024-01-02 06:00:00z",
            "2024-01-02 06:00:00 +02",
            "2024-01-02 06:00:00UTC",
        ] {
            let one = [Some("2024-01-02 06:00:00"), Some(odd)];
            let views: ArrayRef = Arc::new(StringViewArray::from_iter(one));
            assert_eq!(plain_of(views, 9), None, "{odd}");
            let offsets: ArrayRef = Arc::new(StringArray::from_iter(one));
            assert_eq!(plain_of(offsets, 9), None, "{odd}");
        }
    }

    /// A TIMESTAMP keeps the written time, a TIMESTAMPTZ applies the
    /// offset, and a TIMESTAMPTZ in another zone leaves text without one
    /// to the slow path.
    #[test]
    fn offsets_by_arrow_as_duckdb() {
        let text: ArrayRef = Arc::new(StringViewArray::from_iter([
            Some("2024-01-02 06:00:00+02"),
            None,
            Some("2024-01-02 06:00:00.5Z"),
        ]));
        let six = 1_704_175_200_000_000_000;
        let local = by_arrow(&text, &DataType::Timestamp(TimeUnit::Nanosecond, None));
        let expected =
            TimestampNanosecondArray::from(vec![Some(six), None, Some(six + 500_000_000)]);
        let local = local.expect("plain");
        assert_eq!(local.values.to_data(), expected.to_data());
        assert!(local.rest.is_empty());
        let utc = DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()));
        let instants = by_arrow(&text, &utc).expect("plain").values;
        let instants =
            instants.as_primitive::<datafusion::arrow::datatypes::TimestampNanosecondType>();
        assert_eq!(instants.value(0), six - 7_200_000_000_000);
        let paris = DataType::Timestamp(TimeUnit::Nanosecond, Some("Europe/Paris".into()));
        assert_eq!(by_arrow(&text, &paris).map(|f| f.rest), Some(vec![]));
        let bare: ArrayRef = Arc::new(StringArray::from_iter([
            Some("2024-01-02 06:00:00"),
            Some("2024-01-02 06:00:00Z"),
            Some("2024-01-02 06:00:00Z"),
        ]));
        assert_eq!(by_arrow(&bare, &paris).map(|f| f.rest), Some(vec![0]));
        let most: ArrayRef = Arc::new(StringArray::from_iter([Some("2024-01-02 06:00:00")]));
        assert!(by_arrow(&most, &paris).is_none());
    }

    /// Only the rows that are not plain, or that arrow refused, are left
    /// to the grammar; the others keep arrow's values, offsets kept out of
    /// a TIMESTAMP among odd text too, and a DATE of a timestamp's text.
    #[test]
    fn odd_rows_alone_are_left_to_the_grammar() {
        let text: ArrayRef = Arc::new(StringViewArray::from_iter([
            Some("2024-01-02 06:00:00+02"),
            Some("2024-1-2 6:00"),
            None,
            Some("2024-02-30 06:00:00"),
            Some("2024-01-02 06:00:00"),
        ]));
        let six = 1_704_175_200_000_000_000;
        let local = by_arrow(&text, &DataType::Timestamp(TimeUnit::Nanosecond, None));
        let local = local.expect("mostly plain");
        assert_eq!(local.rest, [1, 3]);
        let values = local
            .values
            .as_primitive::<datafusion::arrow::datatypes::TimestampNanosecondType>();
        assert_eq!((values.value(0), values.value(4)), (six, six));
        let dates = by_arrow(&text, &DataType::Date32).expect("mostly plain");
        // The offset's row is not plain to a DATE (arrow would apply it).
        assert_eq!(dates.rest, [0, 1, 3]);
        let days = dates
            .values
            .as_primitive::<datafusion::arrow::datatypes::Date32Type>();
        assert_eq!(days.value(4), 19724);
    }

    /// Arrow reads a DATE of a timestamp's text, and a batch with one
    /// odd text in a thousand but for that text (review of tstext: both
    /// sent the whole batch to the grammar, 2.5 and 8 times slower).
    #[test]
    fn a_date_of_timestamp_text_and_one_odd_text_in_a_thousand() {
        let stamps: ArrayRef = Arc::new(StringArray::from_iter([Some("2024-01-02 06:00:00")]));
        let dates = by_arrow(&stamps, &DataType::Date32).expect("DATE of a timestamp's text");
        assert!(dates.rest.is_empty());
        let mut texts = vec![Some("2024-01-02 06:00:00"); 999];
        texts.insert(500, Some("2024-1-2 6:00"));
        let odd: ArrayRef = Arc::new(StringArray::from_iter(texts));
        let ns = DataType::Timestamp(TimeUnit::Nanosecond, None);
        let fast = by_arrow(&odd, &ns).expect("one odd text in 1,000");
        assert_eq!(fast.rest, [500]);
    }

    /// The texts whose nanoseconds are the infinities are left to the
    /// grammar, whatever their batch.
    #[test]
    fn the_infinities_nanoseconds_are_left_to_the_grammar() {
        let ns = DataType::Timestamp(TimeUnit::Nanosecond, None);
        for edge in [
            "1677-09-21 00:12:43.145224193",
            "2262-04-11 23:47:16.854775807",
        ] {
            let text: ArrayRef = Arc::new(StringArray::from_iter([Some(edge)]));
            assert_eq!(
                by_arrow(&text, &ns).map(|f| f.rest),
                Some(vec![0]),
                "{edge}"
            );
        }
        let least: ArrayRef = Arc::new(StringArray::from_iter([Some(
            "1677-09-21 00:12:43.145224194",
        )]));
        assert_eq!(by_arrow(&least, &ns).map(|f| f.rest), Some(vec![]));
    }
}
