//! The `s3sql` binary. The SQL front end arrives with the query-path issue;
//! until then the binary only reports its version, so the package name and
//! binary name are reserved and built by CI.

fn main() {
    println!("s3sql {}", env!("CARGO_PKG_VERSION"));
}
