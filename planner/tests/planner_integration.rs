//! The planner end to end against a real S3 server (the in-process s3s-fs
//! server, or `S3SQL_TEST_ENDPOINT`): files written with arrow-rs writers,
//! then queried through `Session`. One test binary, several modules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "integration/as_duckdb.rs"]
mod as_duckdb;
#[path = "integration/copy.rs"]
mod copy;
#[path = "integration/copy_duckdb.rs"]
mod copy_duckdb;
#[path = "integration/csv_lines.rs"]
mod csv_lines;
#[path = "integration/csv_sniff.rs"]
mod csv_sniff;
#[path = "integration/decimal_totals.rs"]
mod decimal_totals;
#[path = "integration/decimals.rs"]
mod decimals;
#[path = "integration/files.rs"]
mod files;
#[path = "integration/formats.rs"]
mod formats;
#[path = "integration/integers.rs"]
mod integers;
#[path = "integration/interval_math.rs"]
mod interval_math;
#[path = "integration/keys.rs"]
mod keys;
#[path = "integration/mindsdb.rs"]
mod mindsdb;
#[path = "integration/mindsdb_insert.rs"]
mod mindsdb_insert;
#[path = "integration/names.rs"]
mod names;
#[path = "integration/parquet_globs.rs"]
mod parquet_globs;
#[path = "integration/parquet_intervals.rs"]
mod parquet_intervals;
#[path = "integration/scans.rs"]
mod scans;
#[path = "integration/secrets.rs"]
mod secrets;
#[path = "integration/settings.rs"]
mod settings;
#[path = "integration/support.rs"]
mod support;
#[path = "integration/timestamp_parts.rs"]
mod timestamp_parts;
#[path = "integration/timestamp_specials.rs"]
mod timestamp_specials;
#[path = "integration/timestamp_unit_comparisons.rs"]
mod timestamp_unit_comparisons;
#[path = "integration/timestamp_zones.rs"]
mod timestamp_zones;
#[path = "integration/timestamps_intervals.rs"]
mod timestamps_intervals;
