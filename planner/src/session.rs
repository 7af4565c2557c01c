//! [`Session`]: one DataFusion context, the secret manager and the stores
//! of this session; the place where a line of SQL becomes rows.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use datafusion::catalog::MemTable;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::DataFusionError;
use datafusion::execution::FunctionRegistry;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::cache::cache_manager::CacheManagerConfig;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::{CreateMemoryTable, DdlStatement, LogicalPlan};
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::{CopyToSource, Statement as DFStatement};
use datafusion::sql::planner::object_name_to_table_reference;
use datafusion::sql::sqlparser::ast::VisitMut;
use futures::TryStreamExt;
use s3sql_secrets::{DatabaseDirectory, SecretManager};

use crate::column_case::{self, ColumnSpellings};
use crate::describe::{self, DescribeKind, DescribeStatement};
use crate::describe_subquery::DescribeTable;
use crate::error::Result;
use crate::mindsdb::{Databases, InsertTarget, OldObject, Resolved};
use crate::order_columns;
use crate::output_names;
use crate::scan::io_plan::{scanned_tables, with_io_plans};
use crate::scan::stores::Stores;
use crate::scan::{self, ScanContext, ScanRequest};
use crate::secret_sql;
use crate::setting_sql;
use crate::settings::Settings;
use crate::statement::{self, Statement, StatementKind};

/// A SQL session: statements run in order and share secrets, tables, views
/// and settings, as in one DuckDB connection.
pub struct Session {
    ctx: SessionContext,
    secrets: Arc<SecretManager>,
    settings: Arc<Settings>,
    stores: Arc<Stores>,
    databases: Arc<Databases>,
    next_scan: AtomicU64,
    /// Counts statements run: a view's scans list again in each.
    statement: Arc<AtomicU64>,
    copy: crate::copy::CopyMonitor,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("session_id", &self.ctx.session_id())
            .field("secrets", &self.secrets)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Default for Session {
    /// Persistent secrets in the default directory (`~/.duckdb/stored_secrets`'s
    /// counterpart, see `SecretDirectory::default_location`), databases
    /// beside them. Without one (neither XDG_CONFIG_HOME nor HOME set),
    /// CREATE DATABASE is refused as CREATE PERSISTENT SECRET is: MindsDB
    /// keeps every database, and one kept in memory is gone for the next
    /// process (review-10h #11).
    fn default() -> Self {
        Self::build(SecretManager::default(), true)
    }
}

impl Session {
    /// A session over `secrets` (pass `SecretManager::new(None)` for one
    /// without persistent secrets).
    /// Databases are stored beside persistent secrets, or, without a
    /// secret directory, kept in memory for the session.
    pub fn with_secrets(secrets: SecretManager) -> Self {
        Self::build(secrets, false)
    }

