//! DuckDB's strftime, as COPY's DATEFORMAT and TIMESTAMPFORMAT take it,
//! translated for chrono (which arrow formats with): the specifiers DuckDB
//! 1.5.5 knows, each written as DuckDB writes it, and any other refused as
//! DuckDB refuses it. They differ where chrono reads the same letter
//! otherwise: `%f` is DuckDB's microseconds (chrono's nanoseconds), `%g`
//! milliseconds and `%n` nanoseconds (chrono: ISO year, newline), `%c`,
//! `%x` and `%X` are `2024-03-05 07:08:09`, `2024-03-05` and `07:08:09`
//! whatever the locale, `%z` is `+00` and `%Z` the time zone's name (empty
//! for a TIMESTAMP, which has none). A DATE has no time of day: its
//! hours, minutes, seconds and fractions are zeros, its `%I` 12 and `%p`
//! AM, as DuckDB writes them (chrono cannot format them for a date).

use datafusion::arrow::array::Array;
use datafusion::arrow::datatypes::{DataType, Field};

use super::error::CopyError;
use super::options::CopyOptions;
use super::text::{DuckText, format_options};
use crate::error::Result;

/// A COPY's DATEFORMAT and TIMESTAMPFORMAT (CSV and JSON), as DuckDB 1.5.5
/// applies them: to the DATE, TIMESTAMP and TIMESTAMPTZ columns, not to
/// values inside a LIST, STRUCT or MAP.
#[derive(Debug, Clone, Default)]
pub(crate) struct DateFormats {
    date: Option<String>,
    timestamp: Option<String>,
}

impl DateFormats {
    pub(crate) fn new(options: &CopyOptions) -> Self {
        Self {
            date: options.date_format.clone(),
            timestamp: options.timestamp_format.clone(),
        }
    }

    /// Whether neither is given.
    pub(crate) fn is_empty(&self) -> bool {
        self.date.is_none() && self.timestamp.is_none()
    }

    /// The chrono format of a column of type `kind`, when one applies to it.
    pub(crate) fn chrono_format(&self, kind: &DataType) -> Result<Option<String>> {
        let (format, written, option) = match (kind, &self.date, &self.timestamp) {
            (DataType::Dictionary(_, values), ..) => return self.chrono_format(values),
            (DataType::Date32 | DataType::Date64, Some(f), _) => (f, Written::Date, "DATEFORMAT"),
            (DataType::Timestamp(_, None), _, Some(f)) => {
                (f, Written::Timestamp, "TIMESTAMPFORMAT")
            }
            (DataType::Timestamp(_, Some(tz)), _, Some(f)) => {
                (f, Written::Zoned(tz), "TIMESTAMPFORMAT")
            }
            _ => return Ok(None),
        };
        Ok(Some(chrono_format(format, written, option)?))
    }
}

/// The text of the column `array` (`field`): under `format` (from
/// [`DateFormats::chrono_format`]) when given, written exactly as it says
/// (a timestamp's fraction not trimmed, its offset not shortened), else
/// DuckDB's text.
pub(crate) fn column_text<'a>(
    array: &'a dyn Array,
    field: &'a Field,
    format: Option<&'a str>,
) -> Result<DuckText<'a>> {
    Ok(match format {
        Some(format) => {
            let options = format_options()
                .with_date_format(Some(format))
                .with_datetime_format(Some(format))
                .with_timestamp_format(Some(format))
                .with_timestamp_tz_format(Some(format));
            DuckText::for_field(array, field, &options)?
                .verbatim_timestamps()
                .verbatim_dates()
        }
        None => DuckText::for_field(array, field, &format_options())?,
    })
}

/// What a format is applied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written<'a> {
    /// A DATE (DATEFORMAT).
    Date,
    /// A TIMESTAMP without a time zone (TIMESTAMPFORMAT).
    Timestamp,
    /// A TIMESTAMP WITH TIME ZONE, written in the zone `tz` (arrow's name
    /// of it: `UTC`, `+05:30`, ...).
    Zoned(&'a str),
}

