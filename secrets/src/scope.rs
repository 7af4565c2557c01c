//! SCOPE: which URLs a secret serves, and which of several secrets wins.
//!
//! A scope covers a URL when the scheme and the bucket are the same and the
//! scope's key part is a prefix of the URL's key: `s3://bucket1` covers
//! `s3://bucket1/x` but not `s3://bucket10/x`, and `s3://b/logs-2024` covers
//! `s3://b/logs-2024-01.csv`.
//!
//! This deliberately differs from DuckDB, which compares plain strings and so
//! lets a secret scoped to `s3://bucket1` sign requests for `bucket10` —
//! handing one bucket's credentials to another bucket's owner.

use std::fmt;

use s3sql_s3_client::{ObjectUrl, UrlError};

use crate::error::{Result, SecretError};
use crate::kind::SecretType;

/// One SCOPE prefix of a secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// As written: shown and measured as DuckDB does (`s3://b/` is longer
    /// than `s3://b`, though both cover the same URLs).
    text: String,
    scheme: String,
    /// `None` for a whole-scheme scope such as `s3://`.
    bucket: Option<String>,
    key_prefix: String,
}

impl Scope {
    /// Parses a scope for a secret of `secret_type`: `scheme://`,
    /// `scheme://bucket` or `scheme://bucket/key-prefix`, with a scheme the
    /// type serves.
    pub fn parse(text: &str, secret_type: SecretType) -> Result<Self> {
        let invalid = |reason: String| SecretError::InvalidScope {
            scope: text.to_owned(),
            reason,
        };
        let serves_only = || {
            invalid(format!(
                "a {secret_type} secret serves only {} URLs",
                secret_type
                    .schemes()
                    .iter()
                    .map(|s| format!("{s}://"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        };
        // `s3://`: every URL of the scheme.
        if let Some(scheme) = text.strip_suffix("://") {
            let scheme = scheme.to_ascii_lowercase();
            if !secret_type.schemes().contains(&scheme.as_str()) {
                return Err(serves_only());
            }
            return Ok(Self {
                text: text.to_owned(),
                scheme,
                bucket: None,
                key_prefix: String::new(),
            });
        }
        let url = ObjectUrl::parse(text).map_err(|e| match e {
            UrlError::NoScheme { .. } => invalid(format!(
                "a scope is a URL prefix such as {}://bucket/prefix",
                secret_type.schemes()[0]
            )),
            UrlError::UnknownScheme { .. } => serves_only(),
            UrlError::EmptyBucket { .. } => invalid("the bucket name is empty".into()),
            UrlError::InvalidBucket { bucket, why, .. } => {
                invalid(format!("'{bucket}' is not a valid bucket name: {why}"))
            }
            other => invalid(other.to_string()),
        })?;
        if !secret_type.schemes().contains(&url.scheme()) {
            return Err(serves_only());
        }
        Ok(Self {
            text: text.to_owned(),
            scheme: url.scheme().to_owned(),
            bucket: Some(url.bucket().to_owned()),
            key_prefix: url.key().to_owned(),
        })
    }

    /// Whether this scope covers the URL: same scheme, same bucket (whole),
    /// and the key starts with the scope's key prefix.
    pub fn covers(&self, url: &ObjectUrl) -> bool {
        self.scheme == url.scheme()
            && match &self.bucket {
                None => true,
                Some(bucket) => bucket == url.bucket() && url.key().starts_with(&self.key_prefix),
            }
    }

    /// How specific the scope is; among covering scopes the larger wins.
    /// The length of the scope as written, as in DuckDB.
    pub fn specificity(&self) -> usize {
        self.text.len()
    }
}

impl fmt::Display for Scope {
    /// The scope as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> ObjectUrl {
        ObjectUrl::parse(s).unwrap()
    }

    #[test]
    fn coverage_table() {
        // (scope, url, covered)
        let cases = [
            ("s3://", "s3://any/key", true),
            ("s3://", "s3a://any/key", false),
            ("s3a://", "s3a://any/key", true),
            ("s3://bucket1", "s3://bucket1/x", true),
            ("s3://bucket1", "s3://bucket1", true),
            ("s3://bucket1", "s3://bucket10/x", false),
            ("s3://bucket1/", "s3://bucket1/x", true),
            ("s3://b/logs-2024", "s3://b/logs-2024-01.csv", true),
            ("s3://b/logs-2024", "s3://b/logs-2023.csv", false),
            ("s3://b/logs/", "s3://b/logs", false),
            ("S3://b", "s3://b/k", true),
            ("s3://B", "s3://b/k", false),
        ];
        for (scope, u, covered) in cases {
            let scope = Scope::parse(scope, SecretType::S3).unwrap();
            assert_eq!(scope.covers(&url(u)), covered, "{scope} vs {u}");
        }
        let gcs = Scope::parse("gs://data", SecretType::Gcs).unwrap();
        assert!(gcs.covers(&url("gs://data/a")));
        assert!(!gcs.covers(&url("gcs://data/a")));
    }

    #[test]
    fn scopes_must_fit_their_type() {
        let err = Scope::parse("r2://b", SecretType::S3)
            .unwrap_err()
            .to_string();
        assert!(err.contains("serves only s3://, s3a://, s3n://"), "{err}");
        let err = Scope::parse("bucket/prefix", SecretType::S3)
            .unwrap_err()
            .to_string();
        assert!(err.contains("s3://bucket/prefix"), "{err}");
        assert!(Scope::parse("s3:///key", SecretType::S3).is_err());
        let err = Scope::parse("s3://bkt?/x", SecretType::S3)
            .unwrap_err()
            .to_string();
        assert!(err.contains("'bkt?' is not a valid bucket name"), "{err}");
        let err = Scope::parse("ftp://b", SecretType::S3)
            .unwrap_err()
            .to_string();
        assert!(err.contains("serves only s3://"), "{err}");
        assert!(Scope::parse("gcs://b", SecretType::Gcs).is_ok());
    }

    #[test]
    fn specificity_is_the_scope_length() {
        let s = |t| Scope::parse(t, SecretType::S3).unwrap().specificity();
        assert!(s("s3://") < s("s3://b"));
        assert!(s("s3://b") < s("s3://b/k"));
        assert!(s("s3://b") < s("s3://b/"));
        assert_eq!(s("S3://b/"), "s3://b/".len());
    }

    #[test]
    fn every_url_scheme_has_a_secret_type() {
        for scheme in ObjectUrl::SCHEMES {
            assert!(SecretType::for_scheme(scheme).is_some(), "{scheme}");
        }
        assert_eq!(SecretType::for_url(&url("GS://b")), SecretType::Gcs);
        assert_eq!(SecretType::for_url(&url("r2://b/k")), SecretType::R2);
    }
}
