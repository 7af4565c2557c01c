//! Statements in DuckDB's and MindsDB's dialects, planned onto DataFusion.
//!
//! Not built yet: this crate is reserved by the workspace layout in
//! `DESIGN.md` and filled in by the query-path issue.