    /// [`Self::with_secrets`]; with `databases_stored`, a session without a
    /// secret directory refuses CREATE DATABASE instead of keeping it in
    /// memory.
    fn build(secrets: SecretManager, databases_stored: bool) -> Self {
        let config = SessionConfig::new()
            .with_information_schema(true)
            .set_str("datafusion.sql_parser.dialect", "duckdb")
            // DuckDB's session zone: TIMESTAMPTZ '...' and now() are
            // instants shown in UTC (DataFusion's default, none, made
            // TIMESTAMPTZ a timestamp without a zone).
            .set_str("datafusion.execution.time_zone", "UTC")
            // DuckDB's `0.1` is DECIMAL(1,1), exact (decimal_literals.rs).
            .set_bool("datafusion.sql_parser.parse_float_as_decimal", true)
            // DuckDB's default_null_order: NULLs last, descending too
            // (DataFusion's default put them first under DESC, review-s24 F3).
            .set_str("datafusion.sql_parser.default_null_ordering", "nulls_last");
        // No footer cache across statements: DataFusion keys it by the
        // object's path alone (not its store, not its ETag) and trusts it
        // while size and LastModified (to the second) agree, so another
        // bucket's file or a replaced version was pruned with stale
        // statistics. A small file's footer comes with its one GET anyway.
        let caches = CacheManagerConfig::default().with_metadata_cache_limit(0);
        let runtime = RuntimeEnvBuilder::new()
            .with_cache_manager(caches)
            .build_arc()
            // Building fails only on a memory pool or disk manager setting,
            // and none is given here.
            .unwrap_or_else(|_| Arc::new(RuntimeEnv::default()));
        // DuckDB's BLOB type names, and its string-to-BLOB cast.
        let mut rules = crate::decimal_literals::analyzer_rules();
        crate::interval_order::windows_before_type_coercion(&mut rules);
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime)
            .with_default_features()
            .with_analyzer_rules(rules)
            .with_type_planner(Arc::new(crate::sql_types::DuckTypes))
            .with_analyzer_rule(Arc::new(crate::blob::BlobCasts))
            // A DISTINCT of intervals with a LIMIT stops reading early.
            .with_physical_optimizer_rule(Arc::new(crate::interval_limit::FirstIntervalLimits))
            // GROUP BY on text and integer columns: the partial phase by
            // dense ids per column value (bench group-by: 41% of CPU was
            // DataFusion's general group table).
            .with_physical_optimizer_rule(Arc::new(crate::group_ids::GroupIdAggregates))
            .build();
        let mut ctx = SessionContext::new_with_state(state);
        let settings = Arc::new(Settings::default());
        ctx.register_udf(setting_sql::current_setting(Arc::clone(&settings)));
        // octet_length, decode and encode of DuckDB; the text functions
        // DuckDB refuses a BLOB.
        let text_only = crate::blob::no_blob(ctx.state().scalar_functions().values());
        for udf in text_only.into_iter().chain([
            crate::blob::OctetLength::udf(),
            crate::blob::Decode::udf(),
            crate::blob::Encode::udf(),
            crate::like_pattern::LikePattern::udf(),
            crate::like_pattern::LikeMatch::udf(),
        ]) {
            ctx.register_udf(udf);
        }
        // DuckDB's to_years(n) ... to_microseconds(n).
        for udf in crate::interval_units::ToInterval::udfs() {
            ctx.register_udf(udf);
        }
        // Registering only adds it to the state's list: it never fails.
        let _ = ctx.register_expr_planner(Arc::new(crate::uuid_literal::UuidLiterals));
        // `/`, `//` and `%` of integers as DuckDB divides them.
        let _ = ctx.register_expr_planner(Arc::new(crate::integers::IntegerDivision));
        // An INTERVAL times or divided by a number.
        let _ = ctx.register_expr_planner(Arc::new(crate::interval_math::IntervalArithmetic));
        ctx.add_analyzer_rule(Arc::new(crate::timestamp_text::TimestampCasts));
        ctx.add_analyzer_rule(Arc::new(crate::timestamp_units::RoundedTimestampCasts));
        // Text to a timestamp as DuckDB reads it (after the rounding above,
        // which casts the text to microseconds first).
        ctx.add_analyzer_rule(Arc::new(crate::timestamp_cast::TextTimestampCasts));
        // TIMESTAMP to TIMESTAMPTZ and back in the session's zone (after
        // the rounding above, which casts a TIMESTAMPTZ to microseconds).
        ctx.add_analyzer_rule(Arc::new(crate::timestamp_zones::ZoneCasts));
        // Infinite timestamps through casts and date_trunc/date_part
        // (after the rounding above, which casts to microseconds first).
        ctx.add_analyzer_rule(Arc::new(crate::timestamp_infinity::InfiniteTimestamps));
        ctx.add_analyzer_rule(Arc::new(crate::interval_cast::IntervalCasts));
        // Intervals compared, sorted and grouped with 30-day months.
        ctx.add_analyzer_rule(Arc::new(crate::interval_order::IntervalOrder));
        // Integer arithmetic past its type is an error, as DuckDB's.
        ctx.add_analyzer_rule(Arc::new(crate::integer_overflow::IntegerOverflow));
        // Databases are stored beside persistent secrets, or not at all.
        let catalog = ctx.catalog(&ctx.state().config_options().catalog.default_catalog);
        let databases = Databases::open(secrets.directory().map(DatabaseDirectory::beside))
            .with_catalog(catalog)
            .stored_only(databases_stored);
        Self {
            ctx,
            secrets: Arc::new(secrets),
            settings,
            stores: Arc::default(),
            databases: Arc::new(databases),
            next_scan: AtomicU64::new(0),
            statement: Arc::default(),
            copy: crate::copy::CopyMonitor::default(),
        }
    }

