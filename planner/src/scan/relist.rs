//! A scan planned in one statement and read in a later one — a view's —
//! lists its files again, as DuckDB binds a view anew at each query: files
//! added since are read, files deleted are not; tables computed from the
//! session (`glob()`, `duckdb_secrets()`, `which_secret()`) are computed
//! again. The statement that planned it reads the listing it was planned
//! with (no second listing).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session as DataFusionSession;
use datafusion::datasource::TableProvider;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use s3sql_secrets::SecretManager;

use crate::error::PlannerError;
use crate::mindsdb::Databases;
use crate::scan::stores::Stores;
use crate::scan::{ScanContext, ScanRequest, build};
use crate::settings::Settings;

/// What listing a scan again takes: its request and the session's parts.
#[derive(Debug)]
pub(crate) struct Relist {
    request: ScanRequest,
    secrets: Arc<SecretManager>,
    settings: Arc<Settings>,
    stores: Arc<Stores>,
    databases: Arc<Databases>,
    /// The session's statement counter.
    statement: Arc<AtomicU64>,
    /// The statement the scan was planned in.
    listed_in: u64,
    /// The table listed for a later statement, so a query reading the
    /// view twice lists once (its scans are planned concurrently: the
    /// second waits for the first's listing).
    latest: tokio::sync::Mutex<Option<(u64, Arc<dyn TableProvider>)>>,
}

impl Relist {
    /// How to list `request` again, planned in the current statement.
    pub(crate) fn new(request: &ScanRequest, cx: &ScanContext<'_>) -> Self {
        Self {
            request: request.clone(),
            secrets: Arc::clone(cx.secrets),
            settings: Arc::clone(cx.settings),
            stores: Arc::clone(cx.stores),
            databases: Arc::clone(cx.databases),
            statement: Arc::clone(cx.statement),
            listed_in: cx.statement.load(Ordering::Relaxed),
            latest: tokio::sync::Mutex::new(None),
        }
    }

    /// The table over the files listed now, when the scan was planned in
    /// an earlier statement; `None` in the statement that planned it.
    pub(crate) async fn fresh(
        &self,
        state: &dyn DataFusionSession,
    ) -> datafusion::common::Result<Option<Arc<dyn TableProvider>>> {
        let now = self.statement.load(Ordering::Relaxed);
        if now == self.listed_in {
            return Ok(None);
        }
        let mut latest = self.latest.lock().await;
        if let Some((at, table)) = latest.as_ref()
            && *at == now
        {
            return Ok(Some(Arc::clone(table)));
        }
        let state = state
            .as_any()
            .downcast_ref::<SessionState>()
            .ok_or_else(|| DataFusionError::Internal("a scan outside a SessionState".into()))?;
        let cx = ScanContext {
            state,
            secrets: &self.secrets,
            settings: &self.settings,
            stores: &self.stores,
            databases: &self.databases,
            statement: &self.statement,
        };
        let table = build(&self.request, &cx).await.map_err(external)?;
        *latest = Some((now, Arc::clone(&table)));
        Ok(Some(table))
    }
}

impl Relist {
    /// The table listed for the current statement, once a scan of it was
    /// planned ([`Self::fresh`]); `None` in the statement that planned
    /// the scan, or before.
    pub(crate) fn listed_now(&self) -> Option<Arc<dyn TableProvider>> {
        let now = self.statement.load(Ordering::Relaxed);
        let latest = self.latest.try_lock().ok()?;
        match latest.as_ref() {
            Some((at, table)) if *at == now => Some(Arc::clone(table)),
            _ => None,
        }
    }
}

/// A table computed from the session when planned — `glob()`'s files,
/// `duckdb_secrets()`, `which_secret()`, `mindsdb_databases()` — and
/// computed again in a later statement (through a view), as DuckDB binds a
/// view anew.
#[derive(Debug)]
pub(crate) struct RebuiltTable {
    pub table: Arc<dyn TableProvider>,
    pub relist: Relist,
}

#[async_trait]
impl TableProvider for RebuiltTable {
    fn schema(&self) -> SchemaRef {
        self.table.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn DataFusionSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
        match self.relist.fresh(state).await? {
            Some(fresh) => fresh.scan(state, projection, filters, limit).await,
            None => self.table.scan(state, projection, filters, limit).await,
        }
    }
}

fn external(error: PlannerError) -> DataFusionError {
    match error {
        PlannerError::DataFusion(e) => e,
        other => DataFusionError::External(Box::new(other)),
    }
}
