//! `ds.files`: one row per object of a database, with MindsDB's columns
//! `path` (the key, or `bucket/key` when the database names no bucket, as
//! MindsDB gives it: the name ``ds.`<path>` `` reads), `name`,
//! `extension`, `bucket`, `content` and `public_url`, plus
//! `size`, `last_modified`, `etag` and `storage_class` (an archived
//! object's content cannot be fetched until it is restored). The listing is paginated to its end
//! (MindsDB's own handler stops at 1,000 keys); `bucket = ...`,
//! `bucket IN (...)` and `path LIKE 'prefix%'` narrow the listing itself;
//! every filter on the listing's own columns is applied by the scan, and
//! LIMIT with them, before an object's bytes are fetched (only when
//! `content` is selected, and only for the rows left, not for those an
//! OFFSET right above drops) or a presigned URL made (only when
//! `public_url` is). Content comes in batches of at most
//! [`CONTENT_BATCH_BYTES`], so a page of large objects is never held whole.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray, new_null_array,
};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::Session as CatalogSession;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use futures::{StreamExt, TryStreamExt};
use s3sql_glob_list::{GlobError, MAX_OBJECT_SIZE};
use s3sql_s3_client::{
    GetObjectRequest, ListObjectsV2Page, ListObjectsV2Request, ObjectMeta, S3Client,
    valid_bucket_name,
};

use super::database::Database;
use crate::error::Result;
use crate::scan::request::{OptionValue, ScanRequest};
use crate::settings::Settings;

/// How long a `public_url` stays valid, as MindsDB's.
const PUBLIC_URL_LIFETIME: Duration = Duration::from_secs(3600);
/// Objects fetched at once for `content`.
const CONTENT_FETCHES_IN_FLIGHT: usize = 8;
/// The content one batch holds at most (an object larger than this has a
/// batch of its own).
const CONTENT_BATCH_BYTES: u64 = 256 << 20;
/// The largest `content` value: arrow's `Binary` counts its bytes in an i32.
const CONTENT_MAX_BYTES: u64 = i32::MAX as u64;

/// The columns, in order.
fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("path", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("extension", DataType::Utf8, false),
        Field::new("bucket", DataType::Utf8, false),
        Field::new("content", DataType::Binary, true),
        Field::new("public_url", DataType::Utf8, true),
        Field::new("size", DataType::Int64, false),
        Field::new(
            "last_modified",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("etag", DataType::Utf8, true),
        Field::new("storage_class", DataType::Utf8, true),
    ]))
}

const PATH: usize = 0;
const BUCKET: usize = 3;
const CONTENT: usize = 4;
const PUBLIC_URL: usize = 5;
const SIZE: usize = 6;
const ETAG: usize = 8;
const STORAGE_CLASS: usize = 9;

/// The `files` table of `database`, for `request` (whose `offset`, set
/// by the MindsDB resolver, is how many of its first rows an OFFSET
/// drops).
pub(crate) async fn files_table(
    database: Arc<Database>,
    request: &ScanRequest,
    settings: &Settings,
) -> Result<Arc<dyn TableProvider>> {
    let (client, _) = database.client(settings).await?;
    let skipped = match request.option(super::resolve::OFFSET) {
        Some(OptionValue::Int(n)) => usize::try_from(*n).unwrap_or(0),
        _ => 0,
    };
    Ok(Arc::new(FilesTable {
        bucket: database.bucket().map(str::to_owned),
        client,
        schema: schema(),
        skipped,
        unapplied_filter: AtomicBool::new(false),
    }))
}

/// The table: a listing, run when scanned.
struct FilesTable {
    bucket: Option<String>,
    client: S3Client,
    schema: SchemaRef,
    /// The first rows an OFFSET right above the table drops, whose content
    /// is then not fetched.
    skipped: usize,
    /// Whether a filter was left to DataFusion (one on `content` or
    /// `public_url`, or a volatile one): it drops rows between the table
    /// and the OFFSET, so the rows OFFSET drops are not the table's first.
    unapplied_filter: AtomicBool,
}

impl fmt::Debug for FilesTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilesTable")
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

/// What the filters let the listing skip.
#[derive(Debug, Default, Clone)]
struct Narrowing {
    /// Only these buckets (`bucket = 'b'`, `bucket IN (...)`); several
    /// filters intersect.
    buckets: Option<BTreeSet<String>>,
    /// Only keys under this prefix (`path LIKE 'prefix%'`).
    prefix: Option<String>,
    /// Only buckets whose name starts so (`path LIKE 'bk%'` of a database
    /// without a bucket, whose paths begin with the bucket).
    bucket_prefix: Option<String>,
}

