//! Numbers as DuckDB 1.5.5 binds them. DuckDB types `0.1` DECIMAL(2,1),
//! so `0.1 + 0.2 = 0.3` holds and `price * 1.20` is exact; the session
//! parses a literal with a point as a decimal
//! (`datafusion.sql_parser.parse_float_as_decimal`). What DuckDB's binder
//! does differently from DataFusion's is done here:
//!
//! - a literal with an exponent (`1e3`, `2.5E-300`) or of more than 38
//!   digits is a DOUBLE ([`exponents_as_doubles`], on the SQL before it is
//!   planned: as a decimal, `1e-300` would need 300 digits and be refused);
//! - arithmetic on DECIMALs ([`DuckDbNumbers`], an analyzer rule run before
//!   type coercion): `/` is DOUBLE division (DataFusion's keeps the
//!   dividend's scale + 4 places: `1.0/3` 0.33333); a `+`, `-` or `*`
//!   whose result may need more than 38 digits is computed in 76 and
//!   checked into DECIMAL(38, s), an overflow error where DataFusion gives
//!   a number 10x off; `avg` is a DOUBLE of the exact total and `sum` of
//!   wide DECIMALs checks its 38 digits ([`crate::decimal_totals`]);
//! - where a DOUBLE meets a DECIMAL (arithmetic, a comparison, `IN`,
//!   `BETWEEN`, a function's arguments as in `coalesce(f, 0.0)`, `CASE`'s
//!   results), DuckDB makes both DOUBLE; DataFusion makes both
//!   DECIMAL(30, 15), which fails on NaN, infinity and any value past
//!   10^15 and rounds the others.

use std::ops::ControlFlow;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::datatypes::{DECIMAL128_MAX_PRECISION, DataType};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::{
    AggregateFunction, AggregateFunctionParams, Between, Case, Cast, InList, ScalarFunction,
};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{
    AggregateUDF, BinaryExpr, Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, Operator,
};
use datafusion::optimizer::{Analyzer, AnalyzerRule};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    CastKind, DataType as SqlType, ExactNumberInfo, Expr as SqlExpr, Value, VisitorMut,
};

/// Writes each number literal DuckDB types DOUBLE in `statement` — one
/// with an exponent, or of more than 38 digits — as a cast of its text to
/// DOUBLE.
pub(crate) fn exponents_as_doubles(statement: &mut DFStatement) {
    struct Exponents;
    impl VisitorMut for Exponents {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut SqlExpr) -> ControlFlow<()> {
            if let SqlExpr::Value(value) = expr
                && let Value::Number(text, _) = &value.value
                && (text.contains(['e', 'E'])
                    || text.bytes().filter(u8::is_ascii_digit).count()
                        > usize::from(DECIMAL128_MAX_PRECISION))
            {
                let text = Value::SingleQuotedString(text.clone()).with_span(value.span);
                *expr = SqlExpr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(SqlExpr::Value(text)),
                    data_type: SqlType::Double(ExactNumberInfo::None),
                    array: false,
                    format: None,
                };
            }
            ControlFlow::Continue(())
        }
    }
    crate::column_case::visit_sql(statement, &mut Exponents);
}

/// The analyzer rule, run before type coercion, binding numbers as DuckDB
/// does (the module's list).
#[derive(Debug, Default)]
pub(crate) struct DuckDbNumbers;

impl AnalyzerRule for DuckDbNumbers {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| {
            let schema = merge_schema(&plan.inputs());
            let names = NamePreserver::new(&plan);
            let rewritten = plan.map_expressions(|expr| {
                let name = names.save(&expr);
                let rewritten = expr.transform_up(|e| rewrite(e, &schema))?;
                Ok(rewritten.update_data(|e| name.restore(e)))
            })?;
            // A VALUES list's schema was inferred from its rows as they
            // were; the others' schemas are recomputed, as type coercion
            // does, so the node above sees this one's new types.
            match rewritten {
                Transformed {
                    data: LogicalPlan::Values(values),
                    transformed: true,
                    ..
                } => Ok(Transformed::yes(
                    LogicalPlanBuilder::values(values.values)?.build()?,
                )),
                Transformed {
                    data: LogicalPlan::Values(values),
                    ..
                } => Ok(Transformed::no(LogicalPlan::Values(values))),
                other => other.map_data(LogicalPlan::recompute_schema),
            }
        })
        .data()
    }

    fn name(&self) -> &str {
        "duckdb_numbers"
    }
}

/// The analyzer's rules with [`DuckDbNumbers`] just before DataFusion's
/// type coercion (whose common type of DOUBLE and DECIMAL is a DECIMAL).
pub(crate) fn analyzer_rules() -> Vec<Arc<dyn AnalyzerRule + Send + Sync>> {
    let mut rules = Analyzer::new().rules;
    let coercion = rules
        .iter()
        .position(|rule| rule.name() == "type_coercion")
        .unwrap_or(0);
    rules.insert(coercion, Arc::new(DuckDbNumbers));
    rules
}

