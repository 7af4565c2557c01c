//! [`Partitioner`]: splits batches by the values of the PARTITION_BY
//! columns, naming each part's directory (`k1=v1/k2=v2`) and leaving the
//! partition columns out of the part unless WRITE_PARTITION_COLUMNS.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use super::encode::trim_fraction;
use super::error::CopyError;
use super::options::CopyOptions;
use super::target::partition_segment;
use crate::error::Result;

/// DuckDB's text form of a timestamp partition value.
const TIMESTAMP_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.f";

/// How one COPY's batches are split.
#[derive(Debug)]
pub(crate) struct Partitioner {
    /// Index and name of each partition column, in directory order.
    partition: Vec<(usize, String)>,
    /// Indices of the columns the files hold.
    kept: Vec<usize>,
    file_schema: SchemaRef,
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
        let options = FormatOptions::default()
            .with_timestamp_format(Some(TIMESTAMP_FORMAT))
            .with_datetime_format(Some(TIMESTAMP_FORMAT));
        let columns: Vec<(&dyn Array, ArrayFormatter<'_>, &str)> = self
            .partition
            .iter()
            .map(|(index, name)| {
                let array = batch.column(*index).as_ref();
                Ok((
                    array,
                    ArrayFormatter::try_new(array, &options)?,
                    name.as_str(),
                ))
            })
            .collect::<Result<_>>()?;
        let mut groups: Vec<(String, Vec<u32>)> = Vec::new();
        let mut index_of: HashMap<String, usize> = HashMap::new();
        let mut directory = String::new();
        for row in 0..batch.num_rows() {
            directory.clear();
            for (i, (array, formatter, name)) in columns.iter().enumerate() {
                if i > 0 {
                    directory.push('/');
                }
                let value = (!array.is_null(row)).then(|| {
                    let mut text = formatter.value(row).to_string();
                    if matches!(array.data_type(), DataType::Timestamp(..)) {
                        trim_fraction(&mut text);
                    }
                    text
                });
                directory.push_str(&partition_segment(name, value.as_deref()));
            }
            let row = u32::try_from(row).map_err(|_| {
                datafusion::error::DataFusionError::Execution(
                    "a batch of more than 2^32 rows cannot be partitioned".into(),
                )
            })?;
            match index_of.get(&directory) {
                Some(&g) => groups[g].1.push(row),
                None => {
                    index_of.insert(directory.clone(), groups.len());
                    groups.push((directory.clone(), vec![row]));
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
                    .map(|c| take(c.as_ref(), &indices, None))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                Ok((
                    directory,
                    RecordBatch::try_new(self.file_schema.clone(), columns)?,
                ))
            })
            .collect()
    }
}
