//! Object URLs: `s3://bucket/key`, with the schemes DuckDB accepts.

use crate::error::GlobError;

/// URL schemes that name an object in S3-compatible storage.
pub const SCHEMES: [&str; 6] = ["s3", "s3a", "s3n", "r2", "gcs", "gs"];

/// A parsed object URL; the key may be a pattern.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectUrl {
    /// `s3`, `s3a`, `s3n`, `r2`, `gcs` or `gs`.
    pub scheme: String,
    /// The bucket.
    pub bucket: String,
    /// The key (or key pattern), without the leading `/`.
    pub key: String,
}

impl ObjectUrl {
    /// Parses `scheme://bucket[/key]`.
    pub fn parse(url: &str) -> Result<Self, GlobError> {
        let invalid = |reason: &str| GlobError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| invalid("no scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        if !SCHEMES.contains(&scheme.as_str()) {
            return Err(invalid(&format!(
                "unknown scheme '{scheme}' (use one of {})",
                SCHEMES.join(", ")
            )));
        }
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid("the bucket name is empty"));
        }
        // `s3://bkt?/x.csv` would otherwise list bucket `bkt` and hand the
        // listing back as the file's bytes.
        if let Err(why) = valid_bucket_name(bucket) {
            return Err(invalid(&format!(
                "'{}' is not a valid bucket name: {why}",
                bucket.escape_debug()
            )));
        }
        Ok(Self {
            scheme,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }

    /// The URL for another key in the same bucket.
    pub fn with_key(&self, key: &str) -> Self {
        Self {
            key: key.to_owned(),
            ..self.clone()
        }
    }
}

/// The characters of S3's bucket naming rule (`a-z 0-9 . -`, and capitals
/// and `_` in legacy names; starting and ending with a letter or digit):
/// what keeps a bucket from changing what its URL addresses. The length
/// is left to the client (`s3sql_s3_client::addressing::valid_bucket_name`
/// checks the whole rule; glob-list builds without it).
fn valid_bucket_name(bucket: &str) -> Result<(), &'static str> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_');
    if !bucket.bytes().all(allowed) {
        return Err("bucket names hold only a-z, 0-9, '.' and '-'");
    }
    if !bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !bucket.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Err("bucket names start and end with a letter or digit");
    }
    Ok(())
}

impl std::fmt::Display for ObjectUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}/{}", self.scheme, self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_schemes_and_rejects_bad_urls() {
        let u = ObjectUrl::parse("s3://bucket/a/b*.csv").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.bucket.as_str(), u.key.as_str()),
            ("s3", "bucket", "a/b*.csv")
        );
        assert_eq!(ObjectUrl::parse("GS://bkt").unwrap().key, "");
        assert!(
            ObjectUrl::parse("s3:///key")
                .unwrap_err()
                .to_string()
                .contains("bucket name is empty")
        );
        assert!(ObjectUrl::parse("ftp://b/k").is_err());
        for bad in [
            "s3://bkt?/x.csv",
            "s3://a#b/x",
            "s3://my bucket/x",
            "s3://-bkt/x",
        ] {
            let err = ObjectUrl::parse(bad).unwrap_err().to_string();
            assert!(err.contains("not a valid bucket name"), "{bad}: {err}");
        }
        assert!(ObjectUrl::parse("s3://Legacy_Bucket/x").is_ok());
        assert!(ObjectUrl::parse("bucket/key").is_err());
    }
}
