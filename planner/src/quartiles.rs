//! SUMMARIZE's quartiles as DuckDB 1.5.5 gives them. DuckDB's
//! `approx_quantile` is a t-digest whose centroids, up to its compression
//! of 100 values, are the values themselves; its quantile `q` of `n`
//! sorted values is then the value at position `q * n - 0.5`, interpolated
//! between neighbours and clamped to the ends (DataFusion's t-digest
//! interpolates otherwise: a median of 0..99 of 49.375). Here every value
//! is kept and that position taken, so SUMMARIZE agrees with DuckDB on
//! inputs of up to 100 values and is exact beyond them (DuckDB's estimate
//! is within its digest's error there). The caller casts the result to
//! the column's type, rounding half to even as DuckDB's cast does.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::ScalarValue;
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};

/// The quantiles SUMMARIZE shows: q25, q50, q75.
pub(crate) const QUARTILES: [f64; 3] = [0.25, 0.5, 0.75];

/// `duckdb_quartiles(x DOUBLE)`: the list `[q25, q50, q75]` of `x`'s
/// non-NULL values ([`QUARTILES`]), NULL when there are none.
pub(crate) fn quartiles() -> AggregateUDF {
    AggregateUDF::new_from_impl(Quartiles {
        signature: Signature::exact(vec![DataType::Float64], Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Quartiles {
    signature: Signature,
}

fn list_of_doubles() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)))
}

impl AggregateUDFImpl for Quartiles {
    fn name(&self) -> &str {
        "duckdb_quartiles"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(list_of_doubles())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "values"),
            list_of_doubles(),
            true,
        ))])
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::<Values>::default())
    }
}

/// Every non-NULL value seen.
#[derive(Debug, Default)]
struct Values(Vec<f64>);

impl Accumulator for Values {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        if let Some(values) = values.first() {
            self.0
                .extend(values.as_primitive::<Float64Type>().iter().flatten());
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        if let Some(lists) = states.first() {
            for list in lists.as_list::<i32>().iter().flatten() {
                self.update_batch(&[list])?;
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let values: ArrayRef = Arc::new(Float64Array::from(std::mem::take(&mut self.0)));
        Ok(vec![
            SingleRowListArrayBuilder::new(values).build_list_scalar(),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.0.is_empty() {
            return ScalarValue::try_from(&list_of_doubles());
        }
        self.0.sort_unstable_by(f64::total_cmp);
        let quartiles: ArrayRef = Arc::new(Float64Array::from(
            QUARTILES
                .iter()
                .map(|&q| quantile(&self.0, q))
                .collect::<Vec<_>>(),
        ));
        Ok(SingleRowListArrayBuilder::new(quartiles).build_list_scalar())
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.0.capacity() * size_of::<f64>()
    }
}

/// DuckDB's quantile `q` of the non-empty `sorted` values: the value at
/// position `q * n - 0.5`, interpolated, clamped to the ends.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let last = sorted.len() - 1;
    let at = q * sorted.len() as f64 - 0.5;
    if at <= 0.0 {
        return sorted[0];
    }
    if at >= last as f64 {
        return sorted[last];
    }
    let below = at.floor() as usize;
    let fraction = at - below as f64;
    sorted[below] + fraction * (sorted[below + 1] - sorted[below])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DuckDB 1.5.5's `approx_quantile(x, q)` for q = 0.25, 0.5, 0.75.
    #[test]
    fn quantiles_are_duckdbs_for_small_inputs() {
        let cases: [(Vec<f64>, [f64; 3]); 4] = [
            (vec![0.0, 10.0, 20.0, 30.0], [5.0, 15.0, 25.0]),
            (vec![0.0, 10.0, 20.0, 30.0, 47.0], [7.5, 20.0, 34.25]),
            (vec![5.0], [5.0, 5.0, 5.0]),
            ((0..100).map(f64::from).collect(), [24.5, 49.5, 74.5]),
        ];
        for (values, expected) in cases {
            let got = QUARTILES.map(|q| quantile(&values, q));
            assert_eq!(got, expected, "{values:?}");
        }
    }
}
