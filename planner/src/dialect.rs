//! DuckDB's SQL as DuckDB 1.5.5 reads it: sqlparser's `DuckDbDialect`
//! with the two lexical rules it leaves off — block comments nest
//! (`/* a /* b */ c */`) and `E'...'` strings take backslash escapes — so
//! the shell's splitter and the parser end a statement where DuckDB does.

use std::any::{Any, TypeId};

use datafusion::sql::sqlparser::dialect::{Dialect, DuckDbDialect};

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
