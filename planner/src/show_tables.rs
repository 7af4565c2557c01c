//! DuckDB's `SHOW TABLES`: the names of the tables and views of the
//! session's schema, sorted, in one column `name`. DataFusion's lists
//! every schema's, information_schema's own views included, in four
//! columns (catalog, schema, name, type).

use datafusion::config::CatalogOptions;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{ShowStatementOptions, Statement as SqlStatement};

use crate::error::Result;
use crate::statement::StatementKind;

/// `statement` as DuckDB answers it when it is a plain `SHOW TABLES`; any
/// other statement (`SHOW TABLES FROM`, `SHOW FULL TABLES`) unchanged.
pub(crate) fn as_duckdb(statement: DFStatement, catalog: &CatalogOptions) -> Result<DFStatement> {
    let plain = matches!(
        &statement,
        DFStatement::Statement(inner) if matches!(
            inner.as_ref(),
            SqlStatement::ShowTables {
                terse: false,
                history: false,
                extended: false,
                full: false,
                external: false,
                show_options: ShowStatementOptions {
                    show_in: None,
                    starts_with: None,
                    limit: None,
                    limit_from: None,
                    filter_position: None,
                },
            }
        )
    );
    if !plain {
        return Ok(statement);
    }
    let literal = crate::statement::string_literal;
    let sql = format!(
        "SELECT table_name AS name FROM information_schema.tables \
         WHERE table_catalog = {} AND table_schema = {} ORDER BY name",
        literal(&catalog.default_catalog),
        literal(&catalog.default_schema)
    );
    let mut parsed = crate::statement::parse(&sql)?;
    match parsed.pop().map(|s| s.kind) {
        Some(StatementKind::DataFusion(query)) => Ok(*query),
        _ => Ok(statement),
    }
}