/// The float type the DECIMALs among `types` become where they meet a
/// float: DuckDB's common type of DECIMAL and FLOAT is FLOAT, of DECIMAL
/// and DOUBLE DOUBLE. None when no DECIMAL meets a float.
fn common_float<'a>(types: impl IntoIterator<Item = &'a DataType>) -> Option<DataType> {
    let (mut float, mut decimal) = (None, false);
    for t in types {
        match t {
            DataType::Float64 => float = Some(DataType::Float64),
            DataType::Float32 | DataType::Float16 if float.is_none() => {
                float = Some(DataType::Float32)
            }
            t if is_decimal(t) => decimal = true,
            _ => {}
        }
    }
    float.filter(|_| decimal)
}

/// `expr` rebound as DuckDB binds it, its operands already rebound.
fn rewrite(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let type_of = |e: &Expr| e.get_type(schema).ok();
    let float_of = |operands: &[&Expr]| {
        let types: Vec<DataType> = operands.iter().filter_map(|e| type_of(e)).collect();
        common_float(&types)
    };
    // `e` cast to `target` when it is a DECIMAL.
    let float = |e: Expr, target: &DataType| -> Expr {
        match type_of(&e) {
            Some(t) if is_decimal(&t) => cast(e, target.clone()),
            _ => e,
        }
    };
    Ok(match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match float_of(&[&left, &right]) {
            Some(t) if comparison(op) || arithmetic(op) => {
                Transformed::yes(binary(float(*left, &t), op, float(*right, &t)))
            }
            _ => arithmetic_as_duckdb(*left, op, *right, schema)?,
        },
        Expr::InList(InList {
            expr,
            list,
            negated,
        }) => match float_of(&std::iter::once(&*expr).chain(&list).collect::<Vec<_>>()) {
            Some(t) => Transformed::yes(Expr::InList(InList::new(
                Box::new(float(*expr, &t)),
                list.into_iter().map(|e| float(e, &t)).collect(),
                negated,
            ))),
            None => Transformed::no(Expr::InList(InList::new(expr, list, negated))),
        },
        Expr::Between(Between {
            expr,
            negated,
            low,
            high,
        }) => match float_of(&[&expr, &low, &high]) {
            Some(t) => Transformed::yes(Expr::Between(Between::new(
                Box::new(float(*expr, &t)),
                negated,
                Box::new(float(*low, &t)),
                Box::new(float(*high, &t)),
            ))),
            None => Transformed::no(Expr::Between(Between::new(expr, negated, low, high))),
        },
        Expr::ScalarFunction(call) => match float_of(&call.args.iter().collect::<Vec<_>>()) {
            Some(t) => {
                let args = call.args.into_iter().map(|e| float(e, &t)).collect();
                Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(
                    call.func, args,
                )))
            }
            None => Transformed::no(Expr::ScalarFunction(call)),
        },
        Expr::Case(case) => {
            let results: Vec<&Expr> = case
                .when_then_expr
                .iter()
                .map(|(_, then)| &**then)
                .chain(case.else_expr.as_deref())
                .collect();
            match float_of(&results) {
                Some(t) => {
                    let when_then = case
                        .when_then_expr
                        .into_iter()
                        .map(|(when, then)| (when, Box::new(float(*then, &t))))
                        .collect();
                    let otherwise = case.else_expr.map(|e| Box::new(float(*e, &t)));
                    Transformed::yes(Expr::Case(Case::new(case.expr, when_then, otherwise)))
                }
                None => Transformed::no(Expr::Case(case)),
            }
        }
        Expr::AggregateFunction(call) => aggregate_as_duckdb(call, schema),
        other => Transformed::no(other),
    })
}

fn cast(e: Expr, to: DataType) -> Expr {
    Expr::Cast(Cast::new(Box::new(e), to))
}

fn binary(left: Expr, op: Operator, right: Expr) -> Expr {
    Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, Box::new(right)))
}

