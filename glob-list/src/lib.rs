//! Glob patterns over object URLs, expanded into the exact, ordered list of
//! matching objects with as few ListObjectsV2 requests as possible, and hive
//! partitions parsed, typed and pruned.
//!
//! ```no_run
//! # async fn demo(client: s3sql_s3_client::S3Client) -> Result<(), s3sql_glob_list::GlobError> {
//! use std::sync::Arc;
//! use s3sql_glob_list::{ExpandOptions, GlobExpander};
//! let expander = GlobExpander::new(Arc::new(client), ExpandOptions::default());
//! let files = expander.expand_all(&["s3://bucket/logs/year=202[34]/*/*.parquet"]).await?;
//! # Ok(()) }
//! ```
//!
//! The store is reached through the crate's own [`ListObjects`] trait,
//! implemented for `s3sql_s3_client::S3Client`. URLs are the client's
//! [`ObjectUrl`](s3sql_s3_client::ObjectUrl).

mod error;
mod expand;
mod filter;
mod hive;
mod list;
mod pattern;
mod s3;
mod walk;

pub use error::{GlobError, MAX_OBJECT_SIZE};
pub use expand::{ExpandOptions, GlobExpander, ListingPlan, Match};
pub use filter::{CmpOp, PartitionFilter, Truth};
pub use hive::{HiveSchema, PartitionType, PartitionValue, partition_pairs};
pub use list::{ListObjects, ListPage, ListRequest, StoreError};
pub use pattern::{KeyPattern, escape};
