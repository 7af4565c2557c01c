//! [`without_dictionary`]: the columns of a Parquet file written plain,
//! judged from the file's first rows.
//!
//! DuckDB 1.5.5 writes a column chunk with a dictionary only when at most
//! a fifth of its row group's values are distinct (122,880 rows of 24,576
//! values: dictionary; of 26,000: plain). arrow-rs instead starts every
//! column with a dictionary and falls back to plain once the dictionary
//! page passes its size limit, each value hashed into the dictionary on
//! the way. A column of unique values (an id, a label) pays for that
//! hashing, and in a partitioned COPY, whose open files end their row
//! groups early to stay within memory, never reaches the limit: 10M rows
//! over 100 partitions were written as row groups of 4,096 rows, every
//! value hashed, the dictionaries holding the encoders' memory bound at
//! three times the plain pages' bytes, the files a third bigger than
//! DuckDB's. A column whose first rows promise more distinct values than
//! DuckDB's fifth of a row group is written plain from the start.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::{can_cast_types, cast};
use datafusion::arrow::datatypes::{DataType, Int32Type};
use datafusion::parquet::schema::types::ColumnPath;

/// The first rows of a file judged: enough to tell a column of repeated
/// values from one of unique values, little to hash once. The encoder
/// holds a file's first rows until it has this many (or a row group).
pub(crate) const SAMPLE_ROWS: usize = 8192;

/// Fewer values than this promise nothing of a row group still to come:
/// one value is as distinct as a row group of unique ids (a one-row first
/// batch flushed early, 8,190 leading NULLs). Such a column keeps
/// arrow-rs's dictionary, which falls back to plain by itself
/// (review-s28 R7).
const MIN_VALUES: usize = 1024;

/// DuckDB's bound: a dictionary for at most this share of a row group's
/// values distinct.
const DISTINCT_SHARE: f64 = 0.2;

/// The top-level columns of `first` (a file's first rows) whose values
/// promise more distinct values in a row group of `row_group_rows` than a
/// dictionary pays for. Nested and boolean columns are left to arrow-rs.
///
/// When `first` is the whole file (`whole`) or holds a whole row group,
/// its rows are judged as DuckDB judges a row group: plain when more than
/// a fifth of its rows (NULLs counted) are distinct values (10 rows of 2
/// values: dictionary; of 3: plain). Otherwise the row group's distinct
/// values are estimated from the sample, which then needs [`MIN_VALUES`].
pub(crate) fn without_dictionary(
    first: &RecordBatch,
    row_group_rows: usize,
    whole: bool,
) -> Vec<ColumnPath> {
    let sample = first.slice(0, first.num_rows().min(SAMPLE_ROWS));
    let exact = whole || sample.num_rows() >= row_group_rows;
    let rows = row_group_rows as f64;
    let sampled_rows = sample.num_rows() as f64;
    sample
        .schema()
        .fields()
        .iter()
        .zip(sample.columns())
        .filter(|(_, column)| {
            distinct_values(column.as_ref()).is_some_and(|(values, distinct)| {
                if exact {
                    distinct as f64 > DISTINCT_SHARE * sampled_rows
                } else {
                    values >= MIN_VALUES
                        && expected_distinct(values, distinct, rows) > DISTINCT_SHARE * rows
                }
            })
        })
        .map(|(field, _)| ColumnPath::new(vec![field.name().clone()]))
        .collect()
}

/// The non-null values of `column` and how many of them are distinct,
/// counted by arrow's cast to a dictionary; `None` for a column of no
/// values or of a type a dictionary is not judged for.
fn distinct_values(column: &dyn Array) -> Option<(usize, usize)> {
    let kind = column.data_type();
    if kind.is_nested() || *kind == DataType::Boolean {
        return None;
    }
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(kind.clone()));
    if !can_cast_types(kind, &dictionary) {
        return None;
    }
    let values = column.len() - column.null_count();
    if values == 0 {
        return None;
    }
    let keyed = cast(column, &dictionary).ok()?;
    Some((values, keyed.as_dictionary::<Int32Type>().values().len()))
}

