//! Table references that name files — `FROM 's3://b/k.parquet'` (a
//! replacement scan) and `read_parquet([...], filename = true)` — found in a
//! statement's AST, taken out as [`ScanRequest`]s and replaced by the name
//! of a table the session registers for the statement.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, Ident, ObjectName, ObjectNamePart,
    TableAlias, TableFactor, UnaryOperator, Value, VisitMut, VisitorMut,
};

use crate::error::{PlannerError, Result};
use s3sql_formats::{FileFormat, detect_from_path};

pub(crate) use s3sql_formats::OptionValue;

/// What a table reference asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ScanKind {
    /// Files to read, in a format.
    Files(Option<FileFormat>),
    /// `glob('pattern')`: the matching URLs as a table.
    Glob,
    /// `duckdb_secrets()`: the secrets, redacted.
    Secrets,
    /// `which_secret(url, type)`: the secret that would serve a URL.
    WhichSecret,
    /// `db.files`: a database's objects, one row each.
    DatabaseFiles,
    /// `mindsdb_databases()`: `SHOW DATABASES` as a table.
    Databases,
}

/// One file-reading table reference.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScanRequest {
    /// The function as written (lowercase), or `from` for a replacement scan.
    pub function: String,
    /// What to produce.
    pub kind: ScanKind,
    /// URLs or glob patterns, in order.
    pub urls: Vec<String>,
    /// Named options, names lowercase.
    pub options: Vec<(String, OptionValue)>,
    /// The table name standing in for this reference in the rewritten AST.
    pub table: String,
    /// The database whose credentials sign its requests (``db.`key` ``),
    /// instead of the secret covering each URL.
    pub database: Option<String>,
}

impl ScanRequest {
    /// The value of option `name`.
    pub(crate) fn option(&self, name: &str) -> Option<&OptionValue> {
        self.options.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Option `name` as a boolean, if given.
    pub(crate) fn flag(&self, name: &str) -> Result<Option<bool>> {
        match self.option(name) {
            None => Ok(None),
            Some(OptionValue::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(PlannerError::argument(
                &self.function,
                format!("{name} takes true or false"),
            )),
        }
    }
}

/// The table functions that read files, and the format each implies.
const FILE_FUNCTIONS: [(&str, Option<FileFormat>); 8] = [
    ("read_parquet", Some(FileFormat::Parquet)),
    ("parquet_scan", Some(FileFormat::Parquet)),
    ("read_csv", Some(FileFormat::Csv)),
    ("read_csv_auto", Some(FileFormat::Csv)),
    ("read_json", Some(FileFormat::Json)),
    ("read_json_auto", Some(FileFormat::Json)),
    ("read_ndjson", Some(FileFormat::Json)),
    ("read_ndjson_auto", Some(FileFormat::Json)),
];

/// Whether a quoted table name is a file to read: a URL, or a path with a
/// file extension we read.
fn is_file_reference(name: &str) -> bool {
    name.contains("://") || detect_from_path(name).is_some()
}

/// Rewrites every file-reading table reference in `statement` to a
/// placeholder table, returning what each asked for. `next_id` numbers the
/// placeholders so they stay unique within the session.
pub(crate) fn extract<V: VisitMut>(
    statement: &mut V,
    next_id: &mut dyn FnMut() -> u64,
) -> Result<Vec<ScanRequest>> {
    let mut rewriter = Rewriter {
        next_id,
        found: Vec::new(),
    };
    match statement.visit(&mut rewriter) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(rewriter.found),
    }
}

struct Rewriter<'a> {
    next_id: &'a mut dyn FnMut() -> u64,
    found: Vec<ScanRequest>,
}