fn column_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Column(c) => Some(c.name.as_str()),
        _ => None,
    }
}

fn string_literal(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Literal(ScalarValue::Utf8(Some(s)), _)
        | Expr::Literal(ScalarValue::LargeUtf8(Some(s)), _)
        | Expr::Literal(ScalarValue::Utf8View(Some(s)), _) => Some(s.as_str()),
        _ => None,
    }
}

/// The buckets a filter allows, if it is `bucket = '...'` or `bucket IN (...)`.
fn bucket_filter(filter: &Expr) -> Option<BTreeSet<String>> {
    match filter {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => {
            let (column, value) = match (column_name(left), column_name(right)) {
                (Some(c), _) => (c, string_literal(right)?),
                (_, Some(c)) => (c, string_literal(left)?),
                _ => return None,
            };
            (column == "bucket").then(|| BTreeSet::from([value.to_owned()]))
        }
        // DataFusion rewrites a short IN list into ORs of equalities.
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => {
            let mut either = bucket_filter(left)?;
            either.extend(bucket_filter(right)?);
            Some(either)
        }
        Expr::InList(list) if !list.negated && column_name(&list.expr) == Some("bucket") => list
            .list
            .iter()
            .map(|e| string_literal(e).map(str::to_owned))
            .collect(),
        _ => None,
    }
}

/// The key prefix a filter implies, if it is `path LIKE 'prefix%...'` or
/// `path = 'key'` (the key itself is the longest prefix it has). The
/// pattern is read as DataFusion runs it, `\` its escape unless another is
/// given: DuckDB's LIKE, which has no escape, comes here with its
/// backslashes doubled (`like_pattern.rs`), so `'win\dir%'` lists the
/// prefix `win\dir` and `'under\_%'` the prefix `under\`.
fn prefix_filter(filter: &Expr) -> Option<String> {
    if let Expr::BinaryExpr(binary) = filter
        && binary.op == Operator::Eq
    {
        return match (column_name(&binary.left), column_name(&binary.right)) {
            (Some("path"), _) => string_literal(&binary.right).map(str::to_owned),
            (_, Some("path")) => string_literal(&binary.left).map(str::to_owned),
            _ => None,
        };
    }
    let Expr::Like(like) = filter else {
        return None;
    };
    if like.negated || like.case_insensitive || column_name(&like.expr) != Some("path") {
        return None;
    }
    let pattern = string_literal(&like.pattern)?;
    let escape = like.escape_char.unwrap_or('\\');
    let mut prefix = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' | '_' => break,
            c if c == escape => prefix.push(chars.next()?),
            c => prefix.push(c),
        }
    }
    Some(prefix)
}

impl Narrowing {
    fn from_filters(filters: &[Expr]) -> Self {
        let mut narrowing = Self::default();
        for filter in filters {
            if let Some(allowed) = bucket_filter(filter) {
                narrowing.buckets = Some(match narrowing.buckets.take() {
                    Some(before) => before.intersection(&allowed).cloned().collect(),
                    None => allowed,
                });
            } else if let Some(prefix) = prefix_filter(filter) {
                // Of two prefixes, the longer one (a key under both has it).
                if narrowing
                    .prefix
                    .as_ref()
                    .is_none_or(|p| p.len() < prefix.len())
                {
                    narrowing.prefix = Some(prefix);
                }
            }
        }
        narrowing
    }

    /// The narrowing of a database without a bucket, whose `path` is
    /// `bucket/key`: a path prefix's first segment names the one bucket
    /// to list (its rest is the key prefix), or, without a '/', starts
    /// the buckets' names.
    fn of_paths_with_buckets(mut self) -> Self {
        let Some(prefix) = self.prefix.take() else {
            return self;
        };
        match prefix.split_once('/') {
            Some((bucket, key)) => {
                let named = BTreeSet::from([bucket.to_owned()]);
                self.buckets = Some(match self.buckets.take() {
                    Some(before) => before.intersection(&named).cloned().collect(),
                    None => named,
                });
                self.prefix = (!key.is_empty()).then(|| key.to_owned());
            }
            None => self.bucket_prefix = Some(prefix),
        }
        self
    }
}

