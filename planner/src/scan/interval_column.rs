//! [`IntervalOfBytes`]: a Parquet INTERVAL column read as its 12 bytes
//! (`parquet_interval`) made the scan's INTERVAL, as DuckDB 1.5.5 reads
//! it: the months and days as they are stored (32 bits each), the
//! milliseconds as nanoseconds; in a list, struct or map too.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, FixedSizeListArray, GenericListArray, IntervalMonthDayNanoArray,
    MapArray, OffsetSizeTrait, RecordBatch, StructArray,
};
use datafusion::arrow::datatypes::{
    DataType, Field, FieldRef, IntervalMonthDayNano, IntervalUnit, Schema,
};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;

use crate::scan::column_cast::CastRefused;
use crate::scan::parquet_interval::{INTERVAL_BYTES, months_type};

/// The type a file column holding Parquet INTERVAL bytes of type `file`
/// is read as, when that is `scan` (the scan's type of the column); the
/// bytes are then read by [`IntervalOfBytes`].
pub(crate) fn read_from_bytes(file: &DataType, scan: &DataType) -> bool {
    holds_bytes(file)
        && months_type(&bytes_as_interval(file))
            .as_ref()
            .unwrap_or(file)
            == scan
}

/// Whether `kind` holds FixedSizeBinary(12) values, at any depth.
fn holds_bytes(kind: &DataType) -> bool {
    match kind {
        DataType::FixedSizeBinary(INTERVAL_BYTES) => true,
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => holds_bytes(f.data_type()),
        DataType::Struct(fields) => fields.iter().any(|f| holds_bytes(f.data_type())),
        _ => false,
    }
}

/// `kind` with its FixedSizeBinary(12) values as intervals (of any unit:
/// [`months_type`] makes them the scan's).
fn bytes_as_interval(kind: &DataType) -> DataType {
    let field = |f: &FieldRef| -> FieldRef {
        Arc::new(
            f.as_ref()
                .clone()
                .with_data_type(bytes_as_interval(f.data_type())),
        )
    };
    match kind {
        DataType::FixedSizeBinary(INTERVAL_BYTES) => DataType::Interval(IntervalUnit::DayTime),
        DataType::List(f) => DataType::List(field(f)),
        DataType::LargeList(f) => DataType::LargeList(field(f)),
        DataType::FixedSizeList(f, n) => DataType::FixedSizeList(field(f), *n),
        DataType::Map(f, sorted) => DataType::Map(field(f), *sorted),
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(field).collect()),
        other => other.clone(),
    }
}

/// Whether a file column of type `file` read as `scan` would lose an
/// interval's months: arrow-rs read a Parquet INTERVAL as an Arrow
/// interval (a reader without `parquet_interval::IntervalFooters`).
pub(crate) fn months_lost(file: &DataType, scan: &DataType) -> bool {
    file != scan && months_type(file).is_some()
}

/// The error for the file column `name` whose INTERVAL cannot be read
/// with its months (`scan::parquet_named` adds the file).
pub(crate) fn months_not_read(name: &str) -> Result<Arc<dyn PhysicalExpr>> {
    Err(DataFusionError::External(Box::new(CastRefused(format!(
        "column \"{name}\" is a Parquet INTERVAL; s3sql cannot read its months yet \
         (arrow-rs reads only its days and milliseconds), so it is not read at all: \
         read the file with DuckDB, or write the column as VARCHAR"
    )))))
}

/// One stored Parquet INTERVAL: months, days and milliseconds, each a
/// little-endian u32, read as DuckDB reads them (months and days into
/// 32-bit integers, the milliseconds as a count of nanoseconds).
fn interval_of(bytes: &[u8]) -> IntervalMonthDayNano {
    let part = |at: usize| {
        let mut word = [0; 4];
        // A FixedSizeBinary(12) value has 12 bytes; `at` is 0, 4 or 8.
        if let Some(stored) = bytes.get(at..at + 4) {
            word.copy_from_slice(stored);
        }
        word
    };
    let millis = u32::from_le_bytes(part(8));
    IntervalMonthDayNano::new(
        i32::from_le_bytes(part(0)),
        i32::from_le_bytes(part(4)),
        i64::from(millis) * 1_000_000,
    )
}

/// `array` (bytes, or values holding them) as `to`, the scan's type.
fn read_as(array: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    Ok(match (array.data_type(), to) {
        (DataType::FixedSizeBinary(INTERVAL_BYTES), DataType::Interval(_)) => Arc::new(
            IntervalMonthDayNanoArray::from_unary(array.as_fixed_size_binary(), interval_of),
        ),
        (DataType::List(_), DataType::List(field)) => list_as::<i32>(array, field)?,
        (DataType::LargeList(_), DataType::LargeList(field)) => list_as::<i64>(array, field)?,
        (DataType::FixedSizeList(_, n), DataType::FixedSizeList(field, _)) => {
            let list = array.as_fixed_size_list();
            Arc::new(FixedSizeListArray::try_new(
                Arc::clone(field),
                *n,
                read_as(list.values(), field.data_type())?,
                list.nulls().cloned(),
            )?)
        }
        (DataType::Struct(_), DataType::Struct(fields)) => {
            let parts = array.as_struct();
            let columns = parts
                .columns()
                .iter()
                .zip(fields.iter())
                .map(|(column, field)| read_as(column, field.data_type()))
                .collect::<Result<Vec<_>>>()?;
            Arc::new(StructArray::try_new(
                fields.clone(),
                columns,
                parts.nulls().cloned(),
            )?)
        }
        (DataType::Map(_, sorted), DataType::Map(field, _)) => {
            let map = array.as_map();
            let entries: ArrayRef = Arc::new(map.entries().clone());
            let entries = read_as(&entries, field.data_type())?;
            Arc::new(MapArray::try_new(
                Arc::clone(field),
                map.offsets().clone(),
                entries.as_struct().clone(),
                map.nulls().cloned(),
                *sorted,
            )?)
        }
        _ => Arc::clone(array),
    })
}

