//! A time in a coarser unit, rounded down or up: the bounds a column in
//! that unit is compared with in place of a finer constant
//! ([`crate::infinity_pruning::compared_in_unit`]). A TIMESTAMP_MS column
//! is below `TIMESTAMP '2024-01-01 00:00:00.0005'` up to `00:00:00.000`,
//! so `ms < c` is `ms < ceil(c)` and `ms >= c` is `ms >= ceil(c)`, and
//! equal to it nowhere: `ms = floor(c) AND ms = ceil(c)`. Truncating it
//! (as arrow's cast, or DataFusion's own move of the cast, does) matched
//! `00:00:00.000` (hostile review of fix9b, HIGH 1). The infinities stay
//! as they are.

use std::sync::Arc;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::timestamp_infinity::rank;

/// Which way a time between two of the coarser unit's goes.
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
pub(crate) enum Rounding {
    /// To the latest time at or before it.
    Down,
    /// To the earliest time at or after it.
    Up,
}

/// The call rounding timestamp `input` (`way`) to `to`, a timestamp in a
/// coarser unit: the raw value in `to`'s unit, its zone only named.
pub(crate) fn bound(input: Expr, to: &DataType, way: Rounding) -> Expr {
    let udf = TimestampBound {
        to: to.clone(),
        way,
        signature: Signature::any(1, Volatility::Immutable),
    };
    let func = Arc::new(ScalarUDF::new_from_impl(udf));
    Expr::ScalarFunction(ScalarFunction::new_udf(func, vec![input]))
}

/// `value`, in a unit `factor` times finer, rounded `way` to the coarser
/// one; an infinity (the largest i64 or its negation) kept.
fn rounded(value: i64, factor: i64, way: Rounding) -> i64 {
    if value == i64::MAX || value == -i64::MAX {
        return value;
    }
    let down = value.div_euclid(factor);
    match way {
        Rounding::Up if value.rem_euclid(factor) != 0 => down + 1,
        _ => down,
    }
}

/// `duckdb_timestamp_floor(t)`, `duckdb_timestamp_ceil(t)`: see [`bound`].
#[derive(Debug, PartialEq, Eq, Hash)]
struct TimestampBound {
    to: DataType,
    way: Rounding,
    signature: Signature,
}

impl ScalarUDFImpl for TimestampBound {
    fn name(&self) -> &str {
        match self.way {
            Rounding::Down => "duckdb_timestamp_floor",
            Rounding::Up => "duckdb_timestamp_ceil",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.to.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(arg) = args.args.first() else {
            return exec_err!("{} takes one argument", self.name());
        };
        let array = arg.to_array(args.number_rows)?;
        let (DataType::Timestamp(from, _), DataType::Timestamp(to, _)) =
            (array.data_type(), &self.to)
        else {
            return exec_err!("{} rounds a timestamp to a timestamp", self.name());
        };
        let Some(finer) = rank(*from).checked_sub(rank(*to)) else {
            return exec_err!("{} rounds to a coarser unit", self.name());
        };
        let factor = 1000_i64.pow(u32::from(finer));
        let raw = cast(&array, &DataType::Int64)?;
        let out = raw
            .as_primitive::<Int64Type>()
            .unary::<_, Int64Type>(|value| rounded(value, factor, self.way));
        let out = cast(&out, &self.to)?;
        Ok(match arg {
            ColumnarValue::Scalar(_) => {
                ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
            }
            ColumnarValue::Array(_) => ColumnarValue::Array(out),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Between two milliseconds, after 1970 and before it: down and up;
    /// on one, itself; the infinities kept.
    #[test]
    fn rounds_either_way_either_side_of_1970() {
        let cases = [
            (1_500, 1, 2),
            (-1_500, -2, -1),
            (2_000, 2, 2),
            (-2_000, -2, -2),
            (0, 0, 0),
            (i64::MAX, i64::MAX, i64::MAX),
            (-i64::MAX, -i64::MAX, -i64::MAX),
            (i64::MIN, i64::MIN / 1_000 - 1, i64::MIN / 1_000),
        ];
        for (value, down, up) in cases {
            assert_eq!(rounded(value, 1_000, Rounding::Down), down, "{value}");
            assert_eq!(rounded(value, 1_000, Rounding::Up), up, "{value}");
        }
    }
}
