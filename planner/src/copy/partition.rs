//! [`Partitioner`]: splits batches by the values of the PARTITION_BY
//! columns, naming each part's directory (`k1=v1/k2=v2`) and leaving the
//! partition columns out of the part unless WRITE_PARTITION_COLUMNS.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringBuilder, UInt32Array};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, SchemaRef};
use datafusion::arrow::row::{RowConverter, SortField};

use super::error::CopyError;
use super::options::{CopyOptions, column_index};
use super::target::partition_segment;
use super::text::{DuckText, format_options, is_null};
use crate::error::Result;
use crate::shown_zone::{UTC, field_in_zone, in_zone};

/// Whether `array` holds floating-point numbers, whose 0.0 and -0.0 are
/// one value: floats, or a dictionary of them.
fn is_float(array: &dyn Array) -> bool {
    match array.data_type() {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => true,
        DataType::Dictionary(_, values) => matches!(
            **values,
            DataType::Float16 | DataType::Float32 | DataType::Float64
        ),
        _ => false,
    }
}

/// Whether row `row` of `array`, a float column ([`is_float`]), is 0.0 or
/// -0.0 (its text says `0`, `-0`, `0.0` or `-0.0` by type).
fn is_zero(array: &dyn Array, row: usize) -> Result<bool> {
    let value = cast(&array.slice(row, 1), &DataType::Float64)?;
    Ok(value.as_primitive::<Float64Type>().value(0) == 0.0)
}

/// How one COPY's batches are split.
#[derive(Debug)]
pub(crate) struct Partitioner {
    /// Index and name of each partition column, in directory order.
    partition: Vec<(usize, String)>,
    /// Indices of the columns the files hold.
    kept: Vec<usize>,
    file_schema: SchemaRef,
    /// Per partition column of floats: the text of the first zero seen.
    /// 0.0 and -0.0 compare equal, and DuckDB 1.5.5 makes them one
    /// partition named by the first seen (review-9d #7: s3sql made two).
    first_zero: Vec<OnceLock<String>>,
}

