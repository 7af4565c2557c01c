//! DuckDB's JSON types where arrow-json's inference differs: integers past
//! BIGINT (arrow: a rounded DOUBLE; DuckDB: HUGEINT, exact) and strings
//! that are all ISO dates or timestamps (arrow: VARCHAR; DuckDB: DATE,
//! TIMESTAMP). The sample's values of such columns are read back as text
//! and looked at.

use std::io::Cursor;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::json::ReaderBuilder;

use crate::FormatError;
use crate::temporal::{DATE, TIMESTAMP};

/// `inferred` (arrow's schema of newline-delimited `sample`) with DuckDB's
/// types for its top-level columns, judged on the first `records` records:
/// DOUBLE columns holding only integer literals become HUGEINT
/// (`Decimal128(38, 0)`, as `types` maps HUGEINT), VARCHAR columns holding
/// only ISO dates DATE, only ISO timestamps TIMESTAMP.
pub fn json_types(inferred: &Schema, sample: &[u8], records: usize) -> Result<Schema, FormatError> {
    let candidate = |f: &Field| matches!(f.data_type(), DataType::Float64 | DataType::Utf8);
    if !inferred.fields().iter().any(|f| candidate(f)) {
        return Ok(inferred.clone());
    }
    let text: Vec<Field> = inferred
        .fields()
        .iter()
        .filter(|f| candidate(f))
        .map(|f| Field::new(f.name(), DataType::Utf8, true))
        .collect();
    let reader = ReaderBuilder::new(Arc::new(Schema::new(text.clone())))
        .with_coerce_primitive(true)
        .build(Cursor::new(sample))
        .map_err(|e| FormatError::Decode {
            message: format!("cannot read the start of the file: {e}"),
        })?;
    let mut values: Vec<Vec<String>> = vec![Vec::new(); text.len()];
    let mut seen = 0;
    for batch in reader {
        let batch = batch.map_err(|e| FormatError::Decode {
            message: format!("cannot read the start of the file: {e}"),
        })?;
        let take = (records - seen).min(batch.num_rows());
        for (column, out) in batch.columns().iter().zip(values.iter_mut()) {
            if let Some(strings) = column.as_any().downcast_ref::<StringArray>() {
                out.extend(strings.slice(0, take).iter().flatten().map(str::to_owned));
            }
        }
        seen += take;
        if seen >= records {
            break;
        }
    }
    let fields: Vec<Field> = inferred
        .fields()
        .iter()
        .map(|f| {
            let at = text.iter().position(|t| t.name() == f.name());
            let typed = at.and_then(|at| refined(f.data_type(), &values[at]));
            match typed {
                Some(data_type) => Field::new(f.name(), data_type, true),
                None => f.as_ref().clone(),
            }
        })
        .collect();
    Ok(Schema::new_with_metadata(
        fields,
        inferred.metadata().clone(),
    ))
}

/// DuckDB's type for a column arrow typed `data_type`, from its `values`.
fn refined(data_type: &DataType, values: &[String]) -> Option<DataType> {
    if values.is_empty() {
        return None;
    }
    match data_type {
        DataType::Float64 if values.iter().all(|v| huge_integer(v)) => {
            Some(DataType::Decimal128(38, 0))
        }
        DataType::Utf8 if values.iter().all(|v| iso_date(v)) => Some(DATE),
        DataType::Utf8 if values.iter().all(|v| iso_timestamp(v)) => Some(TIMESTAMP),
        _ => None,
    }
}

/// An integer literal of at most 38 digits.
fn huge_integer(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    !digits.is_empty() && digits.len() <= 38 && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYY-MM-DD`.
fn iso_date(value: &str) -> bool {
    value.len() == 10 && NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok()
}

/// `YYYY-MM-DD HH:MM:SS[.f]`, or with a `T`.
fn iso_timestamp(value: &str) -> bool {
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .any(|format| NaiveDateTime::parse_from_str(value, format).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_past_bigint_are_hugeint_and_iso_strings_are_dates_or_timestamps() {
        let sample = b"{\"id\": 12345678901234567890, \"d\": \"2024-01-02\", \"ts\": \"2024-01-02 03:04:05\", \"f\": 1.5, \"s\": \"x\"}\n{\"id\": 1, \"d\": null, \"ts\": \"2024-01-02T03:04:05.5\", \"f\": 2, \"s\": \"2024-01-02\"}\n";
        let inferred = Schema::new(vec![
            Field::new("id", DataType::Float64, true),
            Field::new("d", DataType::Utf8, true),
            Field::new("ts", DataType::Utf8, true),
            Field::new("f", DataType::Float64, true),
            Field::new("s", DataType::Utf8, true),
        ]);
        let schema = json_types(&inferred, sample, 100).unwrap();
        let types: Vec<&DataType> = schema.fields().iter().map(|f| f.data_type()).collect();
        assert_eq!(
            types,
            [
                &DataType::Decimal128(38, 0),
                &DATE,
                &TIMESTAMP,
                &DataType::Float64,
                &DataType::Utf8
            ]
        );
    }
}
