//! LIKE patterns as DuckDB 1.5.5 reads them. DuckDB has no default
//! escape: without `ESCAPE`, `\` is an ordinary character (`'a\b' LIKE
//! 'a\b'` is true, and `'win\dir%'` finds a key written on Windows). Arrow's
//! LIKE kernel, which DataFusion runs, takes `\` as its escape whenever no
//! other is given, and DataFusion refuses any escape but `\`. So before a
//! statement is planned each pattern of `LIKE`, `ILIKE`, their `NOT` forms
//! and `~~` / `~~*` is rewritten into arrow's reading of the same match:
//! without `ESCAPE` its backslashes doubled, with `ESCAPE 'c'` each `c`
//! turned into `\` (a pattern that is no string literal, a column or an
//! expression, is rewritten so when the query runs, by
//! [`LikePattern`]'s `duckdb_like_pattern(pattern, escape)`: review-s24
//! F11).

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
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
                    if let Some(escape) = escape_of(escape_char.as_ref()) {
                        rewrite(pattern, escape);
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
/// match, its `ESCAPE` then to be dropped.
fn rewrite(pattern: &mut Expr, escape: Option<char>) {
    if let Expr::Value(value) = pattern
        && let Value::SingleQuotedString(text) | Value::EscapedStringLiteral(text) =
            &mut value.value
    {
        // A trailing escape goes to the function below, whose error is
        // DuckDB's; arrow matched it as itself.
        if let Ok(written) = backslash_escaped(text, escape) {
            *text = written;
            return;
        }
    }
    // Not a literal: rewritten when the query runs (its ESCAPE dropped
    // here left it matching with arrow's `\`: review-s24 F11).
    let operand = std::mem::replace(pattern, Expr::value(Value::Null));
    let escape: String = escape.into_iter().collect();
    *pattern = Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(LikePattern::NAME)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![
                FunctionArg::Unnamed(FunctionArgExpr::Expr(operand)),
                FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::value(
                    Value::SingleQuotedString(escape),
                ))),
            ],
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    });
}

/// `duckdb_like_pattern(pattern, escape)`: `pattern`, whose escape is
/// `escape` (`''` for none), as arrow's LIKE kernel reads the same match
/// ([`backslash_escaped`]); for a pattern that is no literal.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct LikePattern {
    signature: Signature,
}

impl LikePattern {
    /// The function's name in the rewritten statement.
    const NAME: &str = "duckdb_like_pattern";

    /// The function, to register with the session.
    pub(crate) fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(Self {
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for LikePattern {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [_, _] => Ok(vec![DataType::Utf8, DataType::Utf8]),
            _ => plan_err!("{} takes a pattern and its escape", Self::NAME),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [pattern, ColumnarValue::Scalar(escape)] = args.args.as_slice() else {
            return exec_err!("{} takes a pattern and its escape", Self::NAME);
        };
        let escape = match escape {
            ScalarValue::Utf8(Some(text)) => text.chars().next(),
            _ => None,
        };
        let rewritten = |patterns: &ArrayRef| -> Result<ArrayRef> {
            let text = cast(patterns, &DataType::Utf8)?;
            let mut out = StringBuilder::with_capacity(text.len(), text.len() * 8);
            for value in text.as_string::<i32>() {
                out.append_option(value.map(|p| backslash_escaped(p, escape)).transpose()?);
            }
            Ok(Arc::new(out.finish()))
        };
        Ok(match pattern {
            ColumnarValue::Array(array) => ColumnarValue::Array(rewritten(array)?),
            ColumnarValue::Scalar(value) => ColumnarValue::Scalar(ScalarValue::try_from_array(
                &rewritten(&value.to_array()?)?,
                0,
            )?),
        })
    }
}

/// `pattern`, whose escape is `escape` (none: every character but `%` and
/// `_` stands for itself), written with `\` as its escape; a pattern
/// ending in its escape is DuckDB's error (review-s26 F8: it matched the
/// escape as itself).
fn backslash_escaped(pattern: &str, escape: Option<char>) -> Result<String> {
    let mut written = String::with_capacity(pattern.len() + 2);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            // The character after the escape stands for itself.
            let Some(next) = chars.next() else {
                return plan_err!(
                    "Syntax Error: Like pattern must not end with escape character! \
                     ({pattern:?} ends in its ESCAPE {c:?}; write it twice to match it)"
                );
            };
            written.push('\\');
            written.push(next);
        } else if c == '\\' {
            written.push_str("\\\\");
        } else {
            written.push(c);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::backslash_escaped;

    #[test]
    fn patterns_are_written_with_arrows_escape() {
        let escaped = |p: &str, e| backslash_escaped(p, e).unwrap();
        assert_eq!(escaped(r"win\dir%", None), r"win\\dir%");
        assert_eq!(escaped(r"a\_b", None), r"a\\_b");
        assert_eq!(escaped("a_b%", None), "a_b%");
        assert_eq!(escaped(r"a!_b\!!", Some('!')), r"a\_b\\\!");
        let trailing = backslash_escaped("ab!", Some('!')).unwrap_err().to_string();
        assert!(
            trailing.contains("must not end with escape character"),
            "{trailing}"
        );
    }
}