    /// Progress of this session's COPY statements, and their interrupt.
    pub fn copy_monitor(&self) -> &crate::copy::CopyMonitor {
        &self.copy
    }

    /// Progress of the running statement's scans, for a progress bar.
    pub fn scan_monitor(&self) -> &crate::scan::ScanMonitor {
        self.stores.monitor()
    }

    /// The DataFusion context, to register tables or functions of one's own.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The secrets this session signs requests with.
    pub fn secrets(&self) -> &SecretManager {
        &self.secrets
    }

    /// Splits `sql` into statements without running them.
    pub fn parse(&self, sql: &str) -> Result<Vec<Statement>> {
        statement::parse(sql)
    }

    /// Runs every statement of `sql` in order and returns the rows of the
    /// last one.
    pub async fn sql(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        let stream = self.sql_stream(sql).await?;
        Ok(stream.try_collect().await?)
    }

    /// Runs every statement of `sql` but the last, and streams the rows of
    /// the last one as they are read.
    pub async fn sql_stream(&self, sql: &str) -> Result<SendableRecordBatchStream> {
        let mut statements = self.parse(sql)?;
        let Some(last) = statements.pop() else {
            return Ok(empty_stream());
        };
        for statement in statements {
            let stream = self.execute(statement).await?;
            let _: Vec<RecordBatch> = stream.try_collect().await?;
        }
        self.execute(last).await
    }

    /// Plans and starts one statement. What its scans read with (pinned
    /// versions, small objects kept) lives as long as the stream of its
    /// rows.
    pub async fn execute(&self, statement: Statement) -> Result<SendableRecordBatchStream> {
        self.statement.fetch_add(1, Ordering::Relaxed);
        let reads = self.stores.statement_starts(&self.ctx.runtime_env());
        let rows = self.start(statement).await?;
        Ok(reads.hold(rows))
    }

    /// [`Self::execute`] but for its reads.
    async fn start(&self, statement: Statement) -> Result<SendableRecordBatchStream> {
        let describes = statement.describes;
        match statement.kind {
            StatementKind::Secret(secret) => {
                let batch = secret_sql::execute(&self.secrets, secret).await?;
                let schema = batch.schema();
                Ok(Box::pin(MemoryStream::try_new(vec![batch], schema, None)?))
            }
            StatementKind::Database(database) => {
                let batch =
                    crate::mindsdb::execute(database, &self.databases, &self.settings).await?;
                let schema = batch.schema();
                Ok(Box::pin(MemoryStream::try_new(vec![batch], schema, None)?))
            }
            StatementKind::Setting(setting) => {
                let batch = setting_sql::execute(&self.settings, setting)?;
                let schema = batch.schema();
                Ok(Box::pin(MemoryStream::try_new(vec![batch], schema, None)?))
            }
            StatementKind::Describe(describe) => {
                let batch = self.describe(describe).await?;
                let schema = batch.schema();
                Ok(Box::pin(MemoryStream::try_new(vec![batch], schema, None)?))
            }
            StatementKind::Copy(copy) => {
                let plan = output_names::tell_plan_apart(self.plan(copy.query.clone()).await?)?;
                let ctx = crate::order::context_for(&self.ctx, &plan);
                let rows = ctx.execute_logical_plan(plan).await?;
                let rows = rows.execute_stream().await?;
                let zone = self.zone();
                crate::copy::execute(
                    &copy,
                    rows,
                    &zone,
                    &self.secrets,
                    &self.settings,
                    &self.copy,
                )
                .await
            }
            StatementKind::Insert(insert) => match insert.resolve(&self.databases)? {
                Resolved::Object(target) => self.insert(&target).await,
                Resolved::DataFusion(statement) => self.run(statement, Vec::new()).await,
            },
            StatementKind::DataFusion(statement) => {
                let catalog = self.ctx.state().config_options().catalog.clone();
                let statement = crate::show_tables::as_duckdb(*statement, &catalog)?;
                self.run(statement, describes).await
            }
        }
    }

