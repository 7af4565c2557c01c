//! Format detection, CSV/TSV dialect sniffing and reader/writer options in
//! DuckDB's names, mapped onto arrow-rs and DataFusion readers.
//!
//! Not built yet: this crate is reserved by the workspace layout in
//! `DESIGN.md` and filled in by the formats issue.
