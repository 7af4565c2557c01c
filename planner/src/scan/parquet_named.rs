//! Parquet read errors that name their file. A later file's value that
//! does not convert to the scan's type is refused by the cast
//! (`column_cast::CastRefused`), which is not told which file it reads;
//! [`ParquetNamed`] wraps DataFusion's Parquet source so the morsels of
//! each file (DataFusion's unit of Parquet reading) add the file's name to
//! that error. Nothing is done per batch that reads: only an error is
//! looked at. Every other call goes to the Parquet source
//! (`named::forwarded_to_inner`).

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileOpener, FileScanConfig, FileSource};
use datafusion::error::DataFusionError;
use datafusion_datasource::morsel::{Morsel, MorselPlan, MorselPlanner, Morselizer};
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::ObjectStore;

use crate::scan::column_cast::CastRefused;
use crate::scan::named::{FileName, forwarded_to_inner};

/// A Parquet source whose files' conversion errors name the file.
pub(crate) struct ParquetNamed {
    inner: Arc<dyn FileSource>,
}

impl ParquetNamed {
    /// `inner` (a Parquet source), wrapped.
    pub(crate) fn new(inner: Arc<dyn FileSource>) -> Self {
        Self { inner }
    }

    /// The same wrapper around another inner source.
    fn wrap(&self, inner: Arc<dyn FileSource>) -> Arc<dyn FileSource> {
        Arc::new(Self::new(inner))
    }
}

impl FileSource for ParquetNamed {
    fn create_file_opener(
        &self,
        object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        self.inner
            .create_file_opener(object_store, base_config, partition)
    }

    fn create_morselizer(
        &self,
        object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        partition: usize,
    ) -> Result<Box<dyn Morselizer>> {
        let inner = self
            .inner
            .create_morselizer(object_store, base_config, partition)?;
        Ok(Box::new(NamedMorselizer { inner }))
    }

    fn with_batch_size(&self, batch_size: usize) -> Arc<dyn FileSource> {
        self.wrap(self.inner.with_batch_size(batch_size))
    }

    forwarded_to_inner!();
}

/// `err` naming `name` when it is a value that does not convert.
fn named(name: &str, err: DataFusionError) -> DataFusionError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = cause {
        if let Some(refused) = e.downcast_ref::<CastRefused>() {
            return DataFusionError::External(Box::new(CastRefused(format!(
                "file {name}: {refused}"
            ))));
        }
        cause = e.source();
    }
    err
}

/// Plans each file with the Parquet morselizer, its planners and morsels
/// wrapped with the file's name.
#[derive(Debug)]
struct NamedMorselizer {
    inner: Box<dyn Morselizer>,
}

impl Morselizer for NamedMorselizer {
    fn plan_file(&self, file: PartitionedFile) -> Result<Box<dyn MorselPlanner>> {
        let name: Arc<str> = match file.extensions.get::<FileName>() {
            Some(FileName(name)) => name.as_str().into(),
            None => file.object_meta.location.as_ref().into(),
        };
        let inner = self.inner.plan_file(file).map_err(|e| named(&name, e))?;
        Ok(Box::new(NamedPlanner { inner, name }))
    }
}

#[derive(Debug)]
struct NamedPlanner {
    inner: Box<dyn MorselPlanner>,
    name: Arc<str>,
}

impl NamedPlanner {
    fn boxed(inner: Box<dyn MorselPlanner>, name: &Arc<str>) -> Box<dyn MorselPlanner> {
        Box::new(NamedPlanner {
            inner,
            name: Arc::clone(name),
        })
    }
}

impl MorselPlanner for NamedPlanner {
    fn plan(self: Box<Self>) -> Result<Option<MorselPlan>> {
        let name = self.name;
        let Some(mut plan) = self.inner.plan().map_err(|e| named(&name, e))? else {
            return Ok(None);
        };
        let morsels: Vec<Box<dyn Morsel>> = plan
            .take_morsels()
            .into_iter()
            .map(|inner| {
                Box::new(NamedMorsel {
                    inner,
                    name: Arc::clone(&name),
                }) as Box<dyn Morsel>
            })
            .collect();
        let planners = plan
            .take_ready_planners()
            .into_iter()
            .map(|inner| NamedPlanner::boxed(inner, &name))
            .collect();
        let mut out = MorselPlan::new()
            .with_morsels(morsels)
            .with_planners(planners);
        if let Some(pending) = plan.take_pending_planner() {
            out = out.with_pending_planner(async move {
                match pending.into_future().await {
                    Ok(inner) => Ok(NamedPlanner::boxed(inner, &name)),
                    Err(e) => Err(named(&name, e)),
                }
            });
        }
        Ok(Some(out))
    }
}

#[derive(Debug)]
struct NamedMorsel {
    inner: Box<dyn Morsel>,
    name: Arc<str>,
}

impl Morsel for NamedMorsel {
    fn into_stream(
        self: Box<Self>,
    ) -> BoxStream<'static, Result<datafusion::arrow::array::RecordBatch>> {
        let name = self.name;
        self.inner
            .into_stream()
            .map(move |batch| batch.map_err(|e| named(&name, e)))
            .boxed()
    }
}