    /// Plans and starts a DataFusion statement, its file references
    /// planned as scans and its `(DESCRIBE ...)` subqueries as tables.
    async fn run(
        &self,
        mut statement: DFStatement,
        describes: Vec<DescribeTable>,
    ) -> Result<SendableRecordBatchStream> {
        let shown = output_names::tell_selects_apart(&mut statement);
        let explain = match &statement {
            DFStatement::Explain(e) => Some(e.options.analyze),
            _ => None,
        };
        let inferred_parameters = crate::prepared::infers_parameter_types(&statement);
        let (mut plan, mut tables) = self.plan_with_describes(statement, describes).await?;
        if inferred_parameters {
            plan = crate::prepared::widened_parameters(plan);
        }
        if explain.is_some() {
            tables.extend(scanned_tables(&plan));
        }
        let ctx = crate::order::context_for(&self.ctx, &plan);
        let plan = match plan {
            LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(create)) if !create.temporary => {
                return create_table(&ctx, create).await;
            }
            plan => crate::zone_names::spelled_setting(plan),
        };
        let dataframe = ctx.execute_logical_plan(plan).await?;
        if let Some(analyze) = explain {
            let batches = with_io_plans(dataframe.collect().await?, &tables, analyze)?;
            let schema = batches[0].schema();
            return Ok(Box::pin(MemoryStream::try_new(batches, schema, None)?));
        }
        let rows = shown.show(dataframe.execute_stream().await?)?;
        Ok(crate::shown_zone::stream_in_zone(rows, &self.zone()))
    }

    /// The session's `TimeZone`, the zone its results show zoned
    /// timestamps in ([`crate::shown_zone`]).
    fn zone(&self) -> String {
        let state = self.ctx.state_ref();
        let state = state.read();
        crate::shown_zone::session_zone(state.config_options()).to_owned()
    }

    /// MindsDB's INSERT into a database's object: its rows in file order,
    /// then the new rows, written over it ([`crate::mindsdb::append`]).
    async fn insert(&self, target: &InsertTarget) -> Result<SendableRecordBatchStream> {
        let (old_plan, tables) = self
            .plan_scans(target.old_rows()?)
            .await
            .map_err(|e| target.read_error(e))?;
        let old = OldObject::of(target, &tables)?;
        let new_plan = self.plan(target.new_rows()).await?;
        // A text object's old bytes are copied as they are; only a
        // Parquet object's rows are read to be written again.
        let old_rows = if old.rewrites_rows() {
            Some(
                DataFrame::new(crate::order::in_file_order(&self.ctx.state()), old_plan)
                    .execute_stream()
                    .await?,
            )
        } else {
            None
        };
        let new_rows = self
            .ctx
            .execute_logical_plan(new_plan)
            .await?
            .execute_stream()
            .await?;
        crate::mindsdb::append(target, &old, old_rows, new_rows, &self.settings, &self.copy).await
    }

    /// The result of a DESCRIBE or SUMMARIZE.
    async fn describe(&self, describe: DescribeStatement) -> Result<RecordBatch> {
        let plan = self.plan(describe.query).await?;
        Ok(match describe.kind {
            DescribeKind::Describe => {
                let declared = match &describe.relation {
                    Some(name) => self.is_table(name).await,
                    None => false,
                };
                describe::describe(plan.schema(), declared)?
            }
            DescribeKind::Summarize => {
                describe::summarize(DataFrame::new(self.ctx.state(), plan)).await?
            }
        })
    }

    /// Whether `name` is a table whose columns may be declared NOT NULL (a
    /// table of this session, a database's `files`), not a view.
    async fn is_table(&self, name: &str) -> bool {
        match self.ctx.table_provider(name).await {
            Ok(provider) => provider.table_type() != TableType::View,
            // A database's objects are not in the catalog.
            Err(_) => true,
        }
    }

    /// [`Self::plan_scans`], with the statement's `(DESCRIBE ...)`
    /// subqueries as tables while it is planned.
    async fn plan_with_describes(
        &self,
        statement: DFStatement,
        describes: Vec<DescribeTable>,
    ) -> Result<(LogicalPlan, Vec<Arc<dyn TableProvider>>)> {
        let mut names = Vec::with_capacity(describes.len());
        let mut planned = Ok(());
        for (name, describe) in describes {
            let table = match self.describe(describe).await {
                Ok(batch) => MemTable::try_new(batch.schema(), vec![vec![batch]]),
                Err(e) => {
                    planned = Err(e);
                    break;
                }
            };
            match table.and_then(|t| self.ctx.register_table(name.as_str(), Arc::new(t))) {
                Ok(_) => names.push(name),
                Err(e) => {
                    planned = Err(e.into());
                    break;
                }
            }
        }
        let result = match planned {
            Ok(()) => self.plan_scans(statement).await,
            Err(e) => Err(e),
        };
        for name in names {
            self.ctx.deregister_table(name.as_str())?;
        }
        result
    }

    /// The logical plan of a DataFusion statement, its file references
    /// planned as scans.
    async fn plan(&self, statement: DFStatement) -> Result<LogicalPlan> {
        Ok(self.plan_scans(statement).await?.0)
    }

    /// [`Self::plan`], and the tables its file references became.
    async fn plan_scans(
        &self,
        mut statement: DFStatement,
    ) -> Result<(LogicalPlan, Vec<Arc<dyn TableProvider>>)> {
        output_names::tell_selects_apart(&mut statement);
        let mut next_id = || self.next_scan.fetch_add(1, Ordering::Relaxed);
        let requests = extract_scans(&mut statement, &mut next_id, &self.databases)?;
        // Tables stand in for the file references while the statement is
        // planned; the plan keeps them alive, so they go right after.
        let mut tables = Vec::with_capacity(requests.len());
        let planned = self
            .plan_with_scans(statement, &requests, &mut tables)
            .await;
        for request in &requests {
            self.ctx.deregister_table(request.table.as_str())?;
        }
        Ok((planned?, tables))
    }

    async fn plan_with_scans(
        &self,
        statement: DFStatement,
        requests: &[ScanRequest],
        tables: &mut Vec<Arc<dyn TableProvider>>,
    ) -> Result<LogicalPlan> {
        let state = self.ctx.state();
        let cx = ScanContext {
            state: &state,
            secrets: &self.secrets,
            settings: &self.settings,
            stores: &self.stores,
            databases: &self.databases,
            statement: &self.statement,
        };
        for request in requests {
            let table = scan::build(request, &cx).await?;
            self.ctx
                .register_table(request.table.as_str(), Arc::clone(&table))?;
            tables.push(table);
        }
        let mut statement = statement;
        self.spell_columns(&mut statement).await;
        crate::decimal_literals::exponents_as_doubles(&mut statement);
        crate::interval_units::units_as_calls(&mut statement);
        crate::interval_text::intervals_as_duckdb(&mut statement).map_err(DataFusionError::Plan)?;
        crate::timestamp_units::units_as_duckdb(&mut statement);
        crate::like_pattern::as_duckdb(&mut statement);
        self.qualify_order_by_columns(&mut statement).await?;
        let plan = self
            .ctx
            .state()
            .statement_to_plan(statement)
            .await
            .map_err(duplicate_alias)?;
        Ok(tables_tell_names_apart(plan)?)
    }

    /// Writes `statement`'s column references as its tables (files,
    /// views, tables) write their columns, whatever their case
    /// ([`ColumnSpellings`]). A relation that is no table (a CTE's name)
    /// has no columns to add.
    async fn spell_columns(&self, statement: &mut DFStatement) {
        let normalize = self
            .ctx
            .state()
            .config_options()
            .sql_parser
            .enable_ident_normalization;
        let mut schemas = Vec::new();
        for name in column_case::relations(statement) {
            if let Ok(reference) = object_name_to_table_reference(name, normalize)
                && let Ok(table) = self.ctx.table_provider(reference).await
            {
                schemas.push(table.schema());
            }
        }
        ColumnSpellings::of(schemas.iter().map(|s| &**s)).apply(statement);
    }

    /// Binds the names inside `statement`'s ORDER BY expressions to the
    /// FROM clause's columns before its aliases, as DuckDB does
    /// ([`order_columns`]): each query that needs it has its FROM clause
    /// planned alone (not run) for the relations' columns.
    async fn qualify_order_by_columns(&self, statement: &mut DFStatement) -> Result<()> {
        let probes = order_columns::probes(statement);
        if probes.is_empty() {
            return Ok(());
        }
        let state = self.ctx.state();
        let mut schemas = Vec::with_capacity(probes.len());
        for probe in &probes {
            // A probe that does not plan leaves the name to DataFusion,
            // which binds the alias: a silently other order, so it is an
            // error, naming the way around it.
            let plan = state
                .statement_to_plan(probe.statement.clone())
                .await
                .map_err(|e| {
                    DataFusionError::Plan(format!(
                        "ORDER BY uses a name that is both an alias and perhaps a column of \
                         the FROM clause, and s3sql could not plan that FROM clause alone to \
                         tell ({}): qualify the column (t.a) or sort by the alias' expression",
                        e.strip_backtrace()
                    ))
                })?;
            schemas.push(Arc::clone(plan.schema()));
        }
        order_columns::qualify(statement, &probes, &schemas);
        Ok(())
    }
}

