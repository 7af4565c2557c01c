//! DuckDB's `dateformat` and `timestampformat` for CSV: arrow-csv parses
//! ISO 8601 only, so such columns are decoded as text and converted here,
//! with chrono's strftime specifiers (`%d/%m/%Y`, `%Y-%m-%d %H:%M:%S`,
//! `%b`, `%p`, ...: the ones DuckDB's format strings use).

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use datafusion::arrow::array::{
    Array, ArrayRef, Date32Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, TimeUnit};

/// The formats a CSV scan was given, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemporalFormats {
    /// `dateformat`: how DATE columns are written.
    pub date: Option<String>,
    /// `timestampformat`: how TIMESTAMP columns are written.
    pub timestamp: Option<String>,
}

/// The type a column gets when read with these formats.
pub const DATE: DataType = DataType::Date32;
/// See [`DATE`]; microseconds, as DuckDB's TIMESTAMP.
pub const TIMESTAMP: DataType = DataType::Timestamp(TimeUnit::Microsecond, None);

/// DuckDB's TIMESTAMP WITH TIME ZONE in `unit`: instants, shown in the
/// session's zone (UTC).
pub fn timestamp_tz(unit: TimeUnit) -> DataType {
    DataType::Timestamp(unit, Some("UTC".into()))
}

/// Whether an ISO timestamp (`YYYY-MM-DD HH:MM:SS[.f]...`, as arrow's CSV
/// inference matched it) goes on past its seconds and their fraction: a
/// zone, such as `Z`, `+02` or `-05:30`.
pub fn has_zone(text: &str) -> bool {
    let Some(rest) = text.trim().get(19..) else {
        return false;
    };
    let rest = match rest.strip_prefix('.') {
        Some(fraction) => fraction.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => rest,
    };
    !rest.trim().is_empty()
}

impl TemporalFormats {
    /// Whether any format was given.
    pub fn any(&self) -> bool {
        self.date.is_some() || self.timestamp.is_some()
    }

    /// The format a column of type `data_type` is parsed with, if it is
    /// read as text and converted here.
    pub fn format_for(&self, data_type: &DataType) -> Option<&str> {
        match data_type {
            DataType::Date32 => self.date.as_deref(),
            DataType::Timestamp(_, None) => self.timestamp.as_deref(),
            _ => None,
        }
    }

    /// The type a sampled text column has under these formats: DATE when
    /// every non-empty value parses with `dateformat`, else TIMESTAMP when
    /// every one parses with `timestampformat`; `None` keeps it text.
    pub fn sniff<'a>(&self, values: impl Iterator<Item = &'a str> + Clone) -> Option<DataType> {
        let all = |parse: &dyn Fn(&str) -> bool| {
            let mut any = false;
            for v in values.clone().filter(|v| !v.is_empty()) {
                if !parse(v) {
                    return false;
                }
                any = true;
            }
            any
        };
        if let Some(f) = &self.date
            && all(&|v| parse_date(v, f).is_some())
        {
            return Some(DATE);
        }
        if let Some(f) = &self.timestamp
            && all(&|v| parse_timestamp(v, f).is_some())
        {
            return Some(TIMESTAMP);
        }
        None
    }
}

/// The date formats DuckDB's CSV sniffer tries, `-` standing for each of
/// [`DATE_SEPARATORS`] (DuckDB 1.5's candidates). A two-digit year goes
/// before its four-digit twin: chrono's `%Y` also takes `24`, DuckDB's
/// does not.
const SNIFFED_DATES: [&str; 6] = [
    "%m-%d-%y", "%m-%d-%Y", "%d-%m-%y", "%d-%m-%Y", "%y-%m-%d", "%Y-%m-%d",
];
/// The timestamp formats it tries, alike.
const SNIFFED_TIMESTAMPS: [&str; 7] = [
    "%Y-%m-%d %H:%M:%S.%f",
    "%m-%d-%y %I:%M:%S %p",
    "%m-%d-%Y %I:%M:%S %p",
    "%d-%m-%y %H:%M:%S",
    "%d-%m-%Y %H:%M:%S",
    "%y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
];
/// The separators between a date's parts DuckDB's sniffer takes.
const DATE_SEPARATORS: [char; 4] = ['-', '/', '.', ' '];

