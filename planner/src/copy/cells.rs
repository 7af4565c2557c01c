//! Result values as DuckDB's shell shows them in its boxed table: the text
//! COPY writes to CSV (so a value reads the same in every output format of
//! a shell), without CSV's quoting, NULL as `NULL`.

use std::ops::Range;

use datafusion::arrow::array::RecordBatch;

use super::text::{DuckText, format_options, is_null};
use crate::error::Result;

/// The text of rows `rows` of `batch`, a row's cells in column order:
/// `2024-01-01 10:00:00`, `1 day 02:00:00`, a BLOB as `\xAA`, not arrow's
/// `2024-01-01T10:00:00`, `1 days 2 hours`, hex.
pub fn duckdb_cells(batch: &RecordBatch, rows: Range<usize>) -> Result<Vec<Vec<String>>> {
    let options = format_options();
    let schema = batch.schema();
    let texts = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| DuckText::for_field(column.as_ref(), field, &options))
        .collect::<Result<Vec<_>>>()?;
    rows.map(|row| {
        texts
            .iter()
            .map(|text| {
                let mut cell = String::new();
                if is_null(text.array(), row) {
                    cell.push_str("NULL");
                } else {
                    text.write(row, &mut cell)?;
                }
                Ok(cell)
            })
            .collect()
    })
    .collect()
}
