//! The names DuckDB gives the unaliased items of a SELECT: the expression
//! as DuckDB prints it (`sum(a)`, `(a + 1)`, `CAST(a AS "DOUBLE")`,
//! `count_star()`), where DataFusion names them by its plan (`sum(s1.a)`,
//! `s1.a + Int64(1)`, a cast named after its column). Scripts read these
//! names (`jq '.[]."sum(a)"'`, a CSV header, a table's columns), so every
//! SELECT's unaliased expressions are aliased with them before planning
//! (review-8e #9). Constructs DuckDB prints in ways of its own that are
//! not covered here keep the SQL text as written.

mod keywords;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, CastKind, DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentClause, FunctionArguments, Ident, ObjectName, OrderBy, OrderByExpr,
    OrderByKind, Query, Select, SelectItem, SetExpr, UnaryOperator, Value,
};

/// Aliases every unaliased item of `items` that is not a column reference
/// or a wildcard with DuckDB's name for it.
pub(crate) fn name_items(items: &mut [SelectItem]) {
    for item in items {
        let SelectItem::UnnamedExpr(expr) = item else {
            continue;
        };
        if matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
            continue;
        }
        let alias = Ident::with_quote('"', text(expr));
        let expr = std::mem::replace(expr, Expr::value(Value::Null));
        *item = SelectItem::ExprWithAlias { expr, alias };
    }
}

/// ORDER BY keys repeating an aliased item of the query's SELECT refer to
/// the item by its alias, as DuckDB binds them: DataFusion matches a
/// SELECT DISTINCT's `ORDER BY a + 1` to an unaliased item only. A key
/// naming an output column orders by that column, its name matched in
/// any case as DuckDB matches names, quoted or not (`a AS x, b AS a ...
/// ORDER BY a` sorts by `b`, review-s23 F1; `b AS "A" ... ORDER BY a` by
/// `b`, review-s24 F1).
pub(crate) fn order_by_aliases(query: &mut Query) {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return;
    };
    let Some(OrderBy {
        kind: OrderByKind::Expressions(keys),
        ..
    }) = &mut query.order_by
    else {
        return;
    };
    for key in keys {
        if let Expr::Identifier(name) = &key.expr
            && let Some(output) = select.projection.iter().find_map(|i| output_named(i, name))
        {
            key.expr = Expr::Identifier(output.clone());
            continue;
        }
        let alias = select.projection.iter().find_map(|item| match item {
            SelectItem::ExprWithAlias { expr, alias } if *expr == key.expr => Some(alias),
            _ => None,
        });
        if let Some(alias) = alias {
            key.expr = Expr::Identifier(alias.clone());
        }
    }
}

/// `ORDER BY ALL` orders by every item of the SELECT from left to right,
/// as DuckDB does: DataFusion refuses it where an item is not a column
/// (`count(*)`, `a % 2`). The items are given by position (`ORDER BY 1,
/// 2`), which DataFusion binds to the items whatever they are; a set
/// operation's items are its first SELECT's (DataFusion ignored the ALL
/// there, review-s24 F2). A SELECT with a wildcard is left to DataFusion,
/// which expands it.
pub(crate) fn order_by_all(query: &mut Query) {
    let Some(select) = leftmost(&query.body) else {
        return;
    };
    let wildcard = select.projection.iter().any(|item| {
        matches!(
            item,
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
        )
    });
    let items = select.projection.len();
    let Some(OrderBy { kind, .. }) = &mut query.order_by else {
        return;
    };
    let OrderByKind::All(options) = kind else {
        return;
    };
    if wildcard {
        return;
    }
    let keys = (1..=items)
        .map(|position| OrderByExpr {
            expr: Expr::value(Value::Number(position.to_string(), false)),
            options: *options,
            with_fill: None,
        })
        .collect();
    *kind = OrderByKind::Expressions(keys);
}

/// The first SELECT of `body`, whose items name a set operation's columns.
fn leftmost(body: &SetExpr) -> Option<&Select> {
    match body {
        SetExpr::Select(select) => Some(select),
        SetExpr::SetOperation { left, .. } => leftmost(left),
        SetExpr::Query(query) => leftmost(&query.body),
        _ => None,
    }
}

/// The name of `item`'s output column when it is `name` in any case, as
/// DuckDB matches an ORDER BY name, quoted or not.
fn output_named<'a>(item: &'a SelectItem, name: &Ident) -> Option<&'a Ident> {
    let output = match item {
        SelectItem::ExprWithAlias { alias, .. } => alias,
        SelectItem::UnnamedExpr(Expr::Identifier(column)) => column,
        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => parts.last()?,
        _ => return None,
    };
    output
        .value
        .eq_ignore_ascii_case(&name.value)
        .then_some(output)
}

