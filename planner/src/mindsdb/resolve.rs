//! Table references under a database — ``db.`folder/file.csv` ``,
//! ``db.`logs/*.csv` ``, `db.files` — found in a statement's AST and
//! replaced by placeholder tables, as `FROM 's3://...'` is: an object key
//! becomes the same scan request a URL does (so LIMIT, projection and
//! filters push down alike), signed by the database's credentials.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, GroupByExpr, Ident, LimitClause, ObjectName, ObjectNamePart, Query, SchemaName, Select,
    SetExpr, Statement as SqlStatement, TableFactor, TableObject, Value, VisitMut, VisitorMut,
    visit_expressions,
};
use s3sql_formats::detect_from_path;

use s3sql_s3_client::{ObjectUrl, S3Client};

use super::database::Databases;
use super::error::DatabaseError;
use crate::error::{PlannerError, Result};
use crate::scan::request::{OptionValue, ScanKind, ScanRequest, stand_in};

/// Whether `url`, a database's key holding glob characters (`*`, `?`,
/// `[`, `\\`, `{`), names an object as written: MindsDB reads a key in
/// backticks as the key, so `x[1].csv` that exists is that object, not a
/// pattern matching `x1.csv`. One HEAD, only for such keys; a key naming
/// no object (404) stays a glob. A HEAD that fails otherwise (503 past the
/// retries, 403, a timeout) is an error: read as a pattern, the key gave
/// another object's rows whenever its HEAD was throttled (review-10g #8).
pub(crate) async fn names_an_object(client: &S3Client, url: &str) -> Result<bool> {
    let Ok(parsed) = ObjectUrl::parse(url) else {
        return Ok(false);
    };
    if !parsed.key().contains(['*', '?', '[', '\\', '{']) {
        return Ok(false);
    }
    match client.head_object(parsed.bucket(), parsed.key()).await {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(source) => Err(DatabaseError::KeyOrPattern {
            url: parsed.shown().to_string(),
            source,
        }
        .into()),
    }
}

/// Whether `key`, the second part of a two-part name whose first part is
/// no database, was written as a database's object: in backticks and with
/// a '/', a glob's `*` or a data file's extension (no DataFusion table is
/// named so), so the error can name the missing database rather than
/// DataFusion's `datafusion.db.key`.
fn looks_like_a_key(key: &Ident) -> bool {
    key.quote_style == Some('`')
        && (key.value.contains(['/', '*']) || detect_from_path(&key.value).is_some())
}

/// The error for `db.key` when `db` is no database but `key` was written
/// as a database's object; `None` otherwise, and when `db` is a schema of
/// the session (a user's table may be named like a file).
pub(crate) fn missing_database(name: &ObjectName, databases: &Databases) -> Option<PlannerError> {
    match name.0.as_slice() {
        [
            ObjectNamePart::Identifier(db),
            ObjectNamePart::Identifier(key),
        ] if looks_like_a_key(key) && !databases.is_schema(&db.value) => Some(
            DatabaseError::NotFound {
                name: db.value.to_ascii_lowercase(),
            }
            .into(),
        ),
        _ => None,
    }
}

/// `EXPLAIN INSERT INTO db.`key``: an INSERT into a database's object is
/// a rewrite of the object, not a DataFusion plan to show, so it is
/// refused; into a missing database, that database is named.
pub(crate) fn refuse_explained_insert(
    statement: &SqlStatement,
    databases: &Databases,
) -> Result<()> {
    let SqlStatement::Insert(insert) = statement else {
        return Ok(());
    };
    let TableObject::TableName(table) = &insert.table else {
        return Ok(());
    };
    if let Some(unquoted) = super::insert::unquoted_key(table, databases)? {
        return Err(unquoted);
    }
    let [
        ObjectNamePart::Identifier(db),
        ObjectNamePart::Identifier(key),
    ] = table.0.as_slice()
    else {
        return Ok(());
    };
    match databases.find(&db.value)? {
        Some(database) => Err(DatabaseError::Insert {
            table: format!("{}.`{}`", database.name(), key.value),
            message: "EXPLAIN has no plan to show for it (an INSERT rewrites the object); run the INSERT itself".into(),
        }
        .into()),
        None => missing_database(table, databases).map_or(Ok(()), Err),
    }
}

