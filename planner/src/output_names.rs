//! Repeated output names, as DuckDB treats them. DuckDB answers
//! `SELECT 1 AS a, 2 AS a` with two columns named `a`, and where such
//! columns become a table's (`CREATE TABLE ... AS`, a view, a subquery,
//! COPY's file) it names them `a`, `a_1`. DataFusion refuses a projection
//! whose names repeat, and a table whose unqualified names repeat. So:
//! every SELECT's repeated names are told apart DuckDB's way before it is
//! planned ([`tell_selects_apart`]), a plan whose columns' names repeat
//! (`SELECT *` of a join) is given DuckDB's names before it becomes a
//! table or a file ([`tell_plan_apart`]), and a top-level SELECT shows
//! the names as written ([`ShownNames`]). Unaliased expressions are first
//! given DuckDB's names for them (`crate::duck_names`).

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::{Column, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    Expr as SqlExpr, Ident, Query, SelectItem, SetExpr, Statement, VisitorMut,
};
use futures::TryStreamExt;

/// DuckDB's `QueryResult::DeduplicateColumns`: a name met again (case
/// aside) gets `_1`, the next `_2`, skipping names already taken
/// (`a, a, a_1` becomes `a, a_1, a_1_1`).
pub(crate) fn deduplicated<S: AsRef<str>>(names: &[S]) -> Vec<String> {
    let mut counts: std::collections::HashMap<String, usize> = Default::default();
    names
        .iter()
        .map(|name| {
            let name = name.as_ref();
            let low = name.to_lowercase();
            let Some(count) = counts.get(&low).copied() else {
                counts.insert(low, 1);
                return name.to_owned();
            };
            let mut n = count;
            let mut new = format!("{name}_{n}");
            while counts.contains_key(&new.to_lowercase()) {
                n += 1;
                new = format!("{name}_{n}");
            }
            counts.insert(low, n);
            *counts.entry(new.to_lowercase()).or_default() += 1;
            new
        })
        .collect()
}

/// The name DataFusion gives a select item, when the SQL tells it: an
/// alias or a column reference (unquoted names folded to lower case).
fn item_name(item: &SelectItem) -> Option<&Ident> {
    match item {
        SelectItem::ExprWithAlias { alias, .. } => Some(alias),
        SelectItem::UnnamedExpr(SqlExpr::Identifier(ident)) => Some(ident),
        SelectItem::UnnamedExpr(SqlExpr::CompoundIdentifier(parts)) => parts.last(),
        _ => None,
    }
}

fn folded(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    }
}

/// The names a top-level SELECT showed before its repeated ones were
/// told apart (`None`: the name it has).
#[derive(Debug, Default)]
pub(crate) struct ShownNames(Vec<Option<String>>);

/// Tells apart the repeated names of `items` (a SELECT without `*`),
/// returning the names they had where changed.
fn tell_items_apart(items: &mut [SelectItem]) -> Option<Vec<Option<String>>> {
    if items.iter().any(|i| {
        matches!(
            i,
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
        )
    }) {
        return None;
    }
    let named: Vec<(usize, String)> = items
        .iter()
        .enumerate()
        .filter_map(|(at, item)| item_name(item).map(|name| (at, folded(name))))
        .collect();
    let names: Vec<&str> = named.iter().map(|(_, n)| n.as_str()).collect();
    let new = deduplicated(&names);
    if new.iter().zip(&names).all(|(a, b)| a == b) {
        return None;
    }
    let mut shown = vec![None; items.len()];
    for ((at, old), new) in named.iter().zip(new) {
        if *old == new {
            continue;
        }
        let quote_style = item_name(&items[*at]).and_then(|i| i.quote_style);
        let alias = Ident {
            quote_style: quote_style.or(Some('"')),
            ..Ident::new(new)
        };
        let item = std::mem::replace(&mut items[*at], SelectItem::Wildcard(Default::default()));
        items[*at] = match item {
            SelectItem::ExprWithAlias { expr, .. } | SelectItem::UnnamedExpr(expr) => {
                SelectItem::ExprWithAlias { expr, alias }
            }
            other => other,
        };
        shown[*at] = Some(old.clone());
    }
    Some(shown)
}