/// `expr` as DuckDB 1.5.5 prints it.
fn text(expr: &Expr) -> String {
    match expr {
        Expr::Identifier(ident) => identifier(ident),
        Expr::CompoundIdentifier(parts) => {
            parts.iter().map(identifier).collect::<Vec<_>>().join(".")
        }
        Expr::Nested(inner) => text(inner),
        Expr::Value(value) => literal(&value.value).unwrap_or_else(|| expr.to_string()),
        Expr::BinaryOp {
            op: op @ (BinaryOperator::And | BinaryOperator::Or),
            ..
        } => {
            let mut operands = Vec::new();
            conjuncts(expr, op, &mut operands);
            let words = operands.iter().map(|e| text(e)).collect::<Vec<_>>();
            format!("({})", words.join(&format!(" {op} ")))
        }
        Expr::BinaryOp { left, op, right } => {
            format!("({} {} {})", text(left), operator(op), text(right))
        }
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr: inner,
        } => match inner.as_ref() {
            Expr::Value(v) if matches!(v.value, Value::Number(..)) => format!("-{}", text(inner)),
            _ => format!("-({})", text(inner)),
        },
        Expr::UnaryOp {
            op: UnaryOperator::Plus,
            expr: inner,
        } => format!("+({})", text(inner)),
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr: inner,
        } => not(inner),
        Expr::IsNull(inner) => format!("({} IS NULL)", text(inner)),
        Expr::IsNotNull(inner) => format!("({} IS NOT NULL)", text(inner)),
        Expr::IsDistinctFrom(a, b) => format!("({} IS DISTINCT FROM {})", text(a), text(b)),
        Expr::IsNotDistinctFrom(a, b) => {
            format!("({} IS NOT DISTINCT FROM {})", text(a), text(b))
        }
        Expr::InList {
            expr: inner,
            list,
            negated,
        } => format!(
            "({} {}IN ({}))",
            text(inner),
            if *negated { "NOT " } else { "" },
            list.iter().map(text).collect::<Vec<_>>().join(", ")
        ),
        Expr::Between {
            expr: inner,
            negated,
            low,
            high,
        } => {
            let between = format!("({} BETWEEN {} AND {})", text(inner), text(low), text(high));
            match negated {
                true => format!("(NOT {between})"),
                false => between,
            }
        }
        Expr::Like {
            negated,
            any: false,
            expr: inner,
            pattern,
            escape_char: None,
        } => matched(inner, if *negated { "!~~" } else { "~~" }, pattern),
        Expr::ILike {
            negated,
            any: false,
            expr: inner,
            pattern,
            escape_char: None,
        } => matched(inner, if *negated { "!~~*" } else { "~~*" }, pattern),
        Expr::SimilarTo {
            negated,
            expr: inner,
            pattern,
            escape_char: None,
        } => {
            let call = format!("regexp_full_match({}, {})", text(inner), text(pattern));
            match negated {
                true => format!("(NOT {call})"),
                false => call,
            }
        }
        Expr::Cast {
            kind,
            expr: inner,
            data_type,
            array: false,
            format: None,
        } => {
            let cast = match kind {
                CastKind::TryCast | CastKind::SafeCast => "TRY_CAST",
                CastKind::Cast | CastKind::DoubleColon => "CAST",
            };
            format!(
                "{cast}({} AS {})",
                text(inner),
                type_name(&data_type.to_string())
            )
        }
        Expr::TypedString(typed) => match literal(&typed.value.value) {
            Some(value) => format!(
                "CAST({value} AS {})",
                type_name(&typed.data_type.to_string())
            ),
            None => expr.to_string(),
        },
        Expr::Interval(interval)
            if interval.leading_field.is_none() && interval.last_field.is_none() =>
        {
            match interval.value.as_ref() {
                Expr::Value(v) if literal(&v.value).is_some_and(|t| t.starts_with('\'')) => {
                    format!("CAST({} AS INTERVAL)", text(&interval.value))
                }
                _ => expr.to_string(),
            }
        }
        Expr::Function(function) => call(function).unwrap_or_else(|| expr.to_string()),
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            let mut out = String::from("CASE ");
            for when in conditions {
                let condition = match operand {
                    Some(operand) => format!("({} = {})", text(operand), text(&when.condition)),
                    None => text(&when.condition),
                };
                out.push_str(&format!(
                    " WHEN ({condition}) THEN ({})",
                    text(&when.result)
                ));
            }
            let otherwise = else_result
                .as_deref()
                .map_or_else(|| "NULL".to_owned(), text);
            out.push_str(&format!(" ELSE {otherwise} END"));
            out
        }
        Expr::Subquery(query) => format!("({query})"),
        Expr::Exists {
            subquery,
            negated: false,
        } => format!("EXISTS({subquery})"),
        _ => expr.to_string(),
    }
}

