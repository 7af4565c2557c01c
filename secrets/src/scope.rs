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

use crate::error::{Result, SecretError};
use crate::kind::SecretType;

/// A URL split into the parts scopes are matched on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectLocation {
    /// Lowercase scheme (`s3`, `gs`, ...).
    pub scheme: String,
    /// The bucket.
    pub bucket: String,
    /// The key, without the leading `/`; may be empty or a glob pattern.
    pub key: String,
}

impl ObjectLocation {
    /// Parses `scheme://bucket[/key]` for a scheme some secret type serves.
    pub fn parse(url: &str) -> Result<Self> {
        let invalid = |reason: String| SecretError::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid("it has no scheme; write s3://bucket/key".into()))?;
        let scheme = scheme.to_ascii_lowercase();
        if SecretType::for_scheme(&scheme).is_none() {
            return Err(invalid(format!(
                "unknown scheme '{scheme}'; use s3, s3a, s3n, r2, gcs or gs"
            )));
        }
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid("the bucket name is empty".into()));
        }
        Ok(Self {
            scheme,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }

    /// The secret type whose secrets may serve this URL.
    pub fn secret_type(&self) -> SecretType {
        // `parse` only accepts schemes some type serves.
        SecretType::for_scheme(&self.scheme).unwrap_or(SecretType::S3)
    }
}

/// One SCOPE prefix of a secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
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
        let (scheme, rest) = text.split_once("://").ok_or_else(|| {
            invalid(format!(
                "a scope is a URL prefix such as {}://bucket/prefix",
                secret_type.schemes()[0]
            ))
        })?;
        let scheme = scheme.to_ascii_lowercase();
        if !secret_type.schemes().contains(&scheme.as_str()) {
            return Err(invalid(format!(
                "a {secret_type} secret serves only {} URLs",
                secret_type
                    .schemes()
                    .iter()
                    .map(|s| format!("{s}://"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let (bucket, key_prefix) = match rest.split_once('/') {
            Some((bucket, prefix)) => (bucket, prefix),
            None => (rest, ""),
        };
        if bucket.is_empty() && !key_prefix.is_empty() {
            return Err(invalid("the bucket name is empty".into()));
        }
        Ok(Self {
            scheme,
            bucket: (!bucket.is_empty()).then(|| bucket.to_owned()),
            key_prefix: key_prefix.to_owned(),
        })
    }

    /// Whether this scope covers the URL: same scheme, same bucket (whole),
    /// and the key starts with the scope's key prefix.
    pub fn covers(&self, url: &ObjectLocation) -> bool {
        self.scheme == url.scheme
            && match &self.bucket {
                None => true,
                Some(bucket) => *bucket == url.bucket && url.key.starts_with(&self.key_prefix),
            }
    }

    /// How specific the scope is; among covering scopes the larger wins.
    /// Equals the length of the scope's text, as in DuckDB.
    pub fn specificity(&self) -> usize {
        self.to_string().len()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        if let Some(bucket) = &self.bucket {
            f.write_str(bucket)?;
            if !self.key_prefix.is_empty() {
                write!(f, "/{}", self.key_prefix)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> ObjectLocation {
        ObjectLocation::parse(s).unwrap()
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
        assert!(Scope::parse("gcs://b", SecretType::Gcs).is_ok());
    }

    #[test]
    fn specificity_is_the_scope_length() {
        let s = |t| Scope::parse(t, SecretType::S3).unwrap().specificity();
        assert!(s("s3://") < s("s3://b"));
        assert!(s("s3://b") < s("s3://b/k"));
        assert_eq!(s("S3://b/"), "s3://b".len());
    }

    #[test]
    fn urls_are_checked() {
        assert!(ObjectLocation::parse("ftp://b/k").is_err());
        assert!(ObjectLocation::parse("b/k").is_err());
        assert!(ObjectLocation::parse("s3:///k").is_err());
        assert_eq!(url("GS://b").secret_type(), SecretType::Gcs);
        assert_eq!(url("s3n://b/k").key, "k");
    }
}
