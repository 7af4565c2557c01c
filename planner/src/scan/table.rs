//! [`FileTable`]: the files glob-list matched, read by DataFusion's own
//! `DataSourceExec(FileScanConfig)` with explicit `PartitionedFile`s — sizes
//! from the listing, so DataFusion neither lists again nor sends a HEAD per
//! file. Each run of files one store signs, in list order, is one scan: a
//! store can have several (`[s3 a, local b, s3 c]` is three scans, two of
//! them the bucket's). Several scans are read one after another when rows
//! come in file order ([`ChainExec`]), else as a union.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{FieldRef, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::TableProvider;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    FileGroup, FileGroupPartitioner, FileScanConfigBuilder,
};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr_adapter::PhysicalExprAdapterFactory;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::{ExecutionPlan, Partitioning};

use crate::scan::chain::ChainExec;
use crate::scan::csv_opener::CsvExtras;
use crate::scan::io_plan::IoPlan;
use crate::scan::named::name_read_errors;
use crate::scan::prune::partition_filter;
use crate::scan::relist::Relist;
use crate::scan::small_objects::SMALL_OBJECT;

/// A run of files one store serves, in list order: one scan.
#[derive(Debug, Clone)]
pub(crate) struct StoreFiles {
    /// The store's synthetic URL.
    pub store: ObjectStoreUrl,
    /// The format reading them (CSV and JSON: with their compression).
    pub format: Arc<dyn FileFormat>,
    /// Its files, in listing order, partition values set.
    pub files: Vec<PartitionedFile>,
    /// Its files are read only whole, never in byte ranges
    /// (`Formats::read_whole`).
    pub whole: bool,
    /// How a file's columns are matched to the scan's, when not
    /// DataFusion's way (a Parquet file lacking one is refused:
    /// [`super::parquet_columns`]).
    pub columns: Option<Arc<dyn PhysicalExprAdapterFactory>>,
}

/// Where a file's hive partitions are (`Listed::hive_key`), kept on its
/// `PartitionedFile`: pruning reads the same key its partition values came
/// from (of a relative local path, the part the user wrote).
#[derive(Debug, Clone)]
pub(crate) struct HiveKey(pub String);

/// A table over listed files.
pub(crate) struct FileTable {
    /// The table's columns: the files' own in their order (a hive column
    /// the files also hold in its file place), then the partition columns.
    schema: SchemaRef,
    file_schema: SchemaRef,
    /// The scan's partition columns (a hive column the files also hold
    /// under [`from_path`]'s name).
    partition_columns: Vec<FieldRef>,
    /// For each table column, the scan's column (file columns, then
    /// partition columns) it is; `None` when they are the same.
    shown: Option<Vec<usize>>,
    /// The hive columns among them, whose filters prune files.
    hive_columns: Vec<String>,
    /// CSV options DataFusion's reader would drop (`nullstr`, `skip`).
    csv: Option<Arc<CsvExtras>>,
    groups: Vec<StoreFiles>,
    /// What the scan reads, for EXPLAIN.
    io: IoPlan,
    /// How a later statement (through a view) lists the files again.
    relist: Relist,
}

impl fmt::Debug for FileTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileTable")
            .field("schema", &self.schema)
            .field("groups", &self.groups.len())
            .finish_non_exhaustive()
    }
}

impl FileTable {
    pub(crate) fn new(
        file_schema: SchemaRef,
        partition_columns: Vec<FieldRef>,
        hive_columns: Vec<String>,
        csv: Option<Arc<CsvExtras>>,
        groups: Vec<StoreFiles>,
        io: IoPlan,
        relist: Relist,
    ) -> Self {
        let (schema, partition_columns, shown) =
            path_over_file(&file_schema, partition_columns, &hive_columns);
        Self {
            schema,
            file_schema,
            partition_columns,
            shown,
            hive_columns,
            csv,
            groups,
            io,
            relist,
        }
    }

    /// What the scan reads: listed patterns, files kept, signer.
    pub(crate) fn io_plan(&self) -> &IoPlan {
        &self.io
    }

    /// The table this statement reads in its place: the files listed again
    /// for it when the scan was planned in an earlier statement (a view's).
    pub(crate) fn listed_now(&self) -> Option<Arc<dyn TableProvider>> {
        self.relist.listed_now()
    }

    /// The files it reads, in order, each with the ETag its reads are
    /// pinned to.
    pub(crate) fn files(&self) -> impl Iterator<Item = &PartitionedFile> {
        self.groups.iter().flat_map(|g| g.files.iter())
    }

    /// The DataFusion format reading the first file (its options: the CSV
    /// dialect sniffed, the JSON layout).
    pub(crate) fn first_format(&self) -> Option<&Arc<dyn FileFormat>> {
        self.groups.first().map(|g| &g.format)
    }

