//! CSV columns that hold dates in a format other than ISO 8601
//! (`01/05/2024`, `2024/01/05`): text to s3sql's sniffer, DATE or
//! TIMESTAMP to DuckDB's. A date or time INSERT writes into one as DuckDB
//! writes it (`2024-03-01`) would be a second format beside the column's,
//! which makes the column VARCHAR to DuckDB and MindsDB (review-10h #6),
//! so it is refused. Any other text column takes the value as DuckDB's
//! text of it (review-s26 #5: every text column refused it, a free-text
//! one or an empty one too).

use std::fmt::Write;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Schema, TimeUnit, TimestampMicrosecondType};
use s3sql_formats::{CsvDialect, column_values, sniffed_date_format};

use super::insert::OldObject;

/// The text columns of a CSV object whose values are dates or timestamps
/// in a format DuckDB's sniffer reads them with: each column's index and
/// that format (`%m/%d/%Y`).
#[derive(Debug, Default)]
pub(crate) struct DatedColumns(Vec<(usize, String)>);

impl DatedColumns {
    /// The columns among `schema`'s text ones whose values in `head`, the
    /// start of `old`'s text, all read as dates or timestamps in one of
    /// DuckDB's sniffed formats. A column of no value (empty, or a
    /// header-only object) holds none.
    pub(crate) fn of(head: &[u8], old: &OldObject, schema: &Schema) -> Self {
        let text =
            |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
        if !schema.fields().iter().any(|f| text(f.data_type())) {
            return Self::default();
        }
        let dialect = CsvDialect {
            delimiter: old.options.delimiter.byte(),
            quote: Some(old.options.quote),
            escape: old.escape,
            has_header: old.options.header,
            null_string: None,
            comment: old.comment,
            newlines_in_values: false,
        };
        let values = column_values(head, &dialect, schema.fields().len());
        Self(
            schema
                .fields()
                .iter()
                .zip(&values)
                .enumerate()
                .filter(|(_, (field, _))| text(field.data_type()))
                .filter_map(|(at, (_, values))| {
                    sniffed_date_format(values.iter().map(String::as_str)).map(|f| (at, f))
                })
                .collect(),
        )
    }

    /// The format of column `at`'s dates, when it holds dates so.
    pub(crate) fn format_of(&self, at: usize) -> Option<&str> {
        self.0
            .iter()
            .find(|(column, _)| *column == at)
            .map(|(_, format)| format.as_str())
    }
}

/// The message refusing the date or time values `given` for `column`,
/// whose dates are written as `format`: what to give instead, the first
/// value written so when it is a date or timestamp.
pub(crate) fn refusal(column: &str, format: &str, given: &ArrayRef) -> String {
    let example = written_as(given, format)
        .map(|text| format!(", e.g. '{text}'"))
        .unwrap_or_default();
    format!(
        "column {column} holds dates written as {format} (DuckDB reads them as dates, s3sql as text), so a date or time written into it as DuckDB writes one (YYYY-MM-DD) would give it a second format and make it text for DuckDB and MindsDB too; nothing was written: give the value as text in the column's format{example}, or CAST it to VARCHAR to write it as YYYY-MM-DD anyway"
    )
}

/// The first value of `given` written as `format`, when it is a date or
/// timestamp.
fn written_as(given: &ArrayRef, format: &str) -> Option<String> {
    let micros = cast(given, &DataType::Timestamp(TimeUnit::Microsecond, None)).ok()?;
    let micros = micros.as_primitive::<TimestampMicrosecondType>();
    let row = (0..micros.len()).find(|&row| micros.is_valid(row))?;
    let time = micros.value_as_datetime(row)?;
    let mut text = String::new();
    write!(text, "{}", time.format(format)).ok()?;
    Some(text)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Date32Array, StringArray};

    use super::*;

    #[test]
    fn the_refusal_shows_the_value_in_the_columns_format() {
        // 2024-03-01.
        let date: ArrayRef = Arc::new(Date32Array::from(vec![None, Some(19_783)]));
        let message = refusal("d", "%m/%d/%Y", &date);
        assert!(
            message.contains("column d holds dates written as %m/%d/%Y")
                && message.contains("e.g. '03/01/2024'"),
            "{message}"
        );
        let text: ArrayRef = Arc::new(StringArray::from(vec!["x"]));
        assert!(!refusal("d", "%m/%d/%Y", &text).contains("e.g."));
    }
}