/// `format` (DuckDB's strftime, from `option`) as a chrono format for
/// values `written`; an error naming the first specifier DuckDB does not
/// know.
pub(crate) fn chrono_format(
    format: &str,
    written: Written<'_>,
    option: &'static str,
) -> Result<String, CopyError> {
    let date = written == Written::Date;
    let mut out = String::with_capacity(format.len() + 8);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let unknown = |specifier: String| CopyError::UnknownSpecifier { option, specifier };
        let Some(mut letter) = chars.next() else {
            return Err(unknown("%".to_owned()));
        };
        let unpadded = letter == '-';
        if unpadded {
            letter = chars.next().ok_or_else(|| unknown("%-".to_owned()))?;
            if !"djmyHIMS".contains(letter) {
                return Err(unknown(format!("%-{letter}")));
            }
        }
        let dash = if unpadded { "-" } else { "" };
        match letter {
            // The same in chrono.
            'a' | 'A' | 'b' | 'B' | 'd' | 'G' | 'h' | 'j' | 'm' | 'u' | 'U' | 'V' | 'w' | 'W'
            | 'y' | 'Y' | '%' => {
                out.push('%');
                out.push_str(dash);
                out.push(letter);
            }
            'x' => out.push_str("%Y-%m-%d"),
            'H' | 'M' | 'S' if date => out.push_str(if unpadded { "0" } else { "00" }),
            'I' if date => out.push_str("12"),
            'p' if date => out.push_str("AM"),
            'T' | 'X' if date => out.push_str("00:00:00"),
            'c' if date => out.push_str("%Y-%m-%d 00:00:00"),
            'f' if date => out.push_str("000000"),
            'g' if date => out.push_str("000"),
            'n' if date => out.push_str("000000000"),
            'H' | 'M' | 'S' | 'I' | 'p' => {
                out.push('%');
                out.push_str(dash);
                out.push(letter);
            }
            'T' | 'X' => out.push_str("%H:%M:%S"),
            'c' => out.push_str("%Y-%m-%d %H:%M:%S"),
            'f' => out.push_str("%6f"),
            'g' => out.push_str("%3f"),
            'n' => out.push_str("%9f"),
            'z' => match written {
                // A named zone's offset varies per value: hours and
                // minutes always (`+05:45`; `-05:00` where DuckDB writes
                // `-05`), never hours alone, which put Kathmandu's
                // instants 45 minutes off (review of 0d60fee, HIGH).
                Written::Zoned(tz) => out.push_str(&offset_text(tz).unwrap_or("%:z".to_owned())),
                _ => out.push_str("+00"),
            },
            'Z' => {
                if let Written::Zoned(tz) = written {
                    if offset_text(tz).as_deref() == Some("+00") {
                        out.push_str("UTC");
                    } else {
                        out.push_str(&tz.replace('%', "%%"));
                    }
                }
            }
            other => return Err(unknown(format!("%{other}"))),
        }
    }
    Ok(out)
}

/// The offset of a fixed zone as DuckDB writes it (`+00`, `+05:30`,
/// `-08`); `None` for a named zone, whose offset varies.
fn offset_text(tz: &str) -> Option<String> {
    if tz.eq_ignore_ascii_case("utc") || tz == "Z" {
        return Some("+00".to_owned());
    }
    let (sign, rest) = tz.split_at_checked(1)?;
    if sign != "+" && sign != "-" {
        return None;
    }
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (hours, minutes) = digits.split_at(2);
    Some(match minutes {
        "00" if hours == "00" => "+00".to_owned(),
        "00" => format!("{sign}{hours}"),
        _ => format!("{sign}{hours}:{minutes}"),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn chrono(format: &str, written: Written<'_>) -> String {
        chrono_format(format, written, "TIMESTAMPFORMAT").unwrap()
    }

    #[test]
    fn duckdbs_own_specifiers_become_what_chrono_writes_the_same() {
        assert_eq!(chrono("%f|%g|%n", Written::Timestamp), "%6f|%3f|%9f");
        assert_eq!(chrono("%c", Written::Timestamp), "%Y-%m-%d %H:%M:%S");
        assert_eq!(chrono("%x %X", Written::Timestamp), "%Y-%m-%d %H:%M:%S");
        assert_eq!(chrono("%z|%Z", Written::Timestamp), "+00|");
        assert_eq!(chrono("%z|%Z", Written::Zoned("UTC")), "+00|UTC");
        assert_eq!(chrono("%z", Written::Zoned("+05:30")), "+05:30");
        assert_eq!(chrono("%z", Written::Zoned("-08:00")), "-08");
        assert_eq!(
            chrono("%-d/%-m %-H:%-M", Written::Timestamp),
            "%-d/%-m %-H:%-M"
        );
        assert_eq!(chrono("100%%", Written::Timestamp), "100%%");
        assert_eq!(
            chrono("%c %I%p %-S.%f", Written::Date),
            "%Y-%m-%d 00:00:00 12AM 0.000000"
        );
    }

    #[test]
    fn specifiers_duckdb_does_not_know_are_refused_by_name() {
        for (format, specifier) in [
            ("%Y-%e", "%e"),
            ("%s", "%s"),
            ("%F", "%F"),
            ("%-Y", "%-Y"),
            ("50%", "%"),
        ] {
            let error = chrono_format(format, Written::Date, "DATEFORMAT")
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("DATEFORMAT") && error.contains(&format!("{specifier} ")),
                "{format}: {error}"
            );
        }
    }
}
