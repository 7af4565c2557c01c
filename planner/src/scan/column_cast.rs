//! A Parquet file's column read as the scan's type where the cast can
//! change or refuse a value ([`needed`]):
//! - a DECIMAL or DOUBLE read as the first file's integer type is rounded
//!   as DuckDB 1.5.5 rounds it: a decimal half away from zero (2.5 -> 3,
//!   -3.5 -> -4), a float half to even (2.5 -> 2, 3.5 -> 4); in a list's
//!   values too. arrow's cast, which DataFusion's adapter uses, truncates
//!   toward zero (review-8e #25). A value out of the integer's range, or
//!   NaN, is an error, as in DuckDB;
//! - a value that does not convert (`'str'` as INTEGER) is an error naming
//!   the column, both types and union_by_name, as DuckDB's does; it was
//!   arrow's bare "Cannot cast string 'str' to value of Int32 type"
//!   (review-8e #14; the file is not named: DataFusion's adapter is not
//!   told which file it adapts).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, GenericListArray, OffsetSizeTrait, RecordBatch,
};
use datafusion::arrow::compute::{CastOptions, cast, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Schema};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::CastExpr;

use crate::describe::duckdb_type_name;

/// Whether a file column of type `from` is read as `to` by a
/// [`ColumnCast`]: the cast drops a fraction ([`rounds`]), or can refuse
/// a value (text to anything else, an integer to a narrower one).
pub(crate) fn needed(from: &DataType, to: &DataType) -> bool {
    let text =
        |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    rounds(from, to)
        || (text(from) && !text(to))
        || (from.is_integer() && to.is_integer() && !CastExpr::check_bigger_cast(to, from))
}

/// Whether a cast from `from` to `to` drops a fraction (a float or
/// decimal to an integer, at any list depth): [`ColumnCast`] rounds it.
fn rounds(from: &DataType, to: &DataType) -> bool {
    match (from, to) {
        (DataType::List(from), DataType::List(to))
        | (DataType::LargeList(from), DataType::LargeList(to)) => {
            rounds(from.data_type(), to.data_type())
        }
        (from, to) => to.is_integer() && (from.is_floating() || whole_decimal(from).is_some()),
    }
}

/// The decimal type of `decimal`'s width with no fraction digits.
fn whole_decimal(decimal: &DataType) -> Option<DataType> {
    Some(match *decimal {
        DataType::Decimal32(p, _) => DataType::Decimal32(p, 0),
        DataType::Decimal64(p, _) => DataType::Decimal64(p, 0),
        DataType::Decimal128(p, _) => DataType::Decimal128(p, 0),
        DataType::Decimal256(p, _) => DataType::Decimal256(p, 0),
        _ => return None,
    })
}

/// `array` cast to `to`, a fraction rounded as DuckDB rounds it.
fn round_cast(array: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    let rounded: ArrayRef = match (array.data_type(), to) {
        (DataType::List(_), DataType::List(field)) => return round_list::<i32>(array, field),
        (DataType::LargeList(_), DataType::LargeList(field)) => {
            return round_list::<i64>(array, field);
        }
        (from, _) if from.is_floating() => {
            let doubles = cast(array, &DataType::Float64)?;
            Arc::new(
                doubles
                    .as_primitive::<Float64Type>()
                    .unary::<_, Float64Type>(f64::round_ties_even),
            )
        }
        // arrow's decimal rescale rounds half away from zero.
        (from, _) => match whole_decimal(from) {
            Some(whole) => cast(array, &whole)?,
            None => Arc::clone(array),
        },
    };
    let strict = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    Ok(cast_with_options(&rounded, to, &strict)?)
}

/// A list `array`'s values read as `field`'s ([`round_cast`]).
fn round_list<O: OffsetSizeTrait>(array: &ArrayRef, field: &FieldRef) -> Result<ArrayRef> {
    let list = array.as_list::<O>();
    let values = round_cast(list.values(), field.data_type())?;
    Ok(Arc::new(GenericListArray::<O>::try_new(
        Arc::clone(field),
        list.offsets().clone(),
        values,
        list.nulls().cloned(),
    )?))
}

/// `CAST(expr AS to)` of a file column, rounding a fraction as DuckDB
/// does, an error naming the column.
#[derive(Debug, Eq)]
pub(crate) struct ColumnCast {
    expr: Arc<dyn PhysicalExpr>,
    to: FieldRef,
    /// The file column's name and type, for an error.
    column: String,
    from: DataType,
    /// The files were read with union_by_name (the error's advice).
    union_by_name: bool,
}

impl ColumnCast {
    /// `expr`, the file's `column` of type `from`, read as the field `to`.
    pub(crate) fn new(
        expr: Arc<dyn PhysicalExpr>,
        to: FieldRef,
        column: &str,
        from: &DataType,
        union_by_name: bool,
    ) -> Self {
        Self {
            expr,
            to,
            column: column.to_owned(),
            from: from.clone(),
            union_by_name,
        }
    }