    /// The columns the files hold (without partition columns).
    pub(crate) fn file_schema(&self) -> &SchemaRef {
        &self.file_schema
    }
}

impl FileTable {
    /// The scan's columns for the table's `projection`.
    fn scanned(&self, projection: Option<&Vec<usize>>) -> Option<Vec<usize>> {
        match (&self.shown, projection) {
            (None, projection) => projection.cloned(),
            (Some(shown), Some(projection)) => Some(projection.iter().map(|&i| shown[i]).collect()),
            (Some(shown), None) => Some(shown.clone()),
        }
    }

    /// `plan`, a scan of [`Self::scanned`] columns, with the table's names.
    fn named_as_shown(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        projection: Option<&Vec<usize>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if self.shown.is_none() {
            return Ok(plan);
        }
        let shown = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => Arc::clone(&self.schema),
        };
        let exprs: Vec<(Arc<dyn PhysicalExpr>, String)> = plan
            .schema()
            .fields()
            .iter()
            .zip(shown.fields())
            .enumerate()
            .map(|(at, (scanned, field))| {
                let column: Arc<dyn PhysicalExpr> = Arc::new(Column::new(scanned.name(), at));
                (column, field.name().clone())
            })
            .collect();
        Ok(Arc::new(ProjectionExec::try_new(exprs, plan)?))
    }
}

/// Whether both schemas have the same column names and types, in order.
fn same_columns(a: &SchemaRef, b: &SchemaRef) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(x, y)| x.name() == y.name() && x.data_type() == y.data_type())
}

