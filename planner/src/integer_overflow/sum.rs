//! `sum` of BIGINTs checked into 64 bits, as s3sql's stand-in for
//! DuckDB's HUGEINT sum: in an aggregate, with DISTINCT or a FILTER, by
//! groups and in a window (a frame retracts values), never a wrapped
//! value.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Decimal128Array, Int64Array,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Field, FieldRef, Int64Type};
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};

/// `sum` of BIGINTs with its total checked: a total past 64 bits is an
/// overflow error, where DataFusion's wraps around (DuckDB's sum is a
/// HUGEINT, 128 bits; s3sql keeps BIGINT and says how to get the total).
/// Totals are kept in 128 bits and checked once, at the end, so a total
/// that fits is answered whatever the rows' order: `MAX, 1, -1` failed at
/// its second row (review-s26 F7), and with several partitions the
/// answer depended on the order rows came in.
pub(crate) fn checked_sum() -> AggregateUDF {
    AggregateUDF::new_from_impl(CheckedSum {
        signature: Signature::exact(vec![DataType::Int64], Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct CheckedSum {
    signature: Signature,
}

/// The error of a sum of BIGINTs past 64 bits.
fn sum_overflow() -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::Execution(
        "Out of Range Error: Overflow in sum of BIGINT: the total is past 64 bits (DuckDB \
         answers a HUGEINT); sum(x::DECIMAL(38,0)) gives the whole total"
            .to_owned(),
    )
}

/// The type of a partial total between an aggregate's two phases: 128
/// bits, so a partial total past 64 bits reaches the final phase.
const PARTIAL: DataType = DataType::Decimal128(38, 0);

/// A 128-bit total as the BIGINT the sum answers, or the overflow error.
fn as_bigint(total: i128) -> Result<i64> {
    i64::try_from(total).map_err(|_| sum_overflow())
}

/// A value or partial total added to a 128-bit total: a BIGINT cannot take
/// it past 128 bits before 2^64 rows, a partial total might in theory.
fn add(total: i128, value: i128) -> Result<i128> {
    total.checked_add(value).ok_or_else(sum_overflow)
}

impl AggregateUDFImpl for CheckedSum {
    fn name(&self) -> &str {
        "duckdb_checked_sum"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        if args.is_distinct {
            return Ok(vec![Arc::new(Field::new_list(
                format_state_name(args.name, "distinct values"),
                Field::new_list_field(DataType::Int64, true),
                false,
            ))]);
        }
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "sum"),
            PARTIAL,
            true,
        ))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(match args.is_distinct {
            true => Box::<DistinctTotal>::default(),
            false => Box::<Total>::default(),
        })
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        !args.is_distinct
    }

    fn create_groups_accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(GroupTotals::default()))
    }
}

/// The values of `array` (BIGINTs, or partial totals) as 128-bit numbers.
fn wide_values(array: &ArrayRef) -> Result<Vec<Option<i128>>> {
    Ok(match array.data_type() {
        DataType::Int64 => array
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(i128::from))
            .collect(),
        DataType::Decimal128(_, 0) => array.as_primitive::<Decimal128Type>().iter().collect(),
        other => return exec_err!("a BIGINT sum got {other}"),
    })
}

/// One total of BIGINTs (or partial totals), and how many were added: a
/// window frame retracts them, and a total of none is NULL.
#[derive(Debug, Default)]
struct Total {
    sum: i128,
    count: u64,
}

impl Total {
    /// The total, None of no values.
    fn total(&self) -> Option<i128> {
        (self.count > 0).then_some(self.sum)
    }
}

impl Accumulator for Total {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(values) = values.first() else {
            return Ok(());
        };
        for value in wide_values(values)?.into_iter().flatten() {
            self.sum = add(self.sum, value)?;
            self.count += 1;
        }
        Ok(())
    }

    /// A window frame's start moving past `values`: exact, as the total,
    /// so a frame's total past 64 bits is never wrapped around.
    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(values) = values.first() else {
            return Ok(());
        };
        for value in wide_values(values)?.into_iter().flatten() {
            self.sum = add(self.sum, -value)?;
            self.count -= 1;
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.update_batch(states)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Decimal128(self.total(), 38, 0)])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(self.total().map(as_bigint).transpose()?))
    }

    fn size(&self) -> usize {
        size_of::<Self>()
    }
}

