//! DuckDB's SQL as DuckDB 1.5.5 reads it: sqlparser's `DuckDbDialect`
//! with the two lexical rules it leaves off — block comments nest
//! (`/* a /* b */ c */`) and `E'...'` strings take backslash escapes — so
//! the shell's splitter and the parser end a statement where DuckDB does.
//! And `^` and `**` are DuckDB's power, binding tighter than `*` and
//! looser than a sign (`-2 ^ 2` is 4.0, `2 * 3 ^ 2` 18.0): sqlparser reads
//! `^` as XOR below `+` and `**` not at all.

use std::any::{Any, TypeId};

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, UnaryOperator};
use datafusion::sql::sqlparser::dialect::{Dialect, DuckDbDialect};
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

/// `DuckDbDialect` plus nested comments and escape strings; to sqlparser
/// it is DuckDB's dialect (its `dialect_of!` checks see `DuckDbDialect`).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DuckDb;

/// Forwards each method `DuckDbDialect` overrides.
macro_rules! forward {
    ($($name:ident),* $(,)?) => {
        $(fn $name(&self) -> bool {
            DuckDbDialect.$name()
        })*
    };
}

impl Dialect for DuckDb {
    fn dialect(&self) -> TypeId {
        DuckDbDialect.type_id()
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        DuckDbDialect.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        DuckDbDialect.is_identifier_part(ch)
    }

    fn supports_nested_comments(&self) -> bool {
        true
    }

    fn supports_string_escape_constant(&self) -> bool {
        true
    }

    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        power_operator(parser).map(|_| Ok(POWER))
    }

    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        _: u8,
    ) -> Option<Result<Expr, ParserError>> {
        let tokens = power_operator(parser)?;
        for _ in 0..tokens {
            parser.next_token();
        }
        // `**` stays `**` until the statement's items are named, as
        // DuckDB names `2 ** 3` (crate::decimal_literals makes it `^`).
        let op = match tokens {
            2 => BinaryOperator::Custom(POWER_STARS.to_owned()),
            _ => BinaryOperator::PGExp,
        };
        Some(parser.parse_subexpr(POWER).map(|right| Expr::BinaryOp {
            left: Box::new(expr.clone()),
            op,
            right: Box::new(right),
        }))
    }

    /// A sign binds tighter than `^`, as in DuckDB.
    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        let op = match parser.peek_token().token {
            Token::Minus => UnaryOperator::Minus,
            Token::Plus => UnaryOperator::Plus,
            _ => return None,
        };
        parser.next_token();
        Some(parser.parse_subexpr(POWER).map(|expr| Expr::UnaryOp {
            op,
            expr: Box::new(expr),
        }))
    }

    forward!(
        supports_trailing_commas,
        supports_filter_during_aggregation,
        supports_group_by_expr,
        supports_bitwise_shift_operators,
        supports_named_fn_args_with_eq_operator,
        supports_named_fn_args_with_assignment_operator,
        supports_dictionary_syntax,
        support_map_literal_syntax,
        supports_lambda_functions,
        allow_extract_single_quotes,
        supports_explain_with_utility_options,
        supports_load_extension,
        supports_array_typedef_with_brackets,
        supports_from_first_select,
        supports_order_by_all,
        supports_select_wildcard_exclude,
        supports_notnull_operator,
        supports_install,
        supports_detach,
        supports_select_wildcard_replace,
        supports_comma_separated_trim,
    );
}

/// `**`, DuckDB's other spelling of `^`, as the parser leaves it
/// (`BinaryOperator::Custom`).
pub(crate) const POWER_STARS: &str = "**";

/// The precedence of `^` and `**`: above `*` (40), below `::` (50).
const POWER: u8 = 45;

/// How many tokens the power operator at the parser's position spans:
/// `^` one, `**` two; None when none is there.
fn power_operator(parser: &Parser) -> Option<usize> {
    match (parser.peek_token().token, parser.peek_nth_token(1).token) {
        (Token::Caret, _) => Some(1),
        (Token::Mul, Token::Mul) => Some(2),
        _ => None,
    }
}