impl Partitioner {
    /// Checks the PARTITION_BY columns against the query's `schema`.
    pub(crate) fn new(schema: &SchemaRef, options: &CopyOptions) -> Result<Self> {
        let mut partition = Vec::new();
        for name in &options.partition_by {
            let index = column_index(schema, name).map_err(|columns| {
                CopyError::UnknownPartitionColumn {
                    column: name.clone(),
                    columns,
                }
            })?;
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
        let (group_of, first_rows) = self.groups(batch)?;
        // DuckDB names a zoned timestamp's partition in UTC, whatever
        // the session's zone.
        let named = self
            .partition
            .iter()
            .map(|(index, _)| {
                let field = batch.schema_ref().field(*index);
                let column = in_zone(batch.column(*index), UTC)?;
                Ok((column, field_in_zone(field, UTC)))
            })
            .collect::<Result<Vec<_>>>()?;
        let directories = first_rows
            .iter()
            .map(|&row| self.directory(&named, row))
            .collect::<Result<Vec<_>>>()?;
        let projected = batch.project(&self.kept)?;
        if directories.len() == 1 {
            return Ok(directories
                .into_iter()
                .map(|d| (d, projected.clone()))
                .collect());
        }
        let mut rows: Vec<Vec<u32>> = vec![Vec::new(); directories.len()];
        for (row, &group) in group_of.iter().enumerate() {
            // `groups` has checked that every row index fits in 32 bits.
            rows[group as usize].push(row as u32);
        }
        directories
            .into_iter()
            .zip(rows)
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

    /// Each row's group, and each group's first row, in order of first
    /// row. Rows are compared by their partition values in arrow's row
    /// format, encoded for the whole batch at once: naming every row's
    /// directory as text took a quarter of a 100-partition COPY's time.
    /// Values are one partition when DuckDB makes them one
    /// ([`comparable`]): floats with 0.0 and -0.0 as one value (named by
    /// the COPY's first zero) and every NaN as one; nested values by their
    /// text.
    fn groups(&self, batch: &RecordBatch) -> Result<(Vec<u32>, Vec<usize>)> {
        if u32::try_from(batch.num_rows()).is_err() {
            return Err(datafusion::error::DataFusionError::Execution(
                "a batch of more than 2^32 rows cannot be partitioned".into(),
            )
            .into());
        }
        if self.partition.is_empty() {
            // Unpartitioned: every row is the one group's (the row format
            // of no columns has no rows).
            let first_rows = if batch.num_rows() > 0 {
                vec![0]
            } else {
                vec![]
            };
            return Ok((vec![0; batch.num_rows()], first_rows));
        }
        let keys = self
            .partition
            .iter()
            .map(|(index, _)| comparable(batch.column(*index), batch.schema_ref().field(*index)))
            .collect::<Result<Vec<_>>>()?;
        let fields = keys
            .iter()
            .map(|k| SortField::new(k.data_type().clone()))
            .collect();
        let rows = RowConverter::new(fields)?.convert_columns(&keys)?;
        let mut group_of = Vec::with_capacity(batch.num_rows());
        let mut first_rows = Vec::new();
        let mut index_of: datafusion::common::HashMap<&[u8], u32> =
            datafusion::common::HashMap::default();
        for (row, key) in rows.iter().enumerate() {
            let next = first_rows.len() as u32;
            let group = *index_of.entry(key.data()).or_insert_with(|| {
                first_rows.push(row);
                next
            });
            group_of.push(group);
        }
        Ok((group_of, first_rows))
    }

    /// The directory (`k1=v1/k2=v2`, each segment URL-encoded) of `row`
    /// of the partition columns `named` (with their fields).
    fn directory(&self, named: &[(ArrayRef, Field)], row: usize) -> Result<String> {
        let options = format_options();
        let mut segments = Vec::with_capacity(self.partition.len());
        for (i, ((_, name), (array, field))) in self.partition.iter().zip(named).enumerate() {
            let array = array.as_ref();
            if is_null(array, row) {
                segments.push(partition_segment(name, None));
                continue;
            }
            let mut value = String::new();
            DuckText::for_field(array, field, &options)?.write(row, &mut value)?;
            if is_float(array) && is_zero(array, row)? {
                value = self.first_zero[i].get_or_init(|| value.clone()).clone();
            }
            segments.push(partition_segment(name, Some(&value)));
        }
        Ok(segments.join("/"))
    }
}

/// `column` as the row format should compare it, so that two values are
/// one partition exactly when their text is: floats as doubles with -0.0
/// made 0.0 and every NaN the same NaN (DuckDB 1.5.5 writes one `x=nan`);
/// a dictionary as its values; a nested value (whose floats the row
/// format would tell apart by sign) as its DuckDB text, NULLs kept.
fn comparable(column: &ArrayRef, field: &Field) -> Result<ArrayRef> {
    if let DataType::Dictionary(_, values) = column.data_type() {
        let values = cast(column, values)?;
        return comparable(
            &values,
            &field.clone().with_data_type(values.data_type().clone()),
        );
    }
    if is_float(column.as_ref()) {
        let doubles = cast(column, &DataType::Float64)?;
        let doubles = doubles
            .as_primitive::<Float64Type>()
            .unary::<_, Float64Type>(|x| {
                if x == 0.0 {
                    0.0
                } else if x.is_nan() {
                    f64::NAN
                } else {
                    x
                }
            });
        return Ok(Arc::new(doubles));
    }
    if !column.data_type().is_nested() {
        return Ok(column.clone());
    }
    let options = format_options();
    let text = DuckText::for_field(column.as_ref(), field, &options)?;
    let mut values = StringBuilder::new();
    let mut value = String::new();
    for row in 0..column.len() {
        if is_null(column.as_ref(), row) {
            values.append_null();
            continue;
        }
        value.clear();
        text.write(row, &mut value)?;
        values.append_value(&value);
    }
    Ok(Arc::new(values.finish()))
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

    /// 0.0 and -0.0 of a dictionary of doubles or of Float16s are one
    /// partition named by the first zero of the COPY, in every batch, as
    /// for DOUBLE and FLOAT (review of the row-format split: found one by
    /// the row format, they were named by each batch's first zero, one
    /// `k=-0.0` and one `k=0.0` file by batch).
    #[test]
    fn zeros_of_a_dictionary_or_float16_are_one_partition_named_by_the_first() {
        use datafusion::arrow::array::{DictionaryArray, Float64Array, Int32Array};
        use datafusion::arrow::datatypes::Int32Type;

        let dictionary = |keys: Vec<i32>| -> ArrayRef {
            let values = Arc::new(Float64Array::from(vec![-0.0, 0.0]));
            Arc::new(DictionaryArray::<Int32Type>::try_new(Int32Array::from(keys), values).unwrap())
        };
        let halves = |signs: Vec<bool>| -> ArrayRef {
            let zeros: Vec<f64> = signs
                .into_iter()
                .map(|negative| if negative { -0.0 } else { 0.0 })
                .collect();
            cast(&Float64Array::from(zeros), &DataType::Float16).unwrap()
        };
        for (first, second) in [
            (dictionary(vec![0, 1, 0]), dictionary(vec![1, 0])),
            (halves(vec![true, false, true]), halves(vec![false, true])),
        ] {
            let batch = |k: ArrayRef| {
                let n = k.len() as i64;
                RecordBatch::try_from_iter(vec![
                    ("k", k),
                    (
                        "i",
                        Arc::new(Int64Array::from_iter_values(0..n)) as ArrayRef,
                    ),
                ])
                .unwrap()
            };
            let (first, second) = (batch(first), batch(second));
            let options = CopyOptions::parse(
                "out",
                vec![("PARTITION_BY".to_owned(), OptionValue::Str("k".into()))],
            )
            .unwrap();
            let partitioner = Partitioner::new(&first.schema(), &options).unwrap();
            let mut directories = Vec::new();
            for batch in [first, second] {
                for (directory, part) in partitioner.split(&batch).unwrap() {
                    directories.push((directory, part.num_rows()));
                }
            }
            let zero = &directories[0].0;
            assert!(zero == "k=-0.0" || zero == "k=-0", "{directories:?}");
            assert_eq!(
                directories,
                [(zero.clone(), 3), (zero.clone(), 2)],
                "{directories:?}"
            );
        }
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
