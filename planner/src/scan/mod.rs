//! Scans: table references that name files become [`ScanRequest`]s
//! ([`request`]), the files are listed by glob-list with the secret covering
//! each pattern, each file gets the store of its own (bucket, secret)
//! ([`stores`]), and a [`FileTable`] reads them ([`table`]).

mod catalog;
mod chain;
mod column_cast;
mod columns;
mod csv_opener;
mod csv_ranges;
mod csv_sniff;
mod decoded_text;
pub(crate) mod format;
mod interval_column;
pub(crate) mod io_plan;
pub(crate) mod local;
mod named;
mod parquet_columns;
mod parquet_footers;
mod parquet_interval;
mod parquet_named;
mod progress;
mod prune;
mod ranged_body;
mod relist;
pub(crate) mod request;
mod scan_store;
mod small_objects;
pub(crate) mod stores;
pub(crate) mod table;
mod text_columns;
mod union_schema;

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::MemTable;
use datafusion::datasource::TableProvider;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionState;
use datafusion::execution::object_store::ObjectStoreUrl;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore};
use s3sql_formats::Compression;
use s3sql_glob_list::{ExpandOptions, GlobError, GlobExpander, ListObjects, Match};
use s3sql_s3_client::S3ObjectStore;
use s3sql_secrets::SecretManager;

use futures::{StreamExt, TryStreamExt};

use crate::error::{PlannerError, Result};
use crate::mindsdb::{Database, Databases};
use crate::settings::Settings;
use columns::ExtraColumns;
use io_plan::{IoPlan, Listing};
use local::{LOCAL_BUCKET, LocalBase, LocalFiles, expand_home, is_local, local_key};
use parquet_footers::{PlanningFooter, schema_and_footer};
pub use progress::{ScanMonitor, ScanProgress};
pub(crate) use request::{ScanKind, ScanRequest, extract};
use stores::{StorePicker, Stores, client_for};
use table::{FileTable, StoreFiles};

/// What building a scan needs from the session (shared parts, so that a
/// view's scan can list again: [`relist`]).
pub(crate) struct ScanContext<'a> {
    pub state: &'a SessionState,
    pub secrets: &'a Arc<SecretManager>,
    pub settings: &'a Arc<Settings>,
    pub stores: &'a Arc<Stores>,
    pub databases: &'a Arc<Databases>,
    /// The session's statement counter.
    pub statement: &'a Arc<std::sync::atomic::AtomicU64>,
}

impl ScanContext<'_> {
    /// The database signing `request`'s requests, if it names one.
    fn database(&self, request: &ScanRequest) -> Result<Option<Arc<Database>>> {
        request
            .database
            .as_deref()
            .map(|name| self.databases.require(name))
            .transpose()
    }
}

/// Footers or samples read at once when every file's schema is needed
/// (`union_by_name`), as DataFusion's own `meta_fetch_concurrency`.
const SCHEMA_READS_IN_FLIGHT: usize = 32;

/// The schema of one file, or an error naming it; for a Parquet file, the
/// footer it was read from too, which the scan can take
/// ([`PlanningFooter`]).
async fn infer_schema(
    format: &Arc<dyn FileFormat>,
    state: &SessionState,
    store: Arc<dyn ObjectStore>,
    meta: ObjectMeta,
    name: String,
) -> Result<(SchemaRef, Option<PlanningFooter>)> {
    let named = |e: DataFusionError| e.context(format!("cannot read the schema of {name}"));
    if format.is::<ParquetFormat>() {
        let (schema, footer) = schema_and_footer(format.as_ref(), state, &store, &meta)
            .await
            .map_err(named)?;
        // Its INTERVALs are read with their months (`parquet_interval`).
        let schema = extension_types_only(&parquet_interval::with_months(&schema));
        return Ok((schema, footer));
    }
    let schema = format
        .infer_schema(state, &store, std::slice::from_ref(&meta))
        .await
        .map_err(named)?;
    Ok((extension_types_only(&schema), None))
}

