//! Parquet's INTERVAL (FIXED_LEN_BYTE_ARRAY(12): months, days and
//! milliseconds, each a little-endian u32) read with its months, as DuckDB
//! 1.5.5 reads it. arrow-rs 59 reads such a column as an Arrow interval of
//! days and milliseconds and drops the months (it has no reader of the
//! bytes as months, days and nanoseconds), so `COPY (SELECT INTERVAL 14
//! MONTH AS i) TO 'x.parquet'` read back as 0.
//!
//! So a scan reads the column as its 12 bytes and turns them into an
//! INTERVAL itself:
//! - the schema a Parquet file is inferred with has each of its intervals
//!   (any Arrow interval unit arrow-rs reads, at any depth) as months, days
//!   and nanoseconds ([`with_months`]);
//! - each file's reader hands arrow-rs a footer whose INTERVAL columns are
//!   plain FIXED_LEN_BYTE_ARRAY(12) ([`IntervalFooters`]; the metadata
//!   DataFusion caches stays the file's own), so arrow-rs reads the bytes;
//! - the scan's expression adapter reads those bytes as the scan's
//!   INTERVAL (`parquet_columns`, `interval_column::IntervalOfBytes`).

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, IntervalUnit, Schema};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileSource, ParquetFileReaderFactory, ParquetSource};
use datafusion::parquet::arrow::arrow_reader::ArrowReaderOptions;
use datafusion::parquet::arrow::async_reader::AsyncFileReader;
use datafusion::parquet::basic::{ConvertedType, Type as PhysicalType};
use datafusion::parquet::errors::Result as ParquetResult;
use datafusion::parquet::file::metadata::{FileMetaData, ParquetMetaData, ParquetMetaDataBuilder};
use datafusion::parquet::schema::types::{SchemaDescriptor, Type, TypePtr};
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use futures::FutureExt;
use futures::future::BoxFuture;

/// The bytes of a Parquet INTERVAL value.
pub(crate) const INTERVAL_BYTES: i32 = 12;

/// The scan's type of a column arrow-rs infers as `kind` from a Parquet
/// file: an interval (arrow-rs's days and milliseconds, or months when
/// the file's Arrow schema says so) is months, days and nanoseconds, in a
/// list, struct or map too; `None` when it holds none.
pub(crate) fn months_type(kind: &DataType) -> Option<DataType> {
    let field = |f: &FieldRef| -> Option<FieldRef> {
        months_type(f.data_type()).map(|kind| Arc::new(f.as_ref().clone().with_data_type(kind)))
    };
    Some(match kind {
        DataType::Interval(_) => DataType::Interval(IntervalUnit::MonthDayNano),
        DataType::List(f) => DataType::List(field(f)?),
        DataType::LargeList(f) => DataType::LargeList(field(f)?),
        DataType::FixedSizeList(f, n) => DataType::FixedSizeList(field(f)?, *n),
        DataType::Map(f, sorted) => DataType::Map(field(f)?, *sorted),
        DataType::Struct(fields) => {
            let mapped: Vec<Option<FieldRef>> = fields.iter().map(field).collect();
            if mapped.iter().all(Option::is_none) {
                return None;
            }
            let fields: Fields = mapped
                .into_iter()
                .zip(fields.iter())
                .map(|(mapped, f)| mapped.unwrap_or_else(|| Arc::clone(f)))
                .collect();
            DataType::Struct(fields)
        }
        _ => return None,
    })
}

/// A Parquet file's inferred `schema` with its intervals as the scan reads
/// them ([`months_type`]).
pub(crate) fn with_months(schema: &Schema) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match months_type(f.data_type()) {
            Some(kind) => f.as_ref().clone().with_data_type(kind),
            None => f.as_ref().clone(),
        })
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

/// Whether the Parquet type `t` is an INTERVAL (by its converted type;
/// Parquet's logical types have no interval).
fn is_interval(t: &Type) -> bool {
    t.is_primitive()
        && t.get_physical_type() == PhysicalType::FIXED_LEN_BYTE_ARRAY
        && t.get_basic_info().converted_type() == ConvertedType::INTERVAL
}

/// `t` with each INTERVAL in it a plain FIXED_LEN_BYTE_ARRAY(12); `None`
/// when it holds none.
fn bytes_type(t: &TypePtr) -> ParquetResult<Option<TypePtr>> {
    let info = t.get_basic_info();
    if is_interval(t) {
        let mut plain = Type::primitive_type_builder(t.name(), PhysicalType::FIXED_LEN_BYTE_ARRAY)
            .with_length(INTERVAL_BYTES)
            .with_id(info.has_id().then(|| info.id()));
        if info.has_repetition() {
            plain = plain.with_repetition(info.repetition());
        }
        return Ok(Some(Arc::new(plain.build()?)));
    }
    if t.is_primitive() {
        return Ok(None);
    }
    let mut changed = false;
    let mut fields = Vec::with_capacity(t.get_fields().len());
    for f in t.get_fields() {
        match bytes_type(f)? {
            Some(plain) => {
                changed = true;
                fields.push(plain);
            }
            None => fields.push(Arc::clone(f)),
        }
    }
    if !changed {
        return Ok(None);
    }
    let mut group = Type::group_type_builder(t.name())
        .with_fields(fields)
        .with_converted_type(info.converted_type())
        .with_logical_type(info.logical_type_ref().cloned())
        .with_id(info.has_id().then(|| info.id()));
    if info.has_repetition() {
        group = group.with_repetition(info.repetition());
    }
    Ok(Some(Arc::new(group.build()?)))
}