/// `CREATE [OR REPLACE] TABLE t [IF NOT EXISTS] AS query` (or with
/// column definitions), as DataFusion does it but for two things: the old
/// `t` is dropped only once the query's rows are in (DataFusion drops it
/// first, so a query that failed, a cast, a 403, Ctrl-C, lost it, where
/// DuckDB keeps it), and a table made from a query has no NOT NULL column,
/// as in DuckDB (DataFusion keeps a literal's "never NULL").
async fn create_table(
    ctx: &SessionContext,
    create: CreateMemoryTable,
) -> Result<SendableRecordBatchStream> {
    let empty = Arc::new(Schema::empty());
    let exists = ctx.table_exist(create.name.clone())?;
    match (exists, create.if_not_exists, create.or_replace) {
        (_, true, true) => {
            return Err(DataFusionError::Execution(
                "'IF NOT EXISTS' cannot coexist with 'REPLACE'".into(),
            )
            .into());
        }
        (true, true, false) => {
            return Ok(Box::pin(MemoryStream::try_new(Vec::new(), empty, None)?));
        }
        (true, false, false) => {
            return Err(DataFusionError::Execution(format!(
                "Table '{}' already exists",
                create.name
            ))
            .into());
        }
        _ => {}
    }
    let input = Arc::unwrap_or_clone(create.input);
    // Column definitions plan as an empty relation of their schema.
    let declared = matches!(&input, LogicalPlan::EmptyRelation(e) if !e.produce_one_row);
    // The types as planned: the analyzer retypes some (DuckDB's
    // DECIMAL(2,1) for `0.5`, decimal_literals.rs).
    let plan = DataFrame::new(ctx.state(), input)
        .create_physical_plan()
        .await?;
    let schema = &plan.schema();
    let schema = match declared {
        true => Arc::clone(schema),
        false => Arc::new(Schema::new_with_metadata(
            schema
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect::<Vec<_>>(),
            schema.metadata().clone(),
        )),
    };
    let batches = datafusion::physical_plan::collect_partitioned(plan, ctx.task_ctx())
        .await?
        .into_iter()
        .map(|partition| {
            partition
                .into_iter()
                .map(|batch| batch.with_schema(Arc::clone(&schema)))
                .collect::<std::result::Result<Vec<_>, _>>()
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let table = MemTable::try_new(schema, batches)?
        .with_constraints(create.constraints)
        .with_column_defaults(create.column_defaults.into_iter().collect());
    // Nothing is awaited in between: no statement sees the name unbound.
    ctx.deregister_table(create.name.clone())?;
    ctx.register_table(create.name, Arc::new(table))?;
    Ok(Box::pin(MemoryStream::try_new(Vec::new(), empty, None)?))
}

/// `plan` with the query of a `CREATE TABLE ... AS` or `CREATE VIEW`
/// given DuckDB's names where its columns' names repeat.
fn tables_tell_names_apart(plan: LogicalPlan) -> datafusion::common::Result<LogicalPlan> {
    Ok(match plan {
        LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(mut create)) => {
            let input = Arc::unwrap_or_clone(create.input);
            create.input = Arc::new(output_names::tell_plan_apart(input)?);
            LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(create))
        }
        LogicalPlan::Ddl(DdlStatement::CreateView(mut create)) => {
            let input = Arc::unwrap_or_clone(create.input);
            create.input = Arc::new(output_names::tell_plan_apart(input)?);
            LogicalPlan::Ddl(DdlStatement::CreateView(create))
        }
        other => other,
    })
}