/// `schema` without metadata except each column's extension type (a
/// Parquet UUID or JSON column's `ARROW:extension:*`, so it reads and is
/// written back as DuckDB's UUID and JSON): other metadata differs from
/// file to file (writers' versions, pandas' statistics) and would make
/// the files' schemas conflict when merged.
fn extension_types_only(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|field| {
            let kept = field
                .metadata()
                .iter()
                .filter(|(key, _)| key.starts_with("ARROW:extension:"))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect();
            field.as_ref().clone().with_metadata(kept)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// `error`, saying which file's schema it was about.
pub(crate) fn in_file(error: PlannerError, name: &str) -> PlannerError {
    DataFusionError::External(Box::new(error))
        .context(format!("cannot read the schema of {name}"))
        .into()
}

/// Lists the files of `request` and builds the table reading them.
pub(crate) async fn build(
    request: &ScanRequest,
    cx: &ScanContext<'_>,
) -> Result<Arc<dyn TableProvider>> {
    // Tables computed from the session are computed again through a view.
    let computed: Arc<dyn TableProvider> = match request.kind {
        ScanKind::Secrets => catalog::secrets_table(cx.secrets)?,
        ScanKind::WhichSecret => catalog::which_secret_table(cx.secrets, &request.urls)?,
        ScanKind::Databases => {
            let batch = crate::mindsdb::show_databases(cx.databases)?;
            Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]])?)
        }
        ScanKind::DatabaseFiles => {
            let database = cx.database(request)?.ok_or_else(|| {
                PlannerError::argument(&request.function, "files of which database?")
            })?;
            return crate::mindsdb::files_table(database, request, cx.settings).await;
        }
        ScanKind::Glob => {
            let (listed, _) = list(request, cx).await?;
            glob_table(&listed)?
        }
        ScanKind::Files(_) => {
            let (listed, listing) = list(request, cx).await?;
            return Ok(file_table(request, cx, &listed, listing).await? as _);
        }
    };
    Ok(Arc::new(relist::RebuiltTable {
        table: computed,
        relist: relist::Relist::new(request, cx),
    }))
}

/// A matched file, on S3 or on the local file system.
struct Listed {
    found: Match,
    /// How the user would write a local file (DuckDB's `filename`): its
    /// directory as given, relative or absolute; `None` on S3.
    local: Option<String>,
}

impl Listed {
    /// The file as the user names it: its URL, or its path.
    fn name(&self) -> String {
        match &self.local {
            Some(path) => path.clone(),
            None => self.found.url.to_string(),
        }
    }

    /// Where hive partitions are looked for: the whole key of an object,
    /// the part of a local path the user wrote (DuckDB's reading: a
    /// working directory `k=v/` adds no column).
    fn hive_key(&self) -> &str {
        match &self.local {
            Some(path) => path.trim_start_matches('/'),
            None => &self.found.object.key,
        }
    }
}

/// One file of a scan, as its table is built.
struct ScanFile {
    meta: ObjectMeta,
    /// As the user names it ([`Listed::name`]).
    name: String,
    /// Where its hive partitions are ([`Listed::hive_key`]).
    hive_key: String,
}

