//! Read errors that name their file. arrow-csv and arrow-json report a bad
//! record by line and column but not by file, and a scan reads many files;
//! [`NamedSource`] wraps DataFusion's CSV or JSON source so each file's
//! stream turns those errors into "file X, line N, column C: ..."
//! (`s3sql_formats::name_decode_error`). The name travels on each
//! `PartitionedFile` as a [`FileName`] extension. For CSV read with
//! `nullstr` or `skip` the wrapper opens files with [`CsvOpener`] instead of
//! DataFusion's opener, which would drop those options. Each file is
//! decompressed by its own [`FileCompression`], so one scan reads `.csv`
//! beside `.csv.gz` in listing order (zstd and JSON files through
//! [`DecodedText`]). A CSV file split into byte ranges has each range
//! moved to record starts ([`CsvRanges`]); a decode error in a range past
//! the file's start names the line counted from the file's start (the
//! lines before the range counted then, from the store).

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::Result;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    FileOpenFuture, FileOpener, FileScanConfig, FileScanConfigBuilder, FileSource, JsonSource,
};
use datafusion::datasource::projection::{ProjectionOpener, SplitProjection};
use datafusion::datasource::source::DataSourceExec;

use datafusion::physical_plan::ExecutionPlan;
use futures::future::{self, Either};
use futures::{FutureExt, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use s3sql_formats::{
    JsonErrorLine, is_decode_error, is_json_column, name_decode_error, name_json_decode_error,
};

use crate::scan::csv_opener::{CsvExtras, CsvOpener};
use crate::scan::csv_ranges::CsvRanges;
use crate::scan::decoded_text::DecodedText;
use crate::scan::parquet_footers::sharing_footers;
use crate::scan::parquet_interval::reading_interval_bytes;
use crate::scan::parquet_named::ParquetNamed;

/// A file's name as the user wrote it (its URL, or its local path).
#[derive(Debug, Clone)]
pub(crate) struct FileName(pub String);

/// How a file is compressed (from its own name, or the user's
/// `compression`); without it, the scan's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileCompression(pub FileCompressionType);

/// The compression of `file`, or `scan`'s when it names none.
fn compression_of(file: &PartitionedFile, scan: FileCompressionType) -> FileCompressionType {
    file.extensions
        .get::<FileCompression>()
        .map_or(scan, |FileCompression(c)| *c)
}

/// `plan` with its CSV or JSON source wrapped so decode errors name the
/// file (and CSV read with `csv` extras when they are needed), its Parquet
/// source so a value that does not convert names the file
/// ([`ParquetNamed`]; Parquet's own errors name it already); any other
/// plan as it is.
///
/// JSON arrays (`json_array`) are read by DataFusion's reader of
/// newline-delimited JSON, from [`DecodedText`]'s run of their elements
/// (DataFusion's array reader reads ahead in tasks of its own).
pub(crate) fn name_read_errors(
    plan: Arc<dyn ExecutionPlan>,
    csv: Option<&Arc<CsvExtras>>,
    json_array: bool,
) -> Arc<dyn ExecutionPlan> {
    let Some(exec) = plan.downcast_ref::<DataSourceExec>() else {
        return plan;
    };
    let Some(config) = exec.data_source().downcast_ref::<FileScanConfig>() else {
        return plan;
    };
    if config.file_source().file_type() == "parquet" {
        // INTERVAL columns read as bytes, made INTERVALs with their months
        // by the scan's adapter (`parquet_interval`); a footer read once
        // per file however many ranges read it (`parquet_footers`).
        let inner = sharing_footers(
            reading_interval_bytes(Arc::clone(config.file_source())),
            &config.file_groups,
        );
        let source = Arc::new(ParquetNamed::new(inner));
        let config = FileScanConfigBuilder::from(config.clone())
            .with_source(source)
            .build();
        return DataSourceExec::from_data_source(config);
    }
    if !matches!(config.file_source().file_type(), "csv" | "json") {
        return plan;
    }
    let inner = match config.file_source().downcast_ref::<JsonSource>() {
        Some(json) if json_array => {
            Arc::new(json.clone().with_newline_delimited(true)) as Arc<dyn FileSource>
        }
        _ => Arc::clone(config.file_source()),
    };
    let source = NamedSource {
        inner,
        csv: csv.cloned(),
        ranges: csv.and_then(|c| CsvRanges::new(&c.options)),
        batch_size: None,
        json_array,
    };
    let config = FileScanConfigBuilder::from(config.clone())
        .with_source(Arc::new(source))
        .build();
    DataSourceExec::from_data_source(config)
}

/// A CSV or JSON source whose openers name their file in decode errors.
struct NamedSource {
    inner: Arc<dyn FileSource>,
    /// Set when CSV files are read by [`CsvOpener`].
    csv: Option<Arc<CsvExtras>>,
    /// The record starts of CSV files read in byte ranges, shared by the
    /// scan's partitions; `None` for a dialect without a quote.
    ranges: Option<Arc<CsvRanges>>,
    /// Given by DataFusion before opening; [`CsvOpener`] decodes batches of this size.
    batch_size: Option<usize>,
    /// The files are JSON arrays, which [`DecodedText`] answers as their
    /// elements (`inner` reads newline-delimited JSON).
    json_array: bool,
}

impl NamedSource {
    /// The same wrapper around another inner source.
    fn wrap(&self, inner: Arc<dyn FileSource>) -> Arc<dyn FileSource> {
        Arc::new(NamedSource {
            inner,
            csv: self.csv.clone(),
            ranges: self.ranges.clone(),
            batch_size: self.batch_size,
            json_array: self.json_array,
        })
    }

    /// The source decoding batches of at most `limit` rows, when the scan
    /// reads no more (a `LIMIT 2` decodes two rows, not 8,192, before its
    /// first batch).
    fn for_limit(&self, limit: Option<usize>) -> Option<NamedSource> {
        let rows = limit?.max(1);
        if self.batch_size.is_some_and(|b| b <= rows) {
            return None;
        }
        Some(NamedSource {
            inner: self.inner.with_batch_size(rows),
            csv: self.csv.clone(),
            ranges: self.ranges.clone(),
            batch_size: Some(rows),
            json_array: self.json_array,
        })
    }

    /// [`CsvOpener`] behind the projection DataFusion pushed into the source.
    fn csv_opener(
        &self,
        extras: &Arc<CsvExtras>,
        store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
    ) -> Result<Arc<dyn FileOpener>> {
        let file_schema = self.inner.table_schema().file_schema();
        let projection = match self.inner.projection() {
            Some(p) => SplitProjection::new(file_schema, p),
            None => SplitProjection::unprojected(self.inner.table_schema()),
        };
        let opener = CsvOpener {
            extras: Arc::clone(extras),
            store,
            store_url: base_config.object_store_url.clone(),
            file_schema: Arc::clone(file_schema),
            file_indices: projection.file_indices.clone(),
            batch_size: self.batch_size.or(base_config.batch_size).unwrap_or(8192),
            compression: base_config.file_compression_type,
        };
        ProjectionOpener::try_new(projection, Arc::new(opener), file_schema)
    }
}

impl NamedSource {
    /// The opener of files compressed as `base_config` says; zstd files,
    /// and every JSON file, read through [`DecodedText`] (every zstd frame
    /// decoded, a JSON file's byte order mark blanked and its JSON
    /// columns' values rewritten).
    fn opener(
        &self,
        object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        let compression = base_config.file_compression_type;
        let json = self.inner.file_type() == "json";
        if !json && compression != FileCompressionType::ZSTD {
            return self.text_opener(object_store, base_config, partition);
        }
        let mut config = base_config.clone();
        config.file_compression_type = FileCompressionType::UNCOMPRESSED;
        let mut text = DecodedText::new(object_store, compression, json);
        if json {
            text = text.with_json_columns(self.json_columns());
        }
        if self.json_array {
            let sizes = base_config
                .file_groups
                .iter()
                .flat_map(|g| g.iter())
                .map(|f| (f.object_meta.location.clone(), f.object_meta.size))
                .collect();
            text = text.with_json_arrays(Arc::new(sizes));
        }
        self.text_opener(Arc::new(text), &config, partition)
    }

    /// The JSON columns of the files (their values are rewritten, `DecodedText`).
    fn json_columns(&self) -> Vec<String> {
        let file_schema = self.inner.table_schema().file_schema();
        file_schema
            .fields()
            .iter()
            .filter(|f| is_json_column(f))
            .map(|f| f.name().clone())
            .collect()
    }

    /// How a JSON file's refused record is found again: the columns the
    /// read decodes; `None` for CSV.
    fn json_read(&self) -> Result<Option<Arc<JsonRead>>> {
        if self.inner.file_type() != "json" {
            return Ok(None);
        }
        let file_schema = self.inner.table_schema().file_schema();
        let indices = match self.inner.projection() {
            Some(p) => SplitProjection::new(file_schema, p).file_indices,
            None => (0..file_schema.fields().len()).collect(),
        };
        Ok(Some(Arc::new(JsonRead {
            schema: Arc::new(file_schema.project(&indices)?),
            columns: self.json_columns(),
        })))
    }

    /// The opener of files `base_config` says are compressed so.
    fn text_opener(
        &self,
        object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        match &self.csv {
            Some(extras) if extras.needed() => self.csv_opener(extras, object_store, base_config),
            _ => self
                .inner
                .create_file_opener(object_store, base_config, partition),
        }
    }
}

/// The [`FileSource`] methods a wrapper of a source (its `inner`) hands to
/// it, a source it returns wrapped again by the wrapper's `wrap` (so
/// filters, sort and projection pushed into a Parquet source keep
/// row-group pruning and the rest): [`NamedSource`] and
/// `parquet_named::ParquetNamed`.
macro_rules! forwarded_to_inner {
    () => {
        fn table_schema(&self) -> &::datafusion::datasource::table_schema::TableSchema {
            self.inner.table_schema()
        }

        fn filter(
            &self,
        ) -> Option<::std::sync::Arc<dyn ::datafusion::physical_expr::PhysicalExpr>> {
            self.inner.filter()
        }

        fn projection(&self) -> Option<&::datafusion::physical_expr::projection::ProjectionExprs> {
            self.inner.projection()
        }

        fn metrics(&self) -> &::datafusion::physical_plan::metrics::ExecutionPlanMetricsSet {
            self.inner.metrics()
        }

        fn file_type(&self) -> &str {
            self.inner.file_type()
        }

        fn fmt_extra(
            &self,
            t: ::datafusion::physical_plan::DisplayFormatType,
            f: &mut ::std::fmt::Formatter,
        ) -> ::std::fmt::Result {
            self.inner.fmt_extra(t, f)
        }

        fn supports_repartitioning(&self) -> bool {
            self.inner.supports_repartitioning()
        }

        fn repartitioned(
            &self,
            target_partitions: usize,
            repartition_file_min_size: usize,
            output_ordering: Option<::datafusion::physical_expr::LexOrdering>,
            config: &::datafusion::datasource::physical_plan::FileScanConfig,
        ) -> ::datafusion::common::Result<
            Option<::datafusion::datasource::physical_plan::FileScanConfig>,
        > {
            self.inner.repartitioned(
                target_partitions,
                repartition_file_min_size,
                output_ordering,
                config,
            )
        }

        fn try_pushdown_filters(
            &self,
            filters: Vec<::std::sync::Arc<dyn ::datafusion::physical_expr::PhysicalExpr>>,
            config: &::datafusion::common::config::ConfigOptions,
        ) -> ::datafusion::common::Result<
            ::datafusion::physical_plan::filter_pushdown::FilterPushdownPropagation<
                ::std::sync::Arc<dyn ::datafusion::datasource::physical_plan::FileSource>,
            >,
        > {
            let mut pushed = self.inner.try_pushdown_filters(filters, config)?;
            pushed.updated_node = pushed.updated_node.map(|inner| self.wrap(inner));
            Ok(pushed)
        }

        fn try_pushdown_sort(
            &self,
            order: &[::datafusion::physical_expr::PhysicalSortExpr],
            eq_properties: &::datafusion::physical_expr::EquivalenceProperties,
        ) -> ::datafusion::common::Result<
            ::datafusion::physical_plan::sort_pushdown::SortOrderPushdownResult<
                ::std::sync::Arc<dyn ::datafusion::datasource::physical_plan::FileSource>,
            >,
        > {
            Ok(self
                .inner
                .try_pushdown_sort(order, eq_properties)?
                .map(|inner| self.wrap(inner)))
        }

        fn reorder_files(
            &self,
            files: Vec<::datafusion::datasource::listing::PartitionedFile>,
        ) -> Vec<::datafusion::datasource::listing::PartitionedFile> {
            self.inner.reorder_files(files)
        }

        fn try_pushdown_projection(
            &self,
            projection: &::datafusion::physical_expr::projection::ProjectionExprs,
        ) -> ::datafusion::common::Result<
            Option<::std::sync::Arc<dyn ::datafusion::datasource::physical_plan::FileSource>>,
        > {
            Ok(self
                .inner
                .try_pushdown_projection(projection)?
                .map(|inner| self.wrap(inner)))
        }

        fn apply_expressions(
            &self,
            f: &mut dyn FnMut(
                &::std::sync::Arc<dyn ::datafusion::physical_expr::PhysicalExpr>,
            ) -> ::datafusion::common::Result<
                ::datafusion::common::tree_node::TreeNodeRecursion,
            >,
        ) -> ::datafusion::common::Result<::datafusion::common::tree_node::TreeNodeRecursion> {
            self.inner.apply_expressions(f)
        }
    };
}
pub(crate) use forwarded_to_inner;

impl FileSource for NamedSource {
    fn create_file_opener(
        &self,
        object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        let limited = self.for_limit(base_config.limit);
        let this = limited.as_ref().unwrap_or(self);
        let scan = base_config.file_compression_type;
        let inner = this.opener(Arc::clone(&object_store), base_config, partition)?;
        let mut openers: Vec<(FileCompressionType, Arc<dyn FileOpener>)> = Vec::new();
        for file in base_config.file_groups.iter().flat_map(|g| g.iter()) {
            let compression = compression_of(file, scan);
            if compression != scan && openers.iter().all(|(c, _)| *c != compression) {
                let mut config = base_config.clone();
                config.file_compression_type = compression;
                let opener = this.opener(Arc::clone(&object_store), &config, partition)?;
                openers.push((compression, opener));
            }
        }
        if let Some(ranges) = &self.ranges {
            ranges.plan(base_config);
        }
        Ok(Arc::new(NamedOpener {
            scan,
            inner,
            openers,
            ranges: self.ranges.clone(),
            line_end: self
                .csv
                .as_ref()
                .map(|c| c.options.terminator.unwrap_or(b'\n')),
            store: object_store,
            json: this.json_read()?,
            skipped_lines: self.csv.as_ref().map_or(0, |c| c.skip),
            ignore_errors: self.csv.as_ref().is_some_and(|c| c.ignore_errors),
        }))
    }

    fn with_batch_size(&self, batch_size: usize) -> Arc<dyn FileSource> {
        Arc::new(NamedSource {
            inner: self.inner.with_batch_size(batch_size),
            csv: self.csv.clone(),
            ranges: self.ranges.clone(),
            batch_size: Some(batch_size),
            json_array: self.json_array,
        })
    }

    forwarded_to_inner!();
}

/// Opens a file with the inner opener of its compression and names the
/// file in its decode errors.
struct NamedOpener {
    /// The scan's compression, and the inner opener of its files.
    scan: FileCompressionType,
    inner: Arc<dyn FileOpener>,
    /// The inner opener of each other compression among the scan's files.
    openers: Vec<(FileCompressionType, Arc<dyn FileOpener>)>,
    /// A file read in a byte range is moved to record starts, found from
    /// the store.
    ranges: Option<Arc<CsvRanges>>,
    /// CSV's line end (its terminator, else `\n`); `None` for JSON.
    line_end: Option<u8>,
    /// The store the files are read from.
    store: Arc<dyn ObjectStore>,
    /// JSON: what finds the line of a refused record.
    json: Option<Arc<JsonRead>>,
    /// Lines dropped before the decoder (`skip`), added to its line numbers.
    skipped_lines: u64,
    /// `ignore_errors` was asked for: the error says why it did not apply.
    ignore_errors: bool,
}

/// What a decode error adds under `ignore_errors`.
const CANNOT_SKIP: &str = "(ignore_errors skips rows whose values do not convert to their \
                           column's type; a row with another number of columns still stops \
                           the read: read with null_padding = true, or fix the row)";

/// `err` naming `name`, and under `ignore_errors` saying why it was not skipped.
fn named(
    name: &str,
    start: u64,
    skipped: u64,
    ignore_errors: bool,
    err: datafusion::error::DataFusionError,
) -> datafusion::error::DataFusionError {
    let err = name_decode_error(name, start, skipped, err);
    match err {
        datafusion::error::DataFusionError::External(e)
            if ignore_errors && e.is::<s3sql_formats::FormatError>() =>
        {
            datafusion::error::DataFusionError::External(format!("{e} {CANNOT_SKIP}").into())
        }
        other => other,
    }
}

impl FileOpener for NamedOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let name: Arc<str> = match file.extensions.get::<FileName>() {
            Some(FileName(name)) => name.as_str().into(),
            None => file.object_meta.location.as_ref().into(),
        };
        let (skipped, ignore) = (self.skipped_lines, self.ignore_errors);
        let start = file
            .range
            .as_ref()
            .map_or(0, |r| u64::try_from(r.start).unwrap_or(0));
        let compression = compression_of(&file, self.scan);
        let opener = Arc::clone(
            self.openers
                .iter()
                .find(|(c, _)| *c == compression)
                .map_or(&self.inner, |(_, opener)| opener),
        );
        let ranges = self.ranges.clone().filter(|_| file.range.is_some());
        let (store, line_end) = (Arc::clone(&self.store), self.line_end);
        let json = self.json.clone();
        let location = file.object_meta.location.clone();
        Ok(async move {
            let opened = match ranges {
                Some(ranges) => ranges.read(&store, file, |f| opener.open(f)).await,
                None => async { Ok((opener.open(file)?.await?, start)) }.await,
            };
            let (stream, start) = opened.map_err(|e| named(&name, start, skipped, ignore, e))?;
            Ok(stream
                .then(move |batch| match batch {
                    Ok(batch) => Either::Left(future::ready(Ok(batch))),
                    Err(e) => {
                        let (name, store, location) =
                            (Arc::clone(&name), Arc::clone(&store), location.clone());
                        let json = json.clone();
                        Either::Right(async move {
                            // A JSON record arrow refused: its line, from the
                            // file's text decoded again.
                            if let Some(json) = json.filter(|_| start == 0 && is_decode_error(&e)) {
                                let text = DecodedText::new(store, compression, true)
                                    .with_json_columns(json.columns.clone());
                                if let Ok(Some(line)) = json.line(&text, &location).await {
                                    return Err(name_json_decode_error(&name, line, e));
                                }
                                return Err(named(&name, start, skipped, ignore, e));
                            }
                            // Past the file's start arrow counts lines from
                            // the range's: the lines before it are counted.
                            let before = match line_end {
                                Some(line_end) if start > 0 && is_decode_error(&e) => {
                                    lines_before(&store, &location, start, line_end).await.ok()
                                }
                                _ => None,
                            };
                            Err(match before {
                                Some(lines) => named(&name, 0, lines, ignore, e),
                                None => named(&name, start, skipped, ignore, e),
                            })
                        })
                    }
                })
                .boxed())
        }
        .boxed())
    }
}

