//! How a client reaches its server: endpoint, addressing style, region, TLS,
//! retries and transfer sizes. Defaults equal DuckDB's where DuckDB has the
//! same knob, and are documented here, once.

use std::net::SocketAddr;
use std::time::Duration;

/// Region used when none is configured (DuckDB's and the AWS CLI's default).
pub const DEFAULT_REGION: &str = "us-east-1";

/// How the bucket appears in a request URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UrlStyle {
    /// `https://bucket.endpoint/key`: AWS's default and DuckDB's `vhost`.
    #[default]
    VirtualHosted,
    /// `https://endpoint/bucket/key`: DuckDB's `path`, what most
    /// self-hosted servers (MinIO, Garage, moto) and R2/GCS use.
    Path,
}

impl UrlStyle {
    /// Parses DuckDB's spelling (`vhost`, `path`), case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "vhost" | "virtual" | "virtual_hosted" | "virtual-hosted" => Some(Self::VirtualHosted),
            "path" => Some(Self::Path),
            _ => None,
        }
    }
}

/// Whether request bodies are covered by the SigV4 signature
/// (`x-amz-content-sha256`). Hashing costs a core at ~330 MiB/s; the server
/// re-hashes to verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PayloadSigning {
    /// Sign every body over plain HTTP; under HTTPS, bodies over 64 KiB go
    /// as `UNSIGNED-PAYLOAD` since TLS already protects them (the AWS SDKs' rule).
    #[default]
    UnsignedOverTls,
    /// Sign every body.
    Always,
    /// Bodies over 64 KiB go unsigned even over plain HTTP: for trusted
    /// loopback or LAN servers, where the hashing buys nothing.
    Never,
}

/// Retry policy: exponential backoff with full jitter, bounded in count and time.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Retries after the first attempt (DuckDB's `http_retries`, default 3).
    pub max_retries: u32,
    /// Backoff before the first retry (DuckDB's `http_retry_wait_ms`, default 100 ms).
    pub initial_backoff: Duration,
    /// Growth of the backoff per retry (DuckDB's `http_retry_backoff`, default 4).
    pub backoff_multiplier: f64,
    /// Upper bound of a single backoff.
    pub max_backoff: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(100),
            backoff_multiplier: 4.0,
            max_backoff: Duration::from_secs(10),
        }
    }
}

impl RetryConfig {
    /// The sleep before retry `attempt` (1-based) for a given `jitter` in
    /// `0..=1` (the fraction of the bound slept; out-of-range values count
    /// as 1), so a schedule can be computed, and tested, without
    /// randomness. The client draws `jitter` from its one RNG
    /// ([`crate::S3Client::seed_jitter`] reseeds it).
    pub fn backoff_with_jitter(&self, attempt: u32, jitter: f64) -> Duration {
        let jitter = if (0.0..=1.0).contains(&jitter) {
            jitter
        } else {
            1.0
        };
        // The bound is finite and jitter at most 1: this cannot overflow.
        self.backoff_bound(attempt).mul_f64(jitter)
    }

    /// The most retry `attempt` may sleep: `initial × multiplier^(attempt-1)`
    /// capped at `max_backoff`, computed in floating point so that no
    /// multiplier or attempt count can overflow (a multiplier below 1, or
    /// not a number, counts as 1).
    pub fn backoff_bound(&self, attempt: u32) -> Duration {
        let multiplier = match self.backoff_multiplier {
            m if m.is_nan() => 1.0,
            m => m.max(1.0),
        };
        let exponent = attempt.saturating_sub(1).min(1024) as i32;
        let secs = self.initial_backoff.as_secs_f64() * multiplier.powi(exponent);
        let max = self.max_backoff;
        if secs.is_nan() || secs >= max.as_secs_f64() {
            return max;
        }
        Duration::try_from_secs_f64(secs).map_or(max, |d| d.min(max))
    }
}

/// Parallel ranged reads of large objects.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadConfig {
    /// Size of each ranged GET when a large read is split.
    pub chunk_size: u64,
    /// Ranged GETs in flight at once for one read.
    pub concurrency: usize,
    /// Ranges closer than this are fetched as one GET (the gap is discarded).
    pub coalesce_gap: u64,
}

impl Default for ReadConfig {
    fn default() -> Self {
        Self {
            chunk_size: 8 * 1024 * 1024,
            concurrency: 8,
            coalesce_gap: 1024 * 1024,
        }
    }
}

