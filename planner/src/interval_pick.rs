//! The aggregates that pick one interval of many as DuckDB 1.5.5 does:
//! a GROUP BY's shown interval (the group's first), `min` and `max` (the
//! least or greatest by DuckDB's normalized value, the first met of equal
//! ones, as DuckDB keeps its current value unless one is strictly less or
//! greater). "First met" holds within one partition of the input; when
//! partial aggregates of a parallel read merge, which partition's comes
//! first is not fixed, so any of the equal ones may be shown, as in
//! DuckDB's parallel aggregation. [`crate::interval_order`] plans GROUP
//! BY, DISTINCT, `min` and `max` of intervals with them.
//!
//! Each has a [`GroupsAccumulator`], so a hash aggregate of intervals
//! stays vectorized (`first_value` ordered by the key, planned before,
//! took 3 to 9 times as long, review of ivl F1), and a sliding
//! accumulator for window frames that move.

use std::collections::VecDeque;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, IntervalMonthDayNanoArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{
    DataType, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit,
};
use datafusion::common::{Result, ScalarValue, not_impl_err};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};

use crate::interval_order::key;

/// Which interval of a group an aggregate keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Pick {
    /// The first met: a GROUP BY's shown interval.
    First,
    /// The least, `min`.
    Least,
    /// The greatest, `max`.
    Greatest,
}

impl Pick {
    /// Whether `new` (its key) takes the place of the kept interval's key.
    fn replaces(self, new: i128, kept: i128) -> bool {
        match self {
            Pick::First => false,
            Pick::Least => new < kept,
            Pick::Greatest => new > kept,
        }
    }
}

/// The aggregate keeping the [`Pick`] of its intervals.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct IntervalPick {
    pick: Pick,
    signature: Signature,
}

/// The name of the aggregate keeping a group's first interval.
pub(crate) const FIRST: &str = "duckdb_interval_first";

impl IntervalPick {
    /// The aggregate keeping `pick`.
    pub(crate) fn udaf(pick: Pick) -> Arc<AggregateUDF> {
        Arc::new(AggregateUDF::new_from_impl(Self {
            pick,
            signature: Signature::exact(
                vec![DataType::Interval(IntervalUnit::MonthDayNano)],
                Volatility::Immutable,
            ),
        }))
    }
}

impl AggregateUDFImpl for IntervalPick {
    fn name(&self) -> &str {
        match self.pick {
            Pick::First => FIRST,
            Pick::Least => "duckdb_interval_min",
            Pick::Greatest => "duckdb_interval_max",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Interval(IntervalUnit::MonthDayNano))
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Kept {
            pick: self.pick,
            kept: None,
        }))
    }

    fn groups_accumulator_supported(&self, _: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(KeptPerGroup {
            pick: self.pick,
            values: Vec::new(),
            keys: Vec::new(),
            seen: Vec::new(),
        }))
    }

    fn create_sliding_accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if self.pick == Pick::First {
            return not_impl_err!("{FIRST} is not a window function");
        }
        Ok(Box::new(Frame::new(self.pick)))
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        AggregateOrderSensitivity::Insensitive
    }
}

/// Calls `each` with the row number and interval of every row of
/// `values` that counts: not NULL, and passing `filter`. The rows are
/// found with arrow's bitmaps, not a test per row.
fn for_counted(
    values: &ArrayRef,
    filter: Option<&BooleanArray>,
    mut each: impl FnMut(usize, IntervalMonthDayNano),
) {
    let intervals = values.as_primitive::<IntervalMonthDayNanoType>();
    let raw = intervals.values();
    let passing = filter.map(|f| match f.nulls() {
        Some(nulls) => f.values() & nulls.inner(),
        None => f.values().clone(),
    });
    let counted = match (passing, intervals.nulls()) {
        (None, None) => None,
        (Some(passing), None) => Some(passing),
        (None, Some(nulls)) => Some(nulls.inner().clone()),
        (Some(passing), Some(nulls)) => Some(&passing & nulls.inner()),
    };
    match counted {
        None => (0..raw.len()).for_each(|row| each(row, raw[row])),
        Some(rows) => rows.set_indices().for_each(|row| each(row, raw[row])),
    }
}

/// One group's kept interval and its key.
#[derive(Debug)]
struct Kept {
    pick: Pick,
    kept: Option<(IntervalMonthDayNano, i128)>,
}

