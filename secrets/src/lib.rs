//! The secret manager: which endpoint, URL style, region and credentials a
//! request for a URL uses, with DuckDB's `CREATE SECRET` semantics.
//!
//! Not built yet: reserved by the workspace layout in `DESIGN.md` and
//! filled in by the secret-manager issue.
