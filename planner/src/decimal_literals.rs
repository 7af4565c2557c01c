//! Numbers as DuckDB 1.5.5 binds them. DuckDB types `0.1` DECIMAL(2,1),
//! so `0.1 + 0.2 = 0.3` holds and `price * 1.20` is exact; the session
//! parses a literal with a point as a decimal
//! (`datafusion.sql_parser.parse_float_as_decimal`). What DuckDB's binder
//! does differently from DataFusion's is done here:
//!
//! - a literal with an exponent (`1e3`, `2.5E-300`) or of more than 38
//!   digits is a DOUBLE ([`exponents_as_doubles`], on the SQL before it is
//!   planned: as a decimal, `1e-300` would need 300 digits and be refused),
//!   and so are both operands of `^` (power, crate::dialect);
//! - arithmetic on DECIMALs ([`DuckDbNumbers`], an analyzer rule run before
//!   type coercion): `/` is DOUBLE division (DataFusion's keeps the
//!   dividend's scale + 4 places: `1.0/3` 0.33333); a `+`, `-` or `*`
//!   whose result may need more than 38 digits is computed in 76 and
//!   checked into DECIMAL(38, s), an overflow error where DataFusion gives
//!   a number 10x off; `avg` is a DOUBLE of the exact total and `sum` of
//!   wide DECIMALs checks its 38 digits ([`crate::decimal_totals`]);
//! - a DOUBLE, FLOAT or DECIMAL cast to an integer is rounded as DuckDB
//!   rounds it ([`crate::integers`]: `1.5::INTEGER` is 2);
//! - where a DOUBLE meets a DECIMAL (arithmetic, a comparison, `IN`,
//!   `BETWEEN`, a function's arguments as in `coalesce(f, 0.0)`, `CASE`'s
//!   results), DuckDB makes both DOUBLE; DataFusion makes both
//!   DECIMAL(30, 15), which fails on NaN, infinity and any value past
//!   10^15 and rounds the others.

use std::ops::ControlFlow;
use std::sync::{Arc, LazyLock};

use crate::expr_rules::rewrite_expressions;
use datafusion::arrow::datatypes::{DECIMAL128_MAX_PRECISION, DataType};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult};
use datafusion::common::{Column, DFSchema, Result, ScalarValue};
use datafusion::functions_aggregate::sum::Sum;
use datafusion::logical_expr::expr::{
    AggregateFunction, AggregateFunctionParams, Between, Case, Cast, InList, InSubquery,
    ScalarFunction, SetComparison, WindowFunction,
};
use datafusion::logical_expr::{
    AggregateUDF, BinaryExpr, Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, Operator,
    Subquery, Union, WindowFunctionDefinition,
};
use datafusion::optimizer::{Analyzer, AnalyzerRule};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, CastKind, DataType as SqlType, ExactNumberInfo, Expr as SqlExpr, Value,
    VisitorMut,
};

/// Writes each number literal DuckDB types DOUBLE in `statement` — one
/// with an exponent, or of more than 38 digits — as a cast of its text to
/// DOUBLE, and casts both operands of each `^` or `**` (power) to DOUBLE.
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
            // `a ^ b` and `a ** b` (the dialect's power) are DuckDB's
            // power(DOUBLE, DOUBLE): `2 ^ 3` is 8.0, DataFusion's power of
            // integers an integer, of a DECIMAL a DECIMAL.
            if let SqlExpr::BinaryOp { left, op, right } = expr
                && (matches!(op, BinaryOperator::PGExp)
                    || matches!(op, BinaryOperator::Custom(c) if c == crate::dialect::POWER_STARS))
            {
                *op = BinaryOperator::PGExp;
                for side in [left, right] {
                    let operand = std::mem::replace(&mut **side, SqlExpr::value(Value::Null));
                    **side = SqlExpr::Cast {
                        kind: CastKind::Cast,
                        expr: Box::new(operand),
                        data_type: SqlType::Double(ExactNumberInfo::None),
                        array: false,
                        format: None,
                    };
                }
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
            columns_as_doubles(plan)?.transform_data(expressions_as_duckdb)
        })
        .data()
    }

    fn name(&self) -> &str {
        "duckdb_numbers"
    }
}

