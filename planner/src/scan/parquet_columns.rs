//! Parquet files of one scan that do not hold the columns of the first
//! file's schema are refused unless `union_by_name`, as DuckDB 1.5.5
//! refuses them ("schema mismatch in glob"): DataFusion's adapter fills a
//! missing column with NULL, so a column renamed by a later export made a
//! sum silently partial (review-8e #13).

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::physical_expr_adapter::{
    DefaultPhysicalExprAdapterFactory, PhysicalExprAdapter, PhysicalExprAdapterFactory,
};

/// DataFusion's adapter, after a check that the file holds every column
/// of the scan (the name matched case-insensitively).
#[derive(Debug, Default)]
pub(crate) struct AllColumnsRequired;

impl PhysicalExprAdapterFactory for AllColumnsRequired {
    fn create(
        &self,
        logical_file_schema: SchemaRef,
        physical_file_schema: SchemaRef,
    ) -> Result<Arc<dyn PhysicalExprAdapter>> {
        let held = |name: &str| {
            physical_file_schema
                .fields()
                .iter()
                .any(|f| f.name().eq_ignore_ascii_case(name))
        };
        if let Some(missing) = logical_file_schema
            .fields()
            .iter()
            .find(|f| !held(f.name()))
        {
            let columns: Vec<&str> = physical_file_schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            return plan_err!(
                "schema mismatch between the Parquet files: column \"{}\" of the first file is \
                 not in a later file, whose columns are {}; read with union_by_name = true to \
                 match columns by name (a column a file lacks is NULL there)",
                missing.name(),
                columns.join(", ")
            );
        }
        DefaultPhysicalExprAdapterFactory.create(logical_file_schema, physical_file_schema)
    }
}