/// DataFusion's "duplicate qualified field name a.id" of a join of two
/// tables named `a`, said as DuckDB says it: which name, and what to do.
fn duplicate_alias(error: DataFusionError) -> crate::error::PlannerError {
    use datafusion::common::SchemaError;
    if let DataFusionError::SchemaError(schema, _) = error.find_root()
        && let SchemaError::DuplicateQualifiedField { qualifier, .. } = schema.as_ref()
    {
        return crate::error::PlannerError::DuplicateAlias {
            alias: qualifier.to_string(),
        };
    }
    error.into()
}

/// Takes the file references out of a DataFusion statement.
fn extract_scans(
    statement: &mut DFStatement,
    next_id: &mut dyn FnMut() -> u64,
    databases: &Databases,
) -> Result<Vec<ScanRequest>> {
    match statement {
        DFStatement::Statement(inner) => extract_from(inner.as_mut(), next_id, databases),
        DFStatement::Explain(explain) => {
            if let DFStatement::Statement(inner) = explain.statement.as_ref() {
                crate::mindsdb::refuse_explained_insert(inner, databases)?;
            }
            extract_scans(explain.statement.as_mut(), next_id, databases)
        }
        DFStatement::CopyTo(copy) => match &mut copy.source {
            CopyToSource::Query(query) => extract_from(query.as_mut(), next_id, databases),
            CopyToSource::Relation(_) => Ok(Vec::new()),
        },
        DFStatement::CreateExternalTable(_) | DFStatement::Reset(_) => Ok(Vec::new()),
    }
}

/// A database's objects (``ds.`key` ``), then file references (`'s3://...'`).
fn extract_from<V: VisitMut>(
    node: &mut V,
    next_id: &mut dyn FnMut() -> u64,
    databases: &Databases,
) -> Result<Vec<ScanRequest>> {
    crate::statement::from_first_selects_all(node);
    let mut found = crate::mindsdb::resolve(node, databases, next_id)?;
    found.extend(scan::extract(node, next_id)?);
    Ok(found)
}

fn empty_stream() -> SendableRecordBatchStream {
    let schema = Arc::new(datafusion::arrow::datatypes::Schema::empty());
    Box::pin(datafusion::physical_plan::EmptyRecordBatchStream::new(
        schema,
    ))
}