impl VisitorMut for Rewriter<'_> {
    type Break = PlannerError;

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<PlannerError> {
        let TableFactor::Table { name, args, .. } = factor else {
            return ControlFlow::Continue(());
        };
        let request = match (single_part(name), args.as_ref()) {
            (Some((ident, _)), Some(call)) => {
                let function = ident.to_ascii_lowercase();
                let kind = if function == "glob" {
                    ScanKind::Glob
                } else if function == "duckdb_secrets" {
                    ScanKind::Secrets
                } else if function == "mindsdb_databases" {
                    ScanKind::Databases
                } else if function == "which_secret" {
                    ScanKind::WhichSecret
                } else if let Some((_, kind)) = FILE_FUNCTIONS.iter().find(|(f, _)| *f == function)
                {
                    ScanKind::Files(*kind)
                } else {
                    return ControlFlow::Continue(());
                };
                match from_call(&function, kind, &call.args) {
                    Ok(r) => r,
                    Err(e) => return ControlFlow::Break(e),
                }
            }
            (Some((text, Some('\''))), None) | (Some((text, Some('"'))), None)
                if is_file_reference(&text) =>
            {
                ScanRequest {
                    function: "from".into(),
                    kind: ScanKind::Files(None),
                    urls: vec![text],
                    options: Vec::new(),
                    table: String::new(),
                    database: None,
                }
            }
            _ => return ControlFlow::Continue(()),
        };
        self.found.push(stand_in(factor, request, self.next_id));
        ControlFlow::Continue(())
    }
}

/// Puts a placeholder table in place of `factor` (a table reference) and
/// returns `request` naming it; without an alias of its own the reference
/// keeps DuckDB's name for it ([`default_alias`]).
pub(crate) fn stand_in(
    factor: &mut TableFactor,
    request: ScanRequest,
    next_id: &mut dyn FnMut() -> u64,
) -> ScanRequest {
    let table = format!("__s3sql_scan_{}", next_id());
    if let TableFactor::Table {
        name, args, alias, ..
    } = factor
    {
        if alias.is_none() {
            *alias = Some(TableAlias {
                explicit: true,
                name: Ident::new(default_alias(&request)),
                columns: Vec::new(),
                at: None,
            });
        }
        *name = ObjectName::from(vec![Ident::new(table.clone())]);
        *args = None;
    }
    ScanRequest { table, ..request }
}

/// The one identifier of a one-part name, with its quote character.
fn single_part(name: &ObjectName) -> Option<(String, Option<char>)> {
    match name.0.as_slice() {
        [ObjectNamePart::Identifier(ident)] => Some((ident.value.clone(), ident.quote_style)),
        _ => None,
    }
}

/// DuckDB names a replacement scan after the file's stem, a glob's after
/// the pattern as written (two globs in a join stay apart), and a table
/// function after itself.
fn default_alias(request: &ScanRequest) -> String {
    if request.kind == ScanKind::DatabaseFiles {
        return "files".to_owned();
    }
    if request.function != "from" {
        return request.function.clone();
    }
    let url = request.urls.first().map(String::as_str).unwrap_or_default();
    if url.contains(['*', '?', '[']) {
        return url.to_owned();
    }
    let file = url.rsplit('/').next().unwrap_or(url);
    file.split('.').next().unwrap_or(file).to_owned()
}

