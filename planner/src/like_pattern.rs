//! LIKE patterns as DuckDB 1.5.5 reads them. DuckDB has no default
//! escape: without `ESCAPE`, `\` is an ordinary character (`'a\b' LIKE
//! 'a\b'` is true, and `'win\dir%'` finds a key written on Windows). Arrow's
//! LIKE kernel, which DataFusion runs, takes `\` as its escape whenever no
//! other is given, and DataFusion refuses any escape but `\`. So before a
//! statement is planned each pattern of `LIKE`, `ILIKE`, their `NOT` forms
//! and `~~` / `~~*` is rewritten into arrow's reading of the same match:
//! without `ESCAPE` its backslashes doubled, with `ESCAPE 'c'` each `c`
//! turned into `\` (a pattern that is no string literal is doubled by
//! `replace(pattern, '\', '\\')` when the query runs).

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, Ident, ObjectName, Value, ValueWithSpan, VisitorMut,
};

/// Rewrites every LIKE pattern of `statement` as the module says.
pub(crate) fn as_duckdb(statement: &mut DFStatement) {
    struct Patterns;
    impl VisitorMut for Patterns {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            match expr {
                Expr::Like {
                    any: false,
                    pattern,
                    escape_char,
                    ..
                }
                | Expr::ILike {
                    any: false,
                    pattern,
                    escape_char,
                    ..
                } => {
                    if let Some(escape) = escape_of(escape_char.as_ref())
                        && rewrite(pattern, escape)
                    {
                        *escape_char = None;
                    }
                }
                Expr::BinaryOp {
                    op:
                        BinaryOperator::PGLikeMatch
                        | BinaryOperator::PGNotLikeMatch
                        | BinaryOperator::PGILikeMatch
                        | BinaryOperator::PGNotILikeMatch,
                    right,
                    ..
                } => {
                    rewrite(right, None);
                }
                _ => {}
            }
            ControlFlow::Continue(())
        }
    }
    crate::column_case::visit_sql(statement, &mut Patterns);
}

/// The escape a LIKE's `ESCAPE` clause gives: `Some(None)` for none,
/// `Some(Some(c))` for one that is not arrow's `\`; `None` when the
/// pattern is to be left as it is (`ESCAPE '\'`, which arrow reads alike,
/// or a clause that is no one-character string, which DataFusion refuses
/// with its own message).
fn escape_of(clause: Option<&ValueWithSpan>) -> Option<Option<char>> {
    let Some(clause) = clause else {
        return Some(None);
    };
    let (Value::SingleQuotedString(text) | Value::EscapedStringLiteral(text)) = &clause.value
    else {
        return None;
    };
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        // `ESCAPE ''` is none, as in DuckDB.
        (None, _) => Some(None),
        (Some('\\'), None) => None,
        (Some(c), None) => Some(Some(c)),
        _ => None,
    }
}

/// `pattern` (with `escape`, if any) as arrow's kernel reads the same
/// match; whether it was rewritten, its `ESCAPE` then to be dropped.
fn rewrite(pattern: &mut Expr, escape: Option<char>) -> bool {
    if let Expr::Value(value) = pattern
        && let Value::SingleQuotedString(text) | Value::EscapedStringLiteral(text) =
            &mut value.value
    {
        *text = backslash_escaped(text, escape);
        return true;
    }
    if escape.is_some() {
        // Not a literal: left with its ESCAPE to DataFusion, which
        // refuses the escape; dropped, the pattern silently matched
        // other rows (review-s24 F11).
        return false;
    }
    let operand = std::mem::replace(pattern, Expr::value(Value::Null));
    let text = |s: &str| {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::value(
            Value::SingleQuotedString(s.to_owned()),
        )))
    };
    *pattern = Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new("replace")]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![
                FunctionArg::Unnamed(FunctionArgExpr::Expr(operand)),
                text("\\"),
                text("\\\\"),
            ],
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    });
    true
}

/// `pattern`, whose escape is `escape` (none: every character but `%` and
/// `_` stands for itself), written with `\` as its escape.
fn backslash_escaped(pattern: &str, escape: Option<char>) -> String {
    let mut written = String::with_capacity(pattern.len() + 2);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            // The character after the escape stands for itself; a
            // trailing escape, which DuckDB refuses, for itself.
            let next = chars.next().unwrap_or(c);
            written.push('\\');
            written.push(next);
        } else if c == '\\' {
            written.push_str("\\\\");
        } else {
            written.push(c);
        }
    }
    written
}

#[cfg(test)]
mod tests {
    use super::backslash_escaped;

    #[test]
    fn patterns_are_written_with_arrows_escape() {
        assert_eq!(backslash_escaped(r"win\dir%", None), r"win\\dir%");
        assert_eq!(backslash_escaped(r"a\_b", None), r"a\\_b");
        assert_eq!(backslash_escaped("a_b%", None), "a_b%");
        assert_eq!(backslash_escaped(r"a!_b\!!", Some('!')), r"a\_b\\\!");
        assert_eq!(backslash_escaped("ab!", Some('!')), r"ab\!");
    }
}