/// Every object matching the request's URLs, in order, and the requests
/// listing them took. A file two URLs match (named twice, or by its path
/// and a glob) is read twice, as DuckDB 1.5.5 reads it; one pattern
/// matches a key once.
/// The files `request` names, and how they were listed.
async fn list(request: &ScanRequest, cx: &ScanContext<'_>) -> Result<(Vec<Listed>, Listing)> {
    let mut out = Vec::new();
    let mut listing = Listing::default();
    let allow_empty = request.kind == ScanKind::Glob;
    let database = cx.database(request)?;
    for url in &request.urls {
        let local = is_local(url);
        let path = match local {
            true => expand_home(url, std::env::home_dir().as_deref()),
            false => Cow::Borrowed(url.as_str()),
        };
        let base =
            if local {
                Some(LocalBase::of(&path).map_err(|e| {
                    PlannerError::argument(&request.function, format!("{url}: {e}"))
                })?)
            } else {
                None
            };
        let found = if local {
            let key = local_key(&path)
                .map_err(|e| PlannerError::argument(&request.function, format!("{url}: {e}")))?;
            let pattern = format!("s3://{LOCAL_BUCKET}/{key}");
            expand(Arc::new(LocalFiles), &pattern, false, allow_empty)
                .await
                .map(|(found, _)| found)
                .map_err(|e| match e {
                    GlobError::NoMatch { .. } => PlannerError::NoFiles {
                        pattern: url.clone(),
                    },
                    other => other.into(),
                })?
        } else {
            let (client, literal) = match &database {
                Some(db) => db.client(cx.settings).await?,
                None => client_for(cx.secrets, cx.settings, url).await?,
            };
            let literal = literal
                || (database.is_some() && crate::mindsdb::names_an_object(&client, url).await?);
            let (found, plan) = expand(Arc::new(client.clone()), url, literal, allow_empty).await?;
            listing.requests += client.request_count();
            listing.plans.extend(plan);
            found
        };
        for m in found {
            let local = base.as_ref().map(|b| b.name(&m.object.key));
            out.push(Listed { found: m, local });
        }
    }
    Ok((out, listing))
}

/// The objects `url` matches, and its listing plan (for EXPLAIN).
async fn expand<L: ListObjects + 'static>(
    store: Arc<L>,
    url: &str,
    literal: bool,
    allow_empty: bool,
) -> Result<(Vec<Match>, Option<String>), GlobError> {
    let options = ExpandOptions {
        url_compatibility_mode: literal,
        allow_empty,
        ..ExpandOptions::default()
    };
    let expander = GlobExpander::new(store, options);
    let plan = expander.plan(url).ok().map(|plan| plan.to_string());
    Ok((expander.expand_all(&[url]).await?, plan))
}