/// `sum(DISTINCT x)` of BIGINTs: the distinct values, each with how many
/// times it was seen (a window frame retracts them), totalled in 128 bits
/// once at the end and checked as [`Total`]'s (DataFusion's DISTINCT sum
/// wrapped around past 64 bits).
#[derive(Debug, Default)]
struct DistinctTotal(HashMap<i64, u64>);

impl Accumulator for DistinctTotal {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        if let Some(values) = values.first() {
            for v in values.as_primitive::<Int64Type>().iter().flatten() {
                *self.0.entry(v).or_default() += 1;
            }
        }
        Ok(())
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        if let Some(values) = values.first() {
            for v in values.as_primitive::<Int64Type>().iter().flatten() {
                if let Some(seen) = self.0.get_mut(&v) {
                    *seen -= 1;
                    if *seen == 0 {
                        self.0.remove(&v);
                    }
                }
            }
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        if let Some(lists) = states.first() {
            for values in lists.as_list::<i32>().iter().flatten() {
                self.update_batch(&[values])?;
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let values: ArrayRef = Arc::new(Int64Array::from_iter_values(self.0.keys().copied()));
        Ok(vec![
            SingleRowListArrayBuilder::new(values).build_list_scalar(),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let mut total = None;
        for &v in self.0.keys() {
            total = Some(add(total.unwrap_or(0), i128::from(v))?);
        }
        Ok(ScalarValue::Int64(total.map(as_bigint).transpose()?))
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.0.capacity() * size_of::<(i64, u64)>()
    }
}

/// The totals of BIGINTs of each group, and whether a value was seen.
#[derive(Debug, Default)]
struct GroupTotals {
    sums: Vec<i128>,
    seen: Vec<bool>,
}

impl GroupTotals {
    fn take(&mut self, emit_to: EmitTo) -> (Vec<i128>, NullBuffer) {
        let sums = emit_to.take_needed(&mut self.sums);
        let seen = emit_to.take_needed(&mut self.seen);
        (sums, NullBuffer::from(seen))
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
        let Some(values) = values.first() else {
            return Ok(());
        };
        self.sums.resize(total_num_groups, 0);
        self.seen.resize(total_num_groups, false);
        let kept = |row: usize| opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row));
        for (row, (&group, value)) in group_indices.iter().zip(wide_values(values)?).enumerate() {
            let Some(value) = value.filter(|_| kept(row)) else {
                continue;
            };
            let (Some(sum), Some(seen)) = (self.sums.get_mut(group), self.seen.get_mut(group))
            else {
                return exec_err!("group {group} is past the {total_num_groups} groups");
            };
            *sum = add(*sum, value)?;
            *seen = true;
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let (sums, seen) = self.take(emit_to);
        let sums = sums
            .into_iter()
            .zip(seen.iter())
            .map(|(sum, seen)| if seen { as_bigint(sum) } else { Ok(0) })
            .collect::<Result<Vec<i64>>>()?;
        Ok(Arc::new(Int64Array::new(sums.into(), Some(seen))))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let (sums, seen) = self.take(emit_to);
        let partial = Decimal128Array::new(sums.into(), Some(seen)).with_data_type(PARTIAL);
        Ok(vec![Arc::new(partial)])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.update_batch(values, group_indices, None, total_num_groups)
    }

    /// Each row's own partial total: its value, NULL where NULL or
    /// filtered out.
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let Some(values) = values.first() else {
            return exec_err!("a sum takes one argument");
        };
        let values = values.as_primitive::<Int64Type>();
        let kept = |row: usize| opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row));
        let partial: Decimal128Array = (0..values.len())
            .map(|row| (values.is_valid(row) && kept(row)).then(|| i128::from(values.value(row))))
            .collect();
        Ok(vec![Arc::new(partial.with_data_type(PARTIAL))])
    }

    fn size(&self) -> usize {
        self.sums.capacity() * size_of::<i128>() + self.seen.capacity()
    }
}