/// A list `array`'s values read as `field`'s ([`read_as`]).
fn list_as<O: OffsetSizeTrait>(array: &ArrayRef, field: &FieldRef) -> Result<ArrayRef> {
    let list = array.as_list::<O>();
    Ok(Arc::new(GenericListArray::<O>::try_new(
        Arc::clone(field),
        list.offsets().clone(),
        read_as(list.values(), field.data_type())?,
        list.nulls().cloned(),
    )?))
}

/// A file column of Parquet INTERVAL bytes read as the scan's `to`.
#[derive(Debug, Eq)]
pub(crate) struct IntervalOfBytes {
    expr: Arc<dyn PhysicalExpr>,
    to: DataType,
}

impl IntervalOfBytes {
    /// `expr` (a file column of bytes) read as `to`.
    pub(crate) fn new(expr: Arc<dyn PhysicalExpr>, to: DataType) -> Self {
        Self { expr, to }
    }
}

// By hand: a derive does not see through `Arc<dyn PhysicalExpr>`
// (rust-lang/rust#78808), as for DataFusion's CastExpr.
impl PartialEq for IntervalOfBytes {
    fn eq(&self, other: &Self) -> bool {
        self.expr.eq(&other.expr) && self.to == other.to
    }
}

impl Hash for IntervalOfBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.expr.hash(state);
        self.to.hash(state);
    }
}

impl fmt::Display for IntervalOfBytes {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "PARQUET_INTERVAL({})", self.expr)
    }
}

impl PhysicalExpr for IntervalOfBytes {
    fn return_field(&self, input_schema: &Schema) -> Result<FieldRef> {
        let source = self.expr.return_field(input_schema)?;
        Ok(Arc::new(Field::new(
            source.name(),
            self.to.clone(),
            source.is_nullable(),
        )))
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        Ok(match self.expr.evaluate(batch)? {
            ColumnarValue::Array(array) => ColumnarValue::Array(read_as(&array, &self.to)?),
            ColumnarValue::Scalar(value) => {
                let array = read_as(&value.to_array()?, &self.to)?;
                ColumnarValue::Scalar(ScalarValue::try_from_array(&array, 0)?)
            }
        })
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.expr]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let expr = children
            .into_iter()
            .next()
            .unwrap_or_else(|| Arc::clone(&self.expr));
        Ok(Arc::new(Self::new(expr, self.to.clone())))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.fmt_sql(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::FixedSizeBinaryArray;
    use datafusion::arrow::datatypes::IntervalMonthDayNanoType;

    fn stored(months: u32, days: u32, millis: u32) -> Vec<u8> {
        [months, days, millis]
            .iter()
            .flat_map(|p| p.to_le_bytes())
            .collect()
    }

    #[test]
    fn bytes_are_months_days_and_milliseconds() {
        let values = [Some(stored(14, 3, 14_706_789)), None, Some(stored(0, 0, 1))];
        let bytes: ArrayRef = Arc::new(
            FixedSizeBinaryArray::try_from_sparse_iter_with_size(values.into_iter(), 12).unwrap(),
        );
        let mdn = DataType::Interval(IntervalUnit::MonthDayNano);
        let read = read_as(&bytes, &mdn).unwrap();
        let read: Vec<_> = read
            .as_primitive::<IntervalMonthDayNanoType>()
            .iter()
            .collect();
        assert_eq!(
            read,
            [
                Some(IntervalMonthDayNano::new(14, 3, 14_706_789_000_000)),
                None,
                Some(IntervalMonthDayNano::new(0, 0, 1_000_000)),
            ]
        );
        let list = DataType::new_list(mdn.clone(), true);
        assert!(read_from_bytes(
            &DataType::new_list(DataType::FixedSizeBinary(12), true),
            &list
        ));
        assert!(read_from_bytes(&DataType::FixedSizeBinary(12), &mdn));
        assert!(!read_from_bytes(&DataType::FixedSizeBinary(16), &mdn));
        assert!(!read_from_bytes(
            &DataType::FixedSizeBinary(12),
            &DataType::FixedSizeBinary(12)
        ));
        assert!(months_lost(
            &DataType::Interval(IntervalUnit::DayTime),
            &mdn
        ));
        assert!(!months_lost(&mdn, &mdn));
    }
}