/// `name TYPE, ...`, for an error.
fn columns(schema: &SchemaRef) -> String {
    schema
        .fields()
        .iter()
        .map(|f| format!("{} {}", f.name(), f.data_type()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The name a hive column the files also hold has among the scan's
/// partition columns, apart from the file's column of its name.
fn from_path(name: &str) -> String {
    format!("{name} (from the path)")
}

/// The table's schema over `file_schema` and `partition_columns`, the
/// scan's partition columns, and which scan column each table column is.
/// A hive column the files also hold takes its value from the path and
/// the place and name of the file's column, as in DuckDB 1.5.5 (review-8c
/// #14): the scan reads it as a partition column under [`from_path`]'s
/// name, and the file's column is never read.
fn path_over_file(
    file_schema: &SchemaRef,
    partition_columns: Vec<FieldRef>,
    hive_columns: &[String],
) -> (SchemaRef, Vec<FieldRef>, Option<Vec<usize>>) {
    let files = file_schema.fields().len();
    let held =
        |f: &FieldRef| hive_columns.contains(f.name()) && file_schema.index_of(f.name()).is_ok();
    if !partition_columns.iter().any(held) {
        let schema = table_schema(file_schema, &partition_columns)
            .table_schema()
            .clone();
        return (schema, partition_columns, None);
    }
    let mut fields: Vec<FieldRef> = file_schema.fields().iter().cloned().collect();
    let mut shown: Vec<usize> = (0..files).collect();
    let mut scanned = Vec::with_capacity(partition_columns.len());
    for (at, field) in partition_columns.into_iter().enumerate() {
        match file_schema.index_of(field.name()) {
            Ok(place) if held(&field) => {
                fields[place] = Arc::clone(&field);
                shown[place] = files + at;
                let renamed = field.as_ref().clone().with_name(from_path(field.name()));
                scanned.push(Arc::new(renamed));
            }
            _ => {
                fields.push(Arc::clone(&field));
                shown.push(files + at);
                scanned.push(field);
            }
        }
    }
    let schema = Arc::new(datafusion::arrow::datatypes::Schema::new_with_metadata(
        fields,
        file_schema.metadata().clone(),
    ));
    (schema, scanned, Some(shown))
}

/// File columns followed by partition columns.
fn table_schema(file_schema: &SchemaRef, partition_columns: &[FieldRef]) -> TableSchema {
    TableSchema::builder(Arc::clone(file_schema))
        .with_table_partition_cols(partition_columns.to_vec())
        .build()
}

/// The key `file`'s partition values came from.
fn hive_key(file: &PartitionedFile) -> &str {
    match file.extensions.get::<HiveKey>() {
        Some(HiveKey(key)) => key,
        None => file.object_meta.location.as_ref(),
    }
}

/// Small files (at most [`SMALL_OBJECT`] on average) are read this many at
/// a time however few the cores: each costs a round trip more than CPU.
const SMALL_FILES_AT_ONCE: usize = 16;

/// How many groups read `files` at once with `target` partitions: more
/// than `target` for small files, never more than one where rows come in
/// file order (`target` 1).
fn groups_for(files: &[PartitionedFile], target: usize) -> usize {
    let total: u64 = files.iter().map(|f| f.object_meta.size).sum();
    let small = total <= SMALL_OBJECT.saturating_mul(files.len() as u64);
    if target > 1 && small {
        target.max(SMALL_FILES_AT_ONCE)
    } else {
        target
    }
}

/// Big Parquet files are read in this many byte ranges per partition
/// (each its row groups): while one range decodes a row group, another's
/// column chunks are on their way. One range per partition fetched, then
/// decoded, then asked for the next: the cores waited for the network.
const PARQUET_RANGES_PER_PARTITION: usize = 2;

/// `groups` (of Parquet files) as byte ranges of similar size, up to
/// [`PARQUET_RANGES_PER_PARTITION`] per partition, when they are big
/// enough for DataFusion to split them (`repartition_file_min_size`).
fn parquet_ranges(groups: Vec<FileGroup>, target: usize, state: &dyn Session) -> Vec<FileGroup> {
    let options = state.config_options();
    if !options.optimizer.repartition_file_scans {
        return groups;
    }
    FileGroupPartitioner::new()
        .with_target_partitions(target * PARQUET_RANGES_PER_PARTITION)
        .with_repartition_file_min_size(options.optimizer.repartition_file_min_size)
        .repartition_file_groups(&groups)
        .unwrap_or(groups)
}

/// Splits `files` into at most `n` contiguous groups of similar count.
fn split(files: &[PartitionedFile], n: usize) -> Vec<FileGroup> {
    let per_group = files.len().div_ceil(n.max(1)).max(1);
    files
        .chunks(per_group)
        .map(|chunk| FileGroup::new(chunk.to_vec()))
        .collect()
}

#[async_trait]
impl TableProvider for FileTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // DataFusion keeps the filter above the scan and also pushes it into
        // the Parquet source (row groups pruned by statistics).
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if let Some(fresh) = self.relist.fresh(state).await? {
            if !same_columns(&fresh.schema(), &self.schema) {
                return Err(DataFusionError::Plan(format!(
                    "the files of a view now have other columns ({}; were {}); run CREATE OR REPLACE VIEW",
                    columns(&fresh.schema()),
                    columns(&self.schema)
                )));
            }
            return fresh.scan(state, projection, filters, limit).await;
        }
        let target = state.config().target_partitions();
        let prune = partition_filter(filters, &self.hive_columns);
        let mut plans = Vec::with_capacity(self.groups.len());
        let (mut kept_files, mut kept_bytes) = (0, 0u64);
        for group in &self.groups {
            let files: Vec<PartitionedFile> = group
                .files
                .iter()
                .filter(|f| prune.as_ref().is_none_or(|p| !p.prunes_key(hive_key(f))))
                .cloned()
                .collect();
            kept_files += files.len();
            kept_bytes = files
                .iter()
                .fold(kept_bytes, |sum, f| sum.saturating_add(f.object_meta.size));
            if files.is_empty() {
                continue;
            }
            let table_schema = table_schema(&self.file_schema, &self.partition_columns);
            let source = group.format.file_source(table_schema);
            let mut groups = split(&files, groups_for(&files, target));
            if limit.is_none()
                && target > 1
                && groups.len() <= target
                && group.format.is::<ParquetFormat>()
            {
                groups = parquet_ranges(groups, target, state);
            }
            // Declared, DataFusion keeps the groups as they are: a LIMIT
            // the scan reads is a few rows from the files' start, so no file
            // is split into byte ranges (a CSV's second range would first
            // have the file read up to it for its record start,
            // `csv_ranges`); a JSON array is read whole (DataFusion refuses
            // to read one in byte ranges, review-8e #21), and so are other
            // files read only whole (`StoreFiles::whole`); above 10 MB
            // DataFusion would regroup more groups than `target` (small
            // files, Parquet ranges) into `target` partitions.
            let declared = (limit.is_some() || group.whole || groups.len() > target)
                .then_some(Partitioning::UnknownPartitioning(groups.len()));
            let config = FileScanConfigBuilder::new(group.store.clone(), source)
                .with_file_groups(groups)
                .with_output_partitioning(declared)
                .with_projection_indices(self.scanned(projection))?
                .with_limit(limit)
                .with_expr_adapter(group.columns.clone())
                .build();
            let plan = group.format.create_physical_plan(state, config).await?;
            let json_array = group
                .format
                .downcast_ref::<JsonFormat>()
                .is_some_and(|json| !json.is_newline_delimited());
            let plan = name_read_errors(plan, self.csv.as_ref(), json_array);
            plans.push(self.named_as_shown(plan, projection)?);
        }
        self.io.set_kept(kept_files, kept_bytes);
        if plans.is_empty() {
            let projected = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => Arc::clone(&self.schema),
            };
            return Ok(Arc::new(EmptyExec::new(projected)));
        }
        // Read in file order (one partition: `crate::order`), the scans
        // of several stores go one after another, never interleaved.
        if target == 1 && plans.len() > 1 {
            return Ok(Arc::new(ChainExec::new(plans)?));
        }
        UnionExec::try_new(plans)
    }
}