/// `plan` with its expressions rebound ([`rewrite`]) and its schema
/// recomputed.
fn expressions_as_duckdb(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    let rewritten = rewrite_expressions(plan, rewrite)?;
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
}

/// A column DOUBLE (or REAL) in one input of a UNION and DECIMAL in
/// another, or so across the rows of a VALUES list, or a join key (as
/// INTERSECT and EXCEPT compare their rows) DOUBLE on one side and
/// DECIMAL on the other, becomes a float on every side, DuckDB's common
/// type; DataFusion's, DECIMAL(30, 15), rounds 1e-20 to 0 and refuses
/// 1e300.
fn columns_as_doubles(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    match plan {
        LogicalPlan::Union(union) => {
            let targets: Vec<Option<DataType>> = (0..union.schema.fields().len())
                .map(|i| {
                    let types: Vec<DataType> = (union.inputs.iter())
                        .filter_map(|p| p.schema().fields().get(i).map(|f| f.data_type().clone()))
                        .collect();
                    common_float(&types)
                })
                .collect();
            if targets.iter().all(Option::is_none) {
                return Ok(Transformed::no(LogicalPlan::Union(union)));
            }
            let inputs = (union.inputs.into_iter())
                .map(|input| columns_cast(Arc::unwrap_or_clone(input), &targets).map(Arc::new))
                .collect::<Result<Vec<_>>>()?;
            Ok(Transformed::yes(LogicalPlan::Union(
                Union::try_new_with_loose_types(inputs)?,
            )))
        }
        LogicalPlan::Values(values) => {
            let empty = DFSchema::empty();
            let fields = values.schema.fields().clone();
            // A row's value as written, without the cast to the column's
            // type that LogicalPlanBuilder::values adds.
            let written = |e: &Expr, t: &DataType| match e {
                Expr::Cast(c) if c.field.data_type() == t => (*c.expr).clone(),
                e => e.clone(),
            };
            let targets: Vec<Option<DataType>> = (fields.iter().enumerate())
                .map(|(j, f)| {
                    let types: Vec<DataType> = (values.values.iter())
                        .filter_map(|row| written(&row[j], f.data_type()).get_type(&empty).ok())
                        .collect();
                    common_float(&types)
                })
                .collect();
            if targets.iter().all(Option::is_none) {
                return Ok(Transformed::no(LogicalPlan::Values(values)));
            }
            let rows = (values.values.iter())
                .map(|row| {
                    (row.iter().zip(fields.iter()).zip(&targets))
                        .map(|((e, f), target)| match target {
                            Some(t) => as_float(written(e, f.data_type()), &empty, t),
                            None => e.clone(),
                        })
                        .collect()
                })
                .collect();
            Ok(Transformed::yes(LogicalPlanBuilder::values(rows)?.build()?))
        }
        LogicalPlan::Join(mut join) => {
            let (left, right) = (
                Arc::clone(join.left.schema()),
                Arc::clone(join.right.schema()),
            );
            let mut transformed = false;
            join.on = (join.on.into_iter())
                .map(|(l, r)| {
                    let types: Vec<DataType> = [l.get_type(&left).ok(), r.get_type(&right).ok()]
                        .into_iter()
                        .flatten()
                        .collect();
                    match common_float(&types) {
                        Some(t) => {
                            transformed = true;
                            (as_float(l, &left, &t), as_float(r, &right, &t))
                        }
                        None => (l, r),
                    }
                })
                .collect();
            Ok(Transformed::new_transformed(
                LogicalPlan::Join(join),
                transformed,
            ))
        }
        other => Ok(Transformed::no(other)),
    }
}