    /// `array` as the scan's type, or an error naming the column.
    fn cast(&self, array: &ArrayRef) -> Result<ArrayRef> {
        round_cast(array, self.to.data_type()).map_err(|e| {
            let advice = match self.union_by_name {
                true => "",
                false => "; read with union_by_name = true to combine the files' types",
            };
            DataFusionError::External(Box::new(CastRefused(format!(
                "a Parquet file's column \"{}\" has type {}, but it is read as {}, the type of \
                 the first file's: {e}{advice}",
                self.column,
                duckdb_type_name(&self.from),
                duckdb_type_name(self.to.data_type()),
            ))))
        })
    }
}

/// A later Parquet file's value that does not convert to the scan's type
/// ([`ColumnCast`]), or a column that cannot be read as it
/// (`interval_column::months_not_read`); the scan's wrapper adds the file
/// (`scan::parquet_named`), which the cast is not told.
#[derive(Debug)]
pub(crate) struct CastRefused(pub String);

impl fmt::Display for CastRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CastRefused {}

// By hand: a derive does not see through `Arc<dyn PhysicalExpr>`
// (rust-lang/rust#78808), as for DataFusion's CastExpr.
impl PartialEq for ColumnCast {
    fn eq(&self, other: &Self) -> bool {
        self.expr.eq(&other.expr) && self.to == other.to && self.column == other.column
    }
}

impl Hash for ColumnCast {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.expr.hash(state);
        self.to.hash(state);
        self.column.hash(state);
    }
}

impl fmt::Display for ColumnCast {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "FILE_CAST({} AS {})", self.expr, self.to.data_type())
    }
}

impl PhysicalExpr for ColumnCast {
    fn return_field(&self, input_schema: &Schema) -> Result<FieldRef> {
        let source = self.expr.return_field(input_schema)?;
        Ok(Arc::new(Field::new(
            source.name(),
            self.to.data_type().clone(),
            source.is_nullable() || self.to.is_nullable(),
        )))
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        Ok(match self.expr.evaluate(batch)? {
            ColumnarValue::Array(array) => ColumnarValue::Array(self.cast(&array)?),
            ColumnarValue::Scalar(value) => {
                let array = self.cast(&value.to_array()?)?;
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
        Ok(Arc::new(Self {
            expr,
            to: Arc::clone(&self.to),
            column: self.column.clone(),
            from: self.from.clone(),
            union_by_name: self.union_by_name,
        }))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CAST(")?;
        self.expr.fmt_sql(f)?;
        write!(f, " AS {})", self.to.data_type())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use datafusion::arrow::array::{Decimal128Array, Float64Array, Int32Array};

    fn ints(array: ArrayRef) -> Vec<Option<i32>> {
        let cast = round_cast(&array, &DataType::Int32).unwrap();
        cast.as_primitive::<datafusion::arrow::datatypes::Int32Type>()
            .iter()
            .collect()
    }

    #[test]
    fn doubles_round_half_to_even_and_decimals_half_away_from_zero_as_duckdb() {
        let doubles = Float64Array::from(vec![Some(2.5), Some(3.5), Some(-2.5), Some(-3.7), None]);
        assert_eq!(
            ints(Arc::new(doubles)),
            [Some(2), Some(4), Some(-2), Some(-4), None]
        );
        let decimals = Decimal128Array::from(vec![Some(25), Some(-25), Some(-35), Some(24), None])
            .with_precision_and_scale(2, 1)
            .unwrap();
        assert_eq!(
            ints(Arc::new(decimals)),
            [Some(3), Some(-3), Some(-4), Some(2), None]
        );
        let same = Int32Array::from(vec![1]);
        assert_eq!(ints(Arc::new(same)), [Some(1)]);
    }

    #[test]
    fn nan_and_values_past_the_integer_are_errors() {
        for value in [f64::NAN, 1e20] {
            let array: ArrayRef = Arc::new(Float64Array::from(vec![value]));
            assert!(round_cast(&array, &DataType::Int32).is_err(), "{value}");
        }
    }

    #[test]
    fn which_casts_round() {
        let list = |t: DataType| DataType::new_list(t, true);
        assert!(rounds(&DataType::Float32, &DataType::Int64));
        assert!(rounds(&DataType::Decimal128(2, 1), &DataType::Int32));
        assert!(rounds(&list(DataType::Float64), &list(DataType::Int32)));
        assert!(!rounds(&DataType::Int32, &DataType::Float64));
        assert!(!rounds(&DataType::Utf8, &DataType::Int32));
        assert!(needed(&DataType::Utf8, &DataType::Int32));
        assert!(needed(&DataType::Int64, &DataType::Int32));
        assert!(!needed(&DataType::Int32, &DataType::Int64));
        assert!(!needed(&DataType::Int32, &DataType::Utf8));
    }
}
