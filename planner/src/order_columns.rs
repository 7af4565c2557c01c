//! Names inside an ORDER BY expression bound as DuckDB binds them. A key
//! that is a bare name may be an output column (`b AS a ... ORDER BY a`
//! sorts by `b`, [`crate::duck_names::order_by_aliases`]), but a name
//! inside an expression means the FROM clause's column first and an
//! alias only when no such column exists: DuckDB sorts `a AS x, b AS a
//! ... ORDER BY a + 0` and `ORDER BY -a` by the input `a`, where
//! DataFusion takes the alias, so a LIMIT returned other rows
//! (review-s24 F17). Such a name becomes the alias of the item that is
//! that column, where there is one (`x + 0`: SELECT DISTINCT and GROUP
//! BY can sort by it), and otherwise is qualified with its relation
//! (`t.a + 0`), which DataFusion cannot bind to the alias.
//!
//! Which relation holds the column is known only once the FROM clause is
//! planned (a file's columns, a derived table's, a CTE's), so a query
//! with such a name gets a probe, `WITH ... SELECT * FROM <its FROM>`,
//! planned but never run; queries without one cost nothing.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::common::{DFSchemaRef, TableReference};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    Cte, Expr, GroupByExpr, Ident, OrderBy, OrderByKind, Query, SelectItem, SetExpr, Statement,
    VisitMut, VisitorMut, WildcardAdditionalOptions, With,
};

use crate::column_case::visit_sql;

/// A query of the statement whose ORDER BY expressions use one of its
/// SELECT's aliases: its position among the statement's queries and the
/// probe that plans its FROM clause alone.
pub(crate) struct Probe {
    query: usize,
    /// `WITH ... SELECT * FROM <the query's FROM>`.
    pub(crate) statement: DFStatement,
}

/// The probes of `statement`'s queries that need one, in the order
/// [`qualify`] visits them.
pub(crate) fn probes(statement: &DFStatement) -> Vec<Probe> {
    struct Collect {
        seen: usize,
        probes: Vec<Probe>,
        /// The WITH clauses of the queries being visited, outermost first:
        /// a FROM clause may name a CTE of any of them.
        enclosing: Vec<Option<With>>,
    }
    impl VisitorMut for Collect {
        type Break = ();
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            if !shadowed_aliases(query).is_empty()
                && let Some(mut probe) = probe_of(query)
            {
                probe.with = in_scope(&self.enclosing, query.with.as_ref());
                self.probes.push(Probe {
                    query: self.seen,
                    statement: DFStatement::Statement(Box::new(Statement::Query(Box::new(probe)))),
                });
            }
            self.seen += 1;
            self.enclosing.push(query.with.clone());
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
            self.enclosing.pop();
            ControlFlow::Continue(())
        }
    }
    let mut collect = Collect {
        seen: 0,
        probes: Vec::new(),
        enclosing: Vec::new(),
    };
    visit_sql(&mut statement.clone(), &mut collect);
    collect.probes
}

/// Qualifies the alias-named columns inside ORDER BY expressions of the
/// probed queries, each with the one relation of its FROM clause that
/// holds it (`schemas[i]` is `probes[i]`'s planned schema). A name no
/// relation holds, or two hold, is left to DataFusion: an alias, or its
/// ambiguity error.
pub(crate) fn qualify(statement: &mut DFStatement, probes: &[Probe], schemas: &[DFSchemaRef]) {
    struct Qualify<'a> {
        seen: usize,
        probed: Vec<(usize, &'a DFSchemaRef)>,
    }
    impl VisitorMut for Qualify<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            let seen = self.seen;
            self.seen += 1;
            let Some((_, schema)) = self.probed.iter().find(|(q, _)| *q == seen) else {
                return ControlFlow::Continue(());
            };
            let aliases = shadowed_aliases(query);
            let items = column_items(query);
            if let Some(OrderBy {
                kind: OrderByKind::Expressions(keys),
                ..
            }) = &mut query.order_by
            {
                for key in keys.iter_mut().filter(|k| !is_bare(&k.expr)) {
                    let _ = key.expr.visit(&mut Columns {
                        aliases: &aliases,
                        items: &items,
                        schema,
                    });
                }
            }
            ControlFlow::Continue(())
        }
    }
    let probed = probes
        .iter()
        .zip(schemas)
        .map(|(probe, schema)| (probe.query, schema))
        .collect();
    visit_sql(statement, &mut Qualify { seen: 0, probed });
}

/// Rewrites the names in `aliases` that `schema` holds once: as the
/// alias of the item that is that column, or else qualified.
struct Columns<'a> {
    aliases: &'a HashSet<String>,
    /// The SELECT's items that are a column under an alias: (column in
    /// lower case, alias).
    items: &'a [(String, Ident)],
    schema: &'a DFSchemaRef,
}

impl VisitorMut for Columns<'_> {
    type Break = ();
    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::Identifier(name) = expr
            && self.aliases.contains(&name.value.to_lowercase())
            && let Some(column) = self.column(name)
        {
            *expr = column;
        }
        ControlFlow::Continue(())
    }
}

