//! Scans: table references that name files become [`ScanRequest`]s
//! ([`request`]), the files are listed by glob-list with the secret covering
//! each pattern, each file gets the store of its own (bucket, secret)
//! ([`stores`]), and a [`FileTable`] reads them ([`table`]).

pub(crate) mod format;
pub(crate) mod request;
pub(crate) mod stores;
pub(crate) mod table;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::MemTable;
use datafusion::datasource::TableProvider;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::execution::SessionState;
use object_store::ObjectMeta;
use object_store::path::Path;
use s3sql_glob_list::{ExpandOptions, GlobExpander, Match};
use s3sql_secrets::SecretManager;

use crate::error::{PlannerError, Result};
pub(crate) use request::{ScanKind, ScanRequest, extract};
use stores::{StorePicker, Stores, client_for};
use table::{FileTable, StoreFiles};

/// What building a scan needs from the session.
pub(crate) struct ScanContext<'a> {
    pub state: &'a SessionState,
    pub secrets: &'a SecretManager,
    pub stores: &'a Stores,
}

/// Lists the files of `request` and builds the table reading them.
pub(crate) async fn build(
    request: &ScanRequest,
    cx: &ScanContext<'_>,
) -> Result<Arc<dyn TableProvider>> {
    let matches = list(request, cx).await?;
    match request.kind {
        ScanKind::Glob => glob_table(&matches),
        ScanKind::Files(_) => file_table(request, cx, &matches).await,
    }
}

/// Every object matching the request's URLs, in order, without duplicates.
async fn list(request: &ScanRequest, cx: &ScanContext<'_>) -> Result<Vec<Match>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for url in &request.urls {
        let (client, literal) = client_for(cx.secrets, url).await?;
        let options = ExpandOptions {
            url_compatibility_mode: literal,
            allow_empty: request.kind == ScanKind::Glob,
            ..ExpandOptions::default()
        };
        let expander = GlobExpander::new(Arc::new(client), options);
        for m in expander.expand_all(&[url]).await? {
            if seen.insert(m.url.clone()) {
                out.push(m);
            }
        }
    }
    Ok(out)
}

/// `glob(...)`: one `file` column of URLs.
fn glob_table(matches: &[Match]) -> Result<Arc<dyn TableProvider>> {
    let schema = Arc::new(Schema::new(vec![Field::new("file", DataType::Utf8, false)]));
    let files: ArrayRef = Arc::new(StringArray::from_iter_values(
        matches.iter().map(|m| m.url.to_string()),
    ));
    let batch = RecordBatch::try_new(Arc::clone(&schema), vec![files])?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

fn object_meta(m: &Match) -> Result<ObjectMeta> {
    let location = Path::parse(&m.object.key).map_err(|e| {
        PlannerError::DataFusion(datafusion::error::DataFusionError::External(Box::new(e)))
    })?;
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
    matches: &[Match],
) -> Result<Arc<dyn TableProvider>> {
    let Some(first) = matches.first() else {
        return Err(PlannerError::argument(
            &request.function,
            "no files to read",
        ));
    };
    let format = format::file_format(request, &first.url.to_string())?;
    let runtime = cx.state.runtime_env();
    let mut picker = StorePicker::new(cx.secrets, runtime, cx.stores);
    let mut groups: Vec<StoreFiles> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut first_meta = None;
    for m in matches {
        let store = picker.pick(&m.url).await?;
        let meta = object_meta(m)?;
        if first_meta.is_none() {
            first_meta = Some((store.clone(), meta.clone()));
        }
        let at = *index.entry(store.as_str().to_owned()).or_insert_with(|| {
            groups.push(StoreFiles {
                store: store.clone(),
                files: Vec::new(),
            });
            groups.len() - 1
        });
        groups[at].files.push(PartitionedFile::new_from_meta(meta));
    }
    let Some((first_store, first_meta)) = first_meta else {
        return Err(PlannerError::argument(
            &request.function,
            "no files to read",
        ));
    };
    let store = runtime.object_store(&first_store)?;
    let file_schema = format
        .infer_schema(cx.state, &store, std::slice::from_ref(&first_meta))
        .await?;
    Ok(Arc::new(FileTable::new(
        file_schema,
        Vec::new(),
        format,
        groups,
    )))
}