/// `glob(...)`: one `file` column of URLs (or paths).
fn glob_table(listed: &[Listed]) -> Result<Arc<dyn TableProvider>> {
    let schema = Arc::new(Schema::new(vec![Field::new("file", DataType::Utf8, false)]));
    let files: ArrayRef = Arc::new(StringArray::from_iter_values(
        listed.iter().map(Listed::name),
    ));
    let batch = RecordBatch::try_new(Arc::clone(&schema), vec![files])?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

/// The file `l` as DataFusion reads it. An object's `Path` is the S3
/// store's own mapping of its key (lossless: `a//b`, `/a`, `x/./y` read
/// exactly that key); a local file's is its path, which must be one.
fn object_meta(l: &Listed) -> Result<ObjectMeta> {
    let m = &l.found;
    let location = if l.local.is_some() {
        // The local file system's object paths refuse empty, `.` and `..`
        // segments and control characters.
        let unreadable = || PlannerError::UnreadableKey {
            url: m.url.to_string(),
        };
        let location = Path::parse(&m.object.key).map_err(|_| unreadable())?;
        if location.as_ref() != m.object.key {
            return Err(unreadable());
        }
        location
    } else {
        S3ObjectStore::path_of(&m.object.key)
    };
    Ok(ObjectMeta {
        location,
        last_modified: m.object.last_modified.unwrap_or_default(),
        size: m.object.size,
        e_tag: m.object.etag.clone(),
        version: None,
    })
}

async fn file_table(
    request: &ScanRequest,
    cx: &ScanContext<'_>,
    listed: &[Listed],
    listing: Listing,
) -> Result<Arc<FileTable>> {
    let runtime = cx.state.runtime_env();
    let mut picker = StorePicker::new(cx.secrets, cx.settings, runtime, cx.stores);
    let database = cx.database(request)?;
    let keys: Vec<&str> = listed.iter().map(Listed::hive_key).collect();
    let extra = ExtraColumns::of(request, &keys)?;
    let mut files: Vec<(ObjectStoreUrl, ScanFile)> = Vec::with_capacity(listed.len());
    let mut signed: HashSet<String> = HashSet::new();
    let mut io = IoPlan::new(&request.function, &request.urls, listing);
    for l in listed {
        let store = if l.local.is_some() {
            ObjectStoreUrl::local_filesystem()
        } else {
            let etag = l.found.object.etag.as_deref();
            picker
                .pick(&l.found.url, database.as_deref(), etag, l.found.object.size)
                .await?
        };
        io.add_file(l.found.object.size);
        if signed.insert(store.as_str().to_owned()) {
            let url = l.local.is_none().then(|| l.found.url.to_string());
            match &database {
                Some(db) => io.add_database_signer(db.name()),
                None => {
                    let set_credentials = cx.settings.defaults().credentials.is_some();
                    io.add_signer(cx.secrets, set_credentials, url.as_deref())?
                }
            }
        }
        let file = ScanFile {
            meta: object_meta(l)?,
            name: l.name(),
            hive_key: l.hive_key().to_owned(),
        };
        files.push((store, file));
    }
    let (reads, small_files) = picker.into_parts();
    io.set_reads(reads, cx.stores.monitor());
    // With union_by_name every file is read while planning for its
    // schema: a small one whole, kept for the scan (room allowing; past
    // it a Parquet footer is read by its end alone, and the scan reads the
    // file whole). Otherwise the first file's sample read whole serves the
    // scan too.
    let union_by_name = request.flag("union_by_name")?.unwrap_or(false);
    let footers_first = union_by_name && files.iter().filter(|(_, f)| f.meta.size > 0).count() > 1;
    let small_files = if footers_first {
        small_files.keep_for_statement();
        Some(small_files)
    } else {
        small_files.mark();
        None
    };
    // An empty file tells nothing of the dialect or the schema: the first
    // file with data gives them (DuckDB 1.5.5 does so for JSON; a CSV list
    // starting with an empty file fails there to convert the header).
    let Some(first_entry) = files
        .iter()
        .find(|(_, f)| f.meta.size > 0)
        .or_else(|| files.first())
    else {
        return Err(PlannerError::argument(
            &request.function,
            "no files to read",
        ));
    };
    let (first_store, first) = first_entry;
    let format::ScanFormat {
        formats,
        shape,
        sampled,
        csv,
        per_file,
    } = format::file_format(request, runtime, &files, first_entry).await?;
    // The sample file's schema (every file's with union_by_name, empty ones
    // apart), each read on its own so an unreadable footer or sample names
    // its file. With `skip` the first file's sample gives it (DataFusion's
    // inference would read the skipped lines), and nothing is read here.
    let mut sample = Vec::new();
    if sampled.is_none() {
        let chosen: Vec<(&ObjectStoreUrl, &ScanFile)> = if union_by_name {
            files
                .iter()
                .filter(|(_, f)| f.meta.size > 0)
                .map(|(store, f)| (store, f))
                .collect()
        } else {
            vec![(first_store, first)]
        };
        for (store, f) in chosen {
            let compression = formats.compression(&f.name);
            sample.push((
                match footers_first {
                    true => (formats.footer_format(compression), compression),
                    false => (formats.format(compression), compression),
                },
                store.clone(),
                runtime.object_store(store)?,
                f.meta.clone(),
                f.name.clone(),
            ));
        }
    }
    // Collected before the await: a closure held across it trips rustc's
    // higher-ranked `Send` check (rust-lang/rust#102211).
    let per_file = per_file.as_ref();
    let reads: Vec<_> = sample
        .into_iter()
        .map(
            |((format, compression), url, store, meta, name)| async move {
                match per_file {
                    Some(sampler) => {
                        let file = csv_sniff::SampleFile {
                            url,
                            store,
                            meta,
                            name,
                            compression,
                        };
                        Ok((Arc::new(sampler.sniff(&file).await?.types), None))
                    }
                    None => infer_schema(&format, cx.state, store, meta, name).await,
                }
            },
        )
        .collect();
    let (mut schemas, footers): (Vec<SchemaRef>, Vec<Option<PlanningFooter>>) =
        futures::stream::iter(reads)
            .buffered(SCHEMA_READS_IN_FLIGHT)
            .try_collect::<Vec<_>>()
            .await?
            .into_iter()
            .unzip();
    // The one file a schema was read from gives its footer to the scan;
    // with union_by_name every file's would be held until the scan.
    let planning_footer = match footers.as_slice() {
        [Some(footer)] if !union_by_name => {
            Some((first_store.clone(), first.meta.clone(), footer.clone()))
        }
        _ => None,
    };
    if let Some(small_files) = small_files {
        small_files.mark();
    }
    schemas.extend(sampled.map(Arc::new));
    let file_schema = if union_by_name {
        let names = match formats.is_parquet() {
            true => union_schema::Names::AnyCase,
            false => union_schema::Names::Exact,
        };
        union_schema::union_schema(&schemas, names)
    } else if let [one] = schemas.as_slice() {
        // Not merged with itself: a header naming a column twice keeps both.
        one.as_ref().clone()
    } else {
        Schema::try_merge(schemas.iter().map(|s| s.as_ref().clone()))?
    };
    let file_schema = Arc::new(shape.apply(file_schema)?);
    extra.check_filename(&request.function, &file_schema)?;
    // One scan per run of files of one store, in listing order (read one
    // after another when order matters: `chain`); each file is
    // decompressed by its own name in the opener
    // (`named::FileCompression`), so `.csv` and `.csv.gz` keep file order.
    let mut store_files: Vec<StoreFiles> = Vec::new();
    let mut compressed: Vec<bool> = Vec::new();
    for (store, f) in files {
        let compression = formats.compression(&f.name);
        let footer = planning_footer
            .as_ref()
            .filter(|(url, meta, _)| *url == store && *meta == f.meta)
            .map(|(_, _, footer)| footer.clone());
        if store_files.last().is_none_or(|last| last.store != store) {
            let format = formats.format(compression);
            // A Parquet file's columns matched to the scan's as DuckDB does.
            let columns = formats.is_parquet().then(|| {
                Arc::new(parquet_columns::ParquetColumns { union_by_name })
                    as Arc<dyn datafusion::physical_expr_adapter::PhysicalExprAdapterFactory>
            });
            store_files.push(StoreFiles {
                store,
                format,
                files: Vec::new(),
                whole: formats.read_whole(&file_schema),
                columns,
            });
            compressed.push(compression != Compression::Uncompressed);
        }
        let at = store_files.len() - 1;
        // A scan holding a compressed file is never split into byte ranges.
        if compression != Compression::Uncompressed && !compressed[at] {
            store_files[at].format = formats.format(compression);
            compressed[at] = true;
        }
        let values = extra.values(&f.hive_key, &f.name)?;
        let mut file = PartitionedFile::new_from_meta(f.meta).with_partition_values(values);
        file.extensions.insert(named::FileName(f.name));
        file.extensions
            .insert(named::FileCompression(compression.variant().into()));
        file.extensions.insert(table::HiveKey(f.hive_key));
        if let Some(footer) = footer {
            file.extensions.insert(footer);
        }
        store_files[at].files.push(file);
    }
    Ok(Arc::new(FileTable::new(
        file_schema,
        extra.fields(),
        extra.hive_columns(),
        csv,
        store_files,
        io,
        relist::Relist::new(request, cx),
    )))
}
