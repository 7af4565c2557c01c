//! Numbers as DuckDB reads them. DuckDB types `0.1` DECIMAL(1,1), so
//! `0.1 + 0.2 = 0.3` holds and `price * 1.20` is exact; the session parses
//! a literal with a point as a decimal
//! (`datafusion.sql_parser.parse_float_as_decimal`). Two things DuckDB
//! does differently then remain, and are done here:
//!
//! - a literal with an exponent (`1e3`, `2.5E-300`) is a DOUBLE
//!   ([`exponents_as_doubles`], on the SQL before it is planned: as a
//!   decimal, `1e-300` would need 300 digits and be refused);
//! - where a DOUBLE meets a DECIMAL (a comparison, `IN`, `BETWEEN`, a
//!   function's arguments as in `coalesce(f, 0.0)`, `CASE`'s results),
//!   DuckDB makes both DOUBLE; DataFusion makes both DECIMAL(30, 15),
//!   which fails on NaN, infinity and any value past 10^15 and rounds the
//!   others ([`FloatOperands`], an analyzer rule run before type
//!   coercion).

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::{Between, Case, Cast, InList, ScalarFunction};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{
    BinaryExpr, Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, Operator,
};
use datafusion::optimizer::{Analyzer, AnalyzerRule};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    CastKind, DataType as SqlType, ExactNumberInfo, Expr as SqlExpr, Value, VisitorMut,
};

/// Writes each number literal with an exponent in `statement` as a cast
/// of its text to DOUBLE, DuckDB's type for it.
pub(crate) fn exponents_as_doubles(statement: &mut DFStatement) {
    struct Exponents;
    impl VisitorMut for Exponents {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut SqlExpr) -> ControlFlow<()> {
            if let SqlExpr::Value(value) = expr
                && let Value::Number(text, _) = &value.value
                && text.contains(['e', 'E'])
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

/// The analyzer rule, run before type coercion: where DOUBLEs (or REALs)
/// and DECIMALs meet as operands of one comparison, `IN`, `BETWEEN`,
/// function call or `CASE`, the DECIMALs are cast to DOUBLE, DuckDB's
/// common type for them.
#[derive(Debug, Default)]
pub(crate) struct FloatOperands;

impl AnalyzerRule for FloatOperands {
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
            // were; type coercion recomputes the others' schemas.
            match rewritten {
                Transformed {
                    data: LogicalPlan::Values(values),
                    transformed: true,
                    ..
                } => Ok(Transformed::yes(
                    LogicalPlanBuilder::values(values.values)?.build()?,
                )),
                other => Ok(other),
            }
        })
        .data()
    }

    fn name(&self) -> &str {
        "duckdb_float_operands"
    }
}

/// The analyzer's rules with [`FloatOperands`] just before DataFusion's
/// type coercion (whose common type of DOUBLE and DECIMAL is a DECIMAL).
pub(crate) fn analyzer_rules() -> Vec<Arc<dyn AnalyzerRule + Send + Sync>> {
    let mut rules = Analyzer::new().rules;
    let coercion = rules
        .iter()
        .position(|rule| rule.name() == "type_coercion")
        .unwrap_or(0);
    rules.insert(coercion, Arc::new(FloatOperands));
    rules
}

/// `expr` with its DECIMAL operands cast to DOUBLE when a DOUBLE is among
/// them.
fn rewrite(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let types = |operands: &[&Expr]| -> Vec<Option<DataType>> {
        operands.iter().map(|e| e.get_type(schema).ok()).collect()
    };
    let mixed = |types: &[Option<DataType>]| {
        types.iter().flatten().any(DataType::is_floating) && types.iter().flatten().any(is_decimal)
    };
    let double = |e: Expr| -> Expr {
        match e.get_type(schema) {
            Ok(t) if is_decimal(&t) => Expr::Cast(Cast::new(Box::new(e), DataType::Float64)),
            _ => e,
        }
    };
    Ok(match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right })
            if comparison(op) && mixed(&types(&[&left, &right])) =>
        {
            Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                Box::new(double(*left)),
                op,
                Box::new(double(*right)),
            )))
        }
        Expr::InList(InList {
            expr,
            list,
            negated,
        }) if mixed(&types(
            &std::iter::once(&*expr).chain(&list).collect::<Vec<_>>(),
        )) =>
        {
            Transformed::yes(Expr::InList(InList::new(
                Box::new(double(*expr)),
                list.into_iter().map(double).collect(),
                negated,
            )))
        }
        Expr::Between(Between {
            expr,
            negated,
            low,
            high,
        }) if mixed(&types(&[&expr, &low, &high])) => {
            Transformed::yes(Expr::Between(Between::new(
                Box::new(double(*expr)),
                negated,
                Box::new(double(*low)),
                Box::new(double(*high)),
            )))
        }
        Expr::ScalarFunction(call) if mixed(&types(&call.args.iter().collect::<Vec<_>>())) => {
            let args = call.args.into_iter().map(double).collect();
            Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(
                call.func, args,
            )))
        }
        Expr::Case(case)
            if mixed(&types(
                &case
                    .when_then_expr
                    .iter()
                    .map(|(_, then)| &**then)
                    .chain(case.else_expr.as_deref())
                    .collect::<Vec<_>>(),
            )) =>
        {
            let when_then = case
                .when_then_expr
                .into_iter()
                .map(|(when, then)| (when, Box::new(double(*then))))
                .collect();
            let otherwise = case.else_expr.map(|e| Box::new(double(*e)));
            Transformed::yes(Expr::Case(Case::new(case.expr, when_then, otherwise)))
        }
        other => Transformed::no(other),
    })
}

fn comparison(op: Operator) -> bool {
    use Operator::*;
    matches!(
        op,
        Eq | NotEq | Lt | LtEq | Gt | GtEq | IsDistinctFrom | IsNotDistinctFrom
    )
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