impl Accumulator for Kept {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let pick = self.pick;
        for values in values {
            for_counted(values, None, |_, interval| match self.kept {
                Some(_) if pick == Pick::First => {}
                Some((_, kept)) => {
                    let new = key(interval);
                    if pick.replaces(new, kept) {
                        self.kept = Some((interval, new));
                    }
                }
                None => self.kept = Some((interval, key(interval))),
            });
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::IntervalMonthDayNano(self.kept.map(|k| k.0)))
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.update_batch(states)
    }
}

/// Every group's kept interval, its key and whether it has one, by group
/// index.
struct KeptPerGroup {
    pick: Pick,
    values: Vec<IntervalMonthDayNano>,
    keys: Vec<i128>,
    seen: Vec<bool>,
}

impl KeptPerGroup {
    fn keep(
        &mut self,
        values: &[ArrayRef],
        groups: &[usize],
        filter: Option<&BooleanArray>,
        total_groups: usize,
    ) -> Result<()> {
        self.values.resize(total_groups, IntervalMonthDayNano::ZERO);
        self.keys.resize(total_groups, 0);
        self.seen.resize(total_groups, false);
        let Some(values) = values.first() else {
            return Ok(());
        };
        let pick = self.pick;
        for_counted(values, filter, |row, interval| {
            let group = groups[row];
            if !self.seen[group] {
                self.values[group] = interval;
                self.keys[group] = key(interval);
                self.seen[group] = true;
            } else if pick != Pick::First {
                let new = key(interval);
                if pick.replaces(new, self.keys[group]) {
                    self.values[group] = interval;
                    self.keys[group] = new;
                }
            }
        });
        Ok(())
    }
}

impl GroupsAccumulator for KeptPerGroup {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.keep(values, group_indices, opt_filter, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let values = emit_to.take_needed(&mut self.values);
        let seen = emit_to.take_needed(&mut self.seen);
        emit_to.take_needed(&mut self.keys);
        let nulls = NullBuffer::from(seen);
        Ok(Arc::new(IntervalMonthDayNanoArray::new(
            values.into(),
            Some(nulls),
        )))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate(emit_to)?])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.keep(values, group_indices, None, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let Some(values) = values.first() else {
            return Ok(Vec::new());
        };
        let Some(filter) = opt_filter else {
            return Ok(vec![Arc::clone(values)]);
        };
        let mut kept = vec![None; values.len()];
        for_counted(values, Some(filter), |row, interval| {
            kept[row] = Some(interval);
        });
        Ok(vec![Arc::new(IntervalMonthDayNanoArray::from(kept))])
    }

    fn size(&self) -> usize {
        self.values.capacity() * size_of::<IntervalMonthDayNano>()
            + self.keys.capacity() * size_of::<i128>()
            + self.seen.capacity()
    }
}

/// A moving window frame's candidates for its least or greatest: a
/// monotonic deque of (position, key, interval), each key strictly
/// better than the next's. A new interval drops from the back those it
/// beats, so each enters and leaves once (O(1) amortised; a map of the
/// frame's keys made a sliding `max` three times slower, review of ivl,
/// second round, F7). Equal keys stay, the earlier in front, so the
/// first met of equal ones is kept.
#[derive(Debug)]
struct Frame {
    pick: Pick,
    candidates: VecDeque<(u64, i128, IntervalMonthDayNano)>,
    /// The position the next interval entering the frame takes.
    entered: u64,
    /// The position of the next interval to leave the frame: rows leave
    /// a moving frame in the order they entered it.
    left: u64,
}

impl Frame {
    fn new(pick: Pick) -> Self {
        Self {
            pick,
            candidates: VecDeque::new(),
            entered: 0,
            left: 0,
        }
    }
}

impl Accumulator for Frame {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for values in values {
            for_counted(values, None, |_, interval| {
                let new = key(interval);
                while let Some(&(_, back, _)) = self.candidates.back()
                    && self.pick.replaces(new, back)
                {
                    self.candidates.pop_back();
                }
                self.candidates.push_back((self.entered, new, interval));
                self.entered += 1;
            });
        }
        Ok(())
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for values in values {
            for_counted(values, None, |_, _| {
                if let Some(&(position, _, _)) = self.candidates.front()
                    && position == self.left
                {
                    self.candidates.pop_front();
                }
                self.left += 1;
            });
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let kept = self.candidates.front().map(|&(_, _, interval)| interval);
        Ok(ScalarValue::IntervalMonthDayNano(kept))
    }

