//! `sum(DISTINCT x)` and `avg(DISTINCT x)` of DECIMALs: the distinct
//! values kept exactly, totalled once at the end, so their total is
//! checked as [`super::Sum`]'s is (DataFusion's DISTINCT sum wraps around
//! past 128 bits; its DISTINCT avg was DataFusion's of DOUBLEs,
//! 0.19999999999999998 for 0.1, 0.2, 0.3).

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Decimal256Array};
use datafusion::arrow::datatypes::{DECIMAL256_MAX_PRECISION, Decimal256Type, i256};
use datafusion::common::ScalarValue;
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::error::Result;
use datafusion::logical_expr::Accumulator;

use super::Kind;

/// The distinct non-NULL values seen, scaled by 10^scale.
#[derive(Debug)]
pub(super) struct DistinctTotal {
    values: HashSet<i256>,
    kind: Kind,
}

impl DistinctTotal {
    pub(super) fn new(kind: Kind) -> Self {
        Self {
            values: HashSet::new(),
            kind,
        }
    }

    fn insert(&mut self, values: &ArrayRef) -> Result<()> {
        let values = self.kind.widened(values)?;
        self.values
            .extend(values.as_primitive::<Decimal256Type>().iter().flatten());
        Ok(())
    }
}

impl Accumulator for DistinctTotal {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        match values.first() {
            Some(values) => self.insert(values),
            None => Ok(()),
        }
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        if let Some(lists) = states.first() {
            let lists = lists.as_list::<i32>();
            for values in lists.iter().flatten() {
                self.insert(&values)?;
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let values = Decimal256Array::from_iter_values(self.values.iter().copied())
            .with_precision_and_scale(DECIMAL256_MAX_PRECISION, self.kind.scale)?;
        let values: ArrayRef = Arc::new(values);
        Ok(vec![
            SingleRowListArrayBuilder::new(values).build_list_scalar(),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let mut sum = i256::ZERO;
        for v in &self.values {
            sum = self.kind.checked(sum.checked_add(*v))?;
        }
        self.kind.result(sum, self.values.len() as u64)
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.values.capacity() * size_of::<i256>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Decimal128Array;

    fn decimals(values: &[Option<i128>], scale: i8) -> ArrayRef {
        Arc::new(
            Decimal128Array::from(values.to_vec())
                .with_precision_and_scale(38, scale)
                .unwrap(),
        )
    }

    fn distinct(average: bool) -> DistinctTotal {
        DistinctTotal::new(Kind {
            average,
            precision: 38,
            scale: 1,
        })
    }

    /// Each value counts once, across merged states too; NULLs never.
    #[test]
    fn each_distinct_value_counts_once() {
        let mut first = distinct(true);
        first
            .update_batch(&[decimals(&[Some(1), Some(2), Some(2), None], 1)])
            .unwrap();
        let mut second = distinct(true);
        second
            .update_batch(&[decimals(&[Some(3), Some(1)], 1)])
            .unwrap();
        let state: Vec<ArrayRef> = first
            .state()
            .unwrap()
            .iter()
            .map(|v| v.to_array().unwrap())
            .collect();
        second.merge_batch(&state).unwrap();
        assert_eq!(second.evaluate().unwrap(), ScalarValue::Float64(Some(0.2)));
    }

    /// Distinct values totalling more than 38 digits are an error.
    #[test]
    fn a_distinct_total_past_38_digits_is_an_overflow_error() {
        let nines = 10i128.pow(38) - 1;
        let mut sum = distinct(false);
        sum.update_batch(&[decimals(&[Some(nines), Some(nines - 1)], 1)])
            .unwrap();
        let error = sum.evaluate().unwrap_err().to_string();
        assert!(error.contains("Overflow in sum"), "{error}");
    }
}
