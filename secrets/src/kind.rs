//! Secret types and the URL schemes each serves, with DuckDB's defaults.

use std::fmt;

use s3sql_s3_client::{ObjectUrl, UrlStyle};

use crate::error::{Result, SecretError};

/// Google Cloud Storage's S3-interoperable endpoint.
pub const GCS_ENDPOINT: &str = "storage.googleapis.com";

/// The kind of storage a secret is for. A URL's scheme decides the type,
/// and only secrets of that type are considered for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecretType {
    /// AWS S3 and S3-compatible servers: `s3://`, `s3a://`, `s3n://`.
    S3,
    /// Cloudflare R2: `r2://`.
    R2,
    /// Google Cloud Storage through its S3 interoperability API: `gcs://`, `gs://`.
    Gcs,
}

impl SecretType {
    /// Every type, in listing order.
    pub const ALL: [SecretType; 3] = [Self::S3, Self::R2, Self::Gcs];

    /// Parses DuckDB's spelling, case-insensitively.
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "s3" => Ok(Self::S3),
            "r2" => Ok(Self::R2),
            "gcs" => Ok(Self::Gcs),
            _ => Err(SecretError::UnknownType(s.to_owned())),
        }
    }

    /// The type that serves URLs of `scheme` (lowercase), if any.
    pub fn for_scheme(scheme: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.schemes().contains(&scheme))
    }

    /// The type whose secrets may serve `url`: every scheme an
    /// [`ObjectUrl`] parses is served by one type (a unit test walks
    /// `ObjectUrl::SCHEMES`).
    pub fn for_url(url: &ObjectUrl) -> Self {
        Self::for_scheme(url.scheme()).unwrap_or(Self::S3)
    }

    /// DuckDB's name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S3 => "s3",
            Self::R2 => "r2",
            Self::Gcs => "gcs",
        }
    }

    /// The URL schemes this type serves.
    pub fn schemes(self) -> &'static [&'static str] {
        match self {
            Self::S3 => &["s3", "s3a", "s3n"],
            Self::R2 => &["r2"],
            Self::Gcs => &["gcs", "gs"],
        }
    }

    /// The scope of a secret created without SCOPE: every URL of its schemes
    /// (DuckDB's `s3://`, `s3a://`, `s3n://` for s3, and so on).
    pub fn default_scopes(self) -> Vec<String> {
        self.schemes().iter().map(|s| format!("{s}://")).collect()
    }

    /// `vhost` for s3, `path` for r2 and gcs (DuckDB's defaults).
    pub fn default_url_style(self) -> UrlStyle {
        match self {
            Self::S3 => UrlStyle::VirtualHosted,
            Self::R2 | Self::Gcs => UrlStyle::Path,
        }
    }
}

impl fmt::Display for SecretType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a secret finds its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Provider {
    /// Values given in the statement (DuckDB's default provider).
    Config,
    /// The AWS SDK's credential providers, in CHAIN order.
    CredentialChain,
}

impl Provider {
    /// Parses DuckDB's spelling, case-insensitively.
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "config" => Ok(Self::Config),
            "credential_chain" => Ok(Self::CredentialChain),
            _ => Err(SecretError::UnknownProvider(s.to_owned())),
        }
    }

    /// DuckDB's name of the provider.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::CredentialChain => "credential_chain",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
