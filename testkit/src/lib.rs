//! Test support for s3sql: real S3 servers on loopback, no mocked HTTP.
//!
//! - [`S3Server`]: s3s-fs in-process on `127.0.0.1:<random>`, verifying
//!   every SigV4 signature, path and virtual-hosted style
//!   (`<bucket>.localhost:<port>`). s3s-fs is wrapped (`TrackedFs`, whose
//!   doc lists each addition) with behaviour S3 has and s3s-fs lacks:
//!   ListMultipartUploads, so tests can prove that a failed write leaves no
//!   upload behind, and conditional writes. Every test that leans on an
//!   addition also runs against moto, an independent S3 implementation.
//!   It has a region (us-east-1, or any with [`S3Server::start_in_region`])
//!   and refuses requests signed for another, as AWS does.
//! - [`S3Target`]: where a test runs — that server by default, or any
//!   endpoint named by `S3SQL_TEST_ENDPOINT` (moto in CI, MinIO, AWS).
//! - [`FaultProxy`]: a loopback reverse proxy that answers 5xx, resets
//!   connections, cuts bodies, delays, throttles, strips `Range` or rewrites response
//!   headers, by rule, so retry, resume and validation paths
//!   are exercised for real.
//! - [`capture_logs`]: what a test's thread logs, for leak and warning
//!   checks.

// Test support: a broken fixture should stop the test with a clear panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod file_body;
mod logs;
mod proxy;
mod region;
mod serve;
mod server;
mod target;
mod tracked_fs;

pub use logs::{CapturedLogs, capture_logs};
pub use proxy::{Fault, FaultProxy, FaultRule, RecordedRequest};
pub use server::S3Server;
pub use target::{S3Target, duckdb_python, moto_endpoint, run_duckdb_script, unique_name};
