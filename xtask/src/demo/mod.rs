//! `cargo xtask demo` and `cargo xtask server`: s3sql on a fresh clone with
//! no server and no credentials. Both start testkit's in-process S3 server
//! (s3s-fs, checking every SigV4 signature) on loopback and fill bucket
//! `demo` with deterministic sample data ([`data`]).
//!
//! - `demo` then runs the examples of DuckDB's "S3 API Support" page
//!   (reads, then COPY) and of MindsDB's "Amazon S3" page through the real
//!   `s3sql` binary, one process each, and prints what they return. A stop
//!   that does not end as expected (the page's broken examples must fail
//!   with a clear error, the rest succeed) makes the demo fail.
//! - `server` keeps the server running in the foreground and prints the
//!   `CREATE SECRET` to paste into `s3sql`.

pub mod data;
mod tour;

pub use tour::build_cli;

use std::time::Instant;

use anyhow::{Result, bail};
use s3sql_testkit::S3Server;

/// A started server with the sample data in it.
struct DemoServer {
    server: S3Server,
    runtime: tokio::runtime::Runtime,
}

impl DemoServer {
    fn start() -> Result<DemoServer> {
        let server = S3Server::start();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let client = crate::bench::client(server.endpoint(), &server)?;
        let started = Instant::now();
        eprintln!("xtask: writing sample data to s3://{}/ ...", data::BUCKET);
        let written = runtime.block_on(data::seed(&client))?;
        eprintln!(
            "xtask: {} objects, {:.0} MB in {:.1} s",
            written.objects,
            written.bytes as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
        Ok(DemoServer { server, runtime })
    }

    /// What the MindsDB stops need to reach this server.
    fn access(&self) -> tour::Access {
        tour::Access {
            key_id: self.server.access_key_id().to_owned(),
            secret: self.server.secret_access_key().to_owned(),
            endpoint_url: self.server.endpoint(),
        }
    }

    /// The secret that reaches this server, as a user would type it.
    fn create_secret(&self, persistence: &str) -> String {
        format!(
            "CREATE OR REPLACE {persistence}SECRET demo (TYPE s3, KEY_ID '{}', SECRET '{}', \
             REGION 'us-east-1', ENDPOINT '{}', URL_STYLE 'path', USE_SSL false)",
            self.server.access_key_id(),
            self.server.secret_access_key(),
            self.server.addr(),
        )
    }
}

/// `cargo xtask demo [--release]`.
pub fn demo(args: &[String]) -> Result<()> {
    let release = match args {
        [] => false,
        [flag] if flag == "--release" => true,
        _ => bail!("usage: cargo xtask demo [--release]"),
    };
    run_with(&tour::build_cli(release)?)
}

/// The demo's tour through `binary`, already built: `cargo xtask ci` passes
/// the one its test phase built, so the demo neither builds the workspace a
/// second time nor needs the disk for it (the project's CI ran out of disk
/// exactly there, building s3sql again for the demo).
pub fn run_with(binary: &std::path::Path) -> Result<()> {
    let server = DemoServer::start()?;
    tour::run(
        binary,
        &server.create_secret("PERSISTENT "),
        &server.access(),
    )?;
    eprintln!(
        "\nTo explore on your own: `cargo xtask server` in one terminal, then \
         `cargo run -p s3sql` in another and paste the CREATE SECRET it prints."
    );
    Ok(())
}

/// `cargo xtask server`: serves the sample data until Ctrl-C.
pub fn server(args: &[String]) -> Result<()> {
    if !args.is_empty() {
        bail!("usage: cargo xtask server");
    }
    let server = DemoServer::start()?;
    println!(
        "S3 server on {} (Ctrl-C stops it and deletes its data)",
        server.server.endpoint()
    );
    println!("Paste into s3sql (`cargo run -p s3sql`):\n");
    println!("{};", server.create_secret(""));
    println!(
        "SELECT * FROM 's3://{}/trips/trips.parquet' LIMIT 5;",
        data::BUCKET
    );
    server.runtime.block_on(tokio::signal::ctrl_c())?;
    eprintln!("xtask server: stopping");
    Ok(())
}