/// Tells apart the repeated names of every SELECT of `statement`, DuckDB's
/// way; for a statement that is a SELECT, also the names it shows.
pub(crate) fn tell_selects_apart(statement: &mut DFStatement) -> ShownNames {
    struct Apart {
        shown: Option<Vec<Option<String>>>,
        outermost: bool,
    }
    impl VisitorMut for Apart {
        type Break = ();
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            let outermost = std::mem::take(&mut self.outermost);
            let shown = apart(&mut query.body);
            crate::duck_names::order_by_all(query);
            crate::duck_names::order_by_aliases(query);
            if outermost {
                self.shown = shown;
            }
            ControlFlow::Continue(())
        }
    }
    /// The names shown by `body`'s first SELECT, whose names a set
    /// operation keeps.
    fn apart(body: &mut SetExpr) -> Option<Vec<Option<String>>> {
        match body {
            SetExpr::Select(select) => {
                crate::duck_names::name_items(&mut select.projection);
                tell_items_apart(&mut select.projection)
            }
            SetExpr::SetOperation { left, right, .. } => {
                let shown = apart(left);
                apart(right);
                shown
            }
            _ => None,
        }
    }
    /// Whether `statement` is a query, or an EXPLAIN of one.
    fn is_query(statement: &DFStatement) -> bool {
        match statement {
            DFStatement::Statement(inner) => matches!(**inner, Statement::Query(_)),
            DFStatement::Explain(explain) => is_query(&explain.statement),
            _ => false,
        }
    }
    let mut visitor = Apart {
        shown: None,
        outermost: is_query(statement),
    };
    crate::column_case::visit_sql(statement, &mut visitor);
    ShownNames(visitor.shown.unwrap_or_default())
}

impl ShownNames {
    /// `rows` with the names the SELECT was written with.
    pub(crate) fn show(
        &self,
        rows: SendableRecordBatchStream,
    ) -> Result<SendableRecordBatchStream> {
        let schema = rows.schema();
        if self.0.is_empty() || self.0.len() != schema.fields().len() {
            return Ok(rows);
        }
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .zip(&self.0)
            .map(|(field, shown)| match shown {
                Some(name) => field.as_ref().clone().with_name(name),
                None => field.as_ref().clone(),
            })
            .collect();
        let shown = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
        let to = Arc::clone(&shown);
        let batches = rows.and_then(move |batch| {
            let batch = RecordBatch::try_new(Arc::clone(&to), batch.columns().to_vec());
            std::future::ready(batch.map_err(Into::into))
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(shown, batches)))
    }
}

/// `plan` with DuckDB's names for its columns when their names repeat
/// (case aside), as a table or a file needs them: `SELECT *` of
/// `t1 JOIN t2 ON t1.x = t2.x` makes `x, y, x_1, z`.
pub(crate) fn tell_plan_apart(plan: LogicalPlan) -> Result<LogicalPlan> {
    let names: Vec<&String> = plan.schema().fields().iter().map(|f| f.name()).collect();
    let mut seen = HashSet::new();
    if names.iter().all(|n| seen.insert(n.to_lowercase())) {
        return Ok(plan);
    }
    let new = deduplicated(&names);
    let exprs: Vec<Expr> = plan
        .schema()
        .iter()
        .zip(new)
        .map(|((qualifier, field), name)| {
            Expr::Column(Column::new(qualifier.cloned(), field.name())).alias(name)
        })
        .collect();
    LogicalPlanBuilder::from(plan).project(exprs)?.build()
}

#[cfg(test)]
mod tests {
    use super::deduplicated;

    #[test]
    fn names_are_told_apart_as_duckdb_tells_them() {
        assert_eq!(deduplicated(&["a", "a", "a"]), ["a", "a_1", "a_2"]);
        assert_eq!(deduplicated(&["a", "a", "a_1"]), ["a", "a_1", "a_1_1"]);
        assert_eq!(deduplicated(&["a", "A"]), ["a", "A_1"]);
        assert_eq!(deduplicated(&["x", "y", "x", "z"]), ["x", "y", "x_1", "z"]);
        assert_eq!(deduplicated(&["b", "c"]), ["b", "c"]);
    }
}
