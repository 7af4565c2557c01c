//! [`PartitionFilter`]: a predicate over partition columns that the planner
//! hands down, so files (and whole directories, before they are listed)
//! that cannot hold a matching row are skipped.
//!
//! Evaluation is conservative: a raw value is read as the literal's type
//! (so `month=03` equals `3`); NULL follows SQL (a comparison with NULL is
//! UNKNOWN, which WHERE drops); anything that cannot be decided — a column
//! not in the path, a value that does not parse — keeps the file.

use std::cmp::Ordering;

use crate::hive::{PartitionValue, partition_pairs};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // SQL's own
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

/// A boolean expression over partition columns.
#[derive(Debug, Clone, PartialEq)]
pub enum PartitionFilter {
    /// `column op value`.
    Compare {
        /// Column name.
        column: String,
        /// Operator.
        op: CmpOp,
        /// Literal.
        value: PartitionValue,
    },
    /// `column IN (values)`.
    InList {
        /// Column name.
        column: String,
        /// Literals.
        values: Vec<PartitionValue>,
    },
    /// `column IS NULL`.
    IsNull(String),
    /// `column IS NOT NULL`.
    IsNotNull(String),
    /// All of these.
    And(Vec<PartitionFilter>),
    /// Any of these.
    Or(Vec<PartitionFilter>),
    /// Not this.
    Not(Box<PartitionFilter>),
}

/// SQL's three truth values. WHERE keeps only `True`, so a file whose
/// partition values make the filter `False` or `Null` holds no matching row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    /// TRUE.
    True,
    /// FALSE.
    False,
    /// NULL (UNKNOWN).
    Null,
}

impl Truth {
    fn from_bool(b: bool) -> Self {
        if b { Truth::True } else { Truth::False }
    }
}

/// Reads `raw` as the literal's type; `None` when it does not fit.
fn coerce(raw: &str, like: &PartitionValue) -> Option<PartitionValue> {
    PartitionValue::parse(raw, like.partition_type()?)
}

fn compare(raw: &str, op: CmpOp, literal: &PartitionValue) -> Option<Truth> {
    if is_null(raw) || *literal == PartitionValue::Null {
        return Some(Truth::Null);
    }
    let value = coerce(raw, literal)?;
    let ord = value.partial_cmp(literal)?;
    Some(Truth::from_bool(match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::NotEq => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::LtEq => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::GtEq => ord != Ordering::Less,
    }))
}

fn is_null(raw: &str) -> bool {
    PartitionValue::parse(raw, crate::hive::PartitionType::Varchar) == Some(PartitionValue::Null)
}

/// AND (`all`) or OR (`!all`) of results, with `None` (undecidable)
/// absorbing all but the deciding value.
fn combine(results: impl Iterator<Item = Option<Truth>>, all: bool) -> Option<Truth> {
    let (decides, otherwise) = if all {
        (Truth::False, Truth::True)
    } else {
        (Truth::True, Truth::False)
    };
    let mut undecided = false;
    let mut null = false;
    for r in results {
        match r {
            Some(t) if t == decides => return Some(decides),
            Some(Truth::Null) => null = true,
            Some(_) => {}
            None => undecided = true,
        }
    }
    if undecided {
        None
    } else if null {
        Some(Truth::Null)
    } else {
        Some(otherwise)
    }
}

impl PartitionFilter {
    /// Columns the filter mentions.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            Self::Compare { column, .. }
            | Self::InList { column, .. }
            | Self::IsNull(column)
            | Self::IsNotNull(column) => {
                vec![column.as_str()]
            }
            Self::And(all) | Self::Or(all) => all.iter().flat_map(|f| f.columns()).collect(),
            Self::Not(inner) => inner.columns(),
        }
    }

    /// SQL evaluation over raw `(column, value)` pairs; `None` when they do
    /// not decide it (a column not in the path, a value of another type).
    pub fn evaluate(&self, pairs: &[(String, String)]) -> Option<Truth> {
        let raw = |column: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == column)
                .map(|(_, v)| v.as_str())
        };
        match self {
            Self::Compare { column, op, value } => compare(raw(column)?, *op, value),
            Self::InList { column, values } => {
                let r = raw(column)?;
                combine(values.iter().map(|v| compare(r, CmpOp::Eq, v)), false)
            }
            Self::IsNull(column) => raw(column).map(|r| Truth::from_bool(is_null(r))),
            Self::IsNotNull(column) => raw(column).map(|r| Truth::from_bool(!is_null(r))),
            Self::And(all) => combine(all.iter().map(|f| f.evaluate(pairs)), true),
            Self::Or(any) => combine(any.iter().map(|f| f.evaluate(pairs)), false),
            Self::Not(inner) => inner.evaluate(pairs).map(|t| match t {
                Truth::True => Truth::False,
                Truth::False => Truth::True,
                Truth::Null => Truth::Null,
            }),
        }
    }

    /// Whether the file at `key` can be skipped: its partition values make
    /// the filter certainly not TRUE.
    pub fn prunes_key(&self, key: &str) -> bool {
        matches!(
            self.evaluate(&partition_pairs(key)),
            Some(Truth::False | Truth::Null)
        )
    }

    /// Whether everything below `dir` (ending in `/`) can be skipped,
    /// judged on the partitions in its path so far.
    pub fn prunes_dir(&self, dir: &str) -> bool {
        // `partition_pairs` treats the last segment as a file name; the
        // trailing `/` makes that an empty one.
        matches!(
            self.evaluate(&partition_pairs(dir)),
            Some(Truth::False | Truth::Null)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(column: &str, value: PartitionValue) -> PartitionFilter {
        PartitionFilter::Compare {
            column: column.into(),
            op: CmpOp::Eq,
            value,
        }
    }

    #[test]
    fn prunes_only_when_certain() {
        let f = PartitionFilter::And(vec![
            eq("year", PartitionValue::BigInt(2024)),
            eq("month", PartitionValue::BigInt(3)),
        ]);
        assert!(
            !f.prunes_key("year=2024/month=03/f.csv"),
            "zero padding still equals"
        );
        assert!(f.prunes_key("year=2023/month=03/f.csv"));
        assert!(!f.prunes_dir("year=2024/"), "month not known yet");
        assert!(f.prunes_dir("year=2023/"));
        assert!(
            !f.prunes_key("year=abc/month=03/f.csv"),
            "unparseable: keep"
        );
        assert!(
            f.prunes_key("year=NULL/month=03/f.csv"),
            "NULL = 2024 is UNKNOWN: no row passes WHERE"
        );
        assert!(!f.prunes_key("other=1/f.csv"), "unknown columns: keep");
    }

    #[test]
    fn boolean_connectives_and_null_tests() {
        let f = PartitionFilter::Or(vec![
            eq("c", PartitionValue::Varchar("a b".into())),
            PartitionFilter::IsNull("c".into()),
        ]);
        assert!(!f.prunes_key("c=a%20b/f"));
        assert!(!f.prunes_key("c=__HIVE_DEFAULT_PARTITION__/f"));
        assert!(f.prunes_key("c=z/f"));
        let not = PartitionFilter::Not(Box::new(eq("c", PartitionValue::Varchar("z".into()))));
        assert!(not.prunes_key("c=z/f") && !not.prunes_key("c=y/f"));
        let within = PartitionFilter::InList {
            column: "d".into(),
            values: vec![
                PartitionValue::parse("2024-01-01", crate::hive::PartitionType::Date).unwrap(),
            ],
        };
        assert!(!within.prunes_key("d=2024-01-01/f") && within.prunes_key("d=2024-01-02/f"));
    }
}
