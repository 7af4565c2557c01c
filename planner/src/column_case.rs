//! Column names in any case, as DuckDB resolves them. DuckDB binds
//! `name`, `NAME` and `"name"` alike to a CSV header `Name`, and shows the
//! column as the file writes it; DataFusion folds unquoted names to lower
//! case and matches them exactly, so `Name` could only be named as
//! `"Name"`. Before a statement is planned, every column reference that
//! names a column of the tables it reads (files, views, tables) in another
//! case is written as that column's name, quoted ([`ColumnSpellings`]).
//!
//! A name the tables hold in two spellings (a Parquet file's `Name` and
//! `name`, which DuckDB reads as `Name` and `name_1`) means the first, in
//! any case, as in DuckDB. An ORDER BY name that is one of its SELECT's
//! aliases stays the alias.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use datafusion::arrow::datatypes::Schema;
use datafusion::sql::parser::{CopyToSource, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{
    Expr, Ident, ObjectName, Query, SelectItem, SetExpr, VisitMut, VisitorMut,
};

/// The column names of a statement's tables: each lower-case name's
/// first spelling.
#[derive(Debug, Default)]
pub(crate) struct ColumnSpellings(HashMap<String, String>);

impl ColumnSpellings {
    /// The names of `schemas`' columns, in order.
    pub(crate) fn of<'a>(schemas: impl IntoIterator<Item = &'a Schema>) -> Self {
        let mut spellings = Self::default();
        for field in schemas.into_iter().flat_map(|s| s.fields().iter()) {
            let name = field.name();
            spellings
                .0
                .entry(name.to_lowercase())
                .or_insert_with(|| name.clone());
        }
        spellings
    }

    /// The column `ident` names, quoted, when the tables write it in
    /// another case than DataFusion reads it (unquoted names in lower
    /// case); `None` when it is read as written, or is no column of theirs.
    fn resolve(&self, ident: &Ident) -> Option<Ident> {
        let read_as = match ident.quote_style {
            Some(_) => ident.value.clone(),
            None => ident.value.to_lowercase(),
        };
        let spelling = self.0.get(&ident.value.to_lowercase())?;
        if *spelling == read_as {
            return None;
        }
        Some(Ident {
            value: spelling.clone(),
            quote_style: Some('"'),
            span: ident.span,
        })
    }

    /// Writes `statement`'s column references in the case the tables
    /// write their columns.
    pub(crate) fn apply(&self, statement: &mut DFStatement) {
        if self.0.is_empty() {
            return;
        }
        let mut visitor = Respell {
            spellings: self,
            aside: Vec::new(),
            aliases: HashSet::new(),
        };
        visit_sql(statement, &mut visitor);
    }
}

/// The relations `statement` names (tables, views, the file references
/// replaced by table names), for their schemas.
pub(crate) fn relations(statement: &mut DFStatement) -> Vec<ObjectName> {
    struct Names(Vec<ObjectName>);
    impl VisitorMut for Names {
        type Break = ();
        fn pre_visit_relation(&mut self, relation: &mut ObjectName) -> ControlFlow<()> {
            self.0.push(relation.clone());
            ControlFlow::Continue(())
        }
    }
    let mut names = Names(Vec::new());
    visit_sql(statement, &mut names);
    names.0
}

/// Visits the SQL of a DataFusion statement: a statement, an EXPLAIN's,
/// a COPY's query.
pub(crate) fn visit_sql<V: VisitorMut>(statement: &mut DFStatement, visitor: &mut V) {
    match statement {
        DFStatement::Statement(inner) => {
            let _ = inner.visit(visitor);
        }
        DFStatement::Explain(explain) => visit_sql(&mut explain.statement, visitor),
        DFStatement::CopyTo(copy) => {
            if let CopyToSource::Query(query) = &mut copy.source {
                let _ = query.visit(visitor);
            }
        }
        DFStatement::CreateExternalTable(_) | DFStatement::Reset(_) => {}
    }
}

struct Respell<'a> {
    spellings: &'a ColumnSpellings,
    /// ORDER BYs taken out of their queries while the rest is visited.
    aside: Vec<Option<datafusion::sql::sqlparser::ast::OrderBy>>,
    /// The aliases an ORDER BY being respelled leaves alone.
    aliases: HashSet<String>,
}

impl Respell<'_> {
    fn respell(&self, ident: &mut Ident) {
        if self.aliases.contains(&ident.value.to_lowercase()) {
            return;
        }
        if let Some(column) = self.spellings.resolve(ident) {
            *ident = column;
        }
    }
}

impl VisitorMut for Respell<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        // An ORDER BY may name its SELECT's aliases: respelled apart,
        // with those left alone, and put back once the query is done.
        let mut order_by = query.order_by.take();
        if let Some(order_by) = &mut order_by {
            let mut inner = Respell {
                spellings: self.spellings,
                aside: Vec::new(),
                aliases: aliases(&query.body),
            };
            let _ = order_by.visit(&mut inner);
        }
        self.aside.push(order_by);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        query.order_by = self.aside.pop().flatten();
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::Identifier(ident) => self.respell(ident),
            Expr::CompoundIdentifier(parts) => {
                if let Some(last) = parts.last_mut() {
                    self.respell(last);
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// The aliases of `body`'s SELECT (its first, for a set operation), in
/// lower case.
fn aliases(body: &SetExpr) -> HashSet<String> {
    match body {
        SetExpr::Select(select) => select
            .projection
            .iter()
            .filter_map(|item| match item {
                SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.to_lowercase()),
                _ => None,
            })
            .collect(),
        SetExpr::SetOperation { left, .. } => aliases(left),
        SetExpr::Query(query) => aliases(&query.body),
        _ => HashSet::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field};
    use datafusion::sql::parser::DFParser;

    fn respelled(sql: &str, columns: &[&str]) -> String {
        let schema = Schema::new(
            columns
                .iter()
                .map(|c| Field::new(*c, DataType::Int64, true))
                .collect::<Vec<_>>(),
        );
        let mut statement = DFParser::parse_sql(sql).unwrap().pop_front().unwrap();
        ColumnSpellings::of([&schema]).apply(&mut statement);
        statement.to_string()
    }

    #[test]
    fn names_in_another_case_become_the_columns_spelling() {
        assert_eq!(
            respelled("SELECT name, NAME, \"name\", t.nAmE FROM t", &["Name"]),
            "SELECT \"Name\", \"Name\", \"Name\", t.\"Name\" FROM t"
        );
        // Exact names, and names no table holds, are left as written.
        assert_eq!(
            respelled("SELECT id, x FROM t WHERE Id > 1", &["id"]),
            "SELECT id, x FROM t WHERE Id > 1"
        );
        // Two spellings: the first, however written (DuckDB reads the
        // second as name_1).
        assert_eq!(
            respelled("SELECT name, \"name\", Name FROM t", &["Name", "name"]),
            "SELECT \"Name\", \"Name\", \"Name\" FROM t"
        );
        // An ORDER BY naming an alias orders by it; a column by the column.
        assert_eq!(
            respelled(
                "SELECT age AS name FROM t ORDER BY name, AGE",
                &["Name", "Age"]
            ),
            "SELECT \"Age\" AS name FROM t ORDER BY name, \"Age\""
        );
    }
}