/// The table of a database's objects.
pub(crate) const FILES: &str = "files";

/// The option of a `files` scan request: how many of the rows it gives
/// first OFFSET drops.
pub(crate) const OFFSET: &str = "offset";

/// The rows OFFSET drops of `query`, when they are the first rows its one
/// table gives: a plain `SELECT` from one table (no join, GROUP BY,
/// HAVING, DISTINCT, ORDER BY, window, QUALIFY) with a literal OFFSET,
/// and no expression that turns a row into several or into a join (a
/// subquery, `unnest`) or looks at other rows (a window function). An
/// aggregate gives one row, which any OFFSET drops whole. Whether the
/// table applies every filter itself, so none drops rows between it and
/// OFFSET, the table decides.
fn offset_rows(query: &Query) -> Option<i64> {
    let Some(LimitClause::LimitOffset {
        offset: Some(offset),
        limit_by,
        ..
    }) = &query.limit_clause
    else {
        return None;
    };
    let skipped = match &offset.value {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse::<i64>().ok().filter(|&n| n > 0)?,
            _ => return None,
        },
        _ => return None,
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let plain = limit_by.is_empty()
        && query.order_by.is_none()
        && query.fetch.is_none()
        && query.pipe_operators.is_empty()
        && plain_select(select);
    plain.then_some(skipped)
}