/// `plan` under a projection casting each DECIMAL column whose target is
/// a float to it, names kept.
fn columns_cast(plan: LogicalPlan, targets: &[Option<DataType>]) -> Result<LogicalPlan> {
    let columns: Vec<Expr> = (plan.schema().iter().zip(targets))
        .map(|((qualifier, field), target)| {
            let column = Expr::Column(Column::from((qualifier, field)));
            match target {
                Some(t) if is_decimal(field.data_type()) => {
                    cast(column, t.clone()).alias_qualified(qualifier.cloned(), field.name())
                }
                _ => column,
            }
        })
        .collect();
    LogicalPlanBuilder::from(plan).project(columns)?.build()
}

/// `subquery` with its first column cast to `target` when a DECIMAL.
fn subquery_as(subquery: Subquery, target: &DataType) -> Result<Subquery> {
    let width = subquery.subquery.schema().fields().len();
    let mut targets = vec![None; width];
    if let Some(first) = targets.first_mut() {
        *first = Some(target.clone());
    }
    let plan = columns_cast(Arc::unwrap_or_clone(subquery.subquery), &targets)?;
    Ok(Subquery {
        subquery: Arc::new(plan),
        ..subquery
    })
}

/// `e` cast to `target` when it is a DECIMAL.
fn as_float(e: Expr, schema: &DFSchema, target: &DataType) -> Expr {
    match e.get_type(schema) {
        Ok(t) if is_decimal(&t) => cast(e, target.clone()),
        _ => e,
    }
}