/// Multipart upload sizing, in DuckDB's terms (`s3_uploader_*` settings).
#[derive(Debug, Clone, PartialEq)]
pub struct UploadConfig {
    /// Largest object a writer must be able to produce
    /// (`s3_uploader_max_filesize`, default 800 GB).
    pub max_file_size: u64,
    /// Most parts one upload may have (`s3_uploader_max_parts_per_file`, default 10000).
    pub max_parts: u32,
    /// Parts uploading at once (`s3_uploader_thread_limit`, default 50).
    pub max_in_flight: usize,
}

impl Default for UploadConfig {
    fn default() -> Self {
        Self {
            max_file_size: 800_000_000_000,
            max_parts: 10_000,
            max_in_flight: 50,
        }
    }
}

impl UploadConfig {
    /// S3's smallest part size (every part but the last).
    pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

    /// S3's largest part size: a larger part is refused (EntityTooLarge)
    /// after it was buffered whole and sent.
    pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;

    /// S3's most parts in one upload: part 10001 is refused.
    pub const MAX_PARTS: u32 = 10_000;

    /// The parts one upload may have: `max_parts`, at most S3's
    /// [`Self::MAX_PARTS`] (a larger setting would halve the part size and
    /// fail a large file at part 10001, after uploading it that far).
    pub fn effective_max_parts(&self) -> u32 {
        self.max_parts.clamp(1, Self::MAX_PARTS)
    }

    /// DuckDB's rule: `max(5 MiB, max_file_size / max_parts)`, so the largest
    /// allowed file fits in the allowed number of parts; at most S3's 5 GiB
    /// (`s3_uploader_max_parts_per_file = 1` with the default 800 GB would
    /// otherwise ask for one 800 GB buffer, and the file then takes more
    /// parts than that setting says).
    pub fn part_size(&self) -> u64 {
        let per_part = self
            .max_file_size
            .div_ceil(u64::from(self.effective_max_parts()));
        per_part.clamp(Self::MIN_PART_SIZE, Self::MAX_PART_SIZE)
    }
}

/// Everything a [`crate::S3Client`] needs to address and talk to a server,
/// except the credentials (which come from a [`crate::ProvideCredentials`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// `host[:port][/path-prefix]`, optionally with an `http://` or `https://`
    /// scheme (which then overrides `use_ssl`). `None` means AWS:
    /// `s3.<region>.amazonaws.com`.
    pub endpoint: Option<String>,
    /// Signing region (default `us-east-1`).
    pub region: String,
    /// Virtual-hosted (default) or path-style addressing.
    pub url_style: UrlStyle,
    /// HTTPS when true (default), plain HTTP when false. The trusted roots
    /// (webpki, the platform's, `AWS_CA_BUNDLE`) are listed in the crate docs.
    pub use_ssl: bool,
    /// Send `x-amz-request-payer: requester` on every request.
    pub requester_pays: bool,
    /// SSE-KMS key for writes: sends `x-amz-server-side-encryption: aws:kms`
    /// and this key id on PutObject and CreateMultipartUpload.
    pub sse_kms_key_id: Option<String>,
    /// Which bodies are hashed into the signature.
    pub payload_signing: PayloadSigning,
    /// Connect every request to this address whatever the host name says,
    /// like curl's `--resolve`; lets virtual-hosted style reach a loopback
    /// server. Its port is used too, unless it is 0 (then the URL's).
    pub resolve_to: Option<SocketAddr>,
    /// Time allowed to open a connection: the TCP connect and the TLS
    /// handshake together. A connection not ready in time counts as never
    /// made (the request was not sent), so it is retried as such.
    pub connect_timeout: Duration,
    /// Longest wait with nothing moving in one attempt: for the server to
    /// take the next slice of the request body, for the first byte of the
    /// answer, and between two chunks of a response body. It bounds
    /// stalls, not transfers: an 80 MiB part on a slow uplink that keeps
    /// moving takes as long as it takes, including the drain of socket
    /// buffers after its last byte left the client. A response body must
    /// also bring at least 1 KiB per second of waiting, measured over each
    /// such timeout, so a server trickling a byte every few seconds ends
    /// the attempt (CompleteMultipartUpload and CopyObject excepted: S3
    /// keeps those answers alive with a space every few seconds, so they
    /// get 30 timeouts in all). An answer read whole (a listing page, any
    /// XML answer) must also be in within 3 timeouts plus a second per
    /// 64 KiB: a server trickling it just above the floor cannot hold it.
    pub request_timeout: Duration,
    /// Retry policy.
    pub retry: RetryConfig,
    /// Parallel ranged read sizing.
    pub read: ReadConfig,
    /// Multipart upload sizing.
    pub upload: UploadConfig,
    /// Keep connections open for the next request (default). False (DuckDB's
    /// `http_keep_alive = false`, for servers or middleboxes that drop idle
    /// connections) opens a new connection for every request.
    pub keep_alive: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            endpoint: None,
            region: DEFAULT_REGION.to_owned(),
            url_style: UrlStyle::VirtualHosted,
            use_ssl: true,
            requester_pays: false,
            sse_kms_key_id: None,
            payload_signing: PayloadSigning::UnsignedOverTls,
            resolve_to: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            retry: RetryConfig::default(),
            read: ReadConfig::default(),
            upload: UploadConfig::default(),
            keep_alive: true,
        }
    }
}

