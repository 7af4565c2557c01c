//! One footer read per Parquet file a scan splits into byte ranges.
//!
//! DataFusion opens a big file once per range (one per partition), and each
//! opening reads and decodes the footer again: a 10M-row file over four
//! partitions fetched its last 512 KiB four times. The footer cache that
//! would share it lives across statements and is keyed by path alone, so
//! it is off ([`crate::session`]); this shares a footer only among the
//! readers of one scan, keyed by the file's listing entry (location, size
//! and ETag), and only for files the scan's groups name more than once
//! (DataFusion gives a file read whole a range too): each is dropped from
//! the map once its last reader is made, so a glob of many files holds
//! no more footers than it has files open (a review measured 7.7 MB per
//! file of a 1,000-column glob held to the scan's end otherwise).
//!
//! The file whose footer gave the table its schema while planning hands
//! that footer to the scan too ([`PlanningFooter`]): a big Parquet file
//! cost the same 512 KiB GET twice, once for the schema and once for the
//! scan.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::FileGroup;
use datafusion::datasource::physical_plan::parquet::metadata::CachedParquetMetaData;
use datafusion::datasource::physical_plan::{FileSource, ParquetFileReaderFactory, ParquetSource};
use datafusion::execution::SessionState;
use datafusion::execution::cache::cache_manager::{CacheManager, CacheManagerConfig};
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::parquet::arrow::arrow_reader::ArrowReaderOptions;
use datafusion::parquet::arrow::async_reader::AsyncFileReader;
use datafusion::parquet::errors::Result as ParquetResult;
use datafusion::parquet::file::metadata::ParquetMetaData;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use futures::FutureExt;

use crate::scan::parquet_interval::interval_bytes;
use futures::future::BoxFuture;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore};

/// A file's footer, loaded by the first of its readers to ask; the others
/// wait for it.
type SharedFooter = Arc<futures::lock::Mutex<Option<Arc<ParquetMetaData>>>>;

/// A file as the listing gave it: location, size and ETag.
type FileKey = (Path, u64, Option<String>);

/// `file`'s key.
fn key_of(file: &PartitionedFile) -> FileKey {
    let meta = &file.object_meta;
    (meta.location.clone(), meta.size, meta.e_tag.clone())
}

/// The footer a Parquet file's schema was read from while planning, as the
/// scan's readers give it (INTERVAL columns as bytes, [`interval_bytes`]),
/// kept on the file (a [`PartitionedFile`] extension) for its scan. Only the
/// one file a table's schema comes from carries it, so a table holds at
/// most one footer (a glob's other files, or every file of a
/// `union_by_name` scan, are read by the scan as before).
#[derive(Debug, Clone)]
pub(crate) struct PlanningFooter(pub(crate) Arc<ParquetMetaData>);

/// `format`'s schema of the Parquet file `meta`, read by DataFusion's own
/// inference, and the footer it decoded for it: inference reads into the
/// runtime's footer cache, off in this session (`crate::session`), so it
/// is run here over a runtime whose cache is new and holds this file
/// alone. `None` for a footer DataFusion did not cache (an encrypted one).
pub(crate) async fn schema_and_footer(
    format: &dyn FileFormat,
    state: &SessionState,
    store: &Arc<dyn ObjectStore>,
    meta: &ObjectMeta,
) -> datafusion::error::Result<(SchemaRef, Option<PlanningFooter>)> {
    let session = state.runtime_env();
    let caches = CacheManager::try_new(&CacheManagerConfig::default())?;
    let runtime = Arc::new(RuntimeEnv {
        memory_pool: Arc::clone(&session.memory_pool),
        disk_manager: Arc::clone(&session.disk_manager),
        cache_manager: Arc::clone(&caches),
        object_store_registry: Arc::clone(&session.object_store_registry),
    });
    let state = SessionStateBuilder::new_from_existing(state.clone())
        .with_runtime_env(runtime)
        .build();
    let schema = format
        .infer_schema(&state, store, std::slice::from_ref(meta))
        .await?;
    let footer = caches
        .get_file_metadata_cache()
        .get(&meta.location)
        .and_then(|entry| {
            let cached = entry
                .file_metadata
                .as_any()
                .downcast_ref::<CachedParquetMetaData>()?;
            Some(Arc::clone(cached.parquet_metadata()))
        });
    // As the scan's readers give a footer: its INTERVALs as bytes.
    let footer = footer.map(interval_bytes).transpose()?.map(PlanningFooter);
    Ok((schema, footer))
}

/// `source` (DataFusion's Parquet source) with the footer of each file
/// `groups` name more than once read once, and a [`PlanningFooter`] not
/// read again ([`ScanFooters`]); any other source, one without a reader
/// factory, or one with no such file, as it is.
pub(crate) fn sharing_footers(
    source: Arc<dyn FileSource>,
    groups: &[FileGroup],
) -> Arc<dyn FileSource> {
    let Some(parquet) = source.downcast_ref::<ParquetSource>() else {
        return source;
    };
    let Some(inner) = parquet.parquet_file_reader_factory() else {
        return source;
    };
    match ScanFooters::new(Arc::clone(inner), groups) {
        Some(footers) => Arc::new(
            parquet
                .clone()
                .with_parquet_file_reader_factory(Arc::new(footers)),
        ),
        None => source,
    }
}

/// Makes `inner`'s readers, sharing the footer of each file read by
/// several ranges or read while planning.
#[derive(Debug)]
pub(crate) struct ScanFooters {
    inner: Arc<dyn ParquetFileReaderFactory>,
    /// By location, size and ETag of the listing entry: the footer, and
    /// how many of its readers are still to be made.
    shared: Mutex<HashMap<FileKey, (SharedFooter, usize)>>,
}

