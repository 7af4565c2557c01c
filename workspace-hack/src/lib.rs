//! Feature unification, and nothing else.
//!
//! Cargo picks each dependency's features per invocation: `cargo xtask ...`
//! (which builds `xtask`), `cargo build -p s3sql` (the demo and the bench)
//! and `cargo test --workspace --all-features` (CI) each see a different
//! union, and each difference in a crate low in the tree (tokio, serde_json,
//! object_store) rebuilds the whole DataFusion stack above it. `xtask` and
//! `s3sql` depend on this crate, which asks for the union the workspace's
//! test build uses, so all three invocations share one build.
//!
//! `cargo xtask ci` checks that the union is still complete (phase
//! `features`) and prints the lines to add here when it is not.