/// Whether `select` reads one table and keeps its rows in order, one
/// output row per row (see [`offset_rows`]).
fn plain_select(select: &Select) -> bool {
    let Select {
        distinct,
        top,
        into,
        from,
        lateral_views,
        prewhere,
        connect_by,
        group_by,
        cluster_by,
        distribute_by,
        sort_by,
        having,
        named_window,
        qualify,
        value_table_mode,
        select_modifiers,
        projection,
        selection,
        ..
    } = select;
    let one_table = matches!(from.as_slice(), [table] if table.joins.is_empty());
    let grouped =
        !matches!(group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty());
    let plain = one_table
        && !grouped
        && distinct.is_none()
        && top.is_none()
        && into.is_none()
        && lateral_views.is_empty()
        && prewhere.is_none()
        && connect_by.is_empty()
        && cluster_by.is_empty()
        && distribute_by.is_empty()
        && sort_by.is_empty()
        && having.is_none()
        && named_window.is_empty()
        && qualify.is_none()
        && value_table_mode.is_none()
        && select_modifiers.is_none();
    if !plain {
        return false;
    }
    let reorders = |expr: &Expr| match expr {
        Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => true,
        Expr::Function(f) => {
            f.over.is_some()
                || f.name
                    .0
                    .last()
                    .and_then(ObjectNamePart::as_ident)
                    .is_some_and(|i| i.value.eq_ignore_ascii_case("unnest"))
        }
        _ => false,
    };
    let found = visit_expressions(projection, |e| {
        if reorders(e) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .is_break()
        || visit_expressions(selection, |e| {
            if reorders(e) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .is_break();
    !found
}

/// Rewrites every reference to a database's object or `files` table in
/// `statement`, returning the scans they stand for.
pub(crate) fn resolve<V: VisitMut>(
    statement: &mut V,
    databases: &Databases,
    next_id: &mut dyn FnMut() -> u64,
) -> Result<Vec<ScanRequest>> {
    let mut resolver = Resolver {
        databases,
        next_id,
        found: Vec::new(),
    };
    match statement.visit(&mut resolver) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(resolver.found),
    }
}

struct Resolver<'a> {
    databases: &'a Databases,
    next_id: &'a mut dyn FnMut() -> u64,
    found: Vec<ScanRequest>,
}

impl VisitorMut for Resolver<'_> {
    type Break = PlannerError;

    /// `CREATE SCHEMA` of a database's name is refused: `name.table`
    /// would mean two things (and CREATE DATABASE refuses a schema's).
    fn pre_visit_statement(&mut self, statement: &mut SqlStatement) -> ControlFlow<PlannerError> {
        let SqlStatement::CreateSchema {
            schema_name: SchemaName::Simple(name) | SchemaName::NamedAuthorization(name, _),
            ..
        } = statement
        else {
            return ControlFlow::Continue(());
        };
        let Some(ObjectNamePart::Identifier(schema)) = name.0.last() else {
            return ControlFlow::Continue(());
        };
        match self.databases.find(&schema.value) {
            Ok(None) => ControlFlow::Continue(()),
            Ok(Some(_)) => ControlFlow::Break(
                DatabaseError::IsDatabase {
                    name: schema.value.to_ascii_lowercase(),
                }
                .into(),
            ),
            Err(e) => ControlFlow::Break(e),
        }
    }

    /// `SELECT ... FROM db.files [WHERE ...] [LIMIT n] OFFSET m`: the
    /// files table is told that the first `m` rows it gives are dropped,
    /// so it fetches no content for them ([`offset_rows`] says when that
    /// holds).
    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<PlannerError> {
        let Some(skipped) = offset_rows(query) else {
            return ControlFlow::Continue(());
        };
        let SetExpr::Select(select) = query.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        let factor = &mut select.from[0].relation;
        match self.request(factor) {
            Ok(Some(mut request)) if request.kind == ScanKind::DatabaseFiles => {
                request
                    .options
                    .push((OFFSET.to_owned(), OptionValue::Int(skipped)));
                let request = stand_in(factor, request, self.next_id);
                self.found.push(request);
                ControlFlow::Continue(())
            }
            Ok(_) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<PlannerError> {
        match self.request(factor) {
            Ok(Some(request)) => {
                let request = stand_in(factor, request, self.next_id);
                self.found.push(request);
                ControlFlow::Continue(())
            }
            Ok(None) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }
}

impl Resolver<'_> {
    /// The scan `factor` asks for, when it names a database's object.
    fn request(&self, factor: &TableFactor) -> Result<Option<ScanRequest>> {
        let TableFactor::Table {
            name, args: None, ..
        } = factor
        else {
            return Ok(None);
        };
        let parts: Vec<_> = name
            .0
            .iter()
            .map(|p| match p {
                ObjectNamePart::Identifier(ident) => Some(ident),
                _ => None,
            })
            .collect::<Option<_>>()
            .unwrap_or_default();
        let [first, rest @ ..] = parts.as_slice() else {
            return Ok(None);
        };
        // A schema of the session keeps its tables: `x.t` is DataFusion's
        // when `x` is one (a database stored since by another process may
        // bear its name).
        if rest.is_empty() || self.databases.is_session_name(&first.value) {
            return Ok(None);
        }
        let Some(database) = self.databases.find(&first.value)? else {
            return missing_database(name, self.databases).map_or(Ok(None), Err);
        };
        let key = match rest {
            // `db.'key'`: a string, not a name (MindsDB refuses it too).
            [key] if key.quote_style == Some('\'') => {
                return Err(DatabaseError::Unquoted {
                    database: first.value.clone(),
                    key: key.value.clone(),
                }
                .into());
            }
            [key] => key.value.clone(),
            _ => {
                // `db.folder.file.csv`: sqlparser read a key's dots as parts.
                return Err(DatabaseError::Unquoted {
                    database: first.value.clone(),
                    key: rest
                        .iter()
                        .map(|i| i.value.as_str())
                        .collect::<Vec<_>>()
                        .join("."),
                }
                .into());
            }
        };
        // Without a bucket parameter the key begins with the bucket; one
        // naming the bucket alone is told in the database's words, where
        // the scan's advice was a URL without its credentials (review-10h #8).
        if database.bucket().is_none()
            && let (bucket, "") = key.split_once('/').unwrap_or((key.as_str(), ""))
            && !bucket.is_empty()
            && !key.eq_ignore_ascii_case(FILES)
        {
            return Err(DatabaseError::BucketNotObject {
                database: database.name().to_owned(),
                bucket: bucket.to_owned(),
                key,
            }
            .into());
        }
        let (kind, urls) = if key.eq_ignore_ascii_case(FILES) {
            (ScanKind::DatabaseFiles, Vec::new())
        } else {
            (ScanKind::Files(None), vec![database.url(&key)])
        };
        Ok(Some(ScanRequest {
            function: "from".into(),
            kind,
            urls,
            options: Vec::new(),
            table: String::new(),
            database: Some(database.name().to_owned()),
        }))
    }
}
