//! [`S3Server`]: s3s-fs on its own thread and runtime, so it serves tests of
//! any runtime flavour (and sync code) and stops when dropped.

use std::net::SocketAddr;
use std::path::Path;

use s3s::auth::SimpleAuth;
use s3s::host::SingleDomain;
use s3s::service::S3ServiceBuilder;

use crate::serve::Background;
use crate::target::random_hex;
use crate::tracked_fs::TrackedFs;

/// Region the server signs for.
const REGION: &str = "us-east-1";
/// Base domain of virtual-hosted requests: `Host: <bucket>.localhost:PORT`.
const VHOST_DOMAIN: &str = "localhost";

/// An in-process S3 server (s3s-fs) on a random loopback port.
pub struct S3Server {
    // Dropped first: the server stops before its directory is removed.
    background: Background,
    access_key_id: String,
    secret_access_key: String,
    root: tempfile::TempDir,
}

impl std::fmt::Debug for S3Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Server")
            .field("addr", &self.addr())
            .finish_non_exhaustive()
    }
}

impl S3Server {
    /// Starts a server with fresh random credentials and an empty temp dir.
    pub fn start() -> S3Server {
        let root = tempfile::Builder::new()
            .prefix("s3sql-s3s-")
            .tempdir()
            .expect("temp dir for the s3s-fs server");
        let access_key_id = format!("AK{}", random_hex(16).to_uppercase());
        let secret_access_key = random_hex(40);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("listener address");

        let fs = s3s_fs::FileSystem::new(root.path()).expect("s3s-fs over the temp dir");
        let mut builder = S3ServiceBuilder::new(TrackedFs::new(fs, root.path()));
        builder.set_auth(SimpleAuth::from_single(
            access_key_id.clone(),
            secret_access_key.clone(),
        ));
        // The Host header carries the port, so the base domain must too.
        let domain = format!("{VHOST_DOMAIN}:{}", addr.port());
        builder.set_host(SingleDomain::new(&domain).expect("vhost domain"));
        let service = builder.build();

        let background = Background::spawn("s3s-fs", listener, service);
        S3Server {
            background,
            access_key_id,
            secret_access_key,
            root,
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.background.addr()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The access key id the server accepts.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret key the server checks signatures with.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        REGION
    }

    /// Base domain of virtual-hosted requests (`<bucket>.localhost:PORT`).
    pub fn vhost_domain(&self) -> &str {
        VHOST_DOMAIN
    }

    /// The directory holding the buckets (removed on drop).
    pub fn root(&self) -> &Path {
        self.root.path()
    }
}