/// The distinct values expected among `rows` values of a column whose
/// `sampled` values held `distinct` ones, the values drawn evenly from a
/// population of D, which `distinct = D (1 - e^(-sampled / D))` gives.
/// A sample of distinct values only promises a row group of them.
fn expected_distinct(sampled: usize, distinct: usize, rows: f64) -> f64 {
    if distinct >= sampled {
        return rows;
    }
    let (sampled, distinct) = (sampled as f64, distinct as f64);
    let seen = |population: f64| population * (1.0 - (-sampled / population).exp());
    // `seen` grows from below `distinct` towards `sampled` > `distinct`.
    let (mut low, mut high) = (distinct, distinct * 2.0);
    while seen(high) < distinct {
        low = high;
        high *= 2.0;
    }
    for _ in 0..64 {
        let middle = (low + high) / 2.0;
        if seen(middle) < distinct {
            low = middle;
        } else {
            high = middle;
        }
    }
    high * (1.0 - (-rows / high).exp())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, StringArray};

    use super::*;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(columns).unwrap()
    }

    fn names(paths: Vec<ColumnPath>) -> Vec<String> {
        paths.iter().map(ColumnPath::string).collect()
    }

    /// Unique ids and labels are plain; a few repeated values, a thousand
    /// values cycling, a column of NULLs and booleans keep arrow-rs's
    /// dictionary.
    #[test]
    fn unique_values_are_written_plain_repeated_ones_with_a_dictionary() {
        let rows = 8192_i64;
        let first = batch(vec![
            ("id", Arc::new(Int64Array::from_iter_values(0..rows))),
            (
                "label",
                Arc::new(StringArray::from_iter_values(
                    (0..rows).map(|i| format!("row-{i}")),
                )),
            ),
            (
                "status",
                Arc::new(StringArray::from_iter_values(
                    (0..rows).map(|i| ["new", "paid", "sent"][i as usize % 3]),
                )),
            ),
            (
                "customer",
                Arc::new(Int64Array::from_iter_values(
                    (0..rows).map(|i| i * 7 % 1000),
                )),
            ),
            (
                "empty",
                Arc::new(Int64Array::from(vec![None::<i64>; rows as usize])),
            ),
            (
                "flag",
                Arc::new(BooleanArray::from_iter((0..rows).map(|i| Some(i % 2 == 0)))),
            ),
        ]);
        assert_eq!(
            names(without_dictionary(&first, 122_880, false)),
            ["id", "label"]
        );
    }

    /// The judgement follows DuckDB's fifth of a row group: values drawn
    /// from 20,000 (a row group holds about 19,900 of them) keep the
    /// dictionary, from 40,000 (about 38,500) they do not; a sample of
    /// 2,048 rows, a partition's first write, judges as 8,192 do.
    #[test]
    fn the_judgement_is_duckdbs_fifth_of_a_row_group() {
        assert!(expected_distinct(2048, 1948, 122_880.0) < 0.2 * 122_880.0);
        assert!(expected_distinct(2048, 1998, 122_880.0) > 0.2 * 122_880.0);
        let population = |d: f64, n: f64| d * (1.0 - (-n / d).exp());
        for (values, plain) in [(20_000.0, false), (40_000.0, true)] {
            for sampled in [2048.0, 8192.0] {
                let distinct = population(values, sampled).round() as usize;
                let expected = expected_distinct(sampled as usize, distinct, 122_880.0);
                assert_eq!(
                    expected > 0.2 * 122_880.0,
                    plain,
                    "{values} values, {sampled}"
                );
                assert!((expected - population(values, 122_880.0)).abs() < 0.02 * values);
            }
        }
        assert_eq!(expected_distinct(100, 100, 122_880.0), 122_880.0);
    }
}
