//! One footer read per Parquet file a scan splits into byte ranges.
//!
//! DataFusion opens a big file once per range (one per partition), and each
//! opening reads and decodes the footer again: a 10M-row file over four
//! partitions fetched its last 512 KiB four times. The footer cache that
//! would share it lives across statements and is keyed by path alone, so
//! it is off ([`crate::session`]); this shares a footer only among the
//! readers of one scan, keyed by the file's listing entry (location, size
//! and ETag), and only for files read by ranges: a file read whole is
//! opened once, and holding its footer would only cost memory.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileSource, ParquetFileReaderFactory, ParquetSource};
use datafusion::parquet::arrow::arrow_reader::ArrowReaderOptions;
use datafusion::parquet::arrow::async_reader::AsyncFileReader;
use datafusion::parquet::errors::Result as ParquetResult;
use datafusion::parquet::file::metadata::ParquetMetaData;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use futures::FutureExt;
use futures::future::BoxFuture;
use object_store::path::Path;

/// A file's footer, loaded by the first of its readers to ask; the others
/// wait for it.
type SharedFooter = Arc<futures::lock::Mutex<Option<Arc<ParquetMetaData>>>>;

/// A file as the listing gave it: location, size and ETag.
type FileKey = (Path, u64, Option<String>);

/// `source` (DataFusion's Parquet source) with its ranged files' footers
/// read once ([`ScanFooters`]); any other source, or one without a reader
/// factory, as it is.
pub(crate) fn sharing_footers(source: Arc<dyn FileSource>) -> Arc<dyn FileSource> {
    let Some(parquet) = source.downcast_ref::<ParquetSource>() else {
        return source;
    };
    let Some(inner) = parquet.parquet_file_reader_factory() else {
        return source;
    };
    let footers = Arc::new(ScanFooters {
        inner: Arc::clone(inner),
        loaded: Mutex::default(),
    });
    Arc::new(parquet.clone().with_parquet_file_reader_factory(footers))
}

/// Makes `inner`'s readers, sharing the footer of each file read by ranges.
#[derive(Debug)]
pub(crate) struct ScanFooters {
    inner: Arc<dyn ParquetFileReaderFactory>,
    /// By location, size and ETag of the listing entry.
    loaded: Mutex<HashMap<FileKey, SharedFooter>>,
}

impl ParquetFileReaderFactory for ScanFooters {
    fn create_reader(
        &self,
        partition_index: usize,
        partitioned_file: PartitionedFile,
        metadata_size_hint: Option<usize>,
        metrics: &ExecutionPlanMetricsSet,
    ) -> datafusion::error::Result<Box<dyn AsyncFileReader + Send>> {
        let footer = partitioned_file.range.as_ref().map(|_| {
            let meta = &partitioned_file.object_meta;
            let key = (meta.location.clone(), meta.size, meta.e_tag.clone());
            let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(loaded.entry(key).or_default())
        });
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