/// The analyzer's rules with [`DuckDbNumbers`] just before DataFusion's
/// type coercion (whose common type of DOUBLE and DECIMAL is a DECIMAL),
/// then [`crate::date_intervals::DateIntervals`].
pub(crate) fn analyzer_rules() -> Vec<Arc<dyn AnalyzerRule + Send + Sync>> {
    let mut rules = Analyzer::new().rules;
    let coercion = rules
        .iter()
        .position(|rule| rule.name() == "type_coercion")
        .unwrap_or(0);
    rules.insert(coercion, Arc::new(DuckDbNumbers));
    rules.insert(coercion + 1, Arc::new(crate::date_intervals::DateIntervals));
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
    let float = |e: Expr, target: &DataType| as_float(e, schema, target);
    if let Some(cast) = crate::integers::cast_to_integer(&expr, schema) {
        return Ok(Transformed::yes(cast));
    }
    Ok(match expr {
        // DuckDB's width of `0.5` counts the integer digit: DECIMAL(2,1),
        // so a table made of it takes 1.0 too.
        Expr::Literal(ScalarValue::Decimal128(Some(v), p, s), metadata)
            if s >= 0 && i16::from(p) <= i16::from(s) && s < DECIMAL128_MAX_PRECISION as i8 =>
        {
            Transformed::yes(Expr::Literal(
                ScalarValue::Decimal128(Some(v), s as u8 + 1, s),
                metadata,
            ))
        }
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
        Expr::ScalarFunction(call) if rounding(call.func.name()) => {
            match (call.args.as_slice(), call.args.first().and_then(type_of)) {
                ([_], Some(DataType::Decimal128(p, s))) if s > 0 => {
                    Transformed::yes(cast(Expr::ScalarFunction(call), DataType::Decimal128(p, 0)))
                }
                _ => Transformed::no(Expr::ScalarFunction(call)),
            }
        }
        Expr::ScalarFunction(call) => match float_of(&call.args.iter().collect::<Vec<_>>()) {
            Some(t) if unifying(call.func.name()) => {
                let args = call.args.into_iter().map(|e| float(e, &t)).collect();
                Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(
                    call.func, args,
                )))
            }
            _ => Transformed::no(Expr::ScalarFunction(call)),
        },
        Expr::Case(case) if case.expr.is_some() && case_operands_meet(&case, &float_of) => {
            let operand = case.expr.as_deref().map_or(Vec::new(), |e| vec![e]);
            let whens: Vec<&Expr> = case.when_then_expr.iter().map(|(w, _)| &**w).collect();
            let t = float_of(&[operand, whens].concat()).unwrap_or(DataType::Float64);
            let when_then = (case.when_then_expr.into_iter())
                .map(|(when, then)| (Box::new(float(*when, &t)), then))
                .collect();
            let operand = case.expr.map(|e| Box::new(float(*e, &t)));
            Transformed::yes(Expr::Case(Case::new(operand, when_then, case.else_expr)))
        }
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
        Expr::WindowFunction(window) => window_as_duckdb(*window, schema),
        Expr::SetComparison(SetComparison {
            expr,
            subquery,
            op,
            quantifier,
        }) => {
            let column = subquery.subquery.schema().field(0).data_type().clone();
            match common_float(type_of(&expr).iter().chain([&column])) {
                Some(t) => Transformed::yes(Expr::SetComparison(SetComparison::new(
                    Box::new(float(*expr, &t)),
                    subquery_as(subquery, &t)?,
                    op,
                    quantifier,
                ))),
                None => Transformed::no(Expr::SetComparison(SetComparison::new(
                    expr, subquery, op, quantifier,
                ))),
            }
        }
        Expr::InSubquery(InSubquery {
            expr,
            subquery,
            negated,
        }) => {
            let column = subquery.subquery.schema().field(0).data_type().clone();
            match common_float(type_of(&expr).iter().chain([&column])) {
                Some(t) => Transformed::yes(Expr::InSubquery(InSubquery::new(
                    Box::new(float(*expr, &t)),
                    subquery_as(subquery, &t)?,
                    negated,
                ))),
                None => Transformed::no(Expr::InSubquery(InSubquery::new(expr, subquery, negated))),
            }
        }
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
static CHECKED_SUM: LazyLock<Arc<AggregateUDF>> =
    LazyLock::new(|| Arc::new(crate::integer_overflow::checked_sum()));
static CHECKED_DISTINCT_SUM: LazyLock<Arc<AggregateUDF>> =
    LazyLock::new(|| Arc::new(crate::integer_overflow::checked_distinct_sum()));
static HUGEINT_SUM: LazyLock<Arc<AggregateUDF>> =
    LazyLock::new(|| Arc::new(crate::integer_overflow::hugeint_sum()));

/// The exact total to call in place of `func` (DataFusion's `sum` or
/// `avg`) of an `argument`: [`crate::decimal_totals`]' for `avg` of any
/// DECIMAL and `sum` of a DECIMAL wider than 28 digits (DataFusion's
/// wraps around past 128 bits; narrower ones cannot reach 38 digits),
/// [`crate::integer_overflow`]'s for `sum` of UBIGINTs, DuckDB's HUGEINT
/// total as DECIMAL(38,0) (DataFusion's is a UBIGINT that wraps around
/// past 64 bits), and for `sum` of BIGINTs, checked into 64 bits; DISTINCT
/// or not, in an aggregate or a window (a DISTINCT one of BIGINTs, and
/// those of UBIGINTs, are named `sum` too, for DataFusion's rewrite of
/// DISTINCT to groups; they are told from DataFusion's by their type).
fn duckdb_total(
    func: &AggregateUDF,
    argument: Option<&DataType>,
    distinct: bool,
) -> Option<Arc<AggregateUDF>> {
    let datafusions_sum = func.inner().is::<Sum>();
    match (func.name(), argument) {
        ("avg", Some(t)) if is_decimal(t) => Some(Arc::clone(&DECIMAL_AVG)),
        ("sum", Some(DataType::Decimal128(p, _) | DataType::Decimal256(p, _))) if *p > 28 => {
            Some(Arc::clone(&DECIMAL_SUM))
        }
        ("sum", Some(DataType::UInt64)) if datafusions_sum => Some(Arc::clone(&HUGEINT_SUM)),
        ("sum", Some(DataType::Int64)) if datafusions_sum => Some(Arc::clone(match distinct {
            true => &CHECKED_DISTINCT_SUM,
            false => &CHECKED_SUM,
        })),
        _ => None,
    }
}

/// The type of a call's one argument.
fn argument_type(args: &[Expr], schema: &DFSchema) -> Option<DataType> {
    match args {
        [arg] => arg.get_type(schema).ok(),
        _ => None,
    }
}

/// `avg` of a DECIMAL as DuckDB's, a DOUBLE of the exact total (DataFusion
/// truncates it to the scale + 4: `avg` of 1.0, 2.0, 2.0 was 1.66666), and
/// `sum` of a wide DECIMAL checked into 38 digits ([`duckdb_total`]), and
/// `sum` of BIGINTs checked into 64 bits ([`crate::integer_overflow`]),
/// DISTINCT too: that one named `sum`, with no alias, DataFusion's
/// `single_distinct_aggregation_to_group_by` still groups its values
/// first and sums them in an outer aggregate with the same function.
fn aggregate_as_duckdb(call: AggregateFunction, schema: &DFSchema) -> Transformed<Expr> {
    let argument = argument_type(&call.params.args, schema);
    let Some(func) = duckdb_total(&call.func, argument.as_ref(), call.params.distinct) else {
        return Transformed::no(Expr::AggregateFunction(call));
    };
    let AggregateFunctionParams {
        args,
        distinct,
        filter,
        order_by,
        null_treatment,
    } = call.params;
    Transformed::yes(Expr::AggregateFunction(AggregateFunction::new_udf(
        func,
        args,
        distinct,
        filter,
        order_by,
        null_treatment,
    )))
}

/// A window's `sum` or `avg` of DECIMALs as the aggregate's
/// ([`duckdb_total`]; a frame retracts values exactly): DataFusion's
/// window sum wrapped around past 128 bits and its avg was of DOUBLEs
/// (0.20000000000000004 for 0.1, 0.2, 0.3); and a window's `sum` of
/// BIGINTs checked into 64 bits as the aggregate's (it wrapped around).
fn window_as_duckdb(mut window: WindowFunction, schema: &DFSchema) -> Transformed<Expr> {
    let total = match &window.fun {
        WindowFunctionDefinition::AggregateUDF(udf) => {
            let argument = argument_type(&window.params.args, schema);
            duckdb_total(udf, argument.as_ref(), false)
        }
        WindowFunctionDefinition::WindowUDF(_) => None,
    };
    match total {
        Some(total) => {
            window.fun = WindowFunctionDefinition::AggregateUDF(total);
            Transformed::yes(Expr::WindowFunction(Box::new(window)))
        }
        None => Transformed::no(Expr::WindowFunction(Box::new(window))),
    }
}

/// Whether a simple CASE's operand and WHEN values mix floats and
/// DECIMALs.
fn case_operands_meet(case: &Case, float_of: &dyn Fn(&[&Expr]) -> Option<DataType>) -> bool {
    let operands: Vec<&Expr> = (case.expr.as_deref().into_iter())
        .chain(case.when_then_expr.iter().map(|(when, _)| &**when))
        .collect();
    float_of(&operands).is_some()
}

/// The functions whose arguments DuckDB binds to one common type (a
/// DOUBLE among DECIMALs makes them all DOUBLE); the others keep each
/// argument's type (`concat(1e0, 0.10)` is `1.00.10`).
fn unifying(name: &str) -> bool {
    matches!(
        name,
        "coalesce" | "nvl" | "ifnull" | "nvl2" | "nullif" | "greatest" | "least" | "make_array"
    )
}

/// The functions DuckDB gives a DECIMAL of scale 0 (`floor(-1.5)` is -2,
/// not -2.0).
fn rounding(name: &str) -> bool {
    matches!(name, "floor" | "ceil" | "trunc")
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
