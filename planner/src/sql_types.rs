//! DuckDB's SQL type names that DataFusion does not plan, as the arrow
//! types DuckDB's stand for: the unsigned integers (`UTINYINT` ..
//! `UBIGINT` and their `UINT8` .. `UINT64` aliases, which DataFusion
//! refused with "Unsupported SQL type UBIGINT") and BLOB's names
//! ([`crate::blob`]). DataFusion takes one type planner, so this is it.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::planner::TypePlanner;
use datafusion::sql::sqlparser::ast;

/// The session's type planner.
#[derive(Debug)]
pub(crate) struct DuckTypes;

impl TypePlanner for DuckTypes {
    fn plan_type_field(&self, sql_type: &ast::DataType) -> Result<Option<FieldRef>> {
        let planned = unsigned(sql_type).or_else(|| crate::blob::blob_type(sql_type));
        Ok(planned.map(|t| Arc::new(Field::new("", t, true))))
    }
}

/// The unsigned integer `sql_type` names, if it names one. sqlparser
/// knows `UTINYINT`, `USMALLINT`, `UBIGINT` and ClickHouse's `UInt8` ..
/// `UInt64` (the same types as DuckDB's aliases); `UINTEGER` reaches us
/// as a custom name.
fn unsigned(sql_type: &ast::DataType) -> Option<DataType> {
    use ast::DataType as Sql;
    Some(match sql_type {
        Sql::UTinyInt | Sql::UInt8 => DataType::UInt8,
        Sql::USmallInt | Sql::UInt16 => DataType::UInt16,
        Sql::UInt32 => DataType::UInt32,
        Sql::UBigInt | Sql::UInt64 => DataType::UInt64,
        Sql::Custom(name, args) if args.is_empty() => {
            match name.to_string().to_ascii_uppercase().as_str() {
                "UINTEGER" => DataType::UInt32,
                _ => return None,
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::parser::Parser;

    /// Each DuckDB name of an unsigned integer plans as its arrow type,
    /// in any case.
    #[test]
    fn duckdbs_unsigned_names_plan_as_unsigned_integers() {
        for (name, expected) in [
            ("UTINYINT", DataType::UInt8),
            ("uint8", DataType::UInt8),
            ("USMALLINT", DataType::UInt16),
            ("UINT16", DataType::UInt16),
            ("UINTEGER", DataType::UInt32),
            ("uinteger", DataType::UInt32),
            ("UINT32", DataType::UInt32),
            ("UBIGINT", DataType::UInt64),
            ("UINT64", DataType::UInt64),
        ] {
            let sql_type = Parser::new(&crate::dialect::DuckDb)
                .try_with_sql(name)
                .and_then(|mut p| p.parse_data_type())
                .unwrap();
            let field = DuckTypes.plan_type_field(&sql_type).unwrap();
            assert_eq!(
                field.map(|f| f.data_type().clone()),
                Some(expected),
                "{name}"
            );
        }
    }
}