/// `metadata` with its INTERVAL columns plain FIXED_LEN_BYTE_ARRAY(12), for
/// arrow-rs to read their bytes; the metadata itself when it has none.
/// Only the file's schema changes: arrow-rs builds its readers from it,
/// and the column chunks keep their pages, statistics and page indexes.
pub(crate) fn interval_bytes(
    metadata: Arc<ParquetMetaData>,
) -> ParquetResult<Arc<ParquetMetaData>> {
    let file = metadata.file_metadata();
    let Some(root) = bytes_type(&file.schema_descr().root_schema_ptr())? else {
        return Ok(metadata);
    };
    let file = FileMetaData::new(
        file.version(),
        file.num_rows(),
        file.created_by().map(str::to_owned),
        file.key_value_metadata().cloned(),
        Arc::new(SchemaDescriptor::new(root)),
        file.column_orders().cloned(),
    );
    let rewritten = ParquetMetaDataBuilder::new(file)
        .set_row_groups(metadata.row_groups().to_vec())
        .set_column_index(metadata.column_index().cloned())
        .set_offset_index(metadata.offset_index().cloned())
        .build();
    Ok(Arc::new(rewritten))
}

/// `source` (DataFusion's Parquet source) with its files' readers handing
/// arrow-rs INTERVAL columns as bytes ([`IntervalFooters`]); any other
/// source, or one without a reader factory, as it is.
pub(crate) fn reading_interval_bytes(source: Arc<dyn FileSource>) -> Arc<dyn FileSource> {
    let Some(parquet) = source.downcast_ref::<ParquetSource>() else {
        return source;
    };
    let Some(inner) = parquet.parquet_file_reader_factory() else {
        return source;
    };
    let footers = Arc::new(IntervalFooters {
        inner: Arc::clone(inner),
    });
    Arc::new(parquet.clone().with_parquet_file_reader_factory(footers))
}

/// Makes readers of DataFusion's factory `inner` whose metadata has the
/// INTERVAL columns as bytes ([`interval_bytes`]); every byte is still
/// read by `inner`'s readers.
#[derive(Debug)]
pub(crate) struct IntervalFooters {
    inner: Arc<dyn ParquetFileReaderFactory>,
}

impl ParquetFileReaderFactory for IntervalFooters {
    fn create_reader(
        &self,
        partition_index: usize,
        partitioned_file: PartitionedFile,
        metadata_size_hint: Option<usize>,
        metrics: &ExecutionPlanMetricsSet,
    ) -> datafusion::error::Result<Box<dyn AsyncFileReader + Send>> {
        let inner = self.inner.create_reader(
            partition_index,
            partitioned_file,
            metadata_size_hint,
            metrics,
        )?;
        Ok(Box::new(IntervalReader { inner }))
    }
}

/// A file's reader whose metadata has its INTERVAL columns as bytes.
struct IntervalReader {
    inner: Box<dyn AsyncFileReader + Send>,
}

impl AsyncFileReader for IntervalReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, ParquetResult<Bytes>> {
        self.inner.get_bytes(range)
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, ParquetResult<Vec<Bytes>>> {
        self.inner.get_byte_ranges(ranges)
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, ParquetResult<Arc<ParquetMetaData>>> {
        async move { interval_bytes(self.inner.get_metadata(options).await?) }.boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::parquet::basic::Repetition;
    use datafusion::parquet::schema::parser::parse_message_type;

    #[test]
    fn interval_columns_become_plain_bytes_at_any_depth() {
        let message = "message m {
            required int32 k;
            optional fixed_len_byte_array(12) iv (INTERVAL);
            optional group l (LIST) {
                repeated group list {
                    optional fixed_len_byte_array(12) element (INTERVAL);
                }
            }
            optional fixed_len_byte_array(12) raw;
        }";
        let root = Arc::new(parse_message_type(message).unwrap());
        let plain = bytes_type(&root).unwrap().unwrap();
        let schema = SchemaDescriptor::new(plain);
        let columns = schema.columns();
        assert_eq!(columns.len(), 4);
        for at in [1, 2] {
            assert_eq!(columns[at].converted_type(), ConvertedType::NONE);
            assert_eq!(columns[at].type_length(), INTERVAL_BYTES);
            assert_eq!(
                columns[at].physical_type(),
                PhysicalType::FIXED_LEN_BYTE_ARRAY
            );
        }
        assert_eq!(
            columns[1].self_type().get_basic_info().repetition(),
            Repetition::OPTIONAL
        );
        assert_eq!(
            schema.get_column_root(2).get_basic_info().converted_type(),
            ConvertedType::LIST
        );
        assert_eq!(columns[2].max_rep_level(), 1);
        let none = Arc::new(parse_message_type("message m { required int32 k; }").unwrap());
        assert!(bytes_type(&none).unwrap().is_none());
    }

    #[test]
    fn intervals_are_read_as_months_days_and_nanoseconds() {
        let day_time = DataType::Interval(IntervalUnit::DayTime);
        let mdn = DataType::Interval(IntervalUnit::MonthDayNano);
        assert_eq!(months_type(&day_time), Some(mdn.clone()));
        assert_eq!(
            months_type(&DataType::new_list(day_time.clone(), true)),
            Some(DataType::new_list(mdn.clone(), true))
        );
        let fields = Fields::from(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", day_time, true),
        ]);
        let Some(DataType::Struct(mapped)) = months_type(&DataType::Struct(fields)) else {
            panic!("a struct of an interval")
        };
        assert_eq!(mapped[0].data_type(), &DataType::Int32);
        assert_eq!(mapped[1].data_type(), &mdn);
        assert_eq!(months_type(&DataType::Int32), None);
    }
}
