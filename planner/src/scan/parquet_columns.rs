//! How a Parquet file's columns are matched to the scan's, as DuckDB 1.5.5
//! reads a glob of them:
//! - by name in any case (`ID` in one file, `id` in the next are one
//!   column), an exact match first (review-8e #31: DataFusion's adapter
//!   matched names exactly, and read the other file's values as NULL);
//! - a file lacking a column of the first file's is refused unless
//!   `union_by_name` ("schema mismatch in glob"): DataFusion's adapter
//!   fills it with NULL, so a column renamed by a later export made a sum
//!   silently partial (review-8e #13);
//! - a float or decimal read as the first file's integer is rounded as
//!   DuckDB rounds it, and a value that does not convert is an error naming
//!   the column and both types ([`ColumnCast`], review-8e #25, #14);
//! - a Parquet INTERVAL, which the file's reader hands over as its 12
//!   bytes, is read with its months ([`IntervalOfBytes`],
//!   `parquet_interval`).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::common::plan_err;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::error::Result;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{CastExpr, Column};
use datafusion::physical_expr_adapter::{
    DefaultPhysicalExprAdapter, PhysicalExprAdapter, PhysicalExprAdapterFactory,
};

use crate::scan::column_cast::{ColumnCast, needed};
use crate::scan::interval_column::{
    IntervalOfBytes, months_lost, months_not_read, read_from_bytes,
};

/// DataFusion's adapter, with a file's columns found in any case, a
/// missing one refused unless `union_by_name` when the query reads it (as
/// DuckDB: a query of other columns answers), and fractions rounded.
#[derive(Debug)]
pub(crate) struct ParquetColumns {
    /// A file may lack a column of the scan's (NULL there).
    pub union_by_name: bool,
}

/// The column of `file` named `name`: exactly, else in another case.
fn file_column<'a>(file: &'a Schema, name: &str) -> Option<&'a FieldRef> {
    let fields = file.fields();
    fields
        .iter()
        .find(|f| f.name() == name)
        .or_else(|| fields.iter().find(|f| f.name().eq_ignore_ascii_case(name)))
}

impl PhysicalExprAdapterFactory for ParquetColumns {
    fn create(
        &self,
        logical_file_schema: SchemaRef,
        physical_file_schema: SchemaRef,
    ) -> Result<Arc<dyn PhysicalExprAdapter>> {
        let mut renamed = Vec::new();
        let mut lacking = Vec::new();
        let mut intervals = Vec::new();
        let mut unread = Vec::new();
        let mut fields: Vec<Field> = Vec::new();
        for field in logical_file_schema.fields() {
            let name = field.name();
            let held = file_column(&physical_file_schema, name);
            let mut field = match held {
                Some(held)
                    if held.name() != name
                    // The file's name is not another column of the scan.
                    && logical_file_schema.field_with_name(held.name()).is_err() =>
                {
                    renamed.push((name.clone(), held.name().clone()));
                    field.as_ref().clone().with_name(held.name())
                }
                None if !self.union_by_name => {
                    lacking.push(name.clone());
                    field.as_ref().clone()
                }
                _ => field.as_ref().clone(),
            };
            if let Some(held) = held.filter(|held| held.name() == field.name()) {
                if read_from_bytes(held.data_type(), field.data_type()) {
                    // `inner` keeps the bytes as they are (no cast: the
                    // file's field whole, nullability and metadata too);
                    // `rewrite` reads them.
                    intervals.push((held.name().clone(), field.data_type().clone()));
                    field = held.as_ref().clone();
                } else if months_lost(held.data_type(), field.data_type()) {
                    unread.push(held.name().clone());
                }
            }
            fields.push(field);
        }
        let file_named = Arc::new(Schema::new_with_metadata(
            fields,
            logical_file_schema.metadata().clone(),
        ));
        Ok(Arc::new(FileColumns {
            union_by_name: self.union_by_name,
            renamed,
            lacking,
            intervals,
            unread,
            inner: DefaultPhysicalExprAdapter::new(
                Arc::clone(&file_named),
                Arc::clone(&physical_file_schema),
            ),
            scan: file_named,
            file: physical_file_schema,
        }))
    }
}