impl ScanFooters {
    /// `inner`'s readers sharing the footers of the files `groups` name
    /// more than once or hold a [`PlanningFooter`] of; `None` when no file
    /// is such.
    fn new(inner: Arc<dyn ParquetFileReaderFactory>, groups: &[FileGroup]) -> Option<Self> {
        let mut readers: HashMap<FileKey, (usize, Option<Arc<ParquetMetaData>>)> = HashMap::new();
        for file in groups.iter().flat_map(FileGroup::iter) {
            let entry = readers.entry(key_of(file)).or_default();
            entry.0 += 1;
            if let Some(PlanningFooter(footer)) = file.extensions.get::<PlanningFooter>() {
                entry.1 = Some(Arc::clone(footer));
            }
        }
        let shared: HashMap<FileKey, (SharedFooter, usize)> = readers
            .into_iter()
            .filter(|(_, (readers, planned))| *readers > 1 || planned.is_some())
            .map(|(key, (readers, planned))| {
                let footer = Arc::new(futures::lock::Mutex::new(planned));
                (key, (footer, readers))
            })
            .collect();
        (!shared.is_empty()).then(|| Self {
            inner,
            shared: Mutex::new(shared),
        })
    }
}

impl ParquetFileReaderFactory for ScanFooters {
    fn create_reader(
        &self,
        partition_index: usize,
        partitioned_file: PartitionedFile,
        metadata_size_hint: Option<usize>,
        metrics: &ExecutionPlanMetricsSet,
    ) -> datafusion::error::Result<Box<dyn AsyncFileReader + Send>> {
        let footer = {
            let key = key_of(&partitioned_file);
            let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
            match shared.get_mut(&key) {
                Some((footer, left)) if *left > 1 => {
                    *left -= 1;
                    Some(Arc::clone(footer))
                }
                // The last reader takes it out of the map.
                Some(_) => shared.remove(&key).map(|(footer, _)| footer),
                None => None,
            }
        };
        let inner = self.inner.create_reader(
            partition_index,
            partitioned_file,
            metadata_size_hint,
            metrics,
        )?;
        Ok(Box::new(FooterReader { inner, footer }))
    }
}

/// A file's reader whose footer is the scan's shared one, when it has one.
struct FooterReader {
    inner: Box<dyn AsyncFileReader + Send>,
    footer: Option<SharedFooter>,
}

impl AsyncFileReader for FooterReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, ParquetResult<Bytes>> {
        self.inner.get_bytes(range)
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, ParquetResult<Vec<Bytes>>> {
        self.inner.get_byte_ranges(ranges)
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, ParquetResult<Arc<ParquetMetaData>>> {
        let Some(footer) = self.footer.clone() else {
            return self.inner.get_metadata(options);
        };
        async move {
            // Held while the first reader loads it: the others wait rather
            // than read it too. A failed load leaves it to the next.
            let mut footer = footer.lock().await;
            if let Some(metadata) = footer.as_ref() {
                return Ok(Arc::clone(metadata));
            }
            let metadata = self.inner.get_metadata(options).await?;
            *footer = Some(Arc::clone(&metadata));
            Ok(metadata)
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::physical_plan::parquet::DefaultParquetFileReaderFactory;
    use object_store::memory::InMemory;

    use super::*;

    fn factory() -> Arc<dyn ParquetFileReaderFactory> {
        Arc::new(DefaultParquetFileReaderFactory::new(Arc::new(
            InMemory::new(),
        )))
    }

    fn source() -> Arc<dyn FileSource> {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        Arc::new(ParquetSource::new(schema).with_parquet_file_reader_factory(factory()))
    }

    fn file(name: &str, range: (i64, i64)) -> PartitionedFile {
        PartitionedFile::new(name, 100).with_range(range.0, range.1)
    }

    /// Files each named once (read whole, though DataFusion gives them a
    /// range too) keep no footer: the source is left as it is (review of
    /// 2955235: a glob of 80 files of 1.8 MB footers held them all, 761 MB
    /// peak against main's 154).
    #[test]
    fn files_read_whole_share_nothing() {
        let source = source();
        let groups = vec![
            FileGroup::new(vec![file("a.parquet", (0, 100))]),
            FileGroup::new(vec![file("b.parquet", (0, 100))]),
        ];
        assert!(Arc::ptr_eq(
            &sharing_footers(Arc::clone(&source), &groups),
            &source
        ));
    }

    /// A file read by two ranges shares one footer, dropped from the map
    /// once both readers are made.
    #[test]
    fn a_ranged_files_footer_leaves_the_map_with_its_last_reader() {
        let groups = vec![
            FileGroup::new(vec![file("a.parquet", (0, 50))]),
            FileGroup::new(vec![
                file("a.parquet", (50, 100)),
                file("b.parquet", (0, 100)),
            ]),
        ];
        let footers = ScanFooters::new(factory(), &groups).unwrap();
        let left = || footers.shared.lock().unwrap().len();
        assert_eq!(left(), 1);
        let metrics = ExecutionPlanMetricsSet::new();
        for (at, range) in [(0, (0, 50)), (1, (50, 100))] {
            assert_eq!(left(), 1, "before reader {at}");
            footers
                .create_reader(at, file("a.parquet", range), None, &metrics)
                .unwrap();
        }
        assert_eq!(left(), 0);
    }
}