/// What finds the line of a JSON record arrow-json refused.
struct JsonRead {
    /// The file columns the read decodes.
    schema: SchemaRef,
    /// The JSON columns, rewritten as the read rewrites them.
    columns: Vec<String>,
}

impl JsonRead {
    /// The line the first record of `location` (read through `text`)
    /// that does not decode starts on. Read only after an error.
    async fn line(&self, text: &DecodedText, location: &Path) -> Result<Option<u64>> {
        let mut finder = JsonErrorLine::new(Arc::clone(&self.schema))?;
        let mut body = text.get(location).await?.into_stream();
        while let Some(chunk) = body.next().await {
            if let Some(line) = finder.push(&chunk?) {
                return Ok(Some(line));
            }
        }
        Ok(finder.finish())
    }
}

/// How many lines of `location` come before a range read from `start`
/// (past 0): the line ends up to the first at or after byte `start - 1`,
/// after which the range's first record starts. Read from the file's
/// start, only for an error's line.
async fn lines_before(
    store: &Arc<dyn ObjectStore>,
    location: &Path,
    start: u64,
    line_end: u8,
) -> Result<u64> {
    let last = start.saturating_sub(1);
    let mut body = store.get(location).await?.into_stream();
    let (mut lines, mut at) = (0, 0u64);
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        for (i, _) in chunk.iter().enumerate().filter(|(_, b)| **b == line_end) {
            lines += 1;
            if at + i as u64 >= last {
                return Ok(lines);
            }
        }
        at += chunk.len() as u64;
    }
    Ok(lines)
}