/// The error for a file lacking column `name` of the first file's.
fn missing(name: &str, file: &Schema) -> Result<Arc<dyn PhysicalExpr>> {
    let columns: Vec<&str> = file.fields().iter().map(|f| f.name().as_str()).collect();
    plan_err!(
        "schema mismatch between the Parquet files: column \"{name}\" of the first file is \
         not in a later file, whose columns are {}; read with union_by_name = true to match \
         columns by name (a column a file lacks is NULL there)",
        columns.join(", ")
    )
}

/// One file's adapter.
#[derive(Debug)]
struct FileColumns {
    /// The scan reads with union_by_name.
    union_by_name: bool,
    /// Scan columns the file names in another case: (scan's, file's).
    renamed: Vec<(String, String)>,
    /// Scan columns the file lacks (without union_by_name): an error when
    /// an expression reads one.
    lacking: Vec<String>,
    /// File columns of Parquet INTERVAL bytes, and the scan's type of each.
    intervals: Vec<(String, DataType)>,
    /// File columns whose INTERVALs arrow-rs read without their months:
    /// an error when an expression reads one.
    unread: Vec<String>,
    /// DataFusion's adapter, over the scan's columns named as the file
    /// names them.
    inner: DefaultPhysicalExprAdapter,
    /// The scan's columns as `inner` has them.
    scan: SchemaRef,
    /// The file's columns.
    file: SchemaRef,
}

impl FileColumns {
    /// `expr` as a [`ColumnCast`] when it is a cast `inner` put on a file
    /// column to read it as the scan's type, and that cast can change or
    /// refuse a value (a cast the query wrote stays as it is).
    fn inserted_cast(&self, expr: &Arc<dyn PhysicalExpr>) -> Result<Option<Arc<dyn PhysicalExpr>>> {
        let Some(cast) = expr.downcast_ref::<CastExpr>() else {
            return Ok(None);
        };
        let Some(column) = cast.expr().downcast_ref::<Column>() else {
            return Ok(None);
        };
        let (Ok(scan), Ok(file)) = (
            self.scan.field_with_name(column.name()),
            self.file.field_with_name(column.name()),
        ) else {
            return Ok(None);
        };
        if scan.data_type() != cast.cast_type() || !needed(file.data_type(), scan.data_type()) {
            return Ok(None);
        }
        Ok(Some(Arc::new(ColumnCast::new(
            Arc::clone(cast.expr()),
            Arc::clone(cast.target_field()),
            column.name(),
            file.data_type(),
            self.union_by_name,
        ))))
    }
}

impl FileColumns {
    /// `expr` read as the scan's INTERVAL when it is a file column of
    /// Parquet INTERVAL bytes.
    fn interval_of_bytes(&self, expr: &Arc<dyn PhysicalExpr>) -> Option<Arc<dyn PhysicalExpr>> {
        let column = expr.downcast_ref::<Column>()?;
        let (_, to) = self
            .intervals
            .iter()
            .find(|(name, _)| name == column.name())?;
        Some(Arc::new(IntervalOfBytes::new(Arc::clone(expr), to.clone())))
    }
}

impl PhysicalExprAdapter for FileColumns {
    fn rewrite(&self, expr: Arc<dyn PhysicalExpr>) -> Result<Arc<dyn PhysicalExpr>> {
        let expr = expr
            .transform(|e| {
                let Some(column) = e.downcast_ref::<Column>() else {
                    return Ok(Transformed::no(e));
                };
                if self.lacking.iter().any(|name| name == column.name()) {
                    return missing(column.name(), &self.file).map(Transformed::yes);
                }
                let in_file = self
                    .renamed
                    .iter()
                    .find(|(scan, _)| scan == column.name())
                    .map_or(column.name(), |(_, file)| file.as_str());
                if self.unread.iter().any(|name| name == in_file) {
                    return months_not_read(in_file).map(Transformed::yes);
                }
                match self.renamed.iter().find(|(scan, _)| scan == column.name()) {
                    Some((_, file)) => {
                        Ok(Transformed::yes(
                            Arc::new(Column::new(file, column.index())) as Arc<dyn PhysicalExpr>,
                        ))
                    }
                    None => Ok(Transformed::no(e)),
                }
            })
            .data()?;
        self.inner
            .rewrite(expr)?
            .transform(|e| {
                if let Some(bytes) = self.interval_of_bytes(&e) {
                    return Ok(Transformed::yes(bytes));
                }
                match self.inserted_cast(&e)? {
                    Some(cast) => Ok(Transformed::yes(cast)),
                    None => Ok(Transformed::no(e)),
                }
            })
            .data()
    }
}
