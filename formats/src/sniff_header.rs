//! DuckDB 1.5.5's header rule over a CSV sample, with DuckDB's types: arrow
//! infers each column, then the types arrow lacks (TIME, a number past
//! BIGINT, [`duckdb_only_type`]) are given before the first row is
//! judged, so `06:00` over times is a row, not a header.

use std::io::Cursor;

use datafusion::arrow::datatypes::DataType;

use super::{CsvDialect, arrow_format, duckdb_only_type, text_columns};

/// DuckDB's header rule: the first row names the columns when a column the
/// rest of the sample types as other than VARCHAR cannot hold its value,
/// when every column is VARCHAR, or when the row is all empty. An empty
/// value fits any column (it is NULL), so `,a,b` over integers (pandas'
/// `to_csv()`) is a header. A one-row sample is a header when every value
/// is text.
pub(super) fn first_row_is_header(sample: &[u8], dialect: &CsvDialect, records: usize) -> bool {
    let format = arrow_format(dialect).with_truncated_rows(true);
    let Ok((first, 1)) = format.clone().infer_schema(Cursor::new(sample), Some(1)) else {
        return false;
    };
    let mut first: Vec<DataType> = first
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    let mut body: Vec<DataType> = match format
        .clone()
        .with_header(true)
        .infer_schema(Cursor::new(sample), Some(records))
    {
        Ok((body, rows)) if rows > 0 => body
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect(),
        _ => return first.iter().all(|t| *t == DataType::Utf8),
    };
    let header = decide(&first, &body);
    // Arrow's text may be DuckDB's TIME or DOUBLE. Only a text column can
    // change, and only a first row of such a value can turn a header into
    // a row: otherwise a header stays one without reading the sample again.
    let first_values = text_columns(sample, format.clone(), first.len(), 1).unwrap_or_default();
    let first_typed = first_values.iter().any(|v| duckdb_only_type(v).is_some());
    if !body.contains(&DataType::Utf8) || (header && !first_typed) {
        return header;
    }
    upgrade(&mut first, &first_values);
    let body_values =
        text_columns(sample, format.with_header(true), body.len(), records).unwrap_or_default();
    upgrade(&mut body, &body_values);
    decide(&first, &body)
}

/// Gives each text column of `types` DuckDB's type for its `values`.
fn upgrade(types: &mut [DataType], values: &[Vec<String>]) {
    for (data_type, values) in types.iter_mut().zip(values) {
        if *data_type == DataType::Utf8
            && let Some(typed) = duckdb_only_type(values)
        {
            *data_type = typed;
        }
    }
}

/// The header rule (see [`first_row_is_header`]) over the first row's
/// types and the body's.
fn decide(first: &[DataType], body: &[DataType]) -> bool {
    let text = |t: &DataType| matches!(t, DataType::Utf8 | DataType::Null);
    if body.iter().all(text) || first.iter().all(|t| *t == DataType::Null) {
        return true;
    }
    body.iter()
        .zip(first)
        .any(|(column, value)| !text(column) && !fits(value, column))
}

/// Whether a value arrow infers as `value` can be read into a column typed `column`.
fn fits(value: &DataType, column: &DataType) -> bool {
    matches!(
        (value, column),
        (DataType::Null, _)
            | (DataType::Int64, DataType::Float64)
            | (DataType::Date32, DataType::Timestamp(..))
            | (DataType::Timestamp(..), DataType::Timestamp(..))
    ) || value == column
}
