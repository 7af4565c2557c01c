//! [`S3Server`]: s3s-fs on its own thread and runtime, so it serves tests of
//! any runtime flavour (and sync code) and stops when dropped.

use std::net::SocketAddr;
use std::path::Path;

use s3s::S3Result;
use s3s::auth::SimpleAuth;
use s3s::host::{S3Host, VirtualHost};
use s3s::service::S3ServiceBuilder;

use crate::region::{DEFAULT_REGION, RegionGate, check_region};
use crate::serve::Background;
use crate::target::random_hex;
use crate::tracked_fs::TrackedFs;
/// Base domain of virtual-hosted requests: `Host: <bucket>.localhost:PORT`.
const VHOST_DOMAIN: &str = "localhost";
/// `.` + [`VHOST_DOMAIN`]: what follows the bucket in a virtual-hosted `Host`.
const VHOST_SUFFIX: &str = ".localhost";

/// An in-process S3 server (s3s-fs) on a random loopback port.
pub struct S3Server {
    // Dropped first: the server stops before its directory is removed.
    background: Background,
    access_key_id: String,
    secret_access_key: String,
    region: String,
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
    /// Starts a server in us-east-1 with fresh random credentials and an
    /// empty temp dir.
    pub fn start() -> S3Server {
        Self::start_with(true, DEFAULT_REGION)
    }

    /// Starts a server in `region` (e.g. `eu-west-1`), which refuses a
    /// request signed for any other region as an AWS regional endpoint
    /// does (400 `AuthorizationHeaderMalformed`, `<Region>` and
    /// `x-amz-bucket-region`), answers GetBucketLocation with it and
    /// HeadBucket with its `x-amz-bucket-region`: for tests of region
    /// discovery and redirects. Panics unless `region` is `[a-z0-9-]+`.
    pub fn start_in_region(region: &str) -> S3Server {
        Self::start_with(true, region)
    }

    /// Starts s3s-fs as it is, without [`TrackedFs`]'s corrections: for
    /// tests of how a client copes with the quirks TrackedFs hides (a
    /// listing that echoes `EncodingType=url` without encoding its keys).
    pub fn start_plain() -> S3Server {
        Self::start_with(false, DEFAULT_REGION)
    }

    fn start_with(tracked: bool, region: &str) -> S3Server {
        check_region(region);
        let root = tempfile::Builder::new()
            .prefix("s3sql-s3s-")
            .tempdir()
            .expect("temp dir for the s3s-fs server");
        let access_key_id = format!("AK{}", random_hex(16).to_uppercase());
        let secret_access_key = random_hex(40);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");

        let fs = s3s_fs::FileSystem::new(root.path()).expect("s3s-fs over the temp dir");
        let mut builder = if tracked {
            S3ServiceBuilder::new(TrackedFs::new(fs, root.path(), region))
        } else {
            S3ServiceBuilder::new(fs)
        };
        builder.set_auth(SimpleAuth::from_single(
            access_key_id.clone(),
            secret_access_key.clone(),
        ));
        builder.set_host(LoopbackHost);

        let service = RegionGate::new(region, builder.build());

        let background = Background::spawn("s3s-fs", listener, service);
        S3Server {
            background,
            access_key_id,
            secret_access_key,
            region: region.to_owned(),
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

    /// The region requests must be signed for (us-east-1 unless started
    /// with [`S3Server::start_in_region`]).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Base domain of virtual-hosted requests: `Host: <bucket>.localhost:PORT`
    /// (any port, so through a [`crate::FaultProxy`] too). Connect to
    /// [`S3Server::addr`]: `*.localhost` need not resolve everywhere.
    pub fn vhost_domain(&self) -> &str {
        VHOST_DOMAIN
    }

    /// The directory holding the buckets (removed on drop).
    pub fn root(&self) -> &Path {
        self.root.path()
    }
}

/// Virtual-hosted style on [`VHOST_DOMAIN`] whatever the port, so
/// `Host: <bucket>.localhost:<port>` also works through a
/// [`crate::FaultProxy`] (whose port the client signed). s3s's
/// `SingleDomain` would need the server's own port in the base domain, and
/// it reads any other dotted host, `localhost:<proxy port>` included, as a
/// bucket name. Hosts that are IP addresses never reach this: s3s parses
/// those requests path-style.
struct LoopbackHost;

impl S3Host for LoopbackHost {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        let name = match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        };
        if name.eq_ignore_ascii_case(VHOST_DOMAIN) {
            return Ok(VirtualHost::new(VHOST_DOMAIN));
        }
        let split = name.len().saturating_sub(VHOST_SUFFIX.len());
        match name.split_at_checked(split) {
            Some((bucket, suffix))
                if !bucket.is_empty() && suffix.eq_ignore_ascii_case(VHOST_SUFFIX) =>
            {
                Ok(VirtualHost::new(VHOST_DOMAIN).with_bucket(bucket))
            }
            _ => Err(s3s::s3_error!(
                InvalidRequest,
                "this test server answers on 127.0.0.1:<port>, localhost:<port> or <bucket>.localhost:<port>"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(host: &str) -> Option<Option<String>> {
        LoopbackHost
            .parse_host_header(host)
            .ok()
            .map(|vh| vh.bucket().map(str::to_owned))
    }

    #[test]
    fn vhost_buckets_on_any_port() {
        assert_eq!(parse("localhost:9000"), Some(None));
        assert_eq!(parse("localhost"), Some(None));
        assert_eq!(
            parse("my-bucket.localhost:9000"),
            Some(Some("my-bucket".into()))
        );
        assert_eq!(
            parse("my.dotted.bucket.localhost:1"),
            Some(Some("my.dotted.bucket".into()))
        );
        assert_eq!(parse("b.LOCALHOST"), Some(Some("b".into())));
        assert_eq!(parse(".localhost:1"), None);
        assert_eq!(parse("example.com:80"), None);
        assert_eq!(parse("xlocalhost:80"), None);
    }
}