/// The date or timestamp format DuckDB's CSV sniffer would read a column
/// of `values` with (empty ones aside): the first of its candidates
/// (`%m/%d/%Y`, `%d.%m.%Y %H:%M:%S`, ...) that every value parses with;
/// `None` when there is no value, or no candidate fits them all (free
/// text). DuckDB types such a column DATE or TIMESTAMP, where arrow's
/// inference, ISO 8601 only, leaves it text unless its values are ISO.
pub fn sniffed_date_format<'a>(values: impl Iterator<Item = &'a str> + Clone) -> Option<String> {
    let mut values = values.map(str::trim).filter(|v| !v.is_empty()).peekable();
    values.peek()?;
    let candidates = DATE_SEPARATORS.iter().flat_map(|sep| {
        SNIFFED_DATES
            .iter()
            .map(move |f| (f.replace('-', &sep.to_string()), true))
            .chain(SNIFFED_TIMESTAMPS.iter().map(move |f| {
                let (date, time) = f.split_once(' ').unwrap_or((f, ""));
                (
                    format!("{} {time}", date.replace('-', &sep.to_string())),
                    false,
                )
            }))
    });
    for (format, date) in candidates {
        let fits = |v: &str| match date {
            true => NaiveDate::parse_from_str(v, &format).is_ok(),
            false => NaiveDateTime::parse_from_str(v, &format).is_ok(),
        };
        if values.clone().all(fits) {
            return Some(format);
        }
    }
    None
}