#[async_trait]
impl TableProvider for FilesTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        // A filter on the listing's own columns is applied by the scan
        // itself, before any content is fetched (bucket and path filters
        // narrow the listing too); one on content or public_url is left to
        // DataFusion.
        Ok(filters
            .iter()
            .map(|f| {
                if on_listed_columns(f) {
                    TableProviderFilterPushDown::Exact
                } else {
                    self.unapplied_filter.store(true, Ordering::Relaxed);
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn CatalogSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let wanted = |column: usize| projection.is_none_or(|p| p.contains(&column));
        let predicate = match conjunction(filters.iter().cloned()) {
            Some(filter) => {
                let schema = DFSchema::try_from(self.schema.as_ref().clone())?;
                Some(state.create_physical_expr(filter, &schema)?)
            }
            None => None,
        };
        let narrowing = match self.bucket {
            Some(_) => Narrowing::from_filters(filters),
            None => Narrowing::from_filters(filters).of_paths_with_buckets(),
        };
        let listing = Listing {
            schema: Arc::clone(&self.schema),
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            narrowing,
            predicate,
            limit,
            content: wanted(CONTENT),
            public_url: wanted(PUBLIC_URL),
            skipped: if self.unapplied_filter.load(Ordering::Relaxed) {
                0
            } else {
                self.skipped
            },
        };
        Ok(Arc::new(StreamingTableExec::try_new(
            Arc::clone(&self.schema),
            vec![Arc::new(listing)],
            projection,
            Vec::new(),
            false,
            limit,
        )?))
    }
}

/// Whether `filter` reads only columns the listing gives (not `content`
/// or `public_url`), so the scan can apply it before fetching anything.
fn on_listed_columns(filter: &Expr) -> bool {
    !filter.is_volatile()
        && filter
            .column_refs()
            .iter()
            .all(|c| c.name != "content" && c.name != "public_url")
}

/// One scan of the table: the listing, the filters and LIMIT applied to
/// it, and which costly columns to fill.
struct Listing {
    schema: SchemaRef,
    client: S3Client,
    bucket: Option<String>,
    narrowing: Narrowing,
    predicate: Option<Arc<dyn PhysicalExpr>>,
    limit: Option<usize>,
    content: bool,
    public_url: bool,
    /// The first rows OFFSET drops: given without content or URL.
    skipped: usize,
}

impl fmt::Debug for Listing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listing")
            .field("bucket", &self.bucket)
            .field("narrowing", &self.narrowing)
            .field("limit", &self.limit)
            .field("content", &self.content)
            .field("public_url", &self.public_url)
            .field("skipped", &self.skipped)
            .finish_non_exhaustive()
    }
}

impl PartitionStream for Listing {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let job = Arc::new(ListingJob {
            schema: Arc::clone(&self.schema),
            client: self.client.clone(),
            predicate: self.predicate.clone(),
            remaining: Mutex::new(self.limit),
            content: self.content,
            public_url: self.public_url,
            skipped: Mutex::new(self.skipped),
            bucket_in_path: self.bucket.is_none(),
        });
        let client = self.client.clone();
        let own = self.bucket.clone();
        let allowed = self.narrowing.buckets.clone();
        let prefix = self.narrowing.prefix.clone();
        let bucket_prefix = self.narrowing.bucket_prefix.clone();
        // Buckets the filters name are listed themselves: ListBuckets may be
        // refused to the key, and misses buckets shared with it.
        let named = own.is_none() && allowed.is_some();
        let buckets = futures::stream::once(async move {
            let all: Vec<String> = match (own, &allowed) {
                (Some(bucket), _) => vec![bucket],
                (None, Some(allowed)) => allowed.iter().cloned().collect(),
                (None, None) => client
                    .list_buckets()
                    .await
                    .map_err(external)?
                    .into_iter()
                    .map(|b| b.name)
                    .collect(),
            };
            Ok::<_, DataFusionError>(futures::stream::iter(
                all.into_iter()
                    .filter(move |b| allowed.as_ref().is_none_or(|a| a.contains(b)))
                    // A name S3 refuses, from a filter or a path's first
                    // segment, is a bucket that holds nothing.
                    .filter(move |b| !named || valid_bucket_name(b).is_ok())
                    .filter(move |b| bucket_prefix.as_ref().is_none_or(|p| b.starts_with(p)))
                    .map(Ok::<_, DataFusionError>),
            ))
        })
        .try_flatten();
        let batches = buckets
            .map_ok(move |bucket| {
                let job = Arc::clone(&job);
                let request = ListObjectsV2Request {
                    prefix: prefix.clone(),
                    ..ListObjectsV2Request::default()
                };
                job.client
                    .list_objects_v2(&bucket, request)
                    // A bucket named that does not exist holds nothing.
                    .or_else(move |e| {
                        futures::future::ready(if named && e.code() == Some("NoSuchBucket") {
                            Ok(ListObjectsV2Page::default())
                        } else {
                            Err(e)
                        })
                    })
                    .map_err(external)
                    .and_then(move |page| {
                        let job = Arc::clone(&job);
                        let bucket = bucket.clone();
                        async move {
                            let rows = job.rows(&bucket, page.objects)?;
                            Ok(job.filled(rows))
                        }
                    })
                    .try_flatten()
            })
            .try_flatten();
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            batches,
        ))
    }
}