fn from_call(function: &str, kind: ScanKind, args: &[FunctionArg]) -> Result<ScanRequest> {
    if matches!(
        kind,
        ScanKind::Secrets | ScanKind::WhichSecret | ScanKind::Databases
    ) {
        return from_secret_call(function, kind, args);
    }
    let mut urls = None;
    let mut options = Vec::new();
    for arg in args {
        let (name, expr) = match arg {
            FunctionArg::Named {
                name,
                arg: FunctionArgExpr::Expr(e),
                ..
            } => (Some(name.value.to_ascii_lowercase()), e),
            FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            })) if matches!(**left, Expr::Identifier(_)) => {
                let Expr::Identifier(ident) = &**left else {
                    continue;
                };
                (Some(ident.value.to_ascii_lowercase()), &**right)
            }
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => (None, e),
            _ => {
                return Err(PlannerError::argument(
                    function,
                    "arguments are a file URL or a list of them, then name = value options",
                ));
            }
        };
        let value = option_value(expr).ok_or_else(|| {
            PlannerError::argument(
                function,
                format!(
                    "{}: give a string, a boolean, an integer or a list of strings",
                    name.as_deref().unwrap_or("the file argument")
                ),
            )
        })?;
        match (name, value) {
            (None, _) if urls.is_some() => {
                return Err(PlannerError::argument(
                    function,
                    "only one positional argument (a URL or a list of URLs); write options as name = value",
                ));
            }
            (None, OptionValue::Str(url)) => urls = Some(vec![url]),
            (None, OptionValue::List(list)) => {
                urls = Some(
                    list.into_iter()
                        .map(|v| match v {
                            OptionValue::Str(s) => Ok(s),
                            _ => Err(PlannerError::argument(
                                function,
                                "the list of files holds strings only",
                            )),
                        })
                        .collect::<Result<Vec<_>>>()?,
                )
            }
            (None, _) => {
                return Err(PlannerError::argument(
                    function,
                    "the first argument is a file URL ('s3://bucket/key') or a list of them",
                ));
            }
            (Some(name), value) => options.push((name, value)),
        }
    }
    let urls = urls.ok_or_else(|| {
        PlannerError::argument(
            function,
            "give the file URL, e.g. 's3://bucket/data/*.parquet'",
        )
    })?;
    if urls.is_empty() {
        return Err(PlannerError::argument(
            function,
            "the list of files is empty",
        ));
    }
    Ok(ScanRequest {
        function: function.to_owned(),
        kind,
        urls,
        options,
        table: String::new(),
        database: None,
    })
}

/// A literal as an option value: a string, a bare word, a boolean, an
/// integer (possibly negative), a list or a struct of them.
pub(crate) fn option_value(expr: &Expr) -> Option<OptionValue> {
    match expr {
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match option_value(expr)? {
            OptionValue::Int(i) => Some(OptionValue::Int(-i)),
            _ => None,
        },
        Expr::Value(v) => match &v.value {
            Value::Boolean(b) => Some(OptionValue::Bool(*b)),
            Value::Number(n, _) => n.parse().ok().map(OptionValue::Int),
            other => other.clone().into_string().map(OptionValue::Str),
        },
        Expr::Identifier(ident) => Some(OptionValue::Str(ident.value.clone())),
        Expr::Array(array) => array
            .elem
            .iter()
            .map(option_value)
            .collect::<Option<Vec<_>>>()
            .map(OptionValue::List),
        Expr::Dictionary(fields) => fields
            .iter()
            .map(|f| Some((f.key.value.clone(), option_value(&f.value)?)))
            .collect::<Option<Vec<_>>>()
            .map(OptionValue::Struct),
        _ => None,
    }
}

/// `duckdb_secrets()` and `mindsdb_databases()` take nothing;
/// `which_secret(url, type)` two strings.
fn from_secret_call(function: &str, kind: ScanKind, args: &[FunctionArg]) -> Result<ScanRequest> {
    let strings = args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => match option_value(e) {
                Some(OptionValue::Str(s)) => Some(s),
                _ => None,
            },
            _ => None,
        })
        .collect::<Option<Vec<String>>>();
    let wanted = if kind == ScanKind::WhichSecret { 2 } else { 0 };
    let urls = strings.filter(|s| s.len() == wanted).ok_or_else(|| {
        PlannerError::argument(
            function,
            if wanted == 0 {
                "takes no arguments"
            } else {
                "takes a URL and a secret type, e.g. which_secret('s3://bucket/key', 's3')"
            },
        )
    })?;
    Ok(ScanRequest {
        function: function.to_owned(),
        kind,
        urls,
        options: Vec::new(),
        table: String::new(),
        database: None,
    })
}