impl Columns<'_> {
    /// `name` as the column of the one relation holding it, in any case
    /// as DuckDB matches names.
    fn column(&self, name: &Ident) -> Option<Expr> {
        let mut holding = self.schema.iter().filter(|(qualifier, field)| {
            qualifier.is_some() && field.name().eq_ignore_ascii_case(&name.value)
        });
        let (Some(qualifier), field) = holding.next()? else {
            return None;
        };
        if holding.next().is_some() {
            return None;
        }
        let lower = field.name().to_lowercase();
        if let Some((_, alias)) = self.items.iter().find(|(column, _)| *column == lower) {
            return Some(Expr::Identifier(alias.clone()));
        }
        let mut parts: Vec<Ident> = match qualifier {
            TableReference::Bare { table } => vec![quoted(table)],
            TableReference::Partial { schema, table } => vec![quoted(schema), quoted(table)],
            TableReference::Full {
                catalog,
                schema,
                table,
            } => vec![quoted(catalog), quoted(schema), quoted(table)],
        };
        parts.push(quoted(field.name()));
        Some(Expr::CompoundIdentifier(parts))
    }
}

fn quoted(name: &str) -> Ident {
    Ident::with_quote('"', name)
}

fn is_bare(expr: &Expr) -> bool {
    matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
}

/// The aliases (lower case) of `query`'s SELECT that its ORDER BY uses
/// inside an expression: the names that may be shadowing a column.
fn shadowed_aliases(query: &Query) -> HashSet<String> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return HashSet::new();
    };
    let Some(OrderBy {
        kind: OrderByKind::Expressions(keys),
        ..
    }) = &query.order_by
    else {
        return HashSet::new();
    };
    let aliases: HashSet<String> = select
        .projection
        .iter()
        .filter_map(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.to_lowercase()),
            _ => None,
        })
        .collect();
    let mut used = HashSet::new();
    for key in keys.iter().filter(|k| !is_bare(&k.expr)) {
        let mut expr = key.expr.clone();
        let _ = expr.visit(&mut Names {
            aliases: &aliases,
            used: &mut used,
        });
    }
    used
}

/// The items of `query`'s SELECT that are a column under an alias
/// (`a AS x`, `t.a AS x`): the column's name in lower case and the alias.
fn column_items(query: &Query) -> Vec<(String, Ident)> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Vec::new();
    };
    select
        .projection
        .iter()
        .filter_map(|item| {
            let SelectItem::ExprWithAlias { expr, alias } = item else {
                return None;
            };
            let column = match expr {
                Expr::Identifier(column) => column,
                Expr::CompoundIdentifier(parts) => parts.last()?,
                _ => return None,
            };
            Some((column.value.to_lowercase(), alias.clone()))
        })
        .collect()
}

/// Collects the names of `aliases` an expression uses.
struct Names<'a> {
    aliases: &'a HashSet<String>,
    used: &'a mut HashSet<String>,
}

impl VisitorMut for Names<'_> {
    type Break = ();
    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::Identifier(name) = expr {
            let name = name.value.to_lowercase();
            if self.aliases.contains(&name) {
                self.used.insert(name);
            }
        }
        ControlFlow::Continue(())
    }
}

/// The CTEs a query's FROM clause can name: its enclosing queries' (the
/// outermost first) and its own, a name defined again further in kept
/// only where it is defined last. A probe with its own WITH alone failed
/// to plan for a CTE of an enclosing or sibling WITH, and the alias won
/// (review-s26 F2).
fn in_scope(enclosing: &[Option<With>], own: Option<&With>) -> Option<With> {
    let withs: Vec<&With> = enclosing.iter().flatten().chain(own).collect();
    let last = *withs.last()?;
    let mut ctes: Vec<Cte> = Vec::new();
    for cte in withs.iter().flat_map(|w| &w.cte_tables) {
        let name = cte.alias.name.value.to_lowercase();
        ctes.retain(|kept| kept.alias.name.value.to_lowercase() != name);
        ctes.push(cte.clone());
    }
    Some(With {
        with_token: last.with_token.clone(),
        recursive: withs.iter().any(|w| w.recursive),
        cte_tables: ctes,
    })
}

/// `WITH ... SELECT * FROM <query's FROM>`: the relations the query's
/// names bind to, without its own items, filters or groups.
fn probe_of(query: &Query) -> Option<Query> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    if select.from.is_empty() {
        return None;
    }
    let mut select = select.clone();
    select.projection = vec![SelectItem::Wildcard(WildcardAdditionalOptions::default())];
    select.distinct = None;
    select.top = None;
    select.exclude = None;
    select.into = None;
    select.selection = None;
    select.prewhere = None;
    select.group_by = GroupByExpr::Expressions(Vec::new(), Vec::new());
    select.having = None;
    select.qualify = None;
    select.named_window = Vec::new();
    select.sort_by = Vec::new();
    select.cluster_by = Vec::new();
    select.distribute_by = Vec::new();
    let mut probe = query.clone();
    probe.body = Box::new(SetExpr::Select(select));
    probe.order_by = None;
    probe.limit_clause = None;
    probe.fetch = None;
    Some(probe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;

    #[test]
    fn only_queries_whose_order_by_expressions_use_an_alias_are_probed() {
        let probed = |sql: &str| {
            let statement = DFParser::parse_sql(sql).unwrap().pop_front().unwrap();
            probes(&statement)
                .iter()
                .map(|p| p.statement.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            probed("SELECT a AS x, b AS a FROM t WHERE a > 1 ORDER BY a + 0 LIMIT 1"),
            ["SELECT * FROM t"]
        );
        assert_eq!(
            probed("WITH t AS (SELECT 1 AS a) SELECT a AS A FROM t ORDER BY -A"),
            ["WITH t AS (SELECT 1 AS a) SELECT * FROM t"]
        );
        // A bare key is an output column's name: no probe.
        assert!(probed("SELECT a AS x, b AS a FROM t ORDER BY a").is_empty());
        assert!(probed("SELECT a + 1 AS y FROM t ORDER BY a + 0").is_empty());
    }
}
