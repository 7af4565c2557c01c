//! `sum` and `avg` of DECIMALs as DuckDB 1.5.5 computes them: the total
//! is kept exact (in 76 digits); `avg` divides it once, as a DOUBLE, and a
//! `sum` is DECIMAL(38, s), an overflow error past 38 digits. DataFusion's
//! `avg` of a DECIMAL truncates to 4 more places (`avg` of 1.0, 2.0, 2.0
//! 1.66666) and its `sum` wraps around past 128 bits (a sum of two
//! 38-digit values negative), as do its DISTINCT sum and its window
//! sum. [`crate::decimal_literals`] calls these in their place for
//! aggregates, DISTINCT ones ([`distinct`]) and windows (a frame's start
//! moving on retracts values); the last division of `avg` is
//! [`crate::decimal_average`]'s.

mod distinct;
mod groups;

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DECIMAL128_MAX_PRECISION, DECIMAL256_MAX_PRECISION, DataType, Decimal128Type, Decimal256Type,
    DecimalType, Field, FieldRef, UInt64Type, i256,
};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, GroupsAccumulator, Signature, Volatility,
};

/// `duckdb_decimal_avg(x DECIMAL)`: the average of `x` as a DOUBLE.
pub(crate) fn decimal_avg() -> AggregateUDF {
    AggregateUDF::new_from_impl(Total::new(true))
}

