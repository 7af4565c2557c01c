//! [`Partitioner`]: splits batches by the values of the PARTITION_BY
//! columns, naming each part's directory (`k1=v1/k2=v2`) and leaving the
//! partition columns out of the part unless WRITE_PARTITION_COLUMNS.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, SchemaRef};

use super::error::CopyError;
use super::options::CopyOptions;
use super::target::partition_segment;
use super::text::{DuckText, format_options, is_null};
use crate::error::Result;

/// Whether `array` holds floating-point numbers, whose 0.0 and -0.0 are
/// one value.
fn is_float(array: &dyn Array) -> bool {
    matches!(
        array.data_type(),
        DataType::Float16 | DataType::Float32 | DataType::Float64
    )
}

/// How one COPY's batches are split.
#[derive(Debug)]
pub(crate) struct Partitioner {
    /// Index and name of each partition column, in directory order.
    partition: Vec<(usize, String)>,
    /// Indices of the columns the files hold.
    kept: Vec<usize>,
    file_schema: SchemaRef,
    /// Per partition column of floats: whether the first zero seen was
    /// -0.0. 0.0 and -0.0 compare equal, and DuckDB 1.5.5 makes them one
    /// partition named by the first seen (review-9d #7: s3sql made two).
    first_zero: Vec<OnceLock<bool>>,
}

