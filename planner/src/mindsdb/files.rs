//! `ds.files`: one row per object of a database, with MindsDB's columns
//! `path`, `name`, `extension`, `bucket`, `content` and `public_url`, plus
//! `size`, `last_modified` and `etag`. The listing is paginated to its end
//! (MindsDB's own handler stops at 1,000 keys); `bucket = ...`,
//! `bucket IN (...)` and `path LIKE 'prefix%'` narrow the listing itself;
//! an object's bytes are fetched only when `content` is selected, and a
//! presigned URL is made only when `public_url` is.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, BinaryArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::Session as CatalogSession;
use datafusion::common::ScalarValue;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use futures::{StreamExt, TryStreamExt};
use s3sql_s3_client::{
    GetObjectRequest, ListObjectsV2Page, ListObjectsV2Request, ObjectMeta, S3Client,
};

use super::database::Database;
use crate::error::Result;
use crate::settings::Settings;

/// How long a `public_url` stays valid, as MindsDB's.
const PUBLIC_URL_LIFETIME: Duration = Duration::from_secs(3600);
/// Objects fetched at once for `content`.
const CONTENT_FETCHES_IN_FLIGHT: usize = 8;

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
    ]))
}

const CONTENT: usize = 4;
const PUBLIC_URL: usize = 5;

/// The `files` table of `database`.
pub(crate) async fn files_table(
    database: Arc<Database>,
    settings: &Settings,
) -> Result<Arc<dyn TableProvider>> {
    let (client, _) = database.client(settings).await?;
    Ok(Arc::new(FilesTable {
        bucket: database.bucket().map(str::to_owned),
        client,
        schema: schema(),
    }))
}

/// The table: a listing, run when scanned.
struct FilesTable {
    bucket: Option<String>,
    client: S3Client,
    schema: SchemaRef,
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
/// `path = 'key'` (the key itself is the longest prefix it has).
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
        // Inexact: the listing is narrowed, and DataFusion still applies
        // the filter to what it returns.
        Ok(filters
            .iter()
            .map(|f| {
                if bucket_filter(f).is_some() || prefix_filter(f).is_some() {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        _state: &dyn CatalogSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let wanted = |column: usize| projection.is_none_or(|p| p.contains(&column));
        let listing = Listing {
            schema: Arc::clone(&self.schema),
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            narrowing: Narrowing::from_filters(filters),
            content: wanted(CONTENT),
            public_url: wanted(PUBLIC_URL),
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

/// One scan of the table: the listing, and which costly columns to fill.
struct Listing {
    schema: SchemaRef,
    client: S3Client,
    bucket: Option<String>,
    narrowing: Narrowing,
    content: bool,
    public_url: bool,
}

impl fmt::Debug for Listing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listing")
            .field("bucket", &self.bucket)
            .field("narrowing", &self.narrowing)
            .field("content", &self.content)
            .field("public_url", &self.public_url)
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
            content: self.content,
            public_url: self.public_url,
        });
        let client = self.client.clone();
        let own = self.bucket.clone();
        let allowed = self.narrowing.buckets.clone();
        let prefix = self.narrowing.prefix.clone();
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
                        async move { job.batch(&bucket, page.objects).await }
                    })
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
    content: bool,
    public_url: bool,
}

impl ListingJob {
    /// The rows of one listed page (folder markers, keys ending in `/`, left out).
    async fn batch(
        &self,
        bucket: &str,
        objects: Vec<ObjectMeta>,
    ) -> datafusion::error::Result<RecordBatch> {
        let objects: Vec<ObjectMeta> = objects
            .into_iter()
            .filter(|o| !o.key.ends_with('/'))
            .collect();
        let contents: Vec<Option<bytes::Bytes>> = if self.content {
            // Each fetch owns what it uses: a closure borrowing across the
            // await trips rustc's higher-ranked `Send` check
            // (rust-lang/rust#102211).
            let fetches: Vec<_> = objects
                .iter()
                .map(|o| {
                    let (client, bucket, key) =
                        (self.client.clone(), bucket.to_owned(), o.key.clone());
                    async move {
                        client
                            .get_object_bytes(&bucket, &key, &GetObjectRequest::default())
                            .await
                    }
                })
                .collect();
            futures::stream::iter(fetches)
                .buffered(CONTENT_FETCHES_IN_FLIGHT)
                .map_ok(Some)
                .try_collect()
                .await
                .map_err(external)?
        } else {
            vec![None; objects.len()]
        };
        let mut urls = Vec::with_capacity(objects.len());
        for o in &objects {
            urls.push(if self.public_url {
                Some(
                    self.client
                        .presign_get(bucket, &o.key, PUBLIC_URL_LIFETIME)
                        .await
                        .map_err(external)?,
                )
            } else {
                None
            });
        }
        let name = |key: &str| key.rsplit('/').next().unwrap_or(key).to_owned();
        let extension = |key: &str| {
            let file = key.rsplit('/').next().unwrap_or(key);
            file.rsplit_once('.')
                .map(|(_, e)| e.to_ascii_lowercase())
                .unwrap_or_default()
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                objects.iter().map(|o| o.key.as_str()),
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
            Arc::new(BinaryArray::from_iter(
                contents.iter().map(|c| c.as_deref()),
            )),
            Arc::new(StringArray::from(urls)),
            Arc::new(Int64Array::from_iter_values(
                objects
                    .iter()
                    .map(|o| i64::try_from(o.size).unwrap_or(i64::MAX)),
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
        ];
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

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
        assert_eq!(
            prefix_filter(&col("path").like(lit("a\\_b%"))).as_deref(),
            Some("a_b")
        );
    }
}