/// `duckdb_decimal_sum(x DECIMAL(p, s))`: the sum of `x` as DECIMAL(38,
/// s), an error when it needs more than 38 digits.
pub(crate) fn decimal_sum() -> AggregateUDF {
    AggregateUDF::new_from_impl(Total::new(false))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Total {
    average: bool,
    signature: Signature,
}

impl Total {
    fn new(average: bool) -> Self {
        Self {
            average,
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

/// The scale of a DECIMAL type (0 for any other).
fn scale_of(t: &DataType) -> i8 {
    precision_and_scale(t).1
}

/// The precision and scale of a DECIMAL type ((38, 0) for any other).
fn precision_and_scale(t: &DataType) -> (u8, i8) {
    match t {
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => (*p, *s),
        _ => (DECIMAL128_MAX_PRECISION, 0),
    }
}

/// What a total is for: `avg` or `sum` of DECIMAL(`precision`, `scale`).
#[derive(Debug, Clone, Copy)]
struct Kind {
    average: bool,
    precision: u8,
    scale: i8,
}

impl Kind {
    /// The values of `values` (any DECIMAL) as DECIMAL(76, scale).
    fn widened(&self, values: &ArrayRef) -> Result<ArrayRef> {
        let wide = DataType::Decimal256(DECIMAL256_MAX_PRECISION, self.scale);
        Ok(cast(values, &wide)?)
    }

    /// The result of `count` values totalling `sum`: `avg`'s DOUBLE
    /// (DuckDB's 128-bit total: an overflow error past it), `sum`'s
    /// DECIMAL(38, scale) (an overflow error past 38 digits); NULL of no
    /// values.
    fn result(&self, sum: i256, count: u64) -> Result<ScalarValue> {
        let empty = count == 0;
        if self.average {
            return match sum.to_i128() {
                _ if empty => Ok(ScalarValue::Float64(None)),
                Some(total) => Ok(ScalarValue::Float64(Some(
                    crate::decimal_average::duckdb_average(
                        total,
                        count,
                        self.precision,
                        self.scale,
                    ),
                ))),
                None => exec_err!(
                    "Overflow in avg of DECIMAL values: their total needs more than 128 bits \
                     (DuckDB's HUGEINT); cast the values to DOUBLE to average them approximately"
                ),
            };
        }
        let sum = sum
            .to_i128()
            .filter(|v| Decimal128Type::is_valid_decimal_precision(*v, DECIMAL128_MAX_PRECISION));
        match sum {
            _ if empty => Ok(ScalarValue::Decimal128(
                None,
                DECIMAL128_MAX_PRECISION,
                self.scale,
            )),
            Some(v) => Ok(ScalarValue::Decimal128(
                Some(v),
                DECIMAL128_MAX_PRECISION,
                self.scale,
            )),
            None => exec_err!(
                "Overflow in sum of DECIMAL values: the total needs more than {} digits \
                 (DECIMAL(38, {})); cast the values to DOUBLE to add them approximately",
                DECIMAL128_MAX_PRECISION,
                self.scale
            ),
        }
    }

    /// `sum` if it is one, else an overflow error.
    fn checked(&self, sum: Option<i256>) -> Result<i256> {
        match sum {
            Some(sum) => Ok(sum),
            None => exec_err!("Overflow in sum of DECIMAL values (scale {})", self.scale),
        }
    }
}

impl AggregateUDFImpl for Total {
    fn name(&self) -> &str {
        if self.average {
            "duckdb_decimal_avg"
        } else {
            "duckdb_decimal_sum"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let scale = args.first().map_or(0, scale_of);
        Ok(if self.average {
            DataType::Float64
        } else {
            DataType::Decimal128(DECIMAL128_MAX_PRECISION, scale)
        })
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let scale = args
            .input_fields
            .first()
            .map_or(0, |f| scale_of(f.data_type()));
        let wide = DataType::Decimal256(DECIMAL256_MAX_PRECISION, scale);
        if args.is_distinct {
            return Ok(vec![Arc::new(Field::new_list(
                format_state_name(args.name, "distinct values"),
                Field::new_list_field(wide, true),
                false,
            ))]);
        }
        Ok(vec![
            Arc::new(Field::new(format_state_name(args.name, "sum"), wide, true)),
            Arc::new(Field::new(
                format_state_name(args.name, "count"),
                DataType::UInt64,
                false,
            )),
        ])
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        !args.is_distinct
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(groups::GroupTotals::new(self.kind(&args))))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let kind = self.kind(&args);
        if args.is_distinct {
            return Ok(Box::new(distinct::DistinctTotal::new(kind)));
        }
        Ok(Box::new(Sum {
            sum: i256::ZERO,
            count: 0,
            kind,
        }))
    }
}

impl Total {
    /// What the call's accumulators total.
    fn kind(&self, args: &AccumulatorArgs) -> Kind {
        let (precision, scale) = args
            .expr_fields
            .first()
            .map_or((DECIMAL128_MAX_PRECISION, 0), |f| {
                precision_and_scale(f.data_type())
            });
        Kind {
            average: self.average,
            precision,
            scale,
        }
    }
}

/// The exact total of the values seen, scaled by 10^scale, and their
/// count.
#[derive(Debug)]
struct Sum {
    sum: i256,
    count: u64,
    kind: Kind,
}

impl Sum {
    fn add(&mut self, values: &ArrayRef) -> Result<()> {
        let values = self.kind.widened(values)?;
        for v in values.as_primitive::<Decimal256Type>().iter().flatten() {
            self.sum = self.kind.checked(self.sum.checked_add(v))?;
        }
        Ok(())
    }
}

impl Accumulator for Sum {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        if let Some(values) = values.first() {
            self.count += (values.len() - values.null_count()) as u64;
            self.add(values)?;
        }
        Ok(())
    }

    /// A window frame's start moving past `values`: exact, as the total.
    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        if let Some(values) = values.first() {
            self.count -= (values.len() - values.null_count()) as u64;
            let values = self.kind.widened(values)?;
            for v in values.as_primitive::<Decimal256Type>().iter().flatten() {
                self.sum = self.kind.checked(self.sum.checked_sub(v))?;
            }
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        if let [sums, counts, ..] = states {
            self.add(sums)?;
            self.count += counts
                .as_primitive::<UInt64Type>()
                .iter()
                .flatten()
                .sum::<u64>();
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::Decimal256(Some(self.sum), DECIMAL256_MAX_PRECISION, self.kind.scale),
            ScalarValue::UInt64(Some(self.count)),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.kind.result(self.sum, self.count)
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Decimal128Array;

    fn decimals(values: &[i128], precision: u8, scale: i8) -> ArrayRef {
        Arc::new(
            Decimal128Array::from(values.to_vec())
                .with_precision_and_scale(precision, scale)
                .unwrap(),
        )
    }

    fn total(average: bool, scale: i8) -> Sum {
        Sum {
            sum: i256::ZERO,
            count: 0,
            kind: Kind {
                average,
                precision: 38,
                scale,
            },
        }
    }

    /// avg of 0.1, 0.2, 0.3 is 0.2 exactly, as DuckDB's (a DOUBLE sum
    /// gives 0.20000000000000004), also through a merged state.
    #[test]
    fn average_divides_the_exact_total_once() {
        let mut first = total(true, 1);
        first.update_batch(&[decimals(&[1, 2], 2, 1)]).unwrap();
        let mut second = total(true, 1);
        second.update_batch(&[decimals(&[3], 2, 1)]).unwrap();
        let state: Vec<ArrayRef> = first
            .state()
            .unwrap()
            .iter()
            .map(|v| v.to_array().unwrap())
            .collect();
        second.merge_batch(&state).unwrap();
        assert_eq!(second.evaluate().unwrap(), ScalarValue::Float64(Some(0.2)));
    }

    /// A sum past 38 digits is an error, not a wrapped-around value.
    #[test]
    fn sum_past_38_digits_is_an_overflow_error() {
        let nines = 10i128.pow(38) - 1;
        let mut sum = total(false, 0);
        sum.update_batch(&[decimals(&[nines, nines], 38, 0)])
            .unwrap();
        let error = sum.evaluate().unwrap_err().to_string();
        assert!(error.contains("Overflow in sum"), "{error}");
        let mut sum = total(false, 0);
        sum.update_batch(&[decimals(&[nines, -nines, 5], 38, 0)])
            .unwrap();
        assert_eq!(
            sum.evaluate().unwrap(),
            ScalarValue::Decimal128(Some(5), 38, 0)
        );
    }
}