/// The operands of a chain of one AND or OR, which DuckDB prints flat:
/// `((a > 1) AND (a < 3) AND (a != 2))`.
fn conjuncts<'e>(expr: &'e Expr, op: &BinaryOperator, out: &mut Vec<&'e Expr>) {
    match expr {
        Expr::BinaryOp {
            left,
            op: inner,
            right,
        } if inner == op => {
            conjuncts(left, op, out);
            conjuncts(right, op, out);
        }
        Expr::Nested(inner) if matches!(inner.as_ref(), Expr::BinaryOp { op: o, .. } if o == op) => {
            conjuncts(inner, op, out)
        }
        _ => out.push(expr),
    }
}

fn matched(expr: &Expr, operator: &str, pattern: &Expr) -> String {
    format!("({} {operator} {})", text(expr), text(pattern))
}

/// DuckDB's text of an operator: `!=` for `<>`, otherwise as SQL writes it.
fn operator(op: &BinaryOperator) -> String {
    match op {
        BinaryOperator::NotEq => "!=".to_owned(),
        other => other.to_string(),
    }
}

/// `NOT expr`: DuckDB folds a NOT of a comparison into the opposite
/// comparison (`NOT (a > 1)` is `(a <= 1)`).
fn not(expr: &Expr) -> String {
    let mut inner = expr;
    while let Expr::Nested(nested) = inner {
        inner = nested;
    }
    let opposite = |op: &BinaryOperator| match op {
        BinaryOperator::Eq => Some(BinaryOperator::NotEq),
        BinaryOperator::NotEq => Some(BinaryOperator::Eq),
        BinaryOperator::Lt => Some(BinaryOperator::GtEq),
        BinaryOperator::LtEq => Some(BinaryOperator::Gt),
        BinaryOperator::Gt => Some(BinaryOperator::LtEq),
        BinaryOperator::GtEq => Some(BinaryOperator::Lt),
        _ => None,
    };
    match inner {
        Expr::BinaryOp { left, op, right } => match opposite(op) {
            Some(op) => format!("({} {} {})", text(left), operator(&op), text(right)),
            None => format!("(NOT {})", text(inner)),
        },
        _ => format!("(NOT {})", text(inner)),
    }
}

/// A literal as DuckDB prints it: strings single-quoted, `1e3` as
/// `1000.0`, booleans as the casts DuckDB's parser makes of them.
fn literal(value: &Value) -> Option<String> {
    let quoted = crate::statement::string_literal;
    Some(match value {
        Value::Number(n, _) if n.contains(['e', 'E']) => match n.parse::<f64>() {
            Ok(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.1}"),
            _ => n.clone(),
        },
        Value::Number(n, _) => n.clone(),
        Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) => quoted(s),
        Value::DollarQuotedString(s) => quoted(&s.value),
        Value::Boolean(true) => "CAST('t' AS BOOLEAN)".to_owned(),
        Value::Boolean(false) => "CAST('f' AS BOOLEAN)".to_owned(),
        Value::Null => "NULL".to_owned(),
        _ => return None,
    })
}

/// A function call: lower-case name (quoted if a keyword), DISTINCT,
/// arguments, ORDER BY, FILTER and OVER as DuckDB prints them; `count(*)`
/// is `count_star()` and `coalesce`/`ifnull` are `COALESCE`. `None` for
/// forms not covered.
fn call(function: &Function) -> Option<String> {
    let FunctionArguments::List(list) = &function.args else {
        return match function.args {
            FunctionArguments::None => Some(format!("{}()", function_name(&function.name))),
            _ => None,
        };
    };
    if !matches!(function.parameters, FunctionArguments::None)
        || function.null_treatment.is_some()
        || !function.within_group.is_empty()
    {
        return None;
    }
    let mut args = Vec::with_capacity(list.args.len());
    for arg in &list.args {
        match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => args.push(text(e)),
            FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => {}
            _ => return None,
        }
    }
    let name = match function_name(&function.name).as_str() {
        "count" if args.is_empty() => "count_star".to_owned(),
        "coalesce" | "ifnull" => "COALESCE".to_owned(),
        name => quoted_parts(name),
    };
    let distinct = match list.duplicate_treatment {
        Some(DuplicateTreatment::Distinct) => "DISTINCT ",
        _ => "",
    };
    let mut out = format!("{name}({distinct}{}", args.join(", "));
    for clause in &list.clauses {
        match clause {
            FunctionArgumentClause::OrderBy(order) => {
                let keys: Vec<String> = order.iter().map(|o| o.to_string()).collect();
                out.push_str(&format!(" ORDER BY {}", keys.join(", ")));
            }
            _ => return None,
        }
    }
    out.push(')');
    if let Some(filter) = &function.filter {
        out.push_str(&format!(" FILTER (WHERE {})", text(filter)));
    }
    if let Some(over) = &function.over {
        out.push_str(&format!(" OVER {over}"));
    }
    Some(out)
}