impl Partitioner {
    /// Checks the PARTITION_BY columns against the query's `schema`.
    pub(crate) fn new(schema: &SchemaRef, options: &CopyOptions) -> Result<Self> {
        let mut partition = Vec::new();
        for name in &options.partition_by {
            let found = schema
                .fields()
                .iter()
                .position(|f| f.name() == name)
                .or_else(|| {
                    schema
                        .fields()
                        .iter()
                        .position(|f| f.name().eq_ignore_ascii_case(name))
                });
            let Some(index) = found else {
                return Err(CopyError::UnknownPartitionColumn {
                    column: name.clone(),
                    columns: schema
                        .fields()
                        .iter()
                        .map(|f| f.name().as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                }
                .into());
            };
            if partition.iter().any(|(p, _)| *p == index) {
                return Err(CopyError::RepeatedPartitionColumn {
                    column: schema.field(index).name().clone(),
                }
                .into());
            }
            partition.push((index, schema.field(index).name().clone()));
        }
        let kept: Vec<usize> = (0..schema.fields().len())
            .filter(|i| options.write_partition_columns || !partition.iter().any(|(p, _)| p == i))
            .collect();
        if kept.is_empty() {
            return Err(CopyError::NoDataColumns.into());
        }
        let file_schema = Arc::new(schema.project(&kept)?);
        Ok(Self {
            first_zero: partition.iter().map(|_| OnceLock::new()).collect(),
            partition,
            kept,
            file_schema,
        })
    }

    /// The schema of every file.
    pub(crate) fn file_schema(&self) -> SchemaRef {
        self.file_schema.clone()
    }

    /// The parts of `batch`, each with its directory, in order of first row.
    pub(crate) fn split(&self, batch: &RecordBatch) -> Result<Vec<(String, RecordBatch)>> {
        let options = format_options();
        let columns: Vec<(&dyn Array, DuckText<'_>, &str)> = self
            .partition
            .iter()
            .map(|(index, name)| {
                let array = batch.column(*index).as_ref();
                Ok((
                    array,
                    DuckText::for_field(array, batch.schema_ref().field(*index), &options)?,
                    name.as_str(),
                ))
            })
            .collect::<Result<_>>()?;
        let mut groups: Vec<(String, Vec<u32>)> = Vec::new();
        // Groups are found by the row's values (each column's text, or
        // none for NULL), and a directory is named, its segments
        // URL-encoded, only for a group's first row: naming every row's
        // took a tenth of a 100-partition COPY's time.
        let mut index_of: HashMap<String, usize> = HashMap::new();
        let mut key = String::new();
        let mut values: Vec<Option<String>> = vec![None; columns.len()];
        for row in 0..batch.num_rows() {
            key.clear();
            for (i, (array, text, _)) in columns.iter().enumerate() {
                if is_null(*array, row) {
                    values[i] = None;
                    key.push('-');
                    continue;
                }
                let value = values[i].get_or_insert_with(String::new);
                text.write(row, value)?;
                if (value == "0.0" || value == "-0.0") && is_float(*array) {
                    let negative = *self.first_zero[i].get_or_init(|| value == "-0.0");
                    value.clear();
                    value.push_str(if negative { "-0.0" } else { "0.0" });
                }
                // Its length first, so no value's text ends another's.
                // Writing to a String cannot fail.
                let _ = write!(key, "{}:{value}", value.len());
            }
            let row = u32::try_from(row).map_err(|_| {
                datafusion::error::DataFusionError::Execution(
                    "a batch of more than 2^32 rows cannot be partitioned".into(),
                )
            })?;
            match index_of.get(&key) {
                Some(&g) => groups[g].1.push(row),
                None => {
                    let directory = columns
                        .iter()
                        .zip(&values)
                        .map(|((_, _, name), value)| partition_segment(name, value.as_deref()))
                        .collect::<Vec<_>>()
                        .join("/");
                    index_of.insert(key.clone(), groups.len());
                    groups.push((directory, vec![row]));
                }
            }
        }
        let projected = batch.project(&self.kept)?;
        if groups.len() == 1 {
            let (directory, _) = groups.swap_remove(0);
            return Ok(vec![(directory, projected)]);
        }
        groups
            .into_iter()
            .map(|(directory, rows)| {
                let indices = UInt32Array::from(rows);
                let columns = projected
                    .columns()
                    .iter()
                    .map(|c| take(c.as_ref(), &indices, None).map(owning))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                Ok((
                    directory,
                    RecordBatch::try_new(self.file_schema.clone(), columns)?,
                ))
            })
            .collect()
    }
}

/// `batch` with every column holding only its own values' bytes ([`owning`]).
pub(crate) fn owning_batch(batch: RecordBatch) -> Result<RecordBatch> {
    let columns = batch.columns().iter().cloned().map(owning).collect();
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

/// `column` holding only its own values' bytes. `take` of string or
/// binary views keeps the batch's whole data buffers, shared by every
/// partition's rows: each part would keep the batch alive and weigh (in
/// `get_array_memory_size`, which the gathering is bounded by) all of its
/// strings, so every partition seemed full at once.
fn owning(column: ArrayRef) -> ArrayRef {
    match column.data_type() {
        DataType::Utf8View => Arc::new(column.as_string_view().gc()),
        DataType::BinaryView => Arc::new(column.as_binary_view().gc()),
        _ => column,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Int64Array, TimestampSecondArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use s3sql_formats::OptionValue;

    use super::*;

    fn split(ts: Vec<i64>) -> Result<Vec<String>> {
        let schema = Arc::new(Schema::new(vec![
            Field::new(
                "ts",
                TimestampSecondArray::from(vec![0]).data_type().clone(),
                false,
            ),
            Field::new("i", datafusion::arrow::datatypes::DataType::Int64, false),
        ]));
        let n = ts.len();
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(TimestampSecondArray::from(ts)),
                Arc::new(Int64Array::from_iter_values(0..n as i64)),
            ],
        )
        .unwrap();
        let options = CopyOptions::parse(
            "out",
            vec![("PARTITION_BY".to_owned(), OptionValue::Str("ts".into()))],
        )
        .unwrap();
        let parts = Partitioner::new(&schema, &options)?.split(&batch)?;
        Ok(parts.into_iter().map(|(directory, _)| directory).collect())
    }

    /// A partition value of type NULL (`SELECT NULL AS k`) is NULL:
    /// DuckDB's `__HIVE_DEFAULT_PARTITION__`, not `k=` (review-9b #8).
    #[test]
    fn a_null_of_type_null_is_the_default_partition() {
        use datafusion::arrow::array::NullArray;

        let batch = RecordBatch::try_from_iter(vec![
            ("k", Arc::new(NullArray::new(2)) as ArrayRef),
            ("i", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
        ])
        .unwrap();
        let options = CopyOptions::parse(
            "out",
            vec![("PARTITION_BY".to_owned(), OptionValue::Str("k".into()))],
        )
        .unwrap();
        let parts = Partitioner::new(&batch.schema(), &options)
            .unwrap()
            .split(&batch)
            .unwrap();
        let directories: Vec<_> = parts
            .iter()
            .map(|(d, b)| (d.as_str(), b.num_rows()))
            .collect();
        assert_eq!(directories, [("k=__HIVE_DEFAULT_PARTITION__", 2)]);
    }

    /// A column named twice (`x, x` or `x, X`) is refused; DuckDB 1.5.5
    /// fails with an internal error (review-9c #9: s3sql wrote
    /// `x=1/x=1/data_0.csv`).
    #[test]
    fn a_partition_column_named_twice_is_refused() {
        let batch = RecordBatch::try_from_iter(vec![
            ("x", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
            ("y", Arc::new(Int64Array::from(vec![2])) as ArrayRef),
        ])
        .unwrap();
        for names in [["x", "x"], ["x", "X"]] {
            let list = names
                .iter()
                .map(|n| OptionValue::Str((*n).into()))
                .collect();
            let options = CopyOptions::parse(
                "out",
                vec![("PARTITION_BY".to_owned(), OptionValue::List(list))],
            )
            .unwrap();
            let error = Partitioner::new(&batch.schema(), &options)
                .unwrap_err()
                .to_string();
            assert!(error.contains("PARTITION_BY names x twice"), "{error}");
        }
    }

    #[test]
    fn infinite_timestamps_are_named_as_duckdb_names_them_and_unprintable_ones_refused() {
        assert_eq!(
            split(vec![i64::MAX, -i64::MAX, 0]).unwrap(),
            [
                "ts=infinity",
                "ts=-infinity",
                "ts=1970-01-01%2000%3A00%3A00"
            ]
        );
        // Past chrono's range: arrow cannot print it. Was a directory
        // named `ts=ERROR%3A%20Cast%20error...`.
        let error = split(vec![i64::MAX - 1]).unwrap_err().to_string();
        assert!(error.contains("column ts"), "{error}");
    }
}