/// `left op right` where no float is among them: with a DECIMAL operand,
/// `/` divides as DOUBLE, and a `+`, `-` or `*` whose DuckDB result type
/// needs more than 38 digits is computed in DECIMAL(76) and cast back to
/// DECIMAL(38, s), so a result past 38 digits is an overflow error (as
/// DuckDB's), where DataFusion's answer is silently wrong (its 38 digits
/// are not checked: `9999999999999999999999999999999999999.9 + 0.1`
/// printed 1e36).
fn arithmetic_as_duckdb(
    left: Expr,
    op: Operator,
    right: Expr,
    schema: &DFSchema,
) -> Result<Transformed<Expr>> {
    let (l, r) = (decimal_width(&left, schema), decimal_width(&right, schema));
    let decimal = |e: &Expr| e.get_type(schema).is_ok_and(|t| is_decimal(&t));
    if !(decimal(&left) || decimal(&right)) {
        return Ok(Transformed::no(binary(left, op, right)));
    }
    let (Some((p1, s1)), Some((p2, s2))) = (l, r) else {
        return Ok(Transformed::no(binary(left, op, right)));
    };
    let (precision, scale) = match op {
        Operator::Divide => {
            let double = |e| cast(e, DataType::Float64);
            return Ok(Transformed::yes(binary(double(left), op, double(right))));
        }
        Operator::Plus | Operator::Minus => {
            let scale = s1.max(s2);
            (scale + (p1 - s1).max(p2 - s2) + 1, scale)
        }
        Operator::Multiply => (p1 + p2, s1 + s2),
        _ => return Ok(Transformed::no(binary(left, op, right))),
    };
    let max = i16::from(DECIMAL128_MAX_PRECISION);
    if precision <= max || scale > max {
        return Ok(Transformed::no(binary(left, op, right)));
    }
    let wide = |e: Expr, (p, s): (i16, i16)| cast(e, DataType::Decimal256(p as u8, s as i8));
    Ok(Transformed::yes(cast(
        binary(wide(left, (p1, s1)), op, wide(right, (p2, s2))),
        DataType::Decimal128(DECIMAL128_MAX_PRECISION, scale as i8),
    )))
}

/// `e`'s (precision, scale) as a DECIMAL in DuckDB's arithmetic: its own
/// for a DECIMAL, the digits of its type for an integer (an integer
/// literal that fits 32 bits is DuckDB's INTEGER, 10 digits).
fn decimal_width(e: &Expr, schema: &DFSchema) -> Option<(i16, i16)> {
    if let Expr::Literal(ScalarValue::Int64(Some(v)), _) = e
        && i32::try_from(*v).is_ok()
    {
        return Some((10, 0));
    }
    Some(match e.get_type(schema).ok()? {
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => (i16::from(p), i16::from(s)),
        DataType::Int8 | DataType::UInt8 => (3, 0),
        DataType::Int16 | DataType::UInt16 => (5, 0),
        DataType::Int32 | DataType::UInt32 => (10, 0),
        DataType::Int64 => (19, 0),
        DataType::UInt64 => (20, 0),
        _ => return None,
    })
}

static DECIMAL_AVG: LazyLock<Arc<AggregateUDF>> =
    LazyLock::new(|| Arc::new(crate::decimal_totals::decimal_avg()));
static DECIMAL_SUM: LazyLock<Arc<AggregateUDF>> =
    LazyLock::new(|| Arc::new(crate::decimal_totals::decimal_sum()));

/// `avg` of a DECIMAL as DuckDB's, a DOUBLE of the exact total (DataFusion
/// truncates it to the scale + 4: `avg` of 1.0, 2.0, 2.0 was 1.66666), and
/// `sum` of a DECIMAL wider than 28 digits checked into 38 (DataFusion's
/// wraps around past 128 bits; narrower ones cannot reach 38 digits).
fn aggregate_as_duckdb(call: AggregateFunction, schema: &DFSchema) -> Transformed<Expr> {
    let params = &call.params;
    let argument = match params.args.as_slice() {
        [arg] => arg.get_type(schema).ok(),
        _ => None,
    };
    // The function to call instead, and whether its argument becomes a
    // DOUBLE (avg(DISTINCT x): DataFusion's own, of DOUBLEs).
    let (func, double) = match (call.func.name(), argument) {
        ("avg", Some(t)) if is_decimal(&t) && params.distinct => (Arc::clone(&call.func), true),
        ("avg", Some(t)) if is_decimal(&t) => (Arc::clone(&DECIMAL_AVG), false),
        ("sum", Some(DataType::Decimal128(p, _) | DataType::Decimal256(p, _)))
            if p > 28 && !params.distinct =>
        {
            (Arc::clone(&DECIMAL_SUM), false)
        }
        _ => return Transformed::no(Expr::AggregateFunction(call)),
    };
    let AggregateFunctionParams {
        args,
        distinct,
        filter,
        order_by,
        null_treatment,
    } = call.params;
    let args = match double {
        true => args
            .into_iter()
            .map(|e| cast(e, DataType::Float64))
            .collect(),
        false => args,
    };
    Transformed::yes(Expr::AggregateFunction(AggregateFunction::new_udf(
        func,
        args,
        distinct,
        filter,
        order_by,
        null_treatment,
    )))
}

fn comparison(op: Operator) -> bool {
    use Operator::*;
    matches!(
        op,
        Eq | NotEq | Lt | LtEq | Gt | GtEq | IsDistinctFrom | IsNotDistinctFrom
    )
}

fn arithmetic(op: Operator) -> bool {
    use Operator::*;
    matches!(op, Plus | Minus | Multiply | Divide | Modulo)
}

fn is_decimal(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..)
    )
}