/// A function's name: each part lower case unless quoted, joined by `.`
/// (quoted by [`quoted_parts`] once special names are told).
fn function_name(name: &ObjectName) -> String {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|part| match part.as_ident() {
            Some(ident) if ident.quote_style.is_none() => ident.value.to_lowercase(),
            Some(ident) => ident.value.clone(),
            None => part.to_string(),
        })
        .collect();
    parts.join(".")
}

/// Each `.`-separated part of a function name quoted where DuckDB quotes it.
fn quoted_parts(name: &str) -> String {
    name.split('.')
        .map(optionally_quoted)
        .collect::<Vec<_>>()
        .join(".")
}

/// An identifier as written (its case kept), quoted where DuckDB quotes it.
fn identifier(ident: &Ident) -> String {
    optionally_quoted(&ident.value)
}

/// DuckDB's `KeywordHelper::WriteOptionallyQuoted`: bare when a plain
/// identifier that is no keyword, otherwise double-quoted.
fn optionally_quoted(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let keyword = keywords::KEYWORDS
        .binary_search(&name.to_lowercase().as_str())
        .is_ok();
    match plain && !keyword {
        true => name.to_owned(),
        false => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// A SQL type name (as sqlparser prints it) as DuckDB prints the type it
/// stands for: aliases resolved (`INT` is `INTEGER`, `TEXT` `VARCHAR`),
/// and quoted where DuckDB quotes it (`"DOUBLE"`, `"DATE"`).
fn type_name(written: &str) -> String {
    let written = written.trim().to_uppercase();
    let (base, args) = match written.split_once('(') {
        Some((base, rest)) => (base.trim().to_owned(), Some(rest.trim_end_matches(')'))),
        None => (written.clone(), None),
    };
    let args = args.map(|a| a.split(',').map(str::trim).collect::<Vec<_>>().join(", "));
    let name = match base.as_str() {
        "INT" | "INTEGER" | "INT4" | "INT32" | "SIGNED" => "INTEGER",
        "BIGINT" | "INT8" | "INT64" | "LONG" => "BIGINT",
        "SMALLINT" | "INT2" | "INT16" | "SHORT" => "SMALLINT",
        "TINYINT" | "INT1" => "\"TINYINT\"",
        "HUGEINT" | "INT128" => "\"HUGEINT\"",
        "UHUGEINT" | "UINT128" => "\"UHUGEINT\"",
        "UBIGINT" | "UINT64" => "\"UBIGINT\"",
        "UINTEGER" | "UINT32" => "\"UINTEGER\"",
        "USMALLINT" | "UINT16" => "\"USMALLINT\"",
        "UTINYINT" | "UINT8" => "\"UTINYINT\"",
        "FLOAT" | "REAL" | "FLOAT4" => "FLOAT",
        "DOUBLE" | "FLOAT8" | "DOUBLE PRECISION" => "\"DOUBLE\"",
        "VARCHAR" | "CHARACTER VARYING" if args.is_some() => "VARCHAR",
        "VARCHAR" | "TEXT" | "STRING" | "BPCHAR" | "CHARACTER VARYING" => return "VARCHAR".into(),
        "BOOLEAN" | "BOOL" | "LOGICAL" => "BOOLEAN",
        "DECIMAL" | "NUMERIC" | "DEC" => "DECIMAL",
        "DATE" => "\"DATE\"",
        "TIME" => "TIME",
        "TIMESTAMP" | "DATETIME" => "TIMESTAMP",
        "TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE" => "\"TIMESTAMP WITH TIME ZONE\"",
        "INTERVAL" => "INTERVAL",
        "BLOB" | "BYTEA" | "BINARY" | "VARBINARY" => "\"BLOB\"",
        "UUID" => "\"UUID\"",
        "JSON" => "\"JSON\"",
        _ => return written,
    };
    match args {
        Some(args) => format!("{name}({args})"),
        None => name.to_owned(),
    }
}

#[cfg(test)]
mod tests;