    fn size(&self) -> usize {
        size_of_val(self)
            + self.candidates.capacity() * size_of::<(u64, i128, IntervalMonthDayNano)>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.update_batch(states)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intervals(days: &[Option<(i32, i32)>]) -> ArrayRef {
        let array: IntervalMonthDayNanoArray = days
            .iter()
            .map(|d| d.map(|(months, days)| IntervalMonthDayNano::new(months, days, 0)))
            .collect();
        Arc::new(array)
    }

    fn shown(array: &ArrayRef) -> Vec<Option<(i32, i32)>> {
        let array = array.as_primitive::<IntervalMonthDayNanoType>();
        array
            .iter()
            .map(|v| v.map(|i| (i.months, i.days)))
            .collect()
    }

    /// Per group: the first met, or the least or greatest by DuckDB's
    /// value (1 month as 30 days) with the first met of equal ones kept;
    /// a filtered or NULL row never counts, a group of none is NULL.
    #[test]
    fn groups_keep_their_pick() {
        let values = intervals(&[
            Some((0, 30)),
            Some((1, 0)),
            Some((0, 31)),
            None,
            Some((0, 2)),
            Some((0, 1)),
        ]);
        let groups = [0, 0, 0, 1, 2, 2];
        let filter = BooleanArray::from(vec![true, true, true, true, true, false]);
        let picked = |pick| {
            let mut acc = KeptPerGroup {
                pick,
                values: Vec::new(),
                keys: Vec::new(),
                seen: Vec::new(),
            };
            acc.update_batch(&[Arc::clone(&values)], &groups, Some(&filter), 3)
                .unwrap();
            shown(&acc.evaluate(EmitTo::All).unwrap())
        };
        assert_eq!(picked(Pick::First), vec![Some((0, 30)), None, Some((0, 2))]);
        assert_eq!(picked(Pick::Least), vec![Some((0, 30)), None, Some((0, 2))]);
        assert_eq!(
            picked(Pick::Greatest),
            vec![Some((0, 31)), None, Some((0, 2))]
        );
    }

    /// A sliding frame's greatest after rows leave it, the earlier of two
    /// equal ones kept while both are in the frame.
    #[test]
    fn a_frame_keeps_the_first_met_of_equal_ones() {
        let mut frame = Frame::new(Pick::Greatest);
        let max = |frame: &mut Frame| match frame.evaluate().unwrap() {
            ScalarValue::IntervalMonthDayNano(v) => v.map(|i| (i.months, i.days)),
            other => panic!("{other:?}"),
        };
        frame
            .update_batch(&[intervals(&[Some((1, 0)), Some((0, 30))])])
            .unwrap();
        assert_eq!(max(&mut frame), Some((1, 0)));
        frame.retract_batch(&[intervals(&[Some((1, 0))])]).unwrap();
        assert_eq!(max(&mut frame), Some((0, 30)));
        frame.update_batch(&[intervals(&[Some((0, 1))])]).unwrap();
        frame.retract_batch(&[intervals(&[Some((0, 30))])]).unwrap();
        assert_eq!(max(&mut frame), Some((0, 1)));
    }

    /// A sliding frame's least as rows enter and leave: a later, lesser
    /// interval drops earlier ones, a NULL takes no position, and of two
    /// equal ones the earlier is the least until it leaves.
    #[test]
    fn a_frame_keeps_its_least_as_rows_move() {
        let mut frame = Frame::new(Pick::Least);
        let min = |frame: &mut Frame| match frame.evaluate().unwrap() {
            ScalarValue::IntervalMonthDayNano(v) => v.map(|i| (i.months, i.days)),
            other => panic!("{other:?}"),
        };
        let rows = [
            Some((0, 5)),
            None,
            Some((0, 30)),
            Some((0, 4)),
            Some((1, 0)),
        ];
        frame.update_batch(&[intervals(&rows)]).unwrap();
        assert_eq!(min(&mut frame), Some((0, 4)));
        frame.retract_batch(&[intervals(&rows[..3])]).unwrap();
        assert_eq!(min(&mut frame), Some((0, 4)));
        frame.retract_batch(&[intervals(&rows[3..4])]).unwrap();
        assert_eq!(min(&mut frame), Some((1, 0)));
        frame.update_batch(&[intervals(&[Some((0, 30))])]).unwrap();
        assert_eq!(min(&mut frame), Some((1, 0)));
        frame.retract_batch(&[intervals(&rows[4..])]).unwrap();
        assert_eq!(min(&mut frame), Some((0, 30)));
        frame.retract_batch(&[intervals(&[Some((0, 30))])]).unwrap();
        assert_eq!(min(&mut frame), None);
    }
}