impl ClientConfig {
    /// A config for a custom endpoint (e.g. `127.0.0.1:9000`, `http://minio:9000`).
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Sets the signing region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// Sets the addressing style.
    pub fn with_url_style(mut self, style: UrlStyle) -> Self {
        self.url_style = style;
        self
    }

    /// Chooses HTTPS (true) or plain HTTP (false).
    pub fn with_ssl(mut self, use_ssl: bool) -> Self {
        self.use_ssl = use_ssl;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_size_follows_duckdb_rule() {
        let default = UploadConfig::default();
        // 800 GB / 10000 parts = 80 MB per part.
        assert_eq!(default.part_size(), 80_000_000);
        let small = UploadConfig {
            max_file_size: 10 * 1024 * 1024,
            ..UploadConfig::default()
        };
        assert_eq!(small.part_size(), UploadConfig::MIN_PART_SIZE);
        // Above S3's 10000 parts, the part size stays the one of 10000.
        let many = UploadConfig {
            max_parts: 20_000,
            ..UploadConfig::default()
        };
        assert_eq!(many.part_size(), UploadConfig::default().part_size());
        assert_eq!(many.effective_max_parts(), UploadConfig::MAX_PARTS);
        for max_parts in [0, 1, 10] {
            let few = UploadConfig {
                max_parts,
                ..UploadConfig::default()
            };
            assert_eq!(few.part_size(), UploadConfig::MAX_PART_SIZE, "{max_parts}");
        }
    }

    #[test]
    fn backoff_is_bounded() {
        let retry = RetryConfig::default();
        for attempt in 1..40 {
            assert!(retry.backoff_with_jitter(attempt, 1.0) <= retry.max_backoff);
        }
    }

    #[test]
    fn jitter_scales_the_bound() {
        let retry = RetryConfig {
            initial_backoff: Duration::from_millis(100),
            backoff_multiplier: 2.0,
            max_backoff: Duration::from_secs(1),
            ..RetryConfig::default()
        };
        assert_eq!(
            retry.backoff_with_jitter(1, 1.0),
            Duration::from_millis(100)
        );
        assert_eq!(
            retry.backoff_with_jitter(3, 0.5),
            Duration::from_millis(200)
        );
        assert_eq!(retry.backoff_with_jitter(3, 0.0), Duration::ZERO);
        assert_eq!(
            retry.backoff_with_jitter(10, 0.25),
            Duration::from_millis(250)
        );
        assert_eq!(
            retry.backoff_with_jitter(2, f64::NAN),
            Duration::from_millis(200)
        );
    }

    #[test]
    fn backoff_cannot_panic_on_large_or_odd_multipliers() {
        for multiplier in [1e300, f64::INFINITY, f64::NAN, -3.0, 0.0] {
            let retry = RetryConfig {
                backoff_multiplier: multiplier,
                initial_backoff: Duration::from_secs(u64::MAX / 4),
                ..RetryConfig::default()
            };
            for attempt in [0, 1, 2, 5, 1000, u32::MAX] {
                assert!(
                    retry.backoff_with_jitter(attempt, 1.0) <= retry.max_backoff,
                    "{multiplier} {attempt}"
                );
            }
        }
    }

    #[test]
    fn url_style_parses_duckdb_spelling() {
        assert_eq!(UrlStyle::parse("VHOST"), Some(UrlStyle::VirtualHosted));
        assert_eq!(UrlStyle::parse("path"), Some(UrlStyle::Path));
        assert_eq!(UrlStyle::parse("sideways"), None);
    }
}
