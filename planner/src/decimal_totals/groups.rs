//! [`super::Sum`] for many groups at once (GROUP BY): each group's exact
//! total and count in two vectors. Without it DataFusion ran one
//! [`super::Sum`] per group through its adapter: avg of a DECIMAL over
//! 2M rows in 200k groups took 9.4 s where avg of a DOUBLE took 0.5 s
//! (debug build).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Decimal256Array, UInt64Array,
};
use datafusion::arrow::datatypes::{DECIMAL256_MAX_PRECISION, Decimal256Type, UInt64Type, i256};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};

use super::Kind;

/// Each group's exact total (scaled by 10^scale) and count.
#[derive(Debug)]
pub(super) struct GroupTotals {
    sums: Vec<i256>,
    counts: Vec<u64>,
    kind: Kind,
}

impl GroupTotals {
    pub(super) fn new(kind: Kind) -> Self {
        Self {
            sums: Vec::new(),
            counts: Vec::new(),
            kind,
        }
    }

    /// Adds each row's `sums` value and `counts` (1 for a value, its
    /// count for a merged state) to its group, skipping NULLs and rows
    /// `filter` leaves out.
    fn add(
        &mut self,
        sums: &ArrayRef,
        counts: Option<&UInt64Array>,
        group_indices: &[usize],
        filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.sums.resize(total_num_groups, i256::ZERO);
        self.counts.resize(total_num_groups, 0);
        let sums = self.kind.widened(sums)?;
        let sums = sums.as_primitive::<Decimal256Type>();
        for (row, (&group, value)) in group_indices.iter().zip(sums.iter()).enumerate() {
            let (Some(value), true) = (
                value,
                filter.is_none_or(|f| f.is_valid(row) && f.value(row)),
            ) else {
                continue;
            };
            self.sums[group] = self.kind.checked(self.sums[group].checked_add(value))?;
            self.counts[group] += counts.map_or(1, |c| c.value(row));
        }
        Ok(())
    }
}

impl GroupsAccumulator for GroupTotals {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        match values.first() {
            Some(values) => self.add(values, None, group_indices, opt_filter, total_num_groups),
            None => Ok(()),
        }
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let sums = emit_to.take_needed(&mut self.sums);
        let counts = emit_to.take_needed(&mut self.counts);
        let results = sums
            .into_iter()
            .zip(counts)
            .map(|(sum, count)| self.kind.result(sum, count))
            .collect::<Result<Vec<_>>>()?;
        match results.is_empty() {
            true => Ok(self.kind.result(i256::ZERO, 0)?.to_array_of_size(0)?),
            false => Ok(ScalarValue::iter_to_array(results)?),
        }
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let sums = Decimal256Array::from(emit_to.take_needed(&mut self.sums))
            .with_precision_and_scale(DECIMAL256_MAX_PRECISION, self.kind.scale)?;
        let counts = UInt64Array::from(emit_to.take_needed(&mut self.counts));
        Ok(vec![Arc::new(sums), Arc::new(counts)])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        if let [sums, counts, ..] = values {
            let counts = counts.as_primitive::<UInt64Type>();
            self.add(sums, Some(counts), group_indices, None, total_num_groups)?;
        }
        Ok(())
    }

    /// Each row as a state of its own: its value (NULL where it does not
    /// count) and a count of 1 or 0.
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let Some(values) = values.first() else {
            return Ok(vec![]);
        };
        let wide = self.kind.widened(values)?;
        let counted = |row: usize| {
            wide.is_valid(row) && opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row))
        };
        let sums: Decimal256Array = (0..wide.len())
            .map(|row| counted(row).then(|| wide.as_primitive::<Decimal256Type>().value(row)))
            .collect::<Decimal256Array>()
            .with_precision_and_scale(DECIMAL256_MAX_PRECISION, self.kind.scale)?;
        let counts: UInt64Array = (0..wide.len()).map(|row| u64::from(counted(row))).collect();
        Ok(vec![Arc::new(sums), Arc::new(counts)])
    }

    fn size(&self) -> usize {
        self.sums.capacity() * size_of::<i256>() + self.counts.capacity() * size_of::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Decimal128Array;

    /// Groups total apart, through a merged state too; a filtered-out row
    /// and a NULL count nowhere; a group of no values is NULL.
    #[test]
    fn each_group_totals_its_own_rows() {
        let kind = Kind {
            average: false,
            precision: 38,
            scale: 1,
        };
        let values: ArrayRef = Arc::new(
            Decimal128Array::from(vec![Some(10), Some(20), None, Some(5), Some(7)])
                .with_precision_and_scale(38, 1)
                .unwrap(),
        );
        let filter = BooleanArray::from(vec![true, true, true, true, false]);
        let mut first = GroupTotals::new(kind);
        first
            .update_batch(&[values], &[0, 1, 2, 0, 1], Some(&filter), 3)
            .unwrap();
        let mut merged = GroupTotals::new(kind);
        merged
            .merge_batch(&first.state(EmitTo::All).unwrap(), &[0, 1, 2], 3)
            .unwrap();
        let result = merged.evaluate(EmitTo::All).unwrap();
        let result = result.as_primitive::<datafusion::arrow::datatypes::Decimal128Type>();
        assert_eq!(
            result.iter().collect::<Vec<_>>(),
            vec![Some(15), Some(20), None]
        );
    }
}