fn external(e: impl std::error::Error + Send + Sync + 'static) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// What turning a listed page into rows needs.
struct ListingJob {
    schema: SchemaRef,
    client: S3Client,
    /// The filters on the listing's columns, all of them.
    predicate: Option<Arc<dyn PhysicalExpr>>,
    /// Rows LIMIT still lets through.
    remaining: Mutex<Option<usize>>,
    content: bool,
    public_url: bool,
    /// Rows OFFSET still drops: given without content or URL.
    skipped: Mutex<usize>,
    /// Whether `path` is `bucket/key` (a database without a bucket), as
    /// MindsDB gives it: the name ``ds.`<path>` `` and SHOW TABLES FROM
    /// take (review-10g #4).
    bucket_in_path: bool,
}

impl ListingJob {
    /// The rows of one listed page (folder markers, keys ending in `/`,
    /// left out) that pass the filters and LIMIT, `content` and
    /// `public_url` still empty.
    fn rows(
        &self,
        bucket: &str,
        objects: Vec<ObjectMeta>,
    ) -> datafusion::error::Result<RecordBatch> {
        let objects: Vec<ObjectMeta> = objects
            .into_iter()
            .filter(|o| !o.key.ends_with('/'))
            .collect();
        // A size no object has is the listing's error, as the scans
        // refuse it; `size` showed it clamped (review-10g #9).
        if let Some(o) = objects.iter().find(|o| o.size > MAX_OBJECT_SIZE) {
            return Err(DataFusionError::External(Box::new(
                GlobError::ImplausibleSize {
                    url: format!("s3://{bucket}/{}", s3sql_s3_client::ShownKey(&o.key)),
                    size: o.size,
                },
            )));
        }
        let name = |key: &str| key.rsplit('/').next().unwrap_or(key).to_owned();
        // As the key writes it (`CSV` for REPORT.CSV), as MindsDB's handler
        // gives it, so its queries' `extension = 'CSV'` find the object
        // (review-10g #12); "" for a name without a dot.
        let extension = |key: &str| {
            let file = key.rsplit('/').next().unwrap_or(key);
            file.rsplit_once('.')
                .map(|(_, e)| e.to_owned())
                .unwrap_or_default()
        };
        let path = |key: &str| match self.bucket_in_path {
            true => format!("{bucket}/{key}"),
            false => key.to_owned(),
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                objects.iter().map(|o| path(&o.key)),
            )),
            Arc::new(StringArray::from_iter_values(
                objects.iter().map(|o| name(&o.key)),
            )),
            Arc::new(StringArray::from_iter_values(
                objects.iter().map(|o| extension(&o.key)),
            )),
            Arc::new(StringArray::from_iter_values(
                objects.iter().map(|_| bucket),
            )),
            new_null_array(&DataType::Binary, objects.len()),
            new_null_array(&DataType::Utf8, objects.len()),
            Arc::new(Int64Array::from_iter_values(
                objects
                    .iter()
                    .map(|o| i64::try_from(o.size).unwrap_or_default()),
            )),
            Arc::new(
                TimestampMicrosecondArray::from(
                    objects
                        .iter()
                        .map(|o| o.last_modified.map(|t| t.timestamp_micros()))
                        .collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from(
                objects
                    .iter()
                    .map(|o| o.etag.as_deref().map(|e| e.trim_matches('"').to_owned()))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                objects
                    .iter()
                    .map(|o| o.storage_class.clone())
                    .collect::<Vec<_>>(),
            )),
        ];
        let mut rows = RecordBatch::try_new(Arc::clone(&self.schema), columns)?;
        if let Some(predicate) = &self.predicate {
            let kept = predicate.evaluate(&rows)?.into_array(rows.num_rows())?;
            let kept = kept
                .as_any()
                .downcast_ref::<BooleanArray>()
                .ok_or_else(|| {
                    DataFusionError::Internal("a files filter is not a boolean".into())
                })?;
            rows = filter_record_batch(&rows, kept)?;
        }
        let mut remaining = self.remaining.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(left) = remaining.as_mut() {
            let taken = rows.num_rows().min(*left);
            *left -= taken;
            rows = rows.slice(0, taken);
        }
        Ok(rows)
    }

    /// `rows` with `content` and `public_url` filled as selected, in
    /// batches of at most [`CONTENT_BATCH_BYTES`] of content, each fetched
    /// only when the one before it was taken; the first rows OFFSET drops
    /// go as they are. Pages are given in order, so the rows OFFSET drops
    /// are counted off in order.
    fn filled(
        self: Arc<Self>,
        rows: RecordBatch,
    ) -> impl futures::Stream<Item = datafusion::error::Result<RecordBatch>> + Send + 'static {
        let dropped = {
            let mut left = self.skipped.lock().unwrap_or_else(|p| p.into_inner());
            let dropped = rows.num_rows().min(*left);
            *left -= dropped;
            dropped
        };
        let unfilled = (dropped > 0).then(|| Ok(rows.slice(0, dropped)));
        let rows = rows.slice(dropped, rows.num_rows() - dropped);
        let sizes: Vec<u64> = rows
            .column(SIZE)
            .as_any()
            .downcast_ref::<Int64Array>()
            .map(|a| {
                a.values()
                    .iter()
                    .map(|s| u64::try_from(*s).unwrap_or(0))
                    .collect()
            })
            .unwrap_or_default();
        let chunks = if self.content {
            content_batches(&sizes)
        } else {
            std::iter::once(0..rows.num_rows()).collect()
        };
        let filled = futures::stream::iter(chunks).then(move |range| {
            let job = Arc::clone(&self);
            let rows = rows.slice(range.start, range.len());
            async move { job.fill(rows).await }
        });
        futures::stream::iter(unfilled).chain(filled)
    }

    /// One batch of rows with its `content` and `public_url`.
    async fn fill(&self, rows: RecordBatch) -> datafusion::error::Result<RecordBatch> {
        if !self.content && !self.public_url {
            return Ok(rows);
        }
        let text = |column: usize| {
            rows.column(column)
                .as_any()
                .downcast_ref::<StringArray>()
                .map(|a| a.iter().map(|v| v.unwrap_or_default().to_owned()).collect())
                .unwrap_or_else(|| vec![String::new(); rows.num_rows()])
        };
        let (paths, buckets): (Vec<String>, Vec<String>) = (text(PATH), text(BUCKET));
        let keys: Vec<String> = match self.bucket_in_path {
            true => paths
                .iter()
                .zip(&buckets)
                .map(|(path, bucket)| {
                    let key = path.strip_prefix(bucket.as_str()).unwrap_or(path);
                    key.strip_prefix('/').unwrap_or(key).to_owned()
                })
                .collect(),
            false => paths,
        };
        let mut columns = rows.columns().to_vec();
        if self.content {
            let sizes = rows.column(SIZE).as_any().downcast_ref::<Int64Array>();
            for (i, key) in keys.iter().enumerate() {
                let size = sizes.map_or(0, |s| u64::try_from(s.value(i)).unwrap_or(0));
                if size > CONTENT_MAX_BYTES {
                    return Err(too_large(&buckets[i], key, size));
                }
            }
            // Each fetch owns what it uses: a closure borrowing across the
            // await trips rustc's higher-ranked `Send` check
            // (rust-lang/rust#102211).
            let classes = rows
                .column(STORAGE_CLASS)
                .as_any()
                .downcast_ref::<StringArray>();
            let etags = rows.column(ETAG).as_any().downcast_ref::<StringArray>();
            let fetches: Vec<_> = keys
                .iter()
                .zip(&buckets)
                .enumerate()
                .map(|(i, (key, bucket))| {
                    let (client, bucket, key) = (self.client.clone(), bucket.clone(), key.clone());
                    let class = classes
                        .filter(|c| c.is_valid(i))
                        .map(|c| c.value(i).to_owned());
                    // The version the row lists, at its size: the content
                    // of another was paired with this row's ETag and size
                    // (review-10h #3).
                    let pinned = GetObjectRequest {
                        if_match: etags
                            .filter(|e| e.is_valid(i))
                            .map(|e| format!("\"{}\"", e.value(i))),
                        size: sizes.map(|s| u64::try_from(s.value(i)).unwrap_or(0)),
                        ..GetObjectRequest::default()
                    };
                    async move {
                        client
                            .get_object_bytes(&bucket, &key, &pinned)
                            .await
                            .map_err(|e| archived(e, &bucket, &key, class.as_deref()))
                    }
                })
                .collect();
            let contents: Vec<bytes::Bytes> = futures::stream::iter(fetches)
                .buffered(CONTENT_FETCHES_IN_FLIGHT)
                .try_collect()
                .await?;
            // An object may have grown since it was listed.
            let mut total = 0u64;
            for ((content, key), bucket) in contents.iter().zip(&keys).zip(&buckets) {
                total += content.len() as u64;
                if total > CONTENT_MAX_BYTES {
                    return Err(too_large(bucket, key, content.len() as u64));
                }
            }
            columns[CONTENT] = Arc::new(BinaryArray::from_iter_values(
                contents.iter().map(|c| c.as_ref()),
            ));
        }
        if self.public_url {
            let mut urls = Vec::with_capacity(keys.len());
            for (key, bucket) in keys.iter().zip(&buckets) {
                urls.push(
                    self.client
                        .presign_get(bucket, key, PUBLIC_URL_LIFETIME)
                        .await
                        .map_err(external)?,
                );
            }
            columns[PUBLIC_URL] = Arc::new(StringArray::from(urls));
        }
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

/// The rows of each batch of content, in order: consecutive rows whose
/// sizes add up to at most [`CONTENT_BATCH_BYTES`] (one row alone when it
/// is larger).
fn content_batches(sizes: &[u64]) -> Vec<Range<usize>> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, size) in sizes.iter().enumerate() {
        if i > start && bytes + size > CONTENT_BATCH_BYTES {
            batches.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < sizes.len() {
        batches.push(start..sizes.len());
    }
    batches
}

/// The error of fetching an object's content: for an object replaced
/// since it was listed (its GET pinned to the listed ETag answered 412),
/// that it changed; for an archived object
/// (S3 answers 403 InvalidObjectState until it is restored) it names the
/// storage class the listing gave and how to leave such objects out.
fn archived(
    error: s3sql_s3_client::Error,
    bucket: &str,
    key: &str,
    class: Option<&str>,
) -> DataFusionError {
    if error.is_precondition_failed() {
        return DataFusionError::External(
            format!(
                "files: s3://{bucket}/{} changed while files was read (another version than the one listed is there now): run the query again ({error})",
                s3sql_s3_client::ShownKey(key)
            )
            .into(),
        );
    }
    if error.code() != Some("InvalidObjectState") {
        return external(error);
    }
    let class = class.unwrap_or("an archive tier");
    DataFusionError::External(
        format!(
            "files: the content of s3://{bucket}/{} cannot be read: its storage class is {class}, archived until restored (RestoreObject; a restored copy is readable for the days asked); leave archived objects out, e.g. WHERE coalesce(storage_class, 'STANDARD') NOT IN ('GLACIER', 'DEEP_ARCHIVE'), or select files without content ({error})",
            s3sql_s3_client::ShownKey(key)
        )
        .into(),
    )
}

/// The error for an object whose content does not fit a `content` value.
fn too_large(bucket: &str, key: &str, size: u64) -> DataFusionError {
    DataFusionError::External(
        format!(
            "files: the content of s3://{bucket}/{} is {size} bytes, more than the {CONTENT_MAX_BYTES} one value holds; leave content out for it, e.g. WHERE size < {CONTENT_MAX_BYTES}, and read the object itself as a table",
            s3sql_s3_client::ShownKey(key)
        )
        .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    #[test]
    fn content_comes_in_batches_of_bounded_bytes() {
        let g = 1 << 30;
        assert_eq!(content_batches(&[g + g / 10, g + g / 10]), [0..1, 1..2]);
        assert_eq!(content_batches(&[10, 20, 300 << 20, 1]), [0..2, 2..3, 3..4]);
        assert_eq!(
            content_batches(&[1; 5]),
            std::iter::once(0..5).collect::<Vec<_>>()
        );
        assert!(content_batches(&[]).is_empty());
    }

    /// An object whose content cannot be one value is an error before
    /// anything is fetched (arrow's Binary builder panicked past 2 GiB).
    #[tokio::test]
    async fn content_too_large_for_a_value_is_an_error_not_a_panic() {
        use s3sql_s3_client::{ClientConfig, Credentials, StaticCredentials};
        let config = ClientConfig::default().with_endpoint("http://127.0.0.1:9".to_owned());
        let credentials = Credentials::new("k".to_owned(), "s".to_owned());
        let client = S3Client::new(config, Arc::new(StaticCredentials(credentials))).unwrap();
        let job = Arc::new(ListingJob {
            schema: schema(),
            client,
            predicate: None,
            remaining: Mutex::new(None),
            content: true,
            public_url: false,
            skipped: Mutex::new(0),
            bucket_in_path: false,
        });
        let three_gib = 3u64 << 30;
        let object = ObjectMeta::new("big.csv", three_gib);
        let rows = job.rows("b", vec![object]).unwrap();
        let batches: Vec<_> = job.filled(rows).collect().await;
        let e = batches[0].as_ref().unwrap_err().to_string();
        assert!(
            e.contains("s3://b/big.csv is 3221225472 bytes, more than the 2147483647"),
            "{e}"
        );
        assert!(e.contains("WHERE size < 2147483647"), "{e}");
    }

    #[test]
    fn bucket_and_prefix_filters_narrow_the_listing() {
        let n = Narrowing::from_filters(&[
            col("bucket").eq(lit("a")),
            col("bucket").in_list(vec![lit("a"), lit("b")], false),
            col("path").like(lit("logs/2024%.csv")),
            col("size").gt(lit(3)),
        ]);
        assert_eq!(n.buckets, Some(BTreeSet::from(["a".to_owned()])));
        assert_eq!(n.prefix.as_deref(), Some("logs/2024"));
        let n = Narrowing::from_filters(&[
            col("path").not_like(lit("x%")),
            col("bucket").in_list(vec![lit("a")], true),
        ]);
        assert!(n.buckets.is_none() && n.prefix.is_none());
        let n =
            Narrowing::from_filters(&[col("bucket").eq(lit("a")).or(col("bucket").eq(lit("b")))]);
        assert_eq!(n.buckets, Some(BTreeSet::from(["a".into(), "b".into()])));
        let n = Narrowing::from_filters(&[col("bucket").eq(lit("a")).or(col("size").gt(lit(1)))]);
        assert!(n.buckets.is_none());
        // The plan's pattern, `\` its escape: SQL's `LIKE 'a\_b%' ESCAPE
        // '\'`; DuckDB's `LIKE 'a\_b%'` is planned as `a\\_b%`.
        assert_eq!(
            prefix_filter(&col("path").like(lit("a\\_b%"))).as_deref(),
            Some("a_b")
        );
        assert_eq!(
            prefix_filter(&col("path").like(lit("a\\\\_b%"))).as_deref(),
            Some("a\\")
        );
    }

    /// Without a bucket, `path` begins with the bucket: a path prefix
    /// names the bucket to list and the key prefix, or starts the
    /// buckets' names.
    #[test]
    fn a_path_prefix_of_a_database_without_a_bucket_names_its_bucket() {
        let narrowed = |filters: &[Expr]| Narrowing::from_filters(filters).of_paths_with_buckets();
        let n = narrowed(&[col("path").like(lit("bkt/logs/%"))]);
        assert_eq!(n.buckets, Some(BTreeSet::from(["bkt".to_owned()])));
        assert_eq!(n.prefix.as_deref(), Some("logs/"));
        let n = narrowed(&[
            col("path").eq(lit("bkt/a.csv")),
            col("bucket").eq(lit("other")),
        ]);
        assert_eq!(n.buckets, Some(BTreeSet::new()));
        let n = narrowed(&[col("path").like(lit("bkt/%"))]);
        assert!(n.prefix.is_none() && n.bucket_prefix.is_none());
        let n = narrowed(&[col("path").like(lit("bk%"))]);
        assert_eq!((n.buckets, n.prefix), (None, None));
        assert_eq!(n.bucket_prefix.as_deref(), Some("bk"));
    }
}