/// Days since 1970-01-01 of `text` written as `format`.
pub fn parse_date(text: &str, format: &str) -> Option<i32> {
    let date = NaiveDate::parse_from_str(text.trim(), format).ok()?;
    Some((date - NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days() as i32)
}

/// Microseconds since 1970-01-01 00:00 of `text` written as `format`; a
/// format without a time of day reads midnight.
pub fn parse_timestamp(text: &str, format: &str) -> Option<i64> {
    let text = text.trim();
    let at = NaiveDateTime::parse_from_str(text, format)
        .or_else(|_| NaiveDate::parse_from_str(text, format).map(|d| d.and_time(NaiveTime::MIN)))
        .ok()?;
    Some(at.and_utc().timestamp_micros())
}

/// `text` converted to `target` (DATE or TIMESTAMP) with `format`. Empty
/// and NULL values are NULL; the first value that does not parse is
/// returned by its row index unless `skip_bad`, which makes it NULL and
/// marks it in the returned row list instead.
pub fn convert(
    text: &StringArray,
    target: &DataType,
    format: &str,
    skip_bad: bool,
) -> Result<(ArrayRef, Vec<usize>), usize> {
    let mut bad = Vec::new();
    let mut parse = |i: usize, parse: &dyn Fn(&str) -> Option<i64>| -> Result<Option<i64>, usize> {
        if text.is_null(i) || text.value(i).trim().is_empty() {
            return Ok(None);
        }
        match parse(text.value(i)) {
            Some(v) => Ok(Some(v)),
            None if skip_bad => {
                bad.push(i);
                Ok(None)
            }
            None => Err(i),
        }
    };
    let array: ArrayRef = match target {
        DataType::Date32 => {
            let values = (0..text.len())
                .map(|i| parse(i, &|v| parse_date(v, format).map(i64::from)))
                .map(|v| v.map(|v| v.map(|d| d as i32)))
                .collect::<Result<Date32Array, usize>>()?;
            Arc::new(values)
        }
        _ => {
            let values = (0..text.len())
                .map(|i| parse(i, &|v| parse_timestamp(v, format)))
                .collect::<Result<TimestampMicrosecondArray, usize>>()?;
            Arc::new(values)
        }
    };
    Ok((array, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_timestamps_parse_with_duckdb_style_formats() {
        assert_eq!(parse_date("31/12/1999", "%d/%m/%Y"), Some(10956));
        assert_eq!(parse_date("1970-01-01", "%d/%m/%Y"), None);
        assert_eq!(
            parse_timestamp("01/02/2024 13:45:30", "%d/%m/%Y %H:%M:%S"),
            Some(1_706_795_130_000_000)
        );
        // A date-only format read as a timestamp is midnight.
        assert_eq!(
            parse_timestamp("02/01/1970", "%d/%m/%Y"),
            Some(86_400_000_000)
        );
    }

    /// The columns DuckDB 1.5.5 typed DATE or TIMESTAMP from these values
    /// (checked with its `DESCRIBE`), and the ones it left VARCHAR.
    #[test]
    fn the_sniffed_format_is_the_first_of_duckdbs_candidates_fitting_every_value() {
        for (values, format) in [
            (&["01/05/2024", "02/29/2024"][..], "%m/%d/%Y"),
            (&["13/05/2024", "", "29/02/2024"], "%d/%m/%Y"),
            (&["2024/01/05", "2024/02/29"], "%Y/%m/%d"),
            (&["05.01.2024", "29.02.2024"], "%d.%m.%Y"),
            (&["01 05 2024"], "%m %d %Y"),
            (&["01/05/24"], "%m/%d/%y"),
            (&["13/05/2024 10:00:00"], "%d/%m/%Y %H:%M:%S"),
            (&["01/05/2024 10:00:00 PM"], "%m/%d/%Y %I:%M:%S %p"),
            (&["2024/01/05 10:00:00.25"], "%Y/%m/%d %H:%M:%S.%f"),
        ] {
            assert_eq!(
                sniffed_date_format(values.iter().copied()).as_deref(),
                Some(format),
                "{values:?}"
            );
        }
        for values in [
            &["hello"][..],
            &["01/05/2024", "2024/02/28"],
            &["01/05/2024 10:00:00", "02/28/2024 11:00:00"],
            &["", " "],
            &[],
            &["2024", "12"],
        ] {
            assert_eq!(
                sniffed_date_format(values.iter().copied()),
                None,
                "{values:?}"
            );
        }
    }

    #[test]
    fn a_zone_is_what_follows_the_seconds() {
        for zoned in [
            "2024-01-01T00:00:00Z",
            "2024-01-01 00:00:00+02",
            "2024-01-01 00:00:00.123456-05:30",
            "2024-01-01 00:00:00.5 +0200",
        ] {
            assert!(has_zone(zoned), "{zoned}");
        }
        for plain in [
            "2024-01-01 00:00:00",
            "2024-01-01T00:00:00.123 ",
            "2024-01-01",
        ] {
            assert!(!has_zone(plain), "{plain}");
        }
    }

    #[test]
    fn a_column_is_typed_only_when_every_value_parses() {
        let formats = TemporalFormats {
            date: Some("%d/%m/%Y".into()),
            timestamp: Some("%d/%m/%Y %H:%M".into()),
        };
        assert_eq!(
            formats.sniff(["01/02/2024", "", "28/02/2024"].into_iter()),
            Some(DATE)
        );
        assert_eq!(
            formats.sniff(["01/02/2024 10:00"].into_iter()),
            Some(TIMESTAMP)
        );
        assert_eq!(formats.sniff(["01/02/2024", "soon"].into_iter()), None);
        assert_eq!(formats.sniff(["", ""].into_iter()), None);
    }

    #[test]
    fn convert_names_the_first_bad_row_or_skips_it() {
        let text = StringArray::from(vec![Some("01/02/2024"), None, Some("bad"), Some("")]);
        assert_eq!(convert(&text, &DATE, "%d/%m/%Y", false).err(), Some(2));
        let (array, bad) = convert(&text, &DATE, "%d/%m/%Y", true).unwrap();
        assert_eq!(bad, [2]);
        assert_eq!(array.null_count(), 3);
    }
}
