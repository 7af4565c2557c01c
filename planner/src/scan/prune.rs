//! Filters on hive partition columns, turned into glob-list's
//! [`PartitionFilter`] so files whose path values cannot match are dropped
//! before any byte of them is read. Anything not understood keeps the file
//! (DataFusion still applies every filter to the rows).

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
use s3sql_glob_list::{CmpOp, PartitionFilter, PartitionValue};

/// The conjunction of every filter (or part of one) that only reads
/// `columns`, if any.
pub(crate) fn partition_filter(filters: &[Expr], columns: &[String]) -> Option<PartitionFilter> {
    let parts: Vec<PartitionFilter> = filters
        .iter()
        .filter_map(|f| convert(f, columns, false))
        .collect();
    match parts.len() {
        0 => None,
        1 => parts.into_iter().next(),
        _ => Some(PartitionFilter::And(parts)),
    }
}

/// `expr` as a filter that keeps every file it could match. `exact`: the
/// filter must match exactly what `expr` does (under a NOT, where a
/// filter that keeps more would drop more).
fn convert(expr: &Expr, columns: &[String], exact: bool) -> Option<PartitionFilter> {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            // Keeping only the understood side of an AND keeps more files:
            // sound, unless negated.
            Operator::And if exact => Some(PartitionFilter::And(vec![
                convert(left, columns, true)?,
                convert(right, columns, true)?,
            ])),
            Operator::And => {
                let sides: Vec<_> = [left, right]
                    .into_iter()
                    .filter_map(|e| convert(e, columns, false))
                    .collect();
                (!sides.is_empty()).then_some(PartitionFilter::And(sides))
            }
            Operator::Or => Some(PartitionFilter::Or(vec![
                convert(left, columns, exact)?,
                convert(right, columns, exact)?,
            ])),
            _ => compare(left, *op, right, columns),
        },
        Expr::InList(list) => {
            let column = column_of(&list.expr, columns)?;
            let values = list.list.iter().map(literal).collect::<Option<Vec<_>>>()?;
            let filter = PartitionFilter::InList { column, values };
            Some(if list.negated {
                PartitionFilter::Not(Box::new(filter))
            } else {
                filter
            })
        }
        Expr::IsNull(e) => Some(PartitionFilter::IsNull(column_of(e, columns)?)),
        Expr::IsNotNull(e) => Some(PartitionFilter::IsNotNull(column_of(e, columns)?)),
        Expr::Not(e) => Some(PartitionFilter::Not(Box::new(convert(e, columns, true)?))),
        _ => None,
    }
}

fn compare(left: &Expr, op: Operator, right: &Expr, columns: &[String]) -> Option<PartitionFilter> {
    let op_of = |op: Operator| match op {
        Operator::Eq => Some(CmpOp::Eq),
        Operator::NotEq => Some(CmpOp::NotEq),
        Operator::Lt => Some(CmpOp::Lt),
        Operator::LtEq => Some(CmpOp::LtEq),
        Operator::Gt => Some(CmpOp::Gt),
        Operator::GtEq => Some(CmpOp::GtEq),
        _ => None,
    };
    let (column, op, value) = match (column_of(left, columns), column_of(right, columns)) {
        (Some(c), None) => (c, op, right),
        (None, Some(c)) => (c, op.swap()?, left),
        _ => return None,
    };
    Some(PartitionFilter::Compare {
        column,
        op: op_of(op)?,
        value: literal(value)?,
    })
}

/// The partition column `expr` is. Not through a cast: the filter is
/// evaluated on the path's text, and a cast changes the value's text
/// (`CAST(month AS VARCHAR)` of `month=02` is '2', not '02').
fn column_of(expr: &Expr, columns: &[String]) -> Option<String> {
    match expr {
        Expr::Column(c) if columns.contains(&c.name) => Some(c.name.clone()),
        _ => None,
    }
}

fn literal(expr: &Expr) -> Option<PartitionValue> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    if value.is_null() {
        return Some(PartitionValue::Null);
    }
    Some(match value {
        ScalarValue::Int8(Some(v)) => PartitionValue::BigInt((*v).into()),
        ScalarValue::Int16(Some(v)) => PartitionValue::BigInt((*v).into()),
        ScalarValue::Int32(Some(v)) => PartitionValue::BigInt((*v).into()),
        ScalarValue::Int64(Some(v)) => PartitionValue::BigInt(*v),
        ScalarValue::UInt8(Some(v)) => PartitionValue::BigInt((*v).into()),
        ScalarValue::UInt16(Some(v)) => PartitionValue::BigInt((*v).into()),
        ScalarValue::UInt32(Some(v)) => PartitionValue::BigInt((*v).into()),
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => PartitionValue::Varchar(s.clone()),
        ScalarValue::Date32(Some(days)) => PartitionValue::Date(
            chrono::NaiveDate::from_num_days_from_ce_opt(719_163 + *days)?,
        ),
        _ => return None,
    })
}
