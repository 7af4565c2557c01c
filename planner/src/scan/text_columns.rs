//! CSV columns decoded as text and converted after the decoder: DATE and
//! TIMESTAMP columns under `dateformat` / `timestampformat` (arrow-csv reads
//! ISO 8601 only), and under `ignore_errors` every typed column, so a value
//! that does not convert drops its row instead of stopping the read.
//!
//! A value that does not convert (without `ignore_errors`) is reported as
//! arrow-csv reports its own, so [`s3sql_formats::name_decode_error`] names
//! the file, line and column the same way.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::{CastOptions, cast_with_options, filter_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::common::Result;
use s3sql_formats::convert_temporal;

use crate::scan::csv_opener::CsvExtras;

/// One column converted from text.
#[derive(Debug, Clone)]
struct Conversion {
    /// Its position in the decoded (projected) batch.
    at: usize,
    /// Its position in the file, for messages.
    column: usize,
    /// The type the scan promised.
    target: DataType,
    /// `dateformat` / `timestampformat`, or `None` for arrow's cast.
    format: Option<String>,
}

/// The conversions of one scan's projected columns.
#[derive(Debug, Clone)]
pub(crate) struct TextColumns {
    conversions: Vec<Conversion>,
    ignore_errors: bool,
    /// The projected file schema the scan expects batches in.
    output: SchemaRef,
}

impl TextColumns {
    /// What the decoder of `file_indices` of `file_schema` leaves as text.
    pub(crate) fn new(extras: &CsvExtras, file_schema: &Schema, file_indices: &[usize]) -> Self {
        let mut conversions = Vec::new();
        for (at, &column) in file_indices.iter().enumerate() {
            let target = file_schema.field(column).data_type().clone();
            let format = extras.temporal.format_for(&target).map(str::to_owned);
            let textual = matches!(
                target,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            );
            if format.is_some() || (extras.ignore_errors && !textual) {
                conversions.push(Conversion {
                    at,
                    column,
                    target,
                    format,
                });
            }
        }
        let output = Arc::new(Schema::new(
            file_indices
                .iter()
                .map(|&i| file_schema.field(i).clone())
                .collect::<Vec<Field>>(),
        ));
        Self {
            conversions,
            ignore_errors: extras.ignore_errors,
            output,
        }
    }

    /// `file_schema` with the converted columns as text, for the decoder.
    pub(crate) fn decoded_schema(&self, file_schema: &SchemaRef) -> SchemaRef {
        if self.conversions.is_empty() {
            return Arc::clone(file_schema);
        }
        let mut fields: Vec<Field> = file_schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        for c in &self.conversions {
            fields[c.column] = Field::new(fields[c.column].name(), DataType::Utf8, true);
        }
        Arc::new(Schema::new(fields))
    }

    /// `batch` (decoded from the file's records numbered from `first_record`,
    /// the header counted) with its text columns converted; under
    /// `ignore_errors` without the rows holding a value that does not convert.
    pub(crate) fn convert(&self, batch: RecordBatch, first_record: u64) -> Result<RecordBatch> {
        if self.conversions.is_empty() {
            return Ok(batch);
        }
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        let mut bad = vec![false; batch.num_rows()];
        for c in &self.conversions {
            let text = columns[c.at].as_string::<i32>();
            let not_converted = |i: usize, what: &str| -> ArrowError {
                ArrowError::ParseError(format!(
                    "Error while parsing value '{}' as type '{what}' for column {} at line {}. \
                     Row data: '[{}]'",
                    text.value(i),
                    c.column,
                    first_record + i as u64,
                    text.value(i)
                ))
            };
            let converted = match &c.format {
                Some(format) => {
                    match convert_temporal(text, &c.target, format, self.ignore_errors) {
                        Ok((array, rows)) => {
                            rows.into_iter().for_each(|i| bad[i] = true);
                            array
                        }
                        Err(i) => {
                            let (kind, option) = match c.target {
                                DataType::Date32 => ("DATE", "dateformat"),
                                _ => ("TIMESTAMP", "timestampformat"),
                            };
                            let what = format!("{kind} with {option} {format}");
                            return Err(not_converted(i, &what).into());
                        }
                    }
                }
                None => {
                    let safe = CastOptions {
                        safe: true,
                        ..CastOptions::default()
                    };
                    let array = cast_with_options(text, &c.target, &safe)?;
                    for (i, row) in bad.iter_mut().enumerate() {
                        if text.is_valid(i) && !text.value(i).is_empty() && array.is_null(i) {
                            *row = true;
                        }
                    }
                    array
                }
            };
            columns[c.at] = converted;
        }
        let batch = RecordBatch::try_new(Arc::clone(&self.output), columns)?;
        if !bad.contains(&true) {
            return Ok(batch);
        }
        let keep: BooleanArray = bad.iter().map(|&b| Some(!b)).collect();
        Ok(filter_record_batch(&batch, &keep)?)
    }
}
