//! Statements in DuckDB's dialect, planned onto DataFusion over S3: the
//! read path from a line of SQL to record batches.
//!
//! ```no_run
//! # async fn demo() -> Result<(), s3sql_planner::PlannerError> {
//! use s3sql_planner::Session;
//! let session = Session::default();
//! session
//!     .sql("CREATE SECRET (TYPE s3, KEY_ID 'AKIA...', SECRET '...', REGION 'eu-west-1')")
//!     .await?;
//! let batches = session
//!     .sql("SELECT count(*) FROM 's3://my-bucket/logs/*.parquet'")
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! - `CREATE SECRET` / `DROP SECRET`, `DESCRIBE` and `SUMMARIZE` are parsed
//!   by a small statement layer of our own; everything else is DataFusion's
//!   SQL in DuckDB's dialect.
//! - `FROM 's3://...'` and `read_parquet` / `read_csv` / `read_json` (and
//!   their aliases) list files through glob-list and read them with
//!   DataFusion's own Parquet, CSV and JSON sources over s3sql's client,
//!   each file signed by the secret covering its own URL.
//! - MindsDB's `CREATE DATABASE ds WITH ENGINE = 's3', PARAMETERS = {...}`
//!   and ``SELECT * FROM ds.`folder/file.csv` ``: the same scans, signed by
//!   the database's credentials.

mod blob;
mod column_case;
mod copy;
mod date_intervals;
mod decimal_average;
mod decimal_literals;
mod decimal_totals;
mod describe;
mod describe_subquery;
mod dialect;
mod duck_names;
mod error;
mod expr_rules;
mod group_ids;
mod infinity_pruning;
mod integer_overflow;
mod integers;
mod interval_cast;
mod interval_limit;
mod interval_math;
mod interval_order;
mod interval_pick;
mod interval_text;
mod interval_units;
mod like_pattern;
mod mask;
mod mindsdb;
mod order;
mod order_columns;
mod output_names;
mod prepared;
mod quartiles;
mod scan;
mod secret_sql;
mod session;
mod setting_sql;
mod settings;
mod show_tables;
mod shown_zone;
mod sql_types;
mod statement;
mod timestamp_bounds;
mod timestamp_cast;
mod timestamp_fast;
mod timestamp_infinity;
mod timestamp_parse;
mod timestamp_parts;
mod timestamp_text;
mod timestamp_units;
mod timestamp_zones;
mod uuid_literal;
mod zone_names;

pub use copy::{CopyError, CopyMonitor, CopyProgress, CsvRows, duckdb_cells, is_uuid, push_uuid};
pub use error::{PlannerError, Result};
pub use mask::{masked_statement, may_hold_secret};
pub use mindsdb::DatabaseError;
pub use scan::io_plan::human_bytes;
pub use scan::{ScanMonitor, ScanProgress};
pub use session::Session;
pub use statement::{Statement, StatementLines, ends_statement};
pub use timestamp_text::duckdb_text;
